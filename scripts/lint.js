#!/usr/bin/env node
// npm run lint: type-check everything (src, tests, bench, demo, scripts)
// against Express 5's types and src plus the typed-route tests against
// Express 4's. The two programs share nothing, so they run side by side (one
// per core), and each keeps its build info under node_modules/.cache so a
// second run only re-checks what changed.
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const cache = path.join(root, 'node_modules', '.cache', 'attach-ws');
const tsc = require.resolve('typescript/bin/tsc');

const programs = [
  { name: 'express 5 types', project: 'tsconfig.json' },
  { name: 'express 4 types', project: 'test/types/tsconfig.express4.json' },
];

function check({ name, project }, i) {
  const args = [tsc, '-p', project, '--noEmit', '--incremental', '--tsBuildInfoFile', path.join(cache, `lint-${i}.tsbuildinfo`)];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ name, code, output }));
  });
}

Promise.all(programs.map(check)).then((results) => {
  let failed = false;
  for (const { name, code, output } of results) {
    if (output.trim() !== '') process.stdout.write(`lint (${name}):\n${output}`);
    if (code !== 0) {
      failed = true;
      console.error(`lint (${name}): tsc exited with ${code}`);
    }
  }
  process.exit(failed ? 1 : 0);
});

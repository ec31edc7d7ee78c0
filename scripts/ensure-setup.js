#!/usr/bin/env node
// prestart / pretest: make `npm start` and `npm test` work as the very first
// command after `git clone`. Installs the dependencies (`npm ci`, which also
// builds dist/) when node_modules is missing or older than package-lock.json,
// and rebuilds dist/ when it is missing or older than src/, saying so in one
// line. When nothing is missing it only compares a few file times.
// Uses Node built-ins only: it runs before anything is installed.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Why node_modules needs `npm ci`, or undefined when it matches package-lock.json. */
function installReason() {
  const hidden = path.join(root, 'node_modules/.package-lock.json'); // npm writes it on every install
  if (mtime(hidden) === -1) return 'node_modules is missing';
  const lockFile = path.join(root, 'package-lock.json');
  if (mtime(lockFile) <= mtime(hidden)) return undefined;
  // The lock file is newer (a pull, a checkout): reinstall only if a version actually differs.
  const lock = readJson(lockFile)?.packages ?? {};
  const installed = readJson(hidden)?.packages ?? {};
  for (const [name, entry] of Object.entries(lock)) {
    if (!name.startsWith('node_modules/') || entry.optional) continue;
    if (installed[name]?.version !== entry.version) return `node_modules is out of date (${name.slice('node_modules/'.length)})`;
  }
  return undefined;
}

function newestIn(dir) {
  let newest = -1;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(full) : mtime(full));
  }
  return newest;
}

/** Why dist/ needs a build, or undefined when it is newer than every source file. */
function buildReason() {
  const built = mtime(path.join(root, 'dist/index.js'));
  if (built === -1) return 'dist/ is missing';
  const sources = Math.max(newestIn(path.join(root, 'src')), mtime(path.join(root, 'tsconfig.build.json')));
  return sources > built ? 'dist/ is older than src/' : undefined;
}

function run(args) {
  execFileSync(npm, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

try {
  const install = installReason();
  if (install !== undefined) {
    console.log(`setup: ${install}: running npm ci (installs and builds dist/)…`);
    run(['ci', '--no-audit', '--no-fund', '--loglevel=error']);
  }
  const build = buildReason();
  if (build !== undefined) {
    console.log(`setup: ${build}: running npm run build…`);
    run(['run', 'build', '--silent']);
  }
} catch (err) {
  console.error(`setup failed: ${err.message}`);
  process.exit(1);
}

#!/usr/bin/env node
// `npm run test:package` (run by .ci/run; too slow for `npm test`: it installs
// from the registry). Tests attach-ws as users get it: `npm pack`, then for
// Express 4 and 5 a temporary app installs the tarball with `express@N` and
// `@types/express@N` — a plain `npm install`, no legacy flags, so a peer range
// that refuses either major fails here — and
//  - a smoke test runs through the installed copy: echo, a middleware 401,
//    router.ws with params (router built before attachWs), a sub-app route;
//  - a typed example compiles: app.ws params typed from the path literal.
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');

const root = path.resolve(__dirname, '..');
const tsc = path.join(root, 'node_modules/typescript/bin/tsc');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

const SERVER = `'use strict';
const express = require('express');
const http = require('node:http');
const { attachWs } = require('attach-ws');

// Built before attachWs runs, as route modules are.
const rooms = express.Router();
rooms.ws('/:room', (ws, req) => ws.send('room ' + req.params.room));

const app = express();
const server = http.createServer(app);
attachWs(app, server);
app.ws('/echo', (ws) => ws.on('message', (data) => ws.send(data)));
app.ws('/private', (req, res, next) => (req.get('x-user') === 'alice' ? next() : res.status(401).send('who are you?')), (ws) => ws.send('in'));
app.use('/rooms', rooms);
const admin = express();
admin.ws('/live', (ws) => ws.send('admin live'));
app.use('/admin', admin);
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, express: require('express/package.json').version }));
process.on('disconnect', () => process.exit(0));
`;

// The type test of the repository (app.ws / router.ws params typed from the path), compiled
// against the installed tarball as a user's code would be.
const TYPED = fs.readFileSync(path.join(__dirname, '..', 'test', 'types', 'typed-routes.ts'), 'utf8');

function run(cmd, args, cwd) {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
}

function firstMessage(url, headers) {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url, { headers });
    client.once('message', (data) => {
      resolve(String(data));
      client.close();
    });
    client.once('unexpected-response', (_req, res) => {
      resolve(`HTTP ${res.statusCode}`);
      client.terminate();
    });
    client.once('error', reject);
  });
}

function echo(url) {
  return new Promise((resolve, reject) => {
    const client = new WebSocket(url);
    client.once('open', () => client.send('hello'));
    client.once('message', (data) => {
      resolve(String(data));
      client.close();
    });
    client.once('error', reject);
  });
}

async function smoke(dir) {
  const child = spawn(process.execPath, ['server.js'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const ready = await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const base = `ws://127.0.0.1:${ready.port}`;
    const checks = [
      ['echo', await echo(`${base}/echo`), 'hello'],
      ['middleware 401', await firstMessage(`${base}/private`), 'HTTP 401'],
      ['middleware lets alice in', await firstMessage(`${base}/private`, { 'X-User': 'alice' }), 'in'],
      ['router.ws with params', await firstMessage(`${base}/rooms/tea`), 'room tea'],
      ['sub-app route', await firstMessage(`${base}/admin/live`), 'admin live'],
    ];
    for (const [name, got, want] of checks) {
      if (got !== want) throw new Error(`express ${ready.express}: ${name}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
    return ready.express;
  } finally {
    child.disconnect?.();
    child.kill();
  }
}

async function main() {
  const started = Date.now();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'attach-ws-package-'));
  try {
    console.log('package test: npm pack');
    const packed = execFileSync(npm, ['pack', '--silent', '--pack-destination', work], { cwd: root, encoding: 'utf8' }).trim().split('\n').pop();
    const tarball = path.join(work, packed);
    for (const major of [4, 5]) {
      const dir = path.join(work, `express${major}`);
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `app-express${major}`, private: true, version: '1.0.0' }));
      console.log(`package test: npm install <tarball> express@${major} @types/express@${major} (a plain install)`);
      run(npm, ['install', '--no-audit', '--no-fund', '--loglevel=error', tarball, `express@${major}`, `@types/express@${major}`, '@types/node@20'], dir);
      fs.writeFileSync(path.join(dir, 'server.js'), SERVER);
      const version = await smoke(dir);
      console.log(`package test: express ${version}: echo, 401, router.ws params, sub-app: ok`);
      fs.writeFileSync(path.join(dir, 'typed.ts'), TYPED);
      run(process.execPath, [tsc, '--noEmit', '--strict', '--esModuleInterop', '--module', 'commonjs', '--moduleResolution', 'node10', '--target', 'es2022', '--types', 'node', '--ignoreDeprecations', '6.0', 'typed.ts'], dir);
      console.log(`package test: express ${version}: typed example compiles (params typed from the path)`);
    }
    console.log(`package test: passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(`package test: FAILED: ${err.message}`);
  process.exit(1);
});

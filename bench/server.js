#!/usr/bin/env node
'use strict';
// One benchmark target, in its own process. Started by run.js (pinned to one
// core with taskset when available) as:  node --expose-gc server.js <impl> <deflate 0|1>
// Paths: /sub subscribes to the broadcast, /pub broadcasts each message it
// receives to every subscriber, any other path echoes.
// IPC: {cmd:'mem'} → {mem: process.memoryUsage()} after a full GC.

const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const [impl, deflateArg] = process.argv.slice(2);
const deflate = deflateArg === '1';
const info = { impl, deflate, pid: process.pid, node: process.version };

function listening(server) {
  server.listen(0, '127.0.0.1', () => {
    info.port = server.address().port;
    process.send({ ready: info });
  });
}

/** Is ws' mask/unmask really the bufferutil addon in this process? */
function bufferUtilLoaded() {
  return Object.keys(require.cache).some((k) => /[\\/]bufferutil[\\/].*\.node$/.test(k));
}

function wsBroadcastAndEcho(wss) {
  // The ws README's broadcast loop, verbatim in spirit.
  wss.on('connection', (ws, req) => {
    if (req.url === '/sub') return;
    if (req.url === '/pub') {
      ws.on('message', (data, isBinary) => {
        for (const client of wss.clients) {
          if (client !== ws && client.readyState === 1) client.send(data, { binary: isBinary });
        }
      });
      return;
    }
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
}

/**
 * The Express servers' one middleware, as in a real app: an auth-style step
 * that reads a header and records who is asking on `req` (`null` for an
 * anonymous client; the load generator sends no credentials). It sets
 * `req.user` on every upgrade, the case attach-ws's learnt request shape
 * serves best (README, Express semantics); a middleware that sets a property
 * on only some upgrades costs those about 45 µs more each (measured: 377 vs
 * 331 µs per handshake with and without the learnt shape).
 */
function whoIsAsking(req, res, next) {
  req.user = req.headers.authorization === undefined ? null : { token: req.headers.authorization };
  next();
}

const targets = {
  attach() {
    const express = require('express');
    const dist = require(path.join(__dirname, '..', 'dist'));
    if (typeof dist.attachWs !== 'function') throw new Error('dist has no attachWs (run npm run build)');
    const app = express();
    const server = http.createServer(app);
    const wss = dist.attachWs(app, server, { perMessageDeflate: deflate });
    app.use(whoIsAsking);
    app.ws('/sub', (ws) => { ws.subscribe('all'); });
    app.ws('/pub', (ws) => { ws.on('message', (data) => { wss.publish('all', data); }); });
    app.ws('/', (ws) => { ws.on('message', (data) => { ws.send(data); }); });
    info.version = require(path.join(__dirname, '..', 'package.json')).version;
    listening(server);
  },

  ws() {
    // WS_NO_BUFFER_UTIL=1 is set by run.js for this target; ws 8 then masks in JS.
    const { WebSocketServer } = require('ws');
    const server = http.createServer();
    wsBroadcastAndEcho(new WebSocketServer({ server, perMessageDeflate: deflate }));
    info.version = require('ws/package.json').version;
    info.bufferutil = bufferUtilLoaded();
    listening(server);
  },

  'ws-bufferutil'() {
    targets.ws();
    if (!info.bufferutil) throw new Error('bufferutil did not load in the ws+bufferutil child');
  },

  'express-ws'() {
    // ws 7 (bundled by express-ws) ignores WS_NO_BUFFER_UTIL; honour it here by
    // making bufferutil unresolvable, as if it were not installed.
    if (process.env.WS_NO_BUFFER_UTIL) {
      const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request === 'bufferutil') {
          const err = new Error("Cannot find module 'bufferutil' (hidden by bench/server.js)");
          err.code = 'MODULE_NOT_FOUND';
          throw err;
        }
        return resolve.call(this, request, ...rest);
      };
    }
    const express = require('express');
    const expressWs = require('express-ws');
    const app = express();
    const server = http.createServer(app);
    const { getWss } = expressWs(app, server, { wsOptions: { perMessageDeflate: deflate } });
    const wss = getWss();
    app.use(whoIsAsking);
    app.ws('/sub', () => {});
    app.ws('/pub', (ws) => {
      ws.on('message', (data) => {
        for (const client of wss.clients) if (client !== ws && client.readyState === 1) client.send(data);
      });
    });
    app.ws('/', (ws) => { ws.on('message', (data) => ws.send(data)); });
    info.version = require('express-ws/package.json').version;
    info.wsVersion = require(require.resolve('ws/package.json', { paths: [require.resolve('express-ws')] })).version;
    info.bufferutil = bufferUtilLoaded();
    listening(server);
  },

  raw() {
    // The physical limit: no HTTP, no framing. The "handshake" is the request
    // echoed back; /sub then stays silent, /pub forwards its bytes to every
    // subscriber, anything else echoes.
    const subs = new Set();
    const server = net.createServer((sock) => {
      sock.setNoDelay(true);
      let head = '';
      const onHead = (chunk) => {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        sock.removeListener('data', onHead);
        const restLen = head.length - end - 4;
        sock.write(Buffer.from(head.slice(0, end + 4), 'latin1'));
        const rest = chunk.subarray(chunk.length - restLen);
        if (head.startsWith('GET /sub ')) {
          subs.add(sock);
          sock.on('close', () => subs.delete(sock));
        } else if (head.startsWith('GET /pub ')) {
          const fwd = (d) => { for (const s of subs) s.write(d); };
          sock.on('data', fwd);
          if (rest.length) fwd(rest);
        } else {
          // Echo everything read in one event-loop turn with one writev: the
          // 64 KiB reads of a 1 MiB message leave as one batch, as a WebSocket
          // server writes a whole frame at once.
          const uncork = () => sock.uncork();
          const echo = (d) => {
            if (sock.writableCorked === 0) { sock.cork(); setImmediate(uncork); }
            sock.write(d);
          };
          sock.on('data', echo);
          if (rest.length) echo(rest);
        }
      };
      sock.on('data', onHead);
      sock.on('end', () => sock.end());
      sock.on('error', () => {});
    });
    listening(server);
  },
};

process.on('message', (m) => {
  if (m && m.cmd === 'mem') {
    if (global.gc) { global.gc(); global.gc(); }
    // V8's helper threads finish sweeping and unmap the freed pages just after
    // gc() returns: RSS read at once still counts some of them, by chance.
    // Read it once the process has been quiet for a moment.
    setTimeout(() => {
      const v8 = require('node:v8');
      process.send({ mem: process.memoryUsage(), spaces: v8.getHeapSpaceStatistics() });
    }, Number(process.env.BENCH_MEM_SETTLE_MS ?? 500));
  } else if (m && m.cmd === 'snapshot') {
    // bench/micro/idle-memory.js --snapshot: what the idle connections hold.
    if (global.gc) global.gc();
    process.send({ snapshot: require('node:v8').writeHeapSnapshot(m.file) });
  }
});
process.on('disconnect', () => process.exit(0)); // parent gone: never linger
// Exit normally on SIGTERM (how run.js stops a server), so that --cpu-prof,
// which writes its profile at exit, gets to write it.
process.on('SIGTERM', () => process.exit(0));

if (!targets[impl]) {
  process.send({ error: `unknown server ${impl}` });
  process.exit(1);
}
try {
  targets[impl]();
} catch (err) {
  process.send({ error: String(err && err.stack || err) }, () => process.exit(1));
}

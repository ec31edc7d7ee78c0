'use strict';
// Client connections for the load generators: plain `net` sockets, the
// upgrade request written by hand, every socket reading into one shared
// buffer (no allocation per read).

const net = require('node:net');
const F = require('./frames');

// Every socket reads into this one buffer (net's `onread`): no allocation per
// read, and we never keep reply bytes beyond the synchronous handler.
const READ_BUF = Buffer.allocUnsafe(256 * 1024);

/**
 * Connects and upgrades. Resolves {sock, rest, extensions, onChunk}; set
 * `conn.onChunk = (chunk) => …` to receive what follows (chunk is only valid
 * during the call). For the raw target the "response" is our request echoed
 * back, so we wait for that many bytes.
 */
function open(target, path, { deflate = false, timeoutMs = 10000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = F.upgradeRequest(path, target.port, deflate);
    const conn = { sock: null, rest: null, extensions: '', onChunk: null };
    let buf = Buffer.alloc(0);
    const onHandshakeData = (chunk) => {
      buf = Buffer.concat([buf, chunk]); // copies: chunk lives in READ_BUF
      let end;
      if (target.raw) {
        if (buf.length < req.length) return;
        end = req.length;
      } else {
        const i = buf.indexOf('\r\n\r\n');
        if (i === -1) return;
        end = i + 4;
      }
      sock.removeListener('error', fail);
      clearTimeout(timer);
      conn.onChunk = () => {};
      const head = buf.subarray(0, end).toString('latin1');
      if (!target.raw) {
        if (!head.startsWith('HTTP/1.1 101')) {
          sock.destroy();
          return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`));
        }
        if (!head.includes(F.ACCEPT)) {
          sock.destroy();
          return reject(new Error('bad Sec-WebSocket-Accept'));
        }
        const m = /\r\nsec-websocket-extensions:([^\r]*)/i.exec(head);
        conn.extensions = m ? m[1].trim() : '';
      }
      conn.rest = buf.subarray(end);
      resolve(conn);
    };
    conn.onChunk = onHandshakeData;
    const sock = net.connect({
      port: target.port, host: '127.0.0.1', noDelay: true,
      onread: { buffer: READ_BUF, callback: (n, b) => { conn.onChunk(b.subarray(0, n)); } },
    });
    conn.sock = sock;
    const timer = setTimeout(() => fail(new Error(`handshake timeout on ${path}`)), timeoutMs);
    const fail = (err) => { clearTimeout(timer); sock.destroy(); reject(err); };
    sock.on('error', fail);
    sock.on('connect', () => sock.write(req));
  });
}

/** Opens `n` connections, at most `conc` at a time. */
async function openMany(target, path, n, conc = 200, opts) {
  const out = new Array(n);
  let next = 0;
  async function worker() {
    while (next < n) {
      const i = next++;
      out[i] = await open(target, path, opts);
    }
  }
  await Promise.all(Array.from({ length: Math.min(conc, n) }, worker));
  return out;
}

function closeAll(conns) {
  for (const c of conns) if (c && c.sock) c.sock.destroy();
}

module.exports = { open, openMany, closeAll };

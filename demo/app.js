'use strict';
/**
 * The attach-ws demo: a chat with rooms, on one Express app and one port.
 *
 *   GET  /, /r/:room     the page (demo/public)
 *   GET  /healthz        plain HTTP health check
 *   POST /session        { nick } → sets the `nick` cookie (GET reads it back, { nick: null } if none; DELETE clears it)
 *   GET  /chat/:room     plain HTTP: the room's members and history as JSON
 *   WS   /chat/:room     the chat itself: same path, an upgrade — only app.ws sees it
 *
 * attach-ws refuses pages from other sites (403) by default. Express
 * middleware runs before the 101: `requireNick` refuses an upgrade without a
 * valid nickname (cookie or `?nick=`) with a real 401, `validRoom` a bad room
 * name with 400.
 *
 * The wire protocol is JSON text frames.
 *   client → server  {type:'say', text}   {type:'typing', typing: boolean}
 *   server → client  {type:'welcome', room, nick, epoch, members, history, limits}
 *                    {type:'message', id, nick, text, ts}
 *                    {type:'join'|'leave', nick, members, ts}
 *                    {type:'typing', nick, typing}
 *                    {type:'error', code, message}
 * Every bad frame (binary, invalid JSON, not an object, unknown type, text too
 * long) is answered with an `error` naming what was wrong; after `maxErrors`
 * of them the server closes with 1008. Frames over `maxPayload` are refused by
 * attach-ws itself with close code 1009.
 */

const http = require('node:http');
const path = require('node:path');
const crypto = require('node:crypto');
const express = require('express');
const cookieParser = require('cookie-parser');

/** A nickname: 1–24 letters, digits, spaces, `.`, `_` or `-`, no outer spaces. */
const NICK = /^[\p{L}\p{N}._-](?:[\p{L}\p{N} ._-]{0,22}[\p{L}\p{N}._-])?$/u;
/** A room name: 1–32 of a-z, 0-9, `_`, `-` (case-insensitive, kept lower case). */
const ROOM = /^[a-z0-9][a-z0-9_-]{0,31}$/i;
/** WebSocket.readyState of an open connection (as in the browser API). */
const OPEN = 1;
/** Rooms kept in memory; the oldest empty room is forgotten beyond this. */
const MAX_ROOMS = 1000;

/**
 * @typedef {object} ChatOptions
 * @property {import('../dist').PubSubAdapter} [adapter] carries room messages to the other processes (start.js: REDIS_URL)
 * @property {number} [historySize=50]     messages replayed to whoever joins a room
 * @property {number} [maxTextLength=500]  characters in one message
 * @property {number} [maxPayload=16384]   bytes in one WebSocket message (attach-ws closes with 1009 above it)
 * @property {number} [maxErrors=10]       bad frames tolerated before closing with 1008
 * @property {number} [heartbeatMs=30000]  ping idle peers this often, drop the dead ones
 * @property {(line: string) => void} [log] where join/leave lines go (default: nowhere)
 * @property {Function} [attachWs]         attach-ws's `attachWs` (default: the built package, `../dist`)
 */

/**
 * Build the chat app (not listening yet).
 * @param {ChatOptions} [options]
 */
function createChatApp(options = {}) {
  const historySize = options.historySize ?? 50;
  const maxTextLength = options.maxTextLength ?? 500;
  const maxPayload = options.maxPayload ?? 16 * 1024;
  const maxErrors = options.maxErrors ?? 10;
  const log = options.log ?? (() => {});
  const attachWs = options.attachWs ?? loadAttachWs();
  /** Changes on every start, so a page that reconnects knows the history restarted. */
  const epoch = crypto.randomUUID();

  const app = express();
  const server = http.createServer(app);
  const wss = attachWs(app, server, {
    maxPayload,
    perMessageDeflate: true,
    heartbeat: { intervalMs: options.heartbeatMs ?? 30_000 },
    ...(options.adapter ? { adapter: options.adapter } : {}),
  });

  /** @type {Map<string, Room>} */
  const rooms = new Map();

  app.disable('x-powered-by');
  app.use(securityHeaders);
  app.use(cookieParser()); // runs for upgrades too: requireNick reads req.cookies

  // --- plain HTTP ----------------------------------------------------------

  app.get('/healthz', (_req, res) => {
    // wss.stats(): open clients, upgrades accepted/rejected, topics.
    res.json({ status: 'ok', uptime: Math.round(process.uptime()), rooms: rooms.size, websocket: wss.stats() });
  });

  // No nickname yet is a normal state for a first visit, not an error: 200 with nick null.
  app.get('/session', (req, res) => {
    res.json({ nick: nickFrom(req) ?? null });
  });

  app.post('/session', express.json({ limit: '1kb' }), (req, res) => {
    const nick = req.body?.nick;
    if (typeof nick !== 'string' || !NICK.test(nick)) {
      return void res.status(400).json({ error: 'a nickname is 1–24 letters, digits, spaces, ".", "_" or "-"' });
    }
    res.cookie('nick', nick, { httpOnly: true, sameSite: 'strict', path: '/', maxAge: 30 * 24 * 3600 * 1000 });
    res.json({ nick });
  });

  app.delete('/session', (_req, res) => {
    res.clearCookie('nick', { path: '/' });
    res.status(204).end();
  });

  // The same path as the WebSocket route: a GET sees this, an upgrade never does.
  app.get('/chat/:room', validRoom, (req, res) => {
    const room = rooms.get(req.params.room.toLowerCase());
    res.json({ room: req.params.room.toLowerCase(), members: room ? memberList(room) : [], history: room ? room.history : [] });
  });

  const publicDir = path.join(__dirname, 'public');
  const page = path.join(publicDir, 'index.html');
  app.get(['/', '/r/:room'], (_req, res) => res.sendFile(page));
  app.use(express.static(publicDir, { index: false }));

  // --- WebSocket -----------------------------------------------------------

  app.ws('/chat/:room', requireNick, validRoom, (ws, req) => {
    const roomName = req.params.room.toLowerCase();
    const nick = req.nick;
    const topic = `room:${roomName}`;
    const room = openRoom(roomName);
    let errors = 0;

    room.members.set(ws, nick);
    ws.subscribe(topic);
    send(ws, {
      type: 'welcome',
      room: roomName,
      nick,
      epoch,
      members: memberList(room),
      history: room.history,
      limits: { maxTextLength, maxPayload },
    });
    ws.publish(topic, JSON.stringify({ type: 'join', nick, members: memberList(room), ts: Date.now() }));
    log(`+ ${nick} joined #${roomName} (${room.members.size} here)`);

    ws.on('message', (data, isBinary) => {
      const reply = handleFrame(data, isBinary);
      if (reply === undefined) return;
      send(ws, reply);
      if (++errors >= maxErrors) ws.close(1008, 'too many invalid messages');
    });

    ws.on('close', (code) => {
      room.members.delete(ws);
      wss.publish(topic, JSON.stringify({ type: 'leave', nick, members: memberList(room), ts: Date.now() }));
      log(`- ${nick} left #${roomName} (code ${code}, ${room.members.size} here)`);
    });

    ws.on('error', (err) => log(`! ${nick} in #${roomName}: ${err.message}`));

    /**
     * Handle one frame; return the error to answer with, if any.
     * @param {string | Buffer} data
     * @param {boolean} isBinary
     */
    function handleFrame(data, isBinary) {
      if (isBinary || typeof data !== 'string') {
        return problem('binary_not_supported', 'send JSON as text frames, not binary');
      }
      let msg;
      try {
        msg = JSON.parse(data);
      } catch {
        return problem('invalid_json', 'that was not valid JSON');
      }
      if (typeof msg !== 'object' || msg === null || Array.isArray(msg) || typeof msg.type !== 'string') {
        return problem('bad_message', 'expected a JSON object with a string "type"');
      }
      switch (msg.type) {
        case 'say': {
          if (typeof msg.text !== 'string' || msg.text.trim() === '') {
            return problem('bad_message', '"say" needs a non-empty string "text"');
          }
          const text = msg.text.trim();
          if ([...text].length > maxTextLength) {
            return problem('too_long', `a message is at most ${maxTextLength} characters`);
          }
          const message = { type: 'message', id: ++room.lastId, nick, text, ts: Date.now() };
          room.history.push(message);
          if (room.history.length > historySize) room.history.splice(0, room.history.length - historySize);
          wss.publish(topic, JSON.stringify(message));
          return undefined;
        }
        case 'typing':
          if (typeof msg.typing !== 'boolean') return problem('bad_message', '"typing" needs a boolean "typing"');
          ws.publish(topic, JSON.stringify({ type: 'typing', nick, typing: msg.typing }));
          return undefined;
        default:
          return problem('unknown_type', `unknown message type ${JSON.stringify(String(msg.type).slice(0, 40))}; expected "say" or "typing"`);
      }
    }
  });

  // --- middleware (runs for the upgrade, before the 101) ----------------------

  /** The nickname from the cookie (the page) or `?nick=` (scripts); 401 without one. */
  function requireNick(req, res, next) {
    const nick = nickFrom(req);
    if (nick === undefined) {
      return void res.status(401).json({ error: 'choose a nickname first: POST /session {"nick": "..."} or ?nick=...' });
    }
    req.nick = nick;
    next();
  }

  function validRoom(req, res, next) {
    if (ROOM.test(req.params.room)) return next();
    res.status(400).json({ error: 'a room name is 1–32 of a-z, 0-9, "_" and "-"' });
  }

  // --- rooms -------------------------------------------------------------------

  /**
   * @typedef {object} Room
   * @property {Map<object, string>} members  socket → nickname
   * @property {object[]} history              the last `historySize` messages
   * @property {number} lastId                 id of the last message
   */

  /** @returns {Room} */
  function openRoom(name) {
    let room = rooms.get(name);
    if (room === undefined) {
      room = { members: new Map(), history: [], lastId: 0 };
      rooms.set(name, room);
      if (rooms.size > MAX_ROOMS) forgetOneEmptyRoom();
    }
    return room;
  }

  function forgetOneEmptyRoom() {
    for (const [name, room] of rooms) {
      if (room.members.size === 0) return void rooms.delete(name);
    }
  }

  /** @param {Room} room @returns {string[]} nicknames, sorted, once each */
  function memberList(room) {
    return [...new Set(room.members.values())].sort((a, b) => a.localeCompare(b));
  }

  // --- life cycle --------------------------------------------------------------

  /**
   * Listen and resolve with the page's URL.
   * @param {number} [port=0]
   * @param {string} [host='127.0.0.1']
   * @returns {Promise<string>}
   */
  function listen(port = 0, host = '127.0.0.1') {
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        const address = /** @type {import('node:net').AddressInfo} */ (server.address());
        const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        resolve(`http://${shown}:${address.port}`);
      });
    });
  }

  /** Graceful stop: 1001 to every chat client, then the HTTP server. */
  async function close() {
    await wss.close(1001, 'server restarting');
    await new Promise((resolve) => {
      server.close(() => resolve(undefined));
      server.closeAllConnections();
    });
  }

  return { app, server, wss, rooms, listen, close };
}

/** @param {import('node:http').IncomingMessage & { cookies?: Record<string, string>, query?: any }} req */
function nickFrom(req) {
  for (const nick of [req.cookies?.nick, req.query?.nick]) {
    if (typeof nick === 'string' && NICK.test(nick)) return nick;
  }
  return undefined;
}

function send(ws, message) {
  if (ws.readyState === OPEN) ws.send(JSON.stringify(message));
}

function problem(code, message) {
  return { type: 'error', code, message };
}

function securityHeaders(req, res, next) {
  if (req.headers.upgrade === undefined) {
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
  }
  next();
}

function loadAttachWs() {
  let pkg;
  try {
    pkg = require('../dist');
  } catch (err) {
    throw new Error(`attach-ws is not built (${err.message}): run \`npm run build\` (npm ci does it for you)`);
  }
  if (typeof pkg.attachWs !== 'function') {
    throw new Error('dist/ has no attachWs: it is out of date, run `npm run build`');
  }
  return pkg.attachWs;
}

module.exports = { createChatApp, NICK, ROOM };

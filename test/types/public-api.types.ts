/**
 * Compile-time tests of the public types (fastify/tsd style): `npm run lint`
 * compiles this file; it is never run. A line marked `@ts-expect-error` is a
 * use that must NOT compile — if it starts compiling, the lint fails.
 */
import type { IncomingMessage } from 'node:http';
import http from 'node:http';
import express from 'express';
import {
  attachWs,
  AttachWsError,
  HandshakeError,
  ProtocolError,
  WebSocket,
  type AttachWsOptions,
  type ErrorCloseCode,
  type ErrorCode,
  type RouteOptions,
  type WsHandler,
  type WsServer,
} from 'attach-ws';
import { redisAdapter, RedisAdapterError, type RedisAdapterErrorCode } from 'attach-ws/redis';

/** True only when A and B are the same type (not merely assignable). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
function assertType<T extends true>(): T | void {}

const app = express();
const server = http.createServer(app);

export function routes(): void {
  const wss: WsServer = attachWs(app, server);
  void wss;

  // req.params is typed from the path.
  app.ws('/chat/:room', (ws, req) => {
    assertType<Equal<typeof ws, WebSocket>>();
    assertType<Equal<typeof req.params.room, string>>();
    // @ts-expect-error no :user in the path
    void req.params.user;
  });

  // Middleware sees the same params; the handler comes last.
  app.ws(
    '/teams/:team/users/:user',
    (req, _res, next) => {
      assertType<Equal<typeof req.params.team | typeof req.params.user, string>>();
      // @ts-expect-error no :room in this path
      void req.params.room;
      next();
    },
    (ws, req) => {
      ws.send(`${req.params.team}/${req.params.user}`);
    },
  );

  // Route options come right after the path.
  app.ws('/limited', { maxPayload: 1024, protocols: ['v1'] }, (ws) => ws.close());
  // @ts-expect-error heartbeat is server-wide, not a route option
  app.ws('/x', { heartbeat: { intervalMs: 1000 } }, (ws) => ws.close());
  // @ts-expect-error a handler is required
  app.ws('/nothing');

  // router.ws exists on every Router.
  const router = express.Router();
  router.ws('/feed', async (ws) => {
    for await (const msg of ws) {
      assertType<Equal<typeof msg, string | Buffer>>();
    }
  });

  // A handler typed on its own.
  const handler: WsHandler<{ id: string }> = (_ws, req) => void req.params.id;
  void handler;
}

export function events(ws: WebSocket, wss: WsServer): void {
  ws.on('message', (data, isBinary) => {
    assertType<Equal<typeof data, string | Buffer>>();
    assertType<Equal<typeof isBinary, boolean>>();
  });
  ws.on('close', (code, reason) => {
    assertType<Equal<typeof code, number>>();
    assertType<Equal<typeof reason, string>>();
  });
  ws.on('ping', (data) => assertType<Equal<typeof data, Buffer>>());
  ws.on('error', (err) => assertType<Equal<typeof err, Error>>());
  ws.on('drain', () => undefined);
  // @ts-expect-error message data is never a number
  ws.on('message', (data: number) => data);
  // @ts-expect-error no such event
  ws.on('messages', () => undefined);

  wss.on('connection', (socket, req) => {
    assertType<Equal<typeof socket, WebSocket>>();
    assertType<Equal<typeof req, IncomingMessage>>();
  });
  wss.on('error', (err, socket) => {
    assertType<Equal<typeof err, Error>>();
    assertType<Equal<typeof socket, WebSocket | undefined>>();
  });
  // @ts-expect-error no such event
  wss.on('upgrade', () => undefined);
}

export function sending(ws: WebSocket, wss: WsServer): void {
  assertType<Equal<ReturnType<typeof ws.send>, boolean>>();
  ws.send('text');
  ws.send(Buffer.from('bytes'), { binary: true, compress: false });
  ws.send(new Uint8Array(2), (err) => assertType<Equal<typeof err, Error | null | undefined>>());
  // @ts-expect-error objects are not sent implicitly (JSON.stringify them)
  ws.send({ hello: 'world' });
  // @ts-expect-error the close code is a number
  ws.close('1000');
  const delivered: number = wss.publish('room', 'hi', { binary: false });
  void delivered;
  const done: Promise<void> = wss.close(1001, 'bye');
  void done;
  // @ts-expect-error clients is read-only
  wss.clients = new Set();
}

export function options(): void {
  const ok: AttachWsOptions = {
    maxPayload: 1024,
    heartbeat: { intervalMs: 30_000 },
    perMessageDeflate: { threshold: 1024, serverNoContextTakeover: true },
    backpressure: { limit: 1024, policy: 'close' },
    origins: (origin) => origin === 'https://app.example',
    handleProtocols: (offered, req) => (req.headers.host ? offered[0] : false),
    adapter: redisAdapter({ url: 'redis://127.0.0.1:6379' }),
  };
  void ok;
  const heartbeatOff: AttachWsOptions = { heartbeat: false };
  void heartbeatOff;
  // @ts-expect-error heartbeat takes intervalMs, not interval
  const typo: AttachWsOptions = { heartbeat: { interval: 5 } };
  // @ts-expect-error heartbeat: true is not a setting (the default is on)
  const on: AttachWsOptions = { heartbeat: true };
  // @ts-expect-error policy is 'skip' or 'close'
  const policy: AttachWsOptions = { backpressure: { policy: 'drop' } };
  // @ts-expect-error maxPayload is a number of bytes
  const size: AttachWsOptions = { maxPayload: '16mb' };
  // @ts-expect-error an unknown option
  const unknown: AttachWsOptions = { maxPaylod: 1 };
  const route: RouteOptions = { maxPayload: 1, perMessageDeflate: false };
  void [typo, on, policy, size, unknown, route];
}

export function errors(err: unknown): void {
  if (ProtocolError.is(err)) {
    assertType<Equal<typeof err.closeCode, ErrorCloseCode>>();
    const code: ErrorCode = err.code;
    void code;
  }
  if (HandshakeError.is(err)) {
    assertType<Equal<typeof err.status, number>>();
    assertType<Equal<typeof err.headers, Readonly<Record<string, string>>>>();
  }
  if (AttachWsError.is(err)) {
    assertType<Equal<typeof err.code, ErrorCode>>();
  }
  if (RedisAdapterError.is(err)) {
    assertType<Equal<typeof err.code, RedisAdapterErrorCode>>();
  }
  const known: ErrorCode = 'WS_ERR_NOT_OPEN';
  // @ts-expect-error not a catalogued code
  const unknownCode: ErrorCode = 'WS_ERR_SOMETHING';
  // @ts-expect-error ProtocolError codes are protocol codes only
  const wrongKind: ProtocolError['code'] = 'WS_HANDSHAKE_NO_ROUTE';
  void [known, unknownCode, wrongKind];
}

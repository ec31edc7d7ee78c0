/**
 * Errors reported at run time carry their catalogue code: rejections on the
 * `attach-ws:reject` channel, and sends that come too late.
 */
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { AttachWsError, type ErrorCode } from 'attach-ws';
import { useApps } from '../helpers/app-server';
import { rawExchange, upgradeRequest } from '../helpers/raw-http';
import { clientClosed, deferred, openClient, serverClosed, serverWithInbox } from './socket/support';

const apps = useApps();

interface Rejection {
  req: IncomingMessage;
  status: number;
  reason: string;
  code: ErrorCode;
  error: Error;
}

/** Rejections published on `attach-ws:reject` during the test. */
function watchRejections(): Rejection[] {
  const seen: Rejection[] = [];
  const onReject = (message: unknown) => seen.push(message as Rejection);
  diagnostics.subscribe('attach-ws:reject', onReject);
  apps.track(() => diagnostics.unsubscribe('attach-ws:reject', onReject));
  return seen;
}

async function reject(path: string, extra: string[] = []) {
  const res = await rawExchange(apps.running.port, upgradeRequest(path, extra));
  res.socket.destroy();
  return res;
}

describe('every rejection is reported with a catalogue code', () => {
  test('404 for a path no route takes: WS_HANDSHAKE_NO_ROUTE, the catalogue message as body', async () => {
    const seen = watchRejections();
    await apps.start((app) => app.ws('/chat', () => undefined));
    const res = await reject('/nope');
    expect(res.status).toBe(404);
    expect(res.body).toBe('no WebSocket route for this path');
    expect(seen).toMatchObject([{ status: 404, code: 'WS_HANDSHAKE_NO_ROUTE' }]);
    expect(AttachWsError.is(seen[0]!.error)).toBe(true);
  });

  test('404 when middleware passes the upgrade on to no ws route: WS_HANDSHAKE_NO_ROUTE', async () => {
    const seen = watchRejections();
    await apps.start((app) => {
      app.ws('/chat', (_req, _res, next) => next('route'), () => undefined);
    });
    expect((await reject('/chat')).status).toBe(404);
    expect(seen).toMatchObject([{ status: 404, code: 'WS_HANDSHAKE_NO_ROUTE' }]);
  });

  test('408 when middleware never decides: WS_HANDSHAKE_TIMEOUT', async () => {
    const seen = watchRejections();
    await apps.start(
      (app) => {
        app.ws('/slow', () => undefined /* never calls next */, () => undefined);
      },
      { handshakeTimeoutMs: 50 },
    );
    const res = await reject('/slow');
    expect(res.status).toBe(408);
    expect(seen).toMatchObject([{ status: 408, code: 'WS_HANDSHAKE_TIMEOUT' }]);
  });

  test('503 once the server is closing: WS_HANDSHAKE_SHUTTING_DOWN (one message whichever layer answers)', async () => {
    const seen = watchRejections();
    const running = await apps.start((app) => app.ws('/chat', () => undefined));
    await running.wss.close();
    const res = await reject('/chat');
    expect(res.status).toBe(503);
    expect(res.body).toBe('the server is shutting down');
    expect(seen).toMatchObject([{ status: 503, code: 'WS_HANDSHAKE_SHUTTING_DOWN' }]);
  });

  test("middleware's own answer and next(err) are reported with their status and a middleware code", async () => {
    const seen = watchRejections();
    await apps.start((app) => {
      app.ws('/answer', (_req, res) => void res.status(401).end(), () => undefined);
      app.ws('/fail', (_req, _res, next) => next(Object.assign(new Error('forbidden here'), { status: 403 })), () => undefined);
    });
    expect((await reject('/answer')).status).toBe(401);
    expect((await reject('/fail')).status).toBe(403);
    expect(seen).toMatchObject([
      { status: 401, code: 'WS_HANDSHAKE_MIDDLEWARE_RESPONSE' },
      { status: 403, code: 'WS_HANDSHAKE_MIDDLEWARE_ERROR', reason: 'forbidden here' },
    ]);
  });

  test('a refused header is reported with its handshake code', async () => {
    const seen = watchRejections();
    await apps.start((app) => app.ws('/chat', () => undefined));
    const res = await rawExchange(apps.running.port, upgradeRequest('/chat', [], ['Sec-WebSocket-Key']));
    res.socket.destroy();
    expect(seen).toMatchObject([{ status: 400, code: 'WS_HANDSHAKE_MISSING_KEY' }]);
  });
});

describe('a send that comes too late fails with one code and one message', () => {
  const notOpen = { code: 'WS_ERR_NOT_OPEN', message: 'the WebSocket is not open: the message was not sent' };

  test('send, ping and pong after close call back with WS_ERR_NOT_OPEN', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await openClient(`${apps.running.url}/s`);
    const { ws } = await accepted.next();
    const closed = clientClosed(client);
    ws.close();
    await closed;
    const errors = await Promise.all(
      [(cb: (e?: Error | null) => void) => ws.send('late', cb), (cb: (e?: Error | null) => void) => ws.ping('', cb), (cb: (e?: Error | null) => void) => ws.pong('', cb)].map(
        (call) => new Promise<Error | null | undefined>((resolve) => call(resolve)),
      ),
    );
    for (const err of errors) expect(err).toMatchObject(notOpen);
    expect(ws.send('late')).toBe(false);
  });

  test('a message still waiting for compression when the connection drops fails with WS_ERR_CLOSED_BEFORE_SENT', async () => {
    const accepted = await serverWithInbox(apps, { perMessageDeflate: true });
    const client = await openClient(`${apps.running.url}/s`, { perMessageDeflate: true });
    const { ws } = await accepted.next();
    const failed = deferred<Error | null | undefined>();
    // Over the synchronous deflate limit: compressed on the threadpool, so still queued below.
    ws.send(Buffer.alloc(256 * 1024, 'a'), (err) => failed.resolve(err));
    const gone = serverClosed(ws);
    ws.terminate();
    expect(await failed.promise).toMatchObject({ code: 'WS_ERR_CLOSED_BEFORE_SENT', message: 'the WebSocket closed before the message was sent' });
    await gone;
    client.terminate();
  });
});

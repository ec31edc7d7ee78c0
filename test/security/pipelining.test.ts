import { Readable } from 'node:stream';
import type { Express } from 'express';
import type { WsServer } from 'attach-ws';
import { useApps } from '../helpers/app-server';
import { clientFrame, getRequest, RawConnection, upgradeRequestFor } from './support';

/**
 * HTTP/1.1 keep-alive and pipelining are legal before an upgrade (RFC 7230
 * §6.3.2): the upgrade must wait until every earlier response on that
 * connection has been written, then proceed — never crash the process with
 * ERR_HTTP_SOCKET_ASSIGNED, never interleave its bytes with an earlier answer.
 */
const apps = useApps();

const BIG_CHUNKS = 64;
const CHUNK = 'x'.repeat(64 * 1024);

function routes(errors: Error[]) {
  return (app: Express, wss: WsServer) => {
    wss.on('error', (err) => errors.push(err));
    app.get('/plain', (_req, res) => {
      res.send('plain answer');
    });
    app.get('/late', (_req, res) => {
      setTimeout(() => res.send('late answer'), 20);
    });
    // A streamed response far larger than the socket's buffer: it needs 'drain' to finish.
    app.get('/big', (_req, res) => {
      res.type('text/plain');
      Readable.from(Array.from({ length: BIG_CHUNKS }, () => CHUNK)).pipe(res);
    });
    app.ws('/echo', (ws) => ws.on('message', (data) => ws.send(data)));
  };
}

async function expectEcho(conn: RawConnection): Promise<void> {
  conn.write(clientFrame(0x1, 'hello after pipelining'));
  const frame = await conn.readFrame();
  expect(frame.opcode).toBe(0x1);
  expect(frame.payload.toString()).toBe('hello after pipelining');
}

test('a GET and an upgrade pipelined in one write are answered in order, then messages flow', async () => {
  const errors: Error[] = [];
  const running = await apps.start(routes(errors));
  const conn = await RawConnection.open(running.port);
  apps.track(() => conn.destroy());
  conn.write(getRequest('/plain') + upgradeRequestFor('/echo'));

  const first = await conn.readResponse();
  expect(first.status).toBe(200);
  expect(first.body.toString()).toBe('plain answer');
  const second = await conn.readResponse();
  expect(second.status).toBe(101);
  await expectEcho(conn);
  expect(errors).toEqual([]);
});

test('an upgrade pipelined behind a slow GET waits for that answer before its 101', async () => {
  const errors: Error[] = [];
  const running = await apps.start(routes(errors));
  const conn = await RawConnection.open(running.port);
  apps.track(() => conn.destroy());
  conn.write(getRequest('/late') + getRequest('/plain') + upgradeRequestFor('/echo'));

  expect((await conn.readResponse()).body.toString()).toBe('late answer');
  expect((await conn.readResponse()).body.toString()).toBe('plain answer');
  expect((await conn.readResponse()).status).toBe(101);
  await expectEcho(conn);
  expect(errors).toEqual([]);
});

test('an upgrade pipelined behind a streamed 4 MiB response lets it finish, then upgrades', async () => {
  const errors: Error[] = [];
  const running = await apps.start(routes(errors));
  const conn = await RawConnection.open(running.port);
  apps.track(() => conn.destroy());
  conn.write(getRequest('/big') + upgradeRequestFor('/echo'));

  const first = await conn.readResponse();
  expect(first.status).toBe(200);
  expect(first.body.length).toBe(BIG_CHUNKS * CHUNK.length);
  expect((await conn.readResponse()).status).toBe(101);
  await expectEcho(conn);
  expect(errors).toEqual([]);
});

test('a refused upgrade pipelined behind a GET gets its refusal after the GET answer', async () => {
  const errors: Error[] = [];
  const running = await apps.start(routes(errors));
  const conn = await RawConnection.open(running.port);
  apps.track(() => conn.destroy());
  conn.write(getRequest('/late') + upgradeRequestFor('/echo', ['Sec-WebSocket-Version: 8']).replace('Sec-WebSocket-Version: 13\r\n', ''));

  expect((await conn.readResponse()).body.toString()).toBe('late answer');
  const refusal = await conn.readResponse();
  expect(refusal.status).toBe(426);
  expect(await conn.readToEnd()).toBe('');
});

test('a keep-alive connection that served a GET upgrades on its next request', async () => {
  const errors: Error[] = [];
  const running = await apps.start(routes(errors));
  const conn = await RawConnection.open(running.port);
  apps.track(() => conn.destroy());
  conn.write(getRequest('/plain'));
  const first = await conn.readResponse();
  expect(first.status).toBe(200);
  expect(first.headers.connection).toBe('keep-alive');

  conn.write(upgradeRequestFor('/echo'));
  expect((await conn.readResponse()).status).toBe(101);
  await expectEcho(conn);
  expect(errors).toEqual([]);
});

test('a keep-alive connection upgrades right after reading the last byte of a large streamed response', async () => {
  const errors: Error[] = [];
  const running = await apps.start(routes(errors));
  for (let round = 0; round < 5; round++) {
    const conn = await RawConnection.open(running.port);
    apps.track(() => conn.destroy());
    conn.write(getRequest('/big'));
    expect((await conn.readResponse()).body.length).toBe(BIG_CHUNKS * CHUNK.length);
    // The server may not have seen its own response finish yet when these bytes arrive.
    conn.write(upgradeRequestFor('/echo'));
    expect((await conn.readResponse()).status).toBe(101);
    await expectEcho(conn);
  }
  expect(errors).toEqual([]);
});

test('an upgrade pipelined behind a response that never finishes is dropped at the handshake timeout, with no 408 mixed in', async () => {
  const running = await apps.start(
    (app) => {
      app.get('/stuck', (_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        res.write('partial');
      });
      app.ws('/echo', () => undefined);
    },
    { handshakeTimeoutMs: 200 },
  );
  const conn = await RawConnection.open(running.port);
  apps.track(() => conn.destroy());
  conn.write(getRequest('/stuck') + upgradeRequestFor('/echo'));
  const rest = await conn.readToEnd();
  expect(rest).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  expect(rest).not.toContain('408');
  expect(rest).not.toContain('101');
  expect(running.wss.stats().upgrades.accepted).toBe(0);
});

test('a pipelined upgrade gets one handshakeTimeoutMs from its arrival for the wait and its middleware together, not one for each', async () => {
  const TIMEOUT_MS = 10_000;
  let answerLate: () => void = () => undefined;
  let lateReached: () => void = () => undefined;
  let middlewareReached: () => void = () => undefined;
  const late = new Promise<void>((resolve) => {
    lateReached = resolve;
  });
  const inMiddleware = new Promise<void>((resolve) => {
    middlewareReached = resolve;
  });
  const running = await apps.start(
    (app) => {
      app.get('/late', (_req, res) => {
        answerLate = () => res.send('late answer');
        lateReached();
      });
      // Never decides: only the handshake deadline ends this upgrade.
      app.ws('/echo', () => middlewareReached(), () => undefined);
    },
    { handshakeTimeoutMs: TIMEOUT_MS },
  );
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'queueMicrotask'] });
  apps.track(() => jest.useRealTimers()); // before the app closes: shutdown waits on a real timer
  const conn = await RawConnection.open(running.port);
  apps.track(() => conn.destroy());
  conn.write(getRequest('/late') + upgradeRequestFor('/echo'));
  await late;

  jest.advanceTimersByTime(TIMEOUT_MS * 0.7); // the upgrade waits behind /late's answer
  answerLate();
  expect((await conn.readResponse()).body.toString()).toBe('late answer');
  await inMiddleware;
  expect(running.wss.stats().upgrades.rejected).toBe(0);

  jest.advanceTimersByTime(TIMEOUT_MS * 0.4); // 1.1 × handshakeTimeoutMs since the upgrade arrived
  expect(running.wss.stats().upgrades).toMatchObject({ rejected: 1, pending: 0 });
  expect((await conn.readResponse()).status).toBe(408);
});

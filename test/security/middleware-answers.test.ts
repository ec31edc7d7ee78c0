import type { RequestHandler } from 'express';
import { useApps } from '../helpers/app-server';
import { RawConnection, upgradeRequestFor } from './support';

/**
 * Once middleware has begun its own HTTP answer, attach-ws never writes a
 * second one on that socket: no 101 when it then calls next() (a common bug),
 * no 408 when it is still writing at the handshake timeout.
 */
const apps = useApps();

async function exchange(port: number) {
  const conn = await RawConnection.open(port);
  apps.track(() => conn.destroy());
  conn.write(upgradeRequestFor('/chat'));
  const response = await conn.readResponse();
  const rest = await conn.readToEnd();
  return { ...response, rest };
}

async function startWith(...middleware: RequestHandler[]) {
  const handled: string[] = [];
  const errors: Array<Error & { code?: string }> = [];
  const running = await apps.start((app, wss) => {
    wss.on('error', (err) => errors.push(err));
    app.ws('/chat', ...middleware, (ws) => {
      handled.push('handler');
      ws.send('you should not see this');
    });
  });
  return { running, handled, errors };
}

describe('a middleware that answers and then calls next()', () => {
  test('keeps its answer: no 101 follows it and the handler never runs', async () => {
    const { running, handled, errors } = await startWith((_req, res, next) => {
      res.status(401).end('log in first');
      next();
    });
    const res = await exchange(running.port);
    expect(res.status).toBe(401);
    expect(res.body.toString()).toBe('log in first');
    expect(res.rest).toBe('');
    expect(handled).toEqual([]);
    expect(running.wss.stats().upgrades).toMatchObject({ accepted: 0, rejected: 1 });
    expect(errors.map((err) => err.code)).toEqual(['WS_ERR_UPGRADE_ALREADY_ANSWERED']);
  });

  test('keeps its answer when next() comes a turn later, after res.json()', async () => {
    let middlewareDone: () => void = () => undefined;
    const nextCalled = new Promise<void>((resolve) => {
      middlewareDone = resolve;
    });
    const { running, handled, errors } = await startWith((_req, res, next) => {
      res.status(403).json({ error: 'forbidden' });
      setImmediate(() => {
        next();
        middlewareDone();
      });
    });
    const res = await exchange(running.port);
    await nextCalled;
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body.toString())).toEqual({ error: 'forbidden' });
    expect(res.rest).toBe('');
    expect(handled).toEqual([]);
    expect(errors.map((err) => err.code)).toEqual(['WS_ERR_UPGRADE_ALREADY_ANSWERED']);
  });

  test('keeps a streamed answer it finishes after calling next()', async () => {
    const { running, handled } = await startWith((_req, res, next) => {
      res.writeHead(429, { 'Content-Type': 'text/plain' });
      res.write('slow ');
      next();
      setImmediate(() => res.end('down'));
    });
    const res = await exchange(running.port);
    expect(res.status).toBe(429);
    expect(res.body.toString()).toBe('slow down');
    expect(res.rest).toBe('');
    expect(handled).toEqual([]);
  });

  test('keeps the answer of app-level middleware too', async () => {
    const handled: string[] = [];
    const running = await apps.start((app, wss) => {
      wss.on('error', () => undefined);
      app.use((_req, res, next) => {
        res.status(401).send('who are you?');
        next();
      });
      app.ws('/chat', () => {
        handled.push('handler');
      });
    });
    const res = await exchange(running.port);
    expect(res.status).toBe(401);
    expect(res.body.toString()).toBe('who are you?');
    expect(res.rest).toBe('');
    expect(handled).toEqual([]);
  });
});

describe('the handshake timeout', () => {
  test('writes no 408 into a response middleware has begun; it drops the connection instead', async () => {
    const handled: string[] = [];
    const running = await apps.start(
      (app) => {
        app.ws(
          '/chat',
          (_req, res) => {
            res.writeHead(200, { 'Content-Type': 'text/plain' });
            res.write('still thinking');
          },
          () => {
            handled.push('handler');
          },
        );
      },
      { handshakeTimeoutMs: 150 },
    );
    const conn = await RawConnection.open(running.port);
    apps.track(() => conn.destroy());
    conn.write(upgradeRequestFor('/chat'));
    const received = await conn.readToEnd();
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(received).toContain('still thinking');
    expect(received).not.toContain('408');
    expect(handled).toEqual([]);
    expect(running.wss.stats().upgrades).toMatchObject({ accepted: 0, rejected: 1 });
  });

  test('still answers 408 when middleware never began a response', async () => {
    const running = await apps.start(
      (app) => {
        app.ws('/chat', () => undefined /* never calls next */, () => undefined);
      },
      { handshakeTimeoutMs: 150 },
    );
    const res = await exchange(running.port);
    expect(res.status).toBe(408);
    expect(res.rest).toBe('');
  });
});

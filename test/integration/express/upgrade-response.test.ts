import type { NextFunction, Request, Response } from 'express';
import onFinished from 'on-finished';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import WsClient from 'ws';
import { useApps } from '../../helpers/app-server';
import { rawExchange, upgradeRequest } from '../../helpers/raw-http';

/** What middleware did to `res` before the upgrade was accepted reaches the client, and `res` finishes. */
const apps = useApps();

function echoOnce(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new WsClient(url);
    client.once('open', () => client.send('ping'));
    client.once('message', (data) => {
      resolve(String(data));
      client.close();
    });
    client.once('error', reject);
  });
}

test('headers middleware set on res go out in the 101, without hop-by-hop or body headers', async () => {
  const running = await apps.start((app) => {
    app.use((_req: Request, res: Response, next: NextFunction) => {
      res.cookie('sid', 'abc', { httpOnly: true });
      res.append('Set-Cookie', 'theme=dark');
      res.set('X-Trace-Id', 't-1');
      res.set('Content-Type', 'text/html');
      res.set('Content-Length', '5');
      res.set('Transfer-Encoding', 'chunked');
      res.set('Connection', 'keep-alive');
      res.set('Keep-Alive', 'timeout=5');
      res.set('Sec-WebSocket-Protocol', 'forged');
      next();
    });
    app.ws('/live', (ws) => ws.on('message', (data) => ws.send(data)));
  });
  const res = await rawExchange(running.port, upgradeRequest('/live'));
  res.socket.destroy();
  expect(res.status).toBe(101);
  const head = res.raw.slice(0, res.raw.indexOf('\r\n\r\n'));
  expect(head).toContain('\r\nSet-Cookie: sid=abc; Path=/; HttpOnly\r\n');
  expect(head).toContain('\r\nSet-Cookie: theme=dark');
  expect(res.headers['x-trace-id']).toBe('t-1');
  expect(res.headers.connection).toBe('Upgrade');
  expect(res.headers.upgrade).toBe('websocket');
  for (const name of ['content-type', 'content-length', 'transfer-encoding', 'keep-alive', 'sec-websocket-protocol']) {
    expect(res.headers[name]).toBeUndefined();
  }
});

test('res finishes when the upgrade completes: on-finished listeners see the 101 while the connection stays open', async () => {
  const finished: Array<number | string> = [];
  let connected!: () => void;
  const handlerRan = new Promise<void>((resolve) => (connected = resolve));
  const running = await apps.start((app) => {
    app.use((_req: Request, res: Response, next: NextFunction) => {
      onFinished(res, (err, done) => finished.push(err ? `error ${err.message}` : done.statusCode)); // a morgan-like logger
      next();
    });
    app.ws('/live', (ws) => {
      connected();
      ws.on('message', (data) => ws.send(data));
    });
  });
  const reply = echoOnce(`${running.url}/live`);
  await handlerRan;
  await expect(reply).resolves.toBe('ping');
  expect(finished).toEqual([101]);
});

test('a session-style res.end wrapper saves before res finishes, and then the connection no longer keeps req or res alive', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const events: string[] = [];
  let resRef: WeakRef<object> | undefined;
  let reqRef: WeakRef<object> | undefined;
  let markFinished!: () => void;
  const finished = new Promise<void>((resolve) => (markFinished = resolve));
  const running = await apps.start((app) => {
    // What express-session does: wrap res.end, save (asynchronously), then end for real.
    app.use((req: Request, res: Response, next: NextFunction) => {
      const end = res.end.bind(res) as () => Response;
      res.end = (() => {
        setImmediate(() => {
          events.push('session saved');
          end();
        });
        return res;
      }) as Response['end'];
      onFinished(res, () => {
        events.push('res finished');
        markFinished();
      });
      resRef = new WeakRef(res);
      reqRef = new WeakRef(req);
      next();
    });
    app.ws('/live', (ws) => ws.on('message', (data) => ws.send(data))); // keeps neither req nor res
  });
  const client = new WsClient(`${running.url}/live`);
  await new Promise((resolve, reject) => {
    client.once('open', resolve);
    client.once('error', reject);
  });
  await finished;
  expect(events).toEqual(['session saved', 'res finished']);
  // WeakRef targets stay alive until the current job ends: collect in a later turn, look in the next.
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  expect(resRef?.deref()).toBeUndefined();
  expect(reqRef?.deref()).toBeUndefined();
  const reply = new Promise<string>((resolve) => client.once('message', (data) => resolve(String(data))));
  client.send('still open');
  await expect(reply).resolves.toBe('still open');
  const closed = new Promise((resolve) => client.once('close', resolve));
  client.close();
  await closed;
});

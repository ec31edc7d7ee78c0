import type { Express } from 'express';
import WebSocket from 'ws';
import type { AttachWsOptions } from 'attach-ws';
import { useApps } from '../helpers/app-server';
import { RawConnection, upgradeRequestFor } from './support';

/**
 * Cross-site WebSocket hijacking: browsers send cookies with a cross-site
 * upgrade and CORS does not apply, so without a check any page could open an
 * authenticated socket in its visitor's name. attach-ws refuses other origins
 * by default, before any middleware (cookies, sessions) runs.
 */
const apps = useApps();

interface Seen {
  middleware: number;
  handler: number;
}

async function start(options: AttachWsOptions = {}, configure: (app: Express) => void = () => undefined) {
  const seen: Seen = { middleware: 0, handler: 0 };
  const running = await apps.start((app) => {
    configure(app);
    app.use((_req, _res, next) => {
      seen.middleware++; // stands for cookie-parser, sessions, auth
      next();
    });
    app.ws('/chat', (ws) => {
      seen.handler++;
      ws.close();
    });
  }, options);
  return { running, seen, host: `127.0.0.1:${running.port}` };
}

async function upgrade(port: number, host: string, extra: string[]) {
  const conn = await RawConnection.open(port);
  apps.track(() => conn.destroy());
  conn.write(upgradeRequestFor('/chat', extra, host));
  const res = await conn.readResponse();
  conn.destroy();
  return res;
}

describe('by default', () => {
  test('a page from another site is refused with 403 before any middleware runs, and the body says how to allow it', async () => {
    const { running, seen, host } = await start();
    const res = await upgrade(running.port, host, ['Origin: http://evil.example', 'Cookie: session=victim']);
    expect(res.status).toBe(403);
    const body = res.body.toString();
    expect(body).toContain("origins: ['https://app.example.com']");
    expect(body).toContain('predicate');
    expect(body).toContain("origins: '*'");
    expect(seen).toEqual({ middleware: 0, handler: 0 });
  });

  test('a page on the same host but another port is another origin and is refused', async () => {
    const { running, seen, host } = await start();
    const res = await upgrade(running.port, host, ['Origin: http://127.0.0.1:5173']);
    expect(res.status).toBe(403);
    expect(seen.handler).toBe(0);
  });

  test("a page from the server's own origin upgrades", async () => {
    const { running, seen, host } = await start();
    const res = await upgrade(running.port, host, [`Origin: http://${host}`]);
    expect(res.status).toBe(101);
    expect(seen).toEqual({ middleware: 1, handler: 1 });
  });

  test('a client without Origin (not a browser page) upgrades', async () => {
    const { running, seen, host } = await start();
    const res = await upgrade(running.port, host, []);
    expect(res.status).toBe(101);
    expect(seen.handler).toBe(1);
  });

  test('the ws client with a foreign origin option gets 403', async () => {
    const { running } = await start();
    const status = await new Promise<number>((resolve, reject) => {
      const client = new WebSocket(`${running.url}/chat`, { origin: 'https://evil.example' });
      client.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode ?? 0);
        client.terminate();
      });
      client.on('open', () => reject(new Error('upgraded')));
      client.on('error', () => undefined);
    });
    expect(status).toBe(403);
  });
});

describe('the origins option', () => {
  test('a list allows the origins on it', async () => {
    const { running, host } = await start({ origins: ['http://evil.example'] });
    expect((await upgrade(running.port, host, ['Origin: http://evil.example'])).status).toBe(101);
    expect((await upgrade(running.port, host, ['Origin: http://other.example'])).status).toBe(403);
  });

  test("'*' turns the check off", async () => {
    const { running, host } = await start({ origins: '*' });
    expect((await upgrade(running.port, host, ['Origin: http://evil.example'])).status).toBe(101);
  });

  test('a predicate decides', async () => {
    const { running, host } = await start({ origins: (origin) => origin?.endsWith('.trusted.example') === true });
    expect((await upgrade(running.port, host, ['Origin: https://app.trusted.example'])).status).toBe(101);
    expect((await upgrade(running.port, host, ['Origin: https://evil.example'])).status).toBe(403);
  });

  test('anything else is refused when attachWs is called', async () => {
    await expect(start({ origins: 'https://app.example.com' as never })).rejects.toThrow(/origins must be/);
  });
});

describe('behind a proxy', () => {
  const proxied = ['Origin: https://public.example', 'X-Forwarded-Host: public.example'];

  test('X-Forwarded-Host is ignored unless the app trusts the proxy', async () => {
    const { running, seen } = await start();
    const res = await upgrade(running.port, 'backend.internal:3000', proxied);
    expect(res.status).toBe(403);
    expect(seen.handler).toBe(0);
  });

  test("X-Forwarded-Host names the origin's host when app.set('trust proxy') trusts the connection", async () => {
    const { running, seen } = await start({}, (app) => app.set('trust proxy', 'loopback'));
    const res = await upgrade(running.port, 'backend.internal:3000', proxied);
    expect(res.status).toBe(101);
    expect(seen.handler).toBe(1);
  });

  test('a trust proxy setting that does not cover the connection leaves X-Forwarded-Host ignored', async () => {
    const { running } = await start({}, (app) => app.set('trust proxy', '10.0.0.1'));
    expect((await upgrade(running.port, 'backend.internal:3000', proxied)).status).toBe(403);
  });

  test('a forwarded host from an untrusted client never widens the check to its own origin', async () => {
    const { running, host } = await start();
    const res = await upgrade(running.port, host, ['Origin: http://evil.example', 'X-Forwarded-Host: evil.example']);
    expect(res.status).toBe(403);
  });

  test('a trusted proxy forwarding the public host without a port serves https pages', async () => {
    const { running } = await start({}, (app) => app.set('trust proxy', true));
    const res = await upgrade(running.port, 'backend.internal:3000', ['Origin: https://public.example', 'X-Forwarded-Host: public.example']);
    expect(res.status).toBe(101);
  });
});

import cookieParser from 'cookie-parser';
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { WebSocket as UndiciWebSocket } from 'undici';
import WsClient, { WebSocketServer as ReferenceServer } from 'ws';
import { useApps } from '../../helpers/app-server';
import { everyPath, expressMajor, wildcardPath, wildcardValue } from '../../helpers/express-major';
import { rawExchange, upgradeRequest } from '../../helpers/raw-http';

const apps = useApps();

function requireUser(req: Request, res: Response, next: NextFunction): void {
  const user = req.cookies?.user ?? req.get('x-user');
  if (user === 'alice') {
    res.locals.user = user;
    next();
    return;
  }
  res.status(401).set('WWW-Authenticate', 'Cookie').send('who are you?');
}

/** Open a `ws` client and resolve with its first message. */
function firstMessage(url: string, options?: WsClient.ClientOptions, protocols?: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new WsClient(url, protocols, options);
    client.once('message', (data) => {
      resolve(data.toString());
      client.close();
    });
    client.once('error', reject);
  });
}

function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const client = new WsClient(url, { headers });
    client.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      client.terminate();
    });
    client.once('open', () => reject(new Error('upgrade was accepted')));
    client.once('error', () => undefined);
  });
}

test('app-level middleware runs for upgrades: a cookie lets one user in and keeps another out', async () => {
  const running = await apps.start((app) => {
    app.use(cookieParser());
    app.ws('/private', requireUser, (ws, req) => ws.send(`hello ${req.cookies.user}`));
  });
  await expect(firstMessage(`${running.url}/private`, { headers: { Cookie: 'user=alice' } })).resolves.toBe('hello alice');
  await expect(upgradeStatus(`${running.url}/private`, { Cookie: 'user=mallory' })).resolves.toBe(401);
});

test('a middleware rejection is the real HTTP response on the raw socket, which is then closed', async () => {
  const running = await apps.start((app) => {
    app.ws('/private', requireUser, (ws) => ws.send('in'));
  });
  const res = await rawExchange(running.port, upgradeRequest('/private', ['X-User: mallory']));
  expect(res.statusLine).toBe('HTTP/1.1 401 Unauthorized');
  expect(res.headers['www-authenticate']).toBe('Cookie');
  expect(res.headers.connection).toBe('close');
  expect(res.body).toBe('who are you?');
});

test('next(err) rejects the upgrade with the error status, 500 when it has none, and reports 500s', async () => {
  const reported: Error[] = [];
  const running = await apps.start((app, wss) => {
    wss.on('error', (err) => reported.push(err));
    app.ws('/forbidden', (_req, _res, next) => next(Object.assign(new Error('no entry'), { status: 403 })), () => undefined);
    app.ws('/broken', (_req, _res, next) => next(new Error('database down')), () => undefined);
  });
  const forbidden = await rawExchange(running.port, upgradeRequest('/forbidden'));
  expect(forbidden.status).toBe(403);
  expect(forbidden.body).toBe('no entry');
  const broken = await rawExchange(running.port, upgradeRequest('/broken'));
  expect(broken.statusLine).toBe('HTTP/1.1 500 Internal Server Error');
  expect(broken.body).not.toContain('database');
  expect(reported.map((e) => e.message)).toEqual(['database down']);
});

test('route params, query and a mounted router with router.ws work as in Express', async () => {
  const running = await apps.start((app) => {
    const api = express.Router();
    api.ws('/feed/:topic', (ws, req) => ws.send(`${req.baseUrl}|${req.params.topic}|${String(req.query.since)}`));
    app.use('/api', api);
    app.ws('/chat/:room', (ws, req) => ws.send(`room ${req.params.room}`));
  });
  await expect(firstMessage(`${running.url}/chat/lobby`)).resolves.toBe('room lobby');
  await expect(firstMessage(`${running.url}/api/feed/news?since=5`)).resolves.toBe('/api|news|5');
});

test('method-specific routes never see upgrades and ws routes never see plain requests, whatever the order', async () => {
  const seen: string[] = [];
  const running = await apps.start((app) => {
    // Registered before the ws route on the same path: must still not get the upgrade.
    app.get('/both', (_req, res) => {
      seen.push('http');
      res.send('plain HTTP still works');
    });
    app.post('/both', (_req, res) => {
      seen.push('post');
      res.send('posted');
    });
    app.ws('/both', (ws) => ws.send('ws'));
    app.ws('/only-ws', (ws) => ws.send('ws'));
    app.get('/only-ws', (_req, res) => {
      seen.push('late get');
      res.send('registered after the ws route');
    });
  });
  await expect(firstMessage(`${running.url}/both`)).resolves.toBe('ws');
  await expect(firstMessage(`${running.url}/only-ws`)).resolves.toBe('ws');
  expect(seen).toEqual([]);
  await request(running.server).get('/both').expect(200, 'plain HTTP still works');
  await request(running.server).get('/only-ws').expect(200, 'registered after the ws route');
  expect(seen).toEqual(['http', 'late get']);
});

test('app.all and router.all routes run for upgrades in registration order, as for a GET', async () => {
  const seen: string[] = [];
  const running = await apps.start((app) => {
    app.all(everyPath, (req, _res, next) => {
      seen.push(`app.all ${req.path}`);
      next();
    });
    const api = express.Router();
    api.all('/feed', (_req, _res, next) => {
      seen.push('router.all');
      next();
    });
    api.route('/feed').all((_req, _res, next) => {
      seen.push('route.all');
      next();
    }).get(() => seen.push('route.get (must not run)'));
    api.ws('/feed', (ws) => ws.send('feed'));
    app.use('/api', api);
  });
  await expect(firstMessage(`${running.url}/api/feed`)).resolves.toBe('feed');
  expect(seen).toEqual(['app.all /api/feed', 'router.all', 'route.all']);
  await request(running.server).get('/only-ws').expect(404);
  expect(seen.at(-1)).toBe('app.all /only-ws');
});

test('the undici WebSocket client connects, sees the chosen subprotocol and exchanges messages', async () => {
  const running = await apps.start(
    (app) => {
      app.ws('/echo', (ws) => ws.on('message', (data) => ws.send(`${ws.protocol}:${String(data)}`)));
    },
    { protocols: ['chat.v2', 'chat.v1'] },
  );
  const client = new UndiciWebSocket(`${running.url}/echo`, ['chat.v1', 'chat.v2']);
  await new Promise((resolve, reject) => {
    client.addEventListener('open', resolve);
    client.addEventListener('error', reject);
  });
  expect(client.protocol).toBe('chat.v2');
  const reply = new Promise<string>((resolve) => client.addEventListener('message', (event) => resolve(String(event.data))));
  client.send('hi');
  await expect(reply).resolves.toBe('chat.v2:hi');
  const closed = new Promise((resolve) => client.addEventListener('close', resolve));
  client.close();
  await closed;
});

test('per-route options override the server: protocols and maxPayload', async () => {
  const running = await apps.start(
    (app) => {
      app.ws('/small', { maxPayload: 8, protocols: ['tiny'] }, (ws) => ws.on('message', (data) => ws.send(data)));
    },
    { protocols: ['chat.v1'] },
  );
  const client = new WsClient(`${running.url}/small`, ['tiny', 'chat.v1']);
  await new Promise((resolve) => client.once('open', resolve));
  expect(client.protocol).toBe('tiny');
  const closed = new Promise<number>((resolve) => client.once('close', (code) => resolve(code)));
  client.send('123456789');
  await expect(closed).resolves.toBe(1009);
});

test('an upgrade no ws route matches is left to another upgrade listener, which keeps working', async () => {
  const reference = new ReferenceServer({ noServer: true });
  const running = await apps.start((app) => {
    app.ws('/ours', (ws) => ws.send('attach-ws'));
  });
  running.server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/theirs') return;
    reference.handleUpgrade(req, socket, head, (ws) => ws.send('other library'));
  });
  await expect(firstMessage(`${running.url}/theirs`)).resolves.toBe('other library');
  await expect(firstMessage(`${running.url}/ours`)).resolves.toBe('attach-ws');
  expect(running.wss.stats().upgrades.passedOn).toBe(1);
  reference.close();
});

test('a handler that throws closes the connection with 1011 and reaches the server error event', async () => {
  const reported: string[] = [];
  const running = await apps.start((app, wss) => {
    wss.on('error', (err) => reported.push(err.message));
    app.ws('/sync', () => {
      throw new Error('sync boom');
    });
    app.ws('/async', async () => {
      await Promise.resolve();
      throw new Error('async boom');
    });
  });
  for (const path of ['/sync', '/async']) {
    const client = new WsClient(`${running.url}${path}`);
    const code = await new Promise<number>((resolve) => client.once('close', (c) => resolve(c)));
    expect(code).toBe(1011);
  }
  expect(reported).toEqual(['sync boom', 'async boom']);
});

test('middleware that never decides is answered 408 after the handshake timeout', async () => {
  const running = await apps.start(
    (app) => {
      app.ws('/stuck', () => undefined /* never calls next */, () => undefined);
    },
    { handshakeTimeoutMs: 50 },
  );
  const res = await rawExchange(running.port, upgradeRequest('/stuck'));
  expect(res.status).toBe(408);
});

test('router.ws works on a router built before attachWs is called, as route modules are', async () => {
  // Built first, as when route modules are imported before the server is set up.
  const feed = express.Router();
  feed.ws('/live', (ws) => ws.send('live'));
  const running = await apps.start((app) => {
    app.use('/feed', feed);
  });
  await expect(firstMessage(`${running.url}/feed/live`)).resolves.toBe('live');
});

test(`route params and wildcards in Express ${expressMajor}'s own syntax reach the handler`, async () => {
  const running = await apps.start((app) => {
    app.ws(wildcardPath('/files'), (ws, req) => ws.send(`file ${wildcardValue(req)}`));
    app.ws('/users/:id/feed', (ws, req) => ws.send(`user ${req.params.id}`));
  });
  await expect(firstMessage(`${running.url}/files/a/b.txt`)).resolves.toBe('file a/b.txt');
  await expect(firstMessage(`${running.url}/users/42/feed`)).resolves.toBe('user 42');
});

test('Router({ mergeParams: true }) gives a router.ws handler the mount path params', async () => {
  const running = await apps.start((app) => {
    const room = express.Router({ mergeParams: true });
    room.ws('/live', (ws, req) => ws.send(`room ${(req.params as Record<string, string>).room}`));
    app.use('/rooms/:room', room);
  });
  await expect(firstMessage(`${running.url}/rooms/tea/live`)).resolves.toBe('room tea');
});

test('error-handling middleware answers an upgrade that a ws route middleware failed', async () => {
  const running = await apps.start((app) => {
    app.ws('/fails', (_req, _res, next) => next(new Error('nope')), () => undefined);
    app.use((err: Error, _req: Request, res: Response, _next: NextFunction) => {
      res.status(418).send(`handled: ${err.message}`);
    });
  });
  const res = await rawExchange(running.port, upgradeRequest('/fails'));
  expect(res.status).toBe(418);
  expect(res.body).toBe('handled: nope');
});

test('an upgrade for a path no ws route matches is answered 404 when no other upgrade listener is there', async () => {
  const running = await apps.start((app) => {
    app.ws('/ours', (ws) => ws.send('ours'));
  });
  const res = await rawExchange(running.port, upgradeRequest('/elsewhere'));
  expect(res.status).toBe(404);
});

test('a sub-app mounted with app.use serves its ws routes, whether mounted before or after they are added', async () => {
  const running = await apps.start((app) => {
    const admin = express();
    admin.ws('/live', (ws, req) => ws.send(`admin ${req.baseUrl}`));
    app.use('/admin', admin);
    const late = express();
    app.use('/late', late);
    late.use((req, _res, next) => {
      (req as Request & { tagged?: boolean }).tagged = true;
      next();
    });
    late.ws('/feed/:id', (ws, req) => ws.send(`late ${req.params.id} ${String((req as Request & { tagged?: boolean }).tagged)}`));
  });
  await expect(firstMessage(`${running.url}/admin/live`)).resolves.toBe('admin /admin');
  await expect(firstMessage(`${running.url}/late/feed/7`)).resolves.toBe('late 7 true');
  await expect(upgradeStatus(`${running.url}/admin/nothing`)).resolves.toBe(404);
});

test(`a rejected promise from async middleware: ${expressMajor === 4 ? 'Express 4 does not catch it, so the upgrade times out with 408' : 'Express 5 passes it to next(err), a 500'}`, async () => {
  const rejections: string[] = [];
  const running = await apps.start(
    (app) => {
      app.ws(
        '/async-guard',
        () => {
          const lookup = (async () => {
            await Promise.resolve();
            throw new Error('lookup failed');
          })();
          // Observed here so that Jest does not fail on it; Express 4 itself would leave it unhandled
          // (Node's unhandledRejection, which by default ends the process).
          lookup.catch((err: Error) => rejections.push(err.message));
          return lookup;
        },
        () => undefined,
      );
    },
    { handshakeTimeoutMs: 200 },
  );
  const res = await rawExchange(running.port, upgradeRequest('/async-guard'));
  expect(rejections).toEqual(['lookup failed']);
  expect(res.status).toBe(expressMajor === 4 ? 408 : 500);
});

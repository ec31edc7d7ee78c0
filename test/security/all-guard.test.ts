import express, { type NextFunction, type Request, type Response } from 'express';
import WsClient from 'ws';
import { useApps } from '../helpers/app-server';
import { expressMajor, wildcardPath } from '../helpers/express-major';
import { rawExchange, upgradeRequest } from '../helpers/raw-http';

/**
 * Express's docs put authentication in `app.all('/admin/*', requireAdmin)`.
 * An upgrade runs through the app as a GET would, so such a guard must
 * protect `app.ws('/admin/live')` too: a WebSocket route must not be a way
 * around it.
 */
const apps = useApps();

function requireAdmin(req: Request, res: Response, next: NextFunction): void {
  if (req.get('x-role') === 'admin') {
    next();
    return;
  }
  res.status(401).send('admins only');
}

function opened(url: string, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new WsClient(url, { headers });
    client.once('message', (data) => {
      resolve(String(data));
      client.close();
    });
    client.once('error', reject);
  });
}

test(`an app.all guard refuses an upgrade to a ws route behind it with its own 401 (Express ${expressMajor})`, async () => {
  const running = await apps.start((app) => {
    app.all(wildcardPath('/admin'), requireAdmin);
    app.ws('/admin/live', (ws) => ws.send('secret stream'));
  });
  const refused = await rawExchange(running.port, upgradeRequest('/admin/live'));
  expect(refused.status).toBe(401);
  expect(refused.body).toBe('admins only');
  await expect(opened(`${running.url}/admin/live`, { 'X-Role': 'admin' })).resolves.toBe('secret stream');
});

test('a router.all guard on a mounted router refuses an upgrade to the router.ws route it guards', async () => {
  const running = await apps.start((app) => {
    const admin = express.Router();
    admin.all(wildcardPath(''), requireAdmin);
    admin.ws('/live', (ws) => ws.send('secret stream'));
    app.use('/admin', admin);
  });
  const refused = await rawExchange(running.port, upgradeRequest('/admin/live'));
  expect(refused.status).toBe(401);
  await expect(opened(`${running.url}/admin/live`, { 'X-Role': 'admin' })).resolves.toBe('secret stream');
});

test('a guard registered after the ws route runs after it, as for a GET: the route has already accepted', async () => {
  const order: string[] = [];
  const running = await apps.start((app) => {
    app.ws('/open/live', (ws) => {
      order.push('handler');
      ws.send('open');
    });
    app.all(wildcardPath('/open'), (_req, _res, next) => {
      order.push('late guard');
      next();
    });
  });
  await expect(opened(`${running.url}/open/live`, {})).resolves.toBe('open');
  expect(order).toEqual(['handler']);
});

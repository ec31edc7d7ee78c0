import type { NextFunction, Request, Response } from 'express';
import { useApps } from '../../helpers/app-server';
import { connectRaw, type RawClient } from '../../helpers/raw-client';
import { rawExchange, upgradeRequest, type RawResponse } from '../../helpers/raw-http';
import { DEFAULT_MAX_CONNECTIONS, resolveMaxConnections } from '../../../src/server/options';
import { deferred, serverWithInbox } from './support';

const apps = useApps();

async function raw(): Promise<RawClient> {
  const client = await connectRaw(apps.running.port, '/s');
  apps.track(() => client.destroy());
  return client;
}

async function upgradeResponse(): Promise<RawResponse> {
  const response = await rawExchange(apps.running.port, upgradeRequest('/s'));
  response.socket.destroy();
  return response;
}

test('with maxConnections open, the next upgrade is answered 503 with Retry-After, counted in stats(), and no connection is added', async () => {
  const accepted = await serverWithInbox(apps, { maxConnections: 3 });
  for (let i = 0; i < 3; i++) await raw();
  await accepted.take(3);

  const response = await upgradeResponse();
  expect(response.status).toBe(503);
  expect(response.headers['retry-after']).toBe('5');
  const stats = apps.running.wss.stats();
  expect(stats.clients).toBe(3);
  expect(stats.upgrades).toMatchObject({ accepted: 3, rejected: 1, overCapacity: 1 });
});

test('once a connection closes below maxConnections, an upgrade is accepted again', async () => {
  const accepted = await serverWithInbox(apps, { maxConnections: 1 });
  const first = await raw();
  const [side] = await accepted.take(1);
  expect((await upgradeResponse()).status).toBe(503);

  const gone = new Promise<void>((resolve) => side!.ws.once('close', () => resolve()));
  first.destroy();
  await gone;
  const second = await raw();
  expect(second.headers['sec-websocket-accept']).toBeDefined();
  await accepted.next();
  expect(apps.running.wss.stats().upgrades).toMatchObject({ accepted: 2, overCapacity: 1 });
});

test('upgrades that were in middleware together cannot push the server past maxConnections', async () => {
  // Every upgrade waits in middleware until all four have arrived, so all of
  // them pass the check made on arrival; the one before the 101 must hold.
  const arrived: Array<() => void> = [];
  const allArrived = deferred();
  const accepted: unknown[] = [];
  await apps.start(
    (app) => {
      app.use((_req: Request, _res: Response, next: NextFunction) => {
        arrived.push(next);
        if (arrived.length === 4) allArrived.resolve();
      });
      app.ws('/s', (ws) => accepted.push(ws));
    },
    { maxConnections: 2 },
  );
  const responses = Array.from({ length: 4 }, () => rawExchange(apps.running.port, upgradeRequest('/s')));
  await allArrived.promise;
  for (const next of arrived) next();
  const settled = await Promise.all(responses);
  for (const response of settled) response.socket.destroy();

  const statuses = settled.map((response) => response.status).sort();
  expect(statuses).toEqual([101, 101, 503, 503]);
  expect(accepted).toHaveLength(2);
  expect(apps.running.wss.stats().upgrades.overCapacity).toBe(2);
});

test('maxConnections defaults to 50,000, accepts Infinity and refuses what is not a count', () => {
  expect(resolveMaxConnections(undefined)).toBe(DEFAULT_MAX_CONNECTIONS);
  expect(DEFAULT_MAX_CONNECTIONS).toBe(50_000);
  expect(resolveMaxConnections(Infinity)).toBe(Infinity);
  expect(resolveMaxConnections(0)).toBe(0);
  for (const bad of [-1, 1.5, Number.NaN]) expect(() => resolveMaxConnections(bad)).toThrow(RangeError);
});

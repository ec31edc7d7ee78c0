import type { NextFunction, Request, Response } from 'express';
import { DEFAULT_MAX_PENDING_UPGRADES, resolveMaxPendingUpgrades } from '../../src/server/options';
import { useApps } from '../helpers/app-server';
import { RawConnection, upgradeRequestFor, type HttpResponse } from './support';

/**
 * Upgrades whose middleware never decides (a stalled auth lookup, or an
 * attacker who found a slow route) each hold a request, a response and a
 * socket until handshakeTimeoutMs. maxPendingUpgrades bounds how many the
 * server holds at once: the rest are answered 503 before any middleware runs.
 */
const apps = useApps();

const LIMIT = 20;
const ATTEMPTS = 60;

/** Upgrades sent on fresh connections, each with a promise of reaching the test app's middleware (which calls `arrived`). */
function middlewareArrivals() {
  let reached: () => void = () => undefined;
  return {
    arrived: (): void => reached(),
    async send(path: string): Promise<{ conn: RawConnection; inMiddleware: Promise<void> }> {
      const conn = await RawConnection.open(apps.running.port);
      apps.track(() => conn.destroy());
      const inMiddleware = new Promise<void>((resolve) => {
        reached = resolve;
      });
      conn.write(upgradeRequestFor(path));
      return { conn, inMiddleware };
    },
  };
}

test('upgrades beyond maxPendingUpgrades while middleware never decides are answered 503 with Retry-After before any middleware runs, and counted', async () => {
  const held: Array<() => Promise<void>> = [];
  const arrivals = middlewareArrivals();
  await apps.start(
    (app) => {
      // Middleware that never decides on its own: it keeps the upgrade waiting.
      app.use((_req: Request, res: Response, _next: NextFunction) => {
        // attach-ws's own 'finish' listener (added first) has settled the upgrade when this one runs.
        held.push(() => new Promise((resolve) => res.status(401).end(resolve)));
        arrivals.arrived();
      });
      app.ws('/s', () => undefined);
    },
    { maxPendingUpgrades: LIMIT },
  );

  const refusals: HttpResponse[] = [];
  let reachedMiddleware = 0;
  for (let i = 0; i < ATTEMPTS; i++) {
    const { conn, inMiddleware } = await arrivals.send('/s');
    const outcome = await Promise.race([inMiddleware.then(() => 'middleware' as const), conn.readResponse()]);
    if (outcome === 'middleware') reachedMiddleware++;
    else refusals.push(outcome);
  }

  expect(reachedMiddleware).toBe(LIMIT);
  expect(held).toHaveLength(LIMIT);
  expect(refusals).toHaveLength(ATTEMPTS - LIMIT);
  for (const refusal of refusals) {
    expect(refusal.status).toBe(503);
    expect(refusal.headers['retry-after']).toBe('5');
  }
  expect(apps.running.wss.stats().upgrades).toMatchObject({
    pending: LIMIT,
    tooManyPending: ATTEMPTS - LIMIT,
    rejected: ATTEMPTS - LIMIT,
    accepted: 0,
  });

  // Once middleware decides, the slots are free again.
  await Promise.all(held.splice(0).map((answer) => answer()));
  expect(apps.running.wss.stats().upgrades.pending).toBe(0);
  const { conn, inMiddleware } = await arrivals.send('/s');
  expect(await Promise.race([inMiddleware.then(() => 'middleware' as const), conn.readResponse()])).toBe('middleware');
  await Promise.all(held.splice(0).map((answer) => answer()));
});

test('an upgrade that is decided leaves the pending count, whether accepted, refused by middleware or timed out', async () => {
  let decide: ((how: 'accept' | 'refuse') => void) | undefined;
  const arrivals = middlewareArrivals();
  await apps.start(
    (app) => {
      app.use((_req: Request, res: Response, next: NextFunction) => {
        decide = (how) => (how === 'accept' ? next() : res.status(403).end());
        arrivals.arrived();
      });
      app.ws('/s', () => undefined);
    },
    { maxPendingUpgrades: 1, handshakeTimeoutMs: 50 },
  );
  const upgradeWaiting = async (): Promise<RawConnection> => {
    const { conn, inMiddleware } = await arrivals.send('/s');
    await inMiddleware;
    expect(apps.running.wss.stats().upgrades.pending).toBe(1);
    return conn;
  };

  let conn = await upgradeWaiting();
  decide!('accept');
  expect((await conn.readResponse()).status).toBe(101);
  expect(apps.running.wss.stats().upgrades.pending).toBe(0);

  conn = await upgradeWaiting();
  decide!('refuse');
  expect((await conn.readResponse()).status).toBe(403);
  expect(apps.running.wss.stats().upgrades.pending).toBe(0);

  conn = await upgradeWaiting();
  expect((await conn.readResponse()).status).toBe(408); // nobody decides: the handshake timeout does
  expect(apps.running.wss.stats().upgrades).toMatchObject({ pending: 0, tooManyPending: 0 });
});

test('maxPendingUpgrades defaults to 5,000 and accepts Infinity', () => {
  expect(resolveMaxPendingUpgrades(undefined)).toBe(DEFAULT_MAX_PENDING_UPGRADES);
  expect(DEFAULT_MAX_PENDING_UPGRADES).toBe(5_000);
  expect(resolveMaxPendingUpgrades(Infinity)).toBe(Infinity);
});

test('an upgrade decided while the app runs synchronously arms no handshake timer; one whose middleware goes async is timed until it is decided', async () => {
  let release: () => void = () => undefined;
  const arrivals = middlewareArrivals();
  await apps.start((app) => {
    app.use('/async', (_req: Request, _res: Response, next: NextFunction) => {
      release = next;
      arrivals.arrived();
    });
    app.ws('/sync', () => undefined);
    app.ws('/async', () => undefined);
  });
  const { wss } = apps.running;

  const sync = await RawConnection.open(apps.running.port);
  apps.track(() => sync.destroy());
  sync.write(upgradeRequestFor('/sync'));
  expect((await sync.readResponse()).status).toBe(101);
  expect(wss.handshakeDeadlines.size).toBe(0);
  expect(wss.handshakeDeadlines.armed).toBe(false);

  const { conn: later, inMiddleware } = await arrivals.send('/async');
  await inMiddleware;
  expect(wss.handshakeDeadlines.size).toBe(1);
  expect(wss.handshakeDeadlines.armed).toBe(true);
  release();
  expect((await later.readResponse()).status).toBe(101);
  expect(wss.handshakeDeadlines.size).toBe(0);
});

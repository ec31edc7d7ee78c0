import type { WebSocket } from 'attach-ws';
import { useApps } from '../../helpers/app-server';
import { closePayload, connectRaw, type RawClient } from '../../helpers/raw-client';

const apps = useApps();

/**
 * Timers created from now on and still pending. (process.getActiveResourcesInfo()
 * does not list unref'd timers, and the server unrefs all of its own.)
 */
function trackTimers(): { pending(): number; restore(): void } {
  const created: NodeJS.Timeout[] = [];
  const setTimeoutSpy = jest.spyOn(globalThis, 'setTimeout');
  const setIntervalSpy = jest.spyOn(globalThis, 'setInterval');
  for (const spy of [setTimeoutSpy, setIntervalSpy]) {
    const original = spy === setTimeoutSpy ? realSetTimeout : realSetInterval;
    spy.mockImplementation(((...args: Parameters<typeof setTimeout>) => {
      const timer = (original as typeof setTimeout)(...args);
      created.push(timer);
      return timer;
    }) as typeof setTimeout);
  }
  return {
    pending: () => created.filter((timer) => !(timer as unknown as { _destroyed: boolean })._destroyed).length,
    restore() {
      setTimeoutSpy.mockRestore();
      setIntervalSpy.mockRestore();
    },
  };
}
const realSetTimeout = globalThis.setTimeout;
const realSetInterval = globalThis.setInterval;

test('1,000 idle connections cost no timer each (only the shared heartbeat) and close cleanly', async () => {
  const N = 1000;
  const closes: Array<Promise<number>> = [];
  const running = await apps.start((app) => {
    app.ws('/idle', (ws: WebSocket) => {
      closes.push(new Promise((resolve) => ws.once('close', (code) => resolve(code))));
    });
  }, { heartbeat: { intervalMs: 60_000 } });
  const tracked = trackTimers();
  apps.track(tracked.restore);
  const clients: RawClient[] = [];
  apps.track(() => clients.forEach((client) => client.destroy()));
  for (let i = 0; i < N; i += 100) {
    clients.push(...(await Promise.all(Array.from({ length: 100 }, () => connectRaw(running.port, '/idle')))));
  }
  expect(running.wss.clients.size).toBe(N);
  expect(closes).toHaveLength(N);
  // One heartbeat interval for all of them, nothing per connection.
  expect(tracked.pending()).toBe(1);

  for (const client of clients) client.sendFrame(0x8, closePayload(1000));
  expect(await Promise.all(closes)).toEqual(Array(N).fill(1000));
  await Promise.all(clients.map((client) => client.closed));
  expect(running.wss.clients.size).toBe(0);
  // The heartbeat stops with the last connection.
  expect(tracked.pending()).toBe(0);
}, 30_000);

import { useApps } from '../helpers/app-server';
import { connectRaw, type RawClient } from '../helpers/raw-client';
import { rawExchange, upgradeRequest } from '../helpers/raw-http';

/**
 * `wss.close(code, reason)` checks its arguments before it changes anything:
 * a bad one throws at once, and the server carries on as if never called —
 * not half-closed, answering 503 forever with its clients never told.
 */
const apps = useApps();

async function startEcho() {
  const running = await apps.start((app) => {
    app.ws('/echo', (ws) => ws.on('message', (data) => ws.send(data)));
  });
  const client = await connectRaw(running.port, '/echo');
  apps.track(() => client.destroy());
  return { running, client };
}

async function expectEcho(client: RawClient, text: string): Promise<void> {
  client.sendFrame(0x1, text);
  expect((await client.nextFrame()).payload.toString()).toBe(text);
}

test.each([
  ['999, below the range', 999, '', TypeError],
  ['1005, reserved for reporting', 1005, '', TypeError],
  ['5000, above the range', 5000, '', TypeError],
  ['1001.5, not an integer', 1001.5, '', TypeError],
  ['a reason of 124 bytes', 1001, 'r'.repeat(124), RangeError],
])('wss.close with %s throws at once and changes nothing', async (_name, code, reason, errorType) => {
  const { running, client } = await startEcho();
  expect(() => running.wss.close(code, reason)).toThrow(errorType);

  expect(running.wss.closing).toBe(false);
  await expectEcho(client, 'still open');
  const fresh = await rawExchange(running.port, upgradeRequest('/echo'));
  fresh.socket.destroy();
  expect(fresh.status).toBe(101);

  // A valid close afterwards still closes everyone, with that code.
  const shutdown = running.wss.close(4000, 'bye');
  expect(await client.expectClose({ reply: true })).toEqual({ code: 4000, reason: 'bye' });
  await shutdown;
  expect(running.wss.clients.size).toBe(0);
});

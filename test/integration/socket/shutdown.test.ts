import WsClient from 'ws';
import { useApps } from '../../helpers/app-server';
import { connectRaw, type RawClient } from '../../helpers/raw-client';
import { rawExchange, upgradeRequest } from '../../helpers/raw-http';
import { clientClosed, openClient, serverClosed, serverWithInbox } from './support';

const apps = useApps();

async function raw(): Promise<RawClient> {
  const client = await connectRaw(apps.running.port, '/s');
  apps.track(() => client.destroy());
  return client;
}

test('wss.close() sends 1001 to every client and resolves once all are closed, leaving no client', async () => {
  const accepted = await serverWithInbox(apps);
  const clients: WsClient[] = [];
  for (let i = 0; i < 3; i++) clients.push(await openClient(`${apps.running.url}/s`));
  await accepted.take(3);
  const closes = clients.map(clientClosed);
  await apps.running.wss.close();
  for (const close of closes) expect((await close).code).toBe(1001);
  expect(apps.running.wss.clients.size).toBe(0);
  expect(apps.running.wss.stats().clients).toBe(0);
});

test('wss.close() with a code and reason sends them', async () => {
  const accepted = await serverWithInbox(apps);
  const client = await openClient(`${apps.running.url}/s`);
  await accepted.next();
  const closed = clientClosed(client);
  await apps.running.wss.close(4100, 'maintenance');
  expect(await closed).toEqual({ code: 4100, reason: 'maintenance' });
});

test('while wss.close() is pending, a new upgrade is answered 503', async () => {
  const accepted = await serverWithInbox(apps);
  const lingering = await raw();
  await accepted.next();
  const shutdown = apps.running.wss.close();
  // The lingering client has its close frame but has not answered yet.
  const frame = await lingering.nextFrame();
  expect([frame.opcode, frame.payload.readUInt16BE(0)]).toEqual([0x8, 1001]);
  expect(apps.running.wss.closing).toBe(true);
  const response = await rawExchange(apps.running.port, upgradeRequest('/s'));
  response.socket.destroy();
  expect(response.status).toBe(503);
  expect(response.statusLine).toMatch(/^HTTP\/1\.1 503 /);
  // Now it answers, and the shutdown completes.
  lingering.sendFrame(0x8, frame.payload.subarray(0, 2));
  await shutdown;
  await lingering.closed;
  expect(apps.running.wss.clients.size).toBe(0);
});

test('a client that never answers the close frame is terminated after shutdownTimeoutMs', async () => {
  const accepted = await serverWithInbox(apps, { shutdownTimeoutMs: 100, closeTimeoutMs: 60_000 });
  const polite = await openClient(`${apps.running.url}/s`);
  const silent = await raw();
  const [, silentSide] = await accepted.take(2);
  const politeClosed = clientClosed(polite);
  const silentServerSide = serverClosed(silentSide!.ws);
  await apps.running.wss.close();
  expect((await politeClosed).code).toBe(1001);
  expect(await silentServerSide).toEqual({ code: 1006, reason: '' });
  await silent.closed;
  expect(apps.running.wss.clients.size).toBe(0);
});

test('wss.close() with no clients resolves, and calling it again returns the same promise', async () => {
  await serverWithInbox(apps);
  const first = apps.running.wss.close();
  expect(apps.running.wss.close()).toBe(first);
  await first;
});

import type { Socket } from 'node:net';
import WsClient from 'ws';
import { startApp, type RunningApp } from '../../helpers/app-server';
import { connectRaw, type RawClient } from '../../helpers/raw-client';
import { rawExchange, upgradeRequest } from '../../helpers/raw-http';
import { clientClosed, Inbox, openClient, serverClosed, type ServerSide } from './support';

let running: RunningApp | undefined;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await running?.close();
  running = undefined;
});

async function serverWithInbox(options: Parameters<typeof startApp>[1] = {}): Promise<Inbox<ServerSide>> {
  const accepted = new Inbox<ServerSide>();
  running = await startApp((app) => {
    app.ws('/s', (ws, req) => accepted.push({ ws, req, socket: req.socket as Socket }));
  }, options);
  return accepted;
}

async function raw(): Promise<RawClient> {
  const client = await connectRaw(running!.port, '/s');
  cleanups.push(() => client.destroy());
  return client;
}

test('wss.close() sends 1001 to every client and resolves once all are closed, leaving no client', async () => {
  const accepted = await serverWithInbox();
  const clients: WsClient[] = [];
  for (let i = 0; i < 3; i++) clients.push(await openClient(`${running!.url}/s`));
  await accepted.take(3);
  const closes = clients.map(clientClosed);
  await running!.wss.close();
  for (const close of closes) expect((await close).code).toBe(1001);
  expect(running!.wss.clients.size).toBe(0);
  expect(running!.wss.stats().clients).toBe(0);
});

test('wss.close() with a code and reason sends them', async () => {
  const accepted = await serverWithInbox();
  const client = await openClient(`${running!.url}/s`);
  await accepted.next();
  const closed = clientClosed(client);
  await running!.wss.close(4100, 'maintenance');
  expect(await closed).toEqual({ code: 4100, reason: 'maintenance' });
});

test('while wss.close() is pending, a new upgrade is answered 503', async () => {
  const accepted = await serverWithInbox();
  const lingering = await raw();
  await accepted.next();
  const shutdown = running!.wss.close();
  // The lingering client has its close frame but has not answered yet.
  const frame = await lingering.nextFrame();
  expect([frame.opcode, frame.payload.readUInt16BE(0)]).toEqual([0x8, 1001]);
  expect(running!.wss.closing).toBe(true);
  const response = await rawExchange(running!.port, upgradeRequest('/s'));
  response.socket.destroy();
  expect(response.status).toBe(503);
  expect(response.statusLine).toMatch(/^HTTP\/1\.1 503 /);
  // Now it answers, and the shutdown completes.
  lingering.sendFrame(0x8, frame.payload.subarray(0, 2));
  await shutdown;
  await lingering.closed;
  expect(running!.wss.clients.size).toBe(0);
});

test('a client that never answers the close frame is terminated after shutdownTimeoutMs', async () => {
  const accepted = await serverWithInbox({ shutdownTimeoutMs: 100, closeTimeoutMs: 60_000 });
  const polite = await openClient(`${running!.url}/s`);
  const silent = await raw();
  const [, silentSide] = await accepted.take(2);
  const politeClosed = clientClosed(polite);
  const silentServerSide = serverClosed(silentSide!.ws);
  await running!.wss.close();
  expect((await politeClosed).code).toBe(1001);
  expect(await silentServerSide).toEqual({ code: 1006, reason: '' });
  await silent.closed;
  expect(running!.wss.clients.size).toBe(0);
});

test('wss.close() with no clients resolves, and calling it again returns the same promise', async () => {
  await serverWithInbox();
  const first = running!.wss.close();
  expect(running!.wss.close()).toBe(first);
  await first;
});

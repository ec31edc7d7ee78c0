/**
 * Issue #12 item 6 and the idle timeout: a peer we stopped reading from is
 * judged by whether it takes our bytes; a connection that sends no message
 * may be closed after `idleTimeoutMs`.
 */
import type { WebSocket } from 'attach-ws';
import { useApps } from '../helpers/app-server';
import { clientFrame, connectRaw } from '../helpers/raw-client';
import { deferred } from '../integration/socket/support';
import { MiB } from './memory';

const apps = useApps();

const TEXT = 0x1;
const PING = 0x9;

test('a peer that stops reading while its handler is slow, and takes none of our bytes for a whole heartbeat interval, is terminated and counted', async () => {
  const gate = deferred();
  const closed = deferred<number>();
  const running = await apps.start(
    (app) => {
      app.ws('/s', async (ws: WebSocket) => {
        ws.on('close', (code) => closed.resolve(code));
        // More than the kernel buffers on loopback take: some stays in user space.
        for (let i = 0; i < 32; i++) ws.send(Buffer.alloc(MiB));
        await gate.promise; // slow: held messages pile up, reading pauses
      });
    },
    { heartbeat: { intervalMs: 100 }, maxHeldMessages: 100, maxBufferedAmount: 64 * MiB },
  );
  apps.track(() => gate.resolve());
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  client.socket.pause(); // the peer is gone: it reads nothing
  client.send(Buffer.concat(Array(200).fill(clientFrame(TEXT, ''))));
  // Old code: the heartbeat skipped paused connections: kept forever.
  expect(await closed.promise).toBe(1006);
  expect(running.wss.stats().limits.unresponsive).toBe(1);
});

test('a slow reader that keeps taking our bytes is not terminated while reading from it is paused', async () => {
  const total = 24 * MiB;
  const serverSide = deferred<WebSocket>();
  const running = await apps.start(
    (app) => {
      app.ws('/s', (ws: WebSocket) => {
        for (let i = 0; i < total / MiB; i++) ws.send(Buffer.alloc(MiB));
        serverSide.resolve(ws);
      });
    },
    { heartbeat: { intervalMs: 1000 }, maxBufferedAmount: 64 * MiB },
  );
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  client.socket.pause();
  const ws = await serverSide.promise;
  const ping = clientFrame(PING, '');
  // Slow: one read at a time, a timer apart; each read sends a ping (traffic).
  let open = true;
  void client.closed.then(() => {
    open = false;
  });
  while (open && client.socket.bytesRead < total) {
    await new Promise((resolve) => setTimeout(resolve, 1));
    await new Promise<void>((resolve) => {
      client.socket.once('data', () => {
        client.socket.pause();
        resolve();
      });
      void client.closed.then(() => resolve());
      client.socket.resume();
    });
    if (open) client.send(ping);
  }
  expect(client.socket.bytesRead).toBeGreaterThanOrEqual(total);
  expect(ws.readyState).toBe(1);
  expect(running.wss.stats().limits.unresponsive).toBe(0);
});

test('idleTimeoutMs closes a connection that sends no message with 1000, and counts it', async () => {
  const running = await apps.start(
    (app) => {
      app.ws('/s', () => {});
    },
    { idleTimeoutMs: 100 },
  );
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  expect(await client.expectClose({ reply: true })).toEqual({ code: 1000, reason: 'idle timeout' });
  expect(running.wss.stats().limits.idle).toBe(1);
});

test('idleTimeoutMs does not close a connection that keeps sending messages', async () => {
  const serverSide = deferred<WebSocket>();
  let received = 0;
  const running = await apps.start(
    (app) => {
      app.ws('/s', (ws: WebSocket) => {
        ws.on('message', () => received++);
        serverSide.resolve(ws);
      });
    },
    { idleTimeoutMs: 300 },
  );
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  const ws = await serverSide.promise;
  // Messages keep coming for longer than the timeout, each well within it.
  for (let i = 0; i < 60; i++) {
    client.sendFrame(TEXT, `${i}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  expect(received).toBeGreaterThan(0);
  expect(ws.readyState).toBe(1);
  expect(running.wss.stats().limits.idle).toBe(0);
});

/**
 * Issue #12 items 2, 3 and 5: a peer that sends but does not read cannot make
 * the server buffer without bound — not through replies, not through
 * auto-pongs, not through topic publishes inside one event-loop turn.
 */
import type { Socket } from 'node:net';
import { isSendError, type WebSocket } from 'attach-ws';
import { useApps } from '../helpers/app-server';
import { clientFrame, connectRaw, type RawClient } from '../helpers/raw-client';
import { deferred } from '../integration/socket/support';
import { KiB, MiB } from './memory';

const apps = useApps();

const BINARY = 0x2;
const PING = 0x9;

/** Write `frame` until the kernel refuses more (the server stopped reading) or `total` bytes went. */
async function uploadUntilBlocked(client: RawClient, frame: Buffer, total: number, serverPaused: Promise<void>): Promise<number> {
  let sent = 0;
  let paused = false;
  void serverPaused.then(() => {
    paused = true;
  });
  while (sent < total) {
    const more = client.socket.write(frame);
    sent += frame.length;
    if (!more) {
      // Wait for the kernel to take it, or for the server to have stopped reading.
      await new Promise<void>((resolve) => {
        client.socket.once('drain', resolve);
        void serverPaused.then(() => resolve());
      });
      if (paused) break;
    }
  }
  return sent;
}

test('a peer that sends but never reads is no longer read once its echoes pass the high-water mark, and the echoes stay bounded', async () => {
  const highWaterMark = 64 * KiB;
  const paused = deferred();
  let maxBuffered = 0;
  let echoed = 0;
  const running = await apps.start(
    (app) => {
      app.ws('/s', (ws: WebSocket, req) => {
        (req.socket as Socket).once('pause', () => paused.resolve());
        ws.on('message', (data) => {
          ws.send(data);
          echoed += (data as Buffer).length;
          maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
        });
      });
    },
    { highWaterMark },
  );
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  client.socket.pause(); // never reads
  const message = 16 * KiB;
  const total = 64 * MiB;
  const sent = await uploadUntilBlocked(client, clientFrame(BINARY, Buffer.alloc(message, 1)), total, paused.promise);
  if (sent < total) await paused.promise;
  // Old code: the server read all 64 MiB and buffered the echoes (bufferedAmount in the tens of MiB).
  expect(sent).toBeLessThan(total);
  expect(maxBuffered).toBeLessThan(highWaterMark + message + 64);
  expect(echoed).toBeLessThan(sent);
});

test('an app that keeps sending to a peer that does not read is stopped at maxBufferedAmount inside one turn: close 1008, callbacks get WS_ERR_SEND_LIMIT, stats count it', async () => {
  const maxBufferedAmount = 1 * MiB;
  const message = 16 * KiB;
  const result = deferred<{ accepted: number; maxBuffered: number; readyState: number }>();
  const errors: string[] = [];
  const closed = deferred<number>();
  const running = await apps.start(
    (app) => {
      app.ws('/s', (ws: WebSocket) => {
        ws.on('close', (code) => closed.resolve(code));
        let accepted = 0;
        let maxBuffered = 0;
        // One synchronous loop: 64 MiB offered in a single event-loop turn.
        for (let i = 0; i < 4096 && ws.readyState === 1; i++) {
          ws.send(Buffer.alloc(message), (err) => {
            if (err) errors.push(isSendError(err) ? err.code : String(err));
          });
          if (ws.readyState === 1) accepted++;
          maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
        }
        result.resolve({ accepted, maxBuffered, readyState: ws.readyState });
      });
    },
    { maxBufferedAmount, closeTimeoutMs: 200 },
  );
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  client.socket.pause(); // never reads
  const { accepted, maxBuffered, readyState } = await result.promise;
  expect(readyState).toBe(2); // CLOSING: our 1008 close frame waits behind what the peer has not read
  expect(accepted).toBeLessThanOrEqual(maxBufferedAmount / message);
  expect(maxBuffered).toBeLessThanOrEqual(maxBufferedAmount + message);
  // The peer never reads: the close timer drops it.
  expect(await closed.promise).toBe(1006);
  expect(errors[0]).toBe('WS_ERR_SEND_LIMIT');
  expect(new Set(errors)).toEqual(new Set(['WS_ERR_SEND_LIMIT']));
  expect(running.wss.stats().limits.sendBuffer).toBe(1);
});

test('a slow peer that does read gets the 1008 close frame after the data it was sent', async () => {
  const maxBufferedAmount = 256 * KiB;
  const running = await apps.start(
    (app) => {
      app.ws('/s', (ws: WebSocket) => {
        for (let i = 0; i < 1000 && ws.readyState === 1; i++) ws.send(Buffer.alloc(16 * KiB));
      });
    },
    { maxBufferedAmount },
  );
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  let frames = 0;
  for (;;) {
    const frame = await client.nextFrame();
    if (frame.opcode === 0x8) {
      expect(frame.payload.readUInt16BE(0)).toBe(1008);
      break;
    }
    frames++;
  }
  expect(frames).toBeGreaterThan(0);
  expect(frames).toBeLessThanOrEqual(maxBufferedAmount / (16 * KiB) + 1);
});

test('a ping flood from a peer that never reads leaves at most one pong owed: the send buffer stays near the high-water mark', async () => {
  const highWaterMark = 16 * KiB;
  const paused = deferred();
  let pings = 0;
  let maxBuffered = 0;
  const running = await apps.start(
    (app) => {
      app.ws('/s', (ws: WebSocket, req) => {
        (req.socket as Socket).once('pause', () => paused.resolve());
        ws.on('ping', () => {
          pings++;
          maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
        });
      });
    },
    { highWaterMark },
  );
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  client.socket.pause(); // never reads a pong
  const ping = clientFrame(PING, Buffer.alloc(125, 0x69));
  const batch = Buffer.concat(Array(500).fill(ping));
  const total = 64 * MiB;
  const sent = await uploadUntilBlocked(client, batch, total, paused.promise);
  if (sent < total) await paused.promise;
  // Old code: a pong per ping was queued: tens of MiB of pongs for a peer that reads none.
  expect(sent).toBeLessThan(total);
  expect(pings).toBeLessThan(sent / ping.length);
  expect(maxBuffered).toBeLessThan(highWaterMark + 2 * 127);
});

test('a synchronous loop of publishes to a stalled subscriber stops at the backpressure limit; the rest are skipped and counted', async () => {
  const limit = 256 * KiB;
  const subscribed = deferred<WebSocket>();
  const running = await apps.start(
    (app) => {
      app.ws('/s', (ws: WebSocket) => {
        ws.subscribe('t');
        subscribed.resolve(ws);
      });
    },
    { backpressure: { limit, policy: 'skip' }, maxBufferedAmount: 64 * MiB },
  );
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  client.socket.pause();
  const ws = await subscribed.promise;
  let delivered = 0;
  let maxBuffered = 0;
  for (let i = 0; i < 1000; i++) {
    delivered += running.wss.publish('t', Buffer.alloc(16 * KiB));
    maxBuffered = Math.max(maxBuffered, ws.bufferedAmount);
  }
  // Old code: the limit was checked against a snapshot taken at the turn's first write: all 1000 (16 MiB) went.
  expect(delivered).toBeLessThanOrEqual(limit / (16 * KiB) + 1);
  expect(maxBuffered).toBeLessThanOrEqual(limit + 16 * KiB + 16);
  expect(running.wss.stats().topics.skipped).toBe(1000 - delivered);
});

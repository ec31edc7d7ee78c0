/**
 * Every message not yet handed to the kernel is charged its bookkeeping on
 * top of its payload, so empty messages are not free: a handler that keeps
 * sending them reaches maxBufferedAmount (close 1008) instead of buffering
 * ~150 bytes of heap for each 2-byte frame it is charged. That holds for
 * messages queued in user space behind a pending compression (they may not
 * overtake it) and for those in the socket's own buffer.
 */
import { randomBytes } from 'node:crypto';
import type { WebSocket } from 'attach-ws';
import { useApps } from '../helpers/app-server';
import { connectRaw } from '../helpers/raw-client';
import { deferred } from '../integration/socket/support';
import { QUEUED_MESSAGE_OVERHEAD } from '../../src/socket/options';
import { KiB, MiB, retainedHeapBytes } from './memory';

const apps = useApps();

const attempts = 200_000;

interface Outcome {
  accepted: number;
  heapGrowth: number;
}

/** Send empty messages until the connection closes (or `limit` are accepted); what was accepted and the heap it grew by, measured inside the turn. */
function sendEmptiesUntilClosed(ws: WebSocket, limit: number): Outcome {
  const before = retainedHeapBytes();
  let accepted = 0;
  while (accepted < limit && ws.readyState === 1) {
    ws.send('');
    if (ws.readyState === 1) accepted++;
  }
  return { accepted, heapGrowth: retainedHeapBytes() - before };
}

test('empty messages queued behind a pending compression count toward maxBufferedAmount: the sender is closed with 1008 before their heap reaches twice the limit', async () => {
  const maxBufferedAmount = 1 * MiB;
  const outcome = deferred<Outcome>();
  const running = await apps.start(
    (app) => {
      app.ws('/s', (ws: WebSocket) => {
        // Above the synchronous deflate limit: its compression goes to the threadpool and is pending below.
        ws.send(Buffer.from(randomBytes(32 * KiB).toString('hex')));
        // Measured while the queue is still held (the compression cannot finish inside this turn).
        outcome.resolve(sendEmptiesUntilClosed(ws, attempts));
      });
    },
    { perMessageDeflate: true, maxBufferedAmount },
  );
  const client = await connectRaw(running.port, '/s', { extensions: 'permessage-deflate' });
  apps.track(() => client.destroy());
  const { accepted, heapGrowth } = await outcome.promise;
  // Old code: all 200,000 accepted (0 bytes each), 43.8 MB of heap held. Now each queued
  // entry is charged what it holds (QUEUED_MESSAGE_OVERHEAD): 3,839 accepted, 1.07 MB held (measured).
  expect(accepted).toBeLessThanOrEqual(maxBufferedAmount / QUEUED_MESSAGE_OVERHEAD);
  expect(heapGrowth).toBeLessThan(2 * maxBufferedAmount);
  // The client gets the compressed message, the empty ones accepted, then the 1008 close.
  expect((await client.nextFrame()).rsv1).toBe(true);
  for (let i = 0; i < accepted; i++) expect((await client.nextFrame()).payload.length).toBe(0);
  expect(await client.expectClose({ reply: true })).toEqual({ code: 1008, reason: 'send buffer limit exceeded' });
});

test('empty messages in the socket buffer count toward maxBufferedAmount: a loop of 1,000,000 empty sends is closed with 1008 before their heap reaches twice the limit', async () => {
  const maxBufferedAmount = 1 * MiB;
  const outcome = deferred<Outcome>();
  const running = await apps.start(
    (app) => {
      app.ws('/s', (ws: WebSocket) => {
        // Measured inside the turn: every frame is still in the socket's (corked) buffer.
        outcome.resolve(sendEmptiesUntilClosed(ws, 1_000_000));
      });
    },
    { maxBufferedAmount },
  );
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  const { accepted, heapGrowth } = await outcome.promise;
  // Old code: each 2-byte frame was charged 2 bytes: 524,213 accepted, 80 MB of heap.
  // Now QUEUED_MESSAGE_OVERHEAD more: 4,064 accepted, 0.67 MB (measured).
  expect(accepted).toBeLessThanOrEqual(maxBufferedAmount / (QUEUED_MESSAGE_OVERHEAD + 2) + 1);
  expect(heapGrowth).toBeLessThan(2 * maxBufferedAmount);
  for (let i = 0; i < accepted; i++) expect((await client.nextFrame()).payload.length).toBe(0);
  expect(await client.expectClose({ reply: true })).toEqual({ code: 1008, reason: 'send buffer limit exceeded' });
});

/**
 * Messages held for a handler that has not listened yet are kept beyond the
 * read that produced them, so a small binary message must not keep its whole
 * read chunk alive: measured over a real socket, after garbage collection.
 */
import type { WebSocket } from 'attach-ws';
import { useApps } from '../helpers/app-server';
import { clientFrame, connectRaw } from '../helpers/raw-client';
import { deferred } from '../integration/socket/support';
import { KiB, MiB, retainedBufferBytes, retainedHeapBytes } from './memory';

const apps = useApps();

const TEXT = 0x1;
const BINARY = 0x2;
const PONG = 0xa;

test('500 held messages, each a 1-byte binary message read in its own 64 KiB chunk with a text message and pongs, retain under 6 MiB, not the 31 MiB of their chunks', async () => {
  const rounds = 500; // under maxHeldMessages (1,024) and maxHeldBytes (1 MiB): all are held, reading never pauses
  const pongsPerRound = 490;
  let pongs = 0;
  let roundDone = deferred();
  const gate = deferred();
  const received = deferred<Array<string | Buffer>>();
  const running = await apps.start((app) => {
    app.ws('/s', async (ws: WebSocket) => {
      ws.on('pong', () => {
        if (++pongs % pongsPerRound === 0) roundDone.resolve();
      });
      await gate.promise; // nothing listens for messages yet: they are held
      const messages: Array<string | Buffer> = [];
      ws.on('message', (data) => {
        messages.push(data);
        if (messages.length === 2 * rounds) received.resolve(messages);
      });
    });
  });
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  const pong = clientFrame(PONG, Buffer.alloc(125, 0x70));
  const text = 't'.repeat(1000);

  const beforeBuffers = retainedBufferBytes();
  const beforeHeap = retainedHeapBytes();
  for (let i = 0; i < rounds; i++) {
    const round = Buffer.concat([
      clientFrame(BINARY, Buffer.of(i & 0xff)),
      clientFrame(TEXT, text),
      ...Array(pongsPerRound).fill(pong),
    ]);
    if (i === 0) expect(round.length).toBeLessThanOrEqual(64 * KiB);
    roundDone = deferred();
    client.send(round);
    await roundDone.promise; // the server read the whole round: its own read chunk
  }
  const buffers = retainedBufferBytes() - beforeBuffers;
  const heap = retainedHeapBytes() - beforeHeap;
  // Were the held 1-byte messages views into their chunks: 500 × 64 KiB ≈ 31 MiB of buffers.
  // Held now: 500 copied bytes and 500 strings of 1,000 characters (≈ 0.5 MB of heap).
  // Measured: 1.5 MB of buffers + 1.1 MB of heap (with the views kept: 32.6 MB + 1.0 MB).
  expect(buffers + heap).toBeLessThan(6 * MiB);

  gate.resolve();
  const messages = await received.promise;
  for (let i = 0; i < rounds; i++) {
    expect(messages[2 * i]).toEqual(Buffer.of(i & 0xff));
    expect(messages[2 * i + 1]).toBe(text);
  }
});

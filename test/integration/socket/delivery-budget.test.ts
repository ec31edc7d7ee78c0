/**
 * Flow control end to end: a publisher that floods a topic faster than its
 * subscribers read is paused by the server's delivery budget (its socket is
 * not read, so its own writes back up), the server's queued fan-out stays
 * within the budget, and no subscriber loses or reorders a message.
 */
import diagnostics from 'node:diagnostics_channel';
import type WsClient from 'ws';
import type { AttachWsOptions, OverloadEvent } from 'attach-ws';
import { useApps } from '../../helpers/app-server';
import { DELIVERY_OVERHEAD_BYTES } from '../../../src/pubsub/delivery-budget';
import { openClient } from './support';

const apps = useApps();

const MESSAGES = 2048;
const SIZE = 16 * 1024;
const BUDGET = 256 * 1024;

/** The message with sequence number `seq`: its first 4 bytes. */
function message(seq: number): Buffer {
  const data = Buffer.alloc(SIZE, 0x61);
  data.writeUInt32BE(seq, 0);
  return data;
}

/** Collects the sequence numbers a subscriber receives. */
function record(client: WsClient): number[] {
  const seqs: number[] = [];
  client.on('message', (data: Buffer) => seqs.push(data.readUInt32BE(0)));
  return seqs;
}

/** `/pub` publishes every message it reads to topic `t`; `/sub` subscribes to it. */
function startPubSub(options: AttachWsOptions): ReturnType<typeof apps.start> {
  return apps.start((app, wss) => {
    app.ws('/pub', (ws) => {
      ws.on('message', (data) => wss.publish('t', data));
    });
    app.ws('/sub', (ws) => {
      ws.subscribe('t');
    });
  }, options);
}

/** Polls `condition`; gives up (the test fails) after `ms`, so a failing test never leaves a loop behind. */
async function until(condition: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${condition.toString()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a publisher flooding a topic with slow subscribers is paused, queued bytes stay within the budget, and every subscriber gets every message in order', async () => {
  const running = await startPubSub(
    // A per-subscriber limit far above the budget: the budget, not skipping, bounds memory here.
    { deliveryBudget: { limit: BUDGET }, backpressure: { limit: 64 * 1024 * 1024 } },
  );
  const events: OverloadEvent[] = [];
  const onEvent = (event: unknown) => events.push(event as OverloadEvent);
  diagnostics.subscribe('attach-ws:overload', onEvent);
  apps.track(() => diagnostics.unsubscribe('attach-ws:overload', onEvent));

  const keepsUp = await openClient(`${running.url}/sub`);
  const slow = await openClient(`${running.url}/sub`);
  const publisher = await openClient(`${running.url}/pub`);
  apps.track(() => [keepsUp, slow, publisher].forEach((c) => c.terminate()));
  await until(() => running.wss.subscriberCount('t') === 2);
  const fastSeqs = record(keepsUp);
  const slowSeqs = record(slow);

  slow.pause(); // reads nothing: its TCP buffers fill, then the server's queue for it
  for (let seq = 0; seq < MESSAGES; seq++) publisher.send(message(seq)); // 32 MiB
  // Either the server stops reading the publisher (the fix), or it reads the
  // whole flood and the publisher's buffer empties (no flow control).
  await until(() => running.wss.stats().delivery.pausedReaders > 0 || publisher.bufferedAmount === 0);
  const paused = running.wss.stats().delivery;
  expect(paused.pausedReaders).toBe(1);
  // The publisher's writes back up: far more than the kernel's buffers are still on its side.
  expect(publisher.bufferedAmount).toBeGreaterThan(8 * 1024 * 1024);
  expect(events.some((e) => e.type === 'pause')).toBe(true);

  slow.resume();
  await until(() => fastSeqs.length === MESSAGES && slowSeqs.length === MESSAGES);
  const inOrder = Array.from({ length: MESSAGES }, (_, i) => i);
  expect(fastSeqs).toEqual(inOrder);
  expect(slowSeqs).toEqual(inOrder);

  const stats = running.wss.stats();
  expect(stats.topics.skipped).toBe(0);
  expect(stats.delivery.queuedBytes).toBe(0);
  expect(stats.delivery.pausedReaders).toBe(0);
  expect(stats.delivery.pauses).toBeGreaterThan(0);
  // A message already read is always delivered: the peak is the budget plus one message's fan-out
  // (its frame once, shared by the two subscribers, and each delivery's write request).
  const fanOut = SIZE + 4 + 2 * DELIVERY_OVERHEAD_BYTES;
  expect(stats.delivery.peakQueuedBytes).toBeLessThanOrEqual(BUDGET + fanOut);
  expect(events.some((e) => e.type === 'resume')).toBe(true);
});

test('below the budget nothing is paused and nothing is queued once written', async () => {
  const running = await startPubSub(
    { deliveryBudget: { limit: 64 * 1024 * 1024 } },
  );
  const sub = await openClient(`${running.url}/sub`);
  const publisher = await openClient(`${running.url}/pub`);
  apps.track(() => [sub, publisher].forEach((c) => c.terminate()));
  await until(() => running.wss.subscriberCount('t') === 1);
  const seqs = record(sub);
  for (let seq = 0; seq < 100; seq++) publisher.send(message(seq));
  await until(() => seqs.length === 100);
  await until(() => running.wss.stats().delivery.queuedBytes === 0);
  const delivery = running.wss.stats().delivery;
  expect(delivery.pauses).toBe(0);
  expect(delivery.peakQueuedBytes).toBeGreaterThan(0);
  expect(seqs).toEqual(Array.from({ length: 100 }, (_, i) => i));
});

test('a subscriber that never reads is terminated once it keeps publishers paused for stallTimeoutMs, and the others get every message', async () => {
  const running = await startPubSub(
    { deliveryBudget: { limit: BUDGET, stallTimeoutMs: 200 }, backpressure: { limit: 64 * 1024 * 1024 } },
  );
  const keepsUp = await openClient(`${running.url}/sub`);
  const stalled = await openClient(`${running.url}/sub`);
  const publisher = await openClient(`${running.url}/pub`);
  apps.track(() => [keepsUp, stalled, publisher].forEach((c) => c.terminate()));
  await until(() => running.wss.subscriberCount('t') === 2);
  const seqs = record(keepsUp);

  stalled.pause(); // never resumed
  for (let seq = 0; seq < MESSAGES; seq++) publisher.send(message(seq));
  // Terminated (its backlog could not be sent anyway): the server forgets it.
  await until(() => running.wss.subscriberCount('t') === 1);
  await until(() => seqs.length === MESSAGES);
  expect(seqs).toEqual(Array.from({ length: MESSAGES }, (_, i) => i));
  const delivery = running.wss.stats().delivery;
  expect(delivery.evictedSubscribers).toBe(1);
  await until(() => running.wss.stats().delivery.queuedBytes === 0);
});

/**
 * Messages from Redis are peer input: anyone who can PUBLISH on a channel
 * can send them. An attach-ws node checks them like a client's messages
 * before fanning them out (maxPayload, UTF-8 for text), drops what does not
 * fit its delivery budget, counts every drop, and reports each kind at most
 * once per interval instead of once per message. And if Redis drops a
 * subscriber connection that fell behind, the node reconnects and counts
 * the gap.
 */
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { redisAdapter, type RedisAdapter } from 'attach-ws/redis';
import type { AttachWsOptions } from 'attach-ws';
import { encodeFrame } from '../../../src/pubsub/redis-frame';
import { useApps } from '../../helpers/app-server';
import { findService } from '../../helpers/services';
import { startRedis, type RedisServer } from '../../helpers/redis-server';
import { openClient } from '../socket/support';

const describeRedis = findService('redis-server') ? describe : describe.skip;
const PREFIX = 'attach-ws:';

describeRedis('messages from other nodes through Redis', () => {
  const apps = useApps();
  let redis: RedisServer;
  let publisher: Redis;
  const otherNode = randomBytes(16);

  beforeAll(async () => {
    redis = (await startRedis())!;
    publisher = new Redis(redis.url);
  });
  afterAll(async () => {
    await publisher?.quit();
    await redis?.stop();
  });

  /** Publish as another node would: an attach-ws frame on the topic's channel. */
  function publishRaw(topic: string, data: Buffer, isBinary: boolean): Promise<number> {
    return publisher.publish(PREFIX + topic, encodeFrame(otherNode, topic, data, isBinary));
  }

  async function start(options: AttachWsOptions) {
    const adapter = redisAdapter({ url: redis.url });
    const errors: Array<{ code?: string; message: string }> = [];
    const running = await apps.start((app) => {
      app.ws('/sub', (ws) => {
        ws.subscribe('t');
      });
    }, { ...options, adapter });
    running.wss.on('error', (err) => errors.push({ code: (err as { code?: string }).code, message: err.message }));
    const client = await openClient(`${running.url}/sub`);
    apps.track(() => client.terminate());
    const received: Array<{ data: Buffer; isBinary: boolean }> = [];
    client.on('message', (data: Buffer, isBinary: boolean) => received.push({ data, isBinary }));
    // Barrier: until a probe arrives, the node may not be subscribed in Redis yet.
    for (let i = 0; received.length === 0 && i < 500; i++) {
      await publishRaw('t', Buffer.from(`probe ${i}`), false);
      await new Promise((r) => setTimeout(r, 10));
    }
    await until(() => received.length > 0);
    return { running, client, received, errors, adapter: adapter as RedisAdapter };
  }

  it('drops messages over maxPayload and text that is not UTF-8, counts them, and reports each kind once', async () => {
    const { running, client, received, errors } = await start({ maxPayload: 1024 });
    const oversized = Buffer.alloc(2048, 0x61);
    const notUtf8 = Buffer.from([0x68, 0x69, 0xff, 0xfe]);
    const pipeline = publisher.pipeline();
    for (let i = 0; i < 200; i++) {
      pipeline.publish(PREFIX + 't', encodeFrame(otherNode, 't', oversized, true));
      pipeline.publish(PREFIX + 't', encodeFrame(otherNode, 't', notUtf8, false));
    }
    pipeline.publish(PREFIX + 't', encodeFrame(otherNode, 't', Buffer.from('after'), false));
    await pipeline.exec();
    await until(() => received.some((m) => m.data.toString() === 'after'));

    // Nothing bad reached the subscriber, and it is still open (no 1007 from its client).
    expect(notProbes(received)).toEqual(['after']);
    expect(client.readyState).toBe(client.OPEN);
    const delivery = running.wss.stats().delivery;
    expect(delivery.droppedMessages).toBe(400);
    expect(delivery.droppedDeliveries).toBe(400);
    // One report per kind (the interval is 10 s), not 400 warnings.
    expect(errors.map((e) => e.code).sort()).toEqual(['WS_ERR_INBOUND_INVALID_UTF8', 'WS_ERR_INBOUND_TOO_BIG']);
  });

  it('drops messages whose fan-out does not fit the delivery budget while earlier ones are still queued, and counts them', async () => {
    // A budget (and so a topic share) smaller than one 4 KiB message's frame. 50 of them in one
    // pipeline reach the node in a few reads: the first of a read goes out (nothing is queued, as
    // for a local publish), the ones after it in the same read find it still queued (a socket's
    // write callback never runs within the read) and are dropped.
    const { running, received, errors } = await start({ deliveryBudget: { limit: 2048 } });
    const pipeline = publisher.pipeline();
    for (let i = 0; i < 50; i++) pipeline.publish(PREFIX + 't', encodeFrame(otherNode, 't', Buffer.alloc(4096, 0x62), true));
    await pipeline.exec();
    const delivered = () => received.filter((m) => m.data.length === 4096).length;
    // Every message either delivered or counted as dropped.
    await until(() => delivered() + running.wss.stats().delivery.droppedMessages === 50);
    expect(running.wss.stats().delivery.droppedMessages).toBeGreaterThan(0);
    expect(errors.map((e) => e.code)).toEqual(['WS_ERR_INBOUND_OVER_BUDGET']);
    // Once the queue is empty, a message goes out again.
    await until(() => running.wss.stats().delivery.queuedBytes === 0);
    await publishRaw('t', Buffer.from('small'), false);
    await until(() => received.some((m) => m.data.toString() === 'small'));
    expect(running.wss.stats().delivery.droppedMessages).toBe(50 - delivered());
  });

  /** 40 subscribers of topic t on a node started with `options`; a message from another node reaches every one, nothing is dropped, and the queue empties. */
  async function expectDeliveredToForty(options: AttachWsOptions, data: Buffer, isBinary: boolean): Promise<void> {
    const { running, received } = await start(options);
    const others = await Promise.all(Array.from({ length: 39 }, () => openClient(`${running.url}/sub`)));
    apps.track(() => others.forEach((c) => c.terminate()));
    await until(() => running.wss.subscriberCount('t') === 40);
    const got = others.map(() => 0);
    others.forEach((c, i) => c.on('message', (message: Buffer) => { if (message.equals(data)) got[i]!++; }));
    await publishRaw('t', data, isBinary);
    await until(() => got.every((n) => n === 1) && received.some((m) => m.data.equals(data)));
    expect(running.wss.stats().delivery.droppedMessages).toBe(0);
    await until(() => running.wss.stats().delivery.queuedBytes === 0);
  }

  it('delivers a message to a large topic when its frame once plus each delivery\'s overhead fits, though one frame per subscriber would not', async () => {
    // 40 subscribers of a 16 KiB message: 16 KiB + 40 × 512 B ≈ 36 KiB held, within a 64 KiB topic
    // share of a 128 KiB budget; charged per subscriber it would be 40 × 16.5 KiB = 660 KiB.
    await expectDeliveredToForty({ deliveryBudget: { limit: 128 * 1024 } }, Buffer.alloc(16 * 1024, 0x64), true);
  });

  it('delivers a message to a topic whose fan-out alone passes its share of the budget when nothing is queued, as a local publish would go out', async () => {
    // 40 subscribers × 512 B = 20 KiB, over the 16 KiB topic share of a 32 KiB budget: with nothing
    // queued it goes out whole (else a topic with more than topicLimit / 512 subscribers would
    // never get a message from another node).
    await expectDeliveredToForty({ deliveryBudget: { limit: 32 * 1024 } }, Buffer.from('to everyone'), false);
  });

  it('reconnects, resubscribes and counts the gap when Redis drops the subscriber over its pubsub output limit', async () => {
    const { running, received, adapter } = await start({});
    const admin = new Redis(redis.url);
    try {
      // Redis disconnects a pub/sub client once more than 64 KiB wait for it:
      // one 256 KiB message is more than that before Redis writes a byte of it.
      await admin.config('SET', 'client-output-buffer-limit', 'pubsub 65536 0 0');
      await publishRaw('t', Buffer.alloc(256 * 1024, 0x63), true);
      await until(() => adapter.gaps > 0);
      await admin.config('SET', 'client-output-buffer-limit', 'pubsub 33554432 8388608 60');
      // The adapter reconnected and subscribed again: a message published now arrives.
      const before = received.length;
      for (let i = 0; received.length === before && i < 250; i++) {
        await publishRaw('t', Buffer.from(`again ${i}`), false);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(received.slice(before)[0]!.data.toString()).toMatch(/^again /);
      expect(adapter.gaps).toBe(1);
      expect(running.wss.stats().delivery.adapterGaps).toBe(1);
    } finally {
      await admin.config('SET', 'client-output-buffer-limit', 'pubsub 33554432 8388608 60');
      await admin.quit();
    }
  });
});

function notProbes(received: Array<{ data: Buffer }>): string[] {
  return received.map((m) => m.data.toString()).filter((text) => !text.startsWith('probe '));
}

/** Polls `condition`; gives up (the test fails) after `ms`, so a failing test never leaves a loop behind. */
async function until(condition: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms: ${condition.toString()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

import { createHook } from 'node:async_hooks';
import net from 'node:net';
import Redis from 'ioredis';
import { redisAdapter, type RedisAdapter, type RedisAdapterError } from 'attach-ws/redis';
import { findService } from '../helpers/services';
import { startRedis, type RedisServer } from '../helpers/redis-server';

// Loud skip without redis-server; a failure under CI=true (see findService).
const describeRedis = findService('redis-server') ? describe : describe.skip;

interface Delivery {
  topic: string;
  data: Buffer;
  isBinary: boolean;
}

/** One "node": an adapter attached to hooks that record what the server would see. */
interface Node {
  adapter: RedisAdapter;
  received: Delivery[];
  errors: RedisAdapterError[];
}

const SYNC = '__sync__';

describeRedis('redisAdapter', () => {
  let redis: RedisServer;
  const open: Node[] = [];
  /** `dropped` after the last barrier: probes sent before the connection was up. */
  const baseline = new Map<Node, number>();

  beforeAll(async () => {
    redis = (await startRedis())!;
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((n) => n.adapter.close()));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  function node(options: Parameters<typeof redisAdapter>[0] = {}, deliver?: (d: Delivery) => void): Node {
    const n: Node = { adapter: redisAdapter({ url: redis.url, ...options }), received: [], errors: [] };
    n.adapter.attach({
      deliver: (topic, data, isBinary) => {
        const d = { topic, data: Buffer.from(data), isBinary };
        deliver?.(d);
        n.received.push(d);
      },
      error: (err) => n.errors.push(err as RedisAdapterError),
    });
    open.push(n);
    return n;
  }

  /**
   * Barrier: publish probes on `from` until `to` receives one. When a probe
   * arrives, both connections are up and every SUBSCRIBE `to` issued before
   * (same connection, in order) has taken effect. Probes are then forgotten.
   */
  async function synced(from: Node, to: Node): Promise<void> {
    to.adapter.subscribe(SYNC);
    const marker = `probe ${Math.random()}`;
    await waitFor(() => {
      from.adapter.publish(SYNC, Buffer.from(marker), false);
      return to.received.some((d) => d.topic === SYNC && d.data.toString() === marker);
    });
    await flushed(from, to);
    // Probes published before the connections were up were dropped, and reported: forget those.
    for (const n of [from, to]) n.errors = n.errors.filter((e) => e.code !== 'WS_ERR_REDIS_DROPPED');
    baseline.set(from, from.adapter.dropped);
  }

  /** Everything `from` published so far has reached `to` (one more probe, in order behind it). */
  async function flushed(from: Node, to: Node): Promise<void> {
    const marker = `flush ${Math.random()}`;
    from.adapter.publish(SYNC, Buffer.from(marker), false);
    await waitFor(() => to.received.some((d) => d.topic === SYNC && d.data.toString() === marker));
    for (const n of [from, to]) n.received = n.received.filter((d) => d.topic !== SYNC);
  }

  it('delivers 1,000 publishes from A on B exactly once and in order, text and binary, never back on A', async () => {
    const a = node();
    const b = node();
    a.adapter.subscribe('room:1'); // A has local subscribers too: it must not get its own publishes back
    b.adapter.subscribe('room:1');
    await synced(a, b);

    const sent: Delivery[] = [];
    for (let i = 0; i < 1000; i++) {
      const isBinary = i % 2 === 1;
      const data = isBinary ? Buffer.from([i >> 8, i & 0xff, 0x00, 0xff, 0x80]) : Buffer.from(`message ${i} ✓`);
      sent.push({ topic: 'room:1', data, isBinary });
    }
    sent.push({ topic: 'room:1', data: Buffer.alloc(0), isBinary: false }); // empty
    sent.push({ topic: 'room:1', data: Buffer.alloc(1024 * 1024, 0xab), isBinary: true }); // 1 MiB
    for (const m of sent) a.adapter.publish(m.topic, m.data, m.isBinary);

    await waitFor(() => b.received.length >= sent.length);
    await flushed(a, b); // anything extra (a duplicate) would have arrived by now
    // Compare digests: a deep equality over 1 MiB of Buffer elements takes seconds.
    const digest = (ds: Delivery[]) => ds.map((d) => [d.topic, d.isBinary, d.data.length, d.data.toString('base64').slice(0, 64)]);
    expect(digest(b.received)).toEqual(digest(sent));
    expect(b.received.every((d, i) => d.data.equals(sent[i]!.data))).toBe(true);
    expect(a.received).toEqual([]);
    expect(a.errors).toEqual([]);
    expect(b.errors).toEqual([]);
    expect(a.adapter.dropped).toBe(baseline.get(a));
  });

  it('keeps each publisher’s order when two nodes publish to a third at the same time', async () => {
    const a = node();
    const c = node();
    const b = node();
    b.adapter.subscribe('t');
    await synced(a, b);
    await synced(c, b);
    for (let i = 0; i < 500; i++) {
      a.adapter.publish('t', Buffer.from(`a${i}`), false);
      c.adapter.publish('t', Buffer.from(`c${i}`), false);
    }
    await waitFor(() => b.received.length >= 1000);
    const got = b.received.map((d) => d.data.toString());
    expect(got.filter((s) => s.startsWith('a'))).toEqual(Array.from({ length: 500 }, (_, i) => `a${i}`));
    expect(got.filter((s) => s.startsWith('c'))).toEqual(Array.from({ length: 500 }, (_, i) => `c${i}`));
  });

  it('does not deliver topics the node is not subscribed to', async () => {
    const a = node();
    const b = node();
    b.adapter.subscribe('wanted');
    await synced(a, b);
    a.adapter.publish('other', Buffer.from('no'), false);
    a.adapter.publish('wanted', Buffer.from('yes'), false);
    await waitFor(() => b.received.length > 0);
    await flushed(a, b);
    expect(b.received.map((d) => [d.topic, d.data.toString()])).toEqual([['wanted', 'yes']]);
  });

  it('subscribes in Redis only while there are local subscribers, and stops delivering after unsubscribe', async () => {
    const a = node();
    const b = node();
    const channel = 'attach-ws:room:2';
    expect(await numsub(channel)).toBe(0);
    b.adapter.subscribe('room:2');
    await synced(a, b);
    expect(await numsub(channel)).toBe(1);

    a.adapter.publish('room:2', Buffer.from('before'), false);
    await waitFor(() => b.received.length === 1);
    b.adapter.unsubscribe('room:2');
    a.adapter.publish('room:2', Buffer.from('after'), false);
    await flushed(a, b);
    expect(b.received.map((d) => d.data.toString())).toEqual(['before']);
    await waitFor(async () => (await numsub(channel)) === 0);
  });

  it('keeps apart adapters with different channel prefixes', async () => {
    const a = node({ channelPrefix: 'app-one:' });
    const b = node({ channelPrefix: 'app-two:' });
    const b2 = node({ channelPrefix: 'app-two:' });
    b.adapter.subscribe('t');
    await synced(b2, b); // b is connected and subscribed
    a.adapter.publish('t', Buffer.from('other app'), false);
    b2.adapter.publish('t', Buffer.from('same app'), false);
    await waitFor(() => b.received.length > 0);
    await flushed(b2, b);
    expect(b.received.map((d) => d.data.toString())).toEqual(['same app']);
    expect(await numsub('app-two:t')).toBe(1);
  });

  it('drops, counts and reports once what exceeds maxPendingBytes, but sends one oversized message alone', async () => {
    const a = node({ maxPendingBytes: 10_000 });
    const b = node();
    b.adapter.subscribe('t');
    await synced(a, b);
    const dropsBefore = a.adapter.dropped;
    a.adapter.publish('t', Buffer.alloc(50_000, 1), true); // alone: goes out
    for (let i = 0; i < 100; i++) a.adapter.publish('t', Buffer.alloc(1000, 2), true); // same tick: the bound applies
    const dropped = a.adapter.dropped - dropsBefore; // decided synchronously, in publish()
    expect(dropped).toBeGreaterThan(0);
    await waitFor(() => b.received.length === 101 - dropped);
    const sizes = b.received.map((d) => d.data.length);
    expect(sizes[0]).toBe(50_000);
    expect(sizes.slice(1).every((n) => n === 1000)).toBe(true);
    expect(a.errors.map((e) => e.code)).toEqual(['WS_ERR_REDIS_DROPPED']);
    expect(a.errors[0]!.message).toMatch(/bytes are waiting for Redis/);
  });

  it('reports and ignores a message on its channel that is not an attach-ws frame', async () => {
    const a = node();
    const b = node();
    b.adapter.subscribe('t');
    await synced(a, b);
    await withClient((c) => c.publish('attach-ws:t', 'plain text from someone else'));
    a.adapter.publish('t', Buffer.from('real'), false);
    await waitFor(() => b.received.length > 0);
    expect(b.received.map((d) => d.data.toString())).toEqual(['real']);
    expect(b.errors.map((e) => e.code)).toEqual(['WS_ERR_REDIS_BAD_FRAME']);
  });

  it('reports a throwing deliver hook and goes on delivering', async () => {
    const a = node();
    const b = node({}, (d) => {
      if (d.data.toString() === 'boom') throw new Error('handler bug');
    });
    b.adapter.subscribe('t');
    await synced(a, b);
    a.adapter.publish('t', Buffer.from('boom'), false);
    a.adapter.publish('t', Buffer.from('next'), false);
    await waitFor(() => b.received.some((d) => d.data.toString() === 'next'));
    expect(b.errors.map((e) => e.code)).toEqual(['WS_ERR_REDIS_DELIVER']);
  });

  it('duplicates a given ioredis client and leaves that client alone', async () => {
    const client = new Redis(redis.url, { lazyConnect: true });
    try {
      const a = node({ url: undefined, client });
      const b = node();
      b.adapter.subscribe('t');
      await synced(a, b);
      expect(client.status).toBe('wait'); // never connected: the adapter used its own duplicates
      await a.adapter.close();
      expect(client.status).toBe('wait');
    } finally {
      client.disconnect();
    }
  });

  it('survives a Redis restart mid-stream: reports, never throws, drops while down, resumes in order, resubscribes what changed meanwhile', async () => {
    const a = node();
    const b = node();
    b.adapter.subscribe('stream');
    b.adapter.subscribe('gone');
    await synced(a, b);

    // A steady stream of numbered publishes, every 2 ms, across the restart.
    let seq = 0;
    const thrown: unknown[] = [];
    const timer = setInterval(() => {
      try {
        a.adapter.publish('stream', Buffer.from(String(seq++)), false);
      } catch (err) {
        thrown.push(err);
      }
    }, 2);
    try {
      await waitFor(() => b.received.length >= 50);
      await redis.restart(300);
      // While it was down, B's topics changed: one added, one removed.
      b.adapter.subscribe('late');
      b.adapter.unsubscribe('gone');
      const resumedFrom = seq;
      await waitFor(() => b.received.some((d) => Number(d.data.toString()) > resumedFrom + 50), 15_000);
    } finally {
      clearInterval(timer);
    }
    expect(thrown).toEqual([]);

    const seqs = b.received.map((d) => Number(d.data.toString()));
    // In order and at most once: strictly increasing. Something was lost while down.
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
    expect(seqs.length).toBeLessThan(seq);
    expect(a.adapter.dropped).toBeGreaterThan(baseline.get(a)!);

    const codes = (n: Node) => new Set(n.errors.map((e) => e.code));
    expect(codes(a)).toEqual(new Set(['WS_ERR_REDIS_CONNECTION', 'WS_ERR_REDIS_DROPPED']));
    expect(codes(b)).toEqual(new Set(['WS_ERR_REDIS_CONNECTION']));
    // Once per outage, not once per reconnect attempt.
    expect(a.errors.filter((e) => e.code === 'WS_ERR_REDIS_CONNECTION')).toHaveLength(1);

    // The subscriber came back with exactly the current topics.
    await synced(a, b);
    expect(await numsub('attach-ws:late')).toBe(1);
    expect(await numsub('attach-ws:gone')).toBe(0);
    a.adapter.publish('late', Buffer.from('subscribed while Redis was down'), false);
    await waitFor(() => b.received.some((d) => d.topic === 'late'));
  }, 30_000);

  it('does not throw while Redis is unreachable from the start, and closes cleanly while retrying', async () => {
    const port = await closedPort();
    const resources = trackResources();
    const n = node({ url: `redis://127.0.0.1:${port}` });
    n.adapter.subscribe('t');
    expect(() => n.adapter.publish('t', Buffer.from('x'), false)).not.toThrow();
    await waitFor(() => n.errors.some((e) => e.code === 'WS_ERR_REDIS_CONNECTION'));
    await new Promise((r) => setTimeout(r, 200)); // a few retries later
    expect(n.errors.filter((e) => e.code === 'WS_ERR_REDIS_CONNECTION')).toHaveLength(1);
    expect(n.adapter.dropped).toBe(1);
    await n.adapter.close();
    expect(await resources.stop()).toEqual([]); // the retry timer is gone, and no socket is left
  });

  it('close() quits both connections, is idempotent, and leaves no socket or timer behind', async () => {
    const resources = trackResources();
    const a = node();
    const b = node();
    b.adapter.subscribe('t');
    await synced(a, b);
    expect(resources.live().filter((t) => t === 'TCPWRAP')).toHaveLength(4);

    a.adapter.publish('t', Buffer.from('last words'), false);
    await Promise.all([a.adapter.close(), b.adapter.close(), a.adapter.close()]);
    expect(() => a.adapter.publish('t', Buffer.from('after close'), false)).not.toThrow();
    expect(await resources.stop()).toEqual([]);
    expect(await clientCount()).toBe(0);
  });

  it('opens nothing until attached, and closes an unattached adapter at once', async () => {
    const adapter = redisAdapter({ url: redis.url });
    await adapter.close();
    expect(await clientCount()).toBe(0);
  });

  it('throws a clear error naming ioredis when it is not installed', () => {
    jest.isolateModules(() => {
      jest.doMock('ioredis', () => {
        throw Object.assign(new Error("Cannot find module 'ioredis'"), { code: 'MODULE_NOT_FOUND' });
      });
      const { redisAdapter: isolated } = require('../../src/pubsub/redis-adapter') as typeof import('../../src/pubsub/redis-adapter');
      let err: RedisAdapterError | undefined;
      try {
        isolated({ url: redis.url });
      } catch (e) {
        err = e as RedisAdapterError;
      }
      expect(err?.code).toBe('WS_ERR_REDIS_MISSING');
      expect(err?.message).toMatch(/"ioredis".*npm install ioredis/);
    });
    jest.dontMock('ioredis');
  });

  // --- helpers that talk to Redis directly -------------------------------------

  async function withClient<T>(fn: (c: Redis) => Promise<T>): Promise<T> {
    const c = new Redis(redis.url);
    try {
      return await fn(c);
    } finally {
      const ended = new Promise((r) => c.once('end', r));
      await c.quit();
      await ended; // the socket is closed, not only QUIT answered
    }
  }

  async function numsub(channel: string): Promise<number> {
    const reply = (await withClient((c) => c.pubsub('NUMSUB', channel))) as [string, number];
    return Number(reply[1]);
  }

  /** Clients connected to Redis other than the one asking. */
  async function clientCount(): Promise<number> {
    const list = await withClient((c) => c.client('LIST') as Promise<string>);
    return list.trim().split('\n').length - 1;
  }
});

async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms: ${cond.toString()}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Sockets and timers the adapter (or ioredis) creates from now on that are
 * still alive (created, not yet destroyed) when asked: what close() left behind.
 */
function trackResources(): { live(): string[]; stop(): Promise<string[]> } {
  const alive = new Map<number, string>();
  const hook = createHook({
    init(id, type) {
      if (type !== 'TCPWRAP' && type !== 'Timeout') return;
      // Only what the adapter and ioredis create (in-band Jest has timers of its own).
      const stack = new Error().stack ?? '';
      if (/node_modules[\\/]ioredis|src[\\/]pubsub/.test(stack)) alive.set(id, type);
    },
    destroy(id) {
      alive.delete(id);
    },
  }).enable();
  const live = () => [...alive.values()];
  return {
    live,
    async stop() {
      // Destroy hooks are emitted in batches, after the current turn of the event loop.
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      hook.disable();
      return live();
    },
  };
}

/** A port nothing listens on (listened on, then closed). */
function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

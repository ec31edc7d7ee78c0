/**
 * `attach-ws/redis`: carry topic publishes between processes through Redis
 * pub/sub. The only module that touches `ioredis` (an optional peer
 * dependency); the main entry never imports it.
 *
 * One adapter = one node = two Redis connections: a publisher, and a
 * subscriber (a connection in subscriber mode can do nothing else).
 *
 * Delivery is at most once and, per publishing node, in publish order:
 * - A publish becomes one frame (./redis-frame.ts) carrying the node's random
 *   id, published on the channel `channelPrefix + topic`. Publishes of one
 *   tick go out as one pipeline on the one publisher connection, so Redis sees
 *   them in order, and Redis delivers one connection's publishes in order.
 * - A node drops frames carrying its own id: the server already delivered
 *   them locally.
 * - A node SUBSCRIBEs to a topic's channel only while it has local
 *   subscribers (the server calls `subscribe` / `unsubscribe` on the first /
 *   last one) and delivers only topics it is subscribed to.
 * - While Redis is unreachable, publishes are DROPPED, not queued (counted in
 *   `dropped`, reported once per outage). Queueing would not help: the other
 *   nodes' subscriber connections are down too and Redis pub/sub keeps nothing.
 *   What is buffered towards a slow Redis is bounded by `maxPendingBytes`.
 *   Publishes unanswered when a connection drops are not resent (a resend
 *   could deliver twice).
 * - Connections retry forever with a backoff capped near 1 s; on every
 *   (re)connect the subscriber subscribes to exactly the current local
 *   topics (ioredis's own autoResubscribe would replay the topics of the old
 *   connection and miss changes made while Redis was down).
 * - Inbound, the subscriber connection is never paused: a stalled reader
 *   makes Redis drop it (`client-output-buffer-limit pubsub`, 32 MiB by
 *   default). The server checks each message (maxPayload, UTF-8) and drops
 *   what does not fit its delivery budget, counted. If Redis drops the
 *   subscriber anyway, it reconnects like after any outage and counts the
 *   gap (`gaps`): what was published meanwhile is lost for this node.
 * - Nothing here throws at run time: problems go to the server's `error`
 *   hook and to `onError`; a stream of foreign frames is reported at most
 *   once per 10 s.
 */

import { randomBytes } from 'node:crypto';
import type { Redis, RedisOptions } from 'ioredis';
import { RedisAdapterError, type RedisAdapterErrorCode } from '../errors';
import type { AdapterHooks, PubSubAdapter } from './adapter';
import { REPORT_INTERVAL_MS, RateLimitedReport, suppressedSince } from './rate-limited-report';
import { decodeFrame, encodeFrame, isFromNode, NODE_ID_LENGTH } from './redis-frame';

export interface RedisAdapterOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. Default: ioredis's default, 127.0.0.1:6379. */
  url?: string;
  /**
   * A configured ioredis client (TLS, auth, sentinel, …) to copy: the adapter
   * opens its own two connections with `client.duplicate()` and leaves this
   * one alone. Takes precedence over `url`.
   */
  client?: Redis;
  /** Prepended to every topic to make the Redis channel name. Default `'attach-ws:'`. */
  channelPrefix?: string;
  /** Also called with every problem reported to the server's `error` hook. Must not throw. */
  onError?: (err: Error) => void;
  /**
   * Bytes of publishes that may be on their way to Redis (batched or
   * written but not yet acknowledged) before further publishes are dropped.
   * One message larger than this is still sent when nothing else is pending.
   * Default 8 MiB.
   */
  maxPendingBytes?: number;
}

/** What `redisAdapter()` returns: a `PubSubAdapter` plus a little introspection. */
export interface RedisAdapter extends PubSubAdapter {
  /** This node's random id (hex); other nodes see it in every frame. */
  readonly nodeId: string;
  /** Publishes not carried to Redis (unreachable, or over `maxPendingBytes`) since creation. */
  readonly dropped: number;
  /**
   * Times the subscriber connection was lost after it had been subscribed
   * (Redis restarted, the network failed, or Redis dropped a subscriber that
   * fell behind): each is a gap in which other nodes' messages were lost.
   */
  readonly gaps: number;
  /** Messages on our channels that were not attach-ws frames (ignored). */
  readonly badFrames: number;
}

// The adapter's errors are in the one catalogue (src/errors.ts); exported here too.
export { RedisAdapterError, type RedisAdapterErrorCode };

const DEFAULT_PREFIX = 'attach-ws:';
const DEFAULT_MAX_PENDING_BYTES = 8 * 1024 * 1024;
/** Publishes per pipeline before a batch is written without waiting for the tick to end. */
const MAX_BATCH = 512;
/** Channels per SUBSCRIBE command when resubscribing. */
const SUBSCRIBE_CHUNK = 1000;
/** How long `close()` lets QUIT take before cutting the connection. */
const QUIT_TIMEOUT_MS = 2000;

/** Reconnect after 50, 100, 200, 400, 800, then every 1000 ms, plus up to 100 ms jitter; forever. */
function retryDelay(times: number): number {
  return Math.min(50 * 2 ** Math.min(times - 1, 5), 1000) + Math.floor(Math.random() * 100);
}

/**
 * A `PubSubAdapter` over Redis pub/sub, so `ws.subscribe(topic)` and
 * `wss.publish(topic, data)` work across processes and machines.
 *
 * @example
 * import { attachWs } from 'attach-ws';
 * import { redisAdapter } from 'attach-ws/redis';
 *
 * const wss = attachWs(app, server, {
 *   adapter: redisAdapter({ url: process.env.REDIS_URL, onError: (err) => console.warn(err.message) }),
 * });
 */
export function redisAdapter(options: RedisAdapterOptions = {}): RedisAdapter {
  return new RedisPubSub(options);
}

type RedisConstructor = typeof import('ioredis').default;

function loadIoredis(): RedisConstructor {
  let mod: typeof import('ioredis');
  try {
    mod = require('ioredis') as typeof import('ioredis');
  } catch (err) {
    throw new RedisAdapterError('WS_ERR_REDIS_MISSING', undefined, { cause: err });
  }
  return mod.default ?? (mod as unknown as RedisConstructor);
}

class RedisPubSub implements RedisAdapter {
  readonly nodeId: string;
  #id: Buffer;
  #prefix: string;
  #onError: ((err: Error) => void) | undefined;
  #maxPendingBytes: number;
  #hooks: AdapterHooks | undefined;
  #pub: Redis;
  #sub: Redis;

  /** Topics with local subscribers: what the subscriber connection must be subscribed to. */
  #topics = new Set<string>();

  /** Alternating channel, frame: the publishes of this tick. */
  #batch: Array<string | Buffer> = [];
  #batchBytes = 0;
  #flushQueued = false;
  /** Written to the publisher connection, not yet acknowledged. */
  #inFlightBytes = 0;
  /** Bumped when the publisher connection closes: its unacknowledged writes are gone. */
  #pubGeneration = 0;

  #dropped = 0;
  #gaps = 0;
  #badFrames = 0;
  #badFrameReport: RateLimitedReport;
  /** The subscriber connection is up: losing it now opens a gap. */
  #subscribed = false;
  #dropReported = false;
  #outageReported = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RedisAdapterOptions) {
    const Redis = loadIoredis();
    this.#id = randomBytes(NODE_ID_LENGTH);
    this.nodeId = this.#id.toString('hex');
    this.#prefix = options.channelPrefix ?? DEFAULT_PREFIX;
    this.#onError = options.onError;
    this.#maxPendingBytes = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.#badFrameReport = new RateLimitedReport(REPORT_INTERVAL_MS, (suppressed) => {
      this.#report(
        new RedisAdapterError(
          'WS_ERR_REDIS_BAD_FRAME',
          `ignored a message on Redis channel "${this.#lastBadChannel}" that is not an attach-ws frame${suppressedSince(suppressed)}`,
        ),
      );
    });

    const common: RedisOptions = {
      lazyConnect: true, // connect in attach(): an adapter never attached opens nothing
      retryStrategy: retryDelay,
      enableOfflineQueue: false, // drop while down, never an unbounded queue
      autoResendUnfulfilledCommands: false, // a resent PUBLISH may deliver twice
      // disconnect() ends a socket with a timer to destroy it later; close() only
      // disconnects when QUIT is impossible, so destroy at once and leave no timer.
      disconnectTimeout: 0,
    };
    const tag = this.nodeId.slice(0, 8);
    const pubOptions: RedisOptions = { ...common, connectionName: `attach-ws:pub:${tag}` };
    const subOptions: RedisOptions = { ...common, connectionName: `attach-ws:sub:${tag}`, autoResubscribe: false };
    const make = (opts: RedisOptions): Redis =>
      options.client ? options.client.duplicate(opts) : options.url ? new Redis(options.url, opts) : new Redis(opts);
    this.#pub = make(pubOptions);
    this.#sub = make(subOptions);
    this.#watch(this.#pub, 'publisher');
    this.#watch(this.#sub, 'subscriber');
    this.#sub.on('messageBuffer', (channel: Buffer, message: Buffer) => this.#onMessage(channel, message));
  }

  get dropped(): number {
    return this.#dropped;
  }

  get gaps(): number {
    return this.#gaps;
  }

  get badFrames(): number {
    return this.#badFrames;
  }

  attach(hooks: AdapterHooks): void {
    if (this.#hooks) throw new Error('redisAdapter: attach() called twice; use one adapter per server');
    this.#hooks = hooks;
    if (this.#closed) return;
    // Failures surface as 'error' events (reported there) and are retried by retryStrategy.
    this.#pub.connect().catch(noop);
    this.#sub.connect().catch(noop);
  }

  subscribe(topic: string): void {
    if (this.#closed || this.#topics.has(topic)) return;
    this.#topics.add(topic);
    // Not ready: the 'ready' handler subscribes to every topic in #topics.
    if (this.#sub.status === 'ready') this.#sub.subscribe(this.#prefix + topic).catch(this.#onSubscriberCommandError);
  }

  unsubscribe(topic: string): void {
    if (this.#closed || !this.#topics.delete(topic)) return;
    // Not ready: the next connection simply won't subscribe to it.
    if (this.#sub.status === 'ready') this.#sub.unsubscribe(this.#prefix + topic).catch(this.#onSubscriberCommandError);
  }

  publish(topic: string, data: Buffer, isBinary: boolean): void {
    if (this.#closed) return;
    if (this.#pub.status !== 'ready') return this.#drop(1);
    const frame = encodeFrame(this.#id, topic, data, isBinary);
    const pending = this.#inFlightBytes + this.#batchBytes;
    // Over the bound: drop. (A message bigger than the bound alone still goes when nothing is pending.)
    if (pending > 0 && pending + frame.length > this.#maxPendingBytes) return this.#drop(1);
    this.#dropReported = false; // a publish got through: the next drop starts a new episode
    this.#batch.push(this.#prefix + topic, frame);
    this.#batchBytes += frame.length;
    if (this.#batch.length >= 2 * MAX_BATCH) this.#flush();
    else if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(this.#flush);
    }
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    this.#flush(); // what was published before close() still goes out, ahead of QUIT
    this.#closed = true;
    this.#topics.clear();
    this.#closing = Promise.all([endConnection(this.#pub), endConnection(this.#sub)]).then(() => {
      this.#pub.removeAllListeners();
      this.#sub.removeAllListeners();
    });
    return this.#closing;
  }

  /** Write this tick's publishes as one pipeline: one write, in order. */
  #flush = (): void => {
    this.#flushQueued = false;
    const batch = this.#batch;
    if (batch.length === 0) return;
    const bytes = this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    if (this.#pub.status !== 'ready') return this.#drop(batch.length / 2);

    const generation = this.#pubGeneration;
    this.#inFlightBytes += bytes;
    const settled = () => {
      if (generation === this.#pubGeneration) this.#inFlightBytes -= bytes;
    };
    let sent: Promise<unknown>;
    if (batch.length === 2) {
      sent = this.#pub.publish(batch[0]!, batch[1]!);
    } else {
      const pipeline = this.#pub.pipeline();
      for (let i = 0; i < batch.length; i += 2) pipeline.publish(batch[i]!, batch[i + 1]!);
      sent = pipeline.exec().then((results) => {
        const failed = results?.find(([err]) => err);
        if (failed) throw failed[0];
      });
    }
    sent.then(settled, (err: unknown) => {
      settled();
      // A connection loss is reported by the connection's events, once.
      if (this.#pub.status === 'ready' && !this.#closed) {
        this.#report(new RedisAdapterError('WS_ERR_REDIS_COMMAND', `PUBLISH: ${errorMessage(err)}`, { cause: err }));
      }
    });
  };

  #drop(count: number): void {
    this.#dropped += count;
    if (this.#dropReported) return;
    this.#dropReported = true;
    const why = this.#pub.status === 'ready' ? `more than ${this.#maxPendingBytes} bytes are waiting for Redis` : 'Redis is unreachable';
    this.#report(new RedisAdapterError('WS_ERR_REDIS_DROPPED', why));
  }

  #lastBadChannel = '';

  #onMessage(channel: Buffer, message: Buffer): void {
    if (this.#closed || isFromNode(message, this.#id)) return;
    const frame = decodeFrame(message);
    const channelName = channel.toString();
    if (!frame || this.#prefix + frame.topic !== channelName) {
      this.#badFrames++;
      this.#lastBadChannel = channelName.length > 100 ? `${channelName.slice(0, 100)}…` : channelName;
      this.#badFrameReport.note();
      return;
    }
    // In flight when we unsubscribed: the topic has no local subscribers any more.
    if (!this.#topics.has(frame.topic) || !this.#hooks) return;
    try {
      this.#hooks.deliver(frame.topic, frame.data, frame.isBinary);
    } catch (err) {
      this.#report(new RedisAdapterError('WS_ERR_REDIS_DELIVER', `topic "${frame.topic}": ${errorMessage(err)}`, { cause: err }));
    }
  }

  #watch(conn: Redis, role: 'publisher' | 'subscriber'): void {
    const lost = (err?: Error) => {
      if (role === 'publisher') {
        this.#pubGeneration++; // unacknowledged publishes died with the connection
        this.#inFlightBytes = 0;
      } else if (this.#subscribed) {
        // Whatever other nodes publish until we are subscribed again is lost for us.
        this.#subscribed = false;
        if (!this.#closed) this.#gaps++;
      }
      if (this.#closed || this.#outageReported) return;
      this.#outageReported = true;
      this.#report(new RedisAdapterError('WS_ERR_REDIS_CONNECTION', `${role} connection ${err ? `failed: ${err.message}` : 'closed'}`, { cause: err }));
    };
    conn.on('error', (err: Error) => lost(err));
    conn.on('close', () => lost());
    conn.on('ready', () => {
      if (this.#closed) return;
      if (this.#pub.status === 'ready' && this.#sub.status === 'ready') this.#outageReported = false;
      if (role === 'subscriber') {
        this.#subscribed = true;
        this.#resubscribe();
      }
    });
  }

  /** A fresh subscriber connection: subscribe to exactly the current local topics. */
  #resubscribe(): void {
    const channels = [...this.#topics].map((t) => this.#prefix + t);
    for (let i = 0; i < channels.length; i += SUBSCRIBE_CHUNK) {
      this.#sub.subscribe(...channels.slice(i, i + SUBSCRIBE_CHUNK)).catch(this.#onSubscriberCommandError);
    }
  }

  #onSubscriberCommandError = (err: unknown): void => {
    // Lost connection: the next 'ready' resubscribes everything, and the loss is reported once.
    if (this.#closed || this.#sub.status !== 'ready') return;
    this.#report(new RedisAdapterError('WS_ERR_REDIS_COMMAND', `(UN)SUBSCRIBE: ${errorMessage(err)}`, { cause: err }));
  };

  #report(err: Error): void {
    try {
      this.#hooks?.error(err);
    } catch {
      // hooks.error must not throw; if it does, the adapter still must not.
    }
    try {
      this.#onError?.(err);
    } catch {
      // same
    }
  }
}

/** QUIT (so replies still due arrive first), or cut the connection; resolve once it has ended. */
async function endConnection(conn: Redis): Promise<void> {
  if (conn.status === 'end') return;
  if (conn.status === 'reconnecting') {
    // Between attempts there is no socket, only the retry timer: disconnect()
    // clears it, and ioredis emits no 'end' from this state.
    conn.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 0)); // ioredis's 0 ms destroy timer
    return;
  }
  const ended = new Promise<void>((resolve) => conn.once('end', () => resolve()));
  if (conn.status === 'ready') {
    const timer = setTimeout(() => conn.disconnect(), QUIT_TIMEOUT_MS);
    try {
      await conn.quit();
    } catch {
      conn.disconnect();
    } finally {
      clearTimeout(timer);
    }
  } else {
    conn.disconnect();
  }
  await ended;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function noop(): void {}

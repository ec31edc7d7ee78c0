import diagnostics from 'node:diagnostics_channel';
import { getHeapStatistics } from 'node:v8';
import { kPausePublisher, kResumePublisher, type Publisher } from './topic-member';

/**
 * Flow control for topic fan-out: backpressure carried from the send side to
 * the read side.
 *
 * Every topic delivery charges its frame bytes here when it is handed to a
 * subscriber's socket, and they are released when the socket has passed them
 * to the kernel (the write's callback) or failed. So `queued` is exactly the
 * fan-out bytes this server holds in user space, across all sockets.
 *
 * Past the budget, the connection whose message is being handled when it
 * publishes is paused: its socket is no longer read, the kernel's receive
 * buffer fills, and TCP pushes back on the peer that floods. Below the
 * low-water mark every paused publisher is resumed. A message already read is
 * always delivered (nothing is lost or reordered for a subscriber that keeps
 * up), so the peak is the budget plus the fan-out of the message in hand.
 *
 * Messages from other nodes (the adapter) cannot be pushed back on without
 * stalling every topic of the Redis connection, and Redis pub/sub is
 * at-most-once anyway: those that would not fit are dropped and counted.
 */

/**
 * What a queued delivery holds besides its frame bytes (which are shared by
 * every subscriber of the message): the socket's write request and its
 * callback, about 0.5 KiB of heap (measured: RSS growth per delivery queued
 * in the overload bench with 100-byte messages). Charged per delivery, so
 * the budget bounds memory for small messages too, not only their bytes.
 */
export const DELIVERY_OVERHEAD_BYTES = 512;

/** Options for the server-wide delivery budget (`attachWs(..., { deliveryBudget })`). */
export interface DeliveryBudgetOptions {
  /** Bytes of topic fan-out that may wait in user space before publishers are paused. Default: see `defaultDeliveryBudget()`. */
  limit?: number;
  /** Paused publishers resume once queued bytes fall to this. Default `limit / 2`. */
  resumeAt?: number;
  /**
   * Publishers paused this long without the queue draining to `resumeAt`:
   * the bytes are held by subscribers that stopped reading, and the ones with
   * the largest backlogs are terminated until the rest would fit. Default 5 s.
   */
  stallTimeoutMs?: number;
}

export interface DeliveryStats {
  /** The budget, in bytes. */
  budget: number;
  /** Topic fan-out bytes handed to sockets and not yet passed to the kernel. */
  queuedBytes: number;
  /** The highest `queuedBytes` seen. */
  peakQueuedBytes: number;
  /** Connections not being read right now because they published past the budget. */
  pausedReaders: number;
  /** How many times a publisher was paused. */
  pauses: number;
  /** Messages from other nodes (the adapter) dropped: over the budget, over maxPayload, or invalid UTF-8. */
  droppedMessages: number;
  /** Deliveries those dropped messages would have made on this node. */
  droppedDeliveries: number;
  /** Subscribers terminated because their unread backlog kept publishers paused for `stallTimeoutMs`. */
  evictedSubscribers: number;
}

/** What `attach-ws:overload` subscribers receive. */
export interface OverloadEvent {
  type: 'pause' | 'resume' | 'drop';
  queuedBytes: number;
  budget: number;
  pausedReaders: number;
  /** For 'drop': why the message from another node was dropped. */
  reason?: 'budget' | 'maxPayload' | 'utf8';
  topic?: string;
}

/** `diagnostics_channel('attach-ws:overload')`: a publisher paused or resumed, an inbound message dropped. */
export const overloadChannel = diagnostics.channel('attach-ws:overload');

const MiB = 1024 * 1024;

/**
 * The default budget, sized for the machine: 1/64 of V8's heap limit (which
 * Node derives from the memory available), kept within 8–64 MiB. 64 MiB of
 * 100-byte messages is ~650,000 deliveries: enough to keep every socket's pipe
 * full between two event-loop turns, small enough that a backlog is a fraction
 * of a second of work.
 */
export function defaultDeliveryBudget(): number {
  return Math.min(64 * MiB, Math.max(8 * MiB, Math.floor(getHeapStatistics().heap_size_limit / 64)));
}

// The connection whose 'message' listeners are running: a publish made there
// is attributed to it. Set by the socket layer around its message dispatch.
let handling: Publisher | null = null;

/**
 * @internal Called by the socket layer around the dispatch of one message:
 * publishes made meanwhile come from `publisher`. Returns the previous value,
 * to restore (dispatch can nest: a listener that closes another socket).
 */
export function enterMessage(publisher: Publisher | null): Publisher | null {
  const previous = handling;
  handling = publisher;
  return previous;
}

/** The server-wide account of fan-out bytes waiting in user space. */
export class DeliveryBudget {
  readonly limit: number;
  readonly resumeAt: number;
  readonly stallTimeoutMs: number;
  readonly #onStall: () => number;
  #stallTimer: NodeJS.Timeout | null = null;
  #evicted = 0;
  #queued = 0;
  #peak = 0;
  #paused = new Set<Publisher>();
  #pauses = 0;
  #droppedMessages = 0;
  #droppedDeliveries = 0;
  #resumeScheduled = false;

  /** `onStall` evicts the subscribers holding the queue up; it returns how many. */
  constructor(options: DeliveryBudgetOptions = {}, onStall: () => number = () => 0) {
    this.limit = options.limit ?? defaultDeliveryBudget();
    this.resumeAt = Math.min(options.resumeAt ?? Math.floor(this.limit / 2), this.limit);
    this.stallTimeoutMs = options.stallTimeoutMs ?? 5_000;
    this.#onStall = onStall;
  }

  get queued(): number {
    return this.#queued;
  }

  /** Bytes handed to one subscriber's socket. */
  charge(bytes: number): void {
    const queued = (this.#queued += bytes);
    if (queued > this.#peak) this.#peak = queued;
  }

  /** A write callback that releases `bytes` once the socket passed them on (or failed). One per published message. */
  releaser(bytes: number): () => void {
    return () => this.#release(bytes);
  }

  /** Undo a charge whose write never happened (the subscriber was skipped). */
  refund(bytes: number): void {
    this.#release(bytes);
  }

  /**
   * After a publish was fanned out: past the budget, stop reading from the
   * connection that published it: the one whose message is being handled,
   * else the sender of a `ws.publish` (from a `for await` loop, say).
   * Publishes from timers or other async code have no such connection; their
   * bytes still count and pause the others.
   */
  afterPublish(sender: Publisher | undefined): void {
    if (this.#queued <= this.limit) return;
    const publisher = handling ?? sender ?? null;
    if (publisher === null || this.#paused.has(publisher)) return;
    this.#paused.add(publisher);
    this.#pauses++;
    this.#armStallTimer();
    publisher[kPausePublisher]();
    if (overloadChannel.hasSubscribers) this.#publishEvent('pause');
  }

  /** Would fanning `bytes` out now go past the budget? (For messages we cannot push back on.) */
  wouldExceed(bytes: number): boolean {
    return this.#queued + bytes > this.limit;
  }

  /** A message from another node was dropped before delivery. */
  dropped(deliveries: number, reason: 'budget' | 'maxPayload' | 'utf8', topic: string): void {
    this.#droppedMessages++;
    this.#droppedDeliveries += deliveries;
    if (overloadChannel.hasSubscribers) this.#publishEvent('drop', reason, topic);
  }

  /** A connection is gone: never resume it. */
  forget(publisher: Publisher): void {
    this.#paused.delete(publisher);
  }

  stats(): DeliveryStats {
    return {
      budget: this.limit,
      queuedBytes: this.#queued,
      peakQueuedBytes: this.#peak,
      pausedReaders: this.#paused.size,
      pauses: this.#pauses,
      droppedMessages: this.#droppedMessages,
      droppedDeliveries: this.#droppedDeliveries,
      evictedSubscribers: this.#evicted,
    };
  }

  /**
   * A pause that lasts: the queue is not draining, so what is queued belongs
   * to subscribers that stopped reading (a slow but reading one drains, and
   * the pause ends). They would keep every publisher paused until the
   * heartbeat drops them; instead the largest backlogs are terminated, which
   * releases their bytes. In a true overload every pause is short (the queue
   * drains to `resumeAt` in a fraction of a second) and this never fires.
   */
  #armStallTimer(): void {
    if (this.#stallTimer !== null) return;
    this.#stallTimer = setTimeout(this.#stalled, this.stallTimeoutMs);
    this.#stallTimer.unref();
  }

  readonly #stalled = (): void => {
    this.#stallTimer = null;
    if (this.#paused.size === 0 || this.#queued <= this.resumeAt) return;
    this.#evicted += this.#onStall();
    // Still over (nothing to evict, or not enough): look again after another interval.
    if (this.#paused.size > 0) this.#armStallTimer();
  };

  #release(bytes: number): void {
    this.#queued -= bytes;
    if (this.#paused.size === 0 || this.#resumeScheduled || this.#queued > this.resumeAt) return;
    // Not from inside a write callback: resuming decodes buffered frames at
    // once, and their fan-out would run in the middle of another socket's
    // completion callbacks.
    this.#resumeScheduled = true;
    setImmediate(this.#resumeAll);
  }

  readonly #resumeAll = (): void => {
    this.#resumeScheduled = false;
    if (this.#queued > this.resumeAt) return; // refilled meanwhile; a later release schedules again
    const paused = [...this.#paused];
    this.#paused.clear();
    if (this.#stallTimer !== null) clearTimeout(this.#stallTimer);
    this.#stallTimer = null;
    if (overloadChannel.hasSubscribers) this.#publishEvent('resume');
    // A resumed publisher may publish at once and pause again: that is the flow control working.
    for (const publisher of paused) publisher[kResumePublisher]();
  };

  #publishEvent(type: OverloadEvent['type'], reason?: OverloadEvent['reason'], topic?: string): void {
    const event: OverloadEvent = { type, queuedBytes: this.#queued, budget: this.limit, pausedReaders: this.#paused.size };
    if (reason !== undefined) event.reason = reason;
    if (topic !== undefined) event.topic = topic;
    overloadChannel.publish(event);
  }
}

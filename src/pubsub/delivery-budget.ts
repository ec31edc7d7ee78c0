import diagnostics from 'node:diagnostics_channel';
import { getHeapStatistics } from 'node:v8';
import { kPausePublisher, kResumePublisher, type Publisher, type TopicMember } from './topic-member';

/**
 * Flow control for topic fan-out: backpressure carried from the send side to
 * the read side.
 *
 * A publish is charged here for what it really holds in user space: its frame
 * bytes once (one buffer, shared by every subscriber) from the fan-out until
 * its last delivery has been passed to the kernel or failed, plus a fixed
 * overhead per delivery (the socket's write request) until that delivery's
 * write completes. So `queued` is the fan-out memory this server holds,
 * across all sockets, and each topic's share of it is known too.
 *
 * Past the budget, the connection whose message is being handled when it
 * publishes is paused: its socket is no longer read, the kernel's receive
 * buffer fills, and TCP pushes back on the peer that floods. Below the
 * low-water mark every paused publisher is resumed. A message already read is
 * always delivered (nothing is lost or reordered for a subscriber that keeps
 * up), so the peak is the budget plus the fan-out of the message in hand.
 *
 * One hot topic must not stop the publishers of the others: a topic may hold
 * at most `topicLimit` (half the budget by default). Past it, only the
 * connections publishing to that topic are paused, until the topic is down to
 * half its limit; the rest of the budget stays free for the other topics, and
 * their publishers are paused only when all topics together pass the budget.
 *
 * Messages from other nodes (the adapter) cannot be pushed back on without
 * stalling every topic of the Redis connection, and Redis pub/sub is
 * at-most-once anyway: those that would not fit are dropped and counted.
 */

/**
 * What a queued delivery holds besides the frame bytes (which are shared by
 * every subscriber of the message and charged once): the socket's write
 * request and its callback, about 0.5 KiB of heap (measured: RSS growth per
 * delivery queued in the overload bench with 100-byte messages). Charged per
 * delivery, so the budget bounds memory for small messages too.
 */
export const DELIVERY_OVERHEAD_BYTES = 512;

/** Options for the server-wide delivery budget (`attachWs(..., { deliveryBudget })`). */
export interface DeliveryBudgetOptions {
  /** Bytes of topic fan-out that may wait in user space before publishers are paused. Default: see `defaultDeliveryBudget()`. */
  limit?: number;
  /** Paused publishers resume once queued bytes fall to this. Default `limit / 2`. */
  resumeAt?: number;
  /**
   * Bytes one topic's fan-out may hold before the connections publishing to
   * that topic (only those) are paused; they resume at half of it. Default
   * `limit / 2`: a hot topic leaves at least half of the budget to the others.
   */
  topicLimit?: number;
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
  /** What one topic may hold before its publishers are paused. */
  topicBudget: number;
  /** Topic fan-out held in user space: each message's frame once, plus the per-delivery overhead, until passed to the kernel. */
  queuedBytes: number;
  /** The highest `queuedBytes` seen. */
  peakQueuedBytes: number;
  /** Connections not being read right now because they published past the budget (or past their topic's). */
  pausedReaders: number;
  /** Topics over their own budget right now, whose publishers are paused. */
  pausedTopics: number;
  /** How many times a publisher was paused. */
  pauses: number;
  /** Messages from other nodes (the adapter) dropped: over the budget, over maxPayload, or invalid UTF-8. */
  droppedMessages: number;
  /** Deliveries those dropped messages would have made on this node. */
  droppedDeliveries: number;
  /** Subscribers terminated because their unread backlog kept publishers paused for `stallTimeoutMs`. */
  evictedSubscribers: number;
  /**
   * With an adapter that reports them (Redis does): times its inbound
   * connection was lost and reconnected (e.g. Redis dropped a subscriber that
   * fell behind): gaps in which other nodes' messages were missed.
   */
  adapterGaps: number;
  /** With an adapter that reports them: local publishes it did not carry to other nodes. */
  adapterDropped: number;
}

/** What `attach-ws:overload` subscribers receive. */
export interface OverloadEvent {
  type: 'pause' | 'resume' | 'drop';
  queuedBytes: number;
  budget: number;
  pausedReaders: number;
  /** For 'drop': why the message from another node was dropped. */
  reason?: 'budget' | 'maxPayload' | 'utf8';
  /** For 'drop', and for the pause or resume of one topic's publishers: the topic. */
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


/**
 * One topic's share of the budget: what its fan-out holds now, and the
 * connections paused for publishing to it past `topicLimit`. Kept with the
 * topic's subscribers by the hub; a message in flight keeps its account even
 * if the topic is gone meanwhile.
 */
export class TopicAccount {
  queued = 0;
  /** Publishers paused for this topic (null: none, the common case). */
  paused: Set<Publisher> | null = null;
  /**
   * Subscribers that unsubscribed while bytes of this topic were still
   * queued for them: they may hold its queue up though no longer members
   * (null: none, the common case). Forgotten once the topic's queue is empty.
   */
  departed: Set<TopicMember> | null = null;
  constructor(readonly topic: string) {}
}

/** What a stall timer found: bytes over the resume mark, for one topic's account or (null) for the whole budget. */
export interface Stall {
  account: TopicAccount | null;
  queued: number;
  excess: number;
}

/**
 * The charge of one published message: its frame bytes once, plus the
 * overhead of each delivery. `written` is every delivery's write callback:
 * it releases that delivery's overhead, and the last one the frame. While the
 * fan-out loop runs the frame stays charged whatever completes (a failing
 * write may call back at once, before the next subscriber is written).
 */
export class FanOutCharge {
  #completed = 0;
  /** How many deliveries were made; -1 while the fan-out loop runs. */
  #delivered = -1;
  constructor(
    readonly budget: DeliveryBudget,
    readonly account: TopicAccount,
    readonly frameBytes: number,
  ) {}

  readonly written = (): void => {
    const last = ++this.#completed === this.#delivered;
    this.budget.release(this.account, last ? DELIVERY_OVERHEAD_BYTES + this.frameBytes : DELIVERY_OVERHEAD_BYTES);
  };

  /**
   * The fan-out loop is over: `delivered` of the `charged` deliveries were
   * handed to sockets (their callbacks release them); refund the rest, and
   * the frame too if every delivery has completed already (or none was made).
   */
  done(charged: number, delivered: number): void {
    this.#delivered = delivered;
    const bytes = (charged - delivered) * DELIVERY_OVERHEAD_BYTES + (this.#completed === delivered ? this.frameBytes : 0);
    if (bytes > 0) this.budget.release(this.account, bytes);
  }
}

/** The server-wide account of fan-out bytes waiting in user space. */
export class DeliveryBudget {
  readonly limit: number;
  readonly resumeAt: number;
  readonly topicLimit: number;
  readonly topicResumeAt: number;
  readonly stallTimeoutMs: number;
  readonly #onStall: (stalls: Stall[]) => number;
  #stallTimer: NodeJS.Timeout | null = null;
  #evicted = 0;
  #queued = 0;
  #peak = 0;
  /** Paused because everything together passed the limit. */
  #pausedGlobal = new Set<Publisher>();
  /** Topics whose own limit paused some publishers. */
  #pausedTopics = new Set<TopicAccount>();
  /** Why each paused publisher is paused: how many sets (global, topics) hold it. */
  #holds = new Map<Publisher, number>();
  #pauses = 0;
  #droppedMessages = 0;
  #droppedDeliveries = 0;
  #resumeScheduled = false;

  /** `onStall` evicts the subscribers holding the queue up; it returns how many. */
  constructor(options: DeliveryBudgetOptions = {}, onStall: (stalls: Stall[]) => number = () => 0) {
    this.limit = options.limit ?? defaultDeliveryBudget();
    this.resumeAt = Math.min(options.resumeAt ?? Math.floor(this.limit / 2), this.limit);
    this.topicLimit = Math.min(options.topicLimit ?? Math.floor(this.limit / 2), this.limit);
    this.topicResumeAt = Math.floor(this.topicLimit / 2);
    this.stallTimeoutMs = options.stallTimeoutMs ?? 5_000;
    this.#onStall = onStall;
  }

  get queued(): number {
    return this.#queued;
  }

  /**
   * A message is about to be handed to up to `deliveries` subscribers of
   * `account`'s topic: charge its frame once and each delivery's overhead.
   * The returned charge's `written` is the deliveries' write callback; call
   * its `done()` after the fan-out loop.
   */
  charge(account: TopicAccount, frameBytes: number, deliveries: number): FanOutCharge {
    const bytes = frameBytes + deliveries * DELIVERY_OVERHEAD_BYTES;
    account.queued += bytes;
    const queued = (this.#queued += bytes);
    if (queued > this.#peak) this.#peak = queued;
    return new FanOutCharge(this, account, frameBytes);
  }

  /** @internal Bytes of `account`'s topic passed to the kernel (or failed). */
  release(account: TopicAccount, bytes: number): void {
    if ((account.queued -= bytes) === 0) account.departed = null; // nothing of the topic is held any more
    this.#queued -= bytes;
    // Nobody paused (every delivery below capacity): nothing to resume.
    if (this.#holds.size === 0 || this.#resumeScheduled) return;
    if (
      (this.#pausedGlobal.size > 0 && this.#queued <= this.resumeAt) ||
      (account.paused !== null && account.queued <= this.topicResumeAt)
    ) {
      // Not from inside a write callback: resuming decodes buffered frames at
      // once, and their fan-out would run in the middle of another socket's
      // completion callbacks.
      this.#resumeScheduled = true;
      setImmediate(this.#resume);
    }
  }

  /**
   * After a publish to `account`'s topic was fanned out: past the budget, or
   * past the topic's own limit, stop reading from the connection that
   * published it: the one whose message is being handled, else the sender of
   * a `ws.publish` (from a `for await` loop, say). Publishes from timers or
   * other async code have no such connection; their bytes still count and
   * pause the others.
   */
  afterPublish(sender: Publisher | undefined, account: TopicAccount | null): void {
    const overAll = this.#queued > this.limit;
    const overTopic = account !== null && account.queued > this.topicLimit;
    if (!overAll && !overTopic) return;
    const publisher = handling ?? sender ?? null;
    if (publisher === null) return;
    if (overAll) this.#hold(this.#pausedGlobal, publisher, undefined);
    if (overTopic) {
      this.#pausedTopics.add(account);
      this.#hold((account.paused ??= new Set()), publisher, account.topic);
    }
  }

  /** Would fanning `bytes` out to `account`'s topic now go past the budget or the topic's limit? (For messages we cannot push back on.) */
  wouldExceed(account: TopicAccount, bytes: number): boolean {
    // Like a local publish, a message that finds nothing queued always goes
    // out, however many subscribers it has: otherwise a topic with more than
    // topicLimit / 512 subscribers would never get a message from another node.
    return (this.#queued > 0 && this.#queued + bytes > this.limit) || (account.queued > 0 && account.queued + bytes > this.topicLimit);
  }

  /** A message from another node was dropped before delivery. */
  dropped(deliveries: number, reason: 'budget' | 'maxPayload' | 'utf8', topic: string): void {
    this.#droppedMessages++;
    this.#droppedDeliveries += deliveries;
    if (overloadChannel.hasSubscribers) this.#publishEvent('drop', reason, topic);
  }

  /** A connection is gone: never resume it. */
  forget(publisher: Publisher): void {
    if (!this.#holds.delete(publisher)) return;
    this.#pausedGlobal.delete(publisher);
    for (const account of this.#pausedTopics) {
      account.paused!.delete(publisher);
      if (account.paused!.size > 0) continue;
      account.paused = null; // nobody left paused for this topic
      this.#pausedTopics.delete(account);
    }
  }

  stats(): DeliveryStats {
    return {
      budget: this.limit,
      topicBudget: this.topicLimit,
      queuedBytes: this.#queued,
      peakQueuedBytes: this.#peak,
      pausedReaders: this.#holds.size,
      pausedTopics: this.#pausedTopics.size,
      pauses: this.#pauses,
      droppedMessages: this.#droppedMessages,
      droppedDeliveries: this.#droppedDeliveries,
      evictedSubscribers: this.#evicted,
      adapterGaps: 0,
      adapterDropped: 0,
    };
  }

  /** Add `publisher` to `set`; pause its reading if nothing held it yet. */
  #hold(set: Set<Publisher>, publisher: Publisher, topic: string | undefined): void {
    if (set.has(publisher)) return;
    set.add(publisher);
    const holds = this.#holds.get(publisher) ?? 0;
    this.#holds.set(publisher, holds + 1);
    if (holds > 0) return;
    this.#pauses++;
    this.#armStallTimer();
    publisher[kPausePublisher]();
    if (overloadChannel.hasSubscribers) this.#publishEvent('pause', undefined, topic);
  }

  /** Release every publisher of `set`; resume those nothing else holds. */
  #releaseAll(set: Set<Publisher>, topic: string | undefined): void {
    const publishers = [...set];
    set.clear();
    const resumed: Publisher[] = [];
    for (const publisher of publishers) {
      const holds = this.#holds.get(publisher);
      if (holds === undefined) continue; // forgotten meanwhile
      if (holds > 1) this.#holds.set(publisher, holds - 1);
      else {
        this.#holds.delete(publisher);
        resumed.push(publisher);
      }
    }
    if (resumed.length === 0) return;
    if (overloadChannel.hasSubscribers) this.#publishEvent('resume', undefined, topic);
    // A resumed publisher may publish at once and pause again: that is the flow control working.
    for (const publisher of resumed) publisher[kResumePublisher]();
  }

  readonly #resume = (): void => {
    this.#resumeScheduled = false;
    // Refilled meanwhile: a later release schedules again.
    for (const account of this.#pausedTopics) {
      if (account.queued > this.topicResumeAt) continue;
      this.#pausedTopics.delete(account);
      const paused = account.paused!;
      account.paused = null;
      this.#releaseAll(paused, account.topic);
    }
    if (this.#pausedGlobal.size > 0 && this.#queued <= this.resumeAt) this.#releaseAll(this.#pausedGlobal, undefined);
    if (this.#holds.size === 0 && this.#stallTimer !== null) {
      clearTimeout(this.#stallTimer);
      this.#stallTimer = null;
    }
  };

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
    const stalls: Stall[] = [];
    if (this.#pausedGlobal.size > 0 && this.#queued > this.resumeAt) {
      stalls.push({ account: null, queued: this.#queued, excess: this.#queued - this.resumeAt });
    }
    for (const account of this.#pausedTopics) {
      if (account.queued > this.topicResumeAt) {
        stalls.push({ account, queued: account.queued, excess: account.queued - this.topicResumeAt });
      }
    }
    if (stalls.length > 0) this.#evicted += this.#onStall(stalls);
    // Still paused (nothing to evict, not enough, or paused again): look again after another interval.
    if (this.#holds.size > 0) this.#armStallTimer();
  };

  #publishEvent(type: OverloadEvent['type'], reason?: OverloadEvent['reason'], topic?: string): void {
    const event: OverloadEvent = { type, queuedBytes: this.#queued, budget: this.limit, pausedReaders: this.#holds.size };
    if (reason !== undefined) event.reason = reason;
    if (topic !== undefined) event.topic = topic;
    overloadChannel.publish(event);
  }
}

import { toPayload } from '../codec/encoder';
import { Opcode } from '../codec/opcodes';
import type { PubSubAdapter } from './adapter';
import { DELIVERY_OVERHEAD_BYTES, DeliveryBudget, TopicAccount, type DeliveryBudgetOptions, type DeliveryStats, type Stall } from './delivery-budget';
import { inboundProblem, InboundReports } from './inbound-message';
import { PreparedMessage } from './prepared-message';
import { kDeliverPrepared, kTopics, type TopicMember } from './topic-member';

export interface PublishOptions {
  /** Send as binary (default: true for bytes, false for strings). */
  binary?: boolean;
  /** A subscriber that must not receive it (usually the sender). */
  except?: TopicMember;
}

export interface TopicStats {
  topics: number;
  published: number;
  delivered: number;
  /** Deliveries skipped because the subscriber was over its backpressure limit. */
  skipped: number;
}

export interface TopicHubOptions {
  /** Messages from other nodes larger than this are dropped (as a client's would be refused). */
  maxPayload: number;
  /** The server-wide delivery budget. */
  deliveryBudget?: DeliveryBudgetOptions;
}

/**
 * A topic's subscribers on this node, and its share of the delivery budget.
 * (A plain Set inside, not a Set subclass: iterating a subclass misses V8's
 * fast path, and the fan-out loop is the hottest loop of a broadcast.)
 */
/** Departed subscribers (or accounts with some) kept before those no longer behind are pruned. */
const DEPARTED_PRUNE_AT = 64;

class Topic {
  readonly members = new Set<TopicMember>();
  readonly account: TopicAccount;
  constructor(name: string) {
    this.account = new TopicAccount(name);
  }
}

/**
 * Topics: who is subscribed to what on this node, and delivery of a publish
 * to them, framed once. With an adapter, publishes also travel to the other
 * nodes, and theirs arrive here through `deliverLocal`.
 */
export class TopicHub {
  readonly #topics = new Map<string, Topic>();
  readonly #adapter: PubSubAdapter | null;
  readonly #budget: DeliveryBudget;
  readonly #maxPayload: number;
  readonly #inboundReports: InboundReports;
  /** Accounts with departed subscribers (see #noteDeparted), for a server-wide stall. */
  readonly #departedFrom = new Set<TopicAccount>();
  #published = 0;
  #delivered = 0;
  #skipped = 0;

  constructor(adapter: PubSubAdapter | null, onError: (err: Error) => void, options: TopicHubOptions) {
    this.#adapter = adapter;
    this.#maxPayload = options.maxPayload;
    this.#budget = new DeliveryBudget(options.deliveryBudget, (stalls) => this.#evictStalled(stalls));
    this.#inboundReports = new InboundReports(onError);
    adapter?.attach({
      deliver: (topic, data, isBinary) => this.#deliverInbound(topic, data, isBinary),
      error: onError,
    });
  }

  subscribe(member: TopicMember, topic: string): boolean {
    const mine = (member[kTopics] ??= new Set());
    if (mine.has(topic)) return false;
    mine.add(topic);
    let entry = this.#topics.get(topic);
    if (entry === undefined) {
      entry = new Topic(topic);
      this.#topics.set(topic, entry);
      this.#adapter?.subscribe(topic);
    }
    entry.members.add(member);
    return true;
  }

  unsubscribe(member: TopicMember, topic: string): boolean {
    const mine = member[kTopics];
    if (mine === null || !mine.delete(topic)) return false;
    const account = this.#leave(member, topic);
    // Still behind on this topic's messages: a stall of the topic may be its doing.
    if (account !== null && account.queued > 0 && member.bufferedAmount > 0) this.#noteDeparted(account, member);
    return true;
  }

  /** A connection is gone: leave every topic, and never resume its reading. */
  unsubscribeAll(member: TopicMember): void {
    this.#budget.forget(member);
    const mine = member[kTopics];
    if (mine === null) return;
    member[kTopics] = null;
    for (const topic of mine) this.#leave(member, topic);
  }

  /** Deliver to local subscribers and, with an adapter, to every other node. Returns local recipients. */
  publish(topic: string, data: string | Buffer | ArrayBuffer | ArrayBufferView, options: PublishOptions = {}): number {
    const payload = toPayload(data);
    const isBinary = options.binary ?? typeof data !== 'string';
    this.#published++;
    const entry = this.#topics.get(topic);
    const count = entry === undefined ? 0 : this.#fanOut(entry, payload, isBinary, options.except);
    this.#adapter?.publish(topic, payload, isBinary);
    // Past the budget, or past the topic's share of it: stop reading from the connection whose message this is.
    this.#budget.afterPublish(options.except, entry?.account ?? null);
    return count;
  }

  /** Deliver to this node's subscribers only. */
  deliverLocal(topic: string, payload: Buffer, isBinary: boolean, except: TopicMember | undefined): number {
    const entry = this.#topics.get(topic);
    return entry === undefined ? 0 : this.#fanOut(entry, payload, isBinary, except);
  }

  /** Frame the message once and hand it to every member but `except`. */
  #fanOut(entry: Topic, payload: Buffer, isBinary: boolean, except: TopicMember | undefined): number {
    const members = entry.members;
    const message = new PreparedMessage(isBinary ? Opcode.Binary : Opcode.Text, payload);
    // Charged before the writes (a failing write may call back at once): the
    // frame once, every delivery's overhead; what is not delivered is refunded.
    const charged = members.size;
    const charge = this.#budget.charge(entry.account, message.bytes, charged);
    message.written = charge.written;
    let count = 0;
    try {
      for (const member of members) {
        if (member === except) continue;
        if (member[kDeliverPrepared](message)) count++;
        else this.#skipped++;
      }
    } finally {
      // Even if a delivery threw: what was not handed on is refunded, not held for good.
      charge.done(charged, count);
      this.#delivered += count;
    }
    return count;
  }

  /**
   * A message from another node: checked like a client's message, and
   * delivered only if its fan-out fits the budget. Nothing can be paused
   * here (one Redis connection carries every topic, and stalling it would
   * make Redis drop us), so what does not fit is dropped and counted.
   */
  #deliverInbound(topic: string, data: Buffer, isBinary: boolean): void {
    const entry = this.#topics.get(topic);
    if (entry === undefined) return;
    const members = entry.members;
    const problem = inboundProblem(data, isBinary, this.#maxPayload);
    // What its fan-out would hold: the frame once (header at most 10 bytes), each delivery's overhead.
    const bytes = data.length + 10 + DELIVERY_OVERHEAD_BYTES * members.size;
    const reason = problem ?? (this.#budget.wouldExceed(entry.account, bytes) ? 'budget' : null);
    if (reason !== null) {
      this.#budget.dropped(members.size, reason, topic);
      this.#inboundReports.note(reason, topic);
      return;
    }
    this.#fanOut(entry, data, isBinary, undefined);
  }

  /**
   * The delivery budget stayed paused: terminate the subscribers with the
   * largest unread backlogs until the rest would fit under the resume mark.
   * Terminating releases what they hold at once (their writes fail).
   *
   * The budget counts a message's frame once and each delivery's overhead;
   * a subscriber's `bufferedAmount` counts every frame it has not sent. To
   * weigh them in one unit, each subscriber is credited with its share of
   * the stalled bytes in proportion to its backlog: evicting every one of
   * them releases everything, so the shares add up to the queue.
   */
  #evictStalled(stalls: Stall[]): number {
    const evicted = new Set<TopicMember>();
    for (const account of this.#departedFrom) if (account.departed === null) this.#departedFrom.delete(account);
    for (const stall of stalls) {
      // Who may hold the stalled bytes: the topic's members and those that left it behind on
      // its messages (the account, not the name: a topic deleted and made again is another
      // account); for the whole budget, every member and every such leaver.
      const candidates = new Set<TopicMember>();
      const accounts = stall.account === null ? [...this.#topics.values()].map((entry) => entry.account) : [stall.account];
      if (stall.account === null) for (const account of this.#departedFrom) accounts.push(account);
      for (const account of accounts) {
        const entry = this.#topics.get(account.topic);
        if (entry !== undefined && entry.account === account) for (const member of entry.members) candidates.add(member);
        if (account.departed !== null) for (const member of account.departed) candidates.add(member);
      }
      const behind = [...candidates].filter((m) => m.bufferedAmount > 0 && !evicted.has(m)).sort((a, b) => b.bufferedAmount - a.bufferedAmount);
      let backlog = 0;
      for (const member of behind) backlog += member.bufferedAmount;
      let excess = stall.excess;
      for (const member of behind) {
        if (excess <= 0) break;
        excess -= (stall.queued * member.bufferedAmount) / backlog;
        member.terminate();
        evicted.add(member);
      }
    }
    return evicted.size;
  }

  subscriberCount(topic: string): number {
    return this.#topics.get(topic)?.members.size ?? 0;
  }

  stats(): TopicStats {
    return { topics: this.#topics.size, published: this.#published, delivered: this.#delivered, skipped: this.#skipped };
  }

  deliveryStats(): DeliveryStats {
    const stats = this.#budget.stats();
    stats.adapterGaps = this.#adapter?.gaps ?? 0;
    stats.adapterDropped = this.#adapter?.dropped ?? 0;
    return stats;
  }

  async close(): Promise<void> {
    await this.#adapter?.close();
  }

  /** Returns the account of the topic left (null if there was none). */
  #leave(member: TopicMember, topic: string): TopicAccount | null {
    const entry = this.#topics.get(topic);
    if (entry === undefined) return null;
    entry.members.delete(member);
    if (entry.members.size === 0) {
      this.#topics.delete(topic);
      this.#adapter?.unsubscribe(topic);
    }
    return entry.account;
  }

  /**
   * `member` unsubscribed from `account`'s topic with bytes still queued:
   * remember it for stall eviction while the topic has bytes queued. Bounded:
   * past DEPARTED_PRUNE_AT, the ones no longer behind are dropped first, so
   * what stays is connections holding bytes, and accounts whose queue
   * emptied are let go.
   */
  #noteDeparted(account: TopicAccount, member: TopicMember): void {
    const departed = (account.departed ??= new Set());
    if (departed.size >= DEPARTED_PRUNE_AT) for (const m of departed) if (m.bufferedAmount === 0) departed.delete(m);
    departed.add(member);
    if (this.#departedFrom.size >= DEPARTED_PRUNE_AT) for (const a of this.#departedFrom) if (a.departed === null) this.#departedFrom.delete(a);
    this.#departedFrom.add(account);
  }
}

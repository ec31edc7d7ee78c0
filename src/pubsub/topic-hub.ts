import { toPayload } from '../codec/encoder';
import { Opcode } from '../codec/opcodes';
import type { PubSubAdapter } from './adapter';
import { DELIVERY_OVERHEAD_BYTES, DeliveryBudget, type DeliveryBudgetOptions, type DeliveryStats } from './delivery-budget';
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
 * Topics: who is subscribed to what on this node, and delivery of a publish
 * to them, framed once. With an adapter, publishes also travel to the other
 * nodes, and theirs arrive here through `deliverLocal`.
 */
export class TopicHub {
  readonly #topics = new Map<string, Set<TopicMember>>();
  readonly #adapter: PubSubAdapter | null;
  readonly #budget: DeliveryBudget;
  readonly #maxPayload: number;
  readonly #inboundReports: InboundReports;
  #published = 0;
  #delivered = 0;
  #skipped = 0;

  constructor(adapter: PubSubAdapter | null, onError: (err: Error) => void, options: TopicHubOptions) {
    this.#adapter = adapter;
    this.#maxPayload = options.maxPayload;
    this.#budget = new DeliveryBudget(options.deliveryBudget, () => this.#evictStalled());
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
    let members = this.#topics.get(topic);
    if (members === undefined) {
      members = new Set();
      this.#topics.set(topic, members);
      this.#adapter?.subscribe(topic);
    }
    members.add(member);
    return true;
  }

  unsubscribe(member: TopicMember, topic: string): boolean {
    const mine = member[kTopics];
    if (mine === null || !mine.delete(topic)) return false;
    this.#leave(member, topic);
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
    const count = this.deliverLocal(topic, payload, isBinary, options.except);
    this.#adapter?.publish(topic, payload, isBinary);
    // Past the budget: stop reading from the connection whose message this is.
    this.#budget.afterPublish(options.except);
    return count;
  }

  /** Deliver to this node's subscribers only. */
  deliverLocal(topic: string, payload: Buffer, isBinary: boolean, except: TopicMember | undefined): number {
    const members = this.#topics.get(topic);
    if (members === undefined) return 0;
    const message = new PreparedMessage(isBinary ? Opcode.Binary : Opcode.Text, payload);
    const budget = this.#budget;
    // What one queued delivery costs: its frame bytes plus the write request that holds them.
    const bytes = message.bytes + DELIVERY_OVERHEAD_BYTES;
    message.written = budget.releaser(bytes);
    let count = 0;
    for (const member of members) {
      if (member === except) continue;
      // Charged before the write: a failing write may call back at once.
      budget.charge(bytes);
      if (member[kDeliverPrepared](message)) count++;
      else {
        budget.refund(bytes);
        this.#skipped++;
      }
    }
    this.#delivered += count;
    return count;
  }

  /**
   * A message from another node: checked like a client's message, and
   * delivered only if its fan-out fits the budget. Nothing can be paused
   * here (one Redis connection carries every topic, and stalling it would
   * make Redis drop us), so what does not fit is dropped and counted.
   */
  #deliverInbound(topic: string, data: Buffer, isBinary: boolean): void {
    const members = this.#topics.get(topic);
    if (members === undefined) return;
    const problem = inboundProblem(data, isBinary, this.#maxPayload);
    const reason = problem ?? (this.#budget.wouldExceed((data.length + 10 + DELIVERY_OVERHEAD_BYTES) * members.size) ? 'budget' : null);
    if (reason !== null) {
      this.#budget.dropped(members.size, reason, topic);
      this.#inboundReports.note(reason, topic);
      return;
    }
    this.deliverLocal(topic, data, isBinary, undefined);
  }

  /**
   * The delivery budget stayed paused: terminate the subscribers with the
   * largest unread backlogs until the rest would fit under `resumeAt`.
   * Terminating releases their queued bytes at once (their writes fail).
   */
  #evictStalled(): number {
    const all = new Set<TopicMember>();
    for (const members of this.#topics.values()) for (const member of members) all.add(member);
    const behind = [...all].filter((m) => m.bufferedAmount > 0).sort((a, b) => b.bufferedAmount - a.bufferedAmount);
    let excess = this.#budget.queued - this.#budget.resumeAt;
    let evicted = 0;
    for (const member of behind) {
      if (excess <= 0) break;
      excess -= member.bufferedAmount;
      member.terminate();
      evicted++;
    }
    return evicted;
  }

  subscriberCount(topic: string): number {
    return this.#topics.get(topic)?.size ?? 0;
  }

  stats(): TopicStats {
    return { topics: this.#topics.size, published: this.#published, delivered: this.#delivered, skipped: this.#skipped };
  }

  deliveryStats(): DeliveryStats {
    return this.#budget.stats();
  }

  async close(): Promise<void> {
    await this.#adapter?.close();
  }

  #leave(member: TopicMember, topic: string): void {
    const members = this.#topics.get(topic);
    if (members === undefined) return;
    members.delete(member);
    if (members.size === 0) {
      this.#topics.delete(topic);
      this.#adapter?.unsubscribe(topic);
    }
  }
}

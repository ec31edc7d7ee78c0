import { performance } from 'node:perf_hooks';

/**
 * Deadlines that all have the same length, on one timer.
 *
 * Every pending upgrade of a server gets the same handshake timeout, so their
 * deadlines expire in the order they were added: a Map in insertion order is
 * the whole timer wheel. Adding and removing an entry is a Map operation
 * instead of creating and cancelling a `Timeout` per upgrade (a reconnect
 * storm is thousands of them per second), and one unref'd timer is armed for
 * the oldest entry at a time.
 */
export class DeadlineQueue<T> {
  readonly #entries = new Map<T, number>();
  readonly #timeoutMs: number;
  readonly #expired: (item: T) => void;
  #timer: NodeJS.Timeout | null = null;
  /** When the armed timer fires (performance.now() ms). */
  #timerAt = 0;

  constructor(timeoutMs: number, expired: (item: T) => void) {
    this.#timeoutMs = timeoutMs;
    this.#expired = expired;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Whether the timer is set (false whenever the queue is empty). */
  get armed(): boolean {
    return this.#timer !== null;
  }

  /** Start `item`'s deadline: `expired(item)` runs `timeoutMs` from now unless it is deleted first. */
  add(item: T): void {
    const deadline = performance.now() + this.#timeoutMs;
    this.#entries.set(item, deadline);
    if (this.#timer === null) this.#arm(deadline);
  }

  /** Cancel `item`'s deadline (idempotent). */
  delete(item: T): void {
    if (!this.#entries.delete(item) || this.#entries.size > 0 || this.#timer === null) return;
    // Empty: an idle server keeps no timer. Under a burst of upgrades the
    // queue rarely empties, so the timer is seldom re-created.
    clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Cancel every deadline and the timer. */
  clear(): void {
    this.#entries.clear();
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #arm(at: number): void {
    this.#timerAt = at;
    this.#timer = setTimeout(fire, Math.max(1, Math.ceil(at - performance.now())), this);
    this.#timer.unref();
  }

  /** @internal The timer fired: expire what is due, re-arm for the next one. */
  fire(): void {
    this.#timer = null;
    const now = Math.max(performance.now(), this.#timerAt);
    try {
      for (const [item, deadline] of this.#entries) {
        if (deadline > now) break;
        this.#entries.delete(item);
        this.#expired(item);
      }
    } finally {
      // Re-armed even if a callback threw, so later deadlines still expire.
      if (this.#timer === null) {
        const next = this.#entries.values().next();
        if (next.done !== true) this.#arm(next.value);
      }
    }
  }
}

function fire(queue: { fire(): void }): void {
  queue.fire();
}

/**
 * A process-wide cap on concurrent zlib jobs. Every zlib call runs on the
 * libuv threadpool (4 threads by default); thousands of connections inflating
 * at once would queue there behind file and DNS work and fragment memory
 * (nodejs/node#8871, websockets/ws#1202). Jobs past the cap wait in FIFO order.
 */

/** A first-in first-out queue with O(1) push and shift. */
export class Fifo<T> {
  #items: Array<T | undefined> = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head === this.#items.length) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      // Drop the consumed prefix once it is most of the array.
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
}

/** A job gets `release` and must call it once when its zlib work is over. */
export type LimitedJob = (release: () => void) => void;

export class ZlibLimiter {
  readonly #waiting = new Fifo<LimitedJob>();
  #running = 0;
  #draining = false;

  constructor(readonly concurrency: number) {}

  /** Jobs holding a slot now. */
  get running(): number {
    return this.#running;
  }

  /** Jobs waiting for a slot. */
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Run `job` now if a slot is free, else when one frees up (FIFO). */
  run(job: LimitedJob): void {
    this.#waiting.push(job);
    this.#drain();
  }

  // A loop rather than recursion: a job that releases synchronously (its
  // connection closed while it waited) must not grow the stack.
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#running < this.concurrency) {
        const job = this.#waiting.shift();
        if (job === undefined) break;
        this.#running++;
        job(this.#releaser());
      }
    } finally {
      this.#draining = false;
    }
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#running--;
      this.#drain();
    };
  }
}

const limiters = new Map<number, ZlibLimiter>();

/** The process-wide limiter for `concurrency` (one per distinct limit; normally one). */
export function zlibLimiter(concurrency: number): ZlibLimiter {
  let limiter = limiters.get(concurrency);
  if (limiter === undefined) {
    limiter = new ZlibLimiter(concurrency);
    limiters.set(concurrency, limiter);
  }
  return limiter;
}

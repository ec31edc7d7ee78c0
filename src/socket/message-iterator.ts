import { detach } from './detach';
import { HELD_MESSAGE_OVERHEAD } from './options';
import { kPauseReading, kResumeReading, PauseReason } from './symbols';
import type { WebSocket } from './websocket';

type Message = string | Buffer;

/**
 * `for await (const msg of ws)`: yields messages in order and ends when the
 * connection closes. Tied to TCP backpressure: while the consumer is more
 * than `maxHeldBytes` (each message charged its length plus a fixed
 * overhead) or `maxHeldMessages` behind, reading from the socket pauses, so a slow
 * consumer never makes the server buffer without bound. Leaving the loop
 * early (`break`, `return`, a throw) closes the connection with 1000.
 */
export class MessageIterator implements AsyncIterableIterator<Message> {
  #queue: Message[] = [];
  #queuedBytes = 0;
  #paused = false;
  #ended = false;
  #waiter: ((result: IteratorResult<Message>) => void) | null = null;

  constructor(
    private readonly ws: WebSocket,
    private readonly limits: { readonly maxHeldBytes: number; readonly maxHeldMessages: number },
    private readonly onFinish: (it: MessageIterator) => void,
  ) {}

  /** A message arrived. */
  push(message: Message): void {
    if (this.#ended) return;
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter({ value: message, done: false });
      return;
    }
    this.#queue.push(detach(message));
    this.#queuedBytes += message.length + HELD_MESSAGE_OVERHEAD;
    if (!this.#paused && (this.#queuedBytes > this.limits.maxHeldBytes || this.#queue.length >= this.limits.maxHeldMessages)) {
      this.#paused = true;
      this.ws[kPauseReading](PauseReason.Iterator);
    }
  }

  /** The connection closed: queued messages are still yielded, then done. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#releasePause();
    const waiter = this.#waiter;
    if (waiter !== null && this.#queue.length === 0) {
      this.#waiter = null;
      waiter({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<Message>> {
    const message = this.#queue.shift();
    if (message !== undefined) {
      this.#queuedBytes -= message.length + HELD_MESSAGE_OVERHEAD;
      const { maxHeldBytes, maxHeldMessages } = this.limits;
      if (this.#paused && this.#queuedBytes <= maxHeldBytes / 2 && this.#queue.length <= maxHeldMessages / 2) this.#releasePause();
      return Promise.resolve({ value: message, done: false });
    }
    if (this.#ended) {
      this.onFinish(this);
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  return(): Promise<IteratorResult<Message>> {
    const wasOpen = !this.#ended;
    this.#ended = true;
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#releasePause();
    this.onFinish(this);
    // Leaving the loop is the consumer saying it is done with the connection.
    if (wasOpen) this.ws.close(1000);
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  #releasePause(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.ws[kResumeReading](PauseReason.Iterator);
  }
}

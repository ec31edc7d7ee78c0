import type { EventEmitter } from 'node:events';
import { enterMessage } from '../pubsub/delivery-budget';
import { detach } from './detach';
import { MessageIterator } from './message-iterator';
import { HELD_MESSAGE_OVERHEAD, type SocketOptions } from './options';
import { CLOSED } from './ready-state';
import { kHandlerFailed, kPauseReading, kResumeReading, PauseReason } from './symbols';
import type { WebSocket } from './websocket';

type Message = string | Buffer;

/**
 * Where a connection's incoming messages go: held (bounded) until the
 * handler listens, then to `for await` iterators and 'message' listeners.
 */
export class Inbox {
  readonly #ws: WebSocket;
  readonly #options: SocketOptions;

  // Messages that arrive before the handler listens are held (bounded).
  #holding = true;
  /** Listeners added before the handler runs (a wss 'connection' listener) do not end holding. */
  #handlerStarted = false;
  /** Text arrives as a string and binary as a Buffer, so a held message's kind is its type. */
  #held: Message[] | null = null;
  #heldBytes = 0;
  #flushScheduled = false;
  #iterators: MessageIterator[] | null = null;

  constructor(ws: WebSocket, options: SocketOptions) {
    this.#ws = ws;
    this.#options = options;
    (ws as EventEmitter).on('newListener', onNewListener);
  }

  /** A whole message from the peer. */
  deliver(message: Message, isBinary: boolean): void {
    if (this.#holding) {
      const held = (this.#held ??= []);
      held.push(detach(message));
      // Charged with its bookkeeping, so empty messages are not free; capped by count too.
      this.#heldBytes += message.length + HELD_MESSAGE_OVERHEAD;
      if (this.#heldBytes > this.#options.maxHeldBytes || held.length >= this.#options.maxHeldMessages) {
        this.#ws[kPauseReading](PauseReason.Held);
      }
      return;
    }
    this.#dispatch(message, isBinary);
  }

  /** A new `for await` loop; `closed` when the connection is already gone. */
  iterator(closed: boolean): MessageIterator {
    const it = new MessageIterator(this.#ws, this.#options, (done) => this.#removeIterator(done));
    (this.#iterators ??= []).push(it);
    if (this.#holding) {
      if (this.#handlerStarted) this.#scheduleFlush();
    } else if (closed) it.end();
    return it;
  }

  /** The route's handler is about to be called. */
  handlerStarted(): void {
    this.#handlerStarted = true;
  }

  /** The handler returned (or its promise settled): deliver what was held to whatever listens now. */
  handlerSettled(): void {
    if (this.#holding) this.#scheduleFlush();
  }

  /** A 'message' listener is being added. */
  listenerAdded(): void {
    if (this.#holding && this.#handlerStarted) this.#scheduleFlush();
  }

  /**
   * The connection closed. A handler still awaiting keeps its held messages
   * even now: a 'message' listener or `for await` that comes later gets them
   * (after 'close', which must not wait, or a handler awaiting 'close' would
   * wait for itself).
   */
  connectionClosed(): void {
    if (!this.#holding) this.#endIterators();
  }

  #dispatch(message: Message, isBinary: boolean): void {
    const iterators = this.#iterators;
    if (iterators !== null) for (let i = 0; i < iterators.length; i++) iterators[i]!.push(message);
    // Publishes made by the listeners come from this connection: the delivery budget pauses it.
    const outer = enterMessage(this.#ws);
    try {
      this.#ws.emit('message', message, isBinary);
    } catch (err) {
      this.#ws[kHandlerFailed](err);
    } finally {
      enterMessage(outer);
    }
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // A microtask: the rest of the handler's synchronous code runs first.
    queueMicrotask(() => this.#flushHeld());
  }

  #flushHeld(): void {
    const ws = this.#ws;
    this.#holding = false;
    // The 'newListener' listener stays (listenerAdded does nothing once holding
    // ended): deleting it from the listener table would turn the table into a dictionary.
    const held = this.#held;
    this.#held = null;
    this.#heldBytes = 0;
    if (held !== null) {
      for (let i = 0; i < held.length; i++) {
        const message = held[i]!;
        this.#dispatch(message, typeof message !== 'string');
      }
    }
    ws[kResumeReading](PauseReason.Held);
    // Closed while holding: iterators started late end after the held messages.
    if (ws.readyState === CLOSED) this.#endIterators();
  }

  #removeIterator(it: MessageIterator): void {
    const iterators = this.#iterators;
    if (iterators === null) return;
    const i = iterators.indexOf(it);
    if (i !== -1) iterators.splice(i, 1);
    if (iterators.length === 0) this.#iterators = null;
  }

  #endIterators(): void {
    const iterators = this.#iterators;
    if (iterators !== null) for (const it of [...iterators]) it.end();
  }
}

function onNewListener(this: WebSocket, event: string | symbol): void {
  if (event === 'message') this.listenerAdded();
}

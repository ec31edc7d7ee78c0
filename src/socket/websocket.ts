import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { encodeClosePayload } from '../codec/close';
import { FrameDecoder } from '../codec/decoder';
import { encodeFrame, encodeMessage, toPayload } from '../codec/encoder';
import { Opcode } from '../codec/opcodes';
import type { PerMessageDeflate } from '../codec/permessage-deflate';
import type { ProtocolError } from '../errors';
import { kDeliverPrepared, kTopics, type TopicMember } from '../pubsub/topic-member';
import type { PreparedMessage } from '../pubsub/prepared-message';
import type { PublishOptions, TopicHub } from '../pubsub/topic-hub';
import { MessageIterator } from './message-iterator';
import type { SocketOptions } from './options';
import { Receiver } from './receiver';
import {
  kDeliver,
  kFail,
  kHandlerSettled,
  kHandlerStarted,
  kHeartbeat,
  kPauseReading,
  kPeerClose,
  kPeerPing,
  kPeerPong,
  kResumeReading,
  kWebSocket,
  PauseReason,
} from './symbols';
import { corkForTurn, uncorkNow } from './write-batcher';

/** Data a handler may send: text as a string, binary as bytes. */
export type SendData = string | Buffer | ArrayBuffer | ArrayBufferView;
export type SendCallback = (err?: Error | null) => void;
export interface SendOptions {
  /** Send as binary (default: true for bytes, false for strings). */
  binary?: boolean;
  /** Compress when permessage-deflate was agreed (default true, above the threshold). */
  compress?: boolean;
}

/** Typed events of a connection. */
export interface WebSocketEvents {
  /** A whole message: text as `string`, binary as `Buffer`. */
  message: [data: string | Buffer, isBinary: boolean];
  /** Fired exactly once. 1005: the peer sent no code; 1006: the connection was lost. */
  close: [code: number, reason: string];
  error: [err: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  drain: [];
}

/** What a connection needs from the server that owns it. */
export interface SocketHost {
  readonly topics: TopicHub;
  connectionClosed(ws: WebSocket): void;
  reportError(err: Error, ws: WebSocket): void;
}

export interface WebSocketInit {
  readonly protocol: string;
  readonly extensions: string;
  readonly deflate: PerMessageDeflate | null;
  readonly options: SocketOptions;
}

interface QueuedSend {
  /** null while its compression is pending. */
  frames: Buffer[] | null;
  bytes: number;
  cb: SendCallback | undefined;
  /** Close frames end the socket's output once written. */
  isClose: boolean;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const EMPTY = Buffer.alloc(0);
/** Frames at least this big are written at once instead of joining the turn's batch. */
const UNCORKED_WRITE_BYTES = 64 * 1024;

/**
 * One WebSocket connection (what an `app.ws` handler receives).
 *
 * Events are module-level functions reaching the connection through a
 * symbol on the socket, so a connection holds no closures; timers and
 * buffers are allocated only when needed (closing, holding messages).
 *
 * @example
 * app.ws('/echo', (ws) => {
 *   ws.on('message', (data) => ws.send(data));
 * });
 */
export class WebSocket extends EventEmitter<WebSocketEvents> implements TopicMember, AsyncIterable<string | Buffer> {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  readonly #socket: Duplex;
  readonly #decoder: FrameDecoder;
  readonly #deflate: PerMessageDeflate | null;
  readonly #host: SocketHost;
  readonly #options: SocketOptions;
  readonly #protocol: string;
  readonly #extensions: string;

  #readyState: number = OPEN;
  #closeFrameSent = false;
  /** No frame will be read any more: the peer's close frame arrived, or the connection failed. */
  #readingDone = false;
  #closeCode = 1006;
  #closeReason = '';
  #closeTimer: NodeJS.Timeout | null = null;
  #pauseReasons = 0;
  #needDrain = false;
  #drainArmed = false;
  /** Unwritten bytes when this turn's first write corked the socket (see #backpressure). */
  #backlog = 0;
  #onDrainWrite: (() => void) | null = null;
  #sendQueue: QueuedSend[] | null = null;
  #queuedBytes = 0;

  // Messages that arrive before the handler listens are held (bounded).
  #holding = true;
  /** Listeners added before the handler runs (a wss 'connection' listener) do not end holding. */
  #handlerStarted = false;
  #held: Array<string | Buffer> | null = null;
  #heldBinary: boolean[] | null = null;
  #heldBytes = 0;
  #flushScheduled = false;
  #iterators: MessageIterator[] | null = null;

  // Heartbeat: anything received proves the peer alive.
  #sawTraffic = true;
  #awaitingPong = false;

  /** @internal Topics this connection is subscribed to (owned by the hub). */
  [kTopics]: Set<string> | null = null;

  /** @internal Created by the server after the 101 response was written. */
  constructor(socket: Duplex, head: Buffer, host: SocketHost, init: WebSocketInit) {
    super();
    // EventEmitter's listener table starts as a `{ __proto__: null }` literal,
    // which V8 keeps in dictionary mode (~300 bytes per idle connection); a
    // table with a fixed, prototype-free shape is a few words.
    (this as unknown as { _events: object })._events = new ListenerTable();
    this.#socket = socket;
    this.#host = host;
    this.#options = init.options;
    this.#protocol = init.protocol;
    this.#extensions = init.extensions;
    this.#deflate = init.deflate;
    this.#decoder = new FrameDecoder(new Receiver(this, init.deflate), {
      maxPayload: init.options.maxPayload,
      expectMasked: true,
      perMessageDeflate: init.deflate !== null,
    });
    (socket as SocketWithWs)[kWebSocket] = this;
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    socket.on('drain', socketOnDrain);
    socket.on('error', socketOnError);
    (this as EventEmitter).on('newListener', onNewListener);
    if (head.length > 0) this.#decoder.push(head);
  }

  /** CONNECTING (0), OPEN (1), CLOSING (2) or CLOSED (3), as in the browser API. */
  get readyState(): number {
    return this.#readyState;
  }

  /** The agreed subprotocol, or '' when none. */
  get protocol(): string {
    return this.#protocol;
  }

  /** The agreed extensions (the Sec-WebSocket-Extensions answer), or ''. */
  get extensions(): string {
    return this.#extensions;
  }

  /** Bytes accepted by `send()` and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#socket.writableLength + this.#queuedBytes;
  }

  /** The topics this connection is subscribed to. */
  get topics(): ReadonlySet<string> {
    return this[kTopics] ?? new Set();
  }

  /**
   * Send a message. Strings go as text, bytes as binary (override with
   * `{ binary }`). Returns false once `bufferedAmount` passes the high-water
   * mark; `drain` follows when it is back under. The callback reports when
   * the bytes were written, or why not.
   */
  send(data: SendData, cb?: SendCallback): boolean;
  send(data: SendData, options: SendOptions, cb?: SendCallback): boolean;
  send(data: SendData, optionsOrCb?: SendOptions | SendCallback, maybeCb?: SendCallback): boolean {
    const options = typeof optionsOrCb === 'object' ? optionsOrCb : undefined;
    const cb = typeof optionsOrCb === 'function' ? optionsOrCb : maybeCb;
    if (this.#readyState !== OPEN) return this.#rejectSend(cb);
    const payload = toPayload(data);
    const binary = options?.binary ?? typeof data !== 'string';
    const opcode = binary ? Opcode.Binary : Opcode.Text;
    const deflate = this.#deflate;
    if (deflate !== null && options?.compress !== false && payload.length >= deflate.threshold) {
      const entry = this.#enqueue(null, payload.length, cb);
      deflate.compress(payload, (err, compressed) => this.#compressed(entry, opcode, err, compressed));
    } else if (this.#sendQueue !== null) {
      this.#enqueue(this.#frames(opcode, payload, false), payload.length, cb);
    } else {
      this.#write(this.#frames(opcode, payload, false), cb);
    }
    return this.#underHighWaterMark();
  }

  /** Send a ping (payload up to 125 bytes); the peer's `pong` event answers. */
  ping(data: SendData = EMPTY, cb?: SendCallback): void {
    this.#sendControl(Opcode.Ping, data, cb);
  }

  /** Send an unsolicited pong (a one-way heartbeat, RFC 6455 §5.5.3). */
  pong(data: SendData = EMPTY, cb?: SendCallback): void {
    this.#sendControl(Opcode.Pong, data, cb);
  }

  /**
   * Start the closing handshake (RFC 6455 §7.1.2): send a close frame, wait for
   * the peer's, then the TCP connection ends. A peer that never answers is
   * dropped after `closeTimeoutMs`. Throws on a code or reason that may not be
   * sent (1004–1006, 1015, out of range; reason over 123 bytes).
   */
  close(code = 1000, reason = ''): void {
    if (this.#readyState >= CLOSING) return;
    const payload = encodeClosePayload(code, reason);
    this.#sendCloseFrame(payload);
  }

  /** Drop the TCP connection now, without a closing handshake (close code 1006). */
  terminate(): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSING;
    this.#socket.destroy();
  }

  /** Receive what is published to `topic` (on any node with a Redis adapter). */
  subscribe(topic: string): boolean {
    if (this.#readyState !== OPEN) return false;
    return this.#host.topics.subscribe(this, topic);
  }

  unsubscribe(topic: string): boolean {
    return this.#host.topics.unsubscribe(this, topic);
  }

  /** Publish to everyone subscribed to `topic` except this connection. */
  publish(topic: string, data: SendData, options: Omit<PublishOptions, 'except'> = {}): number {
    return this.#host.topics.publish(topic, data, { ...options, except: this });
  }

  /** `for await (const msg of ws)`: messages in order, ends on close, tied to TCP backpressure. */
  [Symbol.asyncIterator](): AsyncIterableIterator<string | Buffer> {
    const it = new MessageIterator(this, this.#options.maxHeldBytes, (done) => this.#removeIterator(done));
    (this.#iterators ??= []).push(it);
    if (this.#holding) {
      if (this.#handlerStarted) this.#scheduleFlush();
    } else if (this.#readyState === CLOSED) it.end();
    return it;
  }

  // ---- sending -------------------------------------------------------------

  #frames(opcode: number, payload: Buffer, rsv1: boolean): Buffer[] {
    const fragmentSize = this.#options.fragmentSize;
    return fragmentSize > 0 && payload.length > fragmentSize
      ? encodeMessage(opcode, payload, { fragmentSize, rsv1 })
      : encodeFrame(opcode, payload, { rsv1 });
  }

  #write(frames: Buffer[], cb: SendCallback | undefined): void {
    const socket = this.#socket;
    if (socket.writableCorked === 0) this.#backlog = socket.writableLength;
    const last = frames.length - 1;
    if (frames[last]!.length >= UNCORKED_WRITE_BYTES) {
      // A large frame gains nothing from waiting for the turn's batch: send it
      // now (after what is already batched, to keep order) to keep the pipe full.
      uncorkNow(socket);
      socket.cork(); // header and payload still leave in one writev
      for (let i = 0; i < last; i++) socket.write(frames[i]);
      socket.write(frames[last], cb);
      socket.uncork();
      return;
    }
    corkForTurn(socket);
    for (let i = 0; i < last; i++) socket.write(frames[i]);
    socket.write(frames[last], cb);
  }

  #enqueue(frames: Buffer[] | null, bytes: number, cb: SendCallback | undefined, isClose = false): QueuedSend {
    const entry: QueuedSend = { frames, bytes, cb, isClose };
    (this.#sendQueue ??= []).push(entry);
    this.#queuedBytes += bytes;
    return entry;
  }

  #compressed(entry: QueuedSend, opcode: number, err: Error | null, payload: Buffer | undefined): void {
    // Closed meanwhile (deflate.close() fails pending work): socketClosed() already failed every queued send.
    if (this.#readyState === CLOSED) return;
    if (err || payload === undefined) {
      // The queue stays blocked behind this entry; the connection is failing anyway.
      const error = err ?? new Error('compression failed');
      this.#host.reportError(error, this);
      const cb = entry.cb;
      entry.cb = undefined; // socketClosed() fails the rest of the queue, not this one again
      cb?.(error);
      this.terminate();
      return;
    }
    entry.frames = this.#frames(opcode, payload, true);
    this.#flushQueue();
  }

  /** Write the queue's ready prefix, in order; later entries wait for earlier compressions. */
  #flushQueue(): void {
    const queue = this.#sendQueue;
    if (queue === null) return;
    let i = 0;
    for (; i < queue.length; i++) {
      const entry = queue[i]!;
      if (entry.frames === null) break;
      this.#queuedBytes -= entry.bytes;
      if (this.#socket.destroyed) entry.cb?.(new Error('WebSocket is closed'));
      else this.#write(entry.frames, entry.cb);
      if (entry.isClose) this.#afterCloseFrameWritten();
    }
    queue.splice(0, i);
    if (queue.length === 0) this.#sendQueue = null;
    if (this.#needDrain) this.#armDrain();
  }

  #sendControl(opcode: number, data: SendData, cb: SendCallback | undefined): void {
    if (this.#readyState !== OPEN) {
      this.#rejectSend(cb);
      return;
    }
    const payload = toPayload(data);
    if (payload.length > 125) throw new RangeError('control frame payload must be at most 125 bytes');
    // Control frames may go between messages (§5.4), so they need not wait for compression.
    this.#write(encodeFrame(opcode, payload), cb);
  }

  #rejectSend(cb: SendCallback | undefined): false {
    if (cb) process.nextTick(cb, new Error(`WebSocket is not open: readyState ${this.#readyState}`));
    return false;
  }

  #underHighWaterMark(): boolean {
    if (this.bufferedAmount < this.#options.highWaterMark) return true;
    this.#needDrain = true;
    this.#armDrain();
    return false;
  }

  /**
   * Make sure `notifyDrain` runs once what is buffered now is written. The
   * socket's own 'drain' only comes after its buffer passed the stream's
   * high-water mark (16 KiB), which ours may be below, so otherwise an empty
   * write's callback (called after every earlier write) is the signal.
   * A queue waiting on compression arms again when it is flushed.
   */
  #armDrain(): void {
    const socket = this.#socket;
    if (this.#drainArmed || socket.writableNeedDrain || socket.destroyed) return;
    if (socket.writableLength === 0) {
      if (this.#sendQueue === null) process.nextTick(socketOnDrain.bind(socket));
      return;
    }
    this.#drainArmed = true;
    socket.write(EMPTY, (this.#onDrainWrite ??= () => {
      this.#drainArmed = false;
      this.notifyDrain();
    }));
  }

  /** @internal The socket drained: tell a sender that was told to wait. */
  notifyDrain(): void {
    if (!this.#needDrain || this.#readyState !== OPEN) return;
    if (this.bufferedAmount >= this.#options.highWaterMark) {
      this.#armDrain();
      return;
    }
    this.#needDrain = false;
    this.#emitSafely('drain');
  }

  // ---- topics ---------------------------------------------------------------

  /** @internal A topic publish: the frame was encoded once for every subscriber. */
  [kDeliverPrepared](message: PreparedMessage): boolean {
    if (this.#readyState !== OPEN) return false;
    if (this.#backpressure() > this.#options.maxBackpressure) {
      if (this.#options.backpressurePolicy === 'close') this.close(1008, 'subscriber too slow');
      return false;
    }
    const deflate = this.#deflate;
    if (deflate !== null && message.payload.length >= deflate.threshold) {
      const entry = this.#enqueue(null, message.payload.length, undefined);
      message.compressFor(deflate, (err, payload) => this.#compressed(entry, message.opcode, err, payload));
    } else {
      const frames = message.frames(this.#options.fragmentSize);
      if (this.#sendQueue !== null) this.#enqueue(frames, message.payload.length, undefined);
      else this.#write(frames, undefined);
    }
    return true;
  }

  /**
   * Bytes the peer has not taken: what was still unwritten when this turn's
   * writes began (they are corked and leave together at the end of the turn,
   * so a burst of publishes to a fast reader does not count as slow), plus
   * messages waiting for compression.
   */
  #backpressure(): number {
    const socket = this.#socket;
    return (socket.writableCorked > 0 ? this.#backlog : socket.writableLength) + this.#queuedBytes;
  }

  // ---- receiving (called by the Receiver) -----------------------------------

  /** @internal */
  [kDeliver](message: string | Buffer, isBinary: boolean): void {
    if (this.#holding) {
      (this.#held ??= []).push(message);
      (this.#heldBinary ??= []).push(isBinary);
      this.#heldBytes += message.length;
      if (this.#heldBytes > this.#options.maxHeldBytes) this[kPauseReading](PauseReason.Held);
      return;
    }
    this.#dispatch(message, isBinary);
  }

  #dispatch(message: string | Buffer, isBinary: boolean): void {
    const iterators = this.#iterators;
    if (iterators !== null) for (let i = 0; i < iterators.length; i++) iterators[i]!.push(message);
    try {
      this.emit('message', message, isBinary);
    } catch (err) {
      this.#handlerFailed(err);
    }
  }

  /** @internal */
  [kPeerPing](data: Buffer): void {
    // §5.5.2: answer with a pong carrying the same application data, unless closing.
    if (this.#readyState === OPEN) this.#write(encodeFrame(Opcode.Pong, data), undefined);
    this.#emitSafely('ping', data);
  }

  /** @internal */
  [kPeerPong](data: Buffer): void {
    this.#emitSafely('pong', data);
  }

  /** @internal The peer's close frame (§7.1.5). */
  [kPeerClose](code: number, reason: string): void {
    this.#readingDone = true;
    this.#closeCode = code;
    this.#closeReason = reason;
    // Nothing after a close frame is read (§5.5.1).
    this.#decoder.pause();
    if (!this.#closeFrameSent) {
      // §5.5.1: echo the status code received; no code received → empty body.
      this.#sendCloseFrame(code === 1005 ? EMPTY : encodeClosePayload(code));
    } else if (this.#sendQueue === null) {
      // We started the handshake and it is now complete: the server ends TCP first (§7.1.1).
      // (With a queue, our close frame is still waiting; writing it ends TCP.)
      this.#socket.end();
    }
  }

  /** @internal Fail the WebSocket connection (§7.1.7) with the error's close code. */
  [kFail](err: ProtocolError): void {
    if (this.#readyState === CLOSED) return;
    this.#decoder.pause();
    this.#emitSafely('error', err);
    if (this.#closeFrameSent) {
      this.#socket.destroy();
      return;
    }
    this.#closeCode = err.closeCode;
    this.#closeReason = '';
    this.#readingDone = true; // end TCP once our close frame is out
    this.#sendCloseFrame(encodeClosePayload(err.closeCode, truncateReason(err.message)));
  }

  /** @internal */
  [kPauseReading](reason: number): void {
    if (this.#pauseReasons === 0) {
      this.#decoder.pause();
      this.#socket.pause();
    }
    this.#pauseReasons |= reason;
  }

  /** @internal */
  [kResumeReading](reason: number): void {
    if ((this.#pauseReasons & reason) === 0) return;
    this.#pauseReasons &= ~reason;
    if (this.#pauseReasons !== 0 || this.#readingDone) return;
    this.#socket.resume();
    this.#decoder.resume();
  }

  /** @internal Called by the data handler: any byte from the peer proves it alive. */
  received(chunk: Buffer): void {
    this.#sawTraffic = true;
    this.#awaitingPong = false;
    if (this.#readingDone) return;
    this.#decoder.push(chunk);
  }

  // ---- heartbeat ---------------------------------------------------------

  /** @internal One tick of the server's shared heartbeat timer. */
  [kHeartbeat](): void {
    if (this.#readyState !== OPEN) return;
    if (this.#pauseReasons !== 0) {
      // We are not reading (a slow consumer, held messages): the peer's
      // silence proves nothing, and its pong would sit unread.
      this.#awaitingPong = false;
      this.#sawTraffic = true;
      return;
    }
    if (this.#awaitingPong) {
      // A whole interval with no byte after our ping: the peer is gone.
      this.terminate();
      return;
    }
    if (this.#sawTraffic) {
      this.#sawTraffic = false;
      return;
    }
    this.#awaitingPong = true;
    this.#write(encodeFrame(Opcode.Ping, EMPTY), undefined);
  }

  // ---- handler lifecycle ---------------------------------------------------

  /** @internal The route's handler is about to be called. */
  [kHandlerStarted](): void {
    this.#handlerStarted = true;
  }

  /**
   * @internal The handler returned (or its promise settled). Messages held for
   * it are delivered to whatever listens now; if nothing does, holding ends.
   */
  [kHandlerSettled](err?: unknown): void {
    if (err !== undefined) this.#handlerFailed(err);
    if (this.#holding) this.#scheduleFlush();
  }

  #handlerFailed(err: unknown): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.#host.reportError(error, this);
    if (this.#readyState === OPEN) this.close(1011, 'internal error');
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // A microtask: the rest of the handler's synchronous code runs first.
    queueMicrotask(() => this.#flushHeld());
  }

  #flushHeld(): void {
    this.#holding = false;
    // The 'newListener' listener stays (it does nothing once holding ended):
    // deleting it from the listener table would turn the table into a dictionary.
    const held = this.#held;
    const heldBinary = this.#heldBinary;
    this.#held = null;
    this.#heldBinary = null;
    this.#heldBytes = 0;
    if (held !== null && heldBinary !== null) {
      for (let i = 0; i < held.length; i++) this.#dispatch(held[i]!, heldBinary[i]!);
    }
    this[kResumeReading](PauseReason.Held);
    // Closed while holding: iterators started late end after the held messages.
    if (this.#readyState === CLOSED) this.#endIterators();
  }

  /** @internal A 'message' listener is being added. */
  listenerAdded(): void {
    if (this.#holding && this.#handlerStarted) this.#scheduleFlush();
  }

  #removeIterator(it: MessageIterator): void {
    const iterators = this.#iterators;
    if (iterators === null) return;
    const i = iterators.indexOf(it);
    if (i !== -1) iterators.splice(i, 1);
    if (iterators.length === 0) this.#iterators = null;
  }

  // ---- closing ---------------------------------------------------------------

  #sendCloseFrame(payload: Buffer): void {
    this.#readyState = CLOSING;
    this.#closeFrameSent = true;
    const frames = encodeFrame(Opcode.Close, payload);
    if (this.#sendQueue !== null) {
      this.#enqueue(frames, 0, undefined, true);
    } else {
      this.#write(frames, undefined);
      this.#afterCloseFrameWritten();
    }
    this.#closeTimer = setTimeout(closeTimedOut, this.#options.closeTimeoutMs, this);
    this.#closeTimer.unref();
  }

  #afterCloseFrameWritten(): void {
    // Both close frames exchanged (or the connection failed): end TCP; the
    // server closes first (§7.1.1). Otherwise wait for the peer's close frame.
    if (this.#readingDone) this.#socket.end();
  }

  /** @internal The TCP connection is gone. */
  socketClosed(): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    if (this.#closeTimer !== null) clearTimeout(this.#closeTimer);
    this.#closeTimer = null;
    this.#deflate?.close();
    const queue = this.#sendQueue;
    this.#sendQueue = null;
    this.#queuedBytes = 0;
    if (queue !== null) for (const entry of queue) entry.cb?.(new Error('WebSocket closed before the message was sent'));
    this.#host.topics.unsubscribeAll(this);
    this.#host.connectionClosed(this);
    // A handler still awaiting keeps its held messages even now: a 'message'
    // listener or `for await` that comes later gets them (after 'close', which
    // must not wait, or a handler awaiting 'close' would wait for itself).
    this.#emitClose();
  }

  #emitClose(): void {
    if (!this.#holding) this.#endIterators();
    this.#emitSafely('close', this.#closeCode, this.#closeReason);
  }

  #endIterators(): void {
    const iterators = this.#iterators;
    if (iterators !== null) for (const it of [...iterators]) it.end();
  }

  #emitSafely<E extends keyof WebSocketEvents>(event: E, ...args: WebSocketEvents[E]): void {
    if (event === 'error' && this.listenerCount('error') === 0) return;
    try {
      (this.emit as (e: E, ...a: WebSocketEvents[E]) => boolean)(event, ...args);
    } catch (err) {
      this.#handlerFailed(err);
    }
  }
}

// ---- module-level handlers: no closures per connection --------------------------

/**
 * A connection's EventEmitter listener table: a plain constructor whose
 * prototype has no prototype, so event names never meet Object.prototype's
 * properties (as with EventEmitter's own `{ __proto__: null }`), while
 * instances stay fast-mode objects that share hidden classes.
 */
const ListenerTable = function ListenerTable(this: object) {} as unknown as new () => object;
ListenerTable.prototype = Object.create(null) as object;

type SocketWithWs = Duplex & { [kWebSocket]: WebSocket };

function socketOnData(this: Duplex, chunk: Buffer): void {
  (this as SocketWithWs)[kWebSocket].received(chunk);
}

function socketOnEnd(this: Duplex): void {
  // HTTP server sockets allow half-open connections: end our side too
  // (unless we closed first: ending twice costs an error object).
  if (!this.writableEnded) this.end();
}

function socketOnClose(this: Duplex): void {
  (this as SocketWithWs)[kWebSocket].socketClosed();
}

function socketOnDrain(this: Duplex): void {
  (this as SocketWithWs)[kWebSocket].notifyDrain();
}

function socketOnError(this: Duplex): void {
  // ECONNRESET and friends: the 'close' event follows and reports 1006.
  this.destroy();
}

function onNewListener(this: WebSocket, event: string | symbol): void {
  if (event === 'message') this.listenerAdded();
}

function closeTimedOut(ws: WebSocket): void {
  ws.terminate();
}

function truncateReason(message: string): string {
  // A close reason is at most 123 bytes (§5.5); error messages are ASCII.
  return message.length > 123 ? message.slice(0, 123) : message;
}

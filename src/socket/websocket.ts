import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { encodeClosePayload } from '../codec/close';
import { FrameDecoder } from '../codec/decoder';
import { toPayload } from '../codec/encoder';
import { Opcode } from '../codec/opcodes';
import type { PerMessageDeflate } from '../codec/permessage-deflate';
import { asHandlerError, codedError, notOpenError, type ProtocolError } from '../errors';
import { kDeliverPrepared, kPausePublisher, kResumePublisher, kTopics } from '../pubsub/topic-member';
import type { PreparedMessage } from '../pubsub/prepared-message';
import type { PublishOptions, TopicHub } from '../pubsub/topic-hub';
import { ClosingHandshake } from './closing-handshake';
import { Inbox } from './inbox';
import type { SocketOptions } from './options';
import { CLOSED, CLOSING, CONNECTING, OPEN } from './ready-state';
import { Receiver } from './receiver';
import { DRAINED_EMIT, DRAINED_RESUME, SendPath } from './send-path';
import {
  kCloseFrameWritten,
  kCompressionFailed,
  kDeliver,
  kFail,
  kHandlerFailed,
  kHandlerSettled,
  kHandlerStarted,
  kHeartbeat,
  kPauseReading,
  kPeerClose,
  kPeerPing,
  kPeerPong,
  kResumeReading,
  kIdleTimeout,
  kSendLimitExceeded,
  kWebSocket,
  PauseReason,
} from './symbols';

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

/** Connections ended by a limit, as counted in `stats()`. */
export type LimitReached = 'sendBuffer' | 'idle' | 'unresponsive';

/** @internal What a connection needs from the server that owns it. */
export interface SocketHost {
  readonly topics: TopicHub;
  connectionClosed(ws: WebSocket): void;
  reportError(err: Error, ws: WebSocket): void;
  /** A limit ended this connection (counted in `stats()`). */
  limitReached?(kind: LimitReached, ws: WebSocket): void;
}

/** @internal */
export interface WebSocketInit {
  readonly protocol: string;
  readonly extensions: string;
  readonly deflate: PerMessageDeflate | null;
  readonly options: SocketOptions;
}

const EMPTY = Buffer.alloc(0);

/**
 * One WebSocket connection (what an `app.ws` handler receives).
 *
 * Events are module-level functions reaching the connection through a
 * symbol on the socket, so a connection holds no closures; timers and
 * buffers are allocated only when needed (closing, holding messages).
 * Its concerns live in their own files: the send path (`send-path.ts`), the
 * closing handshake (`closing-handshake.ts`) and the inbox (`inbox.ts`).
 *
 * @example
 * app.ws('/echo', (ws) => {
 *   ws.on('message', (data) => ws.send(data));
 * });
 */
// Not `implements TopicMember`: its keys are stripped from the published types
// (stripInternal), and TopicHub's parameters check the shape where it matters.
export class WebSocket extends EventEmitter<WebSocketEvents> implements AsyncIterable<string | Buffer> {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSING = CLOSING;
  static readonly CLOSED = CLOSED;

  readonly #socket: Duplex;
  readonly #decoder: FrameDecoder;
  readonly #host: SocketHost;
  readonly #protocol: string;
  readonly #extensions: string;
  readonly #deflate: PerMessageDeflate | null;
  readonly #options: SocketOptions;
  readonly #send: SendPath;
  readonly #closing: ClosingHandshake;
  readonly #inbox: Inbox;

  #readyState: number = OPEN;
  #pauseReasons = 0;

  // Heartbeat: anything received proves the peer alive.
  #sawTraffic = true;
  #awaitingPong = false;
  /** While reading is paused with bytes waiting: what the kernel had taken at the last tick (-1: not watching). */
  #flushedAtTick = -1;
  #pendingInHandleAtTick = 0;
  /** Closes a connection that sends no message for idleTimeoutMs (only when configured). */
  #idleTimer: NodeJS.Timeout | null = null;

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
    this.#protocol = init.protocol;
    this.#extensions = init.extensions;
    this.#deflate = init.deflate;
    this.#options = init.options;
    this.#send = new SendPath(socket, this, init.deflate, init.options);
    this.#closing = new ClosingHandshake(socket, this.#send, this, init.options.closeTimeoutMs);
    this.#inbox = new Inbox(this, init.options);
    this.#decoder = new FrameDecoder(new Receiver(this, init.deflate), {
      maxPayload: init.options.maxPayload,
      expectMasked: true,
      perMessageDeflate: init.deflate !== null,
      maxFragments: init.options.maxFragments,
    });
    (socket as SocketWithWs)[kWebSocket] = this;
    socket.on('data', socketOnData);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnClose);
    socket.on('drain', socketOnDrain);
    socket.on('error', socketOnError);
    if (init.options.idleTimeoutMs > 0) {
      this.#idleTimer = setTimeout(idleTimedOut, init.options.idleTimeoutMs, this);
      this.#idleTimer.unref();
    }
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
    return this.#send.bufferedAmount;
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
    return this.#send.sendMessage(opcode, payload, options?.compress !== false, cb);
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
    return this.#inbox.iterator(this.#readyState === CLOSED);
  }

  #sendControl(opcode: number, data: SendData, cb: SendCallback | undefined): void {
    if (this.#readyState !== OPEN) {
      this.#rejectSend(cb);
      return;
    }
    const payload = toPayload(data);
    if (payload.length > 125) throw codedError(RangeError, 'WS_ERR_INVALID_ARGUMENT', 'a ping or pong payload is at most 125 bytes');
    if (opcode === Opcode.Ping) this.#sendPing(payload, cb);
    else this.#send.sendControl(opcode, payload, cb);
  }

  /** Every ping of ours goes out here: until its pong, the closing handshake must not close TCP at once. */
  #sendPing(payload: Buffer, cb: SendCallback | undefined): void {
    this.#closing.pingSent();
    this.#send.sendControl(Opcode.Ping, payload, cb);
  }

  #rejectSend(cb: SendCallback | undefined): false {
    if (cb) process.nextTick(cb, notOpenError());
    return false;
  }

  /** @internal The socket drained: tell a sender that was told to wait, read from the peer again. */
  notifyDrain(): void {
    if (this.#readyState === CLOSED) return;
    const drained = this.#send.drained();
    if ((drained & DRAINED_EMIT) !== 0 && this.#readyState === OPEN) this.#emitSafely('drain');
    if ((drained & DRAINED_RESUME) !== 0) this[kResumeReading](PauseReason.SendBuffer);
  }

  /** @internal send() past maxBufferedAmount: the peer does not read what we send. */
  [kSendLimitExceeded](): void {
    if (this.#readyState !== OPEN) return;
    this.#host.limitReached?.('sendBuffer', this);
    // §7.4.1: 1008, a policy violation. The close frame waits behind what the
    // peer has not read; closeTimeoutMs drops it if it never does.
    this.close(1008, 'send buffer limit exceeded');
  }

  /** @internal No message for idleTimeoutMs. */
  [kIdleTimeout](): void {
    this.#idleTimer = null;
    if (this.#readyState !== OPEN) return;
    this.#host.limitReached?.('idle', this);
    this.close(1000, 'idle timeout');
  }

  /** @internal A message could not be compressed: the connection cannot go on. */
  [kCompressionFailed](error: Error, cb: SendCallback | undefined): void {
    this.#host.reportError(error, this);
    cb?.(error);
    this.terminate();
  }

  // ---- topics ---------------------------------------------------------------

  /** @internal A topic publish: the frame was encoded once for every subscriber. */
  [kDeliverPrepared](message: PreparedMessage): boolean {
    if (this.#readyState !== OPEN) return false;
    // Live, this turn's corked writes included: a synchronous loop of publishes to a stalled subscriber stops at the limit.
    if (this.#send.charged > this.#options.maxBackpressure) {
      if (this.#options.backpressurePolicy === 'close') this.close(1008, 'subscriber too slow');
      return false;
    }
    this.#send.sendPrepared(message);
    return true;
  }

  /** @internal The delivery budget: stop reading from this publisher (TCP pushes back on its peer). */
  [kPausePublisher](): void {
    this[kPauseReading](PauseReason.Budget);
  }

  /** @internal */
  [kResumePublisher](): void {
    this[kResumeReading](PauseReason.Budget);
  }

  // ---- receiving (called by the Receiver) -----------------------------------

  /** @internal */
  [kDeliver](message: string | Buffer, isBinary: boolean): void {
    this.#idleTimer?.refresh();
    this.#inbox.deliver(message, isBinary);
  }

  /** @internal */
  [kPeerPing](data: Buffer): void {
    // §5.5.2: answer with a pong carrying the same application data, unless closing.
    if (this.#readyState === OPEN) this.#send.sendPong(data);
    this.#emitSafely('ping', data);
  }

  /** @internal */
  [kPeerPong](data: Buffer): void {
    this.#closing.pongReceived();
    this.#emitSafely('pong', data);
  }

  /** @internal The peer's close frame (§7.1.5). */
  [kPeerClose](code: number, reason: string): void {
    // Nothing after a close frame is read (§5.5.1).
    this.#decoder.pause();
    const answer = this.#closing.peerClosed(code, reason);
    if (answer !== null) this.#sendCloseFrame(answer);
  }

  /** @internal Fail the WebSocket connection (§7.1.7) with the error's close code. */
  [kFail](err: ProtocolError): void {
    if (this.#readyState === CLOSED) return;
    this.#decoder.pause();
    this.#emitSafely('error', err);
    const payload = this.#closing.failed(err);
    if (payload !== null) this.#sendCloseFrame(payload);
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
    if (this.#pauseReasons !== 0 || this.#closing.readingDone) return;
    this.#socket.resume();
    this.#decoder.resume();
  }

  /** @internal Called by the data handler: any byte from the peer proves it alive. */
  received(chunk: Buffer): void {
    this.#sawTraffic = true;
    this.#awaitingPong = false;
    if (this.#closing.readingDone) return;
    this.#decoder.push(chunk);
  }

  // ---- heartbeat ---------------------------------------------------------

  /** @internal One tick of the server's shared heartbeat timer. */
  [kHeartbeat](): void {
    if (this.#readyState !== OPEN) return;
    if (this.#pauseReasons !== 0) {
      this.#pausedHeartbeat();
      return;
    }
    this.#flushedAtTick = -1;
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
    this.#sendPing(EMPTY, undefined);
  }

  /**
   * We are not reading (a peer that does not read, a slow consumer, held
   * messages): the peer's silence proves nothing, and its pong would sit
   * unread. What proves it alive is that it takes our bytes: one that takes
   * none of them for a whole interval is gone (or a zero-window attacker).
   */
  #pausedHeartbeat(): void {
    this.#awaitingPong = false;
    this.#sawTraffic = true;
    const flushed = this.#send.bytesFlushed();
    if (flushed === undefined) return;
    if (this.#socket.writableLength === 0) {
      this.#flushedAtTick = -1;
      // Nothing waiting: a ping gives TCP unacknowledged bytes to time out on if the peer vanished.
      this.#sendPing(EMPTY, undefined);
      return;
    }
    const pendingInHandle = this.#send.pendingInHandle();
    if (flushed === this.#flushedAtTick && pendingInHandle === this.#pendingInHandleAtTick) {
      this.#host.limitReached?.('unresponsive', this);
      this.terminate();
      return;
    }
    this.#flushedAtTick = flushed;
    this.#pendingInHandleAtTick = pendingInHandle;
  }

  // ---- handler lifecycle ---------------------------------------------------

  /** @internal The route's handler is about to be called. */
  [kHandlerStarted](): void {
    this.#inbox.handlerStarted();
  }

  /**
   * @internal The handler returned (or its promise settled). Messages held for
   * it are delivered to whatever listens now; if nothing does, holding ends.
   */
  [kHandlerSettled](err?: unknown): void {
    if (err !== undefined) this[kHandlerFailed](err);
    this.#inbox.handlerSettled();
  }

  /** @internal A handler or listener threw: report it and close with 1011. */
  [kHandlerFailed](err: unknown): void {
    const error = asHandlerError(err);
    this.#host.reportError(error, this);
    if (this.#readyState === OPEN) this.close(1011, 'internal error');
  }

  /** @internal A 'message' listener is being added. */
  listenerAdded(): void {
    this.#inbox.listenerAdded();
  }

  // ---- closing ---------------------------------------------------------------

  #sendCloseFrame(payload: Buffer): void {
    this.#readyState = CLOSING;
    this.#closing.sendFrame(payload);
  }

  /** @internal Our close frame was handed to the socket. */
  [kCloseFrameWritten](): void {
    this.#closing.frameWritten();
  }

  /** @internal The TCP connection is gone. */
  socketClosed(): void {
    if (this.#readyState === CLOSED) return;
    this.#readyState = CLOSED;
    this.#closing.socketClosed();
    if (this.#idleTimer !== null) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    this.#deflate?.close();
    this.#send.closed();
    this.#host.topics.unsubscribeAll(this);
    this.#host.connectionClosed(this);
    this.#inbox.connectionClosed();
    this.#emitSafely('close', this.#closing.code, this.#closing.reason);
  }

  #emitSafely<E extends keyof WebSocketEvents>(event: E, ...args: WebSocketEvents[E]): void {
    if (event === 'error' && this.listenerCount('error') === 0) return;
    try {
      (this.emit as (e: E, ...a: WebSocketEvents[E]) => boolean)(event, ...args);
    } catch (err) {
      this[kHandlerFailed](err);
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

function idleTimedOut(ws: WebSocket): void {
  ws[kIdleTimeout]();
}

function socketOnError(this: Duplex): void {
  // ECONNRESET and friends: the 'close' event follows and reports 1006.
  this.destroy();
}

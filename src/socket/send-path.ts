import type { Duplex } from 'node:stream';
import { encodeFrame, encodeMessage } from '../codec/encoder';
import { Opcode } from '../codec/opcodes';
import type { PerMessageDeflate } from '../codec/permessage-deflate';
import { protocolError, SendError, type SendErrorCode } from '../errors';
import type { PreparedMessage } from '../pubsub/prepared-message';
import { QUEUED_MESSAGE_OVERHEAD, type SocketOptions } from './options';
import { CLOSED } from './ready-state';
import { kCloseFrameWritten, kCompressionFailed, kPauseReading, kSendLimitExceeded, PauseReason } from './symbols';
import type { SendCallback, WebSocket } from './websocket';
import { corkForTurn, uncorkNow } from './write-batcher';

interface QueuedSend {
  /** null while its compression is pending. */
  frames: Buffer[] | null;
  bytes: number;
  cb: SendCallback | undefined;
  /** Close frames end the socket's output once written. */
  isClose: boolean;
}

const EMPTY = Buffer.alloc(0);
/** Frames at least this big are written at once instead of joining the turn's batch. */
const UNCORKED_WRITE_BYTES = 64 * 1024;

/** What the owner does when the socket drained (bits of notifyDrain's answer). */
export const DRAINED_EMIT = 1;
export const DRAINED_RESUME = 2;

/**
 * One connection's outgoing side: frames written in order (a message waiting
 * for compression holds back the ones after it), batched per event-loop turn,
 * with `bufferedAmount`, the high-water mark and `drain`.
 *
 * Memory is bounded whatever the peer does: while `bufferedAmount` (plus a
 * per-message charge, see `charged`) is over the high-water mark, reading from the peer pauses (TCP pushes back on a peer
 * that sends but does not read) and at most one auto-pong is owed; a `send()`
 * past `maxBufferedAmount` closes the connection with 1008.
 */
export class SendPath {
  readonly #socket: Duplex;
  readonly #ws: WebSocket;
  readonly #deflate: PerMessageDeflate | null;
  readonly #options: SocketOptions;

  #needDrain = false;
  #drainArmed = false;
  #onDrainWrite: (() => void) | null = null;
  #sendQueue: QueuedSend[] | null = null;
  #queuedBytes = 0;
  /** Messages handed to the socket (by #write) whose write has not completed yet. */
  #unflushedWrites = 0;
  #onWritten: (() => void) | null = null;
  /** bufferedAmount reached the high-water mark: reading is paused until it drains. */
  #over = false;
  /** The payload of the one pong owed while over the high-water mark (§5.5.3: the latest wins). */
  #owedPong: Buffer | null = null;
  /** Why callbacks of writes that fail from now on fail. */
  #failure: SendErrorCode = 'WS_ERR_CLOSED_BEFORE_SENT';

  constructor(socket: Duplex, ws: WebSocket, deflate: PerMessageDeflate | null, options: SocketOptions) {
    this.#socket = socket;
    this.#ws = ws;
    this.#deflate = deflate;
    this.#options = options;
  }

  /** Bytes accepted and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#socket.writableLength + this.#queuedBytes;
  }

  /**
   * What the high-water mark and the limits are checked against:
   * `bufferedAmount` plus QUEUED_MESSAGE_OVERHEAD per message not yet handed
   * to the kernel (queued behind a compression, or in the socket's buffer),
   * so empty (or tiny) messages are not free: each costs its frame buffer
   * and a write entry, ~150 bytes of heap for an empty one, not 2.
   */
  get charged(): number {
    const queue = this.#sendQueue;
    const queued = queue === null ? 0 : queue.length;
    const writableLength = this.#socket.writableLength;
    // Nothing left in the socket: the write callbacks that say so may still be on their way.
    const unflushed = writableLength === 0 ? 0 : this.#unflushedWrites;
    return writableLength + this.#queuedBytes + (queued + unflushed) * QUEUED_MESSAGE_OVERHEAD;
  }

  /** Messages wait for a compression: what is sent now goes behind them. */
  get queued(): boolean {
    return this.#sendQueue !== null;
  }

  /** A data message; returns false over the high-water mark (drain follows). */
  sendMessage(opcode: number, payload: Buffer, compress: boolean, cb: SendCallback | undefined): boolean {
    // Checked against what is buffered right now, corked writes of this turn included.
    const buffered = this.charged;
    if (buffered > 0 && buffered + payload.length > this.#options.maxBufferedAmount) {
      this.#failure = 'WS_ERR_SEND_LIMIT';
      if (cb) process.nextTick(cb, new SendError('WS_ERR_SEND_LIMIT', `${buffered} bytes buffered`));
      this.#ws[kSendLimitExceeded]();
      return false;
    }
    const deflate = this.#deflate;
    if (deflate !== null && compress && payload.length >= deflate.threshold) {
      const entry = this.#enqueue(null, payload.length, cb);
      deflate.compress(payload, (err, compressed) => this.#compressed(entry, opcode, err, compressed));
    } else if (this.#sendQueue !== null) {
      this.#enqueue(this.#frames(opcode, payload, false), payload.length, cb);
    } else {
      this.#write(this.#frames(opcode, payload, false), cb);
    }
    if (this.#underHighWaterMark()) return true;
    this.#needDrain = true;
    return false;
  }

  /** A topic publish, framed once for every subscriber (compressed per connection). */
  sendPrepared(message: PreparedMessage): void {
    const deflate = this.#deflate;
    if (deflate !== null && message.payload.length >= deflate.threshold) {
      // message.written releases the delivery budget's charge once the bytes are out (or failed).
      const entry = this.#enqueue(null, message.payload.length, message.written);
      message.compressFor(deflate, (err, payload) => this.#compressed(entry, message.opcode, err, payload));
    } else {
      const frames = message.frames(this.#options.fragmentSize);
      if (this.#sendQueue !== null) this.#enqueue(frames, message.payload.length, message.written);
      // The budget's release ignores the error: no SendError wrapper (a closure per subscriber) needed.
      else this.#writeFrames(frames, message.written);
    }
    this.#underHighWaterMark();
  }

  /** Control frames may go between messages (§5.4), so they need not wait for compression. */
  sendControl(opcode: number, payload: Buffer, cb: SendCallback | undefined): void {
    this.#write(encodeFrame(opcode, payload), cb);
    this.#underHighWaterMark();
  }

  /**
   * Answer a ping (§5.5.2). Over the high-water mark the peer is not reading
   * what we send, so pongs are not queued behind it one per ping: one is owed
   * and goes out when the buffer drains, with the latest ping's payload
   * (§5.5.3: a pong may answer only the most recent ping).
   */
  sendPong(data: Buffer): void {
    // Owed: a copy, since the payload is a view into a read chunk it would pin.
    // Sent now: encodeFrame copies a control payload into the frame already.
    if (this.#over) this.#owedPong = Buffer.from(data);
    else this.sendControl(Opcode.Pong, data, undefined);
  }

  /**
   * Bytes whose writes the kernel completed so far (undefined on streams that
   * do not say). A big write the kernel takes in parts completes only at its
   * end: `pendingInHandle()` shows the parts.
   */
  bytesFlushed(): number | undefined {
    const written = (this.#socket as Duplex & { bytesWritten?: number }).bytesWritten;
    return typeof written === 'number' ? written - this.#socket.writableLength : undefined;
  }

  /**
   * Bytes handed to the socket's handle (libuv) that the kernel has not taken
   * yet. Node has no public way to see a partial write progress, so this reads
   * the handle's `writeQueueSize` (what `net.Socket` itself uses); 0 if absent.
   */
  pendingInHandle(): number {
    const handle = (this.#socket as Duplex & { _handle?: { writeQueueSize?: unknown } | null })._handle;
    const size = handle?.writeQueueSize;
    return typeof size === 'number' ? size : 0;
  }

  /** Our close frame, after every message sent before it; the owner hears when it is written. */
  sendClose(frames: Buffer[]): void {
    if (this.#sendQueue !== null) {
      this.#enqueue(frames, 0, undefined, true);
    } else {
      this.#write(frames, undefined);
      this.#ws[kCloseFrameWritten]();
    }
  }

  /**
   * The socket drained (or may have): DRAINED_EMIT when a sender that was
   * told to wait may go on (the owner emits 'drain'), DRAINED_RESUME when
   * reading from the peer may resume; otherwise wait for the next drain.
   */
  drained(): number {
    if (!this.#needDrain && !this.#over) return 0;
    if (this.charged >= this.#options.highWaterMark) {
      this.#armDrain();
      return 0;
    }
    let result = 0;
    if (this.#over) {
      this.#over = false;
      result |= DRAINED_RESUME;
      const pong = this.#owedPong;
      this.#owedPong = null;
      if (pong !== null && !this.#socket.destroyed) this.sendControl(Opcode.Pong, pong, undefined);
    }
    if (this.#needDrain) {
      this.#needDrain = false;
      result |= DRAINED_EMIT;
    }
    return result;
  }

  /** The TCP connection is gone: every queued send fails. */
  closed(): void {
    const queue = this.#sendQueue;
    this.#sendQueue = null;
    this.#queuedBytes = 0;
    this.#owedPong = null;
    if (queue !== null) for (const entry of queue) entry.cb?.(new SendError(this.#failure));
  }

  #frames(opcode: number, payload: Buffer, rsv1: boolean): Buffer[] {
    return encodeMessage(opcode, payload, { fragmentSize: this.#options.fragmentSize, rsv1 });
  }

  /** A message, counted until its write completes (or fails: a destroyed socket calls back too). */
  #write(frames: Buffer[], userCb: SendCallback | undefined): void {
    this.#unflushedWrites++;
    this.#writeFrames(frames, userCb === undefined ? (this.#onWritten ??= () => this.#written()) : this.#stableErrors(userCb));
  }

  #written(): void {
    this.#unflushedWrites--;
  }

  #writeFrames(frames: Buffer[], cb: SendCallback | undefined): void {
    const socket = this.#socket;
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
    // Closed meanwhile (deflate.close() fails pending work): closed() already failed every queued send.
    if (this.#ws.readyState === CLOSED) return;
    if (err || payload === undefined) {
      // The queue stays blocked behind this entry; the connection is failing anyway.
      const cb = entry.cb;
      entry.cb = undefined; // closed() fails the rest of the queue, not this one again
      this.#ws[kCompressionFailed](err ?? protocolError('WS_ERR_COMPRESSION_FAILED'), cb);
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
      if (this.#socket.destroyed) entry.cb?.(new SendError(this.#failure));
      else this.#write(entry.frames, entry.cb);
      if (entry.isClose) this.#ws[kCloseFrameWritten]();
    }
    queue.splice(0, i);
    if (queue.length === 0) this.#sendQueue = null;
    if (this.#needDrain || this.#over) this.#armDrain();
  }

  /** Callbacks of writes the socket fails get a SendError with a stable code (the cause attached). */
  #stableErrors(cb: SendCallback): SendCallback {
    return (err) => {
      this.#written();
      if (err) cb(new SendError(this.#failure, undefined, { cause: err }));
      else cb(err);
    };
  }

  /** After any write: over the high-water mark, stop reading from the peer until it drains. */
  #underHighWaterMark(): boolean {
    if (this.charged < this.#options.highWaterMark) return true;
    if (!this.#over) {
      this.#over = true;
      this.#ws[kPauseReading](PauseReason.SendBuffer);
    }
    this.#armDrain();
    return false;
  }

  /**
   * Make sure the owner's `notifyDrain` runs once what is buffered now is
   * written. The socket's own 'drain' only comes after its buffer passed the
   * stream's high-water mark (16 KiB), which ours may be below, so otherwise
   * an empty write's callback (called after every earlier write) is the
   * signal. A queue waiting on compression arms again when it is flushed.
   */
  #armDrain(): void {
    const socket = this.#socket;
    if (this.#drainArmed || socket.writableNeedDrain || socket.destroyed) return;
    if (socket.writableLength === 0) {
      if (this.#sendQueue === null) process.nextTick(notifyDrain, this.#ws);
      return;
    }
    this.#drainArmed = true;
    socket.write(EMPTY, (this.#onDrainWrite ??= () => {
      this.#drainArmed = false;
      this.#ws.notifyDrain();
    }));
  }
}

function notifyDrain(ws: WebSocket): void {
  ws.notifyDrain();
}

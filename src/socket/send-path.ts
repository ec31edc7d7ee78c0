import type { Duplex } from 'node:stream';
import { encodeFrame, encodeMessage } from '../codec/encoder';
import type { PerMessageDeflate } from '../codec/permessage-deflate';
import type { PreparedMessage } from '../pubsub/prepared-message';
import type { SocketOptions } from './options';
import { CLOSED } from './ready-state';
import { kCloseFrameWritten, kCompressionFailed } from './symbols';
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

/**
 * One connection's outgoing side: frames written in order (a message waiting
 * for compression holds back the ones after it), batched per event-loop turn,
 * with `bufferedAmount`, the high-water mark and `drain`.
 */
export class SendPath {
  readonly #socket: Duplex;
  readonly #ws: WebSocket;
  readonly #deflate: PerMessageDeflate | null;
  readonly #options: SocketOptions;

  #needDrain = false;
  #drainArmed = false;
  /** Unwritten bytes when this turn's first write corked the socket (see backpressure()). */
  #backlog = 0;
  #onDrainWrite: (() => void) | null = null;
  #sendQueue: QueuedSend[] | null = null;
  #queuedBytes = 0;

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

  /** Messages wait for a compression: what is sent now goes behind them. */
  get queued(): boolean {
    return this.#sendQueue !== null;
  }

  /** A data message; returns false over the high-water mark (drain follows). */
  sendMessage(opcode: number, payload: Buffer, compress: boolean, cb: SendCallback | undefined): boolean {
    const deflate = this.#deflate;
    if (deflate !== null && compress && payload.length >= deflate.threshold) {
      const entry = this.#enqueue(null, payload.length, cb);
      deflate.compress(payload, (err, compressed) => this.#compressed(entry, opcode, err, compressed));
    } else if (this.#sendQueue !== null) {
      this.#enqueue(this.#frames(opcode, payload, false), payload.length, cb);
    } else {
      this.#write(this.#frames(opcode, payload, false), cb);
    }
    return this.#underHighWaterMark();
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
      else this.#write(frames, message.written);
    }
  }

  /** Control frames may go between messages (§5.4), so they need not wait for compression. */
  sendControl(opcode: number, payload: Buffer, cb: SendCallback | undefined): void {
    this.#write(encodeFrame(opcode, payload), cb);
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
   * Bytes the peer has not taken: what was still unwritten when this turn's
   * writes began (they are corked and leave together at the end of the turn,
   * so a burst of publishes to a fast reader does not count as slow), plus
   * messages waiting for compression.
   */
  backpressure(): number {
    const socket = this.#socket;
    return (socket.writableCorked > 0 ? this.#backlog : socket.writableLength) + this.#queuedBytes;
  }

  /**
   * The socket drained: true when a sender that was told to wait may go on
   * (the owner emits 'drain'); otherwise wait for the next drain.
   */
  drained(): boolean {
    if (!this.#needDrain) return false;
    if (this.bufferedAmount >= this.#options.highWaterMark) {
      this.#armDrain();
      return false;
    }
    this.#needDrain = false;
    return true;
  }

  /** The TCP connection is gone: every queued send fails. */
  closed(): void {
    const queue = this.#sendQueue;
    this.#sendQueue = null;
    this.#queuedBytes = 0;
    if (queue !== null) for (const entry of queue) entry.cb?.(new Error('WebSocket closed before the message was sent'));
  }

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
    // Closed meanwhile (deflate.close() fails pending work): closed() already failed every queued send.
    if (this.#ws.readyState === CLOSED) return;
    if (err || payload === undefined) {
      // The queue stays blocked behind this entry; the connection is failing anyway.
      const cb = entry.cb;
      entry.cb = undefined; // closed() fails the rest of the queue, not this one again
      this.#ws[kCompressionFailed](err ?? new Error('compression failed'), cb);
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
      if (entry.isClose) this.#ws[kCloseFrameWritten]();
    }
    queue.splice(0, i);
    if (queue.length === 0) this.#sendQueue = null;
    if (this.#needDrain) this.#armDrain();
  }

  #underHighWaterMark(): boolean {
    if (this.bufferedAmount < this.#options.highWaterMark) return true;
    this.#needDrain = true;
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

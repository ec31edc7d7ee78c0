import { encodeMessage, headerLength } from '../codec/encoder';
import { compressShared, type PerMessageDeflate } from '../codec/permessage-deflate';

type CompressCallback = (err: Error | null, payload?: Buffer) => void;

/**
 * A published message, framed once: every subscriber gets the same frame
 * bytes. Compression is shared too where it can be: connections whose server
 * side has no context takeover produce history-free frames, so one deflate per
 * distinct setting (`sharedKey`) serves all of them. A connection with context
 * takeover must compress with its own stream (its frames depend on what it
 * sent before), so it compresses for itself.
 */
export class PreparedMessage {
  #frames: Buffer[] | null = null;
  #framesFragmentSize = 0;
  #shared: Map<string, SharedCompression> | null = null;

  /** The frame's size, uncompressed: what the delivery budget charges once per publish (shared by every delivery). */
  readonly bytes: number;
  /**
   * Write callback for every delivery of this message: releases its bytes
   * from the delivery budget. Subscribers call it exactly once per delivery.
   */
  written: (err?: Error | null) => void = noop;

  constructor(
    readonly opcode: number,
    readonly payload: Buffer,
  ) {
    const n = payload.length;
    this.bytes = n + headerLength(n, false);
  }

  /** The uncompressed frames (cached for the common single fragment size). */
  frames(fragmentSize: number): Buffer[] {
    if (this.#frames !== null && this.#framesFragmentSize === fragmentSize) return this.#frames;
    const frames = encodeMessage(this.opcode, this.payload, { fragmentSize });
    this.#frames = frames;
    this.#framesFragmentSize = fragmentSize;
    return frames;
  }

  /** The compressed payload for `deflate`'s connection (callbacks in call order per connection). */
  compressFor(deflate: PerMessageDeflate, cb: CompressCallback): void {
    const key = deflate.sharedKey;
    if (key === null) {
      deflate.compress(this.payload, cb);
      return;
    }
    const shared = (this.#shared ??= new Map());
    let job = shared.get(key);
    if (job === undefined) {
      job = new SharedCompression();
      shared.set(key, job);
      const started = job;
      compressShared(this.payload, deflate.params, deflate.options, (err, payload) => started.settle(err, payload));
    }
    job.then(cb);
  }
}

/** One compression whose result many connections wait for. */
class SharedCompression {
  #waiting: CompressCallback[] | null = [];
  #err: Error | null = null;
  #payload: Buffer | undefined;

  then(cb: CompressCallback): void {
    if (this.#waiting !== null) this.#waiting.push(cb);
    else cb(this.#err, this.#payload);
  }

  settle(err: Error | null, payload: Buffer | undefined): void {
    this.#err = err;
    this.#payload = payload;
    const waiting = this.#waiting ?? [];
    this.#waiting = null;
    for (const cb of waiting) cb(err, payload);
  }
}

function noop(): void {}

/**
 * permessage-deflate (RFC 7692 §7): compress and decompress whole messages
 * with node:zlib, one connection per instance, server side.
 *
 * - Fast for small messages: a message of at most SYNC_DEFLATE_LIMIT bytes
 *   (compress) or SYNC_INFLATE_LIMIT compressed bytes (decompress) is handled
 *   synchronously, its callback called before compress()/decompress()
 *   returns, when its direction has nothing queued or running
 *   (deflate-sync.ts). Bigger ones go to the threadpool.
 * - Lazy: no zlib stream exists until the first compressed message in each
 *   direction. A direction without context takeover uses no stream of its own
 *   for small messages (one process-wide stream per setting, reset after each
 *   message) and a throwaway stream per big one, so an idle connection holds no
 *   zlib memory.
 * - Ordered: each direction runs one message at a time from a FIFO, so
 *   callbacks fire in call order, sync or not.
 * - Bounded: every threadpool job holds a slot of a process-wide limiter.
 * - Zip-bomb safe: inflation stops at the first output chunk past maxPayload.
 */
import * as zlib from 'node:zlib';
import { DeflateClosedError, protocolError, type ProtocolError } from '../errors';
import { Fifo, zlibLimiter, type ZlibLimiter } from './deflate-limiter';
import {
  deflateSync,
  inflateSync,
  resetStream,
  sharedDeflater,
  sharedInflater,
  syncZlibAvailable,
  SYNC_DEFLATE_LIMIT,
  SYNC_INFLATE_LIMIT,
  type SyncResult,
} from './deflate-sync';
import {
  resolveDeflateOptions,
  zlibWindowBits,
  type DeflateParams,
  type PerMessageDeflateOptions,
  type ResolvedDeflateOptions,
} from './deflate-options';

export type { DeflateParams, PerMessageDeflateOptions } from './deflate-options';
export { SYNC_DEFLATE_LIMIT, SYNC_INFLATE_LIMIT } from './deflate-sync';
export { negotiatePerMessageDeflate, type DeflateAgreement } from './deflate-negotiation';

/** §7.2.1 / §7.2.2: the empty stored block that ends a sync flush, cut by the sender, put back by the receiver. */
const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const NO_TAIL = 'zlib ended a message without the sync-flush tail';

type Callback<E extends Error> = (err: E | null, payload?: Buffer) => void;

/** What compress() callbacks get for work that close() cut short (catalogued in src/errors.ts). */
export { DeflateClosedError };

export class PerMessageDeflate {
  /** Messages shorter than this (bytes) should be sent uncompressed. */
  readonly threshold: number;
  /**
   * Non-null only with server_no_context_takeover: then a compressed message
   * does not depend on this connection's history, and every connection with
   * the same key can share the bytes of one `compressShared` call.
   */
  readonly sharedKey: string | null;
  /** What the negotiation agreed. */
  readonly params: Readonly<DeflateParams>;
  /** The options this instance was made with (as given; for compressShared). */
  readonly options: Readonly<PerMessageDeflateOptions>;

  readonly #opts: ResolvedDeflateOptions;
  readonly #maxPayload: number;
  readonly #compressLane: Lane<Error>;
  readonly #decompressLane: Lane<ProtocolError>;
  #closed = false;

  #deflate: zlib.DeflateRaw | null = null;
  #deflateChunks: Buffer[] = [];
  #deflateDone: Callback<Error> | null = null;

  #inflate: zlib.InflateRaw | null = null;
  #inflateChunks: Buffer[] = [];
  #inflateLength = 0;
  #inflateDone: Callback<ProtocolError> | null = null;

  /**
   * @param params what negotiatePerMessageDeflate agreed
   * @param maxPayload largest inflated message in bytes; 0 = unlimited
   * @example
   * const pmd = new PerMessageDeflate(agreement.params, options, 16 * 1024 * 1024);
   * pmd.decompress(payload, (err, message) => { ... });
   */
  constructor(params: DeflateParams, options: PerMessageDeflateOptions, maxPayload: number) {
    this.#opts = resolveDeflateOptions(options);
    this.params = { ...params };
    this.options = options;
    this.threshold = this.#opts.threshold;
    this.sharedKey = deflateSharedKey(params, this.#opts);
    this.#maxPayload = maxPayload > 0 ? maxPayload : 0;
    const limiter = zlibLimiter(this.#opts.concurrencyLimit);
    const sync = syncZlibAvailable();
    this.#compressLane = new Lane(
      limiter,
      (data, done) => this.#deflateMessage(data, done),
      sync ? (data, done) => this.#deflateNow(data, done) : null,
      SYNC_DEFLATE_LIMIT,
    );
    this.#decompressLane = new Lane(
      limiter,
      (data, done) => this.#inflateMessage(data, done),
      sync ? (data, done) => this.#inflateNow(data, done) : null,
      SYNC_INFLATE_LIMIT,
    );
  }

  /**
   * Compress one message; the callback gets the payload with the
   * 0x00 0x00 0xff 0xff tail removed (RFC 7692 §7.2.1), to send with RSV1.
   * Callbacks fire in call order: synchronously (before compress returns) for
   * a message of at most SYNC_DEFLATE_LIMIT bytes when none is queued before
   * it, else later. After close() they get a DeflateClosedError, on the next
   * tick.
   */
  compress(data: Buffer, cb: (err: Error | null, payload?: Buffer) => void): void {
    if (this.#closed) {
      process.nextTick(cb, new DeflateClosedError());
      return;
    }
    this.#compressLane.add(data, cb);
  }

  /**
   * Inflate one message's joined payload (the tail is appended here, §7.2.2).
   * Past maxPayload inflated bytes → WS_ERR_MESSAGE_TOO_BIG (1009), inflation
   * stopped at once; corrupt data → WS_ERR_INVALID_COMPRESSED_DATA (1007).
   * Callbacks fire in call order: synchronously for a payload of at most
   * SYNC_INFLATE_LIMIT bytes when none is queued before it, else later
   * (callers must allow both). After close() pending and
   * later callbacks are never called: the connection is gone, nobody is left
   * to deliver a message to.
   */
  decompress(data: Buffer, cb: (err: ProtocolError | null, payload?: Buffer) => void): void {
    if (this.#closed) return;
    this.#decompressLane.add(data, cb);
  }

  /**
   * Free both zlib streams now. Pending compress callbacks get a
   * DeflateClosedError (on the next tick, in call order); pending decompress
   * callbacks are dropped. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#deflateDone = null;
    this.#inflateDone = null;
    this.#dropDeflate();
    this.#dropInflate();
    this.#decompressLane.close(null);
    this.#compressLane.close(() => new DeflateClosedError());
  }

  // --- compression ---------------------------------------------------------

  /** The sync path; the lane runs it only while no async job of this direction is in flight. */
  #deflateNow(data: Buffer, done: Callback<Error>): void {
    if (data.length === 0) {
      done(null, Buffer.from([0x00])); // §7.2.3.6, as in #deflateMessage
      return;
    }
    if (this.params.serverNoContextTakeover) {
      // §7.1.1.1: an empty window for every message: the shared stream, reset.
      settleDeflate(deflateShared(data, this.params, this.#opts), done);
      return;
    }
    const stream = this.#deflate ?? this.#createDeflate();
    const result = deflateSync(stream, data);
    if (!result.ok || !endsWithTail(result.payload)) this.#dropDeflate();
    settleDeflate(result, done);
  }

  #deflateMessage(data: Buffer, done: Callback<Error>): void {
    if (data.length === 0) {
      // §7.2.3.6: an empty message is one empty stored block, 0x00 once the tail
      // is cut. zlib refuses a second sync flush with no input in between.
      process.nextTick(done, null, Buffer.from([0x00]));
      return;
    }
    const stream = this.#deflate ?? this.#createDeflate();
    this.#deflateDone = done;
    stream.write(data);
    stream.flush(zlib.constants.Z_SYNC_FLUSH, () => {
      if (this.#deflate !== stream || this.#deflateDone !== done) return; // closed or failed meanwhile
      this.#deflateDone = null;
      const out = join(this.#deflateChunks);
      this.#deflateChunks = [];
      // §7.1.1.1: without server context takeover every message starts from an empty window.
      if (this.params.serverNoContextTakeover) this.#dropDeflate();
      if (!endsWithTail(out)) {
        this.#dropDeflate();
        done(protocolError('WS_ERR_COMPRESSION_FAILED', NO_TAIL));
        return;
      }
      // §7.2.1: remove 4 octets (0x00 0x00 0xff 0xff) from the tail end.
      done(null, out.subarray(0, out.length - TAIL.length));
    });
  }

  #createDeflate(): zlib.DeflateRaw {
    const stream = zlib.createDeflateRaw({
      windowBits: zlibWindowBits(this.params.serverMaxWindowBits),
      level: this.#opts.level,
      memLevel: this.#opts.memLevel,
    });
    stream.on('data', (chunk: Buffer) => {
      if (stream === this.#deflate) this.#deflateChunks.push(chunk);
    });
    stream.on('error', (err: Error) => {
      if (stream !== this.#deflate) return;
      const done = this.#deflateDone;
      this.#deflateDone = null;
      this.#dropDeflate();
      done?.(protocolError('WS_ERR_COMPRESSION_FAILED', err.message));
    });
    this.#deflate = stream;
    return stream;
  }

  #dropDeflate(): void {
    const stream = this.#deflate;
    if (stream === null) return;
    this.#deflate = null;
    this.#deflateChunks = [];
    stream.close();
  }

  // --- decompression -------------------------------------------------------

  /** The sync path (see #deflateNow). */
  #inflateNow(data: Buffer, done: Callback<ProtocolError>): void {
    if (data.length === 0) {
      done(null, Buffer.alloc(0)); // as in #inflateMessage
      return;
    }
    let result: SyncResult;
    if (this.params.clientNoContextTakeover) {
      // §7.1.1.2: an empty window for every message: the shared stream, reset
      // (a destroyed one is replaced on next use).
      const stream = sharedInflater(zlibWindowBits(this.params.clientMaxWindowBits));
      result = inflateSync(stream, data, TAIL, this.#maxPayload);
      resetStream(stream);
    } else {
      const stream = this.#inflate ?? this.#createInflate();
      result = inflateSync(stream, data, TAIL, this.#maxPayload);
      // Too big or corrupt: the connection fails anyway; drop what is left of the window.
      if (!result.ok) this.#dropInflate();
      // BFINAL ended the DEFLATE stream: the next message starts a new one.
      else if (result.ended) resetStream(stream);
    }
    if (result.ok) done(null, result.payload);
    else if (result.tooBig) done(protocolError('WS_ERR_MESSAGE_TOO_BIG'));
    else done(protocolError('WS_ERR_INVALID_COMPRESSED_DATA', result.error.message));
  }

  #inflateMessage(data: Buffer, done: Callback<ProtocolError>): void {
    if (data.length === 0) {
      // Not a valid deflate block; an empty message is the only sane reading,
      // and feeding the bare tail to zlib would leave it mid-block.
      process.nextTick(done, null, Buffer.alloc(0));
      return;
    }
    const stream = this.#inflate ?? this.#createInflate();
    this.#inflateDone = done;
    this.#inflateChunks = [];
    this.#inflateLength = 0;
    // bytesWritten counts what zlib read; the sync path never adds to it, so compare from here.
    const readBefore = stream.bytesWritten;
    stream.write(data);
    // §7.2.2: append 4 octets of 0x00 0x00 0xff 0xff to the tail end of the payload.
    stream.write(TAIL);
    stream.flush(() => {
      if (this.#inflate !== stream || this.#inflateDone !== done) return; // too big, corrupt or closed
      this.#inflateDone = null;
      const payload = join(this.#inflateChunks);
      this.#inflateChunks = [];
      // A block with BFINAL set ends the DEFLATE stream (zlib then leaves the
      // tail unread); the next message needs a fresh inflater either way.
      const ended = stream.bytesWritten - readBefore !== data.length + TAIL.length;
      // §7.1.1.2: without client context takeover every message starts from an empty window.
      if (ended || this.params.clientNoContextTakeover) this.#dropInflate();
      done(null, payload);
    });
  }

  #createInflate(): zlib.InflateRaw {
    const stream = zlib.createInflateRaw({ windowBits: zlibWindowBits(this.params.clientMaxWindowBits) });
    stream.on('data', (chunk: Buffer) => {
      if (stream !== this.#inflate) return;
      this.#inflateLength += chunk.length;
      if (this.#maxPayload > 0 && this.#inflateLength > this.#maxPayload) {
        // Stop now: a zip bomb must cost maxPayload bytes, not its inflated size.
        this.#failInflate(protocolError('WS_ERR_MESSAGE_TOO_BIG'));
        return;
      }
      this.#inflateChunks.push(chunk);
    });
    stream.on('error', (err: Error) => {
      if (stream === this.#inflate) this.#failInflate(protocolError('WS_ERR_INVALID_COMPRESSED_DATA', err.message));
    });
    this.#inflate = stream;
    return stream;
  }

  #failInflate(err: ProtocolError): void {
    const done = this.#inflateDone;
    this.#inflateDone = null;
    this.#dropInflate();
    done?.(err);
  }

  #dropInflate(): void {
    const stream = this.#inflate;
    if (stream === null) return;
    this.#inflate = null;
    this.#inflateChunks = [];
    this.#inflateLength = 0;
    // Destroying mid-write is safe: Node finishes the threadpool step in flight,
    // then sees the stream destroyed and processes no more input.
    stream.close();
  }
}

/**
 * The key under which connections can share one compressed broadcast: only
 * with server_no_context_takeover (no history in the bytes), and only between
 * connections whose zlib settings would produce the same bytes.
 */
export function deflateSharedKey(params: DeflateParams, options: PerMessageDeflateOptions): string | null {
  if (!params.serverNoContextTakeover) return null;
  const opts = resolveDeflateOptions(options);
  return `w${zlibWindowBits(params.serverMaxWindowBits)}:l${opts.level}:m${opts.memLevel}`;
}

/**
 * Compress one message with a fresh context, for every connection whose
 * sharedKey matches (server_no_context_takeover agreed). Payload as compress();
 * the callback fires synchronously for a message of 1..SYNC_DEFLATE_LIMIT bytes.
 */
export function compressShared(
  data: Buffer,
  params: DeflateParams,
  options: PerMessageDeflateOptions,
  cb: (err: Error | null, payload?: Buffer) => void,
): void {
  const opts = resolveDeflateOptions(options);
  if (data.length === 0) {
    process.nextTick(cb, null, Buffer.from([0x00])); // §7.2.3.6
    return;
  }
  if (data.length <= SYNC_DEFLATE_LIMIT && syncZlibAvailable()) {
    // No lane to wait for: the shared stream is only ever used synchronously.
    settleDeflate(deflateShared(data, params, opts), cb);
    return;
  }
  zlibLimiter(opts.concurrencyLimit).run((release) => {
    const zlibOptions = {
      windowBits: zlibWindowBits(params.serverMaxWindowBits),
      level: opts.level,
      memLevel: opts.memLevel,
      // A sync flush instead of a final block, so the tail is the §7.2.1 one.
      finishFlush: zlib.constants.Z_SYNC_FLUSH,
    };
    zlib.deflateRaw(data, zlibOptions, (err, out) => {
      release();
      if (err) cb(protocolError('WS_ERR_COMPRESSION_FAILED', err.message));
      else if (!endsWithTail(out)) cb(protocolError('WS_ERR_COMPRESSION_FAILED', NO_TAIL));
      else cb(null, out.subarray(0, out.length - TAIL.length));
    });
  });
}

/** Deflate `data` from an empty window with the process-wide stream for these settings. */
function deflateShared(data: Buffer, params: DeflateParams, opts: ResolvedDeflateOptions): SyncResult {
  const stream = sharedDeflater(zlibWindowBits(params.serverMaxWindowBits), opts.level, opts.memLevel);
  const result = deflateSync(stream, data);
  resetStream(stream); // a destroyed one is replaced on next use
  return result;
}

/** Hand a sync deflate's outcome to `done`, the §7.2.1 tail cut. */
function settleDeflate(result: SyncResult, done: Callback<Error>): void {
  if (!result.ok) done(protocolError('WS_ERR_COMPRESSION_FAILED', result.tooBig ? 'output too big' : result.error.message));
  else if (!endsWithTail(result.payload)) done(protocolError('WS_ERR_COMPRESSION_FAILED', NO_TAIL));
  else done(null, result.payload.subarray(0, result.payload.length - TAIL.length));
}

/**
 * One direction's queue: messages run one at a time (a zlib stream's output
 * has to be cut at message boundaries), in call order. A job of at most
 * `syncLimit` bytes runs synchronously when it comes up (its callback fires
 * before add() returns if the lane was idle); a bigger one runs on the
 * threadpool holding a limiter slot. A sync job never runs while an async one
 * is in flight, so both may share one zlib stream.
 */
class Lane<E extends Error> {
  readonly #pending = new Fifo<Job<E>>();
  readonly #limiter: ZlibLimiter;
  readonly #work: (data: Buffer, done: Callback<E>) => void;
  /** Must call `done` before returning; null: no sync path on this Node.js. */
  readonly #syncWork: ((data: Buffer, done: Callback<E>) => void) | null;
  readonly #syncLimit: number;
  /** The async job in flight. */
  #current: Job<E> | null = null;
  #release: (() => void) | null = null;
  #pumping = false;

  constructor(
    limiter: ZlibLimiter,
    work: (data: Buffer, done: Callback<E>) => void,
    syncWork: ((data: Buffer, done: Callback<E>) => void) | null,
    syncLimit: number,
  ) {
    this.#limiter = limiter;
    this.#work = work;
    this.#syncWork = syncWork;
    this.#syncLimit = syncLimit;
  }

  /** Nothing queued, running or being settled: a job added now runs at once. */
  get idle(): boolean {
    return this.#current === null && !this.#pumping && this.#pending.length === 0;
  }

  add(data: Buffer, cb: Callback<E>): void {
    const syncWork = this.#syncWork;
    if (syncWork !== null && data.length <= this.#syncLimit && this.idle) {
      // The common case, without a queue entry. Guarded like #pump: a callback
      // that adds more queues it behind this one.
      this.#pumping = true;
      try {
        syncWork(data, cb);
      } finally {
        this.#pumping = false;
        if (this.#pending.length > 0) this.#pump();
      }
      return;
    }
    this.#pending.push({ data, cb, settled: false });
    this.#pump();
  }

  /**
   * Settle every job; `error` makes the callbacks fire with it (on the next
   * tick, so close() never re-enters its caller), null drops them.
   */
  close(error: (() => E) | null): void {
    const jobs: Array<Job<E>> = [];
    if (this.#current !== null) jobs.push(this.#current);
    for (let job = this.#pending.shift(); job !== undefined; job = this.#pending.shift()) jobs.push(job);
    this.#current = null;
    this.#releaseSlot();
    for (const job of jobs) job.settled = true;
    if (error !== null && jobs.length > 0) {
      process.nextTick(() => {
        for (const job of jobs) job.cb(error());
      });
    }
  }

  /**
   * Start queued jobs until one goes async: a loop, not recursion, so a long
   * queue of sync jobs does not grow the stack. A callback that throws stops
   * the loop; the rest of the queue carries on on the next tick.
   */
  #pump(): void {
    if (this.#pumping) return; // the running loop picks new jobs up
    this.#pumping = true;
    let ok = false;
    try {
      while (this.#current === null) {
        const job = this.#pending.shift();
        if (job === undefined) break;
        const syncWork = this.#syncWork;
        if (syncWork !== null && job.data.length <= this.#syncLimit) {
          job.settled = true;
          syncWork(job.data, job.cb);
        } else {
          this.#start(job);
        }
      }
      ok = true;
    } finally {
      this.#pumping = false;
      if (!ok && this.#current === null && this.#pending.length > 0) process.nextTick(() => this.#pump());
    }
  }

  #start(job: Job<E>): void {
    this.#current = job;
    this.#limiter.run((release) => {
      if (job.settled) {
        release(); // closed while it waited for a slot
        return;
      }
      this.#release = release;
      this.#work(job.data, (err, payload) => this.#finish(job, err, payload));
    });
  }

  #finish(job: Job<E>, err: E | null, payload: Buffer | undefined): void {
    if (job.settled) return;
    job.settled = true;
    this.#current = null;
    this.#releaseSlot();
    // This callback first, then the jobs behind it (sync ones would call back at once).
    try {
      if (err !== null) job.cb(err);
      else job.cb(null, payload);
    } finally {
      this.#pump();
    }
  }

  #releaseSlot(): void {
    const release = this.#release;
    this.#release = null;
    release?.();
  }
}

interface Job<E extends Error> {
  readonly data: Buffer;
  readonly cb: Callback<E>;
  settled: boolean;
}

function join(chunks: Buffer[]): Buffer {
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

function endsWithTail(out: Buffer): boolean {
  const n = out.length;
  return n >= 4 && out[n - 4] === 0x00 && out[n - 3] === 0x00 && out[n - 2] === 0xff && out[n - 1] === 0xff;
}

/**
 * permessage-deflate's synchronous fast path: small messages are deflated and
 * inflated on the calling thread, with no threadpool round trip and no stream
 * machinery, through the zlib handle that every node:zlib stream owns.
 *
 * Why not `stream._processChunk(chunk, flush)` (what `zlib.deflateRawSync`
 * uses): without a callback it closes the stream's handle when it returns
 * (Node 18–22 `processChunkSync` ends with `_close(self)`) and adds an 'error'
 * listener per call, so a stream could serve one message only. The loop below
 * is that function's loop without the close: `handle.writeSync(flush, in,
 * inOff, inLen, out, outOff, outLen)`, then `_writeState` holds
 * [availOutAfter, availInAfter]; a zlib error destroys the stream synchronously
 * (`zlibOnError`), leaving it in `stream.errored`. Those internals are probed
 * once (`syncZlibAvailable`: present, and a deflate/inflate round trip through
 * them matches node:zlib); otherwise everything takes the async path.
 *
 * Bounds: a sync job only ever runs on a stream with no async write in flight
 * (the caller's lane is idle); it is given at most SYNC_DEFLATE_LIMIT bytes to
 * compress or SYNC_INFLATE_LIMIT bytes to inflate; inflation stops at the first
 * byte past the message limit.
 */
import * as zlib from 'node:zlib';

/**
 * Largest message (bytes) deflated synchronously. Measured on the 2-core
 * bench machine (Node 20, 15-bit window, memLevel 8): 16 KiB of JSON ≈ 90 µs
 * at level 6 (up to ≈ 140 µs under load), ≈ 195 µs at level 9; 16 KiB of
 * random bytes ≈ 105–140 µs at any level; 1 KiB of JSON ≈ 9 µs. 32 KiB of
 * random bytes ≈ 360 µs, too close to the 0.5 ms a single job may block the
 * event loop. Bigger messages go to the threadpool.
 */
export const SYNC_DEFLATE_LIMIT = 16 * 1024;

/**
 * Largest compressed message (bytes) inflated synchronously. DEFLATE inflates
 * at most ≈ 1032:1, so 4 KiB yields at most ≈ 4 MiB, and never more than
 * maxPayload + 1 bytes: inflation stops there. Measured: a 1 KiB JSON message
 * ≈ 4 µs; the worst case, 4 KiB of zeros' DEFLATE stream, ≈ 165 µs of zlib
 * plus ≈ 250–300 µs to allocate and copy out the 4 MiB message, which the
 * threadpool path would also do on this thread (in 256 'data' events, ≈ 10×
 * the CPU in all).
 */
export const SYNC_INFLATE_LIMIT = 4 * 1024;

type ZlibStream = zlib.DeflateRaw | zlib.InflateRaw;

/** The node:zlib internals the fast path uses (present since Node 10; checked at run time). */
interface ZlibHandle {
  writeSync(flush: number, input: Buffer, inOff: number, inLen: number, out: Buffer, outOff: number, outLen: number): void;
}
interface ZlibInternals {
  readonly _handle: ZlibHandle | null | undefined;
  readonly _writeState: Uint32Array | undefined;
}

function internals(stream: ZlibStream): ZlibInternals {
  return stream as unknown as ZlibInternals;
}

/**
 * ATTACH_WS_DEFLATE_SYNC=0 turns the fast path off (read once, at load): the
 * test suite runs the deflate tests a second time that way, and it is an
 * escape hatch should a Node.js release change these internals.
 */
const forcedOff = process.env.ATTACH_WS_DEFLATE_SYNC === '0';

let available: boolean | undefined;

/**
 * Whether this Node.js has the zlib internals the fast path needs, checked
 * once at first use: the members exist with the expected shapes, and a
 * round trip through them (deflate a sample with a sync flush, inflate it
 * back) gives the sample back, with output that node:zlib's own
 * inflateRawSync agrees with. Anything else (a throw, other bytes) and
 * every message takes the async path.
 */
export function syncZlibAvailable(): boolean {
  if (available === undefined) available = !forcedOff && internalsPresent() && roundTripWorks();
  return available;
}

function internalsPresent(): boolean {
  const probe = new zlib.InflateRaw(); // not createInflateRaw: a probe is no stream of ours to count
  const { _handle: handle, _writeState: state } = internals(probe);
  // ArrayBuffer.isView, not instanceof: Jest's realm has its own Uint32Array.
  const ok = typeof handle?.writeSync === 'function' && state !== undefined && ArrayBuffer.isView(state) && state.length >= 2;
  probe.close();
  return ok;
}

/** Sync-flush tail (RFC 7692 §7.2.1), for the self-test. */
const SELF_TEST_TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

function roundTripWorks(): boolean {
  // Compressible and not: repeated text, then every byte value, over one 64 KiB scratch refill.
  const sample = Buffer.concat([Buffer.from('attach-ws self-test '.repeat(200)), Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);
  const deflater = new zlib.DeflateRaw();
  const inflater = new zlib.InflateRaw();
  try {
    const deflated = deflateSync(deflater, sample);
    if (!deflated.ok || !deflated.payload.subarray(-4).equals(SELF_TEST_TAIL)) return false;
    // The reference: node:zlib's public API must read our bytes back to the sample.
    if (!zlib.inflateRawSync(deflated.payload, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).equals(sample)) return false;
    const body = deflated.payload.subarray(0, deflated.payload.length - 4);
    const inflated = inflateSync(inflater, body, SELF_TEST_TAIL, 0);
    return inflated.ok && !inflated.ended && inflated.payload.equals(sample);
  } catch {
    return false;
  } finally {
    deflater.close();
    inflater.close();
  }
}

/** A message's inflated or deflated bytes, or why there are none. */
export type SyncResult =
  | { readonly ok: true; readonly payload: Buffer; /** Input was left unread: the DEFLATE stream ended (BFINAL). */ readonly ended: boolean }
  | { readonly ok: false; readonly tooBig: true }
  | { readonly ok: false; readonly tooBig: false; readonly error: Error };

const SCRATCH_SIZE = 64 * 1024;
/** Output goes here first and is copied out at exact size: the one allocation per small message. */
const scratch = Buffer.allocUnsafe(SCRATCH_SIZE);

/**
 * Output of one sync job: the scratch buffer, then (past 64 KiB) buffers of
 * 3× the output so far, so 4 MiB takes 5 writes and 4 allocations. take()
 * copies everything out, so the scratch buffer is free for the next job.
 */
class Output {
  #pieces: Buffer[] | null = null;
  #piecesLength = 0;
  #buffer = scratch;
  #offset = 0;
  /** Stop once output passes this many bytes. */
  readonly #limit: number;

  constructor(limit: number) {
    this.#limit = limit > 0 ? limit : Number.MAX_SAFE_INTEGER - 1;
  }

  get length(): number {
    return this.#piecesLength + this.#offset;
  }

  get tooBig(): boolean {
    return this.length > this.#limit;
  }

  get buffer(): Buffer {
    return this.#buffer;
  }

  get offset(): number {
    return this.#offset;
  }

  /** Room for zlib's next write: never more than one byte past the limit. */
  room(): number {
    if (this.#offset === this.#buffer.length) {
      (this.#pieces ??= []).push(this.#buffer);
      this.#piecesLength += this.#offset;
      const wanted = Math.max(SCRATCH_SIZE, 3 * this.#piecesLength);
      this.#buffer = Buffer.allocUnsafe(Math.min(wanted, this.#limit + 1 - this.#piecesLength));
      this.#offset = 0;
    }
    return Math.min(this.#buffer.length - this.#offset, this.#limit + 1 - this.length);
  }

  advance(bytes: number): void {
    this.#offset += bytes;
  }

  /** The output as a Buffer of its own (the scratch buffer is reused by the next job). */
  take(): Buffer {
    const last = this.#buffer.subarray(0, this.#offset);
    if (this.#pieces !== null) return Buffer.concat([...this.#pieces, last], this.length);
    const out = Buffer.allocUnsafe(this.#offset);
    last.copy(out);
    return out;
  }
}

/**
 * Run `input` through `stream` with `flush`, appending to `out`. Returns how
 * many input bytes zlib left unread (non-zero only when the DEFLATE stream
 * ended), or -1 when output passed the limit. Throws the zlib error; the
 * stream is destroyed then.
 */
function feed(stream: ZlibStream, input: Buffer, flush: number, out: Output): number {
  const { _handle: handle, _writeState: state } = internals(stream);
  if (handle == null || state === undefined) throw stream.errored ?? new Error('zlib stream is closed');
  let inOff = 0;
  let inLen = input.length;
  for (;;) {
    const room = out.room();
    handle.writeSync(flush, input, inOff, inLen, out.buffer, out.offset, room);
    // zlibOnError destroyed the stream synchronously; its 'error' event follows on the next tick.
    if (stream.destroyed) throw stream.errored ?? new Error('zlib failed');
    const availOut = state[0]!;
    const availIn = state[1]!;
    out.advance(room - availOut);
    inOff += inLen - availIn;
    inLen = availIn;
    if (out.tooBig) return -1;
    // Output space left over: zlib read all it will read of this input.
    if (availOut !== 0) return availIn;
  }
}

/**
 * Deflate one message with a sync flush; the payload still ends with the
 * 0x00 0x00 0xff 0xff tail. The stream keeps its window (reset it for no
 * context takeover). On error the stream is destroyed.
 */
export function deflateSync(stream: zlib.DeflateRaw, data: Buffer): SyncResult {
  const out = new Output(0);
  try {
    feed(stream, data, zlib.constants.Z_SYNC_FLUSH, out);
  } catch (err) {
    if (!stream.destroyed) stream.destroy(); // its history is unknown now
    return { ok: false, tooBig: false, error: asError(err) };
  }
  return { ok: true, payload: out.take(), ended: false };
}

/**
 * Inflate one message's payload followed by `tail` (RFC 7692 §7.2.2). Stops
 * at maxPayload + 1 bytes (0 = unlimited): `tooBig`, the stream left
 * mid-message (reset or drop it). A corrupt payload destroys the stream.
 */
export function inflateSync(stream: zlib.InflateRaw, data: Buffer, tail: Buffer, maxPayload: number): SyncResult {
  const out = new Output(maxPayload);
  const flush = zlib.constants.Z_SYNC_FLUSH;
  let unread: number;
  try {
    unread = feed(stream, data, flush, out);
    // A block with BFINAL ended the stream inside `data`: zlib would leave the tail unread too.
    if (unread === 0) unread = feed(stream, tail, flush, out);
  } catch (err) {
    return { ok: false, tooBig: false, error: asError(err) };
  }
  if (unread < 0) return { ok: false, tooBig: true };
  return { ok: true, payload: out.take(), ended: unread > 0 };
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

// --- process-wide streams for no context takeover ------------------------------

const sharedDeflaters = new Map<string, zlib.DeflateRaw>();
const sharedInflaters = new Map<number, zlib.InflateRaw>();

function ignore(): void {}

/**
 * The process-wide deflater for one setting: every message starts from an
 * empty window (reset after each), so every connection without server context
 * takeover can use it, one message at a time, synchronously. Replaced when a
 * failure destroyed it.
 */
export function sharedDeflater(windowBits: number, level: number, memLevel: number): zlib.DeflateRaw {
  const key = `${windowBits}:${level}:${memLevel}`;
  let stream = sharedDeflaters.get(key);
  if (stream === undefined || stream.destroyed) {
    stream = zlib.createDeflateRaw({ windowBits, level, memLevel });
    stream.on('error', ignore); // reported synchronously by deflateSync; the event is only an echo
    sharedDeflaters.set(key, stream);
  }
  return stream;
}

/** The process-wide inflater for one window size (see sharedDeflater). */
export function sharedInflater(windowBits: number): zlib.InflateRaw {
  let stream = sharedInflaters.get(windowBits);
  if (stream === undefined || stream.destroyed) {
    stream = zlib.createInflateRaw({ windowBits });
    stream.on('error', ignore);
    sharedInflaters.set(windowBits, stream);
  }
  return stream;
}

/** Forget the window of a stream that is still usable (a destroyed one is replaced on next use). */
export function resetStream(stream: ZlibStream): void {
  if (!stream.destroyed) stream.reset();
}

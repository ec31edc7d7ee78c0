/**
 * The incremental frame decoder, RFC 6455 §5.2–§5.5: a state machine
 * (header → extended length → masking key → payload) driven by a loop that
 * stops when it needs bytes it does not have yet.
 *
 * Memory: chunks are queued as they come and consumed through views. A frame
 * that sits whole in one chunk is unmasked in place and delivered as a
 * subarray of it, with no copy. A message in assembly (fragments, or a frame
 * that straddles chunks) holds its payload bytes plus a small constant, never
 * whole read chunks: a piece that fills most of its chunk is kept as a view,
 * anything smaller is copied into blocks owned by the message, so a 1-byte
 * fragment cannot pin the 64 KiB chunk it arrived in. Nothing is allocated
 * for bytes a peer has only announced.
 */
import { coversItsMemory } from './buffer-view';
import { ProtocolError, isProtocolError, protocolError, type ProtocolErrorCode } from '../errors';
import { parseClosePayload } from './close';
import { unmask } from './mask';
import { Opcode, isControlOpcode } from './opcodes';
import { Utf8Validator, isValidUtf8 } from './utf8';

export interface DecoderSink {
  /** A whole data message (fragments reassembled). Text is UTF-8-validated unless compressed. */
  onMessage(data: Buffer, isBinary: boolean, compressed: boolean): void;
  onPing(data: Buffer): void;
  onPong(data: Buffer): void;
  /** The peer's close frame, parsed and validated (1005 and '' when it had no body). */
  onClose(code: number, reason: string): void;
  /** A protocol error; the decoder is then dead: later push() calls are ignored. */
  onError(err: ProtocolError): void;
}

export interface DecoderOptions {
  /** Max bytes of one message (sum of its fragments); 0 = no limit. */
  maxPayload: number;
  /** Default true (server): frames must be masked. False (client): frames must not be. */
  expectMasked?: boolean;
  /** permessage-deflate was negotiated: RSV1 may mark the first frame of a data message. */
  perMessageDeflate?: boolean;
  /**
   * Most frames one message may have; more → 1009 WS_ERR_TOO_MANY_FRAGMENTS.
   * Default: the fragment budget (maxPayload / FRAGMENT_OVERHEAD, at least 1,024).
   */
  maxFragments?: number;
}

/**
 * Bytes charged per fragment of a fragmented message against the fragment
 * budget: maxPayload bytes, but never less than MIN_FRAGMENT_BUDGET. Payload
 * bytes are limited by maxPayload; this bounds the bookkeeping, so a flood of
 * empty or tiny fragments fails with 1009 WS_ERR_TOO_MANY_FRAGMENTS instead of
 * growing memory. 16 MiB allows 1 Mi fragments (Autobahn 9.3/9.4 send 4 MiB in
 * 64-byte fragments: 64 Ki); 1 MiB allows 64 Ki.
 */
export const FRAGMENT_OVERHEAD = 16;
/** The fragment budget's floor, so a small maxPayload still allows 1,024 fragments. */
export const MIN_FRAGMENT_BUDGET = 16 * 1024;
/**
 * A piece of a message in assembly is kept as a view into its read chunk only
 * when it is at least this big and covers at least 7/8 of the chunk's memory;
 * otherwise it is copied (so what a message pins is at most 8/7 of its bytes).
 */
const MIN_VIEW_BYTES = 1024;
/** Copy blocks grow with the message: at least this, at most BLOCK_MAX_BYTES (unless one piece is bigger). */
const BLOCK_MIN_BYTES = 256;
const BLOCK_MAX_BYTES = 16 * 1024;

// Decoder states.
const READ_HEADER = 0;
const READ_LENGTH_16 = 1;
const READ_LENGTH_64 = 2;
const READ_MASK = 3;
const READ_PAYLOAD = 4;

const EMPTY = Buffer.alloc(0);
/** Compact the chunk queue once this many consumed slots sit at its front. */
const COMPACT_AT = 1024;

/** Join collected views: no copy when there is just one. */
function join(pieces: Buffer[], length: number): Buffer {
  if (pieces.length === 1) return pieces[0]!;
  if (pieces.length === 0) return EMPTY;
  return Buffer.concat(pieces, length);
}

/**
 * Decodes the frames of one connection and reports messages, control frames
 * and protocol errors to a sink.
 *
 * `push()` takes ownership of the chunk: masked payloads are unmasked in place
 * and delivered as views into it. After `onClose` or `onError` the decoder is
 * `dead` and ignores further input (§5.5.1: nothing follows a close frame).
 *
 * @example
 * const decoder = new FrameDecoder(sink, { maxPayload: 16 * 1024 * 1024 });
 * socket.on('data', (chunk) => decoder.push(chunk));
 */
export class FrameDecoder {
  readonly #sink: DecoderSink;
  readonly #maxPayload: number;
  readonly #expectMasked: boolean;
  readonly #perMessageDeflate: boolean;
  readonly #maxFragments: number;

  // Input: a queue of unconsumed chunks; `#offset` is the read position in the head chunk.
  #chunks: Buffer[] = [];
  #head = 0;
  #offset = 0;
  #queued = 0;

  #paused = false;
  #dead = false;
  #running = false;

  // The frame being read.
  #state = READ_HEADER;
  #fin = false;
  #opcode = 0;
  #masked = false;
  #frameLength = 0;
  #remaining = 0;
  readonly #key = new Uint8Array(4);
  /** Masked with a non-zero key: XOR with 0000 changes nothing, so skip it. */
  #unmasking = false;
  #controlPieces: Buffer[] = [];
  #controlHeld = 0;

  // The data message being read (possibly over several fragments).
  #messageOpen = false;
  #messageOpcode = 0;
  #compressed = false;
  #validating = false;
  #messageLength = 0;
  #fragments = 0;
  #messagePieces: Buffer[] = [];
  #messageHeld = 0;
  /** The copy block being filled (its used part joins #messagePieces when closed). */
  #block: Buffer | null = null;
  #blockUsed = 0;
  readonly #utf8 = new Utf8Validator();

  constructor(sink: DecoderSink, options: DecoderOptions) {
    if (!(options.maxPayload >= 0)) throw new RangeError(`invalid maxPayload ${options.maxPayload}`);
    this.#sink = sink;
    this.#maxPayload = options.maxPayload;
    this.#expectMasked = options.expectMasked !== false;
    this.#perMessageDeflate = options.perMessageDeflate === true;
    if (options.maxFragments !== undefined && !(options.maxFragments >= 1)) {
      throw new RangeError(`invalid maxFragments ${options.maxFragments}`);
    }
    this.#maxFragments =
      options.maxFragments ??
      (options.maxPayload === 0 ? Infinity : Math.floor(Math.max(options.maxPayload, MIN_FRAGMENT_BUDGET) / FRAGMENT_OVERHEAD));
  }

  /** Bytes held and not yet delivered: queued input plus the incomplete frame or message. */
  get bufferedAmount(): number {
    return this.#queued + this.#messageHeld + this.#controlHeld;
  }

  get paused(): boolean {
    return this.#paused;
  }

  /** True after onError or onClose: later input is ignored. */
  get dead(): boolean {
    return this.#dead;
  }

  /** Decode `chunk` (any size; the decoder owns it from now on). */
  push(chunk: Buffer): void {
    if (this.#dead || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#queued += chunk.length;
    this.#run();
  }

  /** Stop delivering once the current callback returns; input is kept. */
  pause(): void {
    this.#paused = true;
  }

  /** Deliver what is kept, synchronously (no-op unless paused and alive). */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.#run();
  }

  #run(): void {
    // A callback that pushes or resumes lets the running loop carry on.
    if (this.#running || this.#paused || this.#dead) return;
    this.#running = true;
    try {
      let progress = true;
      while (progress && !this.#paused && !this.#dead) {
        switch (this.#state) {
          case READ_HEADER:
            progress = this.#readHeader();
            break;
          case READ_LENGTH_16:
            progress = this.#readLength16();
            break;
          case READ_LENGTH_64:
            progress = this.#readLength64();
            break;
          case READ_MASK:
            progress = this.#readMask();
            break;
          default:
            progress = this.#readPayload();
        }
      }
    } finally {
      this.#running = false;
    }
  }

  // --- input queue -------------------------------------------------------

  #readByte(): number {
    const chunk = this.#chunks[this.#head]!;
    const byte = chunk[this.#offset++]!;
    this.#queued--;
    if (this.#offset === chunk.length) this.#dropHead();
    return byte;
  }

  #dropHead(): void {
    this.#chunks[this.#head] = EMPTY;
    this.#head++;
    this.#offset = 0;
    if (this.#head === this.#chunks.length) {
      this.#chunks = [];
      this.#head = 0;
    } else if (this.#head >= COMPACT_AT && this.#head * 2 >= this.#chunks.length) {
      this.#chunks.splice(0, this.#head);
      this.#head = 0;
    }
  }

  // --- states --------------------------------------------------------------

  #readHeader(): boolean {
    if (this.#queued < 2) return false;
    const b0 = this.#readByte();
    const b1 = this.#readByte();
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    const control = isControlOpcode(opcode);
    const masked = (b1 & 0x80) !== 0;
    const length7 = b1 & 0x7f;

    // §5.2: RSV2/RSV3 MUST be 0 unless an extension defines them; none does here.
    if ((b0 & 0x30) !== 0) return this.#fail('WS_ERR_RESERVED_BITS', 'RSV2/RSV3');
    // §5.2: reserved opcodes 0x3–0x7 and 0xB–0xF fail the connection.
    if (control ? opcode > Opcode.Pong : opcode > Opcode.Binary) {
      return this.#fail('WS_ERR_UNKNOWN_OPCODE', `0x${opcode.toString(16)}`);
    }
    if (rsv1) {
      if (!this.#perMessageDeflate) return this.#fail('WS_ERR_RESERVED_BITS', 'RSV1');
      // RFC 7692 §6.1: RSV1 marks a compressed message on its first frame only.
      if (control) return this.#fail('WS_ERR_RSV1_ON_CONTROL');
      if (opcode === Opcode.Continuation) return this.#fail('WS_ERR_RSV1_ON_CONTINUATION');
    }
    // §5.1: a server MUST fail on an unmasked frame; a client on a masked one.
    if (masked !== this.#expectMasked) {
      return this.#fail(this.#expectMasked ? 'WS_ERR_UNMASKED_FRAME' : 'WS_ERR_UNEXPECTED_MASK');
    }
    if (control) {
      // §5.5: control frames MUST have FIN and at most 125 payload bytes.
      if (!fin) return this.#fail('WS_ERR_FRAGMENTED_CONTROL');
      if (length7 > 125) return this.#fail('WS_ERR_CONTROL_TOO_LONG', `${length7} bytes`);
    } else {
      if (opcode === Opcode.Continuation) {
        // §5.4: a continuation needs a message left open by a frame with FIN=0.
        if (!this.#messageOpen) return this.#fail('WS_ERR_UNEXPECTED_CONTINUATION');
      } else {
        // §5.4: fragments of one message are not interleaved with another's.
        if (this.#messageOpen) return this.#fail('WS_ERR_EXPECTED_CONTINUATION');
        this.#messageOpcode = opcode;
        this.#compressed = rsv1;
        this.#validating = opcode === Opcode.Text && !rsv1;
        this.#messageLength = 0;
        this.#fragments = 0;
      }
      if (!fin || opcode === Opcode.Continuation) {
        if (++this.#fragments > this.#maxFragments) {
          return this.#fail('WS_ERR_TOO_MANY_FRAGMENTS', `over ${this.#maxFragments}`);
        }
      }
      this.#messageOpen = !fin;
    }
    this.#fin = fin;
    this.#opcode = opcode;
    this.#masked = masked;
    this.#unmasking = false;
    if (length7 === 126) this.#state = READ_LENGTH_16;
    else if (length7 === 127) this.#state = READ_LENGTH_64;
    else return this.#haveLength(length7);
    return true;
  }

  #readLength16(): boolean {
    if (this.#queued < 2) return false;
    const length = (this.#readByte() << 8) | this.#readByte();
    return this.#haveLength(length);
  }

  #readLength64(): boolean {
    if (this.#queued < 8) return false;
    const high = ((this.#readByte() << 24) | (this.#readByte() << 16) | (this.#readByte() << 8) | this.#readByte()) >>> 0;
    const low = ((this.#readByte() << 24) | (this.#readByte() << 16) | (this.#readByte() << 8) | this.#readByte()) >>> 0;
    // §5.2: "the most significant bit MUST be 0".
    if (high >= 0x80000000) return this.#fail('WS_ERR_LENGTH_TOP_BIT');
    // Lengths past 2^53 - 1 cannot be counted exactly, nor ever be received.
    if (high > 0x1fffff) return this.#fail('WS_ERR_MESSAGE_TOO_BIG', 'length over 2^53 - 1');
    return this.#haveLength(high * 0x100000000 + low);
  }

  #haveLength(length: number): boolean {
    this.#frameLength = length;
    this.#remaining = length;
    if (!isControlOpcode(this.#opcode)) {
      // Checked from the header, before any payload byte is held.
      const total = this.#messageLength + length;
      if (this.#maxPayload !== 0 && total > this.#maxPayload) {
        return this.#fail('WS_ERR_MESSAGE_TOO_BIG', `${total} > ${this.#maxPayload}`);
      }
      this.#messageLength = total;
    }
    this.#state = this.#masked ? READ_MASK : READ_PAYLOAD;
    return true;
  }

  #readMask(): boolean {
    if (this.#queued < 4) return false;
    const key = this.#key;
    key[0] = this.#readByte();
    key[1] = this.#readByte();
    key[2] = this.#readByte();
    key[3] = this.#readByte();
    this.#unmasking = (key[0]! | key[1]! | key[2]! | key[3]!) !== 0;
    this.#state = READ_PAYLOAD;
    return true;
  }

  #readPayload(): boolean {
    const length = this.#remaining;
    if (length !== 0 && length === this.#frameLength && this.#queued >= length) {
      const chunk = this.#chunks[this.#head]!;
      const start = this.#offset;
      if (chunk.length - start >= length) return this.#wholeFrame(chunk, start, start + length);
    }
    const control = isControlOpcode(this.#opcode);
    while (this.#remaining > 0) {
      if (this.#queued === 0) return false;
      const chunk = this.#chunks[this.#head]!;
      const start = this.#offset;
      const take = Math.min(chunk.length - start, this.#remaining);
      const end = start + take;
      if (this.#unmasking) unmask(chunk, this.#key, start, end, this.#frameLength - this.#remaining);
      // Fail fast (Autobahn 6.4.x): check each piece as it comes, not the whole message at the end.
      if (!control && this.#validating && !this.#utf8.feed(chunk, start, end)) return this.#fail('WS_ERR_INVALID_UTF8');
      const piece = chunk.subarray(start, end);
      this.#remaining -= take;
      this.#queued -= take;
      this.#offset = end;
      if (end === chunk.length) this.#dropHead();
      if (control) {
        this.#controlPieces.push(piece);
        this.#controlHeld += take;
      } else {
        this.#collect(piece);
      }
    }
    return this.#frameComplete();
  }

  /** The fast path: the frame's whole payload is in `chunk[start, end)`; no copy, no piece list. */
  #wholeFrame(chunk: Buffer, start: number, end: number): boolean {
    if (this.#unmasking) unmask(chunk, this.#key, start, end, 0);
    this.#remaining = 0;
    this.#queued -= end - start;
    this.#offset = end;
    if (end === chunk.length) this.#dropHead();
    const data = chunk.subarray(start, end);
    const opcode = this.#opcode;
    if (isControlOpcode(opcode)) {
      this.#state = READ_HEADER;
      return this.#deliverControl(opcode, data);
    }
    if (this.#fin && opcode !== Opcode.Continuation) {
      // A whole message in one frame: validate with the platform, not the DFA.
      this.#state = READ_HEADER;
      if (this.#validating && !isValidUtf8(data)) return this.#fail('WS_ERR_INVALID_UTF8');
      this.#sink.onMessage(data, opcode === Opcode.Binary, this.#compressed);
      return true;
    }
    if (this.#validating && !this.#utf8.feed(chunk, start, end)) return this.#fail('WS_ERR_INVALID_UTF8');
    this.#collect(data);
    return this.#frameComplete();
  }

  /** File payload bytes under the message in assembly: a view if it fills its chunk, else a copy. */
  #collect(piece: Buffer): void {
    const length = piece.length;
    if (length === 0) return;
    this.#messageHeld += length;
    if (length >= MIN_VIEW_BYTES && coversItsMemory(piece)) {
      this.#closeBlock();
      this.#messagePieces.push(piece);
      return;
    }
    let offset = 0;
    while (offset < length) {
      let block = this.#block;
      if (block === null || this.#blockUsed === block.length) {
        this.#closeBlock();
        // Grow with the message (slack at most what is held, or BLOCK_MIN_BYTES),
        // but by at most BLOCK_MAX_BYTES at a time beyond this piece.
        const size = Math.max(length - offset, Math.min(Math.max(this.#messageHeld, BLOCK_MIN_BYTES), BLOCK_MAX_BYTES));
        block = this.#block = Buffer.allocUnsafeSlow(size);
        this.#blockUsed = 0;
      }
      const copied = piece.copy(block, this.#blockUsed, offset);
      this.#blockUsed += copied;
      offset += copied;
    }
  }

  /** The copy block's used part becomes a piece (order kept with views). */
  #closeBlock(): void {
    const block = this.#block;
    if (block === null) return;
    if (this.#blockUsed > 0) this.#messagePieces.push(block.subarray(0, this.#blockUsed));
    this.#block = null;
    this.#blockUsed = 0;
  }

  /** The frame's payload is all here (as pieces): deliver it, or file it under its message. */
  #frameComplete(): boolean {
    this.#state = READ_HEADER;
    const opcode = this.#opcode;
    if (isControlOpcode(opcode)) {
      const data = join(this.#controlPieces, this.#controlHeld);
      if (this.#controlPieces.length !== 0) this.#controlPieces = [];
      this.#controlHeld = 0;
      return this.#deliverControl(opcode, data);
    }
    if (!this.#fin) return true;
    this.#closeBlock();
    const data = join(this.#messagePieces, this.#messageHeld);
    // A new array is cheaper than truncating the old one (`length = 0` showed in profiles).
    if (this.#messagePieces.length !== 0) this.#messagePieces = [];
    this.#messageHeld = 0;
    if (this.#validating) {
      const valid = this.#utf8.finish();
      this.#utf8.reset();
      // §8.1: invalid UTF-8 in a text message fails the connection (1007).
      if (!valid) return this.#fail('WS_ERR_INVALID_UTF8');
    }
    this.#sink.onMessage(data, this.#messageOpcode === Opcode.Binary, this.#compressed);
    return true;
  }

  #deliverControl(opcode: number, data: Buffer): boolean {
    if (opcode === Opcode.Ping) this.#sink.onPing(data);
    else if (opcode === Opcode.Pong) this.#sink.onPong(data);
    else return this.#closeFrame(data);
    return true;
  }

  #closeFrame(body: Buffer): boolean {
    let code: number;
    let reason: string;
    try {
      ({ code, reason } = parseClosePayload(body));
    } catch (err) {
      if (!isProtocolError(err)) throw err;
      return this.#die(err);
    }
    this.#release();
    this.#sink.onClose(code, reason);
    return false;
  }

  #fail(code: ProtocolErrorCode, detail?: string): false {
    return this.#die(protocolError(code, detail));
  }

  #die(err: ProtocolError): false {
    this.#release();
    this.#sink.onError(err);
    return false;
  }

  /** The decoder is finished: drop everything it holds. */
  #release(): void {
    this.#dead = true;
    this.#chunks = [];
    this.#head = 0;
    this.#offset = 0;
    this.#queued = 0;
    this.#controlPieces = [];
    this.#controlHeld = 0;
    this.#messagePieces = [];
    this.#messageHeld = 0;
    this.#block = null;
    this.#blockUsed = 0;
  }
}

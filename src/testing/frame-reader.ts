/**
 * Cuts the server's byte stream into frames (RFC 6455 §5.2) without judging
 * them, so `expectFrame` can look at exactly what was sent: FIN, RSV bits,
 * opcode, mask bit and payload. Whether the frames make valid messages is
 * the codec's FrameDecoder's job, which the messages go through next.
 */
import { unmask } from '../codec/mask';

/** One frame as it came off the wire. */
export interface ReceivedFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  /** A server MUST NOT mask (§5.1); the reader reports it and unmasks anyway. */
  masked: boolean;
  /** The payload, unmasked. */
  payload: Buffer;
  /** The frame's bytes as received, header included. */
  bytes: Buffer;
}

/** §5.2: 2 bytes, 8 of extended length, 4 of masking key. */
const MAX_HEADER = 14;

export class FrameSizeError extends Error {
  readonly code = 'WS_TEST_FRAME_TOO_BIG';
}

/**
 * Incremental: `push` bytes, get back the frames they complete. Chunks are
 * queued and joined once per complete frame (not once per chunk: linear in
 * the bytes read however small the chunks), and a
 * frame announced over `maxFrameBytes` is refused before any of its payload
 * is held.
 */
export class FrameReader {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #length = 0;
  /** The size of the frame being gathered, once its header was read. */
  #nextSize: number | null = null;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Frames completed by `chunk`. Throws FrameSizeError for a frame over the limit. */
  push(chunk: Buffer): ReceivedFrame[] {
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    const frames: ReceivedFrame[] = [];
    for (;;) {
      const size = (this.#nextSize ??= this.#frameSize());
      if (size === null || this.#length < size) break;
      this.#nextSize = null;
      const data = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#length);
      frames.push(parseFrame(data.subarray(0, size)));
      const rest = data.subarray(size);
      this.#chunks = rest.length === 0 ? [] : [rest];
      this.#length = rest.length;
    }
    return frames;
  }

  /**
   * The whole size of the next frame, once its header is here (null before).
   * Reads at most the header's 14 bytes, so a frame arriving in many small
   * chunks costs one join when it is complete, not one per chunk.
   */
  #frameSize(): number | null {
    if (this.#length < 2) return null;
    const head = this.#chunks[0]!.length >= MAX_HEADER ? this.#chunks[0]! : this.#firstBytes(MAX_HEADER);
    const length7 = head[1]! & 0x7f;
    const maskBytes = (head[1]! & 0x80) !== 0 ? 4 : 0;
    let length = length7;
    let offset = 2;
    if (length7 === 126) {
      if (head.length < 4) return null;
      length = head.readUInt16BE(2);
      offset = 4;
    } else if (length7 === 127) {
      if (head.length < 10) return null;
      length = head.readUInt32BE(2) * 0x100000000 + head.readUInt32BE(6);
      offset = 10;
    }
    if (length > this.#maxFrameBytes) {
      throw new FrameSizeError(
        `the server sent a frame of ${length} bytes, over the test client's maxPayload of ${this.#maxFrameBytes}`,
      );
    }
    return offset + maskBytes + length;
  }

  /** Up to `n` bytes from the front of the queued chunks (copied; only the chunks they span are read). */
  #firstBytes(n: number): Buffer {
    const parts: Buffer[] = [];
    let have = 0;
    for (let i = 0; i < this.#chunks.length && have < n; i++) {
      parts.push(this.#chunks[i]!);
      have += this.#chunks[i]!.length;
    }
    return Buffer.concat(parts, Math.min(have, n));
  }
}

/** One whole frame's bytes → its fields (a copy: the frame outlives the chunk it came in). */
function parseFrame(frame: Buffer): ReceivedFrame {
  const bytes = Buffer.from(frame);
  const b0 = bytes[0]!;
  const masked = (bytes[1]! & 0x80) !== 0;
  const length7 = bytes[1]! & 0x7f;
  const keyAt = length7 === 126 ? 4 : length7 === 127 ? 10 : 2;
  const payloadAt = masked ? keyAt + 4 : keyAt;
  const payload = Buffer.from(bytes.subarray(payloadAt));
  if (masked) unmask(payload, bytes.subarray(keyAt, keyAt + 4));
  return {
    fin: (b0 & 0x80) !== 0,
    rsv1: (b0 & 0x40) !== 0,
    rsv2: (b0 & 0x20) !== 0,
    rsv3: (b0 & 0x10) !== 0,
    opcode: b0 & 0x0f,
    masked,
    payload,
    bytes,
  };
}

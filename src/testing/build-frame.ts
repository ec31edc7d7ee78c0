/**
 * The one client-frame builder: the test client's raw `sendFrame`, the test
 * suite's raw client and the fuzzer all build their frames here. Every header
 * bit is the caller's, nothing is checked (a test must be able to send what
 * the server has to refuse: RSV2/RSV3, reserved opcodes, a 126-byte ping, an
 * unmasked frame, a length that lies).
 *
 * Written from RFC 6455 §5.2 on its own, without src/codec's encoder or
 * masking, so a test that feeds these frames to the codec does not check the
 * codec against itself.
 */
import { randomBytes } from 'node:crypto';
import { codedError } from '../errors';

/** A frame to send as it is: any opcode, any bits, masked unless `mask: false`. */
export interface FrameSpec {
  opcode: number;
  payload?: string | Uint8Array;
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** Default true: a random key. False sends the frame unmasked; 4 bytes use that key. */
  mask?: boolean | Uint8Array;
}

/** For the suite's own tools (not in the public FrameSpec): a header whose length lies. */
export interface RawFrameSpec extends FrameSpec {
  /**
   * Announce this payload length instead of the payload's own; the payload
   * bytes given, if any, follow as they are.
   */
  announcedLength?: number | bigint;
}

/**
 * One frame's bytes, exactly as `spec` says (§5.2: 7-bit length up to 125,
 * then 126 + 16 bits, then 127 + 64 bits; §5.3: the key, then the masked payload).
 *
 * @example
 * buildFrame({ opcode: 0x1, payload: 'Hello', mask: Uint8Array.of(0x37, 0xfa, 0x21, 0x3d) });
 * // 81 85 37 fa 21 3d 7f 9f 4d 51 58
 */
export function buildFrame(spec: RawFrameSpec): Buffer {
  const payload = toBytes(spec.payload);
  const key = spec.mask === false ? null : spec.mask instanceof Uint8Array ? spec.mask : randomBytes(4);
  if (key !== null && key.length !== 4) throw codedError(TypeError, 'WS_ERR_INVALID_ARGUMENT', 'a masking key is 4 bytes');
  const length = BigInt(spec.announcedLength ?? payload.length);
  const lengthBytes = length < 126n ? 0 : length <= 0xffffn ? 2 : 8;
  const payloadAt = 2 + lengthBytes + (key === null ? 0 : 4);
  const frame = Buffer.allocUnsafe(payloadAt + payload.length);
  frame[0] =
    (spec.fin === false ? 0 : 0x80) |
    (spec.rsv1 === true ? 0x40 : 0) |
    (spec.rsv2 === true ? 0x20 : 0) |
    (spec.rsv3 === true ? 0x10 : 0) |
    (spec.opcode & 0x0f);
  const maskBit = key === null ? 0 : 0x80;
  if (lengthBytes === 0) {
    frame[1] = maskBit | Number(length);
  } else if (lengthBytes === 2) {
    frame[1] = maskBit | 126;
    frame.writeUInt16BE(Number(length), 2);
  } else {
    frame[1] = maskBit | 127;
    frame.writeBigUInt64BE(length, 2);
  }
  if (key === null) {
    frame.set(payload, payloadAt);
  } else {
    frame.set(key, 2 + lengthBytes);
    for (let i = 0; i < payload.length; i++) frame[payloadAt + i] = payload[i]! ^ key[i & 3]!;
  }
  return frame;
}

function toBytes(payload: string | Uint8Array | undefined): Uint8Array {
  if (payload === undefined) return EMPTY;
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
}

const EMPTY = new Uint8Array(0);

/**
 * Frame encoding, RFC 6455 §5.2. Pure: returns the buffers to write for a
 * frame; the socket layer writes them with one cork/writev.
 */
import { types } from 'node:util';
import { mask as maskInto } from './mask';
import { isControlOpcode } from './opcodes';
import { codedError } from '../errors';

export interface FrameOptions {
  /** Final fragment of a message. Default true. */
  fin?: boolean;
  /** RSV1: the message is compressed (permessage-deflate, RFC 7692 §6). */
  rsv1?: boolean;
  /** 4-byte masking key: makes a client frame (§5.3). */
  mask?: Uint8Array;
}

/**
 * Unmasked payloads up to this size are copied after the header into one
 * buffer (one write, one allocation); larger ones are written as they are,
 * so a broadcast frame's payload is shared by every socket it goes to.
 */
export const COPY_THRESHOLD = 1024;

/** §5.5: control frame payloads are at most 125 bytes. */
const MAX_CONTROL_PAYLOAD = 125;

/** §5.2: 7-bit lengths up to 125, then 126 + 16-bit, then 127 + 64-bit. */
export function headerLength(payloadLength: number, masked: boolean): number {
  const base = payloadLength < 126 ? 2 : payloadLength <= 0xffff ? 4 : 10;
  return masked ? base + 4 : base;
}

function checkFrame(opcode: number, payloadLength: number, key: Uint8Array | undefined): void {
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 0xf) throw codedError(RangeError, 'WS_ERR_INVALID_ARGUMENT', `invalid opcode ${opcode}`);
  if (!Number.isSafeInteger(payloadLength) || payloadLength < 0) {
    throw codedError(RangeError, 'WS_ERR_INVALID_ARGUMENT', `invalid payload length ${payloadLength}`);
  }
  if (key !== undefined && key.length !== 4) throw codedError(TypeError, 'WS_ERR_INVALID_ARGUMENT', 'a masking key is 4 bytes');
}

/** Write a checked header into `target` at 0; returns its length. */
function writeHeader(
  target: Buffer,
  opcode: number,
  payloadLength: number,
  fin: boolean,
  rsv1: boolean,
  key: Uint8Array | undefined,
): number {
  target[0] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = key === undefined ? 0 : 0x80;
  let offset: number;
  if (payloadLength < 126) {
    target[1] = maskBit | payloadLength;
    offset = 2;
  } else if (payloadLength <= 0xffff) {
    target[1] = maskBit | 126;
    target.writeUInt16BE(payloadLength, 2);
    offset = 4;
  } else {
    target[1] = maskBit | 127;
    // A safe integer is < 2^53, so the high word never sets the top bit (§5.2).
    target.writeUInt32BE(Math.floor(payloadLength / 0x100000000), 2);
    target.writeUInt32BE(payloadLength >>> 0, 6);
    offset = 10;
  }
  if (key !== undefined) {
    target[offset] = key[0]!;
    target[offset + 1] = key[1]!;
    target[offset + 2] = key[2]!;
    target[offset + 3] = key[3]!;
    offset += 4;
  }
  return offset;
}

/**
 * The header of one frame: 2, 4 or 10 bytes, plus 4 for the masking key.
 * Enforces only the wire format, not the control-frame rules (see encodeFrame).
 */
export function frameHeader(opcode: number, payloadLength: number, options: FrameOptions = {}): Buffer {
  const key = options.mask;
  checkFrame(opcode, payloadLength, key);
  const header = Buffer.allocUnsafe(headerLength(payloadLength, key !== undefined));
  writeHeader(header, opcode, payloadLength, options.fin !== false, options.rsv1 === true, key);
  return header;
}

/**
 * The buffers to write for one frame. Unmasked: one buffer up to
 * COPY_THRESHOLD payload bytes, else `[header, payload]` with the payload
 * shared, not copied. Masked: one buffer; `payload` is left untouched.
 * Throws RangeError for a control frame over 125 bytes or with fin false (§5.5).
 */
export function encodeFrame(opcode: number, payload: Buffer, options: FrameOptions = {}): Buffer[] {
  const key = options.mask;
  const fin = options.fin !== false;
  const length = payload.length;
  checkFrame(opcode, length, key);
  if (isControlOpcode(opcode)) {
    if (length > MAX_CONTROL_PAYLOAD) throw codedError(RangeError, 'WS_ERR_INVALID_ARGUMENT', `control frame payload of ${length} bytes (max 125)`);
    if (!fin) throw codedError(RangeError, 'WS_ERR_INVALID_ARGUMENT', 'control frames cannot be fragmented');
  }
  const rsv1 = options.rsv1 === true;
  if (key === undefined && length > COPY_THRESHOLD) {
    const header = Buffer.allocUnsafe(headerLength(length, false));
    writeHeader(header, opcode, length, fin, rsv1, undefined);
    return [header, payload];
  }
  const frame = Buffer.allocUnsafe(headerLength(length, key !== undefined) + length);
  const offset = writeHeader(frame, opcode, length, fin, rsv1, key);
  if (key === undefined) payload.copy(frame, offset);
  else maskInto(payload, key, frame, offset);
  return [frame];
}

/**
 * The frames of one message. With `fragmentSize`, a data message is split in
 * frames of at most that many payload bytes: the first carries the opcode and
 * RSV1 (RFC 7692 §6.1), the rest are continuations, the last has FIN (§5.4).
 * Without `fragmentSize` (or with 0, the socket option's "never") it is one
 * frame. Control messages are never fragmented (§5.5). An empty payload is one frame.
 * Every fragment of a masked message uses the same `mask` key.
 */
export function encodeMessage(
  opcode: number,
  payload: Buffer,
  options: { fragmentSize?: number; rsv1?: boolean; mask?: Uint8Array } = {},
): Buffer[] {
  const size = options.fragmentSize;
  if (size !== undefined && (!Number.isSafeInteger(size) || size < 0)) {
    throw codedError(RangeError, 'WS_ERR_INVALID_ARGUMENT', `invalid fragmentSize ${size}`);
  }
  const frameOptions: FrameOptions = { rsv1: options.rsv1 === true, mask: options.mask };
  if (size === undefined || size === 0 || payload.length <= size || isControlOpcode(opcode)) {
    return encodeFrame(opcode, payload, frameOptions);
  }
  const out: Buffer[] = [];
  for (let start = 0; start < payload.length; start += size) {
    const end = Math.min(start + size, payload.length);
    frameOptions.fin = end === payload.length;
    for (const b of encodeFrame(start === 0 ? opcode : 0, payload.subarray(start, end), frameOptions)) out.push(b);
    frameOptions.rsv1 = false;
  }
  return out;
}

/**
 * Bytes to send for `data`: a Buffer as is; an ArrayBuffer, typed array or
 * DataView as a Buffer over the same memory (no copy); a string as UTF-8.
 */
export function toPayload(data: string | Buffer | ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  // Any realm's ArrayBuffer (or SharedArrayBuffer), not only this one's.
  if (types.isAnyArrayBuffer(data)) return Buffer.from(data);
  throw codedError(TypeError, 'WS_ERR_INVALID_ARGUMENT', 'data must be a string, Buffer, ArrayBuffer or ArrayBufferView');
}

/**
 * Client frames with every header bit under control, broken ones included:
 * RSV2/RSV3, reserved opcodes, no mask, a length that lies. The fuzzer's
 * mutations are edits of these fields, so each one knows what it broke.
 */
import { mask } from '../../src/codec/mask';

export interface WireFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  payload: Buffer;
  /** null: send unmasked. */
  key: Uint8Array | null;
  /**
   * Announce this length instead of the payload's and send the header only
   * (a frame over maxPayload fails on its header, before any payload).
   */
  announcedLength?: bigint;
}

export function dataFrame(opcode: number, payload: Buffer, key: Uint8Array, fin = true, rsv1 = false): WireFrame {
  return { fin, rsv1, rsv2: false, rsv3: false, opcode, payload, key };
}

export function encodeWireFrame(frame: WireFrame): Buffer {
  const length = frame.announcedLength ?? BigInt(frame.payload.length);
  const masked = frame.key !== null;
  const ext = length < 126n ? 0 : length < 65536n ? 2 : 8;
  const headerLength = 2 + ext + (masked ? 4 : 0);
  const bodyLength = frame.announcedLength === undefined ? frame.payload.length : 0;
  const out = Buffer.allocUnsafe(headerLength + bodyLength);
  out[0] =
    (frame.fin ? 0x80 : 0) | (frame.rsv1 ? 0x40 : 0) | (frame.rsv2 ? 0x20 : 0) | (frame.rsv3 ? 0x10 : 0) | (frame.opcode & 0x0f);
  const maskBit = masked ? 0x80 : 0;
  if (ext === 0) out[1] = maskBit | Number(length);
  else if (ext === 2) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(Number(length), 2);
  } else {
    out[1] = maskBit | 127;
    out.writeBigUInt64BE(length, 2);
  }
  if (bodyLength === 0) {
    if (masked) Buffer.from(frame.key!).copy(out, 2 + ext);
    return out;
  }
  if (masked) {
    Buffer.from(frame.key!).copy(out, 2 + ext);
    mask(frame.payload, frame.key!, out, headerLength);
  } else {
    frame.payload.copy(out, headerLength);
  }
  return out;
}

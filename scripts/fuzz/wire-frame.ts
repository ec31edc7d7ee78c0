/**
 * Client frames with every header bit under control, broken ones included:
 * RSV2/RSV3, reserved opcodes, no mask, a length that lies. The fuzzer's
 * mutations are edits of these fields, so each one knows what it broke.
 * Encoded by the suite's one client-frame builder (src/testing/build-frame.ts).
 */
import { buildFrame, type FrameSpec } from '../../src/testing/build-frame';

/** buildFrame's header fields, all set, so a mutation edits one and knows what it broke. */
export interface WireFrame extends Required<Pick<FrameSpec, 'opcode' | 'fin' | 'rsv1' | 'rsv2' | 'rsv3'>> {
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
  const { announcedLength } = frame;
  return buildFrame({
    opcode: frame.opcode,
    // A lying length is sent as a header only: the server must fail on it before any payload.
    payload: announcedLength === undefined ? frame.payload : undefined,
    fin: frame.fin,
    rsv1: frame.rsv1,
    rsv2: frame.rsv2,
    rsv3: frame.rsv3,
    mask: frame.key ?? false,
    announcedLength,
  });
}

/**
 * Client frames for the codec tests and the soak/memory scripts: masked with
 * the RFC 6455 §5.7 example key unless told otherwise, deliberately
 * unchecked, so a test can also build the broken frames (a fragmented ping,
 * a 126-byte pong) that the server must reject. Built by the one client-frame
 * builder, src/testing/build-frame.ts.
 */
import { buildFrame } from '../../src/testing/build-frame';

/** The masking key of RFC 6455 §5.7's examples. */
const DEFAULT_KEY: Uint8Array = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

/**
 * One masked client frame (§5.3).
 *
 * @example
 * encodeClientFrame(Opcode.Text, 'Hello'); // 81 85 37 fa 21 3d 7f 9f 4d 51 58
 */
export function encodeClientFrame(
  opcode: number,
  payload: Buffer | string,
  options: { fin?: boolean; rsv1?: boolean; key?: Uint8Array } = {},
): Buffer {
  return buildFrame({ opcode, payload, fin: options.fin, rsv1: options.rsv1, mask: options.key ?? DEFAULT_KEY });
}

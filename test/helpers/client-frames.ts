/**
 * Client frames for tests and the benchmark's load generator: masked, in one
 * buffer, and deliberately unchecked, so a test can also build the broken
 * frames (a fragmented ping, a 126-byte pong) that the server must reject.
 */
import { frameHeader } from '../../src/codec/encoder';
import { mask } from '../../src/codec/mask';

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
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const key = options.key ?? DEFAULT_KEY;
  const header = frameHeader(opcode, body.length, { fin: options.fin, rsv1: options.rsv1, mask: key });
  const frame = Buffer.allocUnsafe(header.length + body.length);
  header.copy(frame, 0);
  mask(body, key, frame, header.length);
  return frame;
}

/**
 * Close frame bodies, RFC 6455 §5.5.1: an optional 2-byte big-endian status
 * code followed by a UTF-8 reason; close codes per §7.4.
 */
import { codedError, protocolError } from '../errors';
import { isValidUtf8 } from './utf8';

/** A control frame body is at most 125 bytes (§5.5), 2 of them the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * True for a code a peer may put on the wire (§7.4.1, §7.4.2): 1000–1003,
 * 1007–1014 and the registered/private range 3000–4999. 1004 is reserved;
 * 1005, 1006 and 1015 are reserved for reporting and MUST NOT be sent.
 */
export function isValidCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}

/** Parse and validate a received close frame body. Throws a ProtocolError. */
export function parseClosePayload(payload: Buffer): { code: number; reason: string } {
  // §7.1.5: a close frame without a status code is reported as 1005.
  if (payload.length === 0) return { code: 1005, reason: '' };
  if (payload.length === 1) throw protocolError('WS_ERR_INVALID_CLOSE_PAYLOAD');
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) throw protocolError('WS_ERR_INVALID_CLOSE_CODE', String(code));
  const reason = payload.subarray(2);
  if (!isValidUtf8(reason)) throw protocolError('WS_ERR_INVALID_CLOSE_REASON');
  return { code, reason: reason.toString('utf8') };
}

/**
 * The body of a close frame we send. No code → empty body (§5.5.1: the body
 * is optional). Throws TypeError for a code we may not send, RangeError for a
 * reason over 123 bytes of UTF-8.
 */
export function encodeClosePayload(code?: number, reason = ''): Buffer {
  if (code === undefined) {
    if (reason !== '') throw codedError(TypeError, 'WS_ERR_INVALID_ARGUMENT', 'a close reason needs a close code');
    return Buffer.alloc(0);
  }
  if (!Number.isInteger(code) || !isValidCloseCode(code)) {
    throw codedError(TypeError, 'WS_ERR_INVALID_ARGUMENT', `close code ${code} may not be sent`);
  }
  const length = Buffer.byteLength(reason, 'utf8');
  if (length > MAX_CLOSE_REASON_BYTES) {
    throw codedError(RangeError, 'WS_ERR_INVALID_ARGUMENT', `close reason is ${length} bytes of UTF-8, over ${MAX_CLOSE_REASON_BYTES}`);
  }
  const body = Buffer.allocUnsafe(2 + length);
  body.writeUInt16BE(code, 0);
  body.write(reason, 2, 'utf8');
  return body;
}

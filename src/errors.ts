/**
 * The error catalogue. Every error attach-ws raises has a stable `code`; a
 * protocol error also knows the close code it causes (RFC 6455 §7.4.1), a
 * handshake error the HTTP status it is answered with.
 *
 * Brands (`Symbol.for`) let `isProtocolError` / `isHandshakeError` recognise
 * errors from a second copy of the package in the same process.
 */

const kProtocolError = Symbol.for('attach-ws.ProtocolError');
const kHandshakeError = Symbol.for('attach-ws.HandshakeError');

/** Close codes a protocol error may carry. */
export type ErrorCloseCode = 1002 | 1007 | 1008 | 1009 | 1011;

/** A peer broke RFC 6455 (or a limit): the connection fails with `closeCode`. */
export class ProtocolError extends Error {
  readonly [kProtocolError] = true;
  override readonly name = 'ProtocolError';
  constructor(
    /** Stable machine-readable code, e.g. `WS_ERR_UNMASKED_FRAME`. */
    readonly code: string,
    /** The close code sent to the peer before the TCP connection is dropped. */
    readonly closeCode: ErrorCloseCode,
    message: string,
  ) {
    super(message);
  }
}

/** A handshake that must be refused with `status` (and optional headers). */
export class HandshakeError extends Error {
  readonly [kHandshakeError] = true;
  override readonly name = 'HandshakeError';
  constructor(
    readonly code: string,
    readonly status: 400 | 403 | 404 | 408 | 426 | 500 | 503,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

export function isProtocolError(err: unknown): err is ProtocolError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[kProtocolError] === true;
}

export function isHandshakeError(err: unknown): err is HandshakeError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[kHandshakeError] === true;
}

/** Protocol errors: code → [close code, message]. One place, so tests and docs agree. */
export const protocolErrors = {
  WS_ERR_UNMASKED_FRAME: [1002, 'client frames must be masked'],
  WS_ERR_UNEXPECTED_MASK: [1002, 'server frames must not be masked'],
  WS_ERR_RESERVED_BITS: [1002, 'reserved bits set without a negotiated extension'],
  WS_ERR_RSV1_ON_CONTROL: [1002, 'RSV1 set on a control frame'],
  WS_ERR_RSV1_ON_CONTINUATION: [1002, 'RSV1 set on a continuation frame'],
  WS_ERR_UNKNOWN_OPCODE: [1002, 'reserved opcode'],
  WS_ERR_FRAGMENTED_CONTROL: [1002, 'control frames must not be fragmented'],
  WS_ERR_CONTROL_TOO_LONG: [1002, 'control frame payload over 125 bytes'],
  WS_ERR_UNEXPECTED_CONTINUATION: [1002, 'continuation frame without a message to continue'],
  WS_ERR_EXPECTED_CONTINUATION: [1002, 'new data frame inside a fragmented message'],
  WS_ERR_LENGTH_TOP_BIT: [1002, '64-bit payload length has its most significant bit set'],
  WS_ERR_INVALID_CLOSE_PAYLOAD: [1002, 'close frame payload of 1 byte'],
  WS_ERR_INVALID_CLOSE_CODE: [1002, 'invalid close code'],
  WS_ERR_INVALID_UTF8: [1007, 'invalid UTF-8 in a text message'],
  WS_ERR_INVALID_CLOSE_REASON: [1007, 'invalid UTF-8 in a close reason'],
  WS_ERR_INVALID_COMPRESSED_DATA: [1007, 'invalid compressed data'],
  WS_ERR_MESSAGE_TOO_BIG: [1009, 'message exceeds maxPayload'],
  WS_ERR_TOO_MANY_FRAGMENTS: [1009, 'too many fragments in one message'],
  WS_ERR_INTERNAL: [1011, 'internal error'],
} as const satisfies Record<string, readonly [ErrorCloseCode, string]>;

export type ProtocolErrorCode = keyof typeof protocolErrors;

/** Make the catalogued protocol error `code`, optionally with more detail. */
export function protocolError(code: ProtocolErrorCode, detail?: string): ProtocolError {
  const [closeCode, message] = protocolErrors[code];
  return new ProtocolError(code, closeCode, detail ? `${message}: ${detail}` : message);
}

const kSendError = Symbol.for('attach-ws.SendError');

/** Why a message given to `send()` was not (or may not have been) delivered to the kernel. */
export const sendErrors = {
  WS_ERR_NOT_OPEN: 'WebSocket is not open',
  WS_ERR_SEND_LIMIT: 'send buffer limit exceeded: the peer does not read (closed with 1008)',
  WS_ERR_CLOSED_BEFORE_SENT: 'WebSocket closed before the message was sent',
} as const;

export type SendErrorCode = keyof typeof sendErrors;

/** What a `send()` callback gets when its message was not written; `code` is stable. */
export class SendError extends Error {
  readonly [kSendError] = true;
  override readonly name = 'SendError';
  constructor(
    readonly code: SendErrorCode,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(detail ? `${sendErrors[code]}: ${detail}` : sendErrors[code], options);
  }
}

export function isSendError(err: unknown): err is SendError {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[kSendError] === true;
}

/**
 * The error catalogue: every error attach-ws creates or reports, in one
 * place, so the code, the tests and the README table agree.
 *
 * - Each error has a stable `code` (`WS_...`); the codes form the `ErrorCode`
 *   union. A message is written once, here; call sites add only detail.
 * - A protocol error knows the close code it causes (RFC 6455 §7.4.1), a
 *   handshake rejection the HTTP status it is answered with.
 * - Errors are branded with a `Symbol.for` key, so `ProtocolError.is(err)`
 *   (and `AttachWsError.is`, `HandshakeError.is`, …) recognise errors made
 *   by a second copy of the package in the same process, where `instanceof`
 *   fails.
 *
 * Add an error: one catalogue entry (and its README row: test/errors
 * checks both ways).
 */

/** The brand: its value is the class name, so each class's `is` can check it. */
const kBrand = Symbol.for('attach-ws.error');

function brand(err: Error, name: string): void {
  // Non-enumerable: not in util.inspect output. Subclass constructors overwrite their base's.
  Object.defineProperty(err, kBrand, { value: name, enumerable: false, configurable: true, writable: true });
}

function brandOf(err: unknown): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<symbol, unknown>)[kBrand] : undefined;
}

// ---- the catalogue ------------------------------------------------------------

/** Close codes a protocol error may carry. */
export type ErrorCloseCode = 1002 | 1007 | 1008 | 1009 | 1011;

/** Protocol errors: code → [close code, message]. The connection fails with that close code. */
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
  // Our side failed, not the peer: 1011 (§7.4.1 "an unexpected condition").
  WS_ERR_COMPRESSION_FAILED: [1011, 'permessage-deflate could not compress a message'],
} as const satisfies Record<string, readonly [ErrorCloseCode, string]>;

/** HTTP statuses an upgrade is refused with by attach-ws itself (middleware may answer any). */
export type HandshakeStatus = 400 | 403 | 404 | 408 | 426 | 500 | 503;

/**
 * Handshake rejections: code → [HTTP status, message, headers]. The message
 * doubles as the plain-text body of the rejection, so it stays short and
 * never echoes what the client sent.
 */
export const handshakeErrors = {
  // RFC 6455 §4.1: "The method of the request MUST be GET". 405 would need an
  // Allow header; ws also answers 400.
  WS_HANDSHAKE_BAD_METHOD: [400, 'the handshake method must be GET', {}],
  WS_HANDSHAKE_BAD_HTTP_VERSION: [400, 'the handshake needs HTTP/1.1 or later', {}],
  WS_HANDSHAKE_MISSING_HOST: [400, 'missing Host header', {}],
  WS_HANDSHAKE_DUPLICATE_HOST: [400, 'more than one Host header', {}],
  WS_HANDSHAKE_BAD_UPGRADE: [400, 'the Upgrade header must include "websocket"', {}],
  WS_HANDSHAKE_BAD_CONNECTION: [400, 'the Connection header must include "Upgrade"', {}],
  WS_HANDSHAKE_DUPLICATE_VERSION: [400, 'more than one Sec-WebSocket-Version header', {}],
  WS_HANDSHAKE_UNSUPPORTED_VERSION: [
    426,
    'unsupported WebSocket version (this server speaks 13)',
    { 'Sec-WebSocket-Version': '13' },
  ],
  WS_HANDSHAKE_MISSING_KEY: [400, 'missing Sec-WebSocket-Key header', {}],
  WS_HANDSHAKE_DUPLICATE_KEY: [400, 'more than one Sec-WebSocket-Key header', {}],
  WS_HANDSHAKE_BAD_KEY: [400, 'Sec-WebSocket-Key must be 16 bytes in base64', {}],
  WS_HANDSHAKE_BAD_PROTOCOL: [400, 'invalid Sec-WebSocket-Protocol header', {}],
  WS_HANDSHAKE_DUPLICATE_PROTOCOL: [400, 'a subprotocol is offered twice', {}],
  WS_HANDSHAKE_BAD_EXTENSIONS: [400, 'invalid Sec-WebSocket-Extensions header', {}],
  WS_HANDSHAKE_DUPLICATE_ORIGIN: [400, 'more than one Origin header', {}],
  WS_HANDSHAKE_ORIGIN_FORBIDDEN: [403, 'origin not allowed', {}],
  // The default same-origin check: the body tells the developer how to allow other origins.
  WS_HANDSHAKE_CROSS_ORIGIN: [
    403,
    "cross-origin WebSocket refused: by default only pages from this server's own origin may connect. " +
      "To allow others, pass attachWs(app, server, { origins: ['https://app.example.com'] }), " +
      "a predicate origins: (origin, req) => boolean, or origins: '*'",
    {},
  ],
  // Rejections by the server rather than by the request's headers:
  WS_HANDSHAKE_NO_ROUTE: [404, 'no WebSocket route for this path', {}],
  WS_HANDSHAKE_TIMEOUT: [408, 'the upgrade was not accepted in time (handshakeTimeoutMs)', {}],
  WS_HANDSHAKE_INTERNAL: [500, 'the upgrade failed on the server', {}],
  WS_HANDSHAKE_SHUTTING_DOWN: [503, 'the server is shutting down', {}],
  // RFC 9110 §10.2.3: Retry-After tells a client (or a load balancer) when to try again.
  WS_HANDSHAKE_OVER_CAPACITY: [503, 'too many connections (maxConnections)', { 'Retry-After': '5' }],
  WS_HANDSHAKE_TOO_MANY_PENDING: [503, 'too many upgrades waiting for middleware (maxPendingUpgrades)', { 'Retry-After': '5' }],
} as const satisfies Record<string, readonly [HandshakeStatus, string, Readonly<Record<string, string>>]>;

/**
 * Rejections whose HTTP status is not ours to choose: middleware answered
 * (`res.status(401).end()`) or failed (`next(err)`, status from
 * `err.status`). Reported on the `attach-ws:reject` channel with these codes.
 */
export const middlewareRejections = {
  WS_HANDSHAKE_MIDDLEWARE_RESPONSE: 'middleware answered the upgrade request',
  WS_HANDSHAKE_MIDDLEWARE_ERROR: 'middleware failed the upgrade request',
} as const;

/** Errors about a connection's state, the deflate engine, or how the API was called. */
export const usageErrors = {
  /** permessage-deflate was closed (the connection ended) before a pending message was compressed. */
  WS_ERR_DEFLATE_CLOSED: 'permessage-deflate was closed before the message was compressed',
  /** An option of `attachWs` or of a route is invalid (thrown as a TypeError or RangeError). */
  WS_ERR_INVALID_OPTION: 'invalid option',
  /** A method was called with an argument it cannot use (thrown as a TypeError or RangeError). */
  WS_ERR_INVALID_ARGUMENT: 'invalid argument',
  /** An `app.ws` handler threw (or rejected with) something that is not an Error. */
  WS_ERR_HANDLER_FAILED: 'a WebSocket handler failed',
  /** Middleware answered the upgrade and then called next() anyway: its answer stands, the handler was not run. */
  WS_ERR_UPGRADE_ALREADY_ANSWERED: 'middleware answered the upgrade and then called next(); the handler was not run',
} as const;

/** Why a message given to `send()` was not (or may not have been) written; its callback gets a `SendError`. */
export const sendErrors = {
  /** `send`/`ping`/`pong` (or a queued send) after the connection started closing. */
  WS_ERR_NOT_OPEN: 'the WebSocket is not open: the message was not sent',
  /** `send()` past `maxBufferedAmount` to a peer that does not read: the connection is closed with 1008. */
  WS_ERR_SEND_LIMIT: 'send buffer limit exceeded: the peer does not read (closed with 1008)',
  /** The connection ended while the message was still queued. */
  WS_ERR_CLOSED_BEFORE_SENT: 'the WebSocket closed before the message was sent',
} as const;

/**
 * Messages from other nodes (an adapter) dropped before fan-out; reported
 * rate-limited as `InboundMessageError`, never thrown.
 */
export const inboundErrors = {
  WS_ERR_INBOUND_TOO_BIG: 'dropped messages from other nodes larger than maxPayload',
  WS_ERR_INBOUND_INVALID_UTF8: 'dropped text messages from other nodes that are not valid UTF-8',
  WS_ERR_INBOUND_OVER_BUDGET:
    'dropped messages from other nodes over the delivery budget (this node is overloaded; Redis pub/sub is at-most-once)',
} as const;

/** Errors of the Redis adapter ('attach-ws/redis'); each message names the Redis detail. */
export const redisAdapterErrors = {
  /** ioredis is not installed. Thrown by `redisAdapter()`: a setup error. */
  WS_ERR_REDIS_MISSING: 'attach-ws/redis needs the package "ioredis" (an optional peer dependency of attach-ws): npm install ioredis',
  /** A connection to Redis failed or closed; it is being retried. Once per outage. */
  WS_ERR_REDIS_CONNECTION: 'lost a connection to Redis; reconnecting (cross-node messages are lost until it is back)',
  /** Publishes are being dropped (Redis unreachable or too far behind). Once per episode. */
  WS_ERR_REDIS_DROPPED: 'dropping cross-node publishes (local delivery is unaffected)',
  /** Redis refused a command (e.g. ACL, OOM). */
  WS_ERR_REDIS_COMMAND: 'Redis refused a command',
  /** A message on one of our channels was not an attach-ws frame; ignored. */
  WS_ERR_REDIS_BAD_FRAME: 'ignored a message on a Redis channel that is not an attach-ws frame',
  /** The server's `deliver` hook threw; the adapter carried on. */
  WS_ERR_REDIS_DELIVER: 'delivering a message from Redis threw',
} as const;

export type ProtocolErrorCode = keyof typeof protocolErrors;
export type HandshakeErrorCode = keyof typeof handshakeErrors | keyof typeof middlewareRejections;
export type UsageErrorCode = keyof typeof usageErrors;
export type SendErrorCode = keyof typeof sendErrors;
export type InboundErrorCode = keyof typeof inboundErrors;
export type RedisAdapterErrorCode = keyof typeof redisAdapterErrors;
/** Every code attach-ws uses. */
export type ErrorCode =
  | ProtocolErrorCode
  | HandshakeErrorCode
  | UsageErrorCode
  | SendErrorCode
  | InboundErrorCode
  | RedisAdapterErrorCode;

// ---- the classes ----------------------------------------------------------------

/**
 * Base of every attach-ws error: a stable `code`. Test with
 * `AttachWsError.is(err)` (works across duplicate package copies).
 */
export class AttachWsError extends Error {
  override readonly name: string = 'AttachWsError';
  constructor(
    /** Stable machine-readable code, e.g. `WS_ERR_NOT_OPEN`. */
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    brand(this, 'AttachWsError');
  }

  /** Any attach-ws error (or one of its codes'), from this copy of the package or another. */
  static is(err: unknown): err is AttachWsError {
    return typeof brandOf(err) === 'string';
  }
}

/** A peer broke RFC 6455 (or a limit), or our side failed: the connection fails with `closeCode`. */
export class ProtocolError extends AttachWsError {
  override readonly name = 'ProtocolError';
  declare readonly code: ProtocolErrorCode;
  constructor(
    code: ProtocolErrorCode,
    /** The close code sent to the peer before the TCP connection is dropped. */
    readonly closeCode: ErrorCloseCode,
    message: string,
  ) {
    super(code, message);
    brand(this, 'ProtocolError');
  }

  static override is(err: unknown): err is ProtocolError {
    return brandOf(err) === 'ProtocolError';
  }
}

/** An upgrade refused with HTTP `status` (and optional headers) instead of a 101. */
export class HandshakeError extends AttachWsError {
  override readonly name = 'HandshakeError';
  declare readonly code: HandshakeErrorCode;
  constructor(
    code: HandshakeErrorCode,
    /** The HTTP status of the answer (400–599). */
    readonly status: number,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
    brand(this, 'HandshakeError');
  }

  static override is(err: unknown): err is HandshakeError {
    return brandOf(err) === 'HandshakeError';
  }
}

/** What compress() callbacks get for work that closing the connection cut short. */
export class DeflateClosedError extends AttachWsError {
  override readonly name = 'DeflateClosedError';
  declare readonly code: 'WS_ERR_DEFLATE_CLOSED';
  constructor() {
    super('WS_ERR_DEFLATE_CLOSED', usageErrors.WS_ERR_DEFLATE_CLOSED);
    brand(this, 'DeflateClosedError');
  }

  static override is(err: unknown): err is DeflateClosedError {
    return brandOf(err) === 'DeflateClosedError';
  }
}

/** What a `send()` callback gets when its message was not written; `code` says why. */
export class SendError extends AttachWsError {
  override readonly name = 'SendError';
  declare readonly code: SendErrorCode;
  constructor(code: SendErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(code, detail ? `${sendErrors[code]}: ${detail}` : sendErrors[code], options);
    brand(this, 'SendError');
  }

  static override is(err: unknown): err is SendError {
    return brandOf(err) === 'SendError';
  }
}

/** Same as `SendError.is(err)`. */
export function isSendError(err: unknown): err is SendError {
  return SendError.is(err);
}

/** Messages from other nodes were dropped (reported at most once per interval per kind). */
export class InboundMessageError extends AttachWsError {
  override readonly name = 'InboundMessageError';
  declare readonly code: InboundErrorCode;
  constructor(
    code: InboundErrorCode,
    detail: string | undefined,
    /** Occurrences since the previous report that were not reported one by one. */
    readonly suppressed: number,
  ) {
    super(code, detail ? `${inboundErrors[code]}: ${detail}` : inboundErrors[code]);
    brand(this, 'InboundMessageError');
  }

  static override is(err: unknown): err is InboundMessageError {
    return brandOf(err) === 'InboundMessageError';
  }
}

/** An error of the Redis adapter, reported to the server's 'error' event (or thrown at setup). */
export class RedisAdapterError extends AttachWsError {
  override readonly name = 'RedisAdapterError';
  declare readonly code: RedisAdapterErrorCode;
  constructor(code: RedisAdapterErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(code, detail ? `${redisAdapterErrors[code]}: ${detail}` : redisAdapterErrors[code], options);
    brand(this, 'RedisAdapterError');
  }

  static override is(err: unknown): err is RedisAdapterError {
    return brandOf(err) === 'RedisAdapterError';
  }
}

/** Same as `ProtocolError.is(err)`. */
export function isProtocolError(err: unknown): err is ProtocolError {
  return ProtocolError.is(err);
}

/** Same as `HandshakeError.is(err)`. */
export function isHandshakeError(err: unknown): err is HandshakeError {
  return HandshakeError.is(err);
}

// ---- makers: call sites name a code and add detail (not exported by the package) --

/** Make the catalogued protocol error `code`, optionally with more detail. */
export function protocolError(code: ProtocolErrorCode, detail?: string): ProtocolError {
  const [closeCode, message] = protocolErrors[code];
  return new ProtocolError(code, closeCode, detail ? `${message}: ${detail}` : message);
}

/** Make the catalogued handshake rejection `code`, optionally with more detail. */
export function handshakeError(code: keyof typeof handshakeErrors, detail?: string): HandshakeError {
  const [status, message, headers] = handshakeErrors[code];
  return new HandshakeError(code, status, detail ? `${message}: ${detail}` : message, { ...headers });
}

/**
 * A rejection decided by middleware: `next(err)` with an HTTP status
 * (`err.status`), or an answer written through `res`. The body is `message`.
 */
export function middlewareRejection(
  code: keyof typeof middlewareRejections,
  status: number,
  message: string = middlewareRejections[code],
): HandshakeError {
  return new HandshakeError(code, status, message);
}

/** `send` after close: one code, one message. */
export function notOpenError(): SendError {
  return new SendError('WS_ERR_NOT_OPEN');
}

/**
 * A TypeError or RangeError (what a bad argument is in JavaScript)
 * that also carries a catalogue code and the brand, like Node's `ERR_*` errors.
 */
export function codedError(
  Kind: typeof TypeError | typeof RangeError,
  code: 'WS_ERR_INVALID_OPTION' | 'WS_ERR_INVALID_ARGUMENT',
  message: string,
): (TypeError | RangeError) & { readonly code: typeof code } {
  const err = new Kind(message) as (TypeError | RangeError) & { code: typeof code };
  err.code = code;
  brand(err, Kind.name);
  return err;
}

/** A handler's failure as an Error: itself if it is one, else wrapped (with `cause`). */
export function asHandlerError(err: unknown): Error {
  if (err instanceof Error) return err;
  return new AttachWsError('WS_ERR_HANDLER_FAILED', `${usageErrors.WS_ERR_HANDLER_FAILED}: ${String(err)}`, { cause: err });
}

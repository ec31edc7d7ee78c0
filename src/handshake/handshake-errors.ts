import { HandshakeError } from '../errors';

/** The one status a handshake refusal may carry (a subset of `HandshakeError['status']`). */
type HandshakeStatus = HandshakeError['status'];

/**
 * The handshake error catalogue: code → [HTTP status, short reason, headers].
 * One place, so the server's answers, the tests and the docs agree. The reason
 * doubles as the plain-text body of the rejection, so it stays short and never
 * echoes what the client sent.
 */
export const handshakeErrors = {
  // RFC 6455 §4.1: "The method of the request MUST be GET". 405 would need an
  // Allow header and a status HandshakeError does not model; ws also answers 400.
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
} as const satisfies Record<string, readonly [HandshakeStatus, string, Readonly<Record<string, string>>]>;

export type HandshakeErrorCode = keyof typeof handshakeErrors;

/** Make the catalogued handshake error `code`, optionally with more detail in the message. */
export function handshakeError(code: HandshakeErrorCode, detail?: string): HandshakeError {
  const [status, message, headers] = handshakeErrors[code];
  return new HandshakeError(code, status, detail ? `${message}: ${detail}` : message, { ...headers });
}

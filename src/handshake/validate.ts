import { isValidKey } from './accept-key';
import { parseExtensions } from './extensions';
import { handshakeError } from './handshake-errors';
import { parseProtocols } from './protocols';
import { countSingletonHeaders, headerValue, type UpgradeRequestLike, type ValidatedHandshake } from './request';
import { listHasToken } from './tokens';

/**
 * Read the client's opening handshake (RFC 6455 §4.2.1) and return what it
 * asks for, or throw the HTTP refusal it deserves. Cheap structural checks come
 * first, list parsing last.
 *
 * Choices stricter than `ws`: HTTP/1.0 is refused; a missing or duplicated
 * Host is refused (RFC 7230 §5.4); `Connection` must carry `Upgrade`; a
 * duplicated Key, Version or Origin is refused (Node would join them with ", ").
 * A missing `Sec-WebSocket-Version` is answered 426 like a wrong one: the
 * clients that omit it are pre-RFC drafts (hixie-76), and 426 tells them "13".
 *
 * @example const { key, protocols, extensions, origin } = validateHandshake(req);
 * @throws HandshakeError 400 for a malformed request, 426 (with
 *   `Sec-WebSocket-Version: 13`) for a missing or unsupported version.
 */
export function validateHandshake(req: UpgradeRequestLike): ValidatedHandshake {
  // §4.1 client requirement 1: "The method of the request MUST be GET, and the HTTP version MUST be at least 1.1."
  if (req.method !== 'GET') throw handshakeError('WS_HANDSHAKE_BAD_METHOD');
  if (req.httpVersionMajor < 1 || (req.httpVersionMajor === 1 && req.httpVersionMinor < 1)) {
    throw handshakeError('WS_HANDSHAKE_BAD_HTTP_VERSION');
  }

  // RFC 7230 §5.4: 400 for a request that "lacks a Host header field" or "contains more than one".
  const counts = countSingletonHeaders(req);
  const hosts = counts.host;
  if (hosts === 0) throw handshakeError('WS_HANDSHAKE_MISSING_HOST');
  if (hosts > 1) throw handshakeError('WS_HANDSHAKE_DUPLICATE_HOST');

  // §4.2.1 items 3 and 4: Upgrade includes "websocket", Connection includes "Upgrade", both case-insensitive.
  if (!hasToken(headerValue(req.headers, 'upgrade'), 'websocket')) throw handshakeError('WS_HANDSHAKE_BAD_UPGRADE');
  if (!hasToken(headerValue(req.headers, 'connection'), 'upgrade')) {
    throw handshakeError('WS_HANDSHAKE_BAD_CONNECTION');
  }

  // Version before Key: a draft client without a Key still learns which version to speak.
  // §4.2.2: an unknown version gets "an appropriate HTTP error code (such as 426 Upgrade Required)".
  if (counts.version > 1) throw handshakeError('WS_HANDSHAKE_DUPLICATE_VERSION');
  if (headerValue(req.headers, 'sec-websocket-version') !== '13') {
    throw handshakeError('WS_HANDSHAKE_UNSUPPORTED_VERSION');
  }

  // §4.2.1 item 5: one Sec-WebSocket-Key that "when decoded, is 16 bytes in length".
  const keys = counts.key;
  const key = headerValue(req.headers, 'sec-websocket-key');
  if (keys > 1) throw handshakeError('WS_HANDSHAKE_DUPLICATE_KEY');
  if (key === undefined) throw handshakeError('WS_HANDSHAKE_MISSING_KEY');
  if (!isValidKey(key)) throw handshakeError('WS_HANDSHAKE_BAD_KEY');

  // RFC 6454 §7.3: a user agent "MUST NOT include more than one Origin header field".
  if (counts.origin > 1) throw handshakeError('WS_HANDSHAKE_DUPLICATE_ORIGIN');
  const origin = headerValue(req.headers, 'origin');

  // §11.3.2 / §11.3.4: both may be sent on several lines; Node has joined them into one list.
  const protocols = parseProtocols(headerValue(req.headers, 'sec-websocket-protocol'));
  const extensions = parseExtensions(headerValue(req.headers, 'sec-websocket-extensions'));

  return { key, protocols, extensions, origin };
}

/**
 * `listHasToken`, with the shape nearly every client sends (the header is the
 * token alone, `websocket` / `Upgrade`) answered without splitting a list.
 * `token` is lower case.
 */
function hasToken(value: string | undefined, token: string): boolean {
  if (value !== undefined && value.length === token.length && (value === token || value.toLowerCase() === token)) return true;
  return listHasToken(value, token);
}

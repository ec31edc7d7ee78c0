import { handshakeError } from './handshake-errors';
import type { UpgradeRequestLike } from './request';

/**
 * Which origins may open a WebSocket: a list of serialized origins
 * (`'https://app.example'`, compared case-insensitively) or a predicate.
 */
export type OriginCheck = readonly string[] | ((origin: string | undefined, req: UpgradeRequestLike) => boolean);

/**
 * Refuse a handshake from an origin `check` does not allow (RFC 6455 §10.2:
 * the server "MAY ... reply with an appropriate HTTP error code (such as 403
 * Forbidden)"). No check allows every request. With a list, a request without
 * `Origin` is refused too: browsers always send it, so the list says "only
 * these pages"; a predicate can let origin-less (non-browser) clients in.
 * Errors thrown by a predicate propagate.
 *
 * @example checkOrigin(req.headers.origin, ['https://app.example'], req)
 * @throws HandshakeError 403 `WS_HANDSHAKE_ORIGIN_FORBIDDEN`.
 */
export function checkOrigin(origin: string | undefined, check: OriginCheck | undefined, req: UpgradeRequestLike): void {
  if (check === undefined) return;
  const allowed = typeof check === 'function' ? check(origin, req) === true : isListed(origin, check);
  if (!allowed) throw handshakeError('WS_HANDSHAKE_ORIGIN_FORBIDDEN');
}

function isListed(origin: string | undefined, list: readonly string[]): boolean {
  if (origin === undefined) return false;
  const wanted = origin.toLowerCase();
  return list.some((entry) => entry.toLowerCase() === wanted);
}

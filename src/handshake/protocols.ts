import { handshakeError } from './handshake-errors';
import type { UpgradeRequestLike } from './request';
import { isToken, listElements } from './tokens';

/**
 * The offered subprotocols of a `Sec-WebSocket-Protocol` header, in client
 * order. RFC 6455 §4.1: the values are tokens and "MUST all be unique
 * strings". Empty list elements are ignored (RFC 7230 §7), but a header with
 * no protocol at all breaks `1#token` (§11.3.4).
 *
 * @example parseProtocols('chat.v2, chat.v1') // ['chat.v2', 'chat.v1']
 * @throws HandshakeError 400 `WS_HANDSHAKE_BAD_PROTOCOL` or `WS_HANDSHAKE_DUPLICATE_PROTOCOL`.
 */
export function parseProtocols(header: string | undefined): string[] {
  if (header === undefined) return [];
  const protocols = listElements(header);
  if (protocols.length === 0) throw handshakeError('WS_HANDSHAKE_BAD_PROTOCOL', 'empty list');
  const seen = new Set<string>();
  for (const protocol of protocols) {
    if (!isToken(protocol)) throw handshakeError('WS_HANDSHAKE_BAD_PROTOCOL', 'not a token');
    if (seen.has(protocol)) throw handshakeError('WS_HANDSHAKE_DUPLICATE_PROTOCOL');
    seen.add(protocol);
  }
  return protocols;
}

/** How the server picks a subprotocol. */
export interface ProtocolOptions {
  /** The protocols the server speaks, in its order of preference. */
  protocols?: readonly string[];
  /**
   * Pick one of `offered` (never called with an empty list); `false` or
   * `undefined` for none. Takes precedence over `protocols`.
   */
  handleProtocols?: (offered: readonly string[], req: UpgradeRequestLike) => string | false | undefined;
}

/**
 * The subprotocol to answer with, or `undefined` for none. RFC 6455 §4.2.2
 * step 5.4: the server answers with one of the values the client offered, so
 * an answer from `handleProtocols` that the client did not offer is ignored.
 * Errors thrown by `handleProtocols` propagate to the caller.
 *
 * @example selectProtocol(['a', 'b'], { protocols: ['b', 'a'] }, req) // 'b'
 */
export function selectProtocol(
  offered: readonly string[],
  options: ProtocolOptions,
  req: UpgradeRequestLike,
): string | undefined {
  if (offered.length === 0) return undefined;
  if (options.handleProtocols) {
    const chosen = options.handleProtocols(offered, req);
    return typeof chosen === 'string' && offered.includes(chosen) ? chosen : undefined;
  }
  return options.protocols?.find((protocol) => offered.includes(protocol));
}

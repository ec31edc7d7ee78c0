// The handshake layer, pure (RFC 6455 §4.2): validate an upgrade request, pick
// a subprotocol, check the origin, and build the 101 or the refusal.
export { acceptKey, isValidKey } from './accept-key';
export { parseExtensions, formatExtension } from './extensions';
export { handshakeErrors, handshakeError } from './handshake-errors';
export type { HandshakeErrorCode } from './handshake-errors';
export { checkOrigin, isSameOrigin, requestHost } from './origin';
export type { OriginCheck } from './origin';
export { parseProtocols, selectProtocol } from './protocols';
export type { ProtocolOptions } from './protocols';
export type { UpgradeRequestLike, ValidatedHandshake } from './request';
export { buildAcceptResponse, buildRejectResponse } from './responses';
export { validateHandshake } from './validate';

// The handshake rejections live in the one error catalogue (src/errors.ts);
// re-exported here so the handshake layer's files import them locally.
export { handshakeError, handshakeErrors } from '../errors';
export type { HandshakeErrorCode } from '../errors';

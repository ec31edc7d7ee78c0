// Public surface: re-exports only.
export { ProtocolError, HandshakeError, isProtocolError, isHandshakeError } from './errors';
export type { ErrorCloseCode } from './errors';
export type { PubSubAdapter, AdapterHooks } from './pubsub/adapter';

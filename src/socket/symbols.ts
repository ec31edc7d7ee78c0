/**
 * The socket layer's internal keys (defined in src/symbols.ts, the one
 * symbols module; re-exported here so the layer's files import them locally).
 */
export {
  kCloseFrameWritten,
  kCompressionFailed,
  kDeliver,
  kFail,
  kHandlerFailed,
  kHandlerSettled,
  kHandlerStarted,
  kHeartbeat,
  kIdleTimeout,
  kPauseReading,
  kPeerClose,
  kPeerPing,
  kPeerPong,
  kResumeReading,
  kSendLimitExceeded,
  kWebSocket,
} from '../symbols';

/** Why reading from TCP is paused; reading resumes when no reason is left. */
export const PauseReason = {
  /** Messages held for a handler that has not attached a listener yet. */
  Held: 1,
  /** An async iterator's consumer is behind. */
  Iterator: 2,
  /** A compressed message is being inflated (keeps messages in order). */
  Inflate: 4,
  /** Our send buffer is over the high-water mark: the peer is not reading (TCP pushes back). */
  SendBuffer: 8,
  /** This connection published past the server's delivery budget (TCP pushes back on it). */
  Budget: 16,
} as const;

/**
 * The socket layer's internal keys (defined in src/symbols.ts, the one
 * symbols module; re-exported here so the layer's files import them locally).
 */
export {
  kDeliver,
  kFail,
  kHandlerSettled,
  kHandlerStarted,
  kHeartbeat,
  kPauseReading,
  kPeerClose,
  kPeerPing,
  kPeerPong,
  kResumeReading,
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
} as const;

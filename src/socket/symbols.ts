/**
 * Internal keys: how the socket layer's pieces (receiver, iterator, heartbeat,
 * server) reach a connection's internals without putting them on the public
 * surface.
 */
export const kWebSocket = Symbol('attach-ws.webSocket');
export const kDeliver = Symbol('attach-ws.deliver');
export const kFail = Symbol('attach-ws.fail');
export const kPeerClose = Symbol('attach-ws.peerClose');
export const kPeerPing = Symbol('attach-ws.peerPing');
export const kPeerPong = Symbol('attach-ws.peerPong');
export const kPauseReading = Symbol('attach-ws.pauseReading');
export const kResumeReading = Symbol('attach-ws.resumeReading');
export const kHeartbeat = Symbol('attach-ws.heartbeat');
export const kHandlerStarted = Symbol('attach-ws.handlerStarted');
export const kHandlerSettled = Symbol('attach-ws.handlerSettled');
export const kHandlerFailed = Symbol('attach-ws.handlerFailed');
export const kCloseFrameWritten = Symbol('attach-ws.closeFrameWritten');
export const kCompressionFailed = Symbol('attach-ws.compressionFailed');
export const kSendLimitExceeded = Symbol('attach-ws.sendLimitExceeded');
export const kIdleTimeout = Symbol('attach-ws.idleTimeout');

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

/**
 * Every private key of attach-ws, in one place (fastify keeps one symbols
 * module too): layers reach each other's internals through these instead of
 * public members, so nothing internal is callable from the published types.
 *
 * `Symbol()` keys are private to this copy of the package. `Symbol.for()`
 * keys are shared with any other copy loaded in the same process: they mark
 * objects that copy may also see (an Express Layer prototype filtered once, an
 * upgrade request routed by one copy and inspected by the other's wrapper).
 */

// ---- socket layer: a connection's internals -------------------------------------
/** On a TCP socket: the WebSocket that owns it (module-level handlers find it here). */
export const kWebSocket = Symbol('attach-ws.webSocket');
/** A decoded message for the handler. */
export const kDeliver = Symbol('attach-ws.deliver');
/** Fail the WebSocket connection (RFC 6455 §7.1.7) with a ProtocolError. */
export const kFail = Symbol('attach-ws.fail');
export const kPeerClose = Symbol('attach-ws.peerClose');
export const kPeerPing = Symbol('attach-ws.peerPing');
export const kPeerPong = Symbol('attach-ws.peerPong');
export const kPauseReading = Symbol('attach-ws.pauseReading');
export const kResumeReading = Symbol('attach-ws.resumeReading');
/** One tick of the server's shared heartbeat timer. */
export const kHeartbeat = Symbol('attach-ws.heartbeat');
export const kHandlerStarted = Symbol('attach-ws.handlerStarted');
export const kHandlerSettled = Symbol('attach-ws.handlerSettled');
export const kHandlerFailed = Symbol('attach-ws.handlerFailed');
export const kCloseFrameWritten = Symbol('attach-ws.closeFrameWritten');
export const kCompressionFailed = Symbol('attach-ws.compressionFailed');
/** `send()` passed `maxBufferedAmount`: close with 1008. */
export const kSendLimitExceeded = Symbol('attach-ws.sendLimitExceeded');
export const kIdleTimeout = Symbol('attach-ws.idleTimeout');

// ---- pubsub layer: a subscriber's internals -------------------------------------
/** Delivers a published message to one subscriber (a WebSocket). */
export const kDeliverPrepared = Symbol('attach-ws.deliverPrepared');
/** The set of topics a subscriber is in; owned by the hub, stored on the subscriber. */
export const kTopics = Symbol('attach-ws.topics');
/** Stop / start reading from a connection that published past the delivery budget. */
export const kPausePublisher = Symbol('attach-ws.pausePublisher');
export const kResumePublisher = Symbol('attach-ws.resumePublisher');

// ---- server and Express layers: an upgrade in flight ----------------------------
/**
 * The PendingUpgrade of an upgrade in flight, on its request (what the
 * Express layer and its Layer upgrade filter look for) and on its socket
 * (so a socket that closes early abandons it). One key for both.
 */
export const kPendingUpgrade = Symbol.for('attach-ws.pendingUpgrade');
/** On an upgrade request: the WsServer that is dispatching it. */
export const kWsServer = Symbol.for('attach-ws.server');
/** On an Express Route: it is an `app.ws` route. */
export const kWsRoute = Symbol.for('attach-ws.wsRoute');
/** On Express's Layer prototype: its handle methods already filter upgrades (by any copy). */
export const kUpgradeFilter = Symbol.for('attach-ws.upgradeFilter');
/** On a router: the sub-apps mounted on it (their ws routes are found through the parent). */
export const kMountedApps = Symbol.for('attach-ws.mountedApps');
/** On an app: its 'mount' event is already watched. */
export const kWatchedMounts = Symbol.for('attach-ws.watchedMounts');

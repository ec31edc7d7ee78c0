// Public surface: re-exports only.
export { attachWs } from './express/attach-ws';
export type { WsHandler, WsRouteMatcher } from './express/types';
export { WsServer, channels } from './server/ws-server';
export type { LimitStats, WsServerEvents, WsServerStats } from './server/ws-server';
export type { AttachWsOptions, RouteOptions } from './server/options';
export { WebSocket } from './socket/websocket';
export type { SendData, SendCallback, SendOptions, WebSocketEvents } from './socket/websocket';
export type { BackpressurePolicy } from './socket/options';
export type { PublishOptions, TopicStats } from './pubsub/topic-hub';
export type { PubSubAdapter, AdapterHooks } from './pubsub/adapter';
export type { DeliveryBudgetOptions, DeliveryStats, OverloadEvent } from './pubsub/delivery-budget';
export type { PerMessageDeflateOptions } from './codec/permessage-deflate';
export type { OriginCheck } from './handshake';
export {
  AttachWsError,
  ProtocolError,
  HandshakeError,
  SendError,
  InboundMessageError,
  DeflateClosedError,
  isProtocolError,
  isHandshakeError,
  isSendError,
} from './errors';
export type {
  ErrorCode,
  ErrorCloseCode,
  ProtocolErrorCode,
  HandshakeErrorCode,
  UsageErrorCode,
  SendErrorCode,
  InboundErrorCode,
} from './errors';

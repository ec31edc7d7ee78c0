import type { PreparedMessage } from './prepared-message';

/** Delivers a published message to one subscriber (a WebSocket). */
export const kDeliverPrepared = Symbol('attach-ws.deliverPrepared');
/** The set of topics a subscriber is in; owned by the hub, stored on the subscriber. */
export const kTopics = Symbol('attach-ws.topics');

export interface TopicMember {
  [kTopics]: Set<string> | null;
  /** Write the message's shared frame bytes; false when skipped (closed or too far behind). */
  [kDeliverPrepared](message: PreparedMessage): boolean;
}

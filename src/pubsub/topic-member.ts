import { kDeliverPrepared, kTopics } from '../symbols';
import type { PreparedMessage } from './prepared-message';

export { kDeliverPrepared, kTopics };

export interface TopicMember {
  [kTopics]: Set<string> | null;
  /** Write the message's shared frame bytes; false when skipped (closed or too far behind). */
  [kDeliverPrepared](message: PreparedMessage): boolean;
}

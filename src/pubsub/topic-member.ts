import { kDeliverPrepared, kPausePublisher, kResumePublisher, kTopics } from '../symbols';
import type { PreparedMessage } from './prepared-message';

export { kDeliverPrepared, kPausePublisher, kResumePublisher, kTopics };

export interface TopicMember extends Publisher {
  [kTopics]: Set<string> | null;
  /**
   * Write the message's shared frame bytes; false when skipped (closed or too
   * far behind), and then nothing was written. When it returns true,
   * `message.written` is called exactly once, when the bytes have left user
   * space or failed to.
   */
  [kDeliverPrepared](message: PreparedMessage): boolean;
  /** Bytes accepted for this subscriber and not yet passed to the kernel. */
  readonly bufferedAmount: number;
  /** Drop the connection now (a subscriber whose unread backlog stalls the delivery budget). */
  terminate(): void;
}

/** A connection whose reading the delivery budget can pause (TCP then pushes back on its peer). */
export interface Publisher {
  [kPausePublisher](): void;
  [kResumePublisher](): void;
}

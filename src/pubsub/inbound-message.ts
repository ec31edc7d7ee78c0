import { isValidUtf8 } from '../codec/utf8';
import { REPORT_INTERVAL_MS, RateLimitedReport } from './rate-limited-report';

/**
 * Messages from other nodes (an adapter such as Redis) are peer input like
 * any frame: anyone who can publish on the Redis channel can send them. They
 * get the checks a client's message gets before they are fanned out: the
 * server's `maxPayload`, and UTF-8 for text (RFC 6455 §8.1: a text message
 * must be valid UTF-8, and our subscribers would fail with 1007 on it). A bad
 * one is dropped and counted, and reported at most once per interval per kind.
 */

export type InboundDropReason = 'maxPayload' | 'utf8' | 'budget';

export type InboundErrorCode =
  /** A message from another node was larger than `maxPayload`. */
  | 'WS_ERR_INBOUND_TOO_BIG'
  /** A text message from another node was not valid UTF-8. */
  | 'WS_ERR_INBOUND_INVALID_UTF8'
  /** Messages from other nodes did not fit the delivery budget (overload). */
  | 'WS_ERR_INBOUND_OVER_BUDGET';

/** Reported (rate-limited) through the server's `error` event; never thrown. */
export class InboundMessageError extends Error {
  override readonly name = 'InboundMessageError';
  constructor(
    readonly code: InboundErrorCode,
    message: string,
    /** Occurrences since the previous report that were not reported one by one. */
    readonly suppressed: number,
  ) {
    super(message);
  }
}

const CODES: Record<InboundDropReason, InboundErrorCode> = {
  maxPayload: 'WS_ERR_INBOUND_TOO_BIG',
  utf8: 'WS_ERR_INBOUND_INVALID_UTF8',
  budget: 'WS_ERR_INBOUND_OVER_BUDGET',
};

const WHY: Record<InboundDropReason, string> = {
  maxPayload: 'larger than maxPayload',
  utf8: 'text that is not valid UTF-8',
  budget: 'over the delivery budget (this node is overloaded; Redis pub/sub is at-most-once)',
};

/** Why a message from another node must not be delivered, or null if it may. */
export function inboundProblem(data: Buffer, isBinary: boolean, maxPayload: number): InboundDropReason | null {
  if (data.length > maxPayload) return 'maxPayload';
  if (!isBinary && !isValidUtf8(data)) return 'utf8';
  return null;
}

/** One rate-limited reporter per kind of drop. */
export class InboundReports {
  readonly #reports: Record<InboundDropReason, RateLimitedReport>;
  #lastTopic = '';

  constructor(report: (err: InboundMessageError) => void, intervalMs = REPORT_INTERVAL_MS) {
    const make = (reason: InboundDropReason) =>
      new RateLimitedReport(intervalMs, (suppressed) => {
        const more = suppressed > 0 ? ` (and ${suppressed} more since the last report)` : '';
        report(
          new InboundMessageError(
            CODES[reason],
            `dropped a message from another node on topic "${this.#lastTopic}": ${WHY[reason]}${more}`,
            suppressed,
          ),
        );
      });
    this.#reports = { maxPayload: make('maxPayload'), utf8: make('utf8'), budget: make('budget') };
  }

  note(reason: InboundDropReason, topic: string): void {
    this.#lastTopic = topic.length > 100 ? `${topic.slice(0, 100)}…` : topic;
    this.#reports[reason].note();
  }
}

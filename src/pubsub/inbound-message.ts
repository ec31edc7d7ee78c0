import { isValidUtf8 } from '../codec/utf8';
import { InboundMessageError, type InboundErrorCode } from '../errors';
import { REPORT_INTERVAL_MS, RateLimitedReport, suppressedSince } from './rate-limited-report';

export { InboundMessageError, type InboundErrorCode };

/**
 * Messages from other nodes (an adapter such as Redis) are peer input like
 * any frame: anyone who can publish on the Redis channel can send them. They
 * get the checks a client's message gets before they are fanned out: the
 * server's `maxPayload`, and UTF-8 for text (RFC 6455 §8.1: a text message
 * must be valid UTF-8, and our subscribers would fail with 1007 on it). A bad
 * one is dropped and counted, and reported at most once per interval per kind.
 */

export type InboundDropReason = 'maxPayload' | 'utf8' | 'budget';

const CODES: Record<InboundDropReason, InboundErrorCode> = {
  maxPayload: 'WS_ERR_INBOUND_TOO_BIG',
  utf8: 'WS_ERR_INBOUND_INVALID_UTF8',
  budget: 'WS_ERR_INBOUND_OVER_BUDGET',
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
        report(
          new InboundMessageError(
            CODES[reason],
            `the last on topic "${this.#lastTopic}"${suppressedSince(suppressed)}`,
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

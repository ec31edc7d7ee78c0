/**
 * Reports a recurring problem at most once per interval: the first
 * occurrence at once, later ones as a count in the next report. A flood of
 * bad messages (from Redis, say) costs a counter increment each, not a
 * warning with a stack each. Timer-free: a burst's tail is reported with the
 * next occurrence after the interval (the exact totals are in `stats()`).
 */
export class RateLimitedReport {
  #last = -Infinity;
  #suppressed = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly report: (suppressed: number) => void,
  ) {}

  /** One occurrence: reported now, or counted towards the next report. */
  note(now = Date.now()): void {
    if (now - this.#last < this.intervalMs) {
      this.#suppressed++;
      return;
    }
    const suppressed = this.#suppressed;
    this.#last = now;
    this.#suppressed = 0;
    this.report(suppressed);
  }
}

/** The tail of a report's message that counts the occurrences it stood for since the last one ('' when none). */
export function suppressedSince(suppressed: number): string {
  return suppressed > 0 ? ` (and ${suppressed} more since the last report)` : '';
}

/** How often one kind of bad inbound message is reported. */
export const REPORT_INTERVAL_MS = 10_000;

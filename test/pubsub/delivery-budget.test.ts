import { DeliveryBudget, defaultDeliveryBudget, enterMessage } from '../../src/pubsub/delivery-budget';
import { RateLimitedReport } from '../../src/pubsub/rate-limited-report';
import { kPausePublisher, kResumePublisher, type Publisher } from '../../src/pubsub/topic-member';

class FakePublisher implements Publisher {
  paused = 0;
  resumed = 0;
  [kPausePublisher](): void {
    this.paused++;
  }
  [kResumePublisher](): void {
    this.resumed++;
  }
}

/** One turn of the event loop (resuming is deferred out of write callbacks). */
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

/** Charge `n` deliveries of `bytes` while `publisher`'s message is handled; returns their releases. */
function publishFrom(budget: DeliveryBudget, publisher: Publisher | null, bytes: number, n = 1): Array<() => void> {
  const outer = enterMessage(publisher);
  try {
    const release = budget.releaser(bytes);
    for (let i = 0; i < n; i++) budget.charge(bytes);
    budget.afterPublish(undefined);
    return Array.from({ length: n }, () => release);
  } finally {
    enterMessage(outer);
  }
}

describe('DeliveryBudget', () => {
  it('pauses the publisher whose message took the queue past the limit, once', () => {
    const budget = new DeliveryBudget({ limit: 1000 });
    const p = new FakePublisher();
    publishFrom(budget, p, 600);
    expect(p.paused).toBe(0);
    publishFrom(budget, p, 600);
    publishFrom(budget, p, 600);
    expect(p.paused).toBe(1);
    expect(budget.stats()).toMatchObject({ queuedBytes: 1800, peakQueuedBytes: 1800, pausedReaders: 1, pauses: 1 });
  });

  it('resumes paused publishers only once the queue is down to resumeAt, on a later turn', async () => {
    const budget = new DeliveryBudget({ limit: 1000, resumeAt: 300 });
    const p = new FakePublisher();
    const releases = publishFrom(budget, p, 400, 3); // 1200 queued
    expect(p.paused).toBe(1);
    releases[0]!(); // 800
    releases[1]!(); // 400: still above resumeAt
    await nextTurn();
    expect(p.resumed).toBe(0);
    releases[2]!(); // 0
    expect(p.resumed).toBe(0); // not from inside a write callback
    await nextTurn();
    expect(p.resumed).toBe(1);
    expect(budget.stats().pausedReaders).toBe(0);
  });

  it('pauses nobody for a publish made outside any message handler, but counts its bytes', () => {
    const budget = new DeliveryBudget({ limit: 100 });
    const p = new FakePublisher();
    publishFrom(budget, null, 500);
    expect(budget.stats().pausedReaders).toBe(0);
    publishFrom(budget, p, 1); // the next publisher from a connection is paused
    expect(p.paused).toBe(1);
  });

  it('never resumes a publisher that was forgotten (its connection closed)', async () => {
    const budget = new DeliveryBudget({ limit: 100 });
    const p = new FakePublisher();
    const [release] = publishFrom(budget, p, 500);
    budget.forget(p);
    release!();
    await nextTurn();
    expect(p.resumed).toBe(0);
  });

  it('defaults to a fraction of the heap limit between 8 and 64 MiB, resuming at half', () => {
    const limit = defaultDeliveryBudget();
    expect(limit).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    expect(limit).toBeLessThanOrEqual(64 * 1024 * 1024);
    expect(new DeliveryBudget().resumeAt).toBe(Math.floor(limit / 2));
  });
});

describe('RateLimitedReport', () => {
  it('reports the first occurrence at once and later ones as a count, at most once per interval', () => {
    const reports: number[] = [];
    const r = new RateLimitedReport(1000, (suppressed) => reports.push(suppressed));
    r.note(0);
    for (let t = 1; t < 1000; t++) r.note(t);
    expect(reports).toEqual([0]);
    r.note(1000);
    expect(reports).toEqual([0, 999]);
  });
});

import { DELIVERY_OVERHEAD_BYTES, DeliveryBudget, TopicAccount, defaultDeliveryBudget, enterMessage } from '../../src/pubsub/delivery-budget';
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

/**
 * Publish one message of `frameBytes` to `n` subscribers of `account`'s topic
 * while `publisher`'s message is handled; returns each delivery's write callback.
 */
function publishFrom(
  budget: DeliveryBudget,
  publisher: Publisher | null,
  frameBytes: number,
  n = 1,
  account = new TopicAccount('t'),
): Array<() => void> {
  const outer = enterMessage(publisher);
  try {
    const charge = budget.charge(account, frameBytes, n);
    charge.done(n, n);
    budget.afterPublish(undefined, account);
    return Array.from({ length: n }, () => charge.written);
  } finally {
    enterMessage(outer);
  }
}

const O = DELIVERY_OVERHEAD_BYTES;

describe('DeliveryBudget', () => {
  it('charges a message\'s frame once for all its subscribers, plus each delivery\'s overhead', () => {
    const budget = new DeliveryBudget({ limit: 1e9 });
    const releases = publishFrom(budget, null, 10_000, 3);
    expect(budget.queued).toBe(10_000 + 3 * O);
    releases[0]!();
    releases[1]!();
    // Two deliveries done: their overhead is released, the frame is still held by the third.
    expect(budget.queued).toBe(10_000 + O);
    releases[2]!();
    expect(budget.queued).toBe(0);
  });

  it('refunds the deliveries that were skipped and releases the frame when none was made', () => {
    const budget = new DeliveryBudget({ limit: 1e9 });
    const account = new TopicAccount('t');
    const charge = budget.charge(account, 1000, 4);
    charge.done(4, 1); // three subscribers were skipped
    expect(budget.queued).toBe(1000 + O);
    charge.written();
    expect(budget.queued).toBe(0);
    budget.charge(account, 1000, 2).done(2, 0);
    expect(budget.queued).toBe(0);
    expect(account.queued).toBe(0);
  });

  it('keeps the frame charged while a delivery fails during the fan-out loop', () => {
    const budget = new DeliveryBudget({ limit: 1e9 });
    const charge = budget.charge(new TopicAccount('t'), 1000, 2);
    charge.written(); // the first write failed at once, before the second subscriber was written
    expect(budget.queued).toBe(1000 + O);
    charge.done(2, 2);
    charge.written();
    expect(budget.queued).toBe(0);
  });

  it('pauses the publisher whose message took the queue past the limit, once', () => {
    const budget = new DeliveryBudget({ limit: 1000, topicLimit: 1000 });
    const p = new FakePublisher();
    const account = new TopicAccount('t');
    publishFrom(budget, p, 600 - O, 1, account);
    expect(p.paused).toBe(0);
    publishFrom(budget, p, 600 - O, 1, account);
    publishFrom(budget, p, 600 - O, 1, account);
    expect(p.paused).toBe(1);
    expect(budget.stats()).toMatchObject({ queuedBytes: 1800, peakQueuedBytes: 1800, pausedReaders: 1, pauses: 1 });
  });

  it('resumes paused publishers only once the queue is down to resumeAt, on a later turn', async () => {
    const budget = new DeliveryBudget({ limit: 1000, resumeAt: 300, topicLimit: 1000 });
    const p = new FakePublisher();
    const account = new TopicAccount('t');
    const releases = [400, 400, 400].flatMap((bytes) => publishFrom(budget, p, bytes - O, 1, account)); // 1200 queued
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

  it('pauses only the publishers of a topic over its own limit, and resumes them at half of it', async () => {
    const budget = new DeliveryBudget({ limit: 10_000, topicLimit: 4000 });
    const hot = new TopicAccount('hot');
    const cold = new TopicAccount('cold');
    const hotPublisher = new FakePublisher();
    const coldPublisher = new FakePublisher();
    const hotReleases = publishFrom(budget, hotPublisher, 5000 - O, 1, hot);
    expect(hotPublisher.paused).toBe(1);
    expect(budget.stats()).toMatchObject({ pausedReaders: 1, pausedTopics: 1 });
    // The budget as a whole has room: the other topic's publisher goes on.
    publishFrom(budget, coldPublisher, 3000 - O, 1, cold);
    expect(coldPublisher.paused).toBe(0);
    hotReleases[0]!();
    await nextTurn();
    expect(hotPublisher.resumed).toBe(1);
    expect(budget.stats()).toMatchObject({ pausedReaders: 0, pausedTopics: 0 });
  });

  it('pauses every publisher once all topics together pass the limit, and resumes one held twice only when both let go', async () => {
    const budget = new DeliveryBudget({ limit: 6000, resumeAt: 3000, topicLimit: 4000 });
    const a = new TopicAccount('a');
    const b = new TopicAccount('b');
    const p = new FakePublisher();
    const q = new FakePublisher();
    const aReleases = publishFrom(budget, p, 3500 - O, 1, a); // a: 3500, under its limit
    const bReleases = publishFrom(budget, q, 3500 - O, 1, b); // 7000 in all: q paused
    expect([p.paused, q.paused]).toEqual([0, 1]);
    const more = publishFrom(budget, p, 1000 - O, 1, a); // a: 4500 (over its limit), 8000 in all
    expect(p.paused).toBe(1);
    expect(budget.stats().pausedReaders).toBe(2);
    bReleases[0]!(); // 4500 in all: over resumeAt; a still over half its limit
    await nextTurn();
    expect([p.resumed, q.resumed]).toEqual([0, 0]);
    aReleases[0]!(); // a: 1000, 1000 in all
    await nextTurn();
    expect([p.resumed, q.resumed]).toEqual([1, 1]);
    more[0]!();
    expect(budget.queued).toBe(0);
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
    expect(budget.stats()).toMatchObject({ pausedReaders: 0, pausedTopics: 0 });
  });

  it('defaults to a fraction of the heap limit between 8 and 64 MiB, resuming at half, a topic getting half', () => {
    const limit = defaultDeliveryBudget();
    expect(limit).toBeGreaterThanOrEqual(8 * 1024 * 1024);
    expect(limit).toBeLessThanOrEqual(64 * 1024 * 1024);
    const budget = new DeliveryBudget();
    expect(budget.resumeAt).toBe(Math.floor(limit / 2));
    expect(budget.topicLimit).toBe(Math.floor(limit / 2));
    expect(budget.topicResumeAt).toBe(Math.floor(limit / 4));
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

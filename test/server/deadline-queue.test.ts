import { DeadlineQueue } from '../../src/server/deadline-queue';

function expiries(timeoutMs: number, count: number): { queue: DeadlineQueue<string>; done: Promise<string[]> } {
  const seen: string[] = [];
  let resolve!: (v: string[]) => void;
  const done = new Promise<string[]>((r) => (resolve = r));
  const queue = new DeadlineQueue<string>(timeoutMs, (item) => {
    seen.push(item);
    if (seen.length === count) resolve(seen);
  });
  return { queue, done };
}

describe('DeadlineQueue', () => {
  it('expires entries in the order they were added, on one timer, skipping deleted ones', async () => {
    const { queue, done } = expiries(5, 3);
    queue.add('a');
    queue.add('b');
    queue.add('c');
    queue.add('d');
    queue.delete('b');
    expect(queue.size).toBe(3);
    await expect(done).resolves.toEqual(['a', 'c', 'd']);
    expect(queue.size).toBe(0);
  });

  it('keeps expiring entries added after the timer was armed', async () => {
    const { queue, done } = expiries(5, 2);
    queue.add('first');
    await new Promise<void>((r) => setImmediate(r));
    queue.add('second');
    await expect(done).resolves.toEqual(['first', 'second']);
  });

  it('keeps later deadlines alive when an expiry callback throws', async () => {
    const seen: string[] = [];
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const queue = new DeadlineQueue<string>(0, (item) => {
      seen.push(item);
      if (item === 'boom') throw new Error('callback failed');
      resolve();
    });
    queue.add('boom');
    queue.add('later');
    // Both are due at once; the first callback throws out of fire().
    expect(() => queue.fire()).toThrow('callback failed');
    await done;
    expect(seen).toEqual(['boom', 'later']);
  });

  it('keeps no timer once the last deadline is deleted', () => {
    const queue = new DeadlineQueue<string>(60_000, () => undefined);
    queue.add('a');
    queue.add('b');
    expect(queue.armed).toBe(true);
    queue.delete('a');
    queue.delete('b');
    expect(queue.size).toBe(0);
    expect(queue.armed).toBe(false);
  });

  it('clear() cancels every deadline', async () => {
    const expired: string[] = [];
    const queue = new DeadlineQueue<string>(5, (item) => expired.push(item));
    queue.add('a');
    queue.clear();
    const { queue: other, done } = expiries(10, 1);
    other.add('witness'); // expires after the cleared one would have
    await done;
    expect(expired).toEqual([]);
  });
});

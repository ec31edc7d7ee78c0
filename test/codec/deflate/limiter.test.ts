import { Fifo, ZlibLimiter, zlibLimiter } from '../../../src/codec/deflate-limiter';

describe('ZlibLimiter', () => {
  test('runs at most `concurrency` jobs at once and starts the waiting ones in FIFO order', () => {
    const limiter = new ZlibLimiter(3);
    const started: number[] = [];
    const releases: Array<() => void> = [];
    for (let i = 0; i < 10; i++) {
      limiter.run((release) => {
        started.push(i);
        releases.push(release);
      });
    }
    expect(started).toEqual([0, 1, 2]);
    expect([limiter.running, limiter.waiting]).toEqual([3, 7]);
    releases[1]!();
    releases[0]!();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    expect(limiter.running).toBe(3);
  });

  test('counts a job released twice only once', () => {
    const limiter = new ZlibLimiter(1);
    let release: () => void = () => {};
    limiter.run((r) => (release = r));
    limiter.run(() => {});
    limiter.run(() => {});
    release();
    release();
    expect([limiter.running, limiter.waiting]).toEqual([1, 1]);
  });

  test('drains 100,000 jobs that release synchronously without growing the stack', () => {
    const limiter = new ZlibLimiter(1);
    let hold: () => void = () => {};
    limiter.run((r) => (hold = r));
    let ran = 0;
    for (let i = 0; i < 100_000; i++) {
      limiter.run((release) => {
        ran++;
        release();
      });
    }
    hold();
    expect(ran).toBe(100_000);
    expect([limiter.running, limiter.waiting]).toEqual([0, 0]);
  });

  test('zlibLimiter hands out one process-wide limiter per concurrency value', () => {
    expect(zlibLimiter(7)).toBe(zlibLimiter(7));
    expect(zlibLimiter(7)).not.toBe(zlibLimiter(8));
    expect(zlibLimiter(7).concurrency).toBe(7);
  });
});

describe('Fifo', () => {
  test('shifts items in push order across its internal compaction', () => {
    const fifo = new Fifo<number>();
    const out: number[] = [];
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 300; i++) fifo.push(next++);
      for (let i = 0; i < 200; i++) out.push(fifo.shift()!);
    }
    while (fifo.length > 0) out.push(fifo.shift()!);
    expect(out).toEqual(Array.from({ length: next }, (_, i) => i));
    expect(fifo.shift()).toBeUndefined();
  });
});

import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import { zlibLimiter } from '../../../src/codec/deflate-limiter';
import { DeflateClosedError, PerMessageDeflate, SYNC_DEFLATE_LIMIT } from '../../../src/codec/permessage-deflate';
import { agreed, compress, compressAll, decompress, mirrored } from './helpers/pmd';
import { ZlibSpy } from './helpers/zlib-spy';
import { syncZlibAvailable } from '../../../src/codec/deflate-sync';

/** Let zlib work already handed to the threadpool finish (a full zlib round trip behind it). */
async function settleZlib(): Promise<void> {
  await promisify(zlib.deflateRaw)(Buffer.alloc(1024));
  await new Promise((resolve) => setImmediate(resolve));
}

describe('PerMessageDeflate: zlib streams are lazy and released', () => {
  let spy: ZlibSpy;
  beforeEach(() => (spy = new ZlibSpy()));
  afterEach(() => spy.restore());

  test('creates no zlib stream until the first message, so an idle connection holds no zlib memory', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    expect([spy.deflates.length, spy.inflates.length]).toEqual([0, 0]);
    await compress(pmd, Buffer.from('one'));
    expect([spy.deflates.length, spy.inflates.length]).toEqual([1, 0]);
    await decompress(pmd, Buffer.from('f248cdc9c90700', 'hex'));
    expect([spy.deflates.length, spy.inflates.length]).toEqual([1, 1]);
    pmd.close();
  });

  test('keeps one stream per direction across messages with context takeover', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    const peer = new PerMessageDeflate(mirrored(agreed()), {}, 0);
    for (let i = 0; i < 4; i++) await decompress(peer, await compress(pmd, Buffer.from(`message ${i}`)));
    expect(spy.deflates).toHaveLength(1); // pmd's
    expect(spy.inflates).toHaveLength(1); // peer's
    expect([...spy.deflates, ...spy.inflates].some((s) => s.destroyed)).toBe(false);
    pmd.close();
    peer.close();
  });

  // A property of the synchronous fast path; the async-only run (jest.config.ts) has none.
  (syncZlibAvailable() ? test : test.skip)('uses no stream of its own for small messages without context takeover: one shared stream per setting', async () => {
    const params = agreed({ serverNoContextTakeover: true, clientNoContextTakeover: true });
    const pmd = new PerMessageDeflate(params, {}, 0);
    const peer = new PerMessageDeflate(mirrored(params), {}, 0);
    for (let i = 0; i < 3; i++) await decompress(peer, await compress(pmd, Buffer.from(`message ${i}`)));
    // At most the process-wide deflater and inflater, if no earlier test made them; never one per message.
    expect(spy.deflates.length).toBeLessThanOrEqual(1);
    expect(spy.inflates.length).toBeLessThanOrEqual(1);
    pmd.close();
    peer.close();
  });

  test('releases the stream after every big message in a direction without context takeover', async () => {
    const params = agreed({ serverNoContextTakeover: true, clientNoContextTakeover: true });
    const pmd = new PerMessageDeflate(params, {}, 0);
    const peer = new PerMessageDeflate(mirrored(params), {}, 0);
    const big = (i: number): Buffer => randomBytes(SYNC_DEFLATE_LIMIT + 1000 + i); // over both sync limits, compressed too
    for (let i = 0; i < 3; i++) await decompress(peer, await compress(pmd, big(i)));
    expect(spy.deflates).toHaveLength(3);
    expect(spy.inflates).toHaveLength(3);
    expect([...spy.deflates, ...spy.inflates].every((s) => s.destroyed)).toBe(true);
    pmd.close();
    peer.close();
  });

  test('close() destroys both of its streams', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    await compress(pmd, Buffer.from('one'));
    await decompress(pmd, Buffer.from('f248cdc9c90700', 'hex'));
    pmd.close();
    expect([...spy.deflates, ...spy.inflates].every((s) => s.destroyed)).toBe(true);
  });
});

describe('PerMessageDeflate: ordering and concurrency', () => {
  test('fires 300 concurrent compress callbacks in call order, each with its own message', async () => {
    const sender = new PerMessageDeflate(agreed(), {}, 0);
    const sent = Array.from({ length: 300 }, (_, i) => Buffer.from(`#${i} `.repeat(i % 2 === 0 ? 3000 - i : 1)));
    const { payloads, order } = await compressAll(sender, sent);
    expect(order).toEqual(sent.map((_, i) => i));
    // Context takeover: only the original order inflates correctly.
    const receiver = new PerMessageDeflate(mirrored(agreed()), {}, 0);
    const received = await Promise.all(payloads.map((p) => decompress(receiver, p)));
    received.forEach((m, i) => expect(m.equals(sent[i]!)).toBe(true));
    sender.close();
    receiver.close();
  });

  test('never runs more zlib jobs than concurrencyLimit across many connections, and frees every slot', async () => {
    const limit = 2;
    const limiter = zlibLimiter(limit);
    const connections = Array.from({ length: 25 }, () => new PerMessageDeflate(agreed(), { concurrencyLimit: limit }, 0));
    let peak = 0;
    let queued = 0;
    await Promise.all(
      connections.flatMap((pmd, c) =>
        Array.from({ length: 4 }, (_, i) =>
          new Promise<void>((resolve, reject) =>
            // Over SYNC_DEFLATE_LIMIT: only threadpool jobs take limiter slots.
            pmd.compress(Buffer.from(`connection ${c} message ${i} `.repeat(800)), (err) => {
              peak = Math.max(peak, limiter.running);
              queued = Math.max(queued, limiter.waiting);
              if (err) reject(err);
              else resolve();
            }),
          ),
        ),
      ),
    );
    expect(peak).toBeLessThanOrEqual(limit);
    expect(queued).toBeGreaterThan(0); // the limit did hold jobs back
    expect([limiter.running, limiter.waiting]).toEqual([0, 0]);
    for (const pmd of connections) pmd.close();
  });
});

describe('PerMessageDeflate: close()', () => {
  test('fails pending compress callbacks with DeflateClosedError, in call order, once each', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    const calls: Array<[number, unknown]> = [];
    for (let i = 0; i < 20; i++) pmd.compress(Buffer.alloc(50_000, i), (err) => calls.push([i, err]));
    pmd.close();
    await settleZlib();
    expect(calls.map(([i]) => i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(calls.every(([, err]) => err instanceof DeflateClosedError)).toBe(true);
  });

  test('never calls pending or later decompress callbacks', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    // Over SYNC_INFLATE_LIMIT compressed, so it is still pending when close() comes.
    const payload = zlib.deflateRawSync(randomBytes(20_000), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
    const cb = jest.fn();
    pmd.decompress(payload, cb);
    pmd.decompress(payload, cb);
    pmd.close();
    pmd.decompress(payload, cb);
    await settleZlib();
    expect(cb).not.toHaveBeenCalled();
  });

  test('fails compress calls made after close() with DeflateClosedError, and is safe to call twice', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    pmd.close();
    pmd.close();
    await expect(compress(pmd, Buffer.from('late'))).rejects.toBeInstanceOf(DeflateClosedError);
  });

  test('gives its limiter slots back, so other connections keep compressing', async () => {
    const limit = 1;
    const closing = new PerMessageDeflate(agreed(), { concurrencyLimit: limit }, 0);
    for (let i = 0; i < 5; i++) closing.compress(Buffer.alloc(200_000, i), () => {});
    closing.close();
    const other = new PerMessageDeflate(agreed(), { concurrencyLimit: limit }, 0);
    expect((await compress(other, Buffer.from('Hello'))).toString('hex')).toBe('f248cdc9c90700');
    expect(zlibLimiter(limit).running).toBe(0);
    other.close();
  });

  test('does not crash when closed while a large message is being inflated', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    const payload = zlib.deflateRawSync(Buffer.alloc(8 * 1024 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
    const cb = jest.fn();
    pmd.decompress(payload, cb);
    await new Promise((resolve) => setImmediate(resolve));
    pmd.close();
    await settleZlib();
    expect(cb).not.toHaveBeenCalled();
  });
});

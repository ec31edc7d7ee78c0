/**
 * The synchronous fast path (deflate-sync.ts): small messages are deflated and
 * inflated on the calling thread, callbacks before compress()/decompress()
 * return; without context takeover through one process-wide stream per
 * setting. Compared byte for byte with the threadpool path, loaded a second
 * time with the fast path switched off.
 */
import { randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';
import type { ProtocolError } from '../../../src/errors';
import {
  compressShared,
  PerMessageDeflate,
  SYNC_DEFLATE_LIMIT,
  SYNC_INFLATE_LIMIT,
} from '../../../src/codec/permessage-deflate';
import { syncZlibAvailable } from '../../../src/codec/deflate-sync';
import type { DeflateParams } from '../../../src/codec/deflate-options';
import { agreed, compress, compressAll, decompress, mirrored, TAIL } from './helpers/pmd';
import { ZlibSpy } from './helpers/zlib-spy';

/** PerMessageDeflate with the sync path off: every message goes through the threadpool, as before it existed. */
const AsyncOnly: typeof PerMessageDeflate = (() => {
  let ctor: typeof PerMessageDeflate | undefined;
  jest.isolateModules(() => {
    jest.doMock('../../../src/codec/deflate-sync', () => ({
      ...jest.requireActual<typeof import('../../../src/codec/deflate-sync')>('../../../src/codec/deflate-sync'),
      syncZlibAvailable: () => false,
    }));
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    ctor = (require('../../../src/codec/permessage-deflate') as typeof import('../../../src/codec/permessage-deflate')).PerMessageDeflate;
  });
  return ctor!;
})();

type Outcome = { err: ProtocolError | Error | null; payload: Buffer | undefined };

/** Compress and insist the callback came before compress() returned. */
function compressNow(pmd: PerMessageDeflate, data: Buffer): Buffer {
  let outcome: Outcome | undefined;
  pmd.compress(data, (err, payload) => (outcome = { err, payload }));
  if (outcome === undefined) throw new Error('compress did not call back synchronously');
  if (outcome.err) throw outcome.err;
  return outcome.payload!;
}

/** Decompress and insist the callback came before decompress() returned. */
function decompressNow(pmd: PerMessageDeflate, data: Buffer): Outcome {
  let outcome: Outcome | undefined;
  pmd.decompress(data, (err, payload) => (outcome = { err, payload }));
  if (outcome === undefined) throw new Error('decompress did not call back synchronously');
  return outcome;
}

const json = (n: number, seed = 0): Buffer => {
  let s = '';
  for (let i = seed; s.length < n; i++) s += JSON.stringify({ id: i, user: `user${(i * 7919) % 10007}`, tags: ['a', 'bb'], ok: i % 3 === 0 });
  return Buffer.from(s.slice(0, n));
};

/** Small messages, some repeating earlier ones (so a kept window matters), one empty, one at the limit. */
const MESSAGES = [json(1024), json(1024), Buffer.from('Hello'), Buffer.alloc(0), json(5000, 7), randomBytes(3000), json(SYNC_DEFLATE_LIMIT, 3), json(1024)];

const SETTINGS: Array<[string, DeflateParams]> = [
  ['context takeover', agreed()],
  ['no context takeover', agreed({ serverNoContextTakeover: true, clientNoContextTakeover: true })],
  ['no context takeover, 10-bit windows', agreed({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 10 })],
];

test('the sync path is available on this Node.js, and the comparison copy really is asynchronous', () => {
  expect(syncZlibAvailable()).toBe(true);
  const threadpool = new AsyncOnly(agreed(), {}, 0);
  const cb = jest.fn();
  threadpool.compress(Buffer.from('Hello'), cb);
  threadpool.decompress(Buffer.from('f248cdc9c90700', 'hex'), cb);
  expect(cb).not.toHaveBeenCalled();
  threadpool.close();
});

describe.each(SETTINGS)('sync path equals the threadpool path byte for byte (%s)', (_name, params) => {
  test('compress', async () => {
    const sync = new PerMessageDeflate(params, { level: 6 }, 0);
    const threadpool = new AsyncOnly(params, { level: 6 }, 0);
    for (const m of MESSAGES) expect(compressNow(sync, m).equals(await compress(threadpool, m))).toBe(true);
    sync.close();
    threadpool.close();
  });

  test('decompress, including a message that ends its DEFLATE stream (BFINAL)', async () => {
    const sender = new AsyncOnly(mirrored(params), {}, 0);
    const payloads: Buffer[] = [];
    for (const m of MESSAGES) payloads.push(await compress(sender, m));
    sender.close();
    // §7.2.3.4: BFINAL, then the next messages start a new DEFLATE stream.
    payloads.push(Buffer.from('f348cdc9c90700', 'hex'), Buffer.from('f248cdc9c90700', 'hex'));
    const sync = new PerMessageDeflate(params, {}, 0);
    const threadpool = new AsyncOnly(params, {}, 0);
    for (const p of payloads) {
      const now = decompressNow(sync, p);
      expect(now.err).toBeNull();
      expect(now.payload!.equals(await decompress(threadpool, p))).toBe(true);
    }
    sync.close();
    threadpool.close();
  });
});

describe('sync and threadpool jobs on one context-takeover stream', () => {
  test('mixed sizes (across SYNC_DEFLATE_LIMIT) call back in call order and inflate in order', async () => {
    const sender = new PerMessageDeflate(agreed(), {}, 0);
    const sent = Array.from({ length: 60 }, (_, i) => json(i % 3 === 0 ? SYNC_DEFLATE_LIMIT * 3 + i : 200 + i * 10, i));
    const { payloads, order } = await compressAll(sender, sent);
    expect(order).toEqual(sent.map((_, i) => i));
    // Some payloads are over SYNC_INFLATE_LIMIT, some under: the receiver mixes too.
    expect(payloads.some((p) => p.length > SYNC_INFLATE_LIMIT) && payloads.some((p) => p.length <= SYNC_INFLATE_LIMIT)).toBe(true);
    const receiver = new PerMessageDeflate(mirrored(agreed()), {}, 0);
    const received = await Promise.all(payloads.map((p) => decompress(receiver, p)));
    received.forEach((m, i) => expect(m.equals(sent[i]!)).toBe(true));
    sender.close();
    receiver.close();
  });

  test('a small message queued behind a big one waits for it, and a callback that compresses again stays in order', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    const order: string[] = [];
    const done = new Promise<void>((resolve) => {
      pmd.compress(json(SYNC_DEFLATE_LIMIT * 4), () => {
        order.push('big');
        pmd.compress(json(100, 9), () => order.push('from callback'));
      });
      pmd.compress(json(100, 1), () => order.push('small'));
      pmd.compress(json(100, 2), () => {
        order.push('small 2');
        resolve();
      });
    });
    expect(order).toEqual([]);
    await done;
    expect(order).toEqual(['big', 'small', 'small 2', 'from callback']);
    pmd.close();
  });
});

describe('the shared stream without context takeover', () => {
  const params = agreed({ serverNoContextTakeover: true, clientNoContextTakeover: true });
  const alone = (m: Buffer): Buffer =>
    zlib.deflateRawSync(m, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -TAIL.length);

  test('gives every connection identical, independent output and no stream of its own', async () => {
    const spy = new ZlibSpy();
    try {
      const connections = Array.from({ length: 20 }, () => new PerMessageDeflate(params, {}, 0));
      for (let round = 0; round < 3; round++) {
        connections.forEach((pmd, c) => {
          const m = json(1500, c % 2 === 0 ? round : 100 + c);
          // Each message alone, whatever this or any other connection sent before.
          expect(compressNow(pmd, m).equals(alone(m))).toBe(true);
        });
      }
      const m = json(2000, 42);
      const shared = await new Promise<Buffer>((resolve, reject) => compressShared(m, params, {}, (err, p) => (err ? reject(err) : resolve(p!))));
      expect(connections.map((pmd) => compressNow(pmd, m).equals(shared))).toEqual(connections.map(() => true));
      // 20 connections, 80 messages: at most the one process-wide deflater (if no earlier test made it).
      expect(spy.deflates.length).toBeLessThanOrEqual(1);
      for (const pmd of connections) pmd.close();
    } finally {
      spy.restore();
    }
  });

  test('compressShared calls back synchronously for a small message', () => {
    let payload: Buffer | undefined;
    compressShared(Buffer.from('Hello'), params, {}, (_err, p) => (payload = p));
    expect(payload?.toString('hex')).toBe('f248cdc9c90700');
  });

  test('a small zip bomb (≤ SYNC_INFLATE_LIMIT compressed) fails with 1009 at once, and the shared inflater goes on working', () => {
    const maxPayload = 64 * 1024;
    const bomb = zlib.deflateRawSync(Buffer.alloc(4 * 1024 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -TAIL.length);
    expect(bomb.length).toBeLessThanOrEqual(SYNC_INFLATE_LIMIT);
    const victim = new PerMessageDeflate(params, {}, maxPayload);
    expect(decompressNow(victim, bomb).err).toMatchObject({ code: 'WS_ERR_MESSAGE_TOO_BIG', closeCode: 1009 });
    const next = new PerMessageDeflate(params, {}, maxPayload);
    expect(decompressNow(next, Buffer.from('f248cdc9c90700', 'hex')).payload?.toString()).toBe('Hello');
    victim.close();
    next.close();
  });

  test('exactly maxPayload bytes inflate; one more is refused (sync path)', () => {
    const maxPayload = 10_000;
    const payload = (n: number): Buffer => zlib.deflateRawSync(Buffer.alloc(n, 'x'), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
    const pmd = new PerMessageDeflate(params, {}, maxPayload);
    expect(decompressNow(pmd, payload(maxPayload)).payload?.length).toBe(maxPayload);
    expect(decompressNow(pmd, payload(maxPayload + 1)).err).toMatchObject({ code: 'WS_ERR_MESSAGE_TOO_BIG' });
    pmd.close();
  });

  test('corrupt small input fails with 1007 at once, and the shared inflater works for the next connection', () => {
    const broken = new PerMessageDeflate(params, {}, 0);
    expect(decompressNow(broken, Buffer.from('ffffff', 'hex')).err).toMatchObject({ code: 'WS_ERR_INVALID_COMPRESSED_DATA', closeCode: 1007 });
    const next = new PerMessageDeflate(params, {}, 0);
    expect(decompressNow(next, Buffer.from('f248cdc9c90700', 'hex')).payload?.toString()).toBe('Hello');
    expect(decompressNow(next, Buffer.from('f248cdc9c90700', 'hex')).payload?.toString()).toBe('Hello'); // no window kept
    broken.close();
    next.close();
  });

  test('inflates a message whose output spans several scratch buffers', () => {
    const big = Buffer.alloc(300_000, 'y');
    const payload = zlib.deflateRawSync(big, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
    expect(payload.length).toBeLessThanOrEqual(SYNC_INFLATE_LIMIT);
    const pmd = new PerMessageDeflate(params, {}, 0);
    expect(decompressNow(pmd, payload).payload!.equals(big)).toBe(true);
    pmd.close();
  });
});

describe('sync failures with context takeover', () => {
  test('a small zip bomb fails with 1009 at once; corrupt input with 1007', () => {
    const bomb = zlib.deflateRawSync(Buffer.alloc(1024 * 1024), { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
    const a = new PerMessageDeflate(agreed(), {}, 1000);
    expect(decompressNow(a, bomb).err).toMatchObject({ code: 'WS_ERR_MESSAGE_TOO_BIG', closeCode: 1009 });
    const b = new PerMessageDeflate(agreed(), {}, 0);
    expect(decompressNow(b, Buffer.from('00050000', 'hex')).err).toMatchObject({ code: 'WS_ERR_INVALID_COMPRESSED_DATA' });
    a.close();
    b.close();
  });
});

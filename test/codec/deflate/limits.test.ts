import * as zlib from 'node:zlib';
import { PerMessageDeflate } from '../../../src/codec/permessage-deflate';
import { agreed, compress, decompress, decompressError } from './helpers/pmd';
import { ZlibSpy } from './helpers/zlib-spy';

const MiB = 1024 * 1024;

/** 100 MB of zeros as one message payload (~100 KB): one MiB compressed, the same flushed block sequence repeated. */
function zipBomb(): Buffer {
  const oneMiB = zlib.deflateRawSync(Buffer.alloc(MiB), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const bomb = Buffer.concat(Array.from({ length: 100 }, () => oneMiB));
  return bomb.subarray(0, bomb.length - 4); // §7.2.1: the sender cuts the tail
}

describe('PerMessageDeflate: limits on inflation', () => {
  let spy: ZlibSpy;
  beforeEach(() => (spy = new ZlibSpy()));
  afterEach(() => spy.restore());

  test('fails a zip bomb with WS_ERR_MESSAGE_TOO_BIG (1009) after inflating about maxPayload, not 100 MB', async () => {
    const bomb = zipBomb();
    expect(bomb.length).toBeLessThan(200 * 1024);
    const pmd = new PerMessageDeflate(agreed(), {}, MiB);
    const err = await decompressError(pmd, bomb);
    expect(err).toMatchObject({ code: 'WS_ERR_MESSAGE_TOO_BIG', closeCode: 1009 });
    // zlib emits at most one 16 KiB chunk past the limit before the inflater is destroyed.
    expect(spy.inflatedBytes).toBeLessThanOrEqual(MiB + 64 * 1024);
    expect(spy.inflates[0]!.destroyed).toBe(true);
    pmd.close();
  });

  test('accepts a message of exactly maxPayload bytes and refuses one byte more', async () => {
    const sender = new PerMessageDeflate(agreed(), {}, 0);
    const exact = await compress(sender, Buffer.alloc(5000, 'a'));
    const over = await compress(sender, Buffer.alloc(5001, 'b'));
    sender.close();
    const pmd = new PerMessageDeflate(agreed(), {}, 5000);
    expect((await decompress(pmd, exact)).length).toBe(5000);
    expect(await decompressError(pmd, over)).toMatchObject({ code: 'WS_ERR_MESSAGE_TOO_BIG' });
    pmd.close();
  });

  test('counts maxPayload per message, not per connection', async () => {
    const sender = new PerMessageDeflate(agreed(), {}, 0);
    const receiver = new PerMessageDeflate(agreed(), {}, 3000);
    for (let i = 0; i < 5; i++) {
      const m = Buffer.alloc(2500, i);
      expect((await decompress(receiver, await compress(sender, m))).equals(m)).toBe(true);
    }
    sender.close();
    receiver.close();
  });

  test('treats maxPayload 0 as unlimited', async () => {
    const big = Buffer.alloc(3 * MiB, 'z');
    const payload = zlib.deflateRawSync(big, { finishFlush: zlib.constants.Z_SYNC_FLUSH }).subarray(0, -4);
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    expect((await decompress(pmd, payload)).equals(big)).toBe(true);
    pmd.close();
  });

  test.each([
    ['a reserved block type', 'ff ff ff'],
    ['a stored block whose length does not match its complement', '00 05 00 00 00 48 65 6c 6c 6f'],
    ['a back-reference into history this inflater never saw (§7.2.3.2 second message first)', 'f2 00 11 00 00'],
  ])('fails %s with WS_ERR_INVALID_COMPRESSED_DATA (1007)', async (_what, payload) => {
    const pmd = new PerMessageDeflate(agreed(), {}, MiB);
    const err = await decompressError(pmd, Buffer.from(payload.replace(/ /g, ''), 'hex'));
    expect(err).toMatchObject({ code: 'WS_ERR_INVALID_COMPRESSED_DATA', closeCode: 1007 });
    pmd.close();
  });

  test('answers later messages in order after a corrupt one, with a fresh inflater', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, MiB);
    const results = await Promise.all([
      decompressError(pmd, Buffer.from('ffffff', 'hex')),
      decompress(pmd, Buffer.from('f248cdc9c90700', 'hex')),
    ]);
    expect(results[0]).toMatchObject({ code: 'WS_ERR_INVALID_COMPRESSED_DATA' });
    expect(results[1].toString()).toBe('Hello');
    pmd.close();
  });
});

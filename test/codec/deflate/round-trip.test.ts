import * as fc from 'fast-check';
import { PerMessageDeflate, compressShared } from '../../../src/codec/permessage-deflate';
import type { DeflateParams } from '../../../src/codec/deflate-options';
import { agreed, compress, decompress, mirrored, TAIL } from './helpers/pmd';
import { rawInflate } from './helpers/raw-inflate';

const hex = (s: string): Buffer => Buffer.from(s.replace(/ /g, ''), 'hex');
const HELLO = Buffer.from('Hello');

describe('PerMessageDeflate: the examples of RFC 7692 §7.2.3', () => {
  test('compresses "Hello" to f2 48 cd c9 c9 07 00 (§7.2.3.1)', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    expect((await compress(pmd, HELLO)).toString('hex')).toBe('f248cdc9c90700');
    pmd.close();
  });

  test('compresses a second "Hello" against the shared window to f2 00 11 00 00 (§7.2.3.2)', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    await compress(pmd, HELLO);
    expect((await compress(pmd, HELLO)).toString('hex')).toBe('f200110000');
    pmd.close();
  });

  test('compresses every "Hello" alike when server_no_context_takeover was agreed', async () => {
    const pmd = new PerMessageDeflate(agreed({ serverNoContextTakeover: true }), {}, 0);
    for (let i = 0; i < 3; i++) expect((await compress(pmd, HELLO)).toString('hex')).toBe('f248cdc9c90700');
    pmd.close();
  });

  test('compresses an empty message to the single byte 00 (§7.2.3.6)', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    await compress(pmd, HELLO);
    expect((await compress(pmd, Buffer.alloc(0))).toString('hex')).toBe('00');
    expect((await compress(pmd, HELLO)).toString('hex')).toBe('f200110000');
    pmd.close();
  });

  test.each([
    ['one compressed block (§7.2.3.1)', 'f2 48 cd c9 c9 07 00'],
    ['an uncompressed block (§7.2.3.3)', '00 05 00 fa ff 48 65 6c 6c 6f 00'],
    ['a block with BFINAL set (§7.2.3.4)', 'f3 48 cd c9 c9 07 00 00'],
    ['two DEFLATE blocks in one message (§7.2.3.5)', 'f2 48 05 00 00 00 ff ff ca c9 c9 07 00'],
  ])('inflates %s to "Hello"', async (_what, payload) => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    expect((await decompress(pmd, hex(payload))).toString()).toBe('Hello');
    pmd.close();
  });

  test('inflates a message that references the previous one (§7.2.3.2)', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    expect((await decompress(pmd, hex('f248cdc9c90700'))).toString()).toBe('Hello');
    expect((await decompress(pmd, hex('f200110000'))).toString()).toBe('Hello');
    pmd.close();
  });

  test('keeps inflating after a message that ended its DEFLATE stream with BFINAL', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    expect((await decompress(pmd, hex('f348cdc9c90700'))).toString()).toBe('Hello');
    expect((await decompress(pmd, hex('f248cdc9c90700'))).toString()).toBe('Hello');
    expect((await decompress(pmd, hex('f200110000'))).toString()).toBe('Hello');
    pmd.close();
  });

  test('reads an empty payload as an empty message without disturbing the context', async () => {
    const pmd = new PerMessageDeflate(agreed(), {}, 0);
    await decompress(pmd, hex('f248cdc9c90700'));
    expect((await decompress(pmd, Buffer.alloc(0))).length).toBe(0);
    expect((await decompress(pmd, hex('00'))).length).toBe(0);
    expect((await decompress(pmd, hex('f200110000'))).toString()).toBe('Hello');
    pmd.close();
  });
});

describe('PerMessageDeflate: round trips', () => {
  // Text-like data compresses and makes back-references; random bytes do not.
  const message = fc.oneof(
    fc.uint8Array({ maxLength: 3000 }).map((a) => Buffer.from(a)),
    fc.array(fc.constantFrom('alpha ', 'beta ', '{"id":1} ', 'gamma\n', 'δ'), { maxLength: 400 }).map((w) => Buffer.from(w.join(''))),
  );

  const settings: Array<[string, DeflateParams]> = [
    ['context takeover, 15-bit windows', agreed()],
    ['no context takeover either way', agreed({ serverNoContextTakeover: true, clientNoContextTakeover: true })],
    ['context takeover, 9-bit windows', agreed({ serverMaxWindowBits: 9, clientMaxWindowBits: 9 })],
    ['context takeover, 8-bit windows', agreed({ serverMaxWindowBits: 8, clientMaxWindowBits: 8 })],
    ['no context takeover, 11-bit windows', agreed({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 11, clientMaxWindowBits: 11 })],
  ];

  test.each(settings)('decompress(compress(m)) is m for every message in a sequence, with %s', async (_name, params) => {
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: 1, maxLength: 6 }), async (messages) => {
        const sender = new PerMessageDeflate(params, {}, 0);
        const receiver = new PerMessageDeflate(mirrored(params), {}, 0);
        try {
          for (const m of messages) expect((await decompress(receiver, await compress(sender, m))).equals(m)).toBe(true);
        } finally {
          sender.close();
          receiver.close();
        }
      }),
      { numRuns: 15 },
    );
  });

  test.each([8, 9, 10, 12, 15])('never refers further back than a negotiated %i-bit window (§7.1.2.1)', async (bits) => {
    // A 600-byte random block repeated: worth matching at distance 600 unless the window forbids it.
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 600, maxLength: 600 }), fc.integer({ min: 2, max: 8 }), async (block, copies) => {
        const data = Buffer.concat(Array.from({ length: copies }, () => Buffer.from(block)));
        const sender = new PerMessageDeflate(agreed({ serverMaxWindowBits: bits }), { level: 9 }, 0);
        const first = await compress(sender, data);
        const second = await compress(sender, data);
        sender.close();
        const decoded = rawInflate(Buffer.concat([first, TAIL, second, TAIL]));
        expect(decoded.output.equals(Buffer.concat([data, data]))).toBe(true);
        expect(decoded.maxDistance).toBeLessThanOrEqual(2 ** bits);
        // ...and the check has teeth: where the window allows it, the 600-byte match is taken.
        if (bits >= 10) expect(decoded.maxDistance).toBeGreaterThanOrEqual(600);
      }),
      { numRuns: 10 },
    );
  });

  test('compressShared gives the same bytes as a connection without server context takeover', async () => {
    const params = agreed({ serverNoContextTakeover: true, serverMaxWindowBits: 12 });
    const data = Buffer.from('shared broadcast '.repeat(200));
    const pmd = new PerMessageDeflate(params, { level: 3 }, 0);
    await compress(pmd, Buffer.from('history that must not matter '.repeat(20)));
    const own = await compress(pmd, data);
    pmd.close();
    const shared = await new Promise<Buffer>((resolve, reject) =>
      compressShared(data, params, { level: 3 }, (err, payload) => (err ? reject(err) : resolve(payload!))),
    );
    expect(shared.equals(own)).toBe(true);
    expect(rawInflate(Buffer.concat([shared, TAIL])).output.equals(data)).toBe(true);
  });

  test('sharedKey is null with server context takeover and equal for connections whose bytes would be equal', () => {
    const noTakeover = agreed({ serverNoContextTakeover: true });
    expect(new PerMessageDeflate(agreed(), {}, 0).sharedKey).toBeNull();
    const a = new PerMessageDeflate(noTakeover, {}, 0).sharedKey;
    expect(a).not.toBeNull();
    expect(new PerMessageDeflate({ ...noTakeover, clientMaxWindowBits: 9 }, { threshold: 10 }, 100).sharedKey).toBe(a);
    expect(new PerMessageDeflate(noTakeover, { level: 1 }, 0).sharedKey).not.toBe(a);
    expect(new PerMessageDeflate({ ...noTakeover, serverMaxWindowBits: 10 }, {}, 0).sharedKey).not.toBe(a);
    expect(new PerMessageDeflate(noTakeover, { memLevel: 9 }, 0).sharedKey).not.toBe(a);
  });

  test('exposes the threshold, defaulting to 1024 bytes', () => {
    expect(new PerMessageDeflate(agreed(), {}, 0).threshold).toBe(1024);
    expect(new PerMessageDeflate(agreed(), { threshold: 0 }, 0).threshold).toBe(0);
  });
});

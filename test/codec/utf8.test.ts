import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { Utf8Validator, isValidUtf8 } from '../../src/codec/utf8';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** Feed `buf` to `v` in pieces cut at `cuts`; false as soon as any piece is rejected. */
function feedSplit(v: Utf8Validator, buf: Buffer, cuts: number[]): boolean {
  const points = [0, ...cuts.map((c) => c % (buf.length + 1)).sort((a, b) => a - b), buf.length];
  for (let i = 1; i < points.length; i++) if (!v.feed(buf, points[i - 1], points[i])) return false;
  return v.finish();
}

const valid: Array<[string, string]> = [
  ['empty', ''],
  ['ASCII', '48656c6c6f'],
  ['2-byte U+00E9', 'c3a9'],
  ['3-byte U+20AC', 'e282ac'],
  ['the last code point before the surrogates, U+D7FF', 'ed9fbf'],
  ['the first code point after the surrogates, U+E000', 'ee8080'],
  ['4-byte U+1F600', 'f09f9880'],
  ['the highest code point, U+10FFFF', 'f48fbfbf'],
  ['U+FFFF (a noncharacter is still well-formed)', 'efbfbf'],
];

const invalid: Array<[string, string]> = [
  ['a lone continuation byte', '80'],
  ['C0 (always overlong)', 'c080'],
  ['C1 (always overlong)', 'c1bf'],
  ['an overlong 3-byte NUL', 'e08080'],
  ['an overlong 3-byte U+07FF', 'e09fbf'],
  ['an overlong 4-byte U+FFFF', 'f08fbfbf'],
  ['a high surrogate U+D800', 'eda080'],
  ['a low surrogate U+DFFF', 'edbfbf'],
  ['U+110000, past the last code point', 'f4908080'],
  ['F5, a lead byte past U+10FFFF', 'f5808080'],
  ['FF', 'ff'],
  ['a 2-byte sequence cut by ASCII', 'c341'],
  ['a 3-byte sequence with a bad third byte', 'e282c0'],
];

const incomplete: Array<[string, string]> = [
  ['2-byte lead alone', 'c3'],
  ['3-byte sequence missing its last byte', 'e282'],
  ['4-byte sequence missing its last byte', 'f09f98'],
];

describe('isValidUtf8', () => {
  test.each(valid)('accepts %s', (_name, h) => expect(isValidUtf8(hex(h))).toBe(true));
  test.each([...invalid, ...incomplete])('rejects %s', (_name, h) => expect(isValidUtf8(hex(h))).toBe(false));
});

describe.each([
  ['with the platform check', true],
  ['with the JS DFA only', false],
])('Utf8Validator %s', (_mode, usePlatform) => {
  const make = () => new Utf8Validator({ usePlatform });

  test.each(valid)('accepts %s', (_name, h) => {
    const v = make();
    expect(v.feed(hex(h))).toBe(true);
    expect(v.finish()).toBe(true);
  });

  test.each(invalid)('rejects %s from the offending byte on', (_name, h) => {
    expect(make().feed(hex(h))).toBe(false);
  });

  test.each(incomplete)('accepts %s as a prefix but fails it at finish()', (_name, h) => {
    const v = make();
    expect(v.feed(hex(h))).toBe(true);
    expect(v.finish()).toBe(false);
  });

  test('validates a sequence split one byte per piece like the whole', () => {
    const v = make();
    for (const b of hex('f09f9880e282ac')) expect(v.feed(Buffer.of(b))).toBe(true);
    expect(v.finish()).toBe(true);
  });

  test('rejects a surrogate at its second byte even when its first byte came in an earlier piece', () => {
    const v = make();
    expect(v.feed(Buffer.concat([Buffer.alloc(100, 0x61), hex('ed')]))).toBe(true);
    expect(v.feed(hex('a0'))).toBe(false);
  });

  test('keeps rejecting after a rejection until reset()', () => {
    const v = make();
    expect(v.feed(hex('ff'))).toBe(false);
    expect(v.feed(hex('41'))).toBe(false);
    expect(v.finish()).toBe(false);
    v.reset();
    expect(v.feed(hex('41'))).toBe(true);
    expect(v.finish()).toBe(true);
  });

  test('validates only the [start, end) range it is given', () => {
    const v = make();
    expect(v.feed(hex('ff 41 42 ff'), 1, 3)).toBe(true);
    expect(v.finish()).toBe(true);
  });

  // Random bytes are rarely valid; splicing bytes into valid text makes near misses common.
  const nearlyUtf8 = fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    fc
      .tuple(fc.string({ unit: 'binary', maxLength: 100 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0x80, max: 0xff })), { maxLength: 3 }))
      .map(([s, edits]) => {
        const b = Buffer.from(s);
        for (const [at, byte] of edits) if (b.length > 0) b[at % b.length] = byte;
        return b;
      }),
  );

  test('agrees with buffer.isUtf8 on random bytes fed in random pieces', () => {
    fc.assert(
      fc.property(nearlyUtf8, fc.array(fc.nat(), { maxLength: 5 }), (buf, cuts) => {
        expect(feedSplit(make(), buf, cuts)).toBe(isUtf8(buf));
      }),
      { numRuns: 500 },
    );
  });

  test('accepts any valid string split at random points', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.array(fc.nat(), { maxLength: 6 }), (s, cuts) => {
        expect(feedSplit(make(), Buffer.from(s), cuts)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

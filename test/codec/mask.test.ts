import fc from 'fast-check';
import { mask, unmask } from '../../src/codec/mask';

/** The RFC 6455 §5.3 definition, one byte at a time. */
function reference(src: Uint8Array, key: Uint8Array, keyOffset = 0): Buffer {
  const out = Buffer.alloc(src.length);
  for (let i = 0; i < src.length; i++) out[i] = src[i]! ^ key[(i + keyOffset) & 3]!;
  return out;
}

const key = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

describe('unmask', () => {
  test('unmasks the RFC 6455 §5.7 masked "Hello" payload', () => {
    const payload = Buffer.from('7f9f4d5158', 'hex');
    unmask(payload, key);
    expect(payload.toString()).toBe('Hello');
  });

  test('touches only the bytes in [start, end)', () => {
    const buf = Buffer.alloc(300, 0xaa);
    unmask(buf, key, 10, 290);
    expect(buf.subarray(0, 10)).toEqual(Buffer.alloc(10, 0xaa));
    expect(buf.subarray(290)).toEqual(Buffer.alloc(10, 0xaa));
    expect(buf.subarray(10, 290)).toEqual(reference(Buffer.alloc(280, 0xaa), key));
  });

  test('matches the byte-by-byte definition for any length, start offset, key phase and memory alignment', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 700 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.nat(7),
        fc.nat(3),
        (data, k, misalign, keyOffset) => {
          // Copy into a larger buffer at an arbitrary byte offset, so the word path sees unaligned memory.
          const backing = Buffer.alloc(data.length + 16, 0x55);
          const buf = backing.subarray(misalign, misalign + data.length);
          buf.set(data);
          unmask(buf, k, 0, buf.length, keyOffset);
          expect(buf).toEqual(reference(data, k, keyOffset));
          expect(backing.subarray(0, misalign)).toEqual(Buffer.alloc(misalign, 0x55));
          expect(backing.subarray(misalign + data.length)).toEqual(Buffer.alloc(16 - misalign, 0x55));
        },
      ),
    );
  });

  test('unmasking a payload piece by piece, with the key phase carried on, equals unmasking it whole', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1000 }), fc.array(fc.nat(1000), { maxLength: 6 }), (data, cuts) => {
        const points = [0, ...cuts.map((c) => c % (data.length + 1)).sort((a, b) => a - b), data.length];
        const buf = Buffer.from(data);
        for (let i = 1; i < points.length; i++) unmask(buf, key, points[i - 1], points[i], points[i - 1]);
        expect(buf).toEqual(reference(data, key));
      }),
    );
  });

  test('unmasks a 1 MiB payload correctly', () => {
    const data = Buffer.alloc(1 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    const buf = Buffer.from(data);
    unmask(buf, key);
    expect(buf.equals(reference(data, key))).toBe(true);
  });
});

describe('mask', () => {
  test('writes the masked bytes at outOffset and leaves the source untouched', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.nat(9), (data, outOffset) => {
        const src = Buffer.from(data);
        const out = Buffer.alloc(outOffset + src.length + 3, 0xee);
        mask(src, key, out, outOffset);
        expect(src).toEqual(Buffer.from(data));
        expect(out.subarray(outOffset, outOffset + src.length)).toEqual(reference(data, key));
        expect(out.subarray(0, outOffset)).toEqual(Buffer.alloc(outOffset, 0xee));
        expect(out.subarray(outOffset + src.length)).toEqual(Buffer.alloc(3, 0xee));
      }),
    );
  });

  test('throws a RangeError when the output is too small', () => {
    expect(() => mask(Buffer.alloc(10), key, Buffer.alloc(12), 3)).toThrow(RangeError);
  });
});

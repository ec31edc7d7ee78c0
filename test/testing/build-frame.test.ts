import { buildFrame } from '../../src/testing/build-frame';

const RFC_KEY = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);

test('builds RFC 6455 §5.7\'s masked "Hello" byte for byte', () => {
  expect(buildFrame({ opcode: 0x1, payload: 'Hello', mask: RFC_KEY }).toString('hex')).toBe('818537fa213d7f9f4d5158');
});

test('sends unmasked when mask is false, with every header bit as given', () => {
  const frame = buildFrame({ opcode: 0x3, payload: 'Hel', fin: false, rsv1: true, rsv2: true, rsv3: true, mask: false });
  expect(frame.toString('hex')).toBe('730348656c');
});

test('masks with a fresh random key by default', () => {
  const frame = buildFrame({ opcode: 0x2, payload: Buffer.alloc(8) });
  expect(frame[1]).toBe(0x88);
  const key = frame.subarray(2, 6);
  expect(frame.subarray(6, 10).equals(key)).toBe(true); // zeros XOR key
});

test('uses the 16-bit and 64-bit lengths from 126 and 65,536 bytes on, even where the server must refuse them (a 126-byte ping)', () => {
  expect(buildFrame({ opcode: 0x9, payload: Buffer.alloc(126), mask: false }).subarray(0, 4).toString('hex')).toBe('897e007e');
  const big = buildFrame({ opcode: 0x2, payload: Buffer.alloc(65_536), mask: false });
  expect(big.subarray(0, 10).toString('hex')).toBe('827f0000000000010000');
  expect(big.length).toBe(10 + 65_536);
});

test('announces a length that lies and sends only the payload given', () => {
  const frame = buildFrame({ opcode: 0x2, announcedLength: 2n ** 40n, mask: RFC_KEY });
  expect(frame.toString('hex')).toBe('82ff000001000000000037fa213d');
});

test('refuses a masking key that is not 4 bytes', () => {
  expect(() => buildFrame({ opcode: 0x1, mask: Uint8Array.of(1, 2, 3) })).toThrow(expect.objectContaining({ code: 'WS_ERR_INVALID_ARGUMENT' }));
});

test('does not modify the payload', () => {
  const payload = Buffer.from('abc');
  buildFrame({ opcode: 0x2, payload, mask: RFC_KEY });
  expect(payload.toString()).toBe('abc');
});

import { COPY_THRESHOLD, encodeFrame, encodeMessage, frameHeader, toPayload } from '../../src/codec/encoder';
import { Opcode } from '../../src/codec/opcodes';

const key = Uint8Array.of(0x37, 0xfa, 0x21, 0x3d);
const hexOf = (bufs: Buffer[]): string => Buffer.concat(bufs).toString('hex');

describe('frameHeader', () => {
  test('uses a 7-bit length up to 125 bytes', () => {
    expect(frameHeader(Opcode.Text, 5).toString('hex')).toBe('8105');
    expect(frameHeader(Opcode.Binary, 125).toString('hex')).toBe('827d');
  });

  test('uses a 16-bit length from 126 bytes: the RFC 6455 §5.7 256-byte binary header', () => {
    expect(frameHeader(Opcode.Binary, 126).toString('hex')).toBe('827e007e');
    expect(frameHeader(Opcode.Binary, 256).toString('hex')).toBe('827e0100');
    expect(frameHeader(Opcode.Binary, 0xffff).toString('hex')).toBe('827effff');
  });

  test('uses a 64-bit length from 64 KiB: the RFC 6455 §5.7 64 KiB binary header', () => {
    expect(frameHeader(Opcode.Binary, 65536).toString('hex')).toBe('827f0000000000010000');
    expect(frameHeader(Opcode.Binary, 2 ** 32 + 5).toString('hex')).toBe('827f0000000100000005');
    expect(frameHeader(Opcode.Binary, Number.MAX_SAFE_INTEGER).toString('hex')).toBe('827f001fffffffffffff');
  });

  test('sets FIN, RSV1 and the mask bit and appends the masking key', () => {
    expect(frameHeader(Opcode.Text, 3, { fin: false }).toString('hex')).toBe('0103');
    expect(frameHeader(Opcode.Text, 3, { rsv1: true }).toString('hex')).toBe('c103');
    expect(frameHeader(Opcode.Text, 5, { mask: key }).toString('hex')).toBe('818537fa213d');
    expect(frameHeader(Opcode.Binary, 256, { mask: key }).toString('hex')).toBe('82fe010037fa213d');
  });

  test('rejects an invalid opcode, length or key', () => {
    expect(() => frameHeader(16, 0)).toThrow(RangeError);
    expect(() => frameHeader(-1, 0)).toThrow(RangeError);
    expect(() => frameHeader(Opcode.Text, -1)).toThrow(RangeError);
    expect(() => frameHeader(Opcode.Text, 1.5)).toThrow(RangeError);
    expect(() => frameHeader(Opcode.Text, 2 ** 53)).toThrow(RangeError);
    expect(() => frameHeader(Opcode.Text, 1, { mask: Uint8Array.of(1, 2, 3) })).toThrow(TypeError);
  });
});

describe('encodeFrame', () => {
  test('encodes the RFC 6455 §5.7 unmasked "Hello" as one buffer', () => {
    const frames = encodeFrame(Opcode.Text, Buffer.from('Hello'));
    expect(frames).toHaveLength(1);
    expect(hexOf(frames)).toBe('810548656c6c6f');
  });

  test('encodes the RFC 6455 §5.7 masked "Hello" and leaves the payload untouched', () => {
    const payload = Buffer.from('Hello');
    const frames = encodeFrame(Opcode.Text, payload, { mask: key });
    expect(frames).toHaveLength(1);
    expect(hexOf(frames)).toBe('818537fa213d7f9f4d5158');
    expect(payload.toString()).toBe('Hello');
  });

  test('encodes the RFC 6455 §5.7 unmasked ping and masked pong', () => {
    expect(hexOf(encodeFrame(Opcode.Ping, Buffer.from('Hello')))).toBe('890548656c6c6f');
    expect(hexOf(encodeFrame(Opcode.Pong, Buffer.from('Hello'), { mask: key }))).toBe('8a8537fa213d7f9f4d5158');
  });

  test('copies a payload of COPY_THRESHOLD bytes into the header buffer', () => {
    const payload = Buffer.alloc(COPY_THRESHOLD, 1);
    const frames = encodeFrame(Opcode.Binary, payload);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.length).toBe(4 + COPY_THRESHOLD);
  });

  test('writes a larger payload as a separate, shared buffer: the same bytes, not a copy', () => {
    const payload = Buffer.alloc(COPY_THRESHOLD + 1, 1);
    const frames = encodeFrame(Opcode.Binary, payload);
    expect(frames).toHaveLength(2);
    expect(frames[0]!.toString('hex')).toBe('827e0401');
    expect(frames[1]).toBe(payload);
  });

  test('encodes the RFC 6455 §5.7 64 KiB binary frame with its 10-byte header', () => {
    const payload = Buffer.alloc(65536, 7);
    const [header, body] = encodeFrame(Opcode.Binary, payload);
    expect(header!.toString('hex')).toBe('827f0000000000010000');
    expect(body).toBe(payload);
  });

  test('masks a large payload into one buffer', () => {
    const payload = Buffer.alloc(5000, 0);
    const frames = encodeFrame(Opcode.Binary, payload, { mask: key });
    expect(frames).toHaveLength(1);
    expect(frames[0]!.subarray(0, 8).toString('hex')).toBe('82fe138837fa213d');
    expect(frames[0]!.subarray(8, 16).toString('hex')).toBe('37fa213d37fa213d');
    expect(payload.every((b) => b === 0)).toBe(true);
  });

  test('refuses a control frame over 125 bytes or without FIN', () => {
    expect(() => encodeFrame(Opcode.Ping, Buffer.alloc(126))).toThrow(RangeError);
    expect(() => encodeFrame(Opcode.Close, Buffer.alloc(2), { fin: false })).toThrow(RangeError);
    expect(encodeFrame(Opcode.Pong, Buffer.alloc(125))[0]!.length).toBe(127);
  });
});

describe('encodeMessage', () => {
  test('splits "Hello" into the RFC 6455 §5.7 fragments "Hel" and "lo"', () => {
    expect(encodeMessage(Opcode.Text, Buffer.from('Hello'), { fragmentSize: 3 }).map((b) => b.toString('hex'))).toEqual([
      '010348656c',
      '80026c6f',
    ]);
  });

  test('is one frame without fragmentSize, or when the payload fits', () => {
    expect(hexOf(encodeMessage(Opcode.Text, Buffer.from('Hello')))).toBe('810548656c6c6f');
    expect(hexOf(encodeMessage(Opcode.Text, Buffer.from('Hello'), { fragmentSize: 5 }))).toBe('810548656c6c6f');
  });

  test('encodes an empty payload as one frame', () => {
    expect(hexOf(encodeMessage(Opcode.Binary, Buffer.alloc(0), { fragmentSize: 4 }))).toBe('8200');
  });

  test('sets RSV1 on the first fragment only and FIN on the last only', () => {
    const frames = encodeMessage(Opcode.Binary, Buffer.from('abcdefg'), { fragmentSize: 3, rsv1: true });
    expect(frames.map((b) => b.subarray(0, 2).toString('hex'))).toEqual(['4203', '0003', '8001']);
  });

  test('masks every fragment', () => {
    const frames = encodeMessage(Opcode.Text, Buffer.from('Hello'), { fragmentSize: 3, mask: key });
    expect(frames.map((b) => b.toString('hex'))).toEqual(['018337fa213d7f9f4d', '808237fa213d5b95']);
  });

  test('shares the bytes of large fragments instead of copying them', () => {
    const payload = Buffer.alloc(5000, 3);
    const frames = encodeMessage(Opcode.Binary, payload, { fragmentSize: 2048 });
    // Two 2048-byte fragments as [header, view]; the 904-byte rest is copied into one buffer.
    expect(frames).toHaveLength(5);
    expect(frames[1]!.buffer).toBe(payload.buffer);
    expect(frames[3]!.byteOffset).toBe(payload.byteOffset + 2048);
    expect(frames[4]!.length).toBe(4 + 5000 - 4096);
  });

  test('never fragments a control frame', () => {
    expect(encodeMessage(Opcode.Ping, Buffer.from('Hello'), { fragmentSize: 2 })).toHaveLength(1);
  });

  test('rejects a fragmentSize that is negative or not an integer', () => {
    expect(() => encodeMessage(Opcode.Text, Buffer.from('x'), { fragmentSize: -1 })).toThrow(RangeError);
    expect(() => encodeMessage(Opcode.Text, Buffer.from('x'), { fragmentSize: 1.5 })).toThrow(RangeError);
  });

  test('is one frame with a fragmentSize of 0 (the socket option\'s "never split")', () => {
    expect(hexOf(encodeMessage(Opcode.Text, Buffer.from('Hello'), { fragmentSize: 0 }))).toBe('810548656c6c6f');
  });
});

describe('toPayload', () => {
  test('returns a Buffer as it is', () => {
    const b = Buffer.from('x');
    expect(toPayload(b)).toBe(b);
  });

  test('encodes a string as UTF-8', () => {
    expect(toPayload('€').toString('hex')).toBe('e282ac');
  });

  test('views a typed array, a DataView and an ArrayBuffer without copying', () => {
    const backing = new ArrayBuffer(16);
    const u16 = new Uint16Array(backing, 4, 2);
    const view = toPayload(u16);
    expect(view.buffer).toBe(backing);
    expect(view.byteOffset).toBe(4);
    expect(view.length).toBe(4);
    u16[0] = 0xffff;
    expect(view[0]).toBe(0xff);

    const dv = toPayload(new DataView(backing, 2, 3));
    expect(dv.buffer).toBe(backing);
    expect(dv.length).toBe(3);

    const whole = toPayload(backing);
    expect(whole.buffer).toBe(backing);
    expect(whole.length).toBe(16);
  });

  test.each([[42], [null], [undefined], [{}], [[1, 2]]])('throws a TypeError for %p', (value) => {
    expect(() => toPayload(value as unknown as string)).toThrow(TypeError);
  });
});

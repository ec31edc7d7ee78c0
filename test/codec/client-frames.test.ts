import { encodeClientFrame } from '../helpers/client-frames';
import { Opcode } from '../../src/codec/opcodes';

describe('encodeClientFrame', () => {
  test('masks with the RFC 6455 §5.7 key by default: the masked "Hello"', () => {
    expect(encodeClientFrame(Opcode.Text, 'Hello').toString('hex')).toBe('818537fa213d7f9f4d5158');
  });

  test('uses the given key, FIN and RSV1', () => {
    const frame = encodeClientFrame(Opcode.Text, Buffer.from('Hel'), { fin: false, rsv1: true, key: Uint8Array.of(0, 0, 0, 0) });
    expect(frame.toString('hex')).toBe('41830000000048656c');
  });

  test('builds frames the server must reject, such as a 126-byte ping or a fragmented close', () => {
    expect(encodeClientFrame(Opcode.Ping, Buffer.alloc(126)).subarray(0, 4).toString('hex')).toBe('89fe007e');
    expect(encodeClientFrame(Opcode.Close, '', { fin: false }).subarray(0, 2).toString('hex')).toBe('0880');
  });

  test('does not modify the payload buffer', () => {
    const payload = Buffer.from('abc');
    encodeClientFrame(Opcode.Binary, payload);
    expect(payload.toString()).toBe('abc');
  });
});

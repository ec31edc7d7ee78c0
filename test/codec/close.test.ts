import { isProtocolError } from '../../src/errors';
import { encodeClosePayload, isValidCloseCode, parseClosePayload } from '../../src/codec/close';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('isValidCloseCode', () => {
  test.each([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4000, 4999])(
    'accepts %i from a peer',
    (code) => expect(isValidCloseCode(code)).toBe(true),
  );
  test.each([0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535])('rejects %i from a peer', (code) =>
    expect(isValidCloseCode(code)).toBe(false),
  );
});

describe('parseClosePayload', () => {
  test('reports an empty body as 1005 with no reason', () => {
    expect(parseClosePayload(Buffer.alloc(0))).toEqual({ code: 1005, reason: '' });
  });

  test('reads the big-endian code and the UTF-8 reason', () => {
    expect(parseClosePayload(Buffer.from('03e8', 'hex'))).toEqual({ code: 1000, reason: '' });
    expect(parseClosePayload(Buffer.concat([Buffer.from('0fa0', 'hex'), Buffer.from('bye €')]))).toEqual({
      code: 4000,
      reason: 'bye €',
    });
  });

  test('fails a 1-byte body with WS_ERR_INVALID_CLOSE_PAYLOAD and 1002', () => {
    expect(thrown(() => parseClosePayload(Buffer.from('03', 'hex')))).toMatchObject({
      code: 'WS_ERR_INVALID_CLOSE_PAYLOAD',
      closeCode: 1002,
    });
  });

  test.each(['03e7', '03ec', '03ed', '03ee', '03f7', '0bb7', '1388'])(
    'fails the close code in %s with WS_ERR_INVALID_CLOSE_CODE and 1002',
    (h) => {
      const err = thrown(() => parseClosePayload(Buffer.from(h, 'hex')));
      expect(isProtocolError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'WS_ERR_INVALID_CLOSE_CODE', closeCode: 1002 });
    },
  );

  test('fails a reason that is not UTF-8 with WS_ERR_INVALID_CLOSE_REASON and 1007', () => {
    expect(thrown(() => parseClosePayload(Buffer.from('03e8cebae1bdb9cf83cebcceb5eda080656469746564', 'hex')))).toMatchObject({
      code: 'WS_ERR_INVALID_CLOSE_REASON',
      closeCode: 1007,
    });
  });
});

describe('encodeClosePayload', () => {
  test('encodes no code as an empty body', () => {
    expect(encodeClosePayload()).toEqual(Buffer.alloc(0));
  });

  test('encodes the code big-endian followed by the UTF-8 reason', () => {
    expect(encodeClosePayload(1001, 'going away').toString('hex')).toBe('03e9' + Buffer.from('going away').toString('hex'));
    expect(encodeClosePayload(4999).toString('hex')).toBe('1387');
  });

  test('round-trips through parseClosePayload', () => {
    expect(parseClosePayload(encodeClosePayload(3001, 'ok ✓'))).toEqual({ code: 3001, reason: 'ok ✓' });
  });

  test.each([1004, 1005, 1006, 1015, 999, 5000, 1000.5])('throws a TypeError for code %d, which may not be sent', (code) => {
    expect(() => encodeClosePayload(code)).toThrow(TypeError);
  });

  test('throws a TypeError for a reason without a code', () => {
    expect(() => encodeClosePayload(undefined, 'why')).toThrow(TypeError);
  });

  test('accepts a reason of exactly 123 bytes and throws a RangeError at 124', () => {
    expect(encodeClosePayload(1000, 'é'.repeat(61) + 'a').length).toBe(125);
    expect(() => encodeClosePayload(1000, 'é'.repeat(62))).toThrow(RangeError);
  });
});

import { createHash } from 'node:crypto';
import { acceptKey, isValidKey } from '../../src/handshake';

describe('acceptKey', () => {
  it('answers the RFC 6455 §1.3 sample key with the sample accept value', () => {
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });

  it('hashes the key as sent, without decoding it', () => {
    const key = 'AAAAAAAAAAAAAAAAAAAAAA==';
    const expected = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    expect(acceptKey(key)).toBe(expected);
  });
});

describe('isValidKey', () => {
  it.each([
    ['dGhlIHNhbXBsZSBub25jZQ=='],
    ['AAAAAAAAAAAAAAAAAAAAAA=='],
    ['+/+/+/+/+/+/+/+/+/+/+w=='],
    // Non-zero pad bits still decode to 16 bytes.
    ['AAAAAAAAAAAAAAAAAAAAAB=='],
  ])('accepts the 16-byte base64 key %s', (key) => {
    expect(isValidKey(key)).toBe(true);
  });

  it.each([
    ['', 'empty'],
    ['dGhlIHNhbXBsZSBub25jZQ', 'missing padding'],
    ['dGhlIHNhbXBsZSBub25jZQ=', 'one pad character'],
    ['dGhlIHNhbXBsZSBub25jZQ===', 'three pad characters'],
    ['dGhlIHNhbXBsZSBub25jZQAA', 'padding replaced by data (18 bytes)'],
    ['dGhlIHNhbXBsZSBub25j', '15 bytes'],
    ['dGhlIHNhbXBsZSBub25jZWVl', '18 bytes'],
    ['dGhlIHNhbXBsZSBub25jZ-==', 'base64url alphabet'],
    ['dGhlIHNhbXBsZSB ub25jZQ==', 'an inner space'],
    [' dGhlIHNhbXBsZSBub25jZQ==', 'a leading space'],
  ])('refuses %j (%s)', (key) => {
    expect(isValidKey(key)).toBe(false);
  });
});

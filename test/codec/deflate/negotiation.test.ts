import * as fc from 'fast-check';
import { negotiatePerMessageDeflate } from '../../../src/codec/deflate-negotiation';
import type { PerMessageDeflateOptions } from '../../../src/codec/deflate-options';
import { parseOffers } from './helpers/offers';

function answer(header: string, options: PerMessageDeflateOptions = {}): string | null {
  return negotiatePerMessageDeflate(parseOffers(header), options)?.response ?? null;
}

const PMD = 'permessage-deflate';
const BITS = [8, 9, 10, 11, 12, 13, 14, 15];

describe('negotiatePerMessageDeflate: single offers with default options', () => {
  test.each([
    [PMD, PMD],
    [`${PMD}; client_no_context_takeover`, `${PMD}; client_no_context_takeover`],
    [`${PMD}; server_no_context_takeover`, `${PMD}; server_no_context_takeover`],
    [`${PMD}; client_max_window_bits`, PMD],
    [`${PMD}; server_no_context_takeover; client_no_context_takeover`, `${PMD}; server_no_context_takeover; client_no_context_takeover`],
    [`${PMD}; server_max_window_bits="10"`, `${PMD}; server_max_window_bits=10`],
    [`PerMessage-Deflate; server_no_context_takeover`, `${PMD}; server_no_context_takeover`],
  ])('answers %j with %j', (offer, expected) => {
    expect(answer(offer)).toBe(expected);
  });

  test.each(BITS)('accepts server_max_window_bits=%i and answers the same value (RFC 7692 §7.1.2.1)', (bits) => {
    expect(negotiatePerMessageDeflate(parseOffers(`${PMD}; server_max_window_bits=${bits}`), {})).toEqual({
      params: { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: bits, clientMaxWindowBits: 15 },
      response: `${PMD}; server_max_window_bits=${bits}`,
    });
  });

  test.each(BITS)('takes the hint client_max_window_bits=%i and answers it, to inflate with a smaller window', (bits) => {
    expect(negotiatePerMessageDeflate(parseOffers(`${PMD}; client_max_window_bits=${bits}`), {})).toEqual({
      params: { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: bits },
      response: `${PMD}; client_max_window_bits=${bits}`,
    });
  });

  test('agrees on 15-bit windows and context takeover both ways for a bare offer', () => {
    expect(negotiatePerMessageDeflate(parseOffers(PMD), {})?.params).toEqual({
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
    });
  });
});

describe('negotiatePerMessageDeflate: the offers of Autobahn cases 12 and 13', () => {
  // Autobahn's default offer accepts no_context_takeover and max_window_bits for the client.
  const base = `${PMD}; client_no_context_takeover; client_max_window_bits`;
  test.each([
    ['12.x / 13.1', base, `${PMD}; client_no_context_takeover`],
    ['13.2', `${base}; server_no_context_takeover`, `${PMD}; server_no_context_takeover; client_no_context_takeover`],
    ['13.3', `${base}; server_max_window_bits=9`, `${PMD}; client_no_context_takeover; server_max_window_bits=9`],
    ['13.4', `${base}; server_max_window_bits=15`, `${PMD}; client_no_context_takeover; server_max_window_bits=15`],
    ['13.5', `${base}; server_no_context_takeover; server_max_window_bits=9`, `${PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9`],
    ['13.6', `${base}; server_no_context_takeover; server_max_window_bits=15`, `${PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15`],
    [
      '13.7',
      `${base}; server_no_context_takeover; server_max_window_bits=9, ${base}; server_no_context_takeover, ${base}`,
      `${PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9`,
    ],
  ])('case %s: answers %j with %j', (_case, offer, expected) => {
    expect(answer(offer)).toBe(expected);
  });

  test('case 13.7 with a server capped at 10 bits still accepts the first offer, at 9 bits', () => {
    const offer = `${base}; server_no_context_takeover; server_max_window_bits=9, ${base}; server_no_context_takeover, ${base}`;
    expect(answer(offer, { serverMaxWindowBits: 10 })).toBe(
      `${PMD}; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9`,
    );
  });
});

describe('negotiatePerMessageDeflate: declining an offer (RFC 7692 §5.1)', () => {
  test.each([
    ['server_max_window_bits without a value', `${PMD}; server_max_window_bits`],
    ['server_max_window_bits below 8', `${PMD}; server_max_window_bits=7`],
    ['server_max_window_bits above 15', `${PMD}; server_max_window_bits=16`],
    ['server_max_window_bits with a leading zero', `${PMD}; server_max_window_bits=09`],
    ['server_max_window_bits that is not decimal', `${PMD}; server_max_window_bits=0xa`],
    ['server_max_window_bits that is empty', `${PMD}; server_max_window_bits=`],
    ['client_max_window_bits out of range', `${PMD}; client_max_window_bits=16`],
    ['client_max_window_bits with a leading zero', `${PMD}; client_max_window_bits=010`],
    ['server_no_context_takeover with a value', `${PMD}; server_no_context_takeover=1`],
    ['client_no_context_takeover with a value', `${PMD}; client_no_context_takeover=true`],
    ['an unknown parameter', `${PMD}; foo`],
    ['a parameter from another extension', `${PMD}; max_window_bits=10`],
    ['server_no_context_takeover twice', `${PMD}; server_no_context_takeover; server_no_context_takeover`],
    ['client_max_window_bits twice with equal values', `${PMD}; client_max_window_bits=10; client_max_window_bits=10`],
    ['client_max_window_bits twice, bare then valued', `${PMD}; client_max_window_bits; client_max_window_bits=10`],
    ['server_max_window_bits twice', `${PMD}; server_max_window_bits=10; server_max_window_bits=12`],
  ])('declines an offer with %s', (_why, offer) => {
    expect(answer(offer)).toBeNull();
  });

  test('accepts the next offer when the first one is declined', () => {
    expect(answer(`${PMD}; server_max_window_bits=7, ${PMD}; foo, ${PMD}; client_no_context_takeover`)).toBe(
      `${PMD}; client_no_context_takeover`,
    );
  });

  test('ignores other extensions and returns null when no offer names permessage-deflate', () => {
    expect(answer('')).toBeNull();
    expect(answer('x-webkit-deflate-frame, foo; bar=1')).toBeNull();
    expect(answer(`x-webkit-deflate-frame, ${PMD}`)).toBe(PMD);
  });

  test('never throws for anything a client offers: declining is all RFC 7692 asks of a server', () => {
    const token = fc.constantFrom('server_no_context_takeover', 'client_no_context_takeover', 'server_max_window_bits', 'client_max_window_bits', 'x');
    const value = fc.oneof(fc.constant<true>(true), fc.string({ maxLength: 4 }), fc.integer({ min: -2, max: 20 }).map(String));
    const offer = fc.record({
      name: fc.constantFrom(PMD, 'PERMESSAGE-DEFLATE', 'other'),
      params: fc.array(fc.tuple(token, value), { maxLength: 5 }),
    });
    fc.assert(
      fc.property(fc.array(offer, { maxLength: 4 }), (offers) => {
        const result = negotiatePerMessageDeflate(offers, {});
        if (result !== null) expect(result.response.startsWith(PMD)).toBe(true);
      }),
    );
  });
});

describe('negotiatePerMessageDeflate: server options', () => {
  test('adds server_no_context_takeover when the server always resets its context', () => {
    expect(answer(PMD, { serverNoContextTakeover: true })).toBe(`${PMD}; server_no_context_takeover`);
  });

  test('adds client_no_context_takeover when the server wants the client to reset its context', () => {
    const result = negotiatePerMessageDeflate(parseOffers(PMD), { clientNoContextTakeover: true });
    expect(result?.response).toBe(`${PMD}; client_no_context_takeover`);
    expect(result?.params.clientNoContextTakeover).toBe(true);
  });

  test.each([
    [PMD, `${PMD}; server_max_window_bits=10`, 10],
    [`${PMD}; server_max_window_bits=12`, `${PMD}; server_max_window_bits=10`, 10],
    [`${PMD}; server_max_window_bits=9`, `${PMD}; server_max_window_bits=9`, 9],
  ])('with serverMaxWindowBits 10 answers %j with %j', (offer, expected, bits) => {
    const result = negotiatePerMessageDeflate(parseOffers(offer), { serverMaxWindowBits: 10 });
    expect(result?.response).toBe(expected);
    expect(result?.params.serverMaxWindowBits).toBe(bits);
  });

  test.each([
    [`${PMD}; client_max_window_bits`, `${PMD}; client_max_window_bits=10`, 10],
    [`${PMD}; client_max_window_bits=12`, `${PMD}; client_max_window_bits=10`, 10],
    [`${PMD}; client_max_window_bits=9`, `${PMD}; client_max_window_bits=9`, 9],
  ])('with clientMaxWindowBits 10 answers %j with %j', (offer, expected, bits) => {
    const result = negotiatePerMessageDeflate(parseOffers(offer), { clientMaxWindowBits: 10 });
    expect(result?.response).toBe(expected);
    expect(result?.params.clientMaxWindowBits).toBe(bits);
  });

  test('with clientMaxWindowBits declines an offer that cannot be told the limit (§7.1.2.2), and takes a later one that can', () => {
    expect(answer(PMD, { clientMaxWindowBits: 10 })).toBeNull();
    expect(answer(`${PMD}, ${PMD}; client_max_window_bits`, { clientMaxWindowBits: 10 })).toBe(`${PMD}; client_max_window_bits=10`);
  });

  test.each<[string, PerMessageDeflateOptions]>([
    ['serverMaxWindowBits 16', { serverMaxWindowBits: 16 }],
    ['clientMaxWindowBits 7', { clientMaxWindowBits: 7 }],
    ['level 10', { level: 10 }],
    ['memLevel 0', { memLevel: 0 }],
    ['threshold -1', { threshold: -1 }],
    ['concurrencyLimit 0', { concurrencyLimit: 0 }],
    ['a fractional window', { serverMaxWindowBits: 9.5 }],
  ])('rejects invalid server options (%s) with a RangeError', (_why, options) => {
    expect(() => negotiatePerMessageDeflate(parseOffers(PMD), options)).toThrow(RangeError);
  });
});

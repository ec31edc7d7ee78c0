import fc from 'fast-check';
import type { ExtensionOffer } from '../../src/codec/extension-offer';
import { isHandshakeError } from '../../src/errors';
import { formatExtension, parseExtensions } from '../../src/handshake';
import { thrownBy } from './request-fixture';

type Params = Array<readonly [string, string | true]>;
const offer = (name: string, ...params: Params): ExtensionOffer => ({ name, params });

describe('parseExtensions', () => {
  it.each<[string | undefined, ExtensionOffer[]]>([
    [undefined, []],
    ['permessage-deflate', [offer('permessage-deflate')]],
    ['permessage-deflate; client_max_window_bits', [offer('permessage-deflate', ['client_max_window_bits', true])]],
    // Autobahn's offers (case 12/13 clients).
    [
      'permessage-deflate; client_max_window_bits, permessage-deflate',
      [offer('permessage-deflate', ['client_max_window_bits', true]), offer('permessage-deflate')],
    ],
    [
      'permessage-deflate; server_max_window_bits=10; client_no_context_takeover',
      [offer('permessage-deflate', ['server_max_window_bits', '10'], ['client_no_context_takeover', true])],
    ],
    [
      'permessage-deflate; client_no_context_takeover; client_max_window_bits=9, permessage-deflate; client_max_window_bits',
      [
        offer('permessage-deflate', ['client_no_context_takeover', true], ['client_max_window_bits', '9']),
        offer('permessage-deflate', ['client_max_window_bits', true]),
      ],
    ],
    // Quoted values arrive unquoted and unescaped.
    ['foo; a="10"', [offer('foo', ['a', '10'])]],
    ['foo; a="1\\0"', [offer('foo', ['a', '10'])]],
    ['foo; a="x"; b=y; c', [offer('foo', ['a', 'x'], ['b', 'y'], ['c', true])]],
    // Optional whitespace around every separator.
    ['  foo ;a = 1 ;\tb\t, bar ', [offer('foo', ['a', '1'], ['b', true]), offer('bar')]],
    ['foo;a=1;b,bar', [offer('foo', ['a', '1'], ['b', true]), offer('bar')]],
    // Several header lines as Node joins them, including an empty one.
    ['foo, bar; x=1', [offer('foo'), offer('bar', ['x', '1'])]],
    [', foo', [offer('foo')]],
    ['foo,, bar,', [offer('foo'), offer('bar')]],
    // Duplicates and case are kept for negotiation to judge.
    ['foo; a=1; a=2', [offer('foo', ['a', '1'], ['a', '2'])]],
    ['Permessage-Deflate; Server_Max_Window_Bits=10', [offer('Permessage-Deflate', ['Server_Max_Window_Bits', '10'])]],
  ])('reads %j', (header, expected) => {
    expect(parseExtensions(header)).toEqual(expected);
  });

  it.each([
    [''],
    [' , '],
    [';'],
    ['foo;'],
    ['foo;;a'],
    ['foo; =10'],
    ['foo; a='],
    ['foo; a=,bar'],
    ['foo bar'],
    ['foo; a b'],
    ['foo; a=1 2'],
    ['foo; a="10'],
    ['foo; a="10\\'],
    ['foo; a=""'],
    ['foo; a="1 0"'],
    ['foo; a="1,0"'],
    ['foo; a="\\""'],
    ['foo; a="10"x'],
    ['foo; a=1=2'],
    ['"foo"'],
    ['foo/1'],
    ['f\u00f6o'],
    ['foo\r\n'],
    ['foo; a=\u0000'],
  ])('refuses %j with 400 WS_HANDSHAKE_BAD_EXTENSIONS', (header) => {
    const err = thrownBy(() => parseExtensions(header));
    expect(isHandshakeError(err)).toBe(true);
    expect(err).toMatchObject({ status: 400, code: 'WS_HANDSHAKE_BAD_EXTENSIONS', headers: {} });
  });
});

describe('formatExtension', () => {
  it('writes parameters after "; ", with and without values', () => {
    expect(formatExtension('permessage-deflate', [['server_no_context_takeover', true], ['server_max_window_bits', '10']])).toBe(
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=10',
    );
  });

  it('writes a bare name when there are no parameters', () => {
    expect(formatExtension('permessage-deflate', [])).toBe('permessage-deflate');
  });

  it.each<[string, Params]>([
    ['', []],
    ['a b', []],
    ['a', [['', true]]],
    ['a', [['p', '']]],
    ['a', [['p', '1 0']]],
    ['a', [['p', 'x\r\nInjected: 1']]],
  ])('refuses the name %j with params %j, which are not tokens, with a TypeError', (name, params) => {
    expect(() => formatExtension(name, params)).toThrow(TypeError);
  });
});

describe('parseExtensions, property-based', () => {
  const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".split('');
  const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
  const param = fc.tuple(token, fc.oneof(fc.constant<true>(true), token));
  const offerArb = fc.record({ name: token, params: fc.array(param, { maxLength: 5 }) });
  const ows = fc.constantFrom('', ' ', '\t', '  ', ' \t');

  it('reads back what formatExtension writes, for random token names and parameters', () => {
    fc.assert(
      fc.property(fc.array(offerArb, { minLength: 1, maxLength: 4 }), (offers) => {
        const header = offers.map((o) => formatExtension(o.name, o.params)).join(', ');
        expect(parseExtensions(header)).toEqual(offers);
      }),
      { seed: 6455, numRuns: 500 },
    );
  });

  it('reads the same offers whatever the whitespace and whether values are quoted (escapes included)', () => {
    const quoted = (value: string): string => `"${value.replace(/./g, (c) => (c === '!' || c === '#' ? `\\${c}` : c))}"`;
    fc.assert(
      fc.property(
        fc.array(offerArb, { minLength: 1, maxLength: 4 }),
        fc.infiniteStream(fc.tuple(ows, fc.boolean())),
        (offers, choices) => {
          const next = (): [string, boolean] => choices.next().value as [string, boolean];
          const header = offers
            .map(
              (o) =>
                next()[0] +
                o.name +
                o.params
                  .map(([name, value]) => {
                    const [space, quote] = next();
                    const rendered = value === true ? '' : `${space}=${space}${quote ? quoted(value) : value}`;
                    return `${space};${space}${name}${rendered}`;
                  })
                  .join('') +
                next()[0],
            )
            .join(',');
          expect(parseExtensions(header)).toEqual(offers);
        },
      ),
      { seed: 6455, numRuns: 500 },
    );
  });

  it('throws nothing but a 400 HandshakeError for arbitrary strings', () => {
    const grammarChars = fc.constantFrom(...'ab=;,"\\ \t\r\n\u0000é'.split(''));
    const input = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: grammarChars, maxLength: 40 }));
    fc.assert(
      fc.property(input, (header) => {
        try {
          parseExtensions(header);
        } catch (err) {
          expect(isHandshakeError(err) && err.status === 400).toBe(true);
        }
      }),
      { seed: 6455, numRuns: 2000 },
    );
  });
});

import type { ExtensionOffer } from '../codec/extension-offer';
import { handshakeError } from './handshake-errors';
import { isOws, isToken, isTokenChar } from './tokens';

type Param = readonly [name: string, value: string | true];

/**
 * A cursor over one `Sec-WebSocket-Extensions` value. RFC 6455 §9.1:
 *
 *     extension-list = 1#extension
 *     extension      = extension-token *( ";" extension-param )
 *     extension-param = token [ "=" (token | quoted-string) ]
 *
 * with optional whitespace around the separators (RFC 7230 §3.2.3).
 */
class ExtensionScanner {
  #pos = 0;
  constructor(readonly text: string) {}

  get atEnd(): boolean {
    return this.#pos >= this.text.length;
  }

  peek(): string | undefined {
    return this.text[this.#pos];
  }

  /** Consume `c` if it is next. */
  eat(c: string): boolean {
    if (this.text[this.#pos] !== c) return false;
    this.#pos++;
    return true;
  }

  skipOws(): void {
    while (isOws(this.text[this.#pos])) this.#pos++;
  }

  token(): string {
    const start = this.#pos;
    while (this.#pos < this.text.length && isTokenChar(this.text[this.#pos]!)) this.#pos++;
    if (this.#pos === start) throw this.fail('expected a token');
    return this.text.slice(start, this.#pos);
  }

  /** RFC 7230 §3.2.6 quoted-string, unescaped. */
  quotedString(): string {
    this.#pos++; // the opening DQUOTE
    let value = '';
    for (;;) {
      const c = this.text[this.#pos++];
      if (c === undefined) throw this.fail('unterminated quoted string');
      if (c === '"') return value;
      if (c === '\\') {
        const escaped = this.text[this.#pos++];
        if (escaped === undefined) throw this.fail('unterminated quoted string');
        value += escaped;
      } else {
        value += c;
      }
    }
  }

  fail(reason: string): Error {
    const where = this.atEnd ? 'at the end' : `at index ${this.#pos}`;
    return handshakeError('WS_HANDSHAKE_BAD_EXTENSIONS', `${reason} ${where}`);
  }
}

function parseParam(scanner: ExtensionScanner): Param {
  const name = scanner.token();
  scanner.skipOws();
  if (!scanner.eat('=')) return [name, true];
  scanner.skipOws();
  if (scanner.peek() !== '"') return [name, scanner.token()];
  const value = scanner.quotedString();
  // §9.1: "the value after quoted-string unescaping MUST conform to the 'token' ABNF".
  if (!isToken(value)) throw scanner.fail('quoted value is not a token');
  return [name, value];
}

function parseOffer(scanner: ExtensionScanner): ExtensionOffer {
  const name = scanner.token();
  const params: Param[] = [];
  scanner.skipOws();
  while (scanner.eat(';')) {
    scanner.skipOws();
    params.push(parseParam(scanner));
    scanner.skipOws();
  }
  return { name, params };
}

/**
 * The offers of a `Sec-WebSocket-Extensions` header, in client order; several
 * header lines arrive joined by Node with ", ", which is the same list.
 * Names and parameters keep their case, order and duplicates: refusing an
 * offer is negotiation's job, not the parser's.
 *
 * @example
 * parseExtensions('permessage-deflate; client_max_window_bits, permessage-deflate')
 * // [{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
 * //  { name: 'permessage-deflate', params: [] }]
 * @throws HandshakeError 400 `WS_HANDSHAKE_BAD_EXTENSIONS` on a syntax error.
 */
export function parseExtensions(header: string | undefined): ExtensionOffer[] {
  if (header === undefined) return [];
  const scanner = new ExtensionScanner(header);
  const offers: ExtensionOffer[] = [];
  for (;;) {
    scanner.skipOws();
    if (scanner.atEnd) break;
    // RFC 7230 §7: empty list elements are ignored.
    if (scanner.eat(',')) continue;
    offers.push(parseOffer(scanner));
    if (scanner.atEnd) break;
    if (!scanner.eat(',')) throw scanner.fail('unexpected character');
  }
  // extension-list = 1#extension: a header that is present must name one.
  if (offers.length === 0) throw handshakeError('WS_HANDSHAKE_BAD_EXTENSIONS', 'empty list');
  return offers;
}

/**
 * One extension for a `Sec-WebSocket-Extensions` response header; the inverse
 * of `parseExtensions` for a single offer. Values are written as bare tokens.
 *
 * @example formatExtension('permessage-deflate', [['server_max_window_bits', '10']])
 * // 'permessage-deflate; server_max_window_bits=10'
 * @throws TypeError when a name or value is not a token (a server bug, never client input).
 */
export function formatExtension(name: string, params: ReadonlyArray<readonly [string, string | true]>): string {
  if (!isToken(name)) throw new TypeError(`extension name is not a token: ${JSON.stringify(name)}`);
  let out = name;
  for (const [param, value] of params) {
    if (!isToken(param)) throw new TypeError(`extension parameter is not a token: ${JSON.stringify(param)}`);
    if (value === true) {
      out += `; ${param}`;
      continue;
    }
    if (!isToken(value)) throw new TypeError(`extension parameter value is not a token: ${JSON.stringify(value)}`);
    out += `; ${param}=${value}`;
  }
  return out;
}

import { STATUS_CODES } from 'node:http';
import { acceptKey } from './accept-key';
import { isToken } from './tokens';

const CRLF = '\r\n';

/**
 * RFC 7230 §3.2: field-value = *( VCHAR / obs-text / SP / HTAB ): no CR, LF or
 * other controls. obs-text is refused too: the response is written as UTF-8,
 * so a non-ASCII character would not reach the wire as the byte it names.
 */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/** Whether `value` may be written as a header value here (also what the Express layer keeps for a 101). */
export function isFieldValue(value: string): boolean {
  return FIELD_VALUE.test(value);
}

/** Headers the 101 response writes itself; repeating one would break the handshake. */
const ACCEPT_OWN = new Set(['upgrade', 'connection', 'sec-websocket-accept', 'sec-websocket-protocol', 'sec-websocket-extensions']);

/** Headers a rejection computes itself. */
const REJECT_OWN = new Set(['connection', 'content-length']);

/** One `Name: value` line; refuses header injection (CR/LF) and non-token names. */
function headerLine(name: string, value: string): string {
  if (!isToken(name)) throw new TypeError(`invalid header name: ${JSON.stringify(name)}`);
  if (!isFieldValue(value)) throw new TypeError(`invalid value for header ${name}`);
  return `${name}: ${value}${CRLF}`;
}

function extraLines(
  headers: Readonly<Record<string, string | readonly string[]>> | undefined,
  own: ReadonlySet<string>,
): string {
  let out = '';
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (own.has(name.toLowerCase())) throw new TypeError(`header ${name} is set by the handshake itself`);
    for (const one of typeof value === 'string' ? [value] : value) out += headerLine(name, one);
  }
  return out;
}

/**
 * The server's opening handshake, byte for byte (RFC 6455 §4.2.2 step 5):
 * status line, `Upgrade`, `Connection`, `Sec-WebSocket-Accept`, then
 * `Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` when given, then the
 * extra headers (an array value writes one line per element), and the blank line.
 *
 * @example socket.write(buildAcceptResponse({ key, protocol: 'chat.v2' }));
 * @throws TypeError for an extra header that is malformed or one the handshake writes itself.
 */
export function buildAcceptResponse(opts: {
  key: string;
  protocol?: string;
  extensions?: string;
  headers?: Readonly<Record<string, string | readonly string[]>>;
  /**
   * Extra header lines already checked by the caller (`Name: value\r\n` each,
   * token names, field values without controls, none of the handshake's own):
   * appended as they are, after `headers`.
   */
  headerLines?: string;
}): string {
  // The status line and the fixed headers are one constant; the accept value
  // is base64 by construction, so only the negotiated values are checked.
  let out = ACCEPT_HEAD + acceptKey(opts.key) + CRLF;
  if (opts.protocol !== undefined) out += ownHeaderLine('Sec-WebSocket-Protocol: ', opts.protocol);
  if (opts.extensions !== undefined) out += ownHeaderLine('Sec-WebSocket-Extensions: ', opts.extensions);
  if (opts.headers !== undefined) out += extraLines(opts.headers, ACCEPT_OWN);
  if (opts.headerLines !== undefined) out += opts.headerLines;
  return out + CRLF;
}

/** Everything of a 101 before the accept value: built once. */
const ACCEPT_HEAD =
  `HTTP/1.1 101 Switching Protocols${CRLF}` + `Upgrade: websocket${CRLF}` + `Connection: Upgrade${CRLF}` + 'Sec-WebSocket-Accept: ';

/** A line of one of the 101's own headers (the name is a constant token): only the value is checked. */
function ownHeaderLine(prefix: string, value: string): string {
  if (!isFieldValue(value)) throw new TypeError(`invalid value for header ${prefix.slice(0, -2)}`);
  return prefix + value + CRLF;
}

/**
 * A complete HTTP refusal to write on the raw socket before closing it:
 * status line with its reason phrase, `Connection: close`, a UTF-8 plain-text
 * `Content-Type` (an extra `Content-Type` replaces it), `Content-Length`, the
 * extra headers, the blank line and `body`. Write it as UTF-8 (the socket
 * default): `Content-Length` counts the body's UTF-8 bytes.
 *
 * @example socket.end(buildRejectResponse(err.status, err.message, err.headers));
 * @throws TypeError for a status outside 300–599 or a malformed extra header.
 */
export function buildRejectResponse(status: number, body: string, headers?: Readonly<Record<string, string>>): string {
  if (!Number.isInteger(status) || status < 300 || status > 599) {
    throw new TypeError(`not a rejection status: ${status}`);
  }
  const extra = { ...headers };
  const hasType = Object.keys(extra).some((name) => name.toLowerCase() === 'content-type');
  const reason = STATUS_CODES[status] ?? 'Unknown';
  return (
    `HTTP/1.1 ${status} ${reason}${CRLF}` +
    `Connection: close${CRLF}` +
    (hasType ? '' : `Content-Type: text/plain; charset=utf-8${CRLF}`) +
    `Content-Length: ${Buffer.byteLength(body, 'utf8')}${CRLF}` +
    extraLines(extra, REJECT_OWN) +
    CRLF +
    body
  );
}

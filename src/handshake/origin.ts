import { handshakeError } from './handshake-errors';
import { headerValue, type UpgradeRequestLike } from './request';
import { trimOws } from './tokens';

/**
 * Which origins may open a WebSocket: `'*'` (any), a list of serialized
 * origins (`'https://app.example'`, compared case-insensitively) or a
 * predicate. Without one, only the server's own origin may (`isSameOrigin`).
 */
export type OriginCheck = '*' | readonly string[] | ((origin: string | undefined, req: UpgradeRequestLike) => boolean);

/**
 * Refuse a handshake from an origin `check` does not allow (RFC 6455 §10.2:
 * the server "MAY ... reply with an appropriate HTTP error code (such as 403
 * Forbidden)").
 *
 * - No check: same-origin. Browsers send cookies with cross-site upgrades and
 *   CORS does not apply to WebSockets, so a page on another site could
 *   otherwise open an authenticated socket in its visitor's name (cross-site
 *   WebSocket hijacking). A request without `Origin` is not from a browser
 *   page and passes. `host` is the host the request was addressed to (see
 *   `requestHost`).
 * - `'*'`: every request passes.
 * - A list: a request without `Origin` is refused too (browsers always send
 *   it, so the list says "only these pages").
 * - A predicate decides alone; errors it throws propagate.
 *
 * @example checkOrigin(req.headers.origin, undefined, req, requestHost(req, false))
 * @throws HandshakeError 403 `WS_HANDSHAKE_CROSS_ORIGIN` (default check) or `WS_HANDSHAKE_ORIGIN_FORBIDDEN`.
 */
export function checkOrigin(
  origin: string | undefined,
  check: OriginCheck | undefined,
  req: UpgradeRequestLike,
  host: string | undefined = headerValue(req.headers, 'host'),
): void {
  if (check === '*') return;
  if (check === undefined) {
    if (origin !== undefined && !isSameOrigin(origin, host)) throw handshakeError('WS_HANDSHAKE_CROSS_ORIGIN');
    return;
  }
  const allowed = typeof check === 'function' ? check(origin, req) === true : isListed(origin, check);
  if (!allowed) throw handshakeError('WS_HANDSHAKE_ORIGIN_FORBIDDEN');
}

function isListed(origin: string | undefined, list: readonly string[]): boolean {
  if (origin === undefined) return false;
  const wanted = origin.toLowerCase();
  return list.some((entry) => entry.toLowerCase() === wanted);
}

/**
 * The host a request was addressed to: its `Host` header, or the first
 * `X-Forwarded-Host` value when the connection comes from a trusted proxy
 * (Express's `req.hostname` rule, with the port kept). A forwarded header from
 * a client that is not a trusted proxy is ignored: it must never widen the check.
 */
export function requestHost(req: UpgradeRequestLike, trustForwarded: boolean): string | undefined {
  if (trustForwarded) {
    const forwarded = headerValue(req.headers, 'x-forwarded-host');
    if (forwarded !== undefined) {
      const comma = forwarded.indexOf(',');
      const first = trimOws(comma === -1 ? forwarded : forwarded.slice(0, comma));
      if (first !== '') return first;
    }
  }
  return headerValue(req.headers, 'host');
}

/**
 * Whether `origin` (an `Origin` header) names the host and port `host` (a
 * `Host` header value) does. Hosts compare case-insensitively after URL
 * normalisation; the Origin's port defaults by its scheme (http 80, https
 * 443), and a `Host` without a port stands for that same default port — so a
 * TLS-terminating proxy that forwards `Host: app.example` unchanged works for
 * pages on `https://app.example`. Anything unparsable (`null`, a path, user
 * info, a non-http(s) scheme) is not same-origin.
 *
 * @example isSameOrigin('https://app.example', 'app.example')      // true
 * @example isSameOrigin('http://localhost:5173', 'localhost:3000') // false
 */
export function isSameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  const from = parseOrigin(origin);
  const to = from === null ? null : parseHost(host);
  if (from === null || to === null) return false;
  return from.hostname === to.hostname && from.port === (to.port ?? from.defaultPort);
}

interface ParsedOrigin {
  hostname: string;
  port: number;
  defaultPort: number;
}

/** RFC 6454 §6.2 serialized origin: scheme "://" host [ ":" port ], nothing else. */
function parseOrigin(origin: string): ParsedOrigin | null {
  let url: URL;
  try {
    url = new URL(origin); // the WHATWG parser: linear, normalises case, IDN and IP forms
  } catch {
    return null; // includes the opaque origin "null"
  }
  const defaultPort = url.protocol === 'https:' ? 443 : url.protocol === 'http:' ? 80 : 0;
  if (defaultPort === 0) return null;
  // A serialized origin has no path, query, fragment or credentials.
  if (url.origin.toLowerCase() !== origin.toLowerCase()) return null;
  return { hostname: url.hostname, port: url.port === '' ? defaultPort : Number(url.port), defaultPort };
}

/** RFC 7230 §5.4: Host = uri-host [ ":" port ]. `port` is absent when none was written. */
function parseHost(host: string): { hostname: string; port: number | undefined } | null {
  // An IPv6 literal is bracketed and full of colons; the port colon follows the bracket.
  const close = host.charCodeAt(0) === 0x5b /* [ */ ? host.indexOf(']') : -1;
  if (host.charCodeAt(0) === 0x5b && close === -1) return null;
  const colon = host.indexOf(':', close + 1);
  const name = colon === -1 ? host : host.slice(0, colon);
  let port: number | undefined;
  if (colon !== -1) {
    port = parsePort(host, colon + 1);
    if (port === undefined) return null;
  }
  if (name === '' || !hasOnlyHostChars(name)) return null;
  let hostname: string;
  try {
    hostname = new URL(`http://${name}/`).hostname;
  } catch {
    return null;
  }
  return { hostname, port };
}

/** Decimal digits from `start` to the end, 0–65535, else undefined. */
function parsePort(text: string, start: number): number | undefined {
  if (start >= text.length || text.length - start > 5) return undefined;
  let port = 0;
  for (let i = start; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return undefined;
    port = port * 10 + digit;
  }
  return port <= 65535 ? port : undefined;
}

/**
 * A reg-name of unreserved characters (RFC 3986 §3.2.2; what browsers send,
 * IDNs in punycode) or a bracketed IP literal. Keeps characters the URL parser
 * would read as user info, path or port ("@", "/", "?", "#", "\") out.
 */
function hasOnlyHostChars(name: string): boolean {
  const literal = name.charCodeAt(0) === 0x5b;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (alnum || c === 0x2e /* . */) continue;
    if (literal ? c === 0x3a /* : */ || c === 0x5b || c === 0x5d : c === 0x2d /* - */ || c === 0x5f /* _ */ || c === 0x7e /* ~ */) {
      continue;
    }
    return false;
  }
  return true;
}

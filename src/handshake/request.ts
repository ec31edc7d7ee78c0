import type { IncomingHttpHeaders } from 'node:http';
import type { ExtensionOffer } from '../codec/extension-offer';

/**
 * The parts of an `http.IncomingMessage` the handshake reads. Structural, so
 * tests can pass plain objects and the server passes the real request.
 */
export interface UpgradeRequestLike {
  method?: string;
  httpVersionMajor: number;
  httpVersionMinor: number;
  headers: IncomingHttpHeaders;
  /** Name/value pairs as received; the only place duplicate headers stay visible. */
  rawHeaders: string[];
  url?: string;
}

/** What a valid upgrade request asks for (RFC 6455 §4.2.1). */
export interface ValidatedHandshake {
  /** `Sec-WebSocket-Key` as sent. */
  key: string;
  /** Offered subprotocols, in client order (empty if none). */
  protocols: string[];
  /** Parsed `Sec-WebSocket-Extensions` offers, in client order. */
  extensions: ExtensionOffer[];
  /** The `Origin` header, if any. */
  origin: string | undefined;
}

/** The header `name` (lower case) as one string; a list value is joined the way Node joins duplicates. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** How many times each header the handshake must see exactly once was sent. */
export interface SingletonHeaderCounts {
  host: number;
  version: number;
  key: number;
  origin: number;
}

/**
 * Count Host, Sec-WebSocket-Version, Sec-WebSocket-Key and Origin in one pass
 * over `rawHeaders`. Node joins most duplicates with ", " and silently drops
 * some (Host), so only `rawHeaders` tells. A field present in `headers` but
 * not in `rawHeaders` (a hand-built request object) counts as one.
 */
export function countSingletonHeaders(req: UpgradeRequestLike): SingletonHeaderCounts {
  const counts: SingletonHeaderCounts = { host: 0, version: 0, key: 0, origin: 0 };
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    // Cheap length filter first: most headers are none of these four.
    switch (name.length) {
      case 4:
        if (name.toLowerCase() === 'host') counts.host++;
        break;
      case 6:
        if (name.toLowerCase() === 'origin') counts.origin++;
        break;
      case 17:
        if (name.toLowerCase() === 'sec-websocket-key') counts.key++;
        break;
      case 21:
        if (name.toLowerCase() === 'sec-websocket-version') counts.version++;
        break;
    }
  }
  const headers = req.headers;
  if (counts.host === 0 && headers.host !== undefined) counts.host = 1;
  if (counts.origin === 0 && headers.origin !== undefined) counts.origin = 1;
  if (counts.key === 0 && headers['sec-websocket-key'] !== undefined) counts.key = 1;
  if (counts.version === 0 && headers['sec-websocket-version'] !== undefined) counts.version = 1;
  return counts;
}

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

/**
 * How many times the header `name` (lower case) was sent. Node joins most
 * duplicates with ", " and silently drops some (Host), so only `rawHeaders`
 * tells. A request whose `headers` has the field but whose `rawHeaders` does
 * not (a hand-built object) counts as one.
 */
export function headerCount(req: UpgradeRequestLike, name: string): number {
  let count = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (req.rawHeaders[i]!.toLowerCase() === name) count++;
  }
  return count === 0 && req.headers[name] !== undefined ? 1 : count;
}

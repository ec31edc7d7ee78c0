import type { IncomingHttpHeaders } from 'node:http';
import type { UpgradeRequestLike } from '../../src/handshake';

/** Headers Node keeps only the first of (the rest it drops); all others it joins with ", ". */
const NODE_KEEPS_FIRST = new Set(['host', 'content-type', 'authorization', 'user-agent', 'referer']);

export const RFC_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A request as Node's parser would present it, built from the raw header lines. */
export function requestFrom(
  rawPairs: ReadonlyArray<readonly [string, string]>,
  overrides: Partial<Pick<UpgradeRequestLike, 'method' | 'httpVersionMajor' | 'httpVersionMinor' | 'url'>> = {},
): UpgradeRequestLike {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of rawPairs) {
    const lower = name.toLowerCase();
    const previous = headers[lower];
    if (previous === undefined) headers[lower] = value;
    else if (!NODE_KEEPS_FIRST.has(lower)) headers[lower] = `${String(previous)}, ${value}`;
  }
  return {
    method: 'GET',
    httpVersionMajor: 1,
    httpVersionMinor: 1,
    url: '/chat',
    headers,
    rawHeaders: rawPairs.flatMap(([name, value]) => [name, value]),
    ...overrides,
  };
}

/** The RFC 6455 §1.2 sample handshake's header lines. */
export const VALID_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Host', 'server.example.com'],
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', RFC_KEY],
  ['Origin', 'http://example.com'],
  ['Sec-WebSocket-Protocol', 'chat, superchat'],
  ['Sec-WebSocket-Version', '13'],
];

/** VALID_HEADERS with `name` removed (every occurrence) and `extra` lines appended. */
export function headersWithout(name: string, ...extra: Array<readonly [string, string]>): Array<readonly [string, string]> {
  return [...VALID_HEADERS.filter(([n]) => n.toLowerCase() !== name.toLowerCase()), ...extra];
}

/** VALID_HEADERS with the value of `name` replaced. */
export function headersWith(name: string, value: string): Array<readonly [string, string]> {
  return VALID_HEADERS.map(([n, v]) => (n.toLowerCase() === name.toLowerCase() ? [n, value] : [n, v]));
}

/** Run `fn` and return the error it throws (fails the test if it does not throw). */
export function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

import type { ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { isFieldValue } from '../handshake/responses';
import { isToken } from '../handshake/tokens';

/**
 * What middleware did to `res` before the upgrade was accepted reaches the
 * client, and `res` ends like any other response.
 *
 * The upgrade's `res` is written nowhere (the raw socket now belongs to the
 * WebSocket), so it is given a sink instead: `writeHead(101)` runs the
 * on-headers hooks (express-session's Set-Cookie, morgan's start time), the
 * headers they leave go out in the real 101, and `end()` makes it emit
 * 'finish' for on-finished listeners (morgan logs, express-session saves),
 * after which nothing of the socket refers to `res` any more.
 */

/**
 * Not sent in a 101: hop-by-hop headers (RFC 9110 §7.6.1), which the handshake
 * writes itself or which mean nothing on a switched connection; headers
 * describing a body (a 101 has none, RFC 9110 §15.2); and the
 * handshake's own `Sec-WebSocket-*` answers.
 */
const NOT_IN_101 = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'etag',
  'last-modified',
]);

/**
 * Whether anything watches the upgrade's `res` being written or finishing:
 * an on-headers hook (it replaces `res.writeHead`), a wrapper of
 * `write`/`end` (loggers, compression), or a listener for its end (on-finished
 * puts one on 'finish'). `ownFinishListeners` is how many 'finish' listeners
 * attach-ws itself added. When nothing does, the 101 can take the headers as
 * they stand and `res` need not be run through a sink: that sink, `writeHead`
 * and `end` were the largest part of the Express layer's cost per upgrade.
 */
export function upgradeResponseObserved(res: ServerResponse, ownFinishListeners: number): boolean {
  return (
    hasOwn(res, 'writeHead') ||
    hasOwn(res, 'write') ||
    hasOwn(res, 'end') ||
    res.listenerCount('finish') > ownFinishListeners ||
    res.listenerCount('prefinish') > 0 ||
    res.listenerCount('close') > 0
  );
}

/** The header lines middleware set on `res`, fit for the 101 (`Name: value\r\n` each), without writing `res` anywhere. */
export function currentHeaderLinesFor101(res: ServerResponse): string {
  return headerLines(res);
}

function hasOwn(target: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(target, key);
}

/** Run the on-headers hooks and return the header lines fit for the 101; call before accepting. */
export function headerLinesFor101(res: ServerResponse): string {
  if (!res.headersSent) {
    res.statusCode = 101;
    res.assignSocket(sinkSocket() as never);
    res.writeHead(101);
  }
  return headerLines(res);
}

/** End `res` (on its sink) so that on-finished listeners run, then let it go. */
export function finishUpgradeResponse(res: ServerResponse): void {
  if (res.writableEnded) return;
  res.once('finish', () => {
    const sink = res.socket;
    if (sink != null) res.detachSocket(sink as never);
  });
  res.end();
}

/**
 * `res`'s headers as lines for the 101, in the order they were set. Raw names
 * keep the case middleware used (`Set-Cookie`, not `set-cookie`); a value the
 * 101 could not carry verbatim is left out; an array writes one line per element.
 */
function headerLines(res: ServerResponse): string {
  const names = (res as ServerResponse & { getRawHeaderNames?(): string[] }).getRawHeaderNames?.() ?? res.getHeaderNames();
  let out = '';
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (!fitNameFor101(name)) continue;
    const value = res.getHeader(name);
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const one of value) out += line(name, String(one));
    } else {
      out += line(name, String(value));
    }
  }
  return out;
}

function line(name: string, value: string): string {
  // What buildAcceptResponse writes (no obs-text): a value it would refuse is left out.
  return isFieldValue(value) ? `${name}: ${value}\r\n` : '';
}

/**
 * Whether a header of this name may go out in the 101: a token (RFC 9110
 * §5.1; Node's setHeader checks it too) that is none of NOT_IN_101,
 * `Content-*` or `Sec-WebSocket-*`. The answer per name is remembered: the
 * same few names (`X-Powered-By`, `Set-Cookie`) come with every upgrade.
 */
function fitNameFor101(name: string): boolean {
  const known = fitNames.get(name);
  if (known !== undefined) return known;
  const lower = name.toLowerCase();
  const fit = isToken(name) && !NOT_IN_101.has(lower) && !lower.startsWith('content-') && !lower.startsWith('sec-websocket-');
  // Bounded: header names are the app's, but nothing may grow without limit.
  if (fitNames.size < MAX_REMEMBERED_NAMES) fitNames.set(name, fit);
  return fit;
}

const MAX_REMEMBERED_NAMES = 256;
const fitNames = new Map<string, boolean>();

/** Where the upgrade's `res` writes its (unsent) status line and headers. */
function sinkSocket(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
    writev(_chunks, callback) {
      callback();
    },
  });
}

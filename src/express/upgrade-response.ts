import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { Writable } from 'node:stream';
import { isFieldValue } from '../handshake/responses';

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

/** The headers middleware set on `res`, fit for the 101, without writing `res` anywhere. */
export function currentHeadersFor101(res: ServerResponse): Record<string, string | string[]> {
  const names = (res as ServerResponse & { getRawHeaderNames?(): string[] }).getRawHeaderNames?.() ?? res.getHeaderNames();
  return fitFor101(names.map((name): [string, OutgoingHttpHeaders[string]] => [name, res.getHeader(name)]));
}

function hasOwn(target: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(target, key);
}

/** Run the on-headers hooks and return the headers fit for the 101; call before accepting. */
export function headersFor101(res: ServerResponse): Record<string, string | string[]> {
  if (!res.headersSent) {
    res.statusCode = 101;
    res.assignSocket(sinkSocket() as never);
    res.writeHead(101);
  }
  // Raw names keep the case middleware used (`Set-Cookie`, not `set-cookie`).
  const names = (res as ServerResponse & { getRawHeaderNames?(): string[] }).getRawHeaderNames?.() ?? res.getHeaderNames();
  return fitFor101(names.map((name): [string, OutgoingHttpHeaders[string]] => [name, res.getHeader(name)]));
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

export function fitFor101(headers: Iterable<[string, OutgoingHttpHeaders[string]]>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    if (value === undefined || NOT_IN_101.has(lower) || lower.startsWith('content-') || lower.startsWith('sec-websocket-')) continue;
    const values = (Array.isArray(value) ? value : [value]).map(String).filter(isFieldValue); // what buildAcceptResponse writes (no obs-text): skip the rest
    if (values.length > 0) out[name] = values.length === 1 ? values[0] : values;
  }
  return out;
}

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

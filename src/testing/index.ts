/**
 * `attach-ws/testing`: test WebSocket routes the way supertest tests HTTP
 * routes. The chain's method names are superwstest's, so its tests port over;
 * on top: an in-memory mode for Express apps, raw frames, ping/pong, and
 * failure messages that say what arrived instead. No test framework globals:
 * it works with Jest, Vitest and node:test alike.
 *
 * @example
 * import { request } from 'attach-ws/testing';
 *
 * await request(app)                  // in memory: no port
 *   .ws('/chat/tea')
 *   .set('Cookie', 'nick=ann')
 *   .expectJson((msg) => msg.type === 'welcome')
 *   .sendJson({ type: 'say', text: 'hi' })
 *   .expectText(/hi/)
 *   .close(1000)
 *   .expectClosed(1000);
 */
import { captureSite } from './errors';
import { isRequestTarget, type RequestTarget } from './target';
import { WsChain } from './ws-chain';

export { WsChain } from './ws-chain';
export type {
  BinaryExpectation,
  ExpectOptions,
  FrameExpectation,
  PayloadExpectation,
  ReceivedMessage,
  TestSocket,
  TextExpectation,
} from './ws-chain';
export { WsTestError } from './errors';
export type { WsTestErrorCode } from './errors';
export type { ReceivedFrame } from './frame-reader';
export type { FrameSpec } from './test-client';
export type { RefusedUpgrade, UpgradeResponse } from './handshake';
export type { ExpressAppTarget, RequestTarget } from './target';

/** Each step waits this long by default (ms): long enough for a loaded CI machine, short enough to fail fast. */
export const DEFAULT_TIMEOUT_MS = 2_000;
/** The test client refuses larger messages and frames by default (bytes). */
export const DEFAULT_MAX_PAYLOAD = 64 * 1024 * 1024;

export interface WsRequestOptions {
  /** How long each step waits, in ms, unless the step says otherwise. Default 2000. */
  timeout?: number;
  /** Largest message or frame the test client accepts, in bytes. Default 64 MiB. */
  maxPayload?: number;
}

/** What `request(target)` returns: start a chain with `.ws(path)`. */
export interface WsRequest {
  /**
   * Open a WebSocket to `path` (with its query string), offering `protocols`
   * as Sec-WebSocket-Protocol. Nothing happens until the chain is awaited.
   */
  ws(path: string, protocols?: string | readonly string[]): WsChain;
}

/**
 * Start a test of WebSocket routes.
 *
 * - An Express app runs **in memory**: the real upgrade path (the app's
 *   middleware, the handshake, the 101, the codec, the close handshake) over
 *   an in-process connection, no port. It goes through the server
 *   `attachWs(app, server, options)` was given — with its options; if attachWs
 *   was never called for the app, the helper attaches it (default options).
 * - An `http.Server` or `https.Server` is reached over TCP: on its port if it
 *   listens, else on an ephemeral 127.0.0.1 port that is closed again when
 *   the chain (the last one using it) ends.
 * - A URL (`http://host:port`, `ws://…`) is reached over TCP.
 */
export function request(target: RequestTarget, options: WsRequestOptions = {}): WsRequest {
  if (!isRequestTarget(target)) {
    throw new TypeError('request(target): expected an Express app, an http.Server or https.Server, or a URL string');
  }
  const timeout = options.timeout ?? DEFAULT_TIMEOUT_MS;
  const maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
  if (!(Number.isFinite(timeout) && timeout > 0)) throw new RangeError(`request: timeout must be a positive number of ms, got ${timeout}`);
  if (!(Number.isSafeInteger(maxPayload) && maxPayload > 0)) throw new RangeError(`request: invalid maxPayload ${maxPayload}`);
  return {
    ws: function ws(path, protocols = []) {
      if (typeof path !== 'string' || !path.startsWith('/')) throw new TypeError(`ws(path): a path starting with "/", got ${String(path)}`);
      const list = typeof protocols === 'string' ? [protocols] : [...protocols];
      return new WsChain(target, path, list, { timeout, maxPayload }, captureSite(ws));
    },
  };
}

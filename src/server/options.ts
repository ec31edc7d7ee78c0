import type { IncomingMessage } from 'node:http';
import { resolveDeflateOptions } from '../codec/deflate-options';
import type { PerMessageDeflateOptions } from '../codec/permessage-deflate';
import type { OriginCheck } from '../handshake';
import type { PubSubAdapter } from '../pubsub/adapter';
import { defaultSocketOptions, type BackpressurePolicy, type SocketOptions } from '../socket/options';

/** Options for `attachWs(app, server, options)`. Every size and time has a safe default. */
export interface AttachWsOptions {
  /** Largest message accepted, in bytes after inflation; bigger → close 1009. Default 16 MiB. */
  maxPayload?: number;
  /** permessage-deflate (RFC 7692): `true` for defaults, or parameters. Default off. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Subprotocols in server preference order. */
  protocols?: readonly string[];
  /** Choose a subprotocol yourself; an answer the client did not offer is ignored. */
  handleProtocols?: (offered: readonly string[], req: IncomingMessage) => string | false | undefined;
  /**
   * Which browser pages may open a WebSocket; others get 403. Default: the
   * server's own origin only (requests without `Origin` pass). A list of
   * origins (exact, case-insensitive; refuses requests without `Origin`), a
   * predicate, or `'*'` for any.
   */
  origins?: OriginCheck;
  /** Ping idle peers every `intervalMs`, drop those silent for another interval. Default 30 s; `false` to disable. */
  heartbeat?: { intervalMs: number } | false;
  /** Time for middleware to accept or reject an upgrade before it is answered 408. Default 10 s. */
  handshakeTimeoutMs?: number;
  /** Time a closing handshake may take before the TCP connection is dropped. Default 10 s. */
  closeTimeoutMs?: number;
  /** `wss.close()` terminates connections still open after this long. Default 5 s. */
  shutdownTimeoutMs?: number;
  /** `send()` returns false above this many buffered bytes. Default 64 KiB. */
  highWaterMark?: number;
  /** Bytes held for an async handler that has not listened yet before reading pauses. Default 1 MiB. */
  maxHeldBytes?: number;
  /** Split outgoing messages into frames of at most this many bytes. Default: never. */
  fragmentSize?: number;
  /** Topic subscribers buffering more than `limit` bytes are skipped (counted) or closed with 1008. Default 4 MiB, skip. */
  backpressure?: { limit?: number; policy?: BackpressurePolicy };
  /** Carries topics to other processes, e.g. `redisAdapter({ url })` from 'attach-ws/redis'. */
  adapter?: PubSubAdapter;
}

/** Options one `app.ws` route may override. */
export interface RouteOptions {
  maxPayload?: number;
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  protocols?: readonly string[];
  handleProtocols?: AttachWsOptions['handleProtocols'];
}

/** The handshake-time settings of a server or a route. */
export interface HandshakeSettings {
  readonly perMessageDeflate: PerMessageDeflateOptions | null;
  readonly protocols: readonly string[] | undefined;
  readonly handleProtocols: AttachWsOptions['handleProtocols'];
  readonly socket: SocketOptions;
}

export function resolveSettings(options: AttachWsOptions): HandshakeSettings {
  return {
    perMessageDeflate: resolveDeflate(options.perMessageDeflate),
    protocols: options.protocols,
    handleProtocols: options.handleProtocols,
    socket: {
      maxPayload: positive(options.maxPayload, 'maxPayload') ?? defaultSocketOptions.maxPayload,
      highWaterMark: positive(options.highWaterMark, 'highWaterMark') ?? defaultSocketOptions.highWaterMark,
      closeTimeoutMs: positive(options.closeTimeoutMs, 'closeTimeoutMs') ?? defaultSocketOptions.closeTimeoutMs,
      maxHeldBytes: positive(options.maxHeldBytes, 'maxHeldBytes') ?? defaultSocketOptions.maxHeldBytes,
      fragmentSize: positive(options.fragmentSize, 'fragmentSize') ?? defaultSocketOptions.fragmentSize,
      maxBackpressure: positive(options.backpressure?.limit, 'backpressure.limit') ?? defaultSocketOptions.maxBackpressure,
      backpressurePolicy: options.backpressure?.policy ?? defaultSocketOptions.backpressurePolicy,
    },
  };
}

/** A route's settings: the server's, with the route's overrides. */
export function resolveRouteSettings(base: HandshakeSettings, route: RouteOptions | undefined): HandshakeSettings {
  if (route === undefined) return base;
  return {
    perMessageDeflate: route.perMessageDeflate === undefined ? base.perMessageDeflate : resolveDeflate(route.perMessageDeflate),
    protocols: route.protocols ?? base.protocols,
    handleProtocols: route.handleProtocols ?? base.handleProtocols,
    socket: {
      ...base.socket,
      maxPayload: positive(route.maxPayload, 'maxPayload') ?? base.socket.maxPayload,
    },
  };
}

function resolveDeflate(option: boolean | PerMessageDeflateOptions | undefined): PerMessageDeflateOptions | null {
  if (option === undefined || option === false) return null;
  const options = option === true ? {} : option;
  resolveDeflateOptions(options); // throws a RangeError now, not on every upgrade
  return options;
}

function positive(value: number | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`attach-ws: ${name} must be a non-negative number`);
  return value;
}

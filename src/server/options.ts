import type { IncomingMessage } from 'node:http';
import { resolveDeflateOptions } from '../codec/deflate-options';
import type { PerMessageDeflateOptions } from '../codec/permessage-deflate';
import type { OriginCheck } from '../handshake';
import type { PubSubAdapter } from '../pubsub/adapter';
import type { DeliveryBudgetOptions } from '../pubsub/delivery-budget';
import { defaultSocketOptions, type BackpressurePolicy, type SocketOptions } from '../socket/options';
import { validateAttachWsOptions } from './validate-options';

/** Options for `attachWs(app, server, options)`. Every size and time has a safe default. */
export interface AttachWsOptions {
  /** Largest message accepted, in bytes after inflation; bigger → close 1009. Default 16 MiB. At least 1: there is no "unlimited". */
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
  /** `send()` past this many buffered bytes (a peer that does not read) closes with 1008. Default 16 MiB. */
  maxBufferedAmount?: number;
  /** Most frames in one incoming message; more → 1009. Default 131,072. */
  maxFragments?: number;
  /** Most messages held for an async handler or queued for `for await` before reading pauses. Default 1,024. */
  maxHeldMessages?: number;
  /** Close (1000) connections that send no message for this long. Default 0 (off). */
  idleTimeoutMs?: number;
  /** Topic subscribers buffering more than `limit` bytes are skipped (counted) or closed with 1008. Default 4 MiB, skip. */
  backpressure?: { limit?: number; policy?: BackpressurePolicy };
  /**
   * Open connections this server holds at most; upgrades beyond it are answered
   * 503 with `Retry-After` (counted in `stats().upgrades.overCapacity`).
   * Default 50,000; `Infinity` for no limit.
   */
  maxConnections?: number;
  /**
   * Upgrades this server lets wait for middleware at once (each holds its
   * request, response and socket until middleware decides or
   * `handshakeTimeoutMs` passes); upgrades beyond it are answered 503 with
   * `Retry-After` before any middleware runs (counted in
   * `stats().upgrades.tooManyPending`). Default 5,000; `Infinity` for no limit.
   */
  maxPendingUpgrades?: number;
  /** Carries topics to other processes, e.g. `redisAdapter({ url })` from 'attach-ws/redis'. */
  adapter?: PubSubAdapter;
  /**
   * Topic fan-out bytes this server may hold in user space (across all
   * sockets) before it stops reading from the connections that publish;
   * they resume at `resumeAt` (default half). One topic may hold
   * `topicLimit` (default half the limit) before the connections publishing
   * to it, only those, are paused. Messages from other nodes that do not fit
   * are dropped and counted. Default: 1/64 of the V8 heap limit, within
   * 8–64 MiB.
   */
  deliveryBudget?: DeliveryBudgetOptions;
}

/** The delivery budget option (already checked by validate-options: limit ≥ 1, times in range). */
export function resolveDeliveryBudget(option: DeliveryBudgetOptions | undefined): DeliveryBudgetOptions {
  return { limit: option?.limit, resumeAt: option?.resumeAt, topicLimit: option?.topicLimit, stallTimeoutMs: option?.stallTimeoutMs };
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

/** Validate `options` (TypeError/RangeError, code WS_ERR_INVALID_OPTION) and resolve the defaults. */
export function resolveSettings(options: AttachWsOptions): HandshakeSettings {
  validateAttachWsOptions(options);
  return {
    perMessageDeflate: resolveDeflate(options.perMessageDeflate),
    protocols: options.protocols,
    handleProtocols: options.handleProtocols,
    socket: {
      maxPayload: options.maxPayload ?? defaultSocketOptions.maxPayload,
      highWaterMark: options.highWaterMark ?? defaultSocketOptions.highWaterMark,
      closeTimeoutMs: options.closeTimeoutMs ?? defaultSocketOptions.closeTimeoutMs,
      maxHeldBytes: options.maxHeldBytes ?? defaultSocketOptions.maxHeldBytes,
      fragmentSize: options.fragmentSize ?? defaultSocketOptions.fragmentSize,
      maxBackpressure: options.backpressure?.limit ?? defaultSocketOptions.maxBackpressure,
      backpressurePolicy: options.backpressure?.policy ?? defaultSocketOptions.backpressurePolicy,
      maxBufferedAmount: options.maxBufferedAmount ?? defaultSocketOptions.maxBufferedAmount,
      maxFragments: options.maxFragments ?? defaultSocketOptions.maxFragments,
      maxHeldMessages: options.maxHeldMessages ?? defaultSocketOptions.maxHeldMessages,
      idleTimeoutMs: options.idleTimeoutMs ?? defaultSocketOptions.idleTimeoutMs,
    },
  };
}

/** A route's settings: the server's, with the route's overrides. */
export function resolveRouteSettings(base: HandshakeSettings, route: RouteOptions | undefined): HandshakeSettings {
  if (route === undefined) return base; // checked when the route was registered (validateRouteOptions)
  return {
    perMessageDeflate: route.perMessageDeflate === undefined ? base.perMessageDeflate : resolveDeflate(route.perMessageDeflate),
    protocols: route.protocols ?? base.protocols,
    handleProtocols: route.handleProtocols ?? base.handleProtocols,
    socket: {
      ...base.socket,
      maxPayload: route.maxPayload ?? base.socket.maxPayload,
    },
  };
}

function resolveDeflate(option: boolean | PerMessageDeflateOptions | undefined): PerMessageDeflateOptions | null {
  if (option === undefined || option === false) return null;
  const given = option === true ? {} : option;
  // Server context takeover is opt-in: with it, every connection that is sent
  // one compressed message keeps its own deflate stream (~330 KiB of zlib
  // state at the default window and memLevel) for as long as it stays open.
  // Without it (RFC 7692 §7.1.1.1, which a server MAY answer unasked) a
  // message is compressed with a process-wide stream, reset after each, and a
  // broadcast is compressed once for all subscribers.
  const options: PerMessageDeflateOptions = { ...given, serverNoContextTakeover: given.serverNoContextTakeover ?? true };
  resolveDeflateOptions(options); // throws a RangeError now, not on every upgrade
  return options;
}

/** Default `maxConnections`: see the README options table for why this number. */
export const DEFAULT_MAX_CONNECTIONS = 50_000;

/** Default `maxPendingUpgrades`: see the README options table for why this number. */
export const DEFAULT_MAX_PENDING_UPGRADES = 5_000;

/** `maxConnections`: a non-negative integer, or Infinity for no limit. */
export function resolveMaxConnections(value: number | undefined): number {
  if (value === undefined) return DEFAULT_MAX_CONNECTIONS;
  if (value !== Infinity && !(Number.isInteger(value) && value >= 0)) {
    throw new RangeError('attach-ws: maxConnections must be a non-negative integer or Infinity');
  }
  return value;
}



/** `maxPendingUpgrades`: a positive integer (checked by validate-options), or Infinity for no limit. */
export function resolveMaxPendingUpgrades(value: number | undefined): number {
  return value ?? DEFAULT_MAX_PENDING_UPGRADES;
}

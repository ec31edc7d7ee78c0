import diagnostics from 'node:diagnostics_channel';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import { encodeClosePayload } from '../codec/close';
import { asHandlerError, handshakeError, isHandshakeError, type HandshakeError } from '../errors';
import { checkOrigin, requestHost, validateHandshake, type OriginCheck } from '../handshake';
import { overloadChannel, type DeliveryStats } from '../pubsub/delivery-budget';
import { TopicHub, type PublishOptions, type TopicStats } from '../pubsub/topic-hub';
import { kHeartbeat } from '../socket/symbols';
import type { SendData, SocketHost, WebSocket } from '../socket/websocket';
import { resolveDeliveryBudget, resolveMaxConnections, resolveMaxPendingUpgrades, resolveSettings, type AttachWsOptions, type HandshakeSettings } from './options';
import { DeadlineQueue } from './deadline-queue';
import { afterEarlierResponses, ArrivalDeadline, responseInFlight } from './earlier-responses';
import { asError, guardSocket, handshakeTimedOut, PendingUpgrade, writeRejection } from './pending-upgrade';

/** @internal How upgrade requests find their handler (the Express layer implements it). */
export interface UpgradeRouter {
  /** Cheap pre-check, no middleware run: could an `app.ws` route take this request? */
  matches(req: IncomingMessage): boolean;
  /** Run the request through the app; it ends in `pending.accept(...)` or an HTTP response. */
  dispatch(req: IncomingMessage, pending: PendingUpgrade, server: WsServer): void;
  /**
   * Whether the request's connection comes from a proxy the app trusts (so its
   * `X-Forwarded-Host` names the host the client addressed). Default: no.
   */
  trustsProxy?(req: IncomingMessage): boolean;
}

export interface WsServerEvents {
  connection: [ws: WebSocket, req: IncomingMessage];
  /** A handler threw, a listener threw, or the adapter failed. Never crashes the process. */
  error: [err: Error, ws: WebSocket | undefined];
}

/** Connections a limit ended (see the README's limits table). */
export interface LimitStats {
  /** Closed with 1008: `send()` past `maxBufferedAmount` to a peer that does not read. */
  sendBuffer: number;
  /** Closed after `idleTimeoutMs` without a message. */
  idle: number;
  /** Terminated: reading paused and the peer took none of our bytes for a heartbeat interval. */
  unresponsive: number;
}

export interface WsServerStats {
  clients: number;
  /**
   * `overCapacity`: upgrades answered 503 because `maxConnections` were open;
   * `tooManyPending`: answered 503 because `maxPendingUpgrades` were waiting for
   * middleware (both also counted in `rejected`); `pending`: upgrades waiting
   * for middleware now.
   */
  upgrades: { accepted: number; rejected: number; passedOn: number; overCapacity: number; tooManyPending: number; pending: number };
  topics: TopicStats;
  /** Flow control of topic fan-out: queued bytes against the budget, paused publishers, dropped inbound messages. */
  delivery: DeliveryStats;
  limits: LimitStats;
}

/** diagnostics_channel names: subscribe to observe without touching the code. */
export const channels = {
  connection: diagnostics.channel('attach-ws:connection'),
  close: diagnostics.channel('attach-ws:close'),
  reject: diagnostics.channel('attach-ws:reject'),
  error: diagnostics.channel('attach-ws:error'),
  /** Flow control: a publisher paused / resumed by the delivery budget, a message from another node dropped. */
  overload: overloadChannel,
} as const;


/**
 * The WebSocket side of an HTTP server (what `attachWs` returns): the upgrade
 * listener, the registry of open connections, topics, the shared heartbeat
 * timer and graceful shutdown.
 */
// Not `implements UpgradeHost`: those members are internal (stripped from the
// published types); PendingUpgrade's constructor checks the shape instead.
export class WsServer extends EventEmitter<WsServerEvents> {
  /** Open connections. */
  readonly clients = new Set<WebSocket>();
  /** @internal Server-wide handshake settings; routes may override some. */
  readonly settings: HandshakeSettings;
  /** @internal */
  readonly handshakeTimeoutMs: number;
  /** @internal */
  readonly handshakeDeadlines: DeadlineQueue<PendingUpgrade>;
  /** @internal Upgrades waiting for middleware (made, not decided): PendingUpgrade keeps the count. */
  pendingUpgrades = 0;

  readonly #http: HttpServer;
  readonly #router: UpgradeRouter;
  readonly #origins: OriginCheck | undefined;
  readonly #hub: TopicHub;
  readonly #socketHost: SocketHost;
  readonly #heartbeatMs: number;
  readonly #shutdownTimeoutMs: number;
  readonly #maxConnections: number;
  readonly #maxPendingUpgrades: number;
  #heartbeat: NodeJS.Timeout | null = null;
  #closing: Promise<void> | null = null;
  readonly #limits: LimitStats = { sendBuffer: 0, idle: 0, unresponsive: 0 };
  #accepted = 0;
  #rejected = 0;
  #passedOn = 0;
  #overCapacity = 0;
  #tooManyPending = 0;

  /** @internal Made by `attachWs`. */
  constructor(http: HttpServer, router: UpgradeRouter, options: AttachWsOptions = {}) {
    super();
    this.#http = http;
    this.#router = router;
    this.settings = resolveSettings(options);
    this.handshakeTimeoutMs = options.handshakeTimeoutMs ?? 10_000;
    this.handshakeDeadlines = new DeadlineQueue(this.handshakeTimeoutMs, handshakeTimedOut);
    this.#shutdownTimeoutMs = options.shutdownTimeoutMs ?? 5_000;
    this.#maxConnections = resolveMaxConnections(options.maxConnections);
    this.#maxPendingUpgrades = resolveMaxPendingUpgrades(options.maxPendingUpgrades);
    this.#heartbeatMs = options.heartbeat === false ? 0 : (options.heartbeat?.intervalMs ?? 30_000);
    this.#origins = options.origins;
    this.#hub = new TopicHub(options.adapter ?? null, (err) => this.reportError(err, undefined), {
      maxPayload: this.settings.socket.maxPayload,
      deliveryBudget: resolveDeliveryBudget(options.deliveryBudget),
    });
    const server = this;
    this.#socketHost = {
      topics: this.#hub,
      connectionClosed: (ws) => server.#connectionClosed(ws),
      reportError: (err, ws) => server.reportError(err, ws),
      limitReached: (kind) => {
        server.#limits[kind]++;
      },
    };
    http.on('upgrade', this.#onUpgrade);
  }

  /** True once `close()` was called: new upgrades get 503. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /**
   * Send to every subscriber of `topic` (on every node, with an adapter). The
   * frame is encoded once. Returns how many local subscribers got it.
   */
  publish(topic: string, data: SendData, options?: PublishOptions): number {
    return this.#hub.publish(topic, data, options);
  }

  /** Local subscribers of `topic`. */
  subscriberCount(topic: string): number {
    return this.#hub.subscriberCount(topic);
  }

  stats(): WsServerStats {
    return {
      clients: this.clients.size,
      upgrades: {
        accepted: this.#accepted,
        rejected: this.#rejected,
        passedOn: this.#passedOn,
        overCapacity: this.#overCapacity,
        tooManyPending: this.#tooManyPending,
        pending: this.pendingUpgrades,
      },
      topics: this.#hub.stats(),
      delivery: this.#hub.deliveryStats(),
      limits: { ...this.#limits },
    };
  }

  /**
   * Graceful shutdown: new upgrades get 503, every client gets a close frame
   * (`code`, default 1001 Going Away), and the promise resolves once all are
   * closed — or after `shutdownTimeoutMs`, when the rest are terminated.
   *
   * @throws TypeError for a code that may not be sent (RFC 6455 §7.4: 1004–1006,
   *   1015, outside 1000–4999), RangeError for a reason over 123 bytes; the
   *   server is then left exactly as it was.
   */
  close(code = 1001, reason = ''): Promise<void> {
    // Checked before anything changes: a code or reason no client may be sent
    // throws here, at once, instead of leaving the server half-closed (503 to
    // every upgrade, its clients never told).
    encodeClosePayload(code, reason);
    this.#closing ??= this.#shutdown(code, reason);
    return this.#closing;
  }

  // ---- UpgradeHost -----------------------------------------------------------

  /** @internal */
  createSocketHost(): SocketHost {
    return this.#socketHost;
  }

  /** @internal */
  connectionOpened(ws: WebSocket, req: IncomingMessage): void {
    this.#accepted++;
    this.clients.add(ws);
    if (this.#heartbeatMs > 0 && this.#heartbeat === null) {
      this.#heartbeat = setInterval(heartbeatTick, this.#heartbeatMs, this.clients);
      this.#heartbeat.unref();
    }
    if (channels.connection.hasSubscribers) channels.connection.publish({ ws, req });
    if (this.listenerCount('connection') > 0) {
      try {
        this.emit('connection', ws, req);
      } catch (err) {
        this.reportError(asHandlerError(err), ws);
      }
    }
  }

  /**
   * @internal With `maxConnections` open, answer 503 + Retry-After, count it
   * and return true. Checked when an upgrade arrives (no middleware runs for
   * it) and again right before the 101, since upgrades that were in
   * middleware together may all have passed the first check.
   */
  refuseIfFull(req: IncomingMessage, socket: Duplex): boolean {
    if (this.clients.size < this.#maxConnections) return false;
    this.#overCapacity++;
    this.#reject(req, socket, handshakeError('WS_HANDSHAKE_OVER_CAPACITY'));
    return true;
  }

  /** @internal An upgrade was refused: count it, and tell `attach-ws:reject` subscribers why. */
  upgradeRejected(req: IncomingMessage, err: HandshakeError): void {
    this.#rejected++;
    if (channels.reject.hasSubscribers) {
      channels.reject.publish({ req, status: err.status, reason: err.message, code: err.code, error: err });
    }
  }

  /** @internal Errors from handlers, listeners and the adapter: reported, never thrown. */
  reportError(err: Error, ws: WebSocket | undefined): void {
    if (channels.error.hasSubscribers) channels.error.publish({ error: err, ws });
    if (this.listenerCount('error') > 0) this.emit('error', err, ws);
    else process.emitWarning(`attach-ws: unhandled error (add wss.on('error')): ${err.stack ?? err.message}`);
  }

  // ---- internals ---------------------------------------------------------------

  #connectionClosed(ws: WebSocket): void {
    this.clients.delete(ws);
    if (this.clients.size === 0 && this.#heartbeat !== null) {
      clearInterval(this.#heartbeat);
      this.#heartbeat = null;
    }
    if (channels.close.hasSubscribers) channels.close.publish({ ws });
  }

  /**
   * The `upgrade` listener. Nothing thrown in here may reach `process`: every
   * failure becomes an HTTP answer on that socket (or, once a response has
   * begun, the end of the socket) and an 'error' event.
   */
  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    let routed: boolean;
    let matchError: { thrown: unknown } | undefined;
    try {
      routed = this.#router.matches(req);
    } catch (thrown) {
      routed = true; // ours to answer, with a 500
      matchError = { thrown };
    }
    // Another upgrade listener (hot reload, socket.io, …) owns what we don't route.
    if (!routed && this.#http.listenerCount('upgrade') > 1) {
      this.#passedOn++;
      return;
    }
    // No 'error' guard yet: nothing can emit on the socket while this runs synchronously. Every
    // way out that leaves the socket waiting (an earlier response, async middleware, a
    // rejection being written) guards it; an accepted one gets the WebSocket's own listener.
    if (responseInFlight(socket) !== null) {
      this.#answerAfterEarlierResponses(req, socket, head, routed, matchError);
    } else if (matchError === undefined) {
      this.#answerUpgrade(req, socket, head, routed, undefined);
    } else {
      this.#failBeforePending(req, socket, matchError.thrown);
    }
  };

  /**
   * A pipelined upgrade behind a response still being written (RFC 7230
   * §6.3.2: answers go out in request order) waits for it. One deadline, armed
   * now, bounds the wait and the middleware after it together.
   */
  #answerAfterEarlierResponses(req: IncomingMessage, socket: Duplex, head: Buffer, routed: boolean, matchError: { thrown: unknown } | undefined): void {
    guardSocket(socket);
    const deadline = new ArrivalDeadline(this.handshakeTimeoutMs, noop);
    afterEarlierResponses(
      socket,
      deadline,
      () => {
        if (matchError === undefined) {
          this.#answerUpgrade(req, socket, head, routed, deadline);
        } else {
          deadline.cancel();
          this.#failBeforePending(req, socket, matchError.thrown);
        }
      },
      (reason) => {
        // Writing now would interleave with the unfinished earlier response: drop the connection.
        this.upgradeRejected(
          req,
          handshakeError('WS_HANDSHAKE_TIMEOUT', `earlier response on the connection ${reason === 'timeout' ? 'never finished' : 'was cut'}`),
        );
        socket.destroy();
      },
    );
  }

  /** Answer an upgrade whose connection carries no earlier response any more. Never throws. */
  #answerUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, routed: boolean, deadline: ArrivalDeadline | undefined): void {
    let pending: PendingUpgrade | undefined;
    try {
      if (!routed) {
        this.#reject(req, socket, handshakeError('WS_HANDSHAKE_NO_ROUTE'));
        return;
      }
      if (this.closing) {
        this.#reject(req, socket, handshakeError('WS_HANDSHAKE_SHUTTING_DOWN'));
        return;
      }
      if (this.refuseIfFull(req, socket)) return;
      const handshake = validateHandshake(req);
      this.#checkOrigin(handshake.origin, req);
      if (this.pendingUpgrades >= this.#maxPendingUpgrades) {
        // No middleware runs for it: a burst of upgrades that middleware never decides
        // would otherwise each hold a request, a response and a socket until the timeout.
        this.#tooManyPending++;
        this.#reject(req, socket, handshakeError('WS_HANDSHAKE_TOO_MANY_PENDING'));
        return;
      }
      pending = new PendingUpgrade(this, req, socket, head, handshake, deadline);
      this.#router.dispatch(req, pending, this);
      pending.awaitDecision();
    } catch (err) {
      if (pending !== undefined) pending.fail(err);
      else this.#failBeforePending(req, socket, err);
    } finally {
      // The deadline went to the pending upgrade, or there is none to bound.
      if (pending === undefined) deadline?.cancel();
    }
  }

  /** The origin check; a predicate that throws refuses the upgrade (403) and its error is reported. */
  #checkOrigin(origin: string | undefined, req: IncomingMessage): void {
    try {
      // Only the default same-origin check needs the host, and only for browser requests.
      const host = this.#origins === undefined && origin !== undefined ? requestHost(req, this.#trustsProxy(req)) : undefined;
      checkOrigin(origin, this.#origins, req, host);
    } catch (err) {
      if (isHandshakeError(err)) throw err;
      this.reportError(asError(err), undefined);
      throw handshakeError('WS_HANDSHAKE_ORIGIN_FORBIDDEN');
    }
  }

  #trustsProxy(req: IncomingMessage): boolean {
    return this.#router.trustsProxy?.(req) === true;
  }

  /** A refusal (HandshakeError) or a failure (anything else: 500, reported) before middleware got the request. */
  #failBeforePending(req: IncomingMessage, socket: Duplex, err: unknown): void {
    if (isHandshakeError(err)) {
      this.#reject(req, socket, err);
      return;
    }
    this.reportError(asError(err), undefined);
    this.#reject(req, socket, handshakeError('WS_HANDSHAKE_INTERNAL'));
  }

  #reject(req: IncomingMessage, socket: Duplex, err: HandshakeError): void {
    this.upgradeRejected(req, err);
    writeRejection(socket, err.status, err.message, err.headers);
  }

  async #shutdown(code: number, reason: string): Promise<void> {
    const closed = [...this.clients].map(
      (ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())),
    );
    for (const ws of this.clients) ws.close(code, reason);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(resolve, this.#shutdownTimeoutMs, 'timeout');
    });
    const outcome = await Promise.race([Promise.all(closed), deadline]);
    clearTimeout(timer);
    if (outcome === 'timeout') {
      for (const ws of this.clients) ws.terminate();
      await Promise.all(closed);
    }
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat);
    this.#heartbeat = null;
    await this.#hub.close();
  }
}


function noop(): void {}

function heartbeatTick(clients: Set<WebSocket>): void {
  for (const ws of clients) ws[kHeartbeat]();
}

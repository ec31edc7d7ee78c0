import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { types } from 'node:util';
import { negotiatePerMessageDeflate, PerMessageDeflate } from '../codec/permessage-deflate';
import { asHandlerError, AttachWsError, handshakeError, HandshakeError, isHandshakeError, middlewareRejection, usageErrors } from '../errors';
import { buildAcceptResponse, buildRejectResponse, selectProtocol, type ValidatedHandshake } from '../handshake';
import { corkForTurn } from '../socket/write-batcher';
import { kHandlerSettled, kHandlerStarted } from '../socket/symbols';
import { kPendingUpgrade } from '../symbols';
import { WebSocket } from '../socket/websocket';
import type { DeadlineQueue } from './deadline-queue';
import type { ArrivalDeadline } from './earlier-responses';
import type { HandshakeSettings } from './options';

/** What an `app.ws` handler looks like to the server: it gets the connection and the request. */
export type ConnectionHandler<Req extends IncomingMessage = IncomingMessage> = (ws: WebSocket, req: Req) => unknown;

/** What a pending upgrade needs from its server. */
export interface UpgradeHost {
  readonly closing: boolean;
  readonly handshakeTimeoutMs: number;
  /** The server's handshake deadlines (one timer for all its pending upgrades). */
  readonly handshakeDeadlines: DeadlineQueue<PendingUpgrade>;
  /** Upgrades waiting for middleware: each PendingUpgrade adds itself and leaves when decided. */
  pendingUpgrades: number;
  connectionOpened(ws: WebSocket, req: IncomingMessage): void;
  createSocketHost(): ConstructorParameters<typeof WebSocket>[2];
  upgradeRejected(req: IncomingMessage, err: HandshakeError): void;
  reportError(err: Error, ws: WebSocket | undefined): void;
  /** Answers 503 and returns true when the server already holds `maxConnections`. */
  refuseIfFull(req: IncomingMessage, socket: Duplex): boolean;
}

/**
 * The HTTP response middleware writes to while the upgrade is pending (the
 * Express layer's `res`, written to the raw socket). Structural: the server
 * layer only asks whether it has begun and takes the socket back from it.
 */
export interface MiddlewareResponse {
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  /** The socket it writes to; null once detached. */
  readonly socket: unknown;
  detachSocket(socket: never): void;
}

/**
 * An upgrade request that passed the handshake checks and is now running
 * through the app's middleware. It ends exactly once: accepted by an
 * `app.ws` handler (101), rejected with an HTTP response, or abandoned
 * because the client went away or the handshake timeout passed (408).
 */
export class PendingUpgrade {
  #settled = false;
  /** Whether the deadline and the socket's 'close' listener are set (see awaitDecision). */
  #waiting = false;
  #response: MiddlewareResponse | null = null;
  readonly #deadline: ArrivalDeadline | undefined;

  /** `deadline`: the one armed when a pipelined upgrade arrived (it waited); else the server's queue times this out. */
  constructor(
    private readonly host: UpgradeHost,
    readonly req: IncomingMessage,
    readonly socket: Duplex,
    private readonly head: Buffer,
    readonly handshake: ValidatedHandshake,
    deadline?: ArrivalDeadline,
  ) {
    host.pendingUpgrades++;
    if (deadline !== undefined) {
      this.#deadline = deadline;
      deadline.onExpiry(() => this.timedOut());
    }
  }

  /**
   * Called once the request's synchronous run through the app has returned
   * with the upgrade still undecided (middleware went async): start the
   * handshake deadline and watch the socket for the client going away.
   * Nothing can time out or close while that run is on the stack, so an
   * upgrade decided synchronously — the common case — never touches the
   * deadline queue or the socket's listeners.
   */
  awaitDecision(): void {
    if (this.#settled || this.#waiting) return;
    this.#waiting = true;
    guardSocket(this.socket);
    // No Timeout object per upgrade: the server's queue times it out (408).
    if (this.#deadline === undefined) this.host.handshakeDeadlines.add(this);
    // Module-level listener (not `once`, which wraps it in a closure), removed
    // on settle: nothing of the upgrade (req, res, this) stays reachable from
    // a long-lived connection's socket.
    (this.socket as PendingSocket)[kPendingUpgrade] = this;
    this.socket.on('close', socketClosedWhilePending);
  }

  /** Still waiting for middleware to decide. */
  get pending(): boolean {
    return !this.#settled;
  }

  /**
   * The response middleware writes to the socket through while deciding. An
   * upgrade whose response has begun can no longer become a 101, and its
   * socket is taken back from that response before attach-ws writes on it.
   */
  useResponse(res: MiddlewareResponse): void {
    this.#response = res;
  }

  /**
   * Middleware has begun (or finished) an HTTP answer of its own on this
   * connection: it stands. A response taken off the socket (finished on a
   * sink once the upgrade was accepted) answers nothing here.
   */
  get answeredByMiddleware(): boolean {
    const res = this.#response;
    return res !== null && res.socket === this.socket && (res.headersSent || res.writableEnded);
  }

  /**
   * Complete the handshake (RFC 6455 §4.2.2) with a route's settings and hand
   * the connection to `handler`. Errors thrown by the handler (or its promise)
   * close the connection with 1011 and reach the server's 'error' event.
   * `extraHeaderLines` is called once the upgrade is decided and before the 101 is
   * written: the lines it returns (what middleware set on `res`, fit for a 101 and
   * checked: `Name: value\r\n` each) go out with it.
   * Nothing thrown in here escapes: a failure before the 101 is answered 500.
   */
  accept(
    settings: HandshakeSettings,
    handler: ConnectionHandler,
    extraHeaderLines?: () => string,
  ): void {
    if (this.answeredByMiddleware) {
      // A middleware answered and then called next() anyway: its answer
      // stands (the socket closes once it is out), the handler never runs.
      // Reported: on a GET the same mistake makes Express throw ERR_HTTP_HEADERS_SENT.
      this.host.reportError(new AttachWsError('WS_ERR_UPGRADE_ALREADY_ANSWERED', usageErrors.WS_ERR_UPGRADE_ALREADY_ANSWERED), undefined);
      return;
    }
    if (!this.#settle(false)) return;
    if (this.host.closing) {
      this.#writeReject(handshakeError('WS_HANDSHAKE_SHUTTING_DOWN'));
      return;
    }
    if (this.host.refuseIfFull(this.req, this.socket)) return;
    const { req, socket, handshake } = this;
    let protocol: string | undefined;
    let deflate: PerMessageDeflate | null = null;
    let extensions = '';
    let response: string;
    let headerLines: string | undefined;
    try {
      if (handshake.protocols.length > 0) {
        const choose = settings.handleProtocols;
        protocol = selectProtocol(
          handshake.protocols,
          { protocols: settings.protocols, handleProtocols: choose && ((offered) => choose(offered, req)) },
          req,
        );
      }
      if (settings.perMessageDeflate !== null) {
        const agreed = negotiatePerMessageDeflate(handshake.extensions, settings.perMessageDeflate);
        if (agreed !== null) {
          deflate = new PerMessageDeflate(agreed.params, settings.perMessageDeflate, settings.socket.maxPayload);
          extensions = agreed.response;
        }
      }
      headerLines = extraHeaderLines?.();
      response = buildAcceptResponse({ key: handshake.key, protocol, extensions: extensions || undefined, headerLines });
    } catch (err) {
      deflate?.close();
      this.#fail(err);
      return;
    }
    // The HTTP server's idle timeout must not end a quiet WebSocket; small frames must not wait for Nagle.
    const tcp = socket as Duplex & Partial<Pick<Socket, 'setTimeout' | 'setNoDelay'>>;
    tcp.setTimeout?.(0);
    tcp.setNoDelay?.(true);
    // Corked: what the handler sends right away (a welcome, history) leaves with the 101 in one write.
    corkForTurn(socket);
    socket.write(response);
    // Nothing of the connection refers to the middleware's `res` any more.
    this.#response = null;
    let ws: WebSocket;
    try {
      ws = new WebSocket(socket, this.head, this.host.createSocketHost(), {
        protocol: protocol ?? '',
        extensions,
        deflate,
        options: settings.socket,
      });
    } catch (err) {
      // After the 101 no HTTP answer is possible any more.
      this.host.reportError(asError(err), undefined);
      socket.destroy();
      return;
    }
    // The connection's own error listener took over: one listener, not an array of two, per idle socket.
    socket.off('error', destroyOnError);
    this.host.connectionOpened(ws, req);
    let result: unknown;
    try {
      ws[kHandlerStarted]();
      result = handler(ws, req);
    } catch (err) {
      ws[kHandlerSettled](err);
      return;
    }
    if (isPromiseLike(result)) {
      result.then(
        () => ws[kHandlerSettled](),
        (err: unknown) => ws[kHandlerSettled](asHandlerError(err)),
      );
    } else {
      ws[kHandlerSettled]();
    }
  }

  /**
   * Something threw while this upgrade was being decided (Express internals,
   * the router, a handshake option): a `HandshakeError` is answered with its
   * status, anything else with 500 and reported to the server's 'error' event.
   */
  fail(err: unknown): void {
    if (!this.#settle()) {
      if (!isHandshakeError(err)) this.host.reportError(asError(err), undefined);
      return;
    }
    this.#fail(err);
  }

  #fail(err: unknown): void {
    if (isHandshakeError(err)) {
      this.#writeReject(err);
      return;
    }
    this.host.reportError(asError(err), undefined);
    this.#writeReject(handshakeError('WS_HANDSHAKE_INTERNAL'));
  }

  /** Refuse with a catalogued HTTP error (its status, message as body, headers) and close the socket. */
  reject(error: HandshakeError): void {
    if (!this.#settle()) return;
    this.#writeReject(error);
  }

  /** Middleware answered through `res` itself, which has finished: the socket closes once the response is out. */
  respondedByMiddleware(status: number): void {
    if (!this.#settle()) return;
    this.host.upgradeRejected(this.req, middlewareRejection('WS_HANDSHAKE_MIDDLEWARE_RESPONSE', status));
    endAfterResponse(this.socket);
  }

  /** @internal */
  timedOut(): void {
    if (!this.pending) return;
    if (this.answeredByMiddleware) {
      // Middleware began its own answer and never finished it: a 408 now would
      // be written into the middle of that response. Drop the connection.
      this.#settle();
      this.host.upgradeRejected(this.req, handshakeError('WS_HANDSHAKE_TIMEOUT', 'middleware began a response and did not finish it'));
      this.socket.destroy();
      return;
    }
    this.reject(handshakeError('WS_HANDSHAKE_TIMEOUT'));
  }

  #writeReject(err: HandshakeError): void {
    this.host.upgradeRejected(this.req, err);
    if (this.answeredByMiddleware) {
      // Never write a second answer into (or after) the middleware's own.
      this.socket.destroy();
      return;
    }
    writeRejection(this.socket, err.status, err.message, err.headers);
  }

  /** True the first time: the upgrade is decided now. */
  /** `answered`: answeredByMiddleware, when the caller has just read it (false: it has not begun). */
  #settle(answered?: boolean): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.host.pendingUpgrades--;
    this.#deadline?.cancel();
    if (this.#waiting) {
      if (this.#deadline === undefined) this.host.handshakeDeadlines.delete(this);
      this.socket.off('close', socketClosedWhilePending);
      // Assign, not delete: deleting a property turns the socket into a slow dictionary object.
      (this.socket as PendingSocket)[kPendingUpgrade] = undefined;
    }
    // From now on attach-ws writes on the socket itself: take it back from the
    // middleware's response, so a late res.end() cannot write into the 101.
    const res = this.#response;
    if (res !== null && res.socket === this.socket && !(answered ?? this.answeredByMiddleware)) res.detachSocket(this.socket as never);
    return !this.socket.destroyed;
  }

  /** @internal The client went away while middleware was deciding. */
  abandoned(): void {
    this.#settle();
  }
}

/** Answer an upgrade with a real HTTP response on the raw socket, then close it. */
export function writeRejection(
  socket: Duplex,
  status: number,
  body: string,
  headers: Readonly<Record<string, string>> = {},
): void {
  if (socket.destroyed) return;
  endAfterResponse(socket, buildRejectResponse(status, body, headers));
}

/** End a rejected upgrade's socket once `response` (if any) is written; drop it if the peer never reads. */
export function endAfterResponse(socket: Duplex, response?: string): void {
  guardSocket(socket);
  socket.end(response);
  // A peer that never reads must not keep the socket: end() waits for it otherwise.
  setTimeout(destroySocket, 2_000, socket).unref();
}

/** An upgrade socket's errors (a reset, mostly) destroy it instead of crashing the process. Idempotent. */
export function guardSocket(socket: Duplex): void {
  // Node hands an upgrade's socket over with no 'error' listener: the usual case needs no search (nor listeners()'s copy).
  if (socket.listenerCount('error') === 0 || !socket.listeners('error').includes(destroyOnError)) socket.on('error', destroyOnError);
}

function destroyOnError(this: Duplex): void {
  this.destroy();
}

function destroySocket(socket: Duplex): void {
  socket.destroy();
}

type PendingSocket = Duplex & { [kPendingUpgrade]?: PendingUpgrade };

function socketClosedWhilePending(this: PendingSocket): void {
  this[kPendingUpgrade]?.abandoned();
}

/** The handshake timeout passed (the server's DeadlineQueue calls this). */
export function handshakeTimedOut(pending: PendingUpgrade): void {
  pending.timedOut();
}

/** What was thrown, as an Error (a thrown string or object is wrapped, not lost). */
export function asError(err: unknown): Error {
  // isNativeError: errors from another realm (a vm context, a test runner) are Errors too.
  return err instanceof Error || types.isNativeError(err) ? err : new Error(`non-Error thrown: ${String(err)}`);
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}


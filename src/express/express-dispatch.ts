import { ServerResponse, STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { asHandlerError, handshakeError, middlewareRejection } from '../errors';
import type { PendingUpgrade } from '../server/pending-upgrade';
import type { UpgradeRouter, WsServer } from '../server/ws-server';
import { kWsServer } from '../symbols';
import { kRequestShape, RequestShape } from './request-shape';
import { hasWsRoute, kPendingUpgrade } from './route-table';

/** The slice of an Express app the dispatcher uses. */
export interface ExpressAppLike {
  handle(req: IncomingMessage, res: ServerResponse, done: (err?: unknown) => void): void;
  /** A setting (one argument: Express 4 and 5 read a setting rather than route a GET). */
  get(setting: string): unknown;
  readonly router: { stack: Parameters<typeof hasWsRoute>[0]['stack'] };
}

export type UpgradeRequest = IncomingMessage & { [kPendingUpgrade]?: PendingUpgrade; [kWsServer]?: WsServer; [kRequestShape]?: RequestShape };
export { kWsServer };
/** How many 'finish' listeners `dispatch` puts on the upgrade's `res` (any more are middleware's). */
export const OWN_FINISH_LISTENERS = 1;

/**
 * Runs upgrade requests through the Express app exactly as a GET: the app's
 * middleware and mounted routers see it, with a real `res` written to the raw
 * socket, so a middleware's `res.status(401).end()` is a real 401 and
 * `next(err)` a real error response.
 */
export function expressUpgradeRouter(app: ExpressAppLike): UpgradeRouter {
  const shape = new RequestShape();
  return {
    matches: (req) => hasWsRoute(app.router, req),
    // Express's own rule (req.hostname / req.host on 4 and 5): X-Forwarded-Host counts only when
    // 'trust proxy fn' (compiled from app.set('trust proxy', ...)) trusts the connection's address.
    trustsProxy(req: IncomingMessage): boolean {
      const trust = app.get('trust proxy fn');
      if (typeof trust !== 'function') return false;
      try {
        return Boolean((trust as (address: string | undefined, hop: number) => unknown)(req.socket.remoteAddress, 0));
      } catch {
        return false; // an address proxy-addr cannot read is no trusted proxy
      }
    },
    dispatch(req: UpgradeRequest, pending: PendingUpgrade, server: WsServer): void {
      req[kPendingUpgrade] = pending;
      req[kWsServer] = server;
      req[kRequestShape] = shape;
      const socket = pending.socket as Socket;
      const res = new ServerResponse(req);
      res.shouldKeepAlive = false;
      // The server waited until no earlier response is in flight on this socket, so this cannot throw ERR_HTTP_SOCKET_ASSIGNED.
      res.assignSocket(socket);
      pending.useResponse(res);
      // Middleware answered: that response is the rejection, and the socket closes once it is out.
      (res as UpgradeResponse)[kPendingUpgrade] = pending;
      res.on('finish', upgradeResponseFinished);
      shape.prepare(req, res);
      app.handle(req, res, (err?: unknown) => {
        if (!pending.pending || res.headersSent) return;
        if (err === undefined || err === null || err === 'route' || err === 'router') {
          pending.reject(handshakeError('WS_HANDSHAKE_NO_ROUTE'));
          return;
        }
        const status = statusOf(err);
        if (status >= 500) server.reportError(asHandlerError(err), undefined);
        const body = status < 500 && err instanceof Error ? err.message : (STATUS_CODES[status] ?? 'Error');
        pending.reject(middlewareRejection('WS_HANDSHAKE_MIDDLEWARE_ERROR', status, body));
      });
    },
  };
}

type UpgradeResponse = ServerResponse & { [kPendingUpgrade]?: PendingUpgrade };

/** The upgrade's `res` finished: a middleware's answer (a no-op once the upgrade is decided). Module-level: no closure per upgrade. */
function upgradeResponseFinished(this: UpgradeResponse): void {
  this[kPendingUpgrade]?.respondedByMiddleware(this.statusCode);
}

/** The HTTP status an error asks for (http-errors style), else 500. */
function statusOf(err: unknown): number {
  if (typeof err === 'object' && err !== null) {
    const { status, statusCode } = err as { status?: unknown; statusCode?: unknown };
    const value = typeof status === 'number' ? status : statusCode;
    if (typeof value === 'number' && value >= 400 && value <= 599) return value;
  }
  return 500;
}

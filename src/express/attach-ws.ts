import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Application } from 'express-serve-static-core';
import { resolveRouteSettings, type AttachWsOptions, type HandshakeSettings, type RouteOptions } from '../server/options';
import type { ConnectionHandler } from '../server/pending-upgrade';
import { WsServer } from '../server/ws-server';
import { expressUpgradeRouter, kWsServer, type ExpressAppLike, type UpgradeRequest } from './express-dispatch';
import { kPendingUpgrade, markWsRoute } from './route-table';
import type { WsHandler } from './types';

type Next = (err?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => unknown;
interface RouterWithRoute {
  route(path: unknown): { get(...handlers: Middleware[]): unknown };
}

/**
 * Attach WebSocket support to an Express app served by `server`: adds
 * `app.ws(path, ...middleware, handler)` (and `router.ws` on every
 * `express.Router()`), and answers upgrades on `server`.
 *
 * @example
 * const app = express();
 * const server = http.createServer(app);
 * const wss = attachWs(app, server);
 * app.ws('/echo', (ws) => ws.on('message', (data) => ws.send(data)));
 * server.listen(3000);
 */
export function attachWs(app: Application, server: HttpServer | HttpsServer, options: AttachWsOptions = {}): WsServer {
  installWsMethod(app as unknown as RouterWithRoute & object);
  const expressApp = app as unknown as ExpressAppLike;
  return new WsServer(server as HttpServer, expressUpgradeRouter(expressApp), options);
}

/**
 * Give `app` a `ws` method, and every Router of the same Express copy too:
 * the method is put on the prototype that owns `route`, found from the app's
 * own router, so it works whichever copy of express the app was built with.
 */
function installWsMethod(app: RouterWithRoute & object): void {
  (app as { ws?: unknown }).ws = ws;
  const router = (app as { router?: object }).router;
  let proto: object | null = router ?? null;
  while (proto !== null && !Object.prototype.hasOwnProperty.call(proto, 'route')) proto = Object.getPrototypeOf(proto);
  if (proto !== null) defineWs(proto);
}

function defineWs(target: object): void {
  if (!Object.prototype.hasOwnProperty.call(target, 'ws')) {
    Object.defineProperty(target, 'ws', { value: ws, writable: true, configurable: true });
  }
}

/**
 * Routers are often built in modules imported before `attachWs` runs: give
 * the express copy this package resolves `router.ws` (and apps created from
 * now on `app.ws`) as soon as attach-ws is loaded.
 */
function installOnExpress(): void {
  let express: { Router?: { prototype?: object }; application?: object };
  try {
    express = require('express') as typeof express;
  } catch {
    return; // attachWs(app) still installs on the app's own copy
  }
  if (express.Router?.prototype) defineWs(express.Router.prototype);
  if (express.application) defineWs(express.application);
}

installOnExpress();

function ws(this: RouterWithRoute, path: unknown, ...args: unknown[]): unknown {
  const routeOptions = isRouteOptions(args[0]) ? (args.shift() as RouteOptions) : undefined;
  const handler = args.pop();
  if (typeof handler !== 'function') throw new TypeError('app.ws(path, ...middleware, handler): handler must be a function');
  const middleware = args.flat(Infinity) as Middleware[];
  for (const fn of middleware) {
    if (typeof fn !== 'function') throw new TypeError('app.ws(path, ...middleware, handler): middleware must be functions');
  }
  const route = this.route(path);
  markWsRoute(route);
  route.get(...middleware, upgradeEndpoint(handler as WsHandler as ConnectionHandler, routeOptions));
  return this;
}

/** The last handler of a ws route: the upgrade made it through the middleware. */
function upgradeEndpoint(handler: ConnectionHandler, routeOptions: RouteOptions | undefined): Middleware {
  const settingsByServer = new WeakMap<WsServer, HandshakeSettings>();
  return function completeUpgrade(req: UpgradeRequest, _res: ServerResponse, next: Next) {
    const pending = req[kPendingUpgrade];
    const server = req[kWsServer];
    if (pending === undefined || server === undefined) return next('route');
    let settings = settingsByServer.get(server);
    if (settings === undefined) {
      settings = resolveRouteSettings(server.settings, routeOptions);
      settingsByServer.set(server, settings);
    }
    pending.accept(settings, handler); // takes the socket back from `res`, unless middleware already answered on it
  };
}

function isRouteOptions(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

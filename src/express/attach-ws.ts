import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Application } from 'express-serve-static-core';
import { resolveRouteSettings, type AttachWsOptions, type HandshakeSettings, type RouteOptions } from '../server/options';
import type { ConnectionHandler } from '../server/pending-upgrade';
import { validateRouteOptions } from '../server/validate-options';
import { WsServer } from '../server/ws-server';
import { rememberAttachment } from './attached-servers';
import { expressUpgradeRouter, kWsServer, OWN_FINISH_LISTENERS, type ExpressAppLike, type UpgradeRequest } from './express-dispatch';
import { isApp, layerProtoOf, routerOf, routerProtoOf, watchMounts, type AppLike, type RouterLike } from './express-internals';
import { kPendingUpgrade, markWsRoute } from './route-table';
import type { WsHandler } from './types';
import { kRequestShape } from './request-shape';
import { installUpgradeFilter } from './upgrade-filter';
import { currentHeaderLinesFor101, finishUpgradeResponse, headerLinesFor101, upgradeResponseObserved } from './upgrade-response';

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
  const expressApp = app as unknown as AppLike;
  installWsMethod(expressApp);
  const wss = new WsServer(server as HttpServer, expressUpgradeRouter(upgradeView(expressApp)), options);
  rememberAttachment(app, server, wss); // for attach-ws/testing's request(app)
  return wss;
}

const NO_ROUTES: Pick<RouterLike, 'stack'> = { stack: [] };

/**
 * The app as the dispatcher sees it. The base router is read on each upgrade:
 * Express 4 creates it lazily on the first route (and `app.router` throws there).
 */
function upgradeView(app: AppLike): ExpressAppLike {
  return {
    handle: (req, res, done) => app.handle(req, res, done),
    get: (setting) => app.get(setting),
    get router() {
      const router = routerOf(app);
      if (router === undefined) return NO_ROUTES;
      prepareExpressCopy(router);
      return router;
    },
  };
}

/**
 * Give `app` a `ws` method, and every Router of the same Express copy too
 * (the method goes on the object that owns `route`: Router.prototype on
 * Express 5, the Router function itself on Express 4), so it works whichever
 * copy of express the app was built with.
 */
function installWsMethod(app: AppLike): void {
  (app as AppLike & { ws?: unknown }).ws = ws;
  const router = routerOf(app);
  if (router !== undefined) prepareExpressCopy(router);
}

const prepared = new WeakSet<object>();
/** Routers already seen by prepareExpressCopy: the upgrade path asks for the app's router on every upgrade. */
const preparedRouters = new WeakSet<object>();

/** `router.ws` and the upgrade filter for the Express copy `router` comes from. Cheap after the first call. */
function prepareExpressCopy(router: RouterLike): void {
  if (preparedRouters.has(router)) return;
  preparedRouters.add(router);
  const proto = routerProtoOf(router);
  if (proto === undefined || prepared.has(proto)) return;
  prepared.add(proto);
  defineWs(proto);
  const layerProto = layerProtoOf(router);
  if (layerProto !== undefined) installUpgradeFilter(layerProto);
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
  let express: { Router?: () => RouterLike; application?: object };
  try {
    express = require('express') as typeof express;
  } catch {
    return; // attachWs(app) still installs on the app's own copy
  }
  if (typeof express.Router === 'function') prepareExpressCopy(express.Router());
  if (express.application) defineWs(express.application);
}

installOnExpress();

function ws(this: RouterLike | AppLike, path: unknown, ...args: unknown[]): unknown {
  const routeOptions = isRouteOptions(args[0]) ? (args.shift() as RouteOptions) : undefined;
  if (routeOptions !== undefined) validateRouteOptions(routeOptions); // now, not at the first upgrade
  const handler = args.pop();
  if (typeof handler !== 'function') throw new TypeError('app.ws(path, ...middleware, handler): handler must be a function');
  const middleware = args.flat(Infinity) as Middleware[];
  for (const fn of middleware) {
    if (typeof fn !== 'function') throw new TypeError('app.ws(path, ...middleware, handler): middleware must be functions');
  }
  const route = (this as unknown as RouterWithRoute).route(path);
  markWsRoute(route);
  route.get(...middleware, upgradeEndpoint(handler as WsHandler as ConnectionHandler, routeOptions));
  if (isApp(this)) {
    watchMounts(this); // a sub-app's ws routes are found through its parent
    const router = routerOf(this);
    if (router !== undefined) prepareExpressCopy(router);
  } else {
    prepareExpressCopy(this);
  }
  return this;
}

/** The last handler of a ws route: the upgrade made it through the middleware. */
function upgradeEndpoint(handler: ConnectionHandler, routeOptions: RouteOptions | undefined): Middleware {
  const settingsByServer = new WeakMap<WsServer, HandshakeSettings>();
  return function completeUpgrade(req: UpgradeRequest, res: ServerResponse, next: Next) {
    const pending = req[kPendingUpgrade];
    const server = req[kWsServer];
    if (pending === undefined || server === undefined) return next('route');
    req[kRequestShape]?.observe(req);
    let settings = settingsByServer.get(server);
    if (settings === undefined) {
      settings = resolveRouteSettings(server.settings, routeOptions);
      settingsByServer.set(server, settings);
    }
    let finish = false;
    pending.accept(settings, handler, () => {
      // Decided (accept() took the socket back from `res`): `res` only reports what middleware set.
      // Nobody hooks res's headers or waits for it to finish: the headers go out as they stand.
      if (!upgradeResponseObserved(res, OWN_FINISH_LISTENERS)) return currentHeaderLinesFor101(res);
      finish = true;
      return headerLinesFor101(res);
    });
    if (finish) finishUpgradeResponse(res);
  };
}

function isRouteOptions(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

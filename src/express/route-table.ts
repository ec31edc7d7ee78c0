import type { IncomingMessage, ServerResponse } from 'node:http';
import { isHandshakeError } from '../errors';
import { validateHandshake } from '../handshake';
import { kDispatchWrapped, kPendingUpgrade, kWsRoute } from '../symbols';

/**
 * Marks and finds `app.ws` routes in Express's own routing table.
 *
 * A ws route is an ordinary Express route (so params, mount paths, strict
 * and case-sensitive routing all behave as in Express); Route#dispatch is
 * wrapped once so that upgrade requests only enter ws routes and plain
 * requests never do, whatever the registration order.
 */
export { kPendingUpgrade, kWsRoute };

type Done = (err?: unknown) => void;
interface RouteLike {
  [kWsRoute]?: boolean;
  dispatch(req: IncomingMessage, res: unknown, done: Done): void;
}
interface LayerLike {
  route?: RouteLike;
  handle?: unknown;
  path?: string;
  match(path: string): boolean | { path: string } | null | undefined;
}
interface RouterLike {
  stack: LayerLike[];
}

/** Make `route` a ws route, and teach its Route class to keep the two kinds apart. */
export function markWsRoute(route: object): void {
  (route as RouteLike)[kWsRoute] = true;
  const proto = Object.getPrototypeOf(route) as RouteLike & { [kDispatchWrapped]?: boolean };
  if (proto[kDispatchWrapped]) return;
  const dispatch = proto.dispatch;
  proto.dispatch = function dispatchByKind(this: RouteLike, req, res, done) {
    const isUpgrade = (req as IncomingMessage & { [kPendingUpgrade]?: unknown })[kPendingUpgrade] !== undefined;
    const isWsRoute = this[kWsRoute] === true;
    if (!isUpgrade && isWsRoute && answeredBrokenUpgrade(req, res)) return;
    if (isUpgrade !== isWsRoute) return done();
    return dispatch.call(this, req, res, done);
  };
  proto[kDispatchWrapped] = true;
}

/**
 * A GET that asks for `Upgrade: websocket` but that Node did not treat as an
 * upgrade (its Connection header lacks the `upgrade` token) reaches the app
 * as a plain request. On a ws route it is a broken handshake: answer it with
 * the handshake's own 400 rather than a misleading 404.
 */
function answeredBrokenUpgrade(req: IncomingMessage, res: unknown): boolean {
  if (!/\bwebsocket\b/i.test(req.headers.upgrade ?? '')) return false;
  let status = 400;
  let message = 'Bad Request';
  let headers: Readonly<Record<string, string>> = {};
  try {
    validateHandshake(req);
  } catch (err) {
    if (!isHandshakeError(err)) throw err;
    ({ status, message, headers } = err);
  }
  const response = res as ServerResponse;
  response.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
  response.end(message);
  return true;
}

/**
 * Could a ws route take `req`? Walks the router stack (and mounted routers)
 * with Express's own matchers, running no middleware. Used to leave upgrades
 * we do not route to other `upgrade` listeners untouched.
 */
export function hasWsRoute(router: RouterLike, req: IncomingMessage): boolean {
  const path = pathnameOf(req.url ?? '/');
  return path !== null && routerHasWsRoute(router, path, 0);
}

function routerHasWsRoute(router: RouterLike, path: string, depth: number): boolean {
  if (depth > 32) return false;
  for (const layer of router.stack) {
    let match: ReturnType<LayerLike['match']>;
    try {
      match = layer.match(path);
    } catch {
      continue; // a malformed %-escape: Express would answer 400, not route it
    }
    if (!match) continue;
    if (layer.route !== undefined) {
      if (layer.route[kWsRoute] === true) return true;
      continue;
    }
    if (!isRouter(layer.handle)) continue;
    const matched = typeof match === 'object' ? match.path : (layer.path ?? '');
    const rest = path.slice(matched.length);
    if (rest !== '' && rest[0] !== '/') continue; // must break on a path separator
    if (routerHasWsRoute(layer.handle, rest === '' ? '/' : rest, depth + 1)) return true;
  }
  return false;
}

function isRouter(handle: unknown): handle is RouterLike {
  return typeof handle === 'function' && Array.isArray((handle as Partial<RouterLike>).stack);
}

function pathnameOf(url: string): string | null {
  if (url[0] === '/') {
    const q = url.indexOf('?');
    return q === -1 ? url : url.slice(0, q);
  }
  try {
    return new URL(url).pathname; // absolute-form request target
  } catch {
    return null;
  }
}

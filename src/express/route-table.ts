import type { IncomingMessage } from 'node:http';
import { kMountedApps, routerOf, type LayerLike, type RouterLike } from './express-internals';
import { kPendingUpgrade, kWsRoute } from './upgrade-filter';

/**
 * Marks and finds `app.ws` routes in Express's own routing table.
 *
 * A ws route is an ordinary Express route (so params, mount paths, strict
 * and case-sensitive routing all behave as in Express); upgrade-filter.ts
 * keeps upgrades and plain requests apart when the router runs it.
 */
export { kPendingUpgrade, kWsRoute };

/** Make `route` a ws route: only upgrades enter it. */
export function markWsRoute(route: object): void {
  (route as { [kWsRoute]?: boolean })[kWsRoute] = true;
}

/**
 * Could a ws route take `req`? Walks the router stack (mounted routers and
 * sub-apps too) with Express's own matchers, running no middleware. Used to
 * leave upgrades we do not route to other `upgrade` listeners untouched.
 */
export function hasWsRoute(router: Pick<RouterLike, 'stack'>, req: IncomingMessage): boolean {
  const path = pathnameOf(req.url ?? '/');
  return path !== null && routerHasWsRoute(router, path, 0);
}

function routerHasWsRoute(router: Pick<RouterLike, 'stack'>, path: string, depth: number): boolean {
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
      if ((layer.route as { [kWsRoute]?: boolean })[kWsRoute] === true) return true;
      continue;
    }
    const inner = mountedRouters(layer);
    if (inner.length === 0) continue;
    // Express 4's match() returns true and leaves the matched prefix on the layer; Express 5's returns it.
    const matched = typeof match === 'object' ? match.path : (layer.path ?? '');
    const rest = path.slice(matched.length);
    if (rest !== '' && rest[0] !== '/') continue; // must break on a path separator
    for (const child of inner) {
      if (routerHasWsRoute(child, rest === '' ? '/' : rest, depth + 1)) return true;
    }
  }
  return false;
}

/** The routers behind a middleware layer: a mounted Router, or the base routers of mounted sub-apps. */
function mountedRouters(layer: LayerLike): Array<Pick<RouterLike, 'stack'>> {
  const handle = layer.handle;
  if (typeof handle === 'function' && Array.isArray((handle as Partial<RouterLike>).stack)) return [handle as unknown as RouterLike];
  const apps = layer[kMountedApps];
  if (apps === undefined) return [];
  const routers: RouterLike[] = [];
  for (const app of apps) {
    const router = routerOf(app);
    if (router !== undefined) routers.push(router);
  }
  return routers;
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

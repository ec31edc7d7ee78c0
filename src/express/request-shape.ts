import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Express swaps the prototypes of `req` and `res` (`Object.setPrototypeOf`,
 * to its `app.request` / `app.response`) and then adds its own properties to
 * them (`req.next`, `req.baseUrl`, `req.route`, `res.locals`, ...). V8 gives
 * an object whose prototype was swapped a map of its own: every property
 * added after the swap builds a new map for that one object (~6 µs each,
 * measured on Node 20 for an IncomingMessage), where the same additions
 * before the swap follow transitions shared by every request (~20 ns).
 * On an upgrade through a plain Express 5 app that was most of Express's
 * cost per upgrade.
 *
 * So the properties Express and its router will set anyway are created
 * (undefined) before `app.handle`, always in the same order: the swap then
 * keeps them, and Express's stores are plain field writes. Only properties
 * Express itself sets before any middleware could look, or that it reads as
 * "unset" when undefined (`req.originalUrl || req.url`, `res.locals ||`,
 * parseurl's `req._parsedUrl` cache), so what middleware and handlers see is
 * unchanged. Never a name Express's request prototype defines (a getter such
 * as Express 5's `req.query` would be shadowed), and a key already set is
 * left as it is.
 */
// REQUEST_KEYS: res, next, baseUrl, originalUrl, _parsedUrl, params, route (written out in shapeForExpress).

/** The router package's (Express 5) own per-request symbol, learnt from the first request it routes. */
let routerSymbols: readonly symbol[] = [];
const ROUTER_SYMBOL_DESCRIPTIONS = new Set(['router.tracing.matchedRoute']);
const MAX_LOOKS = 16;
let lookedForSymbols = 0;

interface Shaped {
  res?: unknown;
  next?: unknown;
  baseUrl?: unknown;
  originalUrl?: unknown;
  _parsedUrl?: unknown;
  params?: unknown;
  route?: unknown;
  req?: unknown;
  locals?: unknown;
  [key: symbol]: unknown;
}

export function shapeForExpress(req: IncomingMessage, res: ServerResponse): void {
  // Named, in one fixed order (REQUEST_KEYS): every request follows the same transitions.
  const r = req as unknown as Shaped;
  if (r.res === undefined) r.res = undefined;
  if (r.next === undefined) r.next = undefined;
  if (r.baseUrl === undefined) r.baseUrl = undefined;
  if (r.originalUrl === undefined) r.originalUrl = undefined;
  if (r._parsedUrl === undefined) r._parsedUrl = undefined;
  if (r.params === undefined) r.params = undefined;
  if (r.route === undefined) r.route = undefined;
  for (let i = 0; i < routerSymbols.length; i++) {
    const key = routerSymbols[i]!;
    if (r[key] === undefined) r[key] = undefined;
  }
  const s = res as unknown as Shaped;
  if (s.req === undefined) s.req = undefined;
  if (s.locals === undefined) s.locals = undefined;
}

/** Remember the router's per-request symbols that `req` (routed by Express) carries, so the next requests get them up front. */
export function learnRouterSymbols(req: IncomingMessage): void {
  // A router without them (Express 4, router < 2.3) is not asked on every upgrade: a few looks, then no more.
  if (routerSymbols.length >= ROUTER_SYMBOL_DESCRIPTIONS.size || lookedForSymbols >= MAX_LOOKS) return;
  lookedForSymbols++;
  const found = Object.getOwnPropertySymbols(req).filter((s) => s.description !== undefined && ROUTER_SYMBOL_DESCRIPTIONS.has(s.description));
  if (found.length > routerSymbols.length) routerSymbols = found;
}

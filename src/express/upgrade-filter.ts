import { METHODS, type IncomingMessage, type ServerResponse } from 'node:http';
import { isHandshakeError } from '../errors';
import { validateHandshake } from '../handshake';

/**
 * Keeps upgrades and plain requests apart inside Express's own routing,
 * on Express 4 and 5 alike, whatever the order routes were registered in.
 *
 * The hook is the Layer class's request/error entry points
 * (`handle_request`/`handle_error` on Express 4, `handleRequest`/`handleError`
 * on the `router` package of Express 5). The router looks them up on every
 * call, so one patch of the prototype covers layers made before and after it.
 * (Route#dispatch would not: Express 4 binds it when the route is created.)
 *
 * For an upgrade, as for a GET that only `.all` and `app.ws` routes may answer:
 * - an `app.ws` route runs;
 * - another route runs only if it has handlers for every method (`app.all`,
 *   `router.all`, `route.all`), and inside it only those run: method-specific
 *   handlers (`.get`, `.post`) are skipped;
 * - middleware (`app.use`, mounted routers and apps) runs as usual.
 * For a plain request an `app.ws` route never runs.
 */
export const kWsRoute = Symbol.for('attach-ws.wsRoute');
export const kPendingUpgrade = Symbol.for('attach-ws.pendingUpgrade');
const kFiltered = Symbol.for('attach-ws.upgradeFilter');

type Next = (err?: unknown) => void;
type RequestEntry = (this: FilteredLayer, req: IncomingMessage, res: ServerResponse, next: Next) => unknown;
type ErrorEntry = (this: FilteredLayer, err: unknown, req: IncomingMessage, res: ServerResponse, next: Next) => unknown;

interface RouteLike {
  [kWsRoute]?: boolean;
  stack?: FilteredLayer[];
}
/** A router layer: a route's entry (`route` set), a handler inside a route (`method` set unless `.all`), or middleware. */
interface FilteredLayer {
  route?: RouteLike;
  method?: string;
  handle?: unknown;
}
type UpgradingRequest = IncomingMessage & { [kPendingUpgrade]?: unknown; route?: RouteLike };

const RUN = 0;
const SKIP = 1;
const ANSWERED = 2;
type Verdict = typeof RUN | typeof SKIP | typeof ANSWERED;

function verdict(layer: FilteredLayer, req: UpgradingRequest, res: ServerResponse): Verdict {
  const isUpgrade = req[kPendingUpgrade] !== undefined;
  const route = layer.route;
  if (route !== undefined) {
    const isWsRoute = route[kWsRoute] === true;
    if (isUpgrade) return isWsRoute || allMethodHandlers(route).size > 0 ? RUN : SKIP;
    if (!isWsRoute) return RUN;
    return answeredBrokenUpgrade(req, res) ? ANSWERED : SKIP;
  }
  // Inside a route (Route#dispatch set req.route): an upgrade runs only the handlers meant for every method.
  if (!isUpgrade || layer.method === undefined) return RUN;
  const current = req.route;
  if (current === undefined || current[kWsRoute] === true) return RUN;
  return allMethodHandlers(current).has(layer.handle) ? RUN : SKIP;
}

const HTTP_METHODS = METHODS.map((m) => m.toLowerCase());
const allMethodCache = new WeakMap<RouteLike, { size: number; handlers: Set<unknown> }>();

/**
 * The handlers of `route` that are registered for every method: those of
 * `route.all()` (`router.all`, no method on their layer) and those of
 * `app.all()`, which both majors register once per HTTP method. Cached
 * until the route's stack grows.
 */
function allMethodHandlers(route: RouteLike): Set<unknown> {
  const stack = route.stack ?? [];
  const cached = allMethodCache.get(route);
  if (cached !== undefined && cached.size === stack.length) return cached.handlers;
  const methodsOf = new Map<unknown, Set<string>>();
  const handlers = new Set<unknown>();
  for (const inner of stack) {
    if (inner.method === undefined) {
      handlers.add(inner.handle);
      continue;
    }
    let seen = methodsOf.get(inner.handle);
    if (seen === undefined) methodsOf.set(inner.handle, (seen = new Set()));
    seen.add(inner.method);
  }
  for (const [handle, seen] of methodsOf) {
    if (HTTP_METHODS.every((m) => seen.has(m))) handlers.add(handle);
  }
  allMethodCache.set(route, { size: stack.length, handlers });
  return handlers;
}

/**
 * Install the filter on a Layer prototype (once per Express copy).
 * `layerProto` is the prototype of any layer of that copy's routers.
 */
export function installUpgradeFilter(layerProto: object): void {
  const proto = layerProto as Record<string | symbol, unknown>;
  if (proto[kFiltered] === true) return;
  for (const name of ['handle_request', 'handleRequest']) {
    const original = proto[name];
    if (typeof original === 'function') proto[name] = filterRequest(original as RequestEntry);
  }
  for (const name of ['handle_error', 'handleError']) {
    const original = proto[name];
    if (typeof original === 'function') proto[name] = filterError(original as ErrorEntry);
  }
  Object.defineProperty(proto, kFiltered, { value: true });
}

function filterRequest(original: RequestEntry): RequestEntry {
  return function handleRequestOrUpgrade(req, res, next) {
    const decision = verdict(this, req, res);
    if (decision === RUN) return original.call(this, req, res, next);
    if (decision === SKIP) next();
    return undefined;
  };
}

function filterError(original: ErrorEntry): ErrorEntry {
  return function handleErrorOrUpgrade(err, req, res, next) {
    const decision = verdict(this, req, res);
    if (decision === RUN) return original.call(this, err, req, res, next);
    if (decision === SKIP) next(err);
    return undefined;
  };
}

/**
 * A GET that asks for `Upgrade: websocket` but that Node did not treat as an
 * upgrade (its Connection header lacks the `upgrade` token) reaches the app
 * as a plain request. On a ws route it is a broken handshake: answer it with
 * the handshake's own 400 rather than a misleading 404.
 */
function answeredBrokenUpgrade(req: IncomingMessage, res: ServerResponse): boolean {
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
  res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8', Connection: 'close' });
  res.end(message);
  return true;
}

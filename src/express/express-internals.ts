/**
 * The few Express internals attach-ws relies on, read the same way on
 * Express 4 (router in `lib/router`, `app._router` made by `app.lazyrouter()`,
 * `app.router` a throwing getter) and Express 5 (the `router` package,
 * `app.router` a lazy getter).
 */

export interface LayerLike {
  route?: object;
  handle?: unknown;
  path?: string;
  match(path: string): boolean | { path: string } | null | undefined;
  [kMountedApps]?: Set<AppLike>;
}
export interface RouterLike {
  stack: LayerLike[];
  route(path: string): unknown;
}
/** An Express application (both majors): the members attach-ws reads. */
export interface AppLike {
  handle(req: unknown, res: unknown, done: (err?: unknown) => void): void;
  set(setting: string, value?: unknown): unknown;
  /** A setting (one argument: Express reads a setting rather than routing a GET). */
  get(setting: string): unknown;
  on(event: 'mount', listener: (parent: AppLike) => void): unknown;
  parent?: AppLike;
  lazyrouter?: () => void;
  _router?: RouterLike;
  readonly router?: RouterLike;
}

/** Sub-apps (`app.use('/admin', admin)`) that may sit behind a `mounted_app` layer. */
export const kMountedApps = Symbol.for('attach-ws.mountedApps');
const kWatchedMounts = Symbol.for('attach-ws.watchedMounts');

export function isApp(value: unknown): value is AppLike {
  const app = value as Partial<AppLike> | null;
  return typeof value === 'function' && typeof app?.handle === 'function' && typeof app.set === 'function';
}

/**
 * The app's base router, or undefined while it has none. Express 4 creates
 * it on the first `use`/route (`lazyrouter` reads the routing settings then:
 * calling it early would freeze them), so it is never forced here unless
 * `create` asks (to add a route, as Express itself would).
 */
export function routerOf(app: AppLike, create = false): RouterLike | undefined {
  if (typeof app.lazyrouter === 'function') {
    if (create) app.lazyrouter();
    return app._router;
  }
  return app.router;
}

/** The prototype of a Layer of the same Express copy as `router`, made on a scratch stack. */
export function layerProtoOf(router: Pick<RouterLike, 'route'>): object | undefined {
  const scratch = { stack: [] as object[], caseSensitive: false, strict: false };
  try {
    router.route.call(scratch, '/');
  } catch {
    return undefined;
  }
  const layer = scratch.stack[0];
  return layer === undefined ? undefined : (Object.getPrototypeOf(layer) as object);
}

/** The object of `router`'s prototype chain that owns `route` (Router.prototype on 5, the Router function on 4). */
export function routerProtoOf(router: object): object | undefined {
  let proto: object | null = router;
  while (proto !== null && !Object.prototype.hasOwnProperty.call(proto, 'route')) proto = Object.getPrototypeOf(proto) as object | null;
  return proto ?? undefined;
}

/**
 * A sub-app is mounted through a closure layer (`mounted_app`) that does not
 * expose the app, so the route finder could not see its ws routes. Tag that
 * layer with the app: precisely when it is mounted from now on (Express
 * emits 'mount' right after pushing the layer), and, if it is mounted
 * already, on each `mounted_app` layer of the parent that covers its mount path.
 */
export function watchMounts(app: AppLike): void {
  const flags = app as AppLike & { [kWatchedMounts]?: boolean };
  if (flags[kWatchedMounts] === true) return;
  Object.defineProperty(app, kWatchedMounts, { value: true });
  app.on('mount', (parent) => {
    const stack = routerOf(parent)?.stack;
    const layer = stack?.[stack.length - 1];
    if (layer !== undefined && isMountedAppLayer(layer)) tagMountedApp(layer, app);
  });
  if (app.parent !== undefined) tagExistingMounts(app, app.parent);
}

function tagExistingMounts(app: AppLike, parent: AppLike): void {
  const mountpath = (app as { mountpath?: unknown }).mountpath;
  const paths = (Array.isArray(mountpath) ? mountpath : [mountpath]).filter((p): p is string => typeof p === 'string');
  for (const layer of routerOf(parent)?.stack ?? []) {
    if (!isMountedAppLayer(layer)) continue;
    if (paths.some((p) => safeMatch(layer, p))) tagMountedApp(layer, app);
  }
}

function safeMatch(layer: LayerLike, path: string): boolean {
  try {
    return Boolean(layer.match(path));
  } catch {
    return false;
  }
}

function isMountedAppLayer(layer: LayerLike): boolean {
  return typeof layer.handle === 'function' && layer.handle.name === 'mounted_app';
}

function tagMountedApp(layer: LayerLike, app: AppLike): void {
  (layer[kMountedApps] ??= new Set()).add(app);
}

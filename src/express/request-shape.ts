import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * Express swaps the prototypes of `req` and `res` (`Object.setPrototypeOf`,
 * to its `app.request` / `app.response`) and then adds properties to them:
 * its own (`req.next`, `req.baseUrl`, `req.route`, `res.locals`, ...) and the
 * app's middleware's (`req.user`, `req.session`, `req.cookies`). V8 gives an
 * object whose prototype was swapped a map no transition leads from: every
 * property added after the swap builds a new map for that one object (~6 µs
 * each for an IncomingMessage on Node 20), and from then on every request has
 * a map of its own, so each property access on it, in the router and in our
 * own code, misses its inline cache. The same additions before the swap
 * follow transitions shared by every request (~20 ns each).
 *
 * So the properties that will be set anyway are created (undefined) before
 * `app.handle`, always in the same order: the swap keeps them, and the later
 * stores are plain field writes.
 *
 * - Express's and its router's, written out in `prepare`: only those Express
 *   sets before any middleware could look, or reads as "unset" when undefined
 *   (`req.originalUrl || req.url`, `res.locals ||`, parseurl's
 *   `req._parsedUrl` cache).
 * - The app's: learnt from its first upgrades. A key (string or symbol) every
 *   one of the first LEARN_FROM upgrades that reached a ws route carried,
 *   that the request did not have when handed to Express, that holds a value
 *   (not an accessor) and that no prototype of `req` defines. At most
 *   MAX_LEARNT_KEYS of them. Such a key has been set by the time a handler
 *   runs; only middleware that runs before the one setting it could tell,
 *   and only by asking `key in req` (the value is `undefined`, as unset).
 *
 * Never a name a prototype of `req` defines (a getter such as Express 5's
 * `req.query` would be shadowed), and a key already set is left as it is.
 * Learning is per app: another app on the same process learns its own.
 */
export const LEARN_FROM = 16;
/** Where `req` carries the shape of the app that dispatched it, for the ws route that completes it. */
export const kRequestShape = Symbol('attach-ws.requestShape');
export const MAX_LEARNT_KEYS = 32;

type Key = string | symbol;
type Shaped = Record<Key, unknown>;

export class RequestShape {
  /** The app's keys, in the order the first observed request got them. */
  #learnt: readonly Key[] = [];
  /** Keys every request observed so far carried (null before the first); learning ends after LEARN_FROM. */
  #candidates: Key[] | null = null;
  #observed = 0;
  /** The request's own keys when it was handed to Express (the same for every request on one Node version). */
  #before: ReadonlySet<Key> | null = null;

  /** Create the properties Express and the app will set, before `app.handle` swaps the prototypes. */
  prepare(req: IncomingMessage, res: ServerResponse): void {
    // Named, in one fixed order: every request follows the same transitions.
    const r = req as unknown as Shaped;
    if (r.res === undefined) r.res = undefined;
    if (r.next === undefined) r.next = undefined;
    if (r.baseUrl === undefined) r.baseUrl = undefined;
    if (r.originalUrl === undefined) r.originalUrl = undefined;
    if (r._parsedUrl === undefined) r._parsedUrl = undefined;
    if (r.params === undefined) r.params = undefined;
    if (r.route === undefined) r.route = undefined;
    const learnt = this.#learnt;
    for (let i = 0; i < learnt.length; i++) {
      const key = learnt[i]!;
      if (r[key] === undefined) r[key] = undefined;
    }
    const s = res as unknown as Shaped;
    if (s.req === undefined) s.req = undefined;
    if (s.locals === undefined) s.locals = undefined;
    if (this.#observed < LEARN_FROM && this.#before === null) this.#before = new Set(Reflect.ownKeys(req));
  }

  /** A request reached a ws route: while learning, note which keys Express and the middleware gave it. */
  observe(req: IncomingMessage): void {
    if (this.#observed >= LEARN_FROM) return;
    this.#observed++;
    const before = this.#before ?? new Set<Key>();
    const proto = Object.getPrototypeOf(req) as object | null;
    const carried = Reflect.ownKeys(req).filter((key) => !before.has(key) && isPlainValue(req, key) && !(proto !== null && key in proto));
    const candidates = this.#candidates === null ? carried : this.#candidates.filter((key) => carried.includes(key));
    this.#candidates = candidates;
    if (this.#observed === LEARN_FROM) {
      this.#learnt = candidates.slice(0, MAX_LEARNT_KEYS);
      this.#candidates = null;
      this.#before = null;
    }
  }
}

function isPlainValue(target: object, key: Key): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  return descriptor !== undefined && 'value' in descriptor && descriptor.writable === true && descriptor.configurable === true;
}

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
 *   MAX_LEARNT_KEYS of them. Until it is set, such a key reads `undefined`,
 *   as unset; only presence tests (`key in req`, `Object.keys`) can tell. A
 *   request that reaches its route with a learnt key still unset stops it
 *   being created for the next ones (see observe).
 *
 * Never a name a prototype of `req` defines (a getter such as Express 5's
 * `req.query` would be shadowed), and a key already set is left as it is.
 * Learning is per app: another app on the same process learns its own.
 */
export const LEARN_FROM = 16;
export const MAX_LEARNT_KEYS = 32;
/** Where `req` carries the shape of the app that dispatched it, for the ws route that completes it. */
export const kRequestShape = Symbol('attach-ws.requestShape');

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

  /**
   * A request reached a ws route. While learning: note which keys Express and
   * the middleware gave it. After: a learnt key this request reached the
   * route without (left unset, say `req.user` of an anonymous client after
   * signed-in ones), or that a prototype of `req` now defines (a sub-app's
   * `app.request`), is created no more from the next upgrade on.
   */
  observe(req: IncomingMessage): void {
    const proto = Object.getPrototypeOf(req) as object | null;
    if (this.#observed >= LEARN_FROM) {
      const learnt = this.#learnt;
      const r = req as unknown as Shaped;
      for (let i = 0; i < learnt.length; i++) {
        if (!stillSet(r, proto, learnt[i]!)) {
          this.#learnt = learnt.filter((key) => stillSet(r, proto, key));
          return;
        }
      }
      return;
    }
    const before = this.#before;
    if (before === null) return; // not prepared by this shape: nothing to compare with
    this.#observed++;
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

/** A learnt key this request got a value for, and that no prototype of it defines. */
function stillSet(req: Shaped, proto: object | null, key: Key): boolean {
  return req[key] !== undefined && !(proto !== null && key in proto);
}

function isPlainValue(target: object, key: Key): boolean {
  const descriptor = Object.getOwnPropertyDescriptor(target, key);
  return descriptor !== undefined && 'value' in descriptor && descriptor.writable === true && descriptor.configurable === true;
}

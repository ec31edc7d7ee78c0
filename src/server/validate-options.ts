/**
 * Option validation, in one place: `attachWs(app, server, options)` and
 * `app.ws(path, routeOptions, ...)` check their options here, once, and throw
 * one clear TypeError (wrong type, unknown option) or RangeError (out of
 * range) naming the option, what it must be and what it got. Both carry the
 * code `WS_ERR_INVALID_OPTION`.
 *
 * Adding an option = adding its line to `serverRules` (and to `routeRules`
 * if a route may override it). An option without a rule is refused as
 * unknown, so a typo (`maxPaylod`) fails loudly instead of being ignored.
 */
import { codedError } from '../errors';
import { isToken } from '../handshake/tokens';

/** setTimeout/setInterval turn a delay above this into 1 ms, silently. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Checks one option's value; returns what it must be when the value is wrong. */
type Rule = (value: unknown) => { kind: 'type' | 'range'; must: string } | null;

function integer(min: number, max: number = Number.MAX_SAFE_INTEGER, unit = ''): Rule {
  const must = `an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'Number.MAX_SAFE_INTEGER' : max}${unit}`;
  return (value) => {
    if (typeof value !== 'number') return { kind: 'type', must };
    if (!Number.isInteger(value) || value < min || value > max) return { kind: 'range', must };
    return null;
  };
}

/** Bytes: at least `min`. */
const bytes = (min: number): Rule => integer(min, Number.MAX_SAFE_INTEGER, ' (bytes)');
/** Milliseconds a timer can actually wait. */
const ms = (min: number): Rule => integer(min, MAX_TIMER_MS, ' (milliseconds)');

const isFunction: Rule = (value) => (typeof value === 'function' ? null : { kind: 'type', must: 'a function' });
const ADAPTER_METHODS = ['attach', 'subscribe', 'unsubscribe', 'publish', 'close'] as const;

function oneOf(...values: readonly string[]): Rule {
  const must = `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`;
  return (value) => (typeof value === 'string' && values.includes(value) ? null : { kind: typeof value === 'string' ? 'range' : 'type', must });
}

function arrayOf(what: string, item: (value: unknown) => boolean): Rule {
  const must = `an array of ${what}`;
  return (value) => (Array.isArray(value) && value.every(item) ? null : { kind: 'type', must });
}

/** RFC 6455 §4.1: a subprotocol is a token (RFC 7230 §3.2.6, the handshake's own check). */
function isProtocolToken(value: unknown): boolean {
  return typeof value === 'string' && isToken(value);
}

/** A plain object whose keys each have a rule; checked recursively, names dotted. */
type Shape = Readonly<Record<string, Rule | { readonly shape: Shape; readonly required?: readonly string[] }>>;

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const isBoolean: Rule = (value) => (typeof value === 'boolean' ? null : { kind: 'type', must: 'a boolean' });
const isNumber: Rule = (value) => (typeof value === 'number' ? null : { kind: 'type', must: 'a number' });

/** perMessageDeflate: true/false, or these fields (their ranges are checked by resolveDeflateOptions). */
const perMessageDeflateShape: Shape = {
  threshold: isNumber,
  level: isNumber,
  memLevel: isNumber,
  serverNoContextTakeover: isBoolean,
  clientNoContextTakeover: isBoolean,
  serverMaxWindowBits: isNumber,
  clientMaxWindowBits: isNumber,
  concurrencyLimit: isNumber,
};
const perMessageDeflate: Rule = (value) =>
  typeof value === 'boolean' || isPlainObject(value) ? null : { kind: 'type', must: 'a boolean or an options object' };

/**
 * Every option of `attachWs`, one line each. (perMessageDeflate's own fields
 * are checked by resolveDeflateOptions, which knows their ranges.)
 */
const serverRules: Shape = {
  // No "0 = unlimited": every size has a limit (a message is buffered whole before delivery).
  maxPayload: bytes(1),
  perMessageDeflate,
  protocols: arrayOf('subprotocol tokens (RFC 6455 §4.1)', isProtocolToken),
  handleProtocols: isFunction,
  origins: (value) =>
    value === '*' || typeof value === 'function' || (Array.isArray(value) && value.every((v) => typeof v === 'string'))
      ? null
      : { kind: 'type', must: "'*', an array of origin strings or a function" },
  // An object's intervalMs is checked by heartbeatShape.
  heartbeat: (value) => (value === false || isPlainObject(value) ? null : { kind: 'type', must: 'false or { intervalMs }' }),
  handshakeTimeoutMs: ms(1),
  closeTimeoutMs: ms(1),
  // 0: terminate every connection right away.
  shutdownTimeoutMs: ms(0),
  highWaterMark: bytes(1),
  maxHeldBytes: bytes(0),
  // 0: never fragment.
  fragmentSize: bytes(0),
  backpressure: { shape: { limit: bytes(0), policy: oneOf('skip', 'close') } },
  // Bounded memory per connection (see the README's limits table).
  maxBufferedAmount: bytes(1),
  maxFragments: integer(1),
  maxHeldMessages: integer(1),
  // 0: no idle timeout.
  idleTimeoutMs: ms(0),
  // Infinity: no limit.
  maxConnections: (value) => (value === Infinity ? null : integer(0)(value)),
  // Infinity: no limit. 0 would refuse every upgrade: at least 1.
  maxPendingUpgrades: (value) => (value === Infinity ? null : integer(1)(value)),
  deliveryBudget: { shape: { limit: bytes(1), resumeAt: bytes(0), topicLimit: bytes(1), stallTimeoutMs: ms(1) } },
  adapter: (value) =>
    typeof value === 'object' && value !== null && ADAPTER_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function')
      ? null
      : { kind: 'type', must: `a PubSubAdapter (with ${ADAPTER_METHODS.join(', ')} methods)` },
};

/** heartbeat, when an object. */
const heartbeatShape: Shape = { intervalMs: ms(1) };

/** What one `app.ws` route may override. */
const routeRules: Shape = {
  maxPayload: serverRules.maxPayload!,
  perMessageDeflate: serverRules.perMessageDeflate!,
  protocols: serverRules.protocols!,
  handleProtocols: serverRules.handleProtocols!,
};

function fail(kind: 'type' | 'range', where: string, name: string, must: string, value: unknown): never {
  const got = typeof value === 'string' ? JSON.stringify(value) : typeof value === 'function' ? 'a function' : Array.isArray(value) ? 'an array' : typeof value === 'object' && value !== null ? 'an object' : String(value);
  throw codedError(kind === 'type' ? TypeError : RangeError, 'WS_ERR_INVALID_OPTION', `${where}: option ${name} must be ${must}, got ${got}`);
}

function check(where: string, options: unknown, shape: Shape, prefix: string, required: readonly string[] = []): void {
  if (!isPlainObject(options)) fail('type', where, prefix.slice(0, -1) || 'options', 'an object', options);
  for (const name of required) {
    if (options[name] === undefined) fail('type', where, prefix + name, 'given', undefined);
  }
  for (const [name, value] of Object.entries(options)) {
    const rule = shape[name];
    if (rule === undefined) {
      throw codedError(TypeError, 'WS_ERR_INVALID_OPTION', `${where}: unknown option ${prefix}${name} (known: ${Object.keys(shape).join(', ')})`);
    }
    if (value === undefined) continue; // unset: the default applies
    if (typeof rule === 'function') {
      const problem = rule(value);
      if (problem !== null) fail(problem.kind, where, prefix + name, problem.must, value);
    } else {
      check(where, value, rule.shape, `${prefix}${name}.`, rule.required);
    }
  }
}

/** Throw a TypeError/RangeError (code WS_ERR_INVALID_OPTION) for the first invalid option of `attachWs`. */
export function validateAttachWsOptions(options: unknown): void {
  check('attachWs', options, serverRules, '');
  const heartbeat = (options as { heartbeat?: unknown }).heartbeat;
  if (isPlainObject(heartbeat)) check('attachWs', heartbeat, heartbeatShape, 'heartbeat.', ['intervalMs']);
  checkDeflate('attachWs', options);
}

function checkDeflate(where: string, options: unknown): void {
  const deflate = (options as { perMessageDeflate?: unknown }).perMessageDeflate;
  if (isPlainObject(deflate)) check(where, deflate, perMessageDeflateShape, 'perMessageDeflate.');
}

/** Throw for the first invalid option of an `app.ws(path, options, ...)` route. */
export function validateRouteOptions(options: unknown): void {
  check('app.ws', options, routeRules, '');
  checkDeflate('app.ws', options);
}

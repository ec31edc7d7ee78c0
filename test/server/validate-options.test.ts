import http from 'node:http';
import express from 'express';
import { attachWs, type AttachWsOptions } from 'attach-ws';
import { validateAttachWsOptions, validateRouteOptions } from '../../src/server/validate-options';

/** What validating `options` throws: its class, code and message. */
function thrown(fn: () => void): { kind: string; code: unknown; message: string } {
  try {
    fn();
  } catch (err) {
    const e = err as Error & { code?: unknown };
    return { kind: e.constructor.name, code: e.code, message: e.message };
  }
  throw new Error('expected a throw');
}

const server = (options: unknown) => thrown(() => validateAttachWsOptions(options));

describe('attachWs options are validated with one precise error each', () => {
  test.each<[string, unknown, 'TypeError' | 'RangeError', RegExp]>([
    ['heartbeat.intervalMs below 1', { heartbeat: { intervalMs: 0 } }, 'RangeError', /heartbeat\.intervalMs must be an integer from 1 to 2147483647 \(milliseconds\), got 0/],
    ['heartbeat.intervalMs not a number', { heartbeat: { intervalMs: '30s' } }, 'TypeError', /heartbeat\.intervalMs must be an integer/],
    ['heartbeat without intervalMs', { heartbeat: {} }, 'TypeError', /heartbeat\.intervalMs must be given/],
    ['heartbeat: true', { heartbeat: true }, 'TypeError', /heartbeat must be false or \{ intervalMs \}/],
    ['heartbeat.intervalMs past what a timer can wait', { heartbeat: { intervalMs: 2 ** 31 } }, 'RangeError', /heartbeat\.intervalMs/],
    ['handshakeTimeoutMs negative', { handshakeTimeoutMs: -1 }, 'RangeError', /handshakeTimeoutMs must be an integer from 1/],
    ['handshakeTimeoutMs NaN', { handshakeTimeoutMs: Number.NaN }, 'RangeError', /handshakeTimeoutMs .* got NaN/],
    ['shutdownTimeoutMs Infinity', { shutdownTimeoutMs: Infinity }, 'RangeError', /shutdownTimeoutMs must be an integer from 0/],
    ['closeTimeoutMs a string', { closeTimeoutMs: '10' }, 'TypeError', /closeTimeoutMs .* got "10"/],
    ['maxPayload 0 (there is no unlimited)', { maxPayload: 0 }, 'RangeError', /maxPayload must be an integer from 1/],
    ['maxPayload fractional', { maxPayload: 1.5 }, 'RangeError', /maxPayload/],
    ['highWaterMark 0', { highWaterMark: 0 }, 'RangeError', /highWaterMark must be an integer from 1/],
    ['maxHeldBytes negative', { maxHeldBytes: -5 }, 'RangeError', /maxHeldBytes must be an integer from 0/],
    ['fragmentSize negative', { fragmentSize: -1 }, 'RangeError', /fragmentSize/],
    ['backpressure.limit negative', { backpressure: { limit: -1 } }, 'RangeError', /backpressure\.limit/],
    ['backpressure.policy unknown', { backpressure: { policy: 'drop' } }, 'RangeError', /backpressure\.policy must be one of "skip", "close", got "drop"/],
    ['backpressure not an object', { backpressure: 5 }, 'TypeError', /backpressure must be an object/],
    ['protocols not an array', { protocols: 'chat' }, 'TypeError', /protocols must be an array of subprotocol tokens/],
    ['a protocol that is not a token', { protocols: ['chat v2'] }, 'TypeError', /protocols must be an array of subprotocol tokens/],
    ['origins a string', { origins: 'https://a.example' }, 'TypeError', /origins must be '\*', an array of origin strings or a function/],
    ['handleProtocols not a function', { handleProtocols: ['a'] }, 'TypeError', /handleProtocols must be a function/],
    ['perMessageDeflate a number', { perMessageDeflate: 1 }, 'TypeError', /perMessageDeflate must be a boolean or an options object/],
    ['perMessageDeflate with an unknown field', { perMessageDeflate: { windowBits: 10 } }, 'TypeError', /unknown option perMessageDeflate\.windowBits/],
    ['maxPendingUpgrades 0 (it would refuse every upgrade)', { maxPendingUpgrades: 0 }, 'RangeError', /maxPendingUpgrades must be an integer from 1/],
    ['maxPendingUpgrades fractional', { maxPendingUpgrades: 2.5 }, 'RangeError', /maxPendingUpgrades/],
    ['maxPendingUpgrades a string', { maxPendingUpgrades: '100' }, 'TypeError', /maxPendingUpgrades .* got "100"/],
    ['adapter without methods', { adapter: {} }, 'TypeError', /adapter must be a PubSubAdapter/],
    ['a misspelt option', { maxPaylod: 10 }, 'TypeError', /unknown option maxPaylod \(known: maxPayload, /],
    ['options not an object', 5, 'TypeError', /options must be an object/],
  ])('%s', (_name, options, kind, message) => {
    const err = server(options);
    expect(err.kind).toBe(kind);
    expect(err.code).toBe('WS_ERR_INVALID_OPTION');
    expect(err.message).toMatch(message);
  });

  test('valid options and unset (undefined) ones pass', () => {
    expect(() =>
      validateAttachWsOptions({
        maxPayload: 1,
        heartbeat: { intervalMs: 1 },
        handshakeTimeoutMs: 1,
        shutdownTimeoutMs: 0,
        fragmentSize: 0,
        maxHeldBytes: 0,
        backpressure: { limit: 0, policy: 'close' },
        protocols: ['chat.v2'],
        origins: (origin: string | undefined) => origin === undefined,
        perMessageDeflate: { threshold: 0, serverNoContextTakeover: true },
        closeTimeoutMs: undefined,
        maxPendingUpgrades: 1,
      } satisfies AttachWsOptions),
    ).not.toThrow();
    expect(() => validateAttachWsOptions({ heartbeat: false })).not.toThrow();
    expect(() => validateAttachWsOptions({ maxPendingUpgrades: Infinity })).not.toThrow();
  });

  test('attachWs throws before it listens for upgrades', () => {
    const app = express();
    const httpServer = http.createServer(app);
    expect(() => attachWs(app, httpServer, { heartbeat: { intervalMs: -1 } })).toThrow(RangeError);
    expect(httpServer.listenerCount('upgrade')).toBe(0);
  });

  test('perMessageDeflate field ranges are checked with the same code', () => {
    const app = express();
    const err = thrown(() => attachWs(app, http.createServer(app), { perMessageDeflate: { level: 12 } }));
    expect(err).toMatchObject({ kind: 'RangeError', code: 'WS_ERR_INVALID_OPTION' });
    expect(err.message).toMatch(/perMessageDeflate\.level must be an integer in -1\.\.9, got 12/);
  });
});

describe('route options are validated when the route is mounted', () => {
  test('app.ws(path, options, handler) throws at once for a bad maxPayload', () => {
    const app = express();
    attachWs(app, http.createServer(app));
    const err = thrown(() => app.ws('/x', { maxPayload: -1 }, () => undefined));
    expect(err).toMatchObject({ kind: 'RangeError', code: 'WS_ERR_INVALID_OPTION' });
    expect(err.message).toMatch(/^app\.ws: option maxPayload must be an integer from 1/);
  });

  test('a route may not set server-wide options', () => {
    const err = thrown(() => validateRouteOptions({ heartbeat: { intervalMs: 10 } }));
    expect(err.message).toMatch(/unknown option heartbeat \(known: maxPayload, perMessageDeflate, protocols, handleProtocols\)/);
  });
});

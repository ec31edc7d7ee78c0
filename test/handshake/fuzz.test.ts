import fc from 'fast-check';
import { isHandshakeError } from '../../src/errors';
import { parseProtocols, validateHandshake } from '../../src/handshake';
import { requestFrom, VALID_HEADERS } from './request-fixture';

const NAMES = [
  'Host',
  'Upgrade',
  'Connection',
  'Sec-WebSocket-Key',
  'Sec-WebSocket-Version',
  'Sec-WebSocket-Protocol',
  'Sec-WebSocket-Extensions',
  'Origin',
];
const value = fc.oneof(
  fc.constantFrom(...VALID_HEADERS.map(([, v]) => v), 'websocket, foo', 'keep-alive, Upgrade', 'a; b="c"', ''),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

/** Nothing but a 400, 403 or 426 HandshakeError may escape, whatever the client sends. */
function expectOnlyHandshakeErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (err) {
    expect(isHandshakeError(err) && [400, 403, 426].includes(err.status)).toBe(true);
  }
}

describe('handshake parsing under arbitrary input', () => {
  it('parseProtocols throws nothing but a HandshakeError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (header) => {
        expectOnlyHandshakeErrors(() => parseProtocols(header));
      }),
      { seed: 6455, numRuns: 1000 },
    );
  });

  it('validateHandshake throws nothing but a HandshakeError for any method, version and header lines', () => {
    const line = fc.tuple(fc.constantFrom(...NAMES), value);
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 12 }),
        fc.constantFrom('GET', 'POST', 'get'),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 9 }),
        (lines, method, major, minor) => {
          const req = requestFrom(lines, { method, httpVersionMajor: major, httpVersionMinor: minor });
          expectOnlyHandshakeErrors(() => validateHandshake(req));
        },
      ),
      { seed: 6455, numRuns: 1000 },
    );
  });
});

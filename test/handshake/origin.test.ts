import { checkOrigin, isSameOrigin, requestHost } from '../../src/handshake';
import { requestFrom, thrownBy, VALID_HEADERS } from './request-fixture';

const req = requestFrom(VALID_HEADERS);
const forbidden = { status: 403, code: 'WS_HANDSHAKE_ORIGIN_FORBIDDEN', headers: {} };
const crossOrigin = { status: 403, code: 'WS_HANDSHAKE_CROSS_ORIGIN', headers: {} };

describe('checkOrigin', () => {
  it("allows any origin, and none, with '*'", () => {
    expect(() => checkOrigin('https://evil.example', '*', req)).not.toThrow();
    expect(() => checkOrigin(undefined, '*', req)).not.toThrow();
  });

  it("without a check, allows the request's own origin and a request without Origin", () => {
    // The fixture's Host is server.example.com.
    expect(() => checkOrigin('http://server.example.com', undefined, req)).not.toThrow();
    expect(() => checkOrigin('https://server.example.com', undefined, req)).not.toThrow();
    expect(() => checkOrigin(undefined, undefined, req)).not.toThrow();
  });

  it('without a check, refuses another origin with a 403 that says how to allow it', () => {
    const err = thrownBy(() => checkOrigin('https://evil.example', undefined, req));
    expect(err).toMatchObject(crossOrigin);
    expect((err as Error).message).toContain("origins: ['https://app.example.com']");
    expect((err as Error).message).toContain("'*'");
  });

  it('without a check, compares with the host it is given instead of the Host header', () => {
    expect(() => checkOrigin('https://public.example', undefined, req, 'public.example')).not.toThrow();
    expect(thrownBy(() => checkOrigin('http://server.example.com', undefined, req, 'public.example'))).toMatchObject(crossOrigin);
  });

  it('allows an origin on the list', () => {
    expect(() => checkOrigin('https://app.example', ['https://other.example', 'https://app.example'], req)).not.toThrow();
  });

  it('matches the list case-insensitively', () => {
    expect(() => checkOrigin('HTTPS://App.Example', ['https://app.example'], req)).not.toThrow();
  });

  it.each([['https://evil.example'], ['https://app.example:8443'], ['http://app.example'], ['https://app.example/'], ['null']])(
    'refuses %j, which is not exactly on the list, with 403',
    (origin) => {
      expect(thrownBy(() => checkOrigin(origin, ['https://app.example'], req))).toMatchObject(forbidden);
    },
  );

  it('refuses a request without Origin when a list is given', () => {
    expect(thrownBy(() => checkOrigin(undefined, ['https://app.example'], req))).toMatchObject(forbidden);
  });

  it('refuses everything with an empty list', () => {
    expect(thrownBy(() => checkOrigin('https://app.example', [], req))).toMatchObject(forbidden);
  });

  it('asks a predicate with the origin and the request', () => {
    const predicate = jest.fn(() => true);
    checkOrigin('https://app.example', predicate, req);
    expect(predicate).toHaveBeenCalledWith('https://app.example', req);
  });

  it('refuses with 403 when the predicate answers false', () => {
    expect(thrownBy(() => checkOrigin('https://app.example', () => false, req))).toMatchObject(forbidden);
  });

  it('lets a predicate admit a request without Origin', () => {
    expect(() => checkOrigin(undefined, (origin) => origin === undefined, req)).not.toThrow();
  });

  it('lets an error thrown by the predicate reach the caller', () => {
    const boom = new Error('boom');
    expect(thrownBy(() => checkOrigin('x', () => { throw boom; }, req))).toBe(boom);
  });
});

describe('isSameOrigin', () => {
  it.each([
    ['http://app.example', 'app.example'],
    ['https://app.example', 'app.example'],
    ['http://app.example', 'app.example:80'],
    ['https://app.example', 'app.example:443'],
    ['http://app.example:8080', 'app.example:8080'],
    ['http://APP.Example', 'app.EXAMPLE'],
    ['http://127.0.0.1:3000', '127.0.0.1:3000'],
    ['http://[::1]:3000', '[::1]:3000'],
    ['http://[::1]', '[0:0::1]'],
    ['https://xn--bcher-kva.example', 'xn--bcher-kva.example'],
  ])('%s is the origin of a request to %s', (origin, host) => {
    expect(isSameOrigin(origin, host)).toBe(true);
  });

  it.each([
    ['http://evil.example', 'app.example'],
    ['http://app.example.evil.example', 'app.example'],
    ['http://localhost:5173', 'localhost:3000'],
    ['http://app.example:8080', 'app.example'],
    ['https://app.example', 'app.example:80'],
    ['http://app.example', 'app.example:443'],
    ['null', 'app.example'],
    ['file://', 'app.example'],
    ['ws://app.example', 'app.example'],
    ['http://app.example/', 'app.example'],
    ['http://app.example/path', 'app.example'],
    ['https://app.example:443', 'app.example'], // not serialized as browsers do: refused, never widened
    ['http://user@app.example', 'app.example'],
    ['http://app.example', 'evil.example@app.example'],
    ['http://app.example', 'app.example/x'],
    ['http://app.example', 'app.example:'],
    ['http://app.example', 'app.example:99999'],
    ['http://app.example', 'app.example:8o'],
    ['http://app.example', ''],
    ['http://app.example', '[::1'],
    ['not a url', 'app.example'],
  ])('%s is not the origin of a request to %j', (origin, host) => {
    expect(isSameOrigin(origin, host)).toBe(false);
  });

  it('is false without a host', () => {
    expect(isSameOrigin('http://app.example', undefined)).toBe(false);
  });
});

describe('requestHost', () => {
  const proxied = requestFrom([
    ['Host', 'backend:3000'],
    ['X-Forwarded-Host', 'public.example, inner.example'],
  ]);

  it('is the Host header when the proxy is not trusted', () => {
    expect(requestHost(proxied, false)).toBe('backend:3000');
  });

  it('is the first X-Forwarded-Host value when the proxy is trusted', () => {
    expect(requestHost(proxied, true)).toBe('public.example');
  });

  it('falls back to Host when a trusted request carries no X-Forwarded-Host', () => {
    expect(requestHost(requestFrom([['Host', 'backend:3000']]), true)).toBe('backend:3000');
  });
});

import { checkOrigin } from '../../src/handshake';
import { requestFrom, thrownBy, VALID_HEADERS } from './request-fixture';

const req = requestFrom(VALID_HEADERS);
const forbidden = { status: 403, code: 'WS_HANDSHAKE_ORIGIN_FORBIDDEN', headers: {} };

describe('checkOrigin', () => {
  it('allows any origin, and none, when there is no check', () => {
    expect(() => checkOrigin('https://evil.example', undefined, req)).not.toThrow();
    expect(() => checkOrigin(undefined, undefined, req)).not.toThrow();
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

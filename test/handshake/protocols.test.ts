import { isHandshakeError } from '../../src/errors';
import { parseProtocols, selectProtocol } from '../../src/handshake';
import { requestFrom, thrownBy, VALID_HEADERS } from './request-fixture';

const req = requestFrom(VALID_HEADERS);

describe('parseProtocols', () => {
  it.each<[string | undefined, string[]]>([
    [undefined, []],
    ['chat', ['chat']],
    ['chat, superchat', ['chat', 'superchat']],
    ['chat,superchat', ['chat', 'superchat']],
    [' \tchat ,\tsuperchat\t', ['chat', 'superchat']],
    // Node joins several header lines with ", "; an empty line leaves an empty element (RFC 7230 §7: ignore it).
    [', chat', ['chat']],
    ['a, , b,', ['a', 'b']],
    ['Chat, chat', ['Chat', 'chat']],
    ["v1.json!#$%&'*+-.^_`|~", ["v1.json!#$%&'*+-.^_`|~"]],
  ])('reads %j as %j, in client order', (header, expected) => {
    expect(parseProtocols(header)).toEqual(expected);
  });

  it.each([
    ['', 'WS_HANDSHAKE_BAD_PROTOCOL'],
    [' , ', 'WS_HANDSHAKE_BAD_PROTOCOL'],
    ['chat superchat', 'WS_HANDSHAKE_BAD_PROTOCOL'],
    ['chat/1', 'WS_HANDSHAKE_BAD_PROTOCOL'],
    ['"chat"', 'WS_HANDSHAKE_BAD_PROTOCOL'],
    ['chät', 'WS_HANDSHAKE_BAD_PROTOCOL'],
    ['chat, chat', 'WS_HANDSHAKE_DUPLICATE_PROTOCOL'],
    ['a, b, a', 'WS_HANDSHAKE_DUPLICATE_PROTOCOL'],
  ])('refuses %j with 400 %s', (header, code) => {
    const err = thrownBy(() => parseProtocols(header));
    expect(isHandshakeError(err)).toBe(true);
    expect(err).toMatchObject({ status: 400, code });
  });
});

describe('selectProtocol', () => {
  it('picks the first protocol in server preference order that the client offered', () => {
    expect(selectProtocol(['chat.v1', 'chat.v2'], { protocols: ['chat.v2', 'chat.v1'] }, req)).toBe('chat.v2');
  });

  it('answers undefined when no server protocol was offered', () => {
    expect(selectProtocol(['mqtt'], { protocols: ['chat.v2'] }, req)).toBeUndefined();
  });

  it('answers undefined when the server has no protocols configured', () => {
    expect(selectProtocol(['chat'], {}, req)).toBeUndefined();
  });

  it('compares protocol names case-sensitively', () => {
    expect(selectProtocol(['Chat'], { protocols: ['chat'] }, req)).toBeUndefined();
  });

  it('passes the offered list and the request to handleProtocols and answers its choice', () => {
    const handleProtocols = jest.fn((offered: readonly string[]) => offered[1]);
    expect(selectProtocol(['a', 'b'], { handleProtocols }, req)).toBe('b');
    expect(handleProtocols).toHaveBeenCalledWith(['a', 'b'], req);
  });

  it('lets handleProtocols take precedence over the protocols list', () => {
    expect(selectProtocol(['a', 'b'], { protocols: ['a'], handleProtocols: () => 'b' }, req)).toBe('b');
  });

  it.each<[false | undefined]>([[false], [undefined]])('answers undefined when handleProtocols returns %j', (answer) => {
    expect(selectProtocol(['a'], { handleProtocols: () => answer }, req)).toBeUndefined();
  });

  it('never answers a protocol the client did not offer, whatever handleProtocols returns', () => {
    expect(selectProtocol(['a', 'b'], { handleProtocols: () => 'c' }, req)).toBeUndefined();
    expect(selectProtocol(['a'], { handleProtocols: () => 'A' }, req)).toBeUndefined();
    expect(selectProtocol(['a'], { handleProtocols: () => '' }, req)).toBeUndefined();
  });

  it('does not call handleProtocols when the client offered nothing', () => {
    const handleProtocols = jest.fn(() => 'a');
    expect(selectProtocol([], { handleProtocols }, req)).toBeUndefined();
    expect(handleProtocols).not.toHaveBeenCalled();
  });

  it('lets an error thrown by handleProtocols reach the caller', () => {
    const boom = new Error('boom');
    expect(() =>
      selectProtocol(['a'], { handleProtocols: () => { throw boom; } }, req),
    ).toThrow(boom);
  });
});

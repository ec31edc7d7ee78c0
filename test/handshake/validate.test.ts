import { isHandshakeError, type HandshakeError } from '../../src/errors';
import { validateHandshake, type UpgradeRequestLike } from '../../src/handshake';
import { headersWith, headersWithout, requestFrom, RFC_KEY, thrownBy, VALID_HEADERS } from './request-fixture';

/** The HandshakeError that validating `req` throws. */
function refusal(req: UpgradeRequestLike): HandshakeError {
  const err = thrownBy(() => validateHandshake(req));
  if (!isHandshakeError(err)) throw err;
  return err;
}

describe('validateHandshake accepts', () => {
  it('the RFC 6455 §1.2 sample handshake and returns key, protocols, extensions and origin', () => {
    expect(validateHandshake(requestFrom(VALID_HEADERS))).toEqual({
      key: RFC_KEY,
      protocols: ['chat', 'superchat'],
      extensions: [],
      origin: 'http://example.com',
    });
  });

  it('a request without Origin, Sec-WebSocket-Protocol or Sec-WebSocket-Extensions', () => {
    const req = requestFrom(headersWithout('origin').filter(([n]) => n !== 'Sec-WebSocket-Protocol'));
    expect(validateHandshake(req)).toEqual({ key: RFC_KEY, protocols: [], extensions: [], origin: undefined });
  });

  it('HTTP/1.2 and HTTP/2 version numbers as "at least 1.1"', () => {
    expect(() => validateHandshake(requestFrom(VALID_HEADERS, { httpVersionMinor: 2 }))).not.toThrow();
    expect(() => validateHandshake(requestFrom(VALID_HEADERS, { httpVersionMajor: 2, httpVersionMinor: 0 }))).not.toThrow();
  });

  it.each([['WebSocket'], ['WEBSOCKET'], ['websocket, foo'], ['foo/2, websocket'], ['h2c,websocket']])(
    'the Upgrade header %j, which carries the token websocket',
    (upgrade) => {
      expect(() => validateHandshake(requestFrom(headersWith('upgrade', upgrade)))).not.toThrow();
    },
  );

  it.each([['upgrade'], ['UPGRADE'], ['keep-alive, Upgrade'], ['Upgrade ,\tkeep-alive'], ['close,upgrade']])(
    'the Connection header %j, which carries the token upgrade',
    (connection) => {
      expect(() => validateHandshake(requestFrom(headersWith('connection', connection)))).not.toThrow();
    },
  );

  it('subprotocols and extensions sent on several header lines, joined by Node', () => {
    const req = requestFrom([
      ...headersWithout('sec-websocket-protocol'),
      ['Sec-WebSocket-Protocol', 'a'],
      ['Sec-WebSocket-Protocol', 'b, c'],
      ['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits'],
      ['Sec-WebSocket-Extensions', 'x-foo'],
    ]);
    const { protocols, extensions } = validateHandshake(req);
    expect(protocols).toEqual(['a', 'b', 'c']);
    expect(extensions).toEqual([
      { name: 'permessage-deflate', params: [['client_max_window_bits', true]] },
      { name: 'x-foo', params: [] },
    ]);
  });

  it('a hand-built request whose header value is an array, joined as Node joins duplicates', () => {
    const req = requestFrom(VALID_HEADERS);
    (req.headers as Record<string, string | string[]>)['sec-websocket-protocol'] = ['a', 'b'];
    expect(validateHandshake(req).protocols).toEqual(['a', 'b']);
  });

  it('a hand-built request whose rawHeaders is empty, counting each header in headers once', () => {
    const req: UpgradeRequestLike = { ...requestFrom(VALID_HEADERS), rawHeaders: [] };
    expect(validateHandshake(req).key).toBe(RFC_KEY);
  });
});

describe('validateHandshake refuses', () => {
  it.each([['POST'], ['HEAD'], ['get'], [undefined]])('method %j with 400 WS_HANDSHAKE_BAD_METHOD', (method) => {
    const req = requestFrom(VALID_HEADERS);
    req.method = method;
    expect(refusal(req)).toMatchObject({ status: 400, code: 'WS_HANDSHAKE_BAD_METHOD', headers: {} });
  });

  it.each([
    [1, 0],
    [0, 9],
  ])('HTTP/%i.%i with 400 WS_HANDSHAKE_BAD_HTTP_VERSION (ws accepts HTTP/1.0)', (major, minor) => {
    const req = requestFrom(VALID_HEADERS, { httpVersionMajor: major, httpVersionMinor: minor });
    expect(refusal(req)).toMatchObject({ status: 400, code: 'WS_HANDSHAKE_BAD_HTTP_VERSION' });
  });

  it('a request without Host with 400 WS_HANDSHAKE_MISSING_HOST', () => {
    expect(refusal(requestFrom(headersWithout('host')))).toMatchObject({ status: 400, code: 'WS_HANDSHAKE_MISSING_HOST' });
  });

  it('two Host headers with 400 WS_HANDSHAKE_DUPLICATE_HOST, though Node keeps only the first', () => {
    const req = requestFrom([...VALID_HEADERS, ['Host', 'evil.example']]);
    expect(req.headers.host).toBe('server.example.com');
    expect(refusal(req)).toMatchObject({ status: 400, code: 'WS_HANDSHAKE_DUPLICATE_HOST' });
  });

  it.each([['websockets'], ['websocket/13'], ['h2c'], ['']])(
    'the Upgrade header %j with 400 WS_HANDSHAKE_BAD_UPGRADE',
    (upgrade) => {
      expect(refusal(requestFrom(headersWith('upgrade', upgrade)))).toMatchObject({
        status: 400,
        code: 'WS_HANDSHAKE_BAD_UPGRADE',
      });
    },
  );

  it('a request without Upgrade with 400 WS_HANDSHAKE_BAD_UPGRADE', () => {
    expect(refusal(requestFrom(headersWithout('upgrade')))).toMatchObject({ code: 'WS_HANDSHAKE_BAD_UPGRADE' });
  });

  it.each([['keep-alive'], ['upgraded'], ['Up grade'], ['']])(
    'the Connection header %j with 400 WS_HANDSHAKE_BAD_CONNECTION (ws does not check it)',
    (connection) => {
      expect(refusal(requestFrom(headersWith('connection', connection)))).toMatchObject({
        status: 400,
        code: 'WS_HANDSHAKE_BAD_CONNECTION',
      });
    },
  );

  it('a request without Connection with 400 WS_HANDSHAKE_BAD_CONNECTION', () => {
    expect(refusal(requestFrom(headersWithout('connection')))).toMatchObject({ code: 'WS_HANDSHAKE_BAD_CONNECTION' });
  });

  it.each([['8'], ['7'], ['14'], ['13, 8'], ['013'], ['']])(
    'Sec-WebSocket-Version %j with 426 and Sec-WebSocket-Version: 13',
    (version) => {
      expect(refusal(requestFrom(headersWith('sec-websocket-version', version)))).toMatchObject({
        status: 426,
        code: 'WS_HANDSHAKE_UNSUPPORTED_VERSION',
        headers: { 'Sec-WebSocket-Version': '13' },
      });
    },
  );

  it('a request without Sec-WebSocket-Version with 426 and Sec-WebSocket-Version: 13 (ws answers 400)', () => {
    expect(refusal(requestFrom(headersWithout('sec-websocket-version')))).toMatchObject({
      status: 426,
      headers: { 'Sec-WebSocket-Version': '13' },
    });
  });

  it('a hixie-76 style request (no Key, no Version) with 426, so the client learns version 13', () => {
    const req = requestFrom([
      ...headersWithout('sec-websocket-key').filter(([n]) => n !== 'Sec-WebSocket-Version'),
      ['Sec-WebSocket-Key1', '4 @1  46546xW%0l 1 5'],
      ['Sec-WebSocket-Key2', '12998 5 Y3 1  .P00'],
    ]);
    expect(refusal(req)).toMatchObject({ status: 426, code: 'WS_HANDSHAKE_UNSUPPORTED_VERSION' });
  });

  it('two Sec-WebSocket-Version: 13 headers with 400 WS_HANDSHAKE_DUPLICATE_VERSION', () => {
    const req = requestFrom([...VALID_HEADERS, ['sec-websocket-version', '13']]);
    expect(refusal(req)).toMatchObject({ status: 400, code: 'WS_HANDSHAKE_DUPLICATE_VERSION', headers: {} });
  });

  it('a request without Sec-WebSocket-Key with 400 WS_HANDSHAKE_MISSING_KEY', () => {
    expect(refusal(requestFrom(headersWithout('sec-websocket-key')))).toMatchObject({
      status: 400,
      code: 'WS_HANDSHAKE_MISSING_KEY',
    });
  });

  it('two Sec-WebSocket-Key headers with 400 WS_HANDSHAKE_DUPLICATE_KEY, even when both are identical', () => {
    const req = requestFrom([...VALID_HEADERS, ['Sec-WebSocket-Key', RFC_KEY]]);
    expect(refusal(req)).toMatchObject({ status: 400, code: 'WS_HANDSHAKE_DUPLICATE_KEY' });
  });

  it.each([['dGhlIHNhbXBsZSBub25jZQ'], ['dGhlIHNhbXBsZSBub25j'], ['not a key at all'], ['']])(
    'the Sec-WebSocket-Key %j with 400 WS_HANDSHAKE_BAD_KEY',
    (key) => {
      expect(refusal(requestFrom(headersWith('sec-websocket-key', key)))).toMatchObject({
        status: 400,
        code: 'WS_HANDSHAKE_BAD_KEY',
      });
    },
  );

  it('two Origin headers with 400 WS_HANDSHAKE_DUPLICATE_ORIGIN', () => {
    const req = requestFrom([...VALID_HEADERS, ['Origin', 'http://evil.example']]);
    expect(refusal(req)).toMatchObject({ status: 400, code: 'WS_HANDSHAKE_DUPLICATE_ORIGIN' });
  });

  it.each([['chat superchat'], ['chat, chat'], ['chat/1'], ['']])(
    'the Sec-WebSocket-Protocol %j with 400',
    (protocols) => {
      expect(refusal(requestFrom(headersWith('sec-websocket-protocol', protocols))).status).toBe(400);
    },
  );

  it('a malformed Sec-WebSocket-Extensions with 400 WS_HANDSHAKE_BAD_EXTENSIONS', () => {
    const req = requestFrom([...VALID_HEADERS, ['Sec-WebSocket-Extensions', 'permessage-deflate; =10']]);
    expect(refusal(req)).toMatchObject({ status: 400, code: 'WS_HANDSHAKE_BAD_EXTENSIONS' });
  });
});

describe('validateHandshake checks in order, cheap structure first', () => {
  it('reports the method before anything else is wrong', () => {
    const req = requestFrom([], { method: 'POST', httpVersionMinor: 0 });
    expect(refusal(req).code).toBe('WS_HANDSHAKE_BAD_METHOD');
  });

  it('reports the HTTP version before a missing Host', () => {
    expect(refusal(requestFrom([], { httpVersionMinor: 0 })).code).toBe('WS_HANDSHAKE_BAD_HTTP_VERSION');
  });

  it('reports a missing Upgrade before a bad Key', () => {
    const req = requestFrom([['Host', 'a'], ['Sec-WebSocket-Key', 'x'], ['Sec-WebSocket-Version', '13']]);
    expect(refusal(req).code).toBe('WS_HANDSHAKE_BAD_UPGRADE');
  });

  it('reports a wrong version before a bad Key', () => {
    const req = requestFrom([...headersWith('sec-websocket-key', 'x').filter(([n]) => n !== 'Sec-WebSocket-Version'), ['Sec-WebSocket-Version', '8']]);
    expect(refusal(req).status).toBe(426);
  });

  it('reports a bad Key before a malformed extension list', () => {
    const req = requestFrom([...headersWith('sec-websocket-key', 'x'), ['Sec-WebSocket-Extensions', ';;']]);
    expect(refusal(req).code).toBe('WS_HANDSHAKE_BAD_KEY');
  });
});

import { buildAcceptResponse, buildRejectResponse, handshakeError } from '../../src/handshake';
import { RFC_KEY } from './request-fixture';

describe('buildAcceptResponse', () => {
  it('writes the RFC 6455 §1.3 101 response byte for byte', () => {
    expect(buildAcceptResponse({ key: RFC_KEY })).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
        '\r\n',
    );
  });

  it('adds Sec-WebSocket-Protocol, then Sec-WebSocket-Extensions, then the extra headers in order', () => {
    const response = buildAcceptResponse({
      key: RFC_KEY,
      protocol: 'chat',
      extensions: 'permessage-deflate; server_max_window_bits=10',
      headers: { 'X-Request-Id': '42', 'Set-Cookie': ['a=1', 'b=2'] },
    });
    expect(response).toBe(
      'HTTP/1.1 101 Switching Protocols\r\n' +
        'Upgrade: websocket\r\n' +
        'Connection: Upgrade\r\n' +
        'Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n' +
        'Sec-WebSocket-Protocol: chat\r\n' +
        'Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n' +
        'X-Request-Id: 42\r\n' +
        'Set-Cookie: a=1\r\n' +
        'Set-Cookie: b=2\r\n' +
        '\r\n',
    );
  });

  it('writes Sec-WebSocket-Extensions without Sec-WebSocket-Protocol when only extensions are given', () => {
    const response = buildAcceptResponse({ key: RFC_KEY, extensions: 'permessage-deflate' });
    expect(response).not.toContain('Sec-WebSocket-Protocol');
    expect(response.endsWith('Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n')).toBe(true);
  });

  it.each<[Record<string, string>, string]>([
    [{ 'X-Bad': 'a\r\nInjected: 1' }, 'a CRLF in a value'],
    [{ 'X-Bad': 'a\nb' }, 'a bare LF in a value'],
    [{ 'X-Bad': 'caf\u00e9' }, 'a non-ASCII value'],
    [{ 'Bad Name': 'a' }, 'a space in a name'],
    [{ '': 'a' }, 'an empty name'],
    [{ upgrade: 'h2c' }, 'a second Upgrade'],
    [{ 'Sec-WebSocket-Accept': 'x' }, 'a second Sec-WebSocket-Accept'],
  ])('refuses the extra header %j (%s) with a TypeError', (headers) => {
    expect(() => buildAcceptResponse({ key: RFC_KEY, headers })).toThrow(TypeError);
  });

  it('refuses a protocol or extensions value with a line break', () => {
    expect(() => buildAcceptResponse({ key: RFC_KEY, protocol: 'a\r\nX: 1' })).toThrow(TypeError);
    expect(() => buildAcceptResponse({ key: RFC_KEY, extensions: 'a\r\n' })).toThrow(TypeError);
  });
});

describe('buildRejectResponse', () => {
  it('writes a complete 400 with reason phrase, Connection: close, plain-text type, length and body', () => {
    expect(buildRejectResponse(400, 'missing Host header')).toBe(
      'HTTP/1.1 400 Bad Request\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        'Content-Length: 19\r\n' +
        '\r\n' +
        'missing Host header',
    );
  });

  it('writes a catalogued 426 refusal with its Sec-WebSocket-Version header', () => {
    const err = handshakeError('WS_HANDSHAKE_UNSUPPORTED_VERSION');
    expect(buildRejectResponse(err.status, err.message, err.headers)).toBe(
      'HTTP/1.1 426 Upgrade Required\r\n' +
        'Connection: close\r\n' +
        'Content-Type: text/plain; charset=utf-8\r\n' +
        `Content-Length: ${err.message.length}\r\n` +
        'Sec-WebSocket-Version: 13\r\n' +
        '\r\n' +
        err.message,
    );
  });

  it.each([
    [403, 'Forbidden'],
    [404, 'Not Found'],
    [408, 'Request Timeout'],
    [500, 'Internal Server Error'],
    [503, 'Service Unavailable'],
  ])('starts a %i with its reason phrase %j', (status, reason) => {
    expect(buildRejectResponse(status, '').startsWith(`HTTP/1.1 ${status} ${reason}\r\n`)).toBe(true);
  });

  it('names a status Node does not know "Unknown"', () => {
    expect(buildRejectResponse(499, '').startsWith('HTTP/1.1 499 Unknown\r\n')).toBe(true);
  });

  it('counts Content-Length in UTF-8 bytes, not characters', () => {
    expect(buildRejectResponse(400, 'é€😀')).toContain('Content-Length: 9\r\n');
  });

  it('lets an extra Content-Type replace the plain-text default', () => {
    const response = buildRejectResponse(401, '{}', { 'content-type': 'application/json' });
    expect(response).not.toContain('text/plain');
    expect(response).toContain('content-type: application/json\r\n');
  });

  it.each<[Record<string, string>]>([[{ 'Content-Length': '0' }], [{ connection: 'keep-alive' }], [{ 'X-Bad': 'a\r\nb' }]])(
    'refuses the extra header %j with a TypeError',
    (headers) => {
      expect(() => buildRejectResponse(400, '', headers)).toThrow(TypeError);
    },
  );

  it.each([[101], [200], [600], [400.5], [Number.NaN]])('refuses %p, which is not a rejection status', (status) => {
    expect(() => buildRejectResponse(status, '')).toThrow(TypeError);
  });
});

import { startApp, type RunningApp } from '../../helpers/app-server';
import { rawExchange, SAMPLE_ACCEPT, upgradeRequest } from '../../helpers/raw-http';

let running: RunningApp;
beforeAll(async () => {
  running = await startApp(
    (app) => {
      app.ws('/chat', (ws) => ws.send('welcome'));
    },
    { protocols: ['chat.v2', 'chat.v1'], origins: ['http://good.example'] },
  );
});
afterAll(() => running.close());

function exchange(request: string) {
  return rawExchange(running.port, request).then((res) => {
    res.socket.destroy();
    return res;
  });
}

test('answers a valid handshake with the exact 101 response for the RFC sample key (plus the headers Express set on res)', async () => {
  const res = await exchange(upgradeRequest('/chat', ['Origin: http://good.example']));
  expect(res.raw.slice(0, res.raw.indexOf('\r\n\r\n') + 4)).toBe(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${SAMPLE_ACCEPT}\r\n` +
      // Express's own init middleware sets it on every response, a GET's included.
      'X-Powered-By: Express\r\n' +
      '\r\n',
  );
});

test('answers the preferred subprotocol among those the client offered', async () => {
  const res = await exchange(upgradeRequest('/chat', ['Origin: http://good.example', 'Sec-WebSocket-Protocol: chat.v1, chat.v2']));
  expect(res.status).toBe(101);
  expect(res.headers['sec-websocket-protocol']).toBe('chat.v2');
});

test('answers no subprotocol when the client offered none the server speaks', async () => {
  const res = await exchange(upgradeRequest('/chat', ['Origin: http://good.example', 'Sec-WebSocket-Protocol: other']));
  expect(res.status).toBe(101);
  expect(res.headers['sec-websocket-protocol']).toBeUndefined();
});

const rejections: Array<[string, string, number, Record<string, string>]> = [
  ['an HTTP/1.0 upgrade', upgradeRequest('/chat').replace('HTTP/1.1', 'HTTP/1.0'), 400, {}],
  ['a POST upgrade', upgradeRequest('/chat').replace('GET', 'POST'), 400, {}],
  ['a request without Host', upgradeRequest('/chat', [], ['Host']), 400, {}],
  ['an Upgrade header without the websocket token', upgradeRequest('/chat', ['Upgrade: h2c'], ['Upgrade']), 400, {}],
  ['a Connection header without the upgrade token', upgradeRequest('/chat', ['Connection: keep-alive'], ['Connection']), 400, {}],
  ['a missing Sec-WebSocket-Key', upgradeRequest('/chat', [], ['Sec-WebSocket-Key']), 400, {}],
  ['a key that is not base64 of 16 bytes', upgradeRequest('/chat', ['Sec-WebSocket-Key: c2hvcnQ='], ['Sec-WebSocket-Key']), 400, {}],
  ['two Sec-WebSocket-Key headers', upgradeRequest('/chat', ['Sec-WebSocket-Key: AQIDBAUGBwgJCgsMDQ4PEA==']), 400, {}],
  ['version 8', upgradeRequest('/chat', ['Sec-WebSocket-Version: 8'], ['Sec-WebSocket-Version']), 426, { 'sec-websocket-version': '13' }],
  ['an origin that is not allowed', upgradeRequest('/chat', ['Origin: http://evil.example']), 403, {}],
];

test.each(rejections)('refuses %s with its status and closes the connection', async (_name, request, status, headers) => {
  const res = await exchange(request);
  expect(res.status).toBe(status);
  expect(res.headers.connection).toBe('close');
  expect(res.headers['content-type']).toMatch(/^text\/plain/);
  expect(res.body.length).toBeGreaterThan(0);
  expect(res.headers).toMatchObject(headers);
});

test('accepts Connection and Upgrade as comma lists in any case', async () => {
  const res = await exchange(
    upgradeRequest('/chat', ['Origin: http://good.example', 'Connection: keep-alive, UPGRADE', 'Upgrade: WebSocket'], ['Connection', 'Upgrade']),
  );
  expect(res.status).toBe(101);
});

test('answers 404 for an upgrade to a path no ws route matches', async () => {
  const res = await exchange(upgradeRequest('/nowhere'));
  expect(res.statusLine).toBe('HTTP/1.1 404 Not Found');
});

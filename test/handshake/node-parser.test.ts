import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { validateHandshake, type UpgradeRequestLike } from '../../src/handshake';

/**
 * Send `head` to a real Node HTTP server and validate the request its parser
 * builds: the fixture's claims about how Node joins and drops duplicate
 * headers are checked here against the real thing.
 */
async function validateThroughNode(head: string): Promise<unknown> {
  const server = http.createServer();
  const outcome = new Promise<unknown>((resolve) => {
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket) => {
      socket.destroy();
      try {
        resolve(validateHandshake(req satisfies UpgradeRequestLike));
      } catch (err) {
        resolve(err);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = net.connect((server.address() as AddressInfo).port, '127.0.0.1');
  client.on('error', () => {});
  client.write(head);
  try {
    return await outcome;
  } finally {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

const HEAD = [
  'GET /chat HTTP/1.1',
  'Host: server.example.com',
  'Upgrade: websocket',
  'Connection: Upgrade',
  'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
  'Sec-WebSocket-Version: 13',
];
const request = (...extra: string[]): string => [...HEAD, ...extra, '', ''].join('\r\n');

describe('validateHandshake on requests parsed by Node', () => {
  it('accepts a valid request and reads protocols and extensions sent on several lines', async () => {
    const result = await validateThroughNode(
      request('Sec-WebSocket-Protocol: a', 'Sec-WebSocket-Protocol: b', 'Sec-WebSocket-Extensions: x; y=1', 'Sec-WebSocket-Extensions: z'),
    );
    expect(result).toEqual({
      key: 'dGhlIHNhbXBsZSBub25jZQ==',
      protocols: ['a', 'b'],
      extensions: [
        { name: 'x', params: [['y', '1']] },
        { name: 'z', params: [] },
      ],
      origin: undefined,
    });
  });

  it('refuses a second Host line that Node drops from req.headers', async () => {
    expect(await validateThroughNode(request('Host: evil.example'))).toMatchObject({ code: 'WS_HANDSHAKE_DUPLICATE_HOST' });
  });

  it('refuses a second Sec-WebSocket-Key line that Node joins with ", "', async () => {
    expect(await validateThroughNode(request('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=='))).toMatchObject({
      code: 'WS_HANDSHAKE_DUPLICATE_KEY',
    });
  });

  it('refuses HTTP/1.0, which Node passes to the upgrade listener', async () => {
    const head = request().replace('HTTP/1.1', 'HTTP/1.0');
    expect(await validateThroughNode(head)).toMatchObject({ status: 400, code: 'WS_HANDSHAKE_BAD_HTTP_VERSION' });
  });
});

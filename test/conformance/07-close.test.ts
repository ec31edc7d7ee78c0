/**
 * Autobahn category 7 (close handling): RFC 6455 §5.5.1 — the server answers
 * a close frame with a close frame echoing the status code, then ends the
 * TCP connection (§7.1.1: the server closes first); nothing after a close
 * frame is processed. §7.4 — codes that may not be on the wire, a 1-byte body,
 * or a reason that is not UTF-8 fail the connection.
 */
import { BINARY, CLOSE, CONTINUATION, PING, TEXT, expectCloseCode, expectEcho, expectFrame, useEchoServer } from './echo-fixture';
import { clientFrame, closePayload, type RawClient } from '../helpers/raw-client';

const echo = useEchoServer();

/** The server's next frame is exactly a close frame with `body`; then nothing more, and TCP ends. */
async function expectCloseFrame(client: RawClient, body: Buffer): Promise<void> {
  expectFrame(await client.nextFrame(), CLOSE, body);
  await client.closed;
  await expect(client.nextFrame()).rejects.toThrow('closed');
}

describe('the closing handshake', () => {
  test('7.1.1 echoes a text message, then answers a close with 1000 by echoing 1000 and ending the TCP connection', async () => {
    const client = await echo().connect();
    client.send(Buffer.concat([clientFrame(TEXT, 'Hello World!'), clientFrame(CLOSE, closePayload(1000))]));
    await expectEcho(client, TEXT, 'Hello World!');
    await expectCloseFrame(client, closePayload(1000));
  });

  test('7.3.4 answers a close with code 1000 and a reason by echoing the code only', async () => {
    const client = await echo().connect();
    client.sendFrame(CLOSE, closePayload(1000, 'Hello World!'));
    await expectCloseFrame(client, closePayload(1000));
  });

  test('7.3.1 answers a close without payload with a close without payload', async () => {
    const client = await echo().connect();
    client.sendFrame(CLOSE, Buffer.alloc(0));
    await expectCloseFrame(client, Buffer.alloc(0));
  });

  test('7.1.2 ignores a second close frame', async () => {
    const client = await echo().connect();
    client.send(Buffer.concat([clientFrame(CLOSE, closePayload(1000)), clientFrame(CLOSE, closePayload(1001))]));
    await expectCloseFrame(client, closePayload(1000));
  });

  test('7.1.3 does not answer a ping sent after the close frame', async () => {
    const client = await echo().connect();
    client.send(Buffer.concat([clientFrame(CLOSE, closePayload(1000)), clientFrame(PING, 'Hello World!')]));
    await expectCloseFrame(client, closePayload(1000));
  });

  test('7.1.4 does not echo a text message sent after the close frame', async () => {
    const client = await echo().connect();
    client.send(Buffer.concat([clientFrame(CLOSE, closePayload(1000)), clientFrame(TEXT, 'Hello World!')]));
    await expectCloseFrame(client, closePayload(1000));
  });

  test('7.1.5 does not echo a fragmented message whose last fragment comes after the close frame', async () => {
    const client = await echo().connect();
    client.send(
      Buffer.concat([
        clientFrame(TEXT, 'fragment1', { fin: false }),
        clientFrame(CLOSE, closePayload(1000)),
        clientFrame(CONTINUATION, 'fragment2', { fin: true }),
      ]),
    );
    await expectCloseFrame(client, closePayload(1000));
  });

  test('7.1.6 echoes a large message sent before the close frame, then answers the close', async () => {
    const client = await echo().connect();
    const big = Buffer.alloc(256 * 1024, 'BAsd7&jh23');
    client.send(Buffer.concat([clientFrame(TEXT, big), clientFrame(PING, 'ping'), clientFrame(CLOSE, closePayload(1000))]));
    await expectEcho(client, TEXT, big);
    await expectEcho(client, 0xa, 'ping');
    await expectCloseFrame(client, closePayload(1000));
  });

  test('ignores data frames that follow the close frame when they arrive in a later write', async () => {
    const client = await echo().connect();
    client.sendFrame(CLOSE, closePayload(1000));
    expectFrame(await client.nextFrame(), CLOSE, closePayload(1000));
    if (!client.socket.destroyed && client.socket.writable) client.sendFrame(BINARY, 'too late');
    await client.closed;
    await expect(client.nextFrame()).rejects.toThrow('closed');
  });

  test('reports the peer\'s code and reason in the server-side close event', async () => {
    const client = await echo().connect();
    const serverClose = echo().serverClose(client);
    client.sendFrame(CLOSE, closePayload(4321, 'going away now'));
    await expectCloseFrame(client, closePayload(4321));
    expect(await serverClose).toEqual({ code: 4321, reason: 'going away now' });
  });

  test('reports 1005 in the server-side close event when the peer\'s close frame has no code', async () => {
    const client = await echo().connect();
    const serverClose = echo().serverClose(client);
    client.sendFrame(CLOSE, Buffer.alloc(0));
    await expectCloseFrame(client, Buffer.alloc(0));
    expect(await serverClose).toEqual({ code: 1005, reason: '' });
  });

  test('reports 1006 in the server-side close event when the TCP connection drops without a close frame', async () => {
    const client = await echo().connect();
    const serverClose = echo().serverClose(client);
    client.destroy();
    expect((await serverClose).code).toBe(1006);
  });

  test('ends its side when the client half-closes TCP without a close frame, reporting 1006', async () => {
    const client = await echo().connect();
    const serverClose = echo().serverClose(client);
    client.socket.end();
    await client.closed;
    expect((await serverClose).code).toBe(1006);
  });

  test('reports the close code it failed the connection with in the server-side close event', async () => {
    const client = await echo().connect();
    const serverClose = echo().serverClose(client);
    client.sendFrame(CLOSE, Buffer.from([0x03]));
    await expectCloseCode(client, 1002);
    expect((await serverClose).code).toBe(1002);
  });
});

describe('close frame payloads', () => {
  test('7.3.2 closes with 1002 on a close frame with a 1-byte payload', async () => {
    const client = await echo().connect();
    client.sendFrame(CLOSE, Buffer.from([0x03]));
    await expectCloseCode(client, 1002);
  });

  test('7.3.5 accepts a close reason of 123 bytes, the most that fits in a control frame', async () => {
    const client = await echo().connect();
    const serverClose = echo().serverClose(client);
    const reason = '*'.repeat(123);
    client.sendFrame(CLOSE, closePayload(1000, reason));
    await expectCloseFrame(client, closePayload(1000));
    expect(await serverClose).toEqual({ code: 1000, reason });
  });

  test('7.3.6 closes with 1002 on a close frame of 126 bytes (a 124-byte reason)', async () => {
    const client = await echo().connect();
    client.sendFrame(CLOSE, closePayload(1000, '*'.repeat(124)));
    await expectCloseCode(client, 1002);
  });

  test('accepts a multi-byte UTF-8 reason split nowhere special and reports it exactly', async () => {
    const client = await echo().connect();
    const serverClose = echo().serverClose(client);
    client.sendFrame(CLOSE, closePayload(1000, 'κόσμε 😀'));
    await expectCloseFrame(client, closePayload(1000));
    expect(await serverClose).toEqual({ code: 1000, reason: 'κόσμε 😀' });
  });

  test('7.5.1 closes with 1007 on a close reason that is not valid UTF-8', async () => {
    const client = await echo().connect();
    client.sendFrame(CLOSE, closePayload(1000, Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex')));
    await expectCloseCode(client, 1007);
  });

  test('closes with 1007 on a close reason that ends in a truncated UTF-8 sequence', async () => {
    const client = await echo().connect();
    client.sendFrame(CLOSE, closePayload(1000, Buffer.from('6f6bf09f98', 'hex')));
    await expectCloseCode(client, 1007);
  });

  test('answers a close frame that arrives one byte at a time', async () => {
    const client = await echo().connect();
    await client.sendChunked(clientFrame(CLOSE, closePayload(1001, 'bye')), 1);
    await expectCloseFrame(client, closePayload(1001));
  });
});

describe('close codes', () => {
  // 7.7.x: codes a peer may send (§7.4.1 defined codes, 1012–1014 registered since, 3000–4999).
  const VALID = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
  // 7.9.x: codes that must never be on the wire, or unassigned below 3000, or out of range.
  const INVALID = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];

  test.each(VALID)('7.7 echoes the valid close code %i', async (code) => {
    const client = await echo().connect();
    client.sendFrame(CLOSE, closePayload(code, 'reason'));
    await expectCloseFrame(client, closePayload(code));
  });

  test.each(INVALID)('7.9 closes with 1002 on the invalid close code %i', async (code) => {
    const client = await echo().connect();
    client.sendFrame(CLOSE, closePayload(code));
    await expectCloseCode(client, 1002);
  });
});

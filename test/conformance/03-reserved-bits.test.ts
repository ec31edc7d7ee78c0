/**
 * Autobahn category 3 (reserved bits): RFC 6455 §5.2 — RSV1–3 MUST be 0
 * unless an extension defines them; with none negotiated the server fails
 * the connection with 1002. A valid message that came before is echoed first.
 */
import { BINARY, PING, TEXT, expectCloseCode, expectEcho, useEchoServer } from './echo-fixture';
import { clientFrame, type FrameBits } from '../helpers/raw-client';

const echo = useEchoServer();

test('3.1 closes with 1002 on a text frame with RSV2 set', async () => {
  const client = await echo().connect();
  client.sendFrame(TEXT, 'Hello, world!', { rsv2: true });
  await expectCloseCode(client, 1002);
});

test('3.2 echoes a valid text message first, then closes with 1002 on a text frame with RSV1 set (no extension)', async () => {
  const client = await echo().connect();
  client.send(Buffer.concat([clientFrame(TEXT, 'Hello, world!'), clientFrame(TEXT, 'Hello, world!', { rsv1: true })]));
  await expectEcho(client, TEXT, 'Hello, world!');
  await expectCloseCode(client, 1002);
});

test('3.3 echoes a valid text message first, then closes with 1002 on a text frame with RSV1+RSV2 set, before answering a ping sent after it', async () => {
  const client = await echo().connect();
  client.send(
    Buffer.concat([
      clientFrame(TEXT, 'Hello, world!'),
      clientFrame(TEXT, 'Hello, world!', { rsv1: true, rsv2: true }),
      clientFrame(PING, ''),
    ]),
  );
  await expectEcho(client, TEXT, 'Hello, world!');
  // expectClose fails on any frame before the close frame: no pong may come.
  await expectCloseCode(client, 1002);
});

test('3.4 closes with 1002 on a text frame with RSV3 set, even when it arrives one byte at a time after a valid message', async () => {
  const client = await echo().connect();
  await client.sendChunked(
    Buffer.concat([clientFrame(TEXT, 'Hello, world!'), clientFrame(TEXT, 'Hello, world!', { rsv3: true }), clientFrame(PING, '')]),
    1,
  );
  await expectEcho(client, TEXT, 'Hello, world!');
  await expectCloseCode(client, 1002);
});

test('3.5 closes with 1002 on a binary frame with RSV1+RSV3 set', async () => {
  const client = await echo().connect();
  client.sendFrame(BINARY, Buffer.from([0x00, 0xff, 0xfe, 0xfd]), { rsv1: true, rsv3: true });
  await expectCloseCode(client, 1002);
});

test('3.6 closes with 1002 on a ping with RSV2+RSV3 set, without answering it', async () => {
  const client = await echo().connect();
  client.sendFrame(PING, 'Hello, world!', { rsv2: true, rsv3: true });
  await expectCloseCode(client, 1002);
});

test('3.7 closes with 1002 on a close frame with all RSV bits set', async () => {
  const client = await echo().connect();
  client.sendFrame(0x8, Buffer.from([0x03, 0xe8]), { rsv1: true, rsv2: true, rsv3: true });
  await expectCloseCode(client, 1002);
});

const BIT_SETS: Array<[string, FrameBits]> = [
  ['RSV1', { rsv1: true }],
  ['RSV2', { rsv2: true }],
  ['RSV3', { rsv3: true }],
];
const OPCODES: Array<[string, number]> = [
  ['text', TEXT],
  ['binary', BINARY],
  ['ping', PING],
];

describe.each(OPCODES)('a %s frame', (name, opcode) => {
  test.each(BIT_SETS)(`with only %s set closes the connection with 1002, after echoing the valid message sent before it in the same write`, async (_bit, bits) => {
    const client = await echo().connect();
    client.send(Buffer.concat([clientFrame(TEXT, 'valid first'), clientFrame(opcode, `${name} frame`, bits)]));
    await expectEcho(client, TEXT, 'valid first');
    await expectCloseCode(client, 1002);
  });
});

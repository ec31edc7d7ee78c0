/**
 * Autobahn category 2 (pings and pongs): RFC 6455 §5.5.2 — a ping is answered
 * with a pong carrying the same application data; §5.5.3 — an unsolicited
 * pong needs no answer; §5.5 — a control payload is at most 125 bytes.
 */
import { PING, PONG, TEXT, binaryData, expectCloseCode, expectEcho, useEchoServer } from './echo-fixture';
import { clientFrame } from '../helpers/raw-client';

const echo = useEchoServer();

test('2.1 answers a ping without payload with a pong without payload', async () => {
  const client = await echo().connect();
  client.sendFrame(PING, Buffer.alloc(0));
  await expectEcho(client, PONG, Buffer.alloc(0));
});

test('2.2 answers a ping with a text payload with a pong carrying the same bytes', async () => {
  const client = await echo().connect();
  client.sendFrame(PING, 'Hello, world!');
  await expectEcho(client, PONG, 'Hello, world!');
});

test('2.3 answers a ping with a binary payload with a pong carrying the same bytes', async () => {
  const client = await echo().connect();
  const payload = Buffer.from([0x00, 0xff, 0xfe, 0xfd, 0xfc, 0xfb, 0x00, 0xff]);
  client.sendFrame(PING, payload);
  await expectEcho(client, PONG, payload);
});

test('2.4 answers a ping with the largest allowed payload, 125 bytes, with the same 125 bytes', async () => {
  const client = await echo().connect();
  const payload = binaryData(125);
  client.sendFrame(PING, payload);
  await expectEcho(client, PONG, payload);
});

test('2.5 closes with 1002 when a ping carries 126 bytes, and drops the connection', async () => {
  const client = await echo().connect();
  client.sendFrame(PING, binaryData(126));
  await expectCloseCode(client, 1002);
});

test('closes with 1002 when an unsolicited pong carries 126 bytes', async () => {
  const client = await echo().connect();
  client.sendFrame(PONG, binaryData(126));
  await expectCloseCode(client, 1002);
});

test('2.6 answers a 125-byte ping whose frame arrives one byte at a time', async () => {
  const client = await echo().connect();
  const payload = binaryData(125);
  await client.sendChunked(clientFrame(PING, payload), 1);
  await expectEcho(client, PONG, payload);
});

test('2.7 ignores an unsolicited pong without payload: no reply, the connection stays open', async () => {
  const client = await echo().connect();
  client.sendFrame(PONG, Buffer.alloc(0));
  await client.expectNothing(50);
});

test('2.8 ignores an unsolicited pong with payload: no reply, the connection stays open', async () => {
  const client = await echo().connect();
  client.sendFrame(PONG, 'unsolicited pong payload');
  await client.expectNothing(50);
});

test('2.9 answers a ping sent after an unsolicited pong, and only the ping', async () => {
  const client = await echo().connect();
  client.send(Buffer.concat([clientFrame(PONG, 'unsolicited pong payload'), clientFrame(PING, 'ping payload')]));
  await expectEcho(client, PONG, 'ping payload');
  await client.expectNothing(50);
});

const TEN_PINGS = Array.from({ length: 10 }, (_, i) => `payload-${i}`);

test('2.10 answers 10 pings in a row with 10 pongs in the same order', async () => {
  const client = await echo().connect();
  client.send(Buffer.concat(TEN_PINGS.map((payload) => clientFrame(PING, payload))));
  for (const payload of TEN_PINGS) await expectEcho(client, PONG, payload);
});

test('2.11 answers 10 pings sent one byte at a time with 10 pongs in the same order', async () => {
  const client = await echo().connect();
  await client.sendChunked(Buffer.concat(TEN_PINGS.map((payload) => clientFrame(PING, payload))), 1);
  for (const payload of TEN_PINGS) await expectEcho(client, PONG, payload);
});

test('keeps echoing messages after answering a ping', async () => {
  const client = await echo().connect();
  client.send(Buffer.concat([clientFrame(PING, 'p'), clientFrame(TEXT, 'after the ping')]));
  await expectEcho(client, PONG, 'p');
  await expectEcho(client, TEXT, 'after the ping');
});

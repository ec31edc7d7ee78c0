/**
 * Autobahn category 10 (miscellaneous: auto-fragmentation): a 64 KiB message
 * in 1300-byte fragments is reassembled, and with `fragmentSize` the server
 * splits its own messages into frames of at most that many bytes: the first
 * with the opcode, the rest continuations, FIN on the last (RFC 6455 §5.4).
 */
import { BINARY, CONTINUATION, PING, PONG, TEXT, asciiText, binaryData, expectEcho, expectFrame, fragmentedMessage, useEchoServer } from './echo-fixture';
import { clientFrame, type RawClient } from '../helpers/raw-client';

const SIZE = 64 * 1024;
const FRAGMENT = 1300;


/** Read one message as the server fragmented it, asserting every frame exactly. */
async function expectFragmentedEcho(client: RawClient, opcode: number, payload: Buffer, size: number): Promise<void> {
  const count = Math.ceil(payload.length / size);
  for (let i = 0; i < count; i++) {
    const start = i * size;
    const end = Math.min(start + size, payload.length);
    const frame = await client.nextFrame();
    expect(frame.payload.length).toBeLessThanOrEqual(size);
    expectFrame(frame, i === 0 ? opcode : CONTINUATION, payload.subarray(start, end), i === count - 1);
  }
}

describe('without fragmentSize', () => {
  const echo = useEchoServer();

  test.each([
    ['10.1.1', 'text', TEXT, asciiText(SIZE)],
    ['', 'binary', BINARY, binaryData(SIZE)],
  ] as const)('%s echoes a 64 KiB %s message sent in 1300-byte fragments intact, as one frame', async (_case, _kind, opcode, payload) => {
    const client = await echo().connect();
    client.send(fragmentedMessage(opcode, payload, FRAGMENT));
    await expectEcho(client, opcode, payload);
  });
});

describe('with the server option fragmentSize: 1300', () => {
  const echo = useEchoServer({ fragmentSize: FRAGMENT });

  test.each([
    ['text', TEXT, asciiText(SIZE)],
    ['binary', BINARY, binaryData(SIZE)],
  ] as const)(
    'echoes a 64 KiB %s message as frames of at most 1300 bytes: the first with its opcode, then continuations, FIN on the last, reassembling exactly',
    async (_kind, opcode, payload) => {
      const client = await echo().connect();
      client.send(fragmentedMessage(opcode, payload, FRAGMENT));
      await expectFragmentedEcho(client, opcode, payload, FRAGMENT);
    },
  );

  test('splits a message that is not a multiple of the fragment size, the last frame carrying the remainder', async () => {
    const client = await echo().connect();
    const payload = binaryData(3 * FRAGMENT + 7);
    client.sendFrame(BINARY, payload);
    await expectFragmentedEcho(client, BINARY, payload, FRAGMENT);
  });

  test('sends a message of exactly the fragment size, and an empty one, as single frames', async () => {
    const client = await echo().connect();
    const payload = binaryData(FRAGMENT);
    client.send(Buffer.concat([clientFrame(BINARY, payload), clientFrame(TEXT, '')]));
    await expectEcho(client, BINARY, payload);
    await expectEcho(client, TEXT, '');
  });

  test('answers a ping with an unfragmented pong and keeps messages whole and in order around it', async () => {
    const client = await echo().connect();
    const first = asciiText(2 * FRAGMENT + 1);
    const second = binaryData(FRAGMENT + 1);
    client.send(Buffer.concat([clientFrame(TEXT, first), clientFrame(PING, 'ping'), clientFrame(BINARY, second)]));
    await expectFragmentedEcho(client, TEXT, first, FRAGMENT);
    await expectEcho(client, PONG, 'ping');
    await expectFragmentedEcho(client, BINARY, second, FRAGMENT);
  });
});

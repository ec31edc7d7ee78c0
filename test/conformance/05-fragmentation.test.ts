/**
 * Autobahn category 5 (fragmentation): RFC 6455 §5.4 — a message may be split
 * into frames (first with the opcode, then continuations, the last with FIN);
 * control frames may come between fragments but are never fragmented
 * themselves (§5.5); fragments of two messages never interleave. Every
 * scenario runs three ways: all frames in one write, frame by frame, and one
 * byte at a time.
 */
import { BINARY, CLOSE, CONTINUATION, PING, PONG, TEXT, binaryData, expectCloseCode, expectEcho, useEchoServer } from './echo-fixture';
import { clientFrame, type RawClient } from '../helpers/raw-client';

const echo = useEchoServer();

interface Scenario {
  name: string;
  frames: Buffer[];
  /** What the server must send back, in order. */
  expectReply(client: RawClient): Promise<void>;
}

const last = { fin: true };
const more = { fin: false };
const closesWith1002 = (client: RawClient) => expectCloseCode(client, 1002);
const manyBinary = binaryData(1000);

const scenarios: Scenario[] = [
  {
    name: '5.1 closes with 1002 on a ping fragmented into 2 frames (FIN=0 on a control frame)',
    frames: [clientFrame(PING, 'fragment1', more), clientFrame(CONTINUATION, 'fragment2', last)],
    expectReply: closesWith1002,
  },
  {
    name: '5.2 closes with 1002 on a pong fragmented into 2 frames',
    frames: [clientFrame(PONG, 'fragment1', more), clientFrame(CONTINUATION, 'fragment2', last)],
    expectReply: closesWith1002,
  },
  {
    name: 'closes with 1002 on a close frame with FIN=0, without echoing its code',
    frames: [clientFrame(CLOSE, Buffer.from([0x03, 0xe8]), more), clientFrame(CONTINUATION, 'x', last)],
    expectReply: closesWith1002,
  },
  {
    name: '5.3 echoes a text message fragmented into 2 frames as one unfragmented message',
    frames: [clientFrame(TEXT, 'fragment1', more), clientFrame(CONTINUATION, 'fragment2', last)],
    expectReply: (client) => expectEcho(client, TEXT, 'fragment1fragment2'),
  },
  {
    name: 'echoes a binary message fragmented into 2 frames as one unfragmented message',
    frames: [clientFrame(BINARY, manyBinary.subarray(0, 300), more), clientFrame(CONTINUATION, manyBinary.subarray(300), last)],
    expectReply: (client) => expectEcho(client, BINARY, manyBinary),
  },
  {
    name: 'echoes a binary message fragmented into 10 frames, some empty, as one message',
    frames: [
      clientFrame(BINARY, Buffer.alloc(0), more),
      ...Array.from({ length: 8 }, (_, i) => clientFrame(CONTINUATION, manyBinary.subarray(i * 125, (i + 1) * 125), more)),
      clientFrame(CONTINUATION, Buffer.alloc(0), last),
    ],
    expectReply: (client) => expectEcho(client, BINARY, manyBinary),
  },
  {
    name: '5.6 answers a ping sent between two text fragments before echoing the message',
    frames: [clientFrame(TEXT, 'fragment1', more), clientFrame(PING, 'ping payload'), clientFrame(CONTINUATION, 'fragment2', last)],
    expectReply: async (client) => {
      await expectEcho(client, PONG, 'ping payload');
      await expectEcho(client, TEXT, 'fragment1fragment2');
    },
  },
  {
    name: 'ignores a pong sent between two binary fragments and echoes the message',
    frames: [clientFrame(BINARY, 'fragment1', more), clientFrame(PONG, 'pong payload'), clientFrame(CONTINUATION, 'fragment2', last)],
    expectReply: (client) => expectEcho(client, BINARY, 'fragment1fragment2'),
  },
  {
    name: '5.9 closes with 1002 on a final continuation frame with no message to continue',
    frames: [clientFrame(CONTINUATION, 'non-continuation payload', last), clientFrame(TEXT, 'Hello, world!')],
    expectReply: closesWith1002,
  },
  {
    name: '5.12 closes with 1002 on a non-final continuation frame with no message to continue',
    frames: [clientFrame(CONTINUATION, 'non-continuation payload', more), clientFrame(TEXT, 'Hello, world!')],
    expectReply: closesWith1002,
  },
  {
    name: '5.15 echoes a 2-fragment text message, then closes with 1002 on a continuation that follows it',
    frames: [
      clientFrame(TEXT, 'fragment1', more),
      clientFrame(CONTINUATION, 'fragment2', last),
      clientFrame(CONTINUATION, 'fragment3', more),
      clientFrame(TEXT, 'fragment4', last),
    ],
    expectReply: async (client) => {
      await expectEcho(client, TEXT, 'fragment1fragment2');
      await expectCloseCode(client, 1002);
    },
  },
  {
    name: '5.16 closes with 1002 on a non-final continuation with nothing to continue, before a valid 2-fragment text message',
    frames: [
      clientFrame(CONTINUATION, 'fragment1', more),
      clientFrame(TEXT, 'fragment2', more),
      clientFrame(CONTINUATION, 'fragment3', last),
    ],
    expectReply: closesWith1002,
  },
  {
    name: '5.17 closes with 1002 on a final continuation with nothing to continue, before a valid 2-fragment text message',
    frames: [
      clientFrame(CONTINUATION, 'fragment1', last),
      clientFrame(TEXT, 'fragment2', more),
      clientFrame(CONTINUATION, 'fragment3', last),
    ],
    expectReply: closesWith1002,
  },
  {
    name: '5.18 closes with 1002 on a new text frame inside a fragmented text message',
    frames: [clientFrame(TEXT, 'fragment1', more), clientFrame(TEXT, 'fragment2', last)],
    expectReply: closesWith1002,
  },
  {
    name: 'closes with 1002 on a new binary frame inside a fragmented text message',
    frames: [clientFrame(TEXT, 'fragment1', more), clientFrame(BINARY, 'fragment2', last)],
    expectReply: closesWith1002,
  },
  {
    name: '5.19 answers two pings between the 5 fragments of a text message, in order, before echoing it',
    frames: [
      clientFrame(TEXT, 'fragment1', more),
      clientFrame(CONTINUATION, 'fragment2', more),
      clientFrame(PING, 'pongme 1!'),
      clientFrame(CONTINUATION, 'fragment3', more),
      clientFrame(CONTINUATION, 'fragment4', more),
      clientFrame(PING, 'pongme 2!'),
      clientFrame(CONTINUATION, 'fragment5', last),
    ],
    expectReply: async (client) => {
      await expectEcho(client, PONG, 'pongme 1!');
      await expectEcho(client, PONG, 'pongme 2!');
      await expectEcho(client, TEXT, 'fragment1fragment2fragment3fragment4fragment5');
    },
  },
];

describe.each(scenarios.map((scenario) => [scenario.name, scenario] as const))('%s', (_name, scenario) => {
  test('when all frames arrive in one write', async () => {
    const client = await echo().connect();
    client.send(Buffer.concat(scenario.frames));
    await scenario.expectReply(client);
  });

  test('when the frames arrive one by one, each in its own write', async () => {
    const client = await echo().connect();
    for (const frame of scenario.frames) await client.sendChunked(frame, frame.length);
    await scenario.expectReply(client);
  });

  test('when the frames arrive one byte at a time', async () => {
    const client = await echo().connect();
    await client.sendChunked(Buffer.concat(scenario.frames), 1);
    await scenario.expectReply(client);
  });
});

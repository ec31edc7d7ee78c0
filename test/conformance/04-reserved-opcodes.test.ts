/**
 * Autobahn category 4 (opcodes): RFC 6455 §5.2 — opcodes 0x3–0x7 (data) and
 * 0xB–0xF (control) are reserved; receiving one fails the connection (1002).
 */
import { PING, TEXT, expectCloseCode, expectEcho, useEchoServer } from './echo-fixture';
import { clientFrame } from '../helpers/raw-client';

const echo = useEchoServer();

const hex = (opcode: number) => `0x${opcode.toString(16).toUpperCase()}`;

describe.each([
  ['4.1', 'non-control', [0x3, 0x4, 0x5, 0x6, 0x7]],
  ['4.2', 'control', [0xb, 0xc, 0xd, 0xe, 0xf]],
] as const)('%s reserved %s opcodes', (section, _kind, opcodes) => {
  test.each(opcodes.map((opcode) => [hex(opcode), opcode]))('closes with 1002 on a frame with opcode %s and no payload', async (_name, opcode) => {
    const client = await echo().connect();
    client.sendFrame(opcode, Buffer.alloc(0));
    await expectCloseCode(client, 1002);
  });

  test.each(opcodes.map((opcode) => [hex(opcode), opcode]))('closes with 1002 on a frame with opcode %s and a payload', async (_name, opcode) => {
    const client = await echo().connect();
    client.sendFrame(opcode, 'reserved opcode payload');
    await expectCloseCode(client, 1002);
  });

  test.each(opcodes.map((opcode) => [hex(opcode), opcode]))(
    `${section}.3 echoes a valid text message first, then closes with 1002 on opcode %s without answering the ping behind it`,
    async (_name, opcode) => {
      const client = await echo().connect();
      client.send(Buffer.concat([clientFrame(TEXT, 'Hello, world!'), clientFrame(opcode, 'reserved'), clientFrame(PING, '')]));
      await expectEcho(client, TEXT, 'Hello, world!');
      await expectCloseCode(client, 1002);
    },
  );

  test.each(opcodes.map((opcode) => [hex(opcode), opcode]))(
    `${section}.5 closes with 1002 on opcode %s after a valid message when everything arrives one byte at a time`,
    async (_name, opcode) => {
      const client = await echo().connect();
      await client.sendChunked(Buffer.concat([clientFrame(TEXT, 'Hello, world!'), clientFrame(opcode, 'reserved'), clientFrame(PING, '')]), 1);
      await expectEcho(client, TEXT, 'Hello, world!');
      await expectCloseCode(client, 1002);
    },
  );
});

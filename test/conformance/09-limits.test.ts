/**
 * Autobahn category 9 (limits and performance), as correctness checks: large
 * messages, messages in many fragments and many messages in one write are
 * echoed exactly and in order. No timing is asserted (timing lives in bench/).
 * Every frame is built once and written in one go.
 */
import { createHash } from 'node:crypto';
import { BINARY, CONTINUATION, MiB, TEXT, asciiText, binaryData, expectCloseCode, expectEcho, fragmentedMessage, useEchoServer } from './echo-fixture';
import { clientFrame } from '../helpers/raw-client';

const KiB = 1024;


const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

describe('with maxPayload 16 MiB + 1 KiB', () => {
  const echo = useEchoServer({ maxPayload: 16 * MiB + KiB });

  describe.each([
    ['9.1', 'text', TEXT, asciiText],
    ['9.2', 'binary', BINARY, binaryData],
  ] as const)('%s large %s messages', (section, kind, opcode, make) => {
    const SIZES: Array<[string, number]> = [
      ['64 KiB', 64 * KiB],
      ['256 KiB', 256 * KiB],
      ['1 MiB', MiB],
      ['4 MiB', 4 * MiB],
      ['16 MiB', 16 * MiB],
    ];
    test.each(SIZES.map(([name, size], i) => [`${section}.${i + 1}`, name, size] as const))(
      `%s echoes a single ${kind} message of %s exactly`,
      async (_case, _name, size) => {
        const client = await echo().connect();
        const payload = make(size);
        client.send(clientFrame(opcode, payload));
        const frame = await client.nextFrame();
        expect(frame.header.toString('hex')).toBe(Buffer.from([0x80 | opcode, 127, 0, 0, 0, 0, ...u32(size)]).toString('hex'));
        expect(sha256(frame.payload)).toBe(sha256(payload));
      },
    );
  });

  describe.each([
    ['9.3', 'text', TEXT, asciiText],
    ['9.4', 'binary', BINARY, binaryData],
  ] as const)('%s fragmented %s messages', (section, kind, opcode, make) => {
    const payload = make(MiB);
    test.each([64, 256, KiB, 4 * KiB, 16 * KiB, 64 * KiB])(
      `${section} echoes a 1 MiB ${kind} message sent in fragments of %i bytes as one message`,
      async (size) => {
        const client = await echo().connect();
        client.send(fragmentedMessage(opcode, payload, size));
        await expectEcho(client, opcode, payload);
      },
    );

    test(`${section}.1 accepts a ${kind} message split into 65,537 fragments of 64 bytes and echoes it as one message`, async () => {
      const client = await echo().connect();
      const big = make(65537 * 64);
      client.send(fragmentedMessage(opcode, big, 64));
      await expectEcho(client, opcode, big);
    });
  });

  test.each([
    ['9.7', 'text', TEXT, asciiText],
    ['9.8', 'binary', BINARY, binaryData],
  ] as const)('%s echoes 1,000 small %s messages sent in one write, all in order', async (_case, _kind, opcode, make) => {
    const client = await echo().connect();
    const messages = Array.from({ length: 1000 }, (_, i) => Buffer.concat([Buffer.from(`#${i}:`), make(i % 200)]));
    client.send(Buffer.concat(messages.map((payload) => clientFrame(opcode, payload))));
    for (const payload of messages) await expectEcho(client, opcode, payload);
  });

  test('echoes a 4 MiB binary message in full before the close frame for a protocol error that followed it in the same write', async () => {
    const client = await echo().connect();
    const payload = binaryData(4 * MiB);
    client.send(Buffer.concat([clientFrame(BINARY, payload), clientFrame(0x3, 'reserved opcode')]));
    await expectEcho(client, BINARY, payload);
    await expectCloseCode(client, 1002);
  });
});

describe('with a small maxPayload of 1000 bytes', () => {
  const echo = useEchoServer({ maxPayload: 1000 });

  test('echoes a message of exactly maxPayload bytes', async () => {
    const client = await echo().connect();
    const payload = binaryData(1000);
    client.sendFrame(BINARY, payload);
    await expectEcho(client, BINARY, payload);
  });

  test('closes with 1009 from the header alone when a frame announces more than maxPayload, and drops the connection', async () => {
    const client = await echo().connect();
    const frame = clientFrame(BINARY, binaryData(1001));
    client.send(frame.subarray(0, 8)); // 2 + 2 length bytes + 4 mask bytes; no payload follows
    await expectCloseCode(client, 1009);
  });

  test('closes with 1009 from the header alone when a 64-bit length announces a huge message', async () => {
    const client = await echo().connect();
    const header = Buffer.from([0x82, 0xff, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 3, 4]); // 2^32 bytes
    client.send(header);
    await expectCloseCode(client, 1009);
  });

  test('closes with 1009 when the fragments of one message add up to more than maxPayload', async () => {
    const client = await echo().connect();
    client.send(
      Buffer.concat([
        clientFrame(TEXT, asciiText(600), { fin: false }),
        clientFrame(CONTINUATION, asciiText(600), { fin: true }).subarray(0, 8), // its header only: 600 more bytes announced
      ]),
    );
    await expectCloseCode(client, 1009);
  });
});

function u32(n: number): number[] {
  return [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

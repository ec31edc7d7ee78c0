/**
 * Autobahn category 1 (framing): text and binary messages of every payload
 * length form (7-bit, 16-bit, 64-bit, RFC 6455 §5.2) echoed exactly, sent in
 * one write and chunk by chunk.
 */
import { BINARY, TEXT, asciiText, binaryData, expectCloseCode, expectEcho, useEchoServer } from './echo-fixture';
import { clientFrame } from '../helpers/raw-client';

const echo = useEchoServer();

// Autobahn 1.1.1–1.1.7 (text) and 1.2.1–1.2.7 (binary) use 0 … 65536; 65537 adds a 64-bit length past 2^16.
const LENGTHS = [0, 125, 126, 127, 128, 65535, 65536, 65537];

/**
 * A frame arriving byte by byte over TCP costs one write and one read per
 * byte (about 4 s for 64 KiB): past this many bytes at each end of a frame,
 * the rest goes in 997-byte chunks. 64 covers the longest header (14 bytes)
 * and fifty payload bytes after it.
 */
const BYTEWISE_EDGE = 64;

describe.each([
  ['text', TEXT, '1.1', asciiText],
  ['binary', BINARY, '1.2', binaryData],
] as const)('%s messages', (kind, opcode, section, make) => {
  LENGTHS.forEach((length, i) => {
    // Autobahn numbers the first seven lengths; 65537 is ours.
    const number = i < 7 ? `${section}.${i + 1} ` : '';
    test(`${number}echoes a ${kind} message of ${length} bytes in one frame with the minimal length form`, async () => {
      const client = await echo().connect();
      const payload = make(length);
      client.sendFrame(opcode, payload);
      await expectEcho(client, opcode, payload);
    });
  });

  test.each(LENGTHS)(`echoes a ${kind} message of %i bytes whose frame arrives one byte at a time (past 128 bytes: its first and last ${BYTEWISE_EDGE})`, async (length) => {
    const client = await echo().connect();
    const payload = make(length);
    const frame = clientFrame(opcode, payload);
    if (frame.length <= 2 * BYTEWISE_EDGE + 128) {
      await client.sendChunked(frame, 1);
    } else {
      // The header (every length form) and the payload's first and last
      // bytes one at a time; the middle, where every byte is decoded alike,
      // in odd-sized chunks so the mask's phase still changes between reads.
      await client.sendChunked(frame.subarray(0, BYTEWISE_EDGE), 1);
      await client.sendChunked(frame.subarray(BYTEWISE_EDGE, frame.length - BYTEWISE_EDGE), 997);
      await client.sendChunked(frame.subarray(frame.length - BYTEWISE_EDGE), 1);
    }
    await expectEcho(client, opcode, payload);
  });

  LENGTHS.forEach((length) => {
    const number = length === 65536 ? `${section}.8 ` : '';
    test(`${number}echoes a ${kind} message of ${length} bytes whose frame arrives in chunks of 997 bytes`, async () => {
      const client = await echo().connect();
      const payload = make(length);
      await client.sendChunked(clientFrame(opcode, payload), 997);
      await expectEcho(client, opcode, payload);
    });
  });
});

test('echoes text and binary messages of every length form sent back to back in one write, in order', async () => {
  const client = await echo().connect();
  const messages = LENGTHS.flatMap((length) => [
    [TEXT, asciiText(length)] as const,
    [BINARY, binaryData(length)] as const,
  ]);
  client.send(Buffer.concat(messages.map(([opcode, payload]) => clientFrame(opcode, payload))));
  for (const [opcode, payload] of messages) await expectEcho(client, opcode, payload);
});

test('closes with 1002 on an unmasked client frame (RFC 6455 §5.1), without echoing it', async () => {
  const client = await echo().connect();
  client.sendFrame(TEXT, 'not masked', { mask: null });
  await expectCloseCode(client, 1002);
});

test('closes with 1002 on a 64-bit length with its most significant bit set (§5.2), from the header alone', async () => {
  const client = await echo().connect();
  client.send(Buffer.from([0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]));
  await expectCloseCode(client, 1002);
});

test('accepts a 64-bit length form for a small payload (a non-minimal length is not an error) and echoes it minimally', async () => {
  const client = await echo().connect();
  const payload = Buffer.from('tiny');
  const key = [1, 2, 3, 4];
  const header = Buffer.from([0x82, 0xff, 0, 0, 0, 0, 0, 0, 0, payload.length, ...key]);
  client.send(Buffer.concat([header, Buffer.from(payload.map((b, i) => b ^ key[i % 4]!))]));
  await expectEcho(client, BINARY, payload);
});

/**
 * Autobahn category 6 (UTF-8 handling): RFC 6455 §8.1 — a text message must
 * be valid UTF-8 (RFC 3629); otherwise the server fails the connection with
 * 1007, and it does so as soon as it sees the bad byte ("fail fast", 6.4.x),
 * not only when the message is complete. Valid text is echoed byte for byte.
 */
import { CONTINUATION, PING, PONG, TEXT, expectCloseCode, expectEcho, useEchoServer } from './echo-fixture';
import { clientFrame } from '../helpers/raw-client';

const echo = useEchoServer();

const KOSME = 'cebae1bdb9cf83cebcceb5'; // κόσμε
const bytes = (hex: string) => Buffer.from(hex.replace(/\s+/g, ''), 'hex');

/** [Autobahn case, description, hex] of well-formed UTF-8 (noncharacters are well-formed). */
const VALID: Array<[string, string, string]> = [
  ['6.2.1', 'mixed 1- and 2-byte text', Buffer.from('Hello-µ@ßöäüàá-UTF-8!!').toString('hex')],
  ['6.5.1', 'κόσμε', KOSME],
  ['6.7.1', 'U+0000', '00'],
  ['6.7.2', 'U+0080, the first 2-byte character', 'c280'],
  ['6.7.3', 'U+0800, the first 3-byte character', 'e0a080'],
  ['6.7.4', 'U+10000, the first 4-byte character', 'f0908080'],
  ['6.9.1', 'U+007F', '7f'],
  ['6.9.2', 'U+07FF', 'dfbf'],
  ['6.9.3', 'U+FFFF', 'efbfbf'],
  ['6.11.1', 'U+D7FF, just below the surrogates', 'ed9fbf'],
  ['6.11.2', 'U+E000, just above the surrogates', 'ee8080'],
  ['6.11.3', 'U+FFFD', 'efbfbd'],
  ['6.11.4', 'U+10FFFF, the last code point', 'f48fbfbf'],
  ['6.22.1', 'the noncharacter U+FFFE', 'efbfbe'],
  ['6.22.3', 'the noncharacter U+1FFFF', 'f09fbfbf'],
  ['6.22.34', 'the noncharacter U+10FFFE', 'f48fbfbe'],
  ['', 'a 4-byte emoji between ASCII', Buffer.from('a😀b').toString('hex')],
  ['', 'a byte order mark (kept, not stripped)', 'efbbbf 6869'],
];

/** [Autobahn case, description, hex] of ill-formed UTF-8. */
const INVALID: Array<[string, string, string]> = [
  ['6.3.1', 'κόσμε, a surrogate, then ASCII', `${KOSME} eda080 656469746564`],
  ['6.8.1', 'a 5-byte sequence', 'f888808080'],
  ['6.8.2', 'a 6-byte sequence', 'fc8480808080'],
  ['6.9.4', 'U+1FFFFF (F7, over U+10FFFF)', 'f7bfbfbf'],
  ['6.11.5', 'U+110000 (F4 90, over U+10FFFF)', 'f4908080'],
  ['6.12.1', 'a lone continuation byte 0x80', '80'],
  ['6.12.2', 'a lone continuation byte 0xBF', 'bf'],
  ['6.12.4', 'three continuation bytes', '80bf80'],
  ['6.13.1', 'a 2-byte lead followed by a space', 'c220'],
  ['6.13.2', 'a 3-byte lead followed by a space', 'e020'],
  ['6.13.3', 'a 4-byte lead followed by a space', 'f020'],
  ['6.14.2', 'a 3-byte sequence missing its last byte', 'e080'],
  ['6.14.3', 'a 2-byte sequence truncated at the end of the message', 'df'],
  ['', 'a 3-byte sequence truncated at the end of the message', 'efbf'],
  ['', 'a 4-byte sequence truncated at the end of the message', 'f48fbf'],
  ['6.15.1', 'a concatenation of truncated sequences', 'c0e080f08080f8808080fc80808080dfefbff7bfbffbbfbfbffdbfbfbfbf'],
  ['6.16.1', 'the impossible byte 0xFE', 'fe'],
  ['6.16.2', 'the impossible byte 0xFF', 'ff'],
  ['6.16.3', 'FE FE FF FF', 'fefeffff'],
  ['6.17.1', 'an overlong "/" with 0xC0', 'c0af'],
  ['6.17.2', 'an overlong 3-byte "/"', 'e080af'],
  ['6.17.3', 'an overlong 4-byte "/"', 'f08080af'],
  ['6.18.1', 'the largest overlong 2-byte sequence, with 0xC1', 'c1bf'],
  ['6.18.2', 'the largest overlong 3-byte sequence', 'e09fbf'],
  ['6.18.3', 'the largest overlong 4-byte sequence', 'f08fbfbf'],
  ['6.19.1', 'an overlong NUL in 2 bytes', 'c080'],
  ['6.19.2', 'an overlong NUL in 3 bytes', 'e08080'],
  ['', 'the lead byte 0xF5', 'f5808080'],
  ['', 'the lead byte 0xF8', 'f8'],
  ['', 'the byte 0xFD after valid text', `${KOSME}fd`],
  ['6.20.1', 'the single surrogate U+D800', 'eda080'],
  ['6.20.4', 'the single surrogate U+DBFF', 'edafbf'],
  ['6.20.5', 'the single surrogate U+DC00', 'edb080'],
  ['6.20.7', 'the single surrogate U+DFFF', 'edbfbf'],
  ['6.21.1', 'the surrogate pair U+D800 U+DC00', 'eda080edb080'],
  ['6.21.8', 'the surrogate pair U+DBFF U+DFFF', 'edafbfedbfbf'],
];

const label = (number: string, description: string) => (number ? `${number} ${description}` : description);

/** One byte per frame: the first TEXT, the rest continuations, the last FIN (an empty message is one frame). */
function bytePerFrame(payload: Buffer): Buffer {
  if (payload.length === 0) return clientFrame(TEXT, payload);
  const frames: Buffer[] = [];
  for (let i = 0; i < payload.length; i++) {
    frames.push(clientFrame(i === 0 ? TEXT : CONTINUATION, payload.subarray(i, i + 1), { fin: i === payload.length - 1 }));
  }
  return Buffer.concat(frames);
}

describe('6.1 empty text', () => {
  test('6.1.1 echoes an empty text message', async () => {
    const client = await echo().connect();
    client.sendFrame(TEXT, Buffer.alloc(0));
    await expectEcho(client, TEXT, Buffer.alloc(0));
  });

  test('6.1.2 echoes a text message of three empty fragments as one empty message', async () => {
    const client = await echo().connect();
    client.send(
      Buffer.concat([
        clientFrame(TEXT, '', { fin: false }),
        clientFrame(CONTINUATION, '', { fin: false }),
        clientFrame(CONTINUATION, '', { fin: true }),
      ]),
    );
    await expectEcho(client, TEXT, Buffer.alloc(0));
  });

  test('6.1.3 echoes a text message of two empty fragments and a non-empty last one', async () => {
    const client = await echo().connect();
    client.send(
      Buffer.concat([
        clientFrame(TEXT, '', { fin: false }),
        clientFrame(CONTINUATION, '', { fin: false }),
        clientFrame(CONTINUATION, 'middle frame payload', { fin: true }),
      ]),
    );
    await expectEcho(client, TEXT, 'middle frame payload');
  });
});

describe('valid UTF-8 is echoed exactly', () => {
  test.each(VALID.map(([n, d, hex]) => [label(n, d), bytes(hex)] as const))('%s, in one frame', async (_name, payload) => {
    const client = await echo().connect();
    client.sendFrame(TEXT, payload);
    await expectEcho(client, TEXT, payload);
  });

  test.each(VALID.map(([n, d, hex]) => [label(n, d), bytes(hex)] as const))(
    '%s, one byte per frame (split inside characters)',
    async (_name, payload) => {
      const client = await echo().connect();
      client.send(bytePerFrame(payload));
      await expectEcho(client, TEXT, payload);
    },
  );
});

describe('invalid UTF-8 closes the connection with 1007', () => {
  test.each(INVALID.map(([n, d, hex]) => [label(n, d), bytes(hex)] as const))('%s, in one frame', async (_name, payload) => {
    const client = await echo().connect();
    client.sendFrame(TEXT, payload);
    await expectCloseCode(client, 1007);
  });

  test.each(INVALID.map(([n, d, hex]) => [label(n, d), bytes(hex)] as const))(
    '%s, one byte per frame, arriving one byte at a time',
    async (_name, payload) => {
      const client = await echo().connect();
      await client.sendChunked(bytePerFrame(payload), 1);
      await expectCloseCode(client, 1007);
    },
  );

  test('in the second fragment of a fragmented text message, after echoing a valid message', async () => {
    const client = await echo().connect();
    client.send(
      Buffer.concat([
        clientFrame(TEXT, 'valid'),
        clientFrame(TEXT, bytes(KOSME), { fin: false }),
        clientFrame(CONTINUATION, bytes('eda080'), { fin: true }),
      ]),
    );
    await expectEcho(client, TEXT, 'valid');
    await expectCloseCode(client, 1007);
  });

  test('for a text message whose bytes were just echoed as a binary message (binary is never validated)', async () => {
    const client = await echo().connect();
    const payload = bytes('c0afeda080fffe');
    client.sendFrame(0x2, payload);
    await expectEcho(client, 0x2, payload);
    client.sendFrame(TEXT, payload);
    await expectCloseCode(client, 1007);
  });
});

describe('6.2 valid text split at every byte boundary', () => {
  // 1-, 2-, 3- and 4-byte characters, U+FFFF and U+10FFFF.
  const text = Buffer.concat([Buffer.from('Hello-µ@ßöäüàá-UTF-8!! 😀 '), bytes('efbfbf f48fbfbf')]);

  test('6.2.3 echoes the text sent one byte per frame, every frame arriving one byte at a time', async () => {
    const client = await echo().connect();
    await client.sendChunked(bytePerFrame(text), 1);
    await expectEcho(client, TEXT, text);
  });

  test('6.2.2 echoes the text as two fragments split at each byte offset, one message per offset', async () => {
    const client = await echo().connect();
    const messages: Buffer[] = [];
    for (let k = 0; k <= text.length; k++) {
      messages.push(clientFrame(TEXT, text.subarray(0, k), { fin: false }), clientFrame(CONTINUATION, text.subarray(k), { fin: true }));
    }
    client.send(Buffer.concat(messages));
    for (let k = 0; k <= text.length; k++) await expectEcho(client, TEXT, text);
  });

  test('answers a ping between the fragments of a text split inside a 4-byte character', async () => {
    const client = await echo().connect();
    const emoji = bytes('f09f9880');
    client.send(
      Buffer.concat([
        clientFrame(TEXT, emoji.subarray(0, 2), { fin: false }),
        clientFrame(PING, 'between'),
        clientFrame(CONTINUATION, emoji.subarray(2), { fin: true }),
      ]),
    );
    await expectEcho(client, PONG, 'between');
    await expectEcho(client, TEXT, emoji);
  });
});

describe('6.4 fail fast on invalid UTF-8 (the rest of the message is never sent)', () => {
  test('6.4.1 closes with 1007 after the second of three fragments carries U+110000', async () => {
    const client = await echo().connect();
    client.send(Buffer.concat([clientFrame(TEXT, bytes(KOSME), { fin: false }), clientFrame(CONTINUATION, bytes('f4908080'), { fin: false })]));
    // The third fragment ('edited', FIN) is never sent.
    await expectCloseCode(client, 1007);
  });

  test('6.4.2 closes with 1007 when the invalid byte is the first byte of the second fragment, its lead byte ending the first', async () => {
    const client = await echo().connect();
    client.send(Buffer.concat([clientFrame(TEXT, bytes(`${KOSME}f4`), { fin: false }), clientFrame(CONTINUATION, bytes('90'), { fin: false })]));
    await expectCloseCode(client, 1007);
  });

  test('closes with 1007 when the invalid byte is in the only fragment sent so far of a message', async () => {
    const client = await echo().connect();
    client.sendFrame(TEXT, bytes(`${KOSME}c0af`), { fin: false });
    await expectCloseCode(client, 1007);
  });

  test('6.4.3 closes with 1007 when a single frame is sent only up to and including an invalid 4-byte sequence', async () => {
    const client = await echo().connect();
    const frame = clientFrame(TEXT, bytes(`${KOSME} f4908080 656469746564`)); // announces 21 bytes
    const headerLength = 6;
    client.send(frame.subarray(0, headerLength + 11 + 4)); // 'edited' never follows
    await expectCloseCode(client, 1007);
  });

  test('6.4.4 closes with 1007 when a single frame is sent only up to the first invalid byte, in the middle of its payload', async () => {
    const client = await echo().connect();
    const frame = clientFrame(TEXT, bytes(`${KOSME} f4908080 656469746564`));
    const headerLength = 6;
    client.send(frame.subarray(0, headerLength + 11 + 2)); // κόσμε, F4, 90: invalid at the 90
    await expectCloseCode(client, 1007);
  });

  test('closes with 1007 when a 64 KiB text frame has an invalid byte after its first 1000 bytes and the rest never comes', async () => {
    const client = await echo().connect();
    const payload = Buffer.alloc(65536, 0x61);
    payload[1000] = 0xff;
    const frame = clientFrame(TEXT, payload);
    client.send(frame.subarray(0, 10 + 4 + 1001));
    await expectCloseCode(client, 1007);
  });
});

/**
 * In the style of Autobahn testsuite categories 12 and 13: for several
 * negotiated permessage-deflate parameter sets (13.1–13.7-like offers, and
 * 12-like with the server fragmenting its compressed messages), echo messages
 * of 16 B to 256 KiB and check every one exactly.
 */
import WsClient from 'ws';
import type { AttachWsOptions } from 'attach-ws';
import { useApps } from '../../helpers/app-server';
import { connectRaw } from '../../helpers/raw-client';
import { collect, compress, expectEcho, openSniffedClient, startEchoApp, StreamInflater, type Received } from './support';

const apps = useApps();

const SIZES = [16, 64, 256, 1024, 4096, 16 * 1024, 64 * 1024, 256 * 1024];
const PER_SIZE = 4;

/** Autobahn-like payloads: compressible but not trivially (a repeating pseudo-random text). */
function payloads(): Received[] {
  const out: Received[] = [];
  let state = 42;
  for (const size of SIZES) {
    for (let n = 0; n < PER_SIZE; n++) {
      const buf = Buffer.alloc(size);
      for (let i = 0; i < size; i++) {
        state = (state * 1103515245 + 12345) & 0x7fffffff;
        buf[i] = i % 64 < 48 ? 0x61 + ((i + n) % 26) : 0x41 + (state % 26);
      }
      out.push(n % 2 === 0 ? buf.toString('latin1') : buf);
    }
  }
  return out;
}

interface Case {
  name: string;
  client: WsClient.PerMessageDeflateOptions;
  server?: AttachWsOptions;
  agreed: string;
}

const cases: Case[] = [
  { name: '13.1: the default offer', client: {}, agreed: 'permessage-deflate' },
  {
    name: '13.2: client_no_context_takeover',
    client: { clientNoContextTakeover: true },
    agreed: 'permessage-deflate; client_no_context_takeover',
  },
  {
    name: '13.3: server_max_window_bits=8',
    client: { serverMaxWindowBits: 8 },
    agreed: 'permessage-deflate; server_max_window_bits=8',
  },
  {
    name: '13.4: server_max_window_bits=15',
    client: { serverMaxWindowBits: 15 },
    agreed: 'permessage-deflate; server_max_window_bits=15',
  },
  {
    name: '13.5: server_no_context_takeover with server_max_window_bits=8',
    client: { serverNoContextTakeover: true, serverMaxWindowBits: 8 },
    agreed: 'permessage-deflate; server_no_context_takeover; server_max_window_bits=8',
  },
  {
    name: '13.6: server_no_context_takeover with server_max_window_bits=15',
    client: { serverNoContextTakeover: true, serverMaxWindowBits: 15 },
    agreed: 'permessage-deflate; server_no_context_takeover; server_max_window_bits=15',
  },
  {
    name: 'both no context takeovers with 8-bit windows both ways',
    client: { serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 8, clientMaxWindowBits: 8 },
    agreed: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=8',
  },
  {
    name: '12-like: the server fragments its compressed messages into 1000-byte frames',
    client: {},
    server: { perMessageDeflate: { serverNoContextTakeover: false }, fragmentSize: 1000 },
    agreed: 'permessage-deflate',
  },
];

describe('Autobahn 12/13-style echo with the ws client', () => {
  test.each(cases)('$name: messages of 16 B to 256 KiB echo exactly', async ({ client: offer, server, agreed }) => {
    const { running, accepted } = await startEchoApp(apps, server ?? { perMessageDeflate: { serverNoContextTakeover: false } }); // context takeover opted in
    const { client, sniffer } = await openSniffedClient(`${running.url}/echo`, { perMessageDeflate: { threshold: 0, ...offer } });
    apps.track(() => client.terminate());
    expect((await accepted.next()).extensions).toBe(agreed);
    const messages = payloads();
    await expectEcho(client, collect(client), messages);
    // RSV1 only on a message's first frame (RFC 7692 §6.1).
    expect(sniffer.frames.filter((f) => f.opcode === 0x0 && f.rsv1)).toEqual([]);
    expect(sniffer.messageStarts.filter((f) => f.rsv1)).toHaveLength(messages.filter((m) => Buffer.byteLength(m) >= 1024).length);
    if (server?.fragmentSize) expect(sniffer.frames.some((f) => f.opcode === 0x0)).toBe(true);
  });
});

describe('Autobahn 13.7-style: several offers in one header', () => {
  test('the server accepts the first offer it can honour and echoes every size exactly', async () => {
    const { running, accepted } = await startEchoApp(apps, { perMessageDeflate: true });
    const raw = await connectRaw(running.port, '/echo', {
      extensions:
        'permessage-deflate; server_no_context_takeover; server_max_window_bits=8, ' +
        'permessage-deflate; server_no_context_takeover, permessage-deflate',
    });
    apps.track(() => raw.destroy());
    const agreed = 'permessage-deflate; server_no_context_takeover; server_max_window_bits=8';
    expect(raw.headers['sec-websocket-extensions']).toBe(agreed);
    expect((await accepted.next()).extensions).toBe(agreed);
    const inflater = new StreamInflater(8, false);
    for (const message of payloads()) {
      const bytes = Buffer.from(message as string | Buffer);
      const opcode = typeof message === 'string' ? 0x1 : 0x2;
      raw.sendFrame(opcode, compress(bytes), { rsv1: true });
      const echo = await raw.nextFrame();
      expect({ opcode: echo.opcode, fin: echo.fin, rsv1: echo.rsv1 }).toEqual({ opcode, fin: true, rsv1: bytes.length >= 1024 });
      const body = echo.rsv1 ? await inflater.inflate(echo.payload) : echo.payload;
      expect(body.equals(bytes)).toBe(true);
    }
  });

  test('an offer whose parameters the server cannot honour is skipped for the next one', async () => {
    const { running } = await startEchoApp(apps, { perMessageDeflate: { clientMaxWindowBits: 10, serverNoContextTakeover: false } });
    // The first offer has no client_max_window_bits, so the server cannot limit the client's window.
    const raw = await connectRaw(running.port, '/echo', {
      extensions: 'permessage-deflate; server_max_window_bits=9, permessage-deflate; client_max_window_bits',
    });
    apps.track(() => raw.destroy());
    expect(raw.headers['sec-websocket-extensions']).toBe('permessage-deflate; client_max_window_bits=10');
    const text = 'window ten '.repeat(500);
    raw.sendFrame(0x1, compress(text, 10), { rsv1: true });
    const echo = await raw.nextFrame();
    expect(echo.rsv1).toBe(true);
    expect((await new StreamInflater().inflate(echo.payload)).toString()).toBe(text);
  });
});

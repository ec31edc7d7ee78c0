/**
 * permessage-deflate end to end through the public API, against the `ws`
 * client: every negotiated parameter set echoes a mixed series exactly and in
 * order, both sides agree on the extension, and the server's frames carry
 * RSV1 exactly when they are compressed (seen on the wire).
 */
import WsClient from 'ws';
import type { AttachWsOptions, PerMessageDeflateOptions } from 'attach-ws';
import { useApps } from '../../helpers/app-server';
import {
  collect,
  deferred,
  expectEcho,
  Inbox,
  mixedMessages,
  openSniffedClient,
  startEchoApp,
  type Received,
} from './support';

const apps = useApps();

interface Case {
  name: string;
  server: PerMessageDeflateOptions | true;
  client: WsClient.PerMessageDeflateOptions;
  agreed: string;
}

/** Server context takeover is opt-in: these cases test the per-connection compressor path. */
const TAKEOVER = { serverNoContextTakeover: false } as const;

const cases: Case[] = [
  { name: 'the default offer', server: true, client: {}, agreed: 'permessage-deflate; server_no_context_takeover' },
  { name: 'the default offer and server context takeover opted in', server: TAKEOVER, client: {}, agreed: 'permessage-deflate' },
  {
    name: 'window bits 9 offered for both directions',
    server: TAKEOVER,
    client: { serverMaxWindowBits: 9, clientMaxWindowBits: 9 },
    agreed: 'permessage-deflate; server_max_window_bits=9; client_max_window_bits=9',
  },
  {
    name: 'window bits 10 offered for both directions',
    server: TAKEOVER,
    client: { serverMaxWindowBits: 10, clientMaxWindowBits: 10 },
    agreed: 'permessage-deflate; server_max_window_bits=10; client_max_window_bits=10',
  },
  {
    name: 'window bits 15 offered for both directions',
    server: TAKEOVER,
    client: { serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
    agreed: 'permessage-deflate; server_max_window_bits=15; client_max_window_bits=15',
  },
  {
    name: 'window bits 10 and 9 imposed by the server',
    server: { ...TAKEOVER, serverMaxWindowBits: 10, clientMaxWindowBits: 9 },
    client: {},
    agreed: 'permessage-deflate; server_max_window_bits=10; client_max_window_bits=9',
  },
  {
    name: 'no context takeover on either side, offered by the client',
    server: true,
    client: { serverNoContextTakeover: true, clientNoContextTakeover: true },
    agreed: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover',
  },
  {
    name: 'server_no_context_takeover set by the server',
    server: { serverNoContextTakeover: true },
    client: {},
    agreed: 'permessage-deflate; server_no_context_takeover',
  },
  {
    name: 'client_no_context_takeover set by the server',
    server: { ...TAKEOVER, clientNoContextTakeover: true },
    client: {},
    agreed: 'permessage-deflate; client_no_context_takeover',
  },
  {
    name: 'no server context takeover with a 9-bit client window',
    server: { serverNoContextTakeover: true },
    client: { clientMaxWindowBits: 9 },
    agreed: 'permessage-deflate; server_no_context_takeover; client_max_window_bits=9',
  },
];

describe('echo through permessage-deflate with the ws client', () => {
  test.each(cases)('with $name, both sides agree and a mixed series echoes exactly and in order', async ({ server, client: offer, agreed }) => {
    const { running, accepted } = await startEchoApp(apps, { perMessageDeflate: server });
    const { client, sniffer, agreed: answered } = await openSniffedClient(`${running.url}/echo`, { perMessageDeflate: offer });
    apps.track(() => client.terminate());
    const ws = await accepted.next();
    expect(ws.extensions).toBe(agreed);
    expect(answered).toBe(agreed); // the response header the client accepted
    expect(client.extensions).toBe('permessage-deflate');

    const messages = mixedMessages(60);
    await expectEcho(client, collect(client), messages);

    // On the wire: RSV1 exactly on the messages at or above the 1 KiB threshold.
    const starts = sniffer.messageStarts;
    expect(starts).toHaveLength(messages.length);
    const sizes = messages.map((m) => Buffer.byteLength(m));
    expect(starts.map((f) => f.rsv1)).toEqual(sizes.map((n) => n >= 1024));
    // The big repetitive ones really got smaller.
    const zs = messages.findIndex((m) => typeof m === 'string' && m.startsWith('zzzz'));
    expect(starts[zs]!.payload.length).toBeLessThan(100);
  });
});

describe('ordering although zlib is asynchronous', () => {
  test('1,000 mixed-size messages, compressed and not, echo in the order they were sent', async () => {
    const { running } = await startEchoApp(apps, { perMessageDeflate: true });
    const { client, sniffer } = await openSniffedClient(`${running.url}/echo`, { perMessageDeflate: true });
    apps.track(() => client.terminate());
    const messages = mixedMessages(1000, 7);
    await expectEcho(client, collect(client), messages);
    const compressed = sniffer.messageStarts.filter((f) => f.rsv1).length;
    expect(compressed).toBe(messages.filter((m) => Buffer.byteLength(m) >= 1024).length);
  });

  test('sends from the handler interleave compressed and uncompressed messages and pings without reordering messages', async () => {
    const ready = deferred<void>();
    const running = await apps.start(
      (app) => {
        app.ws('/burst', (ws) => {
          ws.on('message', () => {
            for (let i = 0; i < 200; i++) {
              ws.send(i % 2 === 0 ? `${i}:${'x'.repeat(2000)}` : `${i}`);
              if (i % 50 === 0) ws.ping();
              if (i % 3 === 0) ws.send(Buffer.alloc(i % 2 === 0 ? 4096 : 8, i), { compress: i % 4 !== 0 });
            }
            ws.send('end');
          });
          ready.resolve();
        });
      },
      { perMessageDeflate: true },
    );
    const { client, sniffer } = await openSniffedClient(`${running.url}/burst`, { perMessageDeflate: true });
    apps.track(() => client.terminate());
    const inbox = collect(client);
    await ready.promise;
    client.send('go');
    const expected: Received[] = [];
    for (let i = 0; i < 200; i++) {
      expected.push(i % 2 === 0 ? `${i}:${'x'.repeat(2000)}` : `${i}`);
      if (i % 3 === 0) expected.push(Buffer.alloc(i % 2 === 0 ? 4096 : 8, i));
    }
    expected.push('end');
    expect(await inbox.take(expected.length)).toEqual(expected);
    // `compress: false` was honoured: 4 KiB binaries at i % 4 === 0 went uncompressed.
    const big = sniffer.messageStarts.filter((f) => f.opcode === 0x2 && (f.rsv1 ? f.payload.length < 4096 : f.payload.length === 4096));
    expect(big.filter((f) => !f.rsv1)).toHaveLength(Math.ceil(200 / 12));
  });
});

describe('the async-handler holding with compressed messages', () => {
  test('compressed messages sent before the handler listens are delivered in order once it does', async () => {
    const listen = deferred<void>();
    const accepted = new Inbox<true>();
    const options: AttachWsOptions = { perMessageDeflate: true };
    const running = await apps.start((app) => {
      app.ws('/late', async (ws) => {
        accepted.push(true);
        await listen.promise;
        ws.on('message', (data) => ws.send(data));
      });
    }, options);
    const { client } = await openSniffedClient(`${running.url}/late`, { perMessageDeflate: true });
    apps.track(() => client.terminate());
    const inbox = collect(client);
    await accepted.next();
    const messages = mixedMessages(40, 3);
    for (const message of messages) client.send(message);
    // The server inflates in order and answers a ping only after what came before it.
    const pong = new Promise((resolve) => client.once('pong', resolve));
    client.ping('after the messages');
    await pong;
    expect(inbox.length).toBe(0);
    listen.resolve();
    expect(await inbox.take(messages.length)).toEqual(messages);
  });
});

/**
 * Topic publishes to permessage-deflate clients: connections without server
 * context takeover share one compression per setting (prepared-message.ts),
 * connections with it compress for themselves, connections without deflate
 * get plain frames; all of them receive every message exactly and in order,
 * interleaved with their own `ws.send` messages.
 */
import WsClient from 'ws';
import type { WebSocket } from 'attach-ws';
import * as pmd from '../../../src/codec/permessage-deflate';
import { useApps } from '../../helpers/app-server';
import { collect, Inbox, mixedMessages, openSniffedClient, type FrameSniffer, type Received } from './support';

afterEach(() => jest.restoreAllMocks()); // declared first: runs before useApps closes the app
const apps = useApps();

interface Subscriber {
  name: string;
  offer: WsClient.PerMessageDeflateOptions | false;
}

const subscribers: Subscriber[] = [
  { name: 'shared A (no server context takeover)', offer: { serverNoContextTakeover: true } },
  { name: 'shared B (no server context takeover)', offer: { serverNoContextTakeover: true } },
  { name: 'shared, 10-bit window', offer: { serverNoContextTakeover: true, serverMaxWindowBits: 10 } },
  { name: 'context takeover', offer: {} },
  { name: 'context takeover, 9-bit window', offer: { serverMaxWindowBits: 9 } },
  { name: 'no deflate', offer: false },
];

describe('publish to permessage-deflate subscribers', () => {
  test('every subscriber receives every publish and its own sends exactly and in order, whatever it negotiated', async () => {
    const shared = jest.spyOn(pmd, 'compressShared');
    const accepted = new Inbox<WebSocket>();
    const running = await apps.start(
      (app) =>
        app.ws('/room', (ws) => {
          ws.subscribe('room');
          accepted.push(ws);
        }),
      // Context takeover opted in, so that only the clients that ask for no takeover get it.
      { perMessageDeflate: { serverNoContextTakeover: false } },
    );
    const connected: Array<{ client: WsClient; sniffer: FrameSniffer; inbox: Inbox<Received>; ws: WebSocket }> = [];
    for (const { offer } of subscribers) {
      const { client, sniffer } = await openSniffedClient(`${running.url}/room`, { perMessageDeflate: offer });
      apps.track(() => client.terminate());
      const ws = await accepted.next();
      connected.push({ client, sniffer, inbox: collect(client), ws });
    }
    expect(connected.map((c) => c.ws.extensions)).toEqual([
      'permessage-deflate; server_no_context_takeover',
      'permessage-deflate; server_no_context_takeover',
      'permessage-deflate; server_no_context_takeover; server_max_window_bits=10',
      'permessage-deflate',
      'permessage-deflate; server_max_window_bits=9',
      '',
    ]);

    const published = mixedMessages(120, 11);
    const expected: Received[][] = connected.map(() => []);
    const isPublish: boolean[] = []; // per message of expected[*], in order
    let sharedPublishes = 0;
    published.forEach((message, i) => {
      if (i % 4 === 3) {
        // Each connection's own message, between two publishes.
        connected.forEach(({ ws }, k) => {
          const own = i % 8 === 3 ? `own ${i} for ${k} ${'o'.repeat(1500)}` : Buffer.from(`own ${i} for ${k}`);
          ws.send(own);
          expected[k]!.push(own);
        });
        isPublish.push(false);
      }
      expect(running.wss.publish('room', message)).toBe(connected.length);
      if (Buffer.byteLength(message) >= 1024) sharedPublishes++;
      for (const list of expected) list.push(message);
      isPublish.push(true);
    });

    for (let k = 0; k < connected.length; k++) {
      const got = await connected[k]!.inbox.take(expected[k]!.length);
      expect({ subscriber: subscribers[k]!.name, ok: got.every((m, i) => sameMessage(m, expected[k]![i]!)) }).toEqual({
        subscriber: subscribers[k]!.name,
        ok: true,
      });
    }

    // One shared compression per setting (default and 10-bit window) per large publish.
    expect(shared).toHaveBeenCalledTimes(2 * sharedPublishes);
    // The shared subscribers with the same setting got byte-identical publish frames.
    const framesA = connected[0]!.sniffer.messageStarts;
    const framesB = connected[1]!.sniffer.messageStarts;
    expect(framesA.length).toBe(isPublish.length);
    const sharedFrames = framesA.filter((f, i) => isPublish[i] && f.rsv1);
    expect(sharedFrames).toHaveLength(sharedPublishes);
    framesA.forEach((f, i) => {
      if (isPublish[i]) expect(f.payload.equals(framesB[i]!.payload)).toBe(true);
    });
    // RSV1 never reaches a connection that did not negotiate deflate.
    expect(connected[5]!.sniffer.frames.some((f) => f.rsv1)).toBe(false);
  });

  test('a publish from one connection reaches the others compressed and not the sender', async () => {
    const accepted = new Inbox<WebSocket>();
    const running = await apps.start(
      (app) =>
        app.ws('/chat', (ws) => {
          ws.subscribe('chat');
          ws.on('message', (data) => ws.publish('chat', data));
          accepted.push(ws);
        }),
      { perMessageDeflate: { serverNoContextTakeover: true } },
    );
    const sender = await openSniffedClient(`${running.url}/chat`, { perMessageDeflate: true });
    const listener = await openSniffedClient(`${running.url}/chat`, { perMessageDeflate: true });
    apps.track(() => sender.client.terminate());
    apps.track(() => listener.client.terminate());
    await accepted.take(2);
    const heard = collect(listener.client);
    const messages = mixedMessages(30, 5);
    for (const message of messages) sender.client.send(message);
    expect(await heard.take(messages.length)).toEqual(messages);
    expect(sender.sniffer.messageStarts).toHaveLength(0);
    expect(listener.sniffer.messageStarts.filter((f) => f.rsv1)).toHaveLength(
      messages.filter((m) => Buffer.byteLength(m) >= 1024).length,
    );
  });
});

function sameMessage(got: Received, want: Received): boolean {
  if (typeof want === 'string') return got === want;
  return Buffer.isBuffer(got) && got.equals(want);
}

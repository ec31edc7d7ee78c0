import { negotiatePerMessageDeflate } from '../../../src/codec/deflate-negotiation';
import type { PerMessageDeflateOptions } from '../../../src/codec/deflate-options';
import { PerMessageDeflate } from '../../../src/codec/permessage-deflate';
import { compress, decompress } from './helpers/pmd';
import { WsClientPeer, type WsClientOptions } from './helpers/ws-peer';

/** Messages that repeat one another, so context takeover has something to take over. */
function messages(): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < 12; i++) {
    const body = JSON.stringify({ seq: i, user: `user-${i % 3}`, text: 'the quick brown fox '.repeat(1 + (i % 5)), pad: 'x'.repeat(i * 97) });
    out.push(Buffer.from(body));
  }
  out.push(Buffer.alloc(0), Buffer.from('Hello'), Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7919) % 251)));
  return out;
}

const cases: Array<[string, WsClientOptions, PerMessageDeflateOptions]> = [
  ['defaults on both sides', {}, {}],
  ['the client asking for server_no_context_takeover', { serverNoContextTakeover: true }, {}],
  ['the client offering client_no_context_takeover', { clientNoContextTakeover: true }, {}],
  ['the server imposing no context takeover both ways', {}, { serverNoContextTakeover: true, clientNoContextTakeover: true }],
  ['the client asking for server_max_window_bits=9', { serverMaxWindowBits: 9 }, {}],
  ['the client asking for server_max_window_bits=8', { serverMaxWindowBits: 8 }, {}],
  ['the client hinting client_max_window_bits=10', { clientMaxWindowBits: 10 }, {}],
  ['the server limiting the client window to 9 bits', {}, { clientMaxWindowBits: 9 }],
  ['the server limiting its own window to 11 bits at level 1', {}, { serverMaxWindowBits: 11, level: 1 }],
];

describe('permessage-deflate interop with the ws package as the client', () => {
  test.each(cases)('negotiates, then exchanges messages both ways, with %s', async (_name, clientOptions, serverOptions) => {
    const client = new WsClientPeer(clientOptions);
    const agreement = negotiatePerMessageDeflate([client.offer()], serverOptions);
    expect(agreement).not.toBeNull();
    client.accept(agreement!.response); // ws validates our response as a client must (§5.1)
    const server = new PerMessageDeflate(agreement!.params, serverOptions, 0);
    try {
      for (const m of messages()) {
        // ws compresses, we inflate
        expect((await decompress(server, await client.compress(m))).equals(m)).toBe(true);
        // we compress, ws inflates
        expect((await client.decompress(await compress(server, m))).equals(m)).toBe(true);
      }
    } finally {
      server.close();
      client.close();
    }
  });

  test('inflates messages ws compressed and sent before we read any of them, in order', async () => {
    const client = new WsClientPeer({});
    const agreement = negotiatePerMessageDeflate([client.offer()], {})!;
    client.accept(agreement.response);
    const server = new PerMessageDeflate(agreement.params, {}, 0);
    const sent = messages();
    const payloads: Buffer[] = [];
    for (const m of sent) payloads.push(await client.compress(m));
    const received = await Promise.all(payloads.map((p) => decompress(server, p)));
    received.forEach((m, i) => expect(m.equals(sent[i]!)).toBe(true));
    server.close();
    client.close();
  });
});

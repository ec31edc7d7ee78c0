/**
 * permessage-deflate memory per connection: by default (`perMessageDeflate:
 * true`) the server answers server_no_context_takeover, so a connection that
 * is sent compressed messages gets no deflate stream of its own (~330 KiB of
 * zlib state each); one process-wide stream serves them all. Counted by
 * watching node:zlib's factories, over real sockets.
 */
import type { AttachWsOptions, WebSocket } from 'attach-ws';
import { useApps } from '../../helpers/app-server';
import { connectRaw, type RawClient } from '../../helpers/raw-client';
import { ZlibSpy } from '../../codec/deflate/helpers/zlib-spy';
import { constants, inflateRawSync } from 'node:zlib';
import { Inbox, TAIL } from './support';

const apps = useApps();
const CONNECTIONS = 40;
/** 2 KiB of JSON-ish text: above the 1 KiB threshold, so it is compressed. */
const MESSAGE = JSON.stringify(Array.from({ length: 60 }, (_, i) => ({ id: i, text: 'hello' }))).padEnd(2048, ' ');

let spy: ZlibSpy | undefined;
afterEach(() => spy?.restore());

/** Opens CONNECTIONS raw clients offering permessage-deflate, sends each one 2 KiB message, checks it arrived compressed. */
async function sendOneMessageEach(options: AttachWsOptions): Promise<{ clients: RawClient[]; sockets: WebSocket[] }> {
  const accepted = new Inbox<WebSocket>();
  const running = await apps.start((app) => app.ws('/s', (ws) => accepted.push(ws)), options);
  const clients: RawClient[] = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const client = await connectRaw(running.port, '/s', { extensions: 'permessage-deflate' });
    apps.track(() => client.destroy());
    clients.push(client);
  }
  const sockets = await accepted.take(CONNECTIONS);
  for (const ws of sockets) ws.send(MESSAGE);
  for (const client of clients) {
    const frame = await client.nextFrame();
    expect(frame.rsv1).toBe(true);
    // inflateRawSync, not a stream: the spy must see the server's streams only.
    expect(inflateRawSync(Buffer.concat([frame.payload, TAIL]), { finishFlush: constants.Z_SYNC_FLUSH }).toString()).toBe(MESSAGE);
  }
  return { clients, sockets };
}

test('by default, connections that are each sent a compressed message create no deflate stream of their own', async () => {
  spy = new ZlibSpy();
  const { sockets } = await sendOneMessageEach({ perMessageDeflate: true });
  expect(sockets[0]!.extensions).toBe('permessage-deflate; server_no_context_takeover');
  // One process-wide stream (created on first use, reset after each message), not one per connection.
  expect(spy.deflates.length).toBeLessThanOrEqual(1);
  expect(spy.inflates).toHaveLength(0);
});

test('with server context takeover opted in, each such connection keeps a deflate stream until it closes', async () => {
  spy = new ZlibSpy();
  const { clients, sockets } = await sendOneMessageEach({ perMessageDeflate: { serverNoContextTakeover: false } });
  expect(sockets[0]!.extensions).toBe('permessage-deflate');
  expect(spy.deflates).toHaveLength(CONNECTIONS);
  expect(spy.deflates.filter((stream) => stream.destroyed)).toHaveLength(0);

  const closed = sockets.map((ws) => new Promise<void>((resolve) => ws.once('close', () => resolve())));
  for (const client of clients) client.destroy();
  await Promise.all(closed);
  // Released with the connection: close() frees the native zlib state at once.
  expect(spy.deflates.filter((stream) => !stream.destroyed)).toHaveLength(0);
});

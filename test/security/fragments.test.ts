/**
 * Issue #12 item 1: a message in assembly costs its payload bytes plus a small
 * constant per fragment, never the read chunks its fragments arrived in; and
 * a message may have only so many fragments (1009 beyond).
 */
import type { WebSocket } from 'attach-ws';
import { useApps } from '../helpers/app-server';
import { clientFrame, connectRaw } from '../helpers/raw-client';
import { deferred } from '../integration/socket/support';
import { KiB, MiB, retainedBufferBytes } from './memory';

const apps = useApps();

const BINARY = 0x2;
const CONTINUATION = 0x0;
const PONG = 0xa;

test('1-byte fragments read together with 64 KiB of pongs do not pin their read chunks: 200 of them retain well under 1 MiB, not 12.8 MiB', async () => {
  const rounds = 200;
  const pongsPerRound = 499; // one 1-byte fragment + 499 pongs of 131 bytes: one 64 KiB read
  let pongs = 0;
  let roundDone = deferred();
  const closed = deferred<number>();
  const running = await apps.start((app) => {
    app.ws('/s', (ws: WebSocket) => {
      ws.on('pong', () => {
        if (++pongs % pongsPerRound === 0) roundDone.resolve();
      });
      ws.on('message', () => {});
      ws.on('close', (code) => closed.resolve(code));
    });
  });
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  client.send(clientFrame(BINARY, Buffer.from('a'), { fin: false }));
  const pong = clientFrame(PONG, Buffer.alloc(125, 0x70));
  const round = Buffer.concat([clientFrame(CONTINUATION, Buffer.from('b'), { fin: false }), ...Array(pongsPerRound).fill(pong)]);
  expect(round.length).toBeLessThanOrEqual(64 * KiB);

  const before = retainedBufferBytes();
  for (let i = 0; i < rounds; i++) {
    roundDone = deferred();
    client.send(round);
    await roundDone.promise; // the server read it all: each round is its own read chunk
  }
  const growth = retainedBufferBytes() - before;
  // Old code: every fragment was a view into its 64 KiB chunk: 200 × 64 KiB = 12.5 MiB retained.
  expect(growth).toBeLessThan(1 * MiB);

  // The message still completes, whole and in order.
  const message = deferred<Buffer>();
  running.wss.clients.forEach((ws) => ws.once('message', (data) => message.resolve(data as Buffer)));
  client.send(clientFrame(CONTINUATION, Buffer.from('c')));
  const data = await message.promise;
  expect(data.length).toBe(rounds + 2);
  expect(data.subarray(0, 2).toString()).toBe('ab');
  expect(data.at(-1)).toBe(0x63);
});

test('a message with more fragments than maxFragments is closed with 1009, counting fragments not bytes', async () => {
  const closed = deferred<number>();
  const running = await apps.start(
    (app) => {
      app.ws('/s', (ws: WebSocket) => {
        ws.on('message', () => {});
        ws.on('close', (code) => closed.resolve(code));
      });
    },
    { maxFragments: 1000 },
  );
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  const empty = clientFrame(CONTINUATION, Buffer.alloc(0), { fin: false });
  client.send(Buffer.concat([clientFrame(BINARY, Buffer.alloc(0), { fin: false }), ...Array(1000).fill(empty)]));
  const close = await client.expectClose();
  expect(close.code).toBe(1009);
  expect(await closed.promise).toBe(1009);
});

test('the default fragment limit accepts a message of 65,537 fragments', async () => {
  const running = await apps.start((app) => {
    app.ws('/s', (ws: WebSocket) => ws.on('message', (data) => ws.send(data)));
  });
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  const fragment = clientFrame(CONTINUATION, Buffer.from('x'), { fin: false });
  const count = 65_537;
  client.send(
    Buffer.concat([
      clientFrame(BINARY, Buffer.from('x'), { fin: false }),
      ...Array(count - 2).fill(fragment),
      clientFrame(CONTINUATION, Buffer.from('x')),
    ]),
  );
  const frame = await client.nextFrame();
  expect(frame.payload.length).toBe(count);
});

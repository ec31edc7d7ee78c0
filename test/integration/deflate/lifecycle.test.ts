/**
 * Compression around a connection's lifecycle: a connection that ends while
 * its compressed sends still wait for zlib (every callback fires once, with an
 * error, and nothing is reported as a server error); close frames, drain and
 * `for await` in order with compressed messages; empty compressed messages.
 */
import type { WebSocket } from 'attach-ws';
import { zlibLimiter } from '../../../src/codec/deflate-limiter';
import { useApps } from '../../helpers/app-server';
import { clientFrame, closePayload, connectRaw } from '../../helpers/raw-client';
import { compress, deferred, Inbox, serverClosed, StreamInflater } from './support';

const apps = useApps();

/** A limit no other test uses, so this file owns its process-wide limiter. */
const CONCURRENCY = 3;

/**
 * Messages up to SYNC_DEFLATE_LIMIT (16 KiB) compress synchronously when their
 * connection has nothing queued; these tests need compressions that wait, so
 * they send more than that.
 */
const BIG = 20_000;

/** Hold every slot of the limiter until `release()`: (threadpool) compressions wait, deterministically. */
function blockLimiter(): () => void {
  const releases: Array<() => void> = [];
  for (let i = 0; i < CONCURRENCY; i++) zlibLimiter(CONCURRENCY).run((release) => releases.push(release));
  return () => releases.forEach((release) => release());
}

async function setup(): Promise<{ ws: WebSocket; errors: Error[]; destroyClient: () => void }> {
  const accepted = new Inbox<WebSocket>();
  const errors: Error[] = [];
  const running = await apps.start((app) => app.ws('/s', (ws) => accepted.push(ws)), {
    perMessageDeflate: { concurrencyLimit: CONCURRENCY, serverNoContextTakeover: false },
  });
  running.wss.on('error', (err) => errors.push(err));
  const raw = await connectRaw(running.port, '/s', { extensions: 'permessage-deflate' });
  const ws = await accepted.next();
  return { ws, errors, destroyClient: () => raw.destroy() };
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('closing with compressed sends pending', () => {
  test('each pending send callback fires exactly once, with an error, and no server error is reported', async () => {
    const { ws, errors, destroyClient } = await setup();
    const release = blockLimiter();
    const calls: Array<Array<Error | null | undefined>> = [[], [], []];
    ws.send('a'.repeat(BIG), (err) => calls[0]!.push(err));
    ws.send('small', (err) => calls[1]!.push(err)); // queued behind the compression
    ws.send(Buffer.alloc(BIG, 1), (err) => calls[2]!.push(err));
    const closed = serverClosed(ws);
    destroyClient();
    expect((await closed).code).toBe(1006);
    release();
    await nextTurn();
    await nextTurn();
    for (const call of calls) {
      expect(call).toHaveLength(1);
      expect(call[0]).toBeInstanceOf(Error);
    }
    expect(errors).toEqual([]);
  });

  test('a publish waiting for a shared compression to a connection that closed is dropped quietly', async () => {
    const accepted = new Inbox<WebSocket>();
    const errors: Error[] = [];
    const running = await apps.start(
      (app) =>
        app.ws('/s', (ws) => {
          ws.subscribe('t');
          accepted.push(ws);
        }),
      { perMessageDeflate: { concurrencyLimit: CONCURRENCY, serverNoContextTakeover: true } },
    );
    running.wss.on('error', (err) => errors.push(err));
    const raw = await connectRaw(running.port, '/s', { extensions: 'permessage-deflate' });
    const ws = await accepted.next();
    const release = blockLimiter();
    const sent = deferred<Error | null | undefined>();
    expect(running.wss.publish('t', 'p'.repeat(BIG))).toBe(1);
    ws.send('q'.repeat(BIG), (err) => sent.resolve(err));
    const closed = serverClosed(ws);
    raw.destroy();
    await closed;
    release();
    expect(await sent.promise).toBeInstanceOf(Error);
    await nextTurn();
    await nextTurn();
    expect(errors).toEqual([]);
  });
});

describe('closing and backpressure around compression', () => {
  test('a compressed message followed at once by a close frame is delivered before the close', async () => {
    const accepted = new Inbox<WebSocket>();
    const running = await apps.start((app) => app.ws('/s', (ws) => accepted.push(ws)), { perMessageDeflate: true });
    const raw = await connectRaw(running.port, '/s', { extensions: 'permessage-deflate' });
    const ws = await accepted.next();
    const events: string[] = [];
    ws.on('message', (data) => events.push(`message ${String(data).length}`));
    const closed = serverClosed(ws).then(({ code }) => events.push(`close ${code}`));
    const text = 'compressed before closing '.repeat(400);
    raw.send(Buffer.concat([clientFrame(0x1, compress(text), { rsv1: true }), clientFrame(0x8, closePayload(1000))]));
    expect((await raw.expectClose()).code).toBe(1000);
    await closed;
    expect(events).toEqual([`message ${text.length}`, 'close 1000']);
  });

  test('close() right after a compressed send sends the message first, then the close frame', async () => {
    const accepted = new Inbox<WebSocket>();
    const running = await apps.start((app) => app.ws('/s', (ws) => accepted.push(ws)), { perMessageDeflate: true });
    const raw = await connectRaw(running.port, '/s', { extensions: 'permessage-deflate' });
    const ws = await accepted.next();
    const text = 'last words '.repeat(500);
    const sent = deferred<Error | null | undefined>();
    ws.send(text, (err) => sent.resolve(err));
    ws.send('and a small one');
    ws.close(4000, 'bye');
    const first = await raw.nextFrame();
    expect(first.rsv1).toBe(true);
    expect((await new StreamInflater().inflate(first.payload)).toString()).toBe(text);
    expect((await raw.nextFrame()).payload.toString()).toBe('and a small one');
    expect(await raw.expectClose({ reply: true })).toEqual({ code: 4000, reason: 'bye' });
    expect(await sent.promise).toBeFalsy();
  });

  test('send() reports backpressure while compressions are pending, and drain follows', async () => {
    const accepted = new Inbox<WebSocket>();
    const running = await apps.start((app) => app.ws('/s', (ws) => accepted.push(ws)), {
      perMessageDeflate: true,
      highWaterMark: 64 * 1024,
    });
    const raw = await connectRaw(running.port, '/s', { extensions: 'permessage-deflate' });
    const ws = await accepted.next();
    const drained = new Promise<void>((resolve) => ws.once('drain', () => resolve()));
    const results: boolean[] = [];
    for (let i = 0; i < 8; i++) results.push(ws.send(`${i} ${'b'.repeat(BIG)}`));
    expect(results.slice(0, 3)).toEqual([true, true, true]);
    expect(results[7]).toBe(false);
    await drained;
    expect(ws.bufferedAmount).toBeLessThan(64 * 1024);
    const inflater = new StreamInflater();
    for (let i = 0; i < 8; i++) {
      const frame = await raw.nextFrame();
      expect((await inflater.inflate(frame.payload)).toString()).toBe(`${i} ${'b'.repeat(BIG)}`);
    }
    raw.destroy();
  });

  test('empty messages compressed by either side (threshold 0) arrive empty', async () => {
    const accepted = new Inbox<WebSocket>();
    const running = await apps.start(
      (app) =>
        app.ws('/s', (ws) => {
          ws.on('message', (data) => ws.send(data));
          accepted.push(ws);
        }),
      { perMessageDeflate: { threshold: 0 } },
    );
    const raw = await connectRaw(running.port, '/s', { extensions: 'permessage-deflate' });
    const ws = await accepted.next();
    const got = new Inbox<string | Buffer>();
    ws.on('message', (data) => got.push(data));
    raw.sendFrame(0x1, compress(''), { rsv1: true }); // one empty stored block: 0x00
    raw.sendFrame(0x2, Buffer.alloc(0), { rsv1: true }); // no data at all
    expect(await got.take(2)).toEqual(['', Buffer.alloc(0)]);
    const inflater = new StreamInflater();
    for (const opcode of [0x1, 0x2]) {
      const echo = await raw.nextFrame();
      expect(echo).toMatchObject({ opcode, rsv1: true });
      expect(await inflater.inflate(echo.payload)).toEqual(Buffer.alloc(0));
    }
    ws.send('still in sync '.repeat(100));
    expect((await inflater.inflate((await raw.nextFrame()).payload)).toString()).toBe('still in sync '.repeat(100));
    raw.destroy();
  });

  test('for await over a deflate connection yields inflated messages in order', async () => {
    const done = deferred<Array<string | Buffer>>();
    const running = await apps.start(
      (app) =>
        app.ws('/s', async (ws) => {
          const out: Array<string | Buffer> = [];
          for await (const message of ws) {
            out.push(message);
            if (out.length === 6) break;
          }
          done.resolve(out);
        }),
      { perMessageDeflate: true },
    );
    const raw = await connectRaw(running.port, '/s', { extensions: 'permessage-deflate' });
    const messages = ['a'.repeat(3000), 'small', 'b'.repeat(5000), 'tiny', 'c'.repeat(2000), 'end'];
    for (const m of messages) {
      if (m.length > 100) raw.sendFrame(0x1, compress(m), { rsv1: true });
      else raw.sendFrame(0x1, m);
    }
    expect(await done.promise).toEqual(messages);
    raw.destroy();
  });
});

/**
 * A connection that ends while its compressed sends are still waiting for
 * zlib: every callback fires once, with an error, and nothing is reported as
 * a server error (the connection is simply gone).
 */
import type { WebSocket } from 'attach-ws';
import { zlibLimiter } from '../../../src/codec/deflate-limiter';
import { startApp, type RunningApp } from '../../helpers/app-server';
import { connectRaw } from '../../helpers/raw-client';
import { deferred, Inbox, serverClosed } from './support';

let running: RunningApp | undefined;
afterEach(async () => {
  await running?.close();
  running = undefined;
});

/** A limit no other test uses, so this file owns its process-wide limiter. */
const CONCURRENCY = 3;

/** Hold every slot of the limiter until `release()`: compressions wait, deterministically. */
function blockLimiter(): () => void {
  const releases: Array<() => void> = [];
  for (let i = 0; i < CONCURRENCY; i++) zlibLimiter(CONCURRENCY).run((release) => releases.push(release));
  return () => releases.forEach((release) => release());
}

async function setup(): Promise<{ ws: WebSocket; errors: Error[]; destroyClient: () => void }> {
  const accepted = new Inbox<WebSocket>();
  const errors: Error[] = [];
  running = await startApp((app) => app.ws('/s', (ws) => accepted.push(ws)), {
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
    ws.send('a'.repeat(4096), (err) => calls[0]!.push(err));
    ws.send('small', (err) => calls[1]!.push(err)); // queued behind the compression
    ws.send(Buffer.alloc(8192, 1), (err) => calls[2]!.push(err));
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
    running = await startApp(
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
    expect(running.wss.publish('t', 'p'.repeat(4096))).toBe(1);
    ws.send('q'.repeat(4096), (err) => sent.resolve(err));
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

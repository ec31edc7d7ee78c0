import fc from 'fast-check';
import net from 'node:net';
import { useApps } from '../../helpers/app-server';
import { connectRaw } from '../../helpers/raw-client';

const apps = useApps();

/**
 * Whatever a peer sends, the server answers with a close code or waits for
 * more bytes, never throws, and lets go of the connection once the peer
 * leaves: no unhandled exception, no socket left in `wss.clients`.
 */
describe('hostile peers', () => {
  test('arbitrary bytes after the handshake, in arbitrary chunks, never crash the server or leak a connection', async () => {
    const errors: Error[] = [];
    const running = await apps.start(
      (app, wss) => {
        wss.on('error', (err) => errors.push(err));
        app.ws('/', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
      },
      { maxPayload: 64 * 1024, heartbeat: false },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 600 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 8 }),
        async (bytes, cuts) => {
          const client = await connectRaw(running.port, '/');
          const data = Buffer.from(bytes);
          for (let at = 0, i = 0; at < data.length; i++) {
            const size = cuts[i % cuts.length]!;
            client.send(data.subarray(at, at + size));
            at += size;
          }
          // The peer leaves; the server must close its side and forget the connection.
          client.socket.end();
          await client.closed;
        },
      ),
      { numRuns: 60, seed: 20261125 },
    );
    // Connections still open have their TCP close pending: wait for their close events, not for a number of turns.
    await Promise.all([...running.wss.clients].map((ws) => new Promise((resolve) => ws.once('close', resolve))));
    expect(running.wss.clients.size).toBe(0);
    expect(errors).toEqual([]);
  });

  test('garbage instead of an HTTP request is refused by the HTTP layer and closed', async () => {
    const running = await apps.start((app) => {
      app.ws('/', () => undefined);
    });
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
        const socket = net.connect(running.port, '127.0.0.1');
        socket.on('error', () => undefined); // a reset is a fine answer to garbage
        socket.on('data', () => undefined);
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        socket.end(Buffer.from(bytes));
        await new Promise<void>((resolve) => socket.once('close', () => resolve()));
      }),
      { numRuns: 40, seed: 20261125 },
    );
    expect(running.wss.clients.size).toBe(0);
  });
});

/**
 * Issue #12 item 4: messages held for a handler that has not listened yet,
 * and messages queued for a `for await` loop, are charged a per-message
 * overhead and capped by count as well as bytes — empty messages are not free.
 */
import type { Socket } from 'node:net';
import type { WebSocket } from 'attach-ws';
import { useApps } from '../helpers/app-server';
import { clientFrame, connectRaw } from '../helpers/raw-client';
import { deferred } from '../integration/socket/support';

const apps = useApps();

const TEXT = 0x1;
const total = 200_000;
const emptyFrame = clientFrame(TEXT, '');

/** Resolves with the server socket's bytesRead once it pauses reading, or once it read everything. */
function readingStops(socket: Socket, everything: number): Promise<number> {
  return new Promise((resolve) => {
    socket.once('pause', () => resolve(socket.bytesRead));
    const onData = () => {
      if (socket.bytesRead >= everything) {
        socket.off('data', onData);
        resolve(socket.bytesRead);
      }
    };
    socket.on('data', onData);
  });
}

test('200,000 empty messages sent to a handler that is still awaiting are held only up to maxHeldMessages, then reading pauses; none is lost', async () => {
  const maxHeldMessages = 1000;
  const gate = deferred();
  const stopped = deferred<number>();
  const received = deferred<number>();
  const running = await apps.start(
    (app) => {
      app.ws('/s', async (ws: WebSocket, req) => {
        void readingStops(req.socket as Socket, total * emptyFrame.length).then(stopped.resolve);
        await gate.promise; // a slow handler: nothing listens yet
        let count = 0;
        ws.on('message', () => {
          if (++count === total) received.resolve(count);
        });
      });
    },
    { maxHeldMessages },
  );
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  client.send(Buffer.concat(Array(total).fill(emptyFrame)));
  const bytesRead = await stopped.promise;
  // Old code: empty messages cost 0 bytes against maxHeldBytes, so all 200,000 were read and held.
  // Now at most maxHeldMessages, plus the rest of the read chunk that reached the limit (64 KiB at most).
  expect(bytesRead).toBeLessThan(maxHeldMessages * emptyFrame.length + 64 * 1024 + 1024);
  gate.resolve();
  expect(await received.promise).toBe(total);
});

test('a for-await loop whose consumer is stuck queues at most maxHeldMessages empty messages before reading pauses; none is lost', async () => {
  const maxHeldMessages = 1000;
  const gate = deferred();
  const stopped = deferred<number>();
  const done = deferred<number>();
  const running = await apps.start(
    (app) => {
      app.ws('/s', async (ws: WebSocket, req) => {
        void readingStops(req.socket as Socket, total * emptyFrame.length).then(stopped.resolve);
        let count = 0;
        for await (const _ of ws) {
          if (count === 0) await gate.promise; // stuck on the first message
          if (++count === total) break;
        }
        done.resolve(count);
      });
    },
    { maxHeldMessages },
  );
  const client = await connectRaw(running.port, '/s');
  apps.track(() => client.destroy());
  client.send(Buffer.concat(Array(total).fill(emptyFrame)));
  const bytesRead = await stopped.promise;
  expect(bytesRead).toBeLessThan(maxHeldMessages * emptyFrame.length + 64 * 1024 + 1024);
  gate.resolve();
  expect(await done.promise).toBe(total);
});

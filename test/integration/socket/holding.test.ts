import net from 'node:net';
import WsClient from 'ws';
import type { WebSocket } from 'attach-ws';
import { HELD_MESSAGE_OVERHEAD } from '../../../src/socket/options';
import { useApps } from '../../helpers/app-server';
import { clientFrame, closePayload, connectRaw } from '../../helpers/raw-client';
import { clientClosed, deferred, Inbox, nextTurn, openClient } from './support';

const apps = useApps();

/** Resolves once `total` bytes have come in on `socket` (an extra 'data' listener, no change of flow). */
function bytesArrived(socket: net.Socket, total: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen >= total) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
  });
}

describe('an async handler loses no message', () => {
  test('messages that arrive while the handler awaits are delivered in order once it listens', async () => {
    const received = new Inbox<string | Buffer>();
    const frames = [clientFrame(0x1, 'one'), clientFrame(0x2, Buffer.from('two')), clientFrame(0x1, 'three')];
    const total = frames.reduce((n, f) => n + f.length, 0);
    const running = await apps.start((app) => {
      app.ws('/s', async (ws, req) => {
        await bytesArrived(req.socket as net.Socket, total); // all three are in before we listen
        ws.on('message', received.push);
      });
    });
    const client = await connectRaw(running.port, '/s');
    apps.track(() => client.destroy());
    for (const frame of frames) client.send(frame);
    expect(await received.take(3)).toEqual(['one', Buffer.from('two'), 'three']);
  });

  test("a 'message' listener added by a wss 'connection' listener does not end holding for the async handler", async () => {
    const received = new Inbox<string | Buffer>();
    const seenByConnectionListener: Array<string | Buffer> = [];
    const frames = [clientFrame(0x1, 'one'), clientFrame(0x1, 'two')];
    const running = await apps.start((app, wss) => {
      wss.on('connection', (ws) => ws.on('message', (data) => seenByConnectionListener.push(data)));
      app.ws('/s', async (ws, req) => {
        await bytesArrived(req.socket as net.Socket, frames[0]!.length + frames[1]!.length);
        ws.on('message', received.push);
      });
    });
    const client = await connectRaw(running.port, '/s');
    apps.track(() => client.destroy());
    for (const frame of frames) client.send(frame);
    expect(await received.take(2)).toEqual(['one', 'two']);
    expect(seenByConnectionListener).toEqual(['one', 'two']);
  });

  test('frames sent in the same TCP write as the upgrade request are delivered', async () => {
    const received = new Inbox<string | Buffer>();
    const gate = deferred();
    const running = await apps.start((app) => {
      app.ws('/sync', (ws) => ws.on('message', received.push));
      app.ws('/async', async (ws) => {
        await gate.promise;
        ws.on('message', received.push);
      });
    });
    for (const path of ['/sync', '/async']) {
      const socket = net.connect(running.port, '127.0.0.1');
      apps.track(() => socket.destroy());
      const request = [
        `GET ${path} HTTP/1.1`,
        'Host: 127.0.0.1',
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n');
      socket.write(Buffer.concat([Buffer.from(request), clientFrame(0x1, `${path} a`), clientFrame(0x1, `${path} b`)]));
      if (path === '/async') gate.resolve();
      expect(await received.take(2)).toEqual([`${path} a`, `${path} b`]);
    }
  });

  test('holding is bounded: reading pauses past maxHeldBytes, nothing is lost, and reading resumes once the handler listens', async () => {
    const received = new Inbox<string | Buffer>();
    const paused = deferred();
    const gate = deferred();
    const running = await apps.start(
      (app) => {
        app.ws('/s', async (ws, req) => {
          req.socket.once('pause', () => paused.resolve());
          await gate.promise;
          ws.on('message', received.push);
        });
      },
      { maxHeldBytes: 1000 },
    );
    const client = await connectRaw(running.port, '/s');
    apps.track(() => client.destroy());
    const messages = Array.from({ length: 30 }, (_, i) => `${i}:`.padEnd(200, 'x'));
    client.send(Buffer.concat(messages.map((m) => clientFrame(0x1, m))));
    await paused.promise;
    gate.resolve();
    expect(await received.take(30)).toEqual(messages);
    // Reading goes on after the held messages.
    client.sendFrame(0x1, 'after');
    expect(await received.next()).toBe('after');
  });

  test('a handler that returns without listening does not stop pings from being answered', async () => {
    const gate = deferred();
    const paused = deferred();
    const running = await apps.start(
      (app) => {
        app.ws('/s', async (_ws, req) => {
          req.socket.once('pause', () => paused.resolve());
          await gate.promise; // and never listens
        });
      },
      { maxHeldBytes: 100 },
    );
    const client = await connectRaw(running.port, '/s');
    apps.track(() => client.destroy());
    client.send(Buffer.concat([clientFrame(0x1, 'x'.repeat(150)), clientFrame(0x1, 'y'), clientFrame(0x9, 'p1')]));
    await paused.promise; // held past the limit while the handler awaits
    gate.resolve();
    const pong = await client.nextFrame();
    expect([pong.opcode, pong.payload.toString()]).toEqual([0xa, 'p1']);
    client.sendFrame(0x9, 'p2');
    const pong2 = await client.nextFrame();
    expect([pong2.opcode, pong2.payload.toString()]).toEqual([0xa, 'p2']);
  });

  test('the close event reaches a handler that is still awaiting, even with messages held', async () => {
    const events = new Inbox<string>();
    const gate = deferred();
    const running = await apps.start((app) => {
      app.ws('/s', async (ws) => {
        ws.on('close', (code) => events.push(`close ${code}`));
        await gate.promise; // never released before the close: must not hold the close back
        ws.on('message', (data) => events.push(`message ${String(data)}`));
      });
    });
    const client = await connectRaw(running.port, '/s');
    client.sendFrame(0x1, 'first');
    client.sendFrame(0x8, closePayload(1000));
    await client.expectClose();
    expect(await events.next()).toBe('close 1000');
    gate.resolve();
  });

  test('messages held when the peer closes still reach a listener the handler adds afterwards', async () => {
    const events = new Inbox<string>();
    const gate = deferred();
    const running = await apps.start((app) => {
      app.ws('/s', async (ws) => {
        ws.on('close', (code) => {
          events.push(`close ${code}`);
          gate.resolve();
        });
        await gate.promise; // released by the close: the peer is gone before we listen
        ws.on('message', (data) => events.push(`message ${String(data)}`));
      });
    });
    const client = await connectRaw(running.port, '/s');
    client.sendFrame(0x1, 'first');
    client.sendFrame(0x1, 'second');
    client.sendFrame(0x8, closePayload(1000));
    await client.expectClose();
    expect(await events.take(3)).toEqual(['close 1000', 'message first', 'message second']);
  });

  test('for await started after the peer closed yields the held messages, then ends', async () => {
    const iterated = deferred<string[]>();
    const closed = deferred();
    const running = await apps.start((app) => {
      app.ws('/s', async (ws) => {
        ws.on('close', () => closed.resolve());
        await closed.promise;
        const got: string[] = [];
        for await (const msg of ws) got.push(String(msg));
        iterated.resolve(got);
      });
    });
    const client = await connectRaw(running.port, '/s');
    client.sendFrame(0x1, 'a');
    client.sendFrame(0x1, 'b');
    client.sendFrame(0x8, closePayload(1000));
    await client.expectClose();
    await expect(iterated.promise).resolves.toEqual(['a', 'b']);
  });
});

describe('async iteration', () => {
  test('for await yields messages in order and ends when the client closes', async () => {
    const done = deferred<Array<string | Buffer>>();
    const running = await apps.start((app) => {
      app.ws('/s', async (ws) => {
        const got: Array<string | Buffer> = [];
        for await (const msg of ws) got.push(msg);
        done.resolve(got);
      });
    });
    const client = await openClient(`${running.url}/s`);
    for (let i = 0; i < 5; i++) client.send(`m${i}`);
    client.send(Buffer.from([1, 2]));
    client.close(1000);
    expect(await done.promise).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', Buffer.from([1, 2])]);
  });

  test('iteration started after an await still gets the messages that came first', async () => {
    const done = deferred<Array<string | Buffer>>();
    const frames = [clientFrame(0x1, 'a'), clientFrame(0x1, 'b')];
    const running = await apps.start((app) => {
      app.ws('/s', async (ws, req) => {
        await bytesArrived(req.socket as net.Socket, frames[0]!.length + frames[1]!.length);
        const got: Array<string | Buffer> = [];
        for await (const msg of ws) {
          got.push(msg);
          if (got.length === 3) break;
        }
        done.resolve(got);
      });
    });
    const client = await connectRaw(running.port, '/s');
    apps.track(() => client.destroy());
    for (const frame of frames) client.send(frame);
    await nextTurn();
    client.sendFrame(0x1, 'c');
    expect(await done.promise).toEqual(['a', 'b', 'c']);
  });

  test('leaving the loop with break closes the connection with 1000', async () => {
    const running = await apps.start((app) => {
      app.ws('/s', async (ws) => {
        for await (const msg of ws) {
          if (msg === 'stop') break;
        }
      });
    });
    const client = await openClient(`${running.url}/s`);
    const closed = clientClosed(client);
    client.send('go on');
    client.send('stop');
    expect((await closed).code).toBe(1000);
  });

  test('a slow consumer pauses TCP reading with at most the limit plus one message queued, and loses nothing', async () => {
    const limit = 1000;
    const size = 100;
    const count = 60;
    const paused = deferred<number>();
    const gate = deferred();
    const done = deferred<string[]>();
    let delivered = 0;
    const running = await apps.start(
      (app) => {
        app.ws('/s', async (ws: WebSocket, req) => {
          ws.on('message', () => delivered++); // counts what the server decoded so far
          req.socket.once('pause', () => paused.resolve(delivered));
          const got: string[] = [];
          for await (const msg of ws) {
            if (got.length === 0) await gate.promise; // slow: stuck on the first message
            got.push(msg as string);
            if (got.length === count) break;
          }
          done.resolve(got);
        });
      },
      { maxHeldBytes: limit },
    );
    const client = await connectRaw(running.port, '/s');
    apps.track(() => client.destroy());
    const messages = Array.from({ length: count }, (_, i) => `${i}:`.padEnd(size, '.'));
    client.send(Buffer.concat(messages.map((m) => clientFrame(0x1, m))));
    await paused.promise;
    await nextTurn();
    const decoded = delivered;
    // The first message is with the consumer; the iterator's queue holds the rest:
    // more than `limit` (that is why it paused), but by no more than one message.
    // Each is charged its length plus a fixed overhead (issue #12 item 4).
    const charged = size + HELD_MESSAGE_OVERHEAD;
    expect((decoded - 1) * charged).toBeGreaterThan(limit);
    expect((decoded - 1) * charged).toBeLessThanOrEqual(limit + charged);
    await nextTurn();
    await nextTurn();
    expect(delivered).toBe(decoded); // paused: nothing more is decoded
    gate.resolve();
    expect(await done.promise).toEqual(messages);
  });

  test('a consumer that awaits between messages gets them all in order', async () => {
    const done = deferred<string[]>();
    const running = await apps.start(
      (app) => {
        app.ws('/s', async (ws) => {
          const got: string[] = [];
          for await (const msg of ws) {
            await nextTurn();
            got.push(msg as string);
            if (got.length === 200) break;
          }
          done.resolve(got);
        });
      },
      { maxHeldBytes: 512 },
    );
    const client = new WsClient(`${running.url}/s`);
    apps.track(() => client.terminate());
    await new Promise((resolve) => client.once('open', resolve));
    const messages = Array.from({ length: 200 }, (_, i) => `message ${i}`.padEnd(64, '-'));
    for (const m of messages) client.send(m);
    expect(await done.promise).toEqual(messages);
  });
});

import WsClient from 'ws';
import type { WebSocket } from 'attach-ws';
import { useApps } from '../../helpers/app-server';
import { closePayload, connectRaw, type RawClient } from '../../helpers/raw-client';
import { clientClosed, deferred, Inbox, nextTurn, openClient, serverClosed, serverWithInbox } from './support';

const apps = useApps();

async function connectWs(): Promise<WsClient> {
  const client = await openClient(`${apps.running.url}/s`);
  apps.track(() => client.terminate());
  return client;
}

/** Every close event of `ws`, to check it fires exactly once. */
function recordCloses(ws: WebSocket): Array<[number, string]> {
  const closes: Array<[number, string]> = [];
  ws.on('close', (code, reason) => closes.push([code, reason]));
  return closes;
}

describe('the closing handshake', () => {
  test('a client close emits close exactly once with its code and reason, and the server echoes the code', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectWs();
    const { ws } = await accepted.next();
    const closes = recordCloses(ws);
    const serverSaw = serverClosed(ws);
    const clientSaw = clientClosed(client);
    client.close(4321, 'done here');
    expect(await serverSaw).toEqual({ code: 4321, reason: 'done here' });
    expect((await clientSaw).code).toBe(4321);
    await nextTurn();
    expect(closes).toEqual([[4321, 'done here']]);
    expect(ws.readyState).toBe(WsClient.CLOSED);
    expect(apps.running.wss.clients.size).toBe(0);
  });

  test('a close frame without a body is reported as 1005 and answered with an empty close frame', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectRaw(apps.running.port, '/s');
    const { ws } = await accepted.next();
    const closes = recordCloses(ws);
    const closed = serverClosed(ws);
    client.sendFrame(0x8, Buffer.alloc(0));
    expect(await client.expectClose()).toEqual({ code: undefined, reason: '' });
    await closed;
    await nextTurn();
    expect(closes).toEqual([[1005, '']]);
  });

  test('an abrupt loss of the TCP connection is reported as 1006', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectRaw(apps.running.port, '/s');
    const { ws } = await accepted.next();
    const closes = recordCloses(ws);
    const closed = serverClosed(ws);
    client.socket.resetAndDestroy();
    expect(await closed).toEqual({ code: 1006, reason: '' });
    await nextTurn();
    expect(closes).toHaveLength(1);
  });

  test('ws.close(4000, "bye") reaches the client, and readyState goes OPEN, CLOSING, CLOSED', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectWs();
    const { ws } = await accepted.next();
    const closes = recordCloses(ws);
    const clientSaw = clientClosed(client);
    const serverSaw = serverClosed(ws);
    expect(ws.readyState).toBe(1);
    ws.close(4000, 'bye');
    expect(ws.readyState).toBe(2);
    ws.close(4001, 'again'); // a second close is a no-op
    expect(await clientSaw).toEqual({ code: 4000, reason: 'bye' });
    expect((await serverSaw).code).toBe(4000);
    expect(ws.readyState).toBe(3);
    await nextTurn();
    expect(closes).toHaveLength(1);
  });

  test('a peer that never answers the close frame is dropped after closeTimeoutMs with 1006', async () => {
    const accepted = await serverWithInbox(apps, { closeTimeoutMs: 100 });
    const client = await connectRaw(apps.running.port, '/s');
    const { ws } = await accepted.next();
    const closed = serverClosed(ws);
    ws.close(1000, 'going');
    const frame = await client.nextFrame();
    expect(frame.opcode).toBe(0x8);
    expect(frame.payload.readUInt16BE(0)).toBe(1000);
    // The raw client says nothing: the close timeout ends the connection.
    expect(await closed).toEqual({ code: 1006, reason: '' });
    await client.closed;
  });

  /** This client never closes its side of TCP; resolves when the server's FIN arrives. */
  function serverFin(client: RawClient): Promise<void> {
    client.socket.allowHalfOpen = true;
    return new Promise((resolve) => client.socket.once('end', () => resolve()));
  }

  /** `promise`, or a clear failure once `ms` have passed (the server's closeTimeoutMs is an hour). */
  function within<T>(promise: Promise<T>, ms: number, failure: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(failure)), ms);
    });
    return Promise.race([promise, late]).finally(() => clearTimeout(timer));
  }

  /**
   * A connection whose client never closes its side of TCP, on a server whose
   * closeTimeoutMs (an hour) outlasts the test: `fin` is the server's FIN.
   */
  async function halfOpenClient(): Promise<{ client: RawClient; ws: WebSocket; closed: ReturnType<typeof serverClosed>; fin: Promise<void> }> {
    const accepted = await serverWithInbox(apps, { closeTimeoutMs: 3_600_000 });
    const client = await connectRaw(apps.running.port, '/s');
    const { ws } = await accepted.next();
    return { client, ws, closed: serverClosed(ws), fin: serverFin(client) };
  }

  test('once the peer has answered our close frame, the server closes TCP without waiting for the peer to close its side', async () => {
    const { client, ws, closed, fin } = await halfOpenClient();
    ws.close(4000, 'bye');
    expect((await client.nextFrame()).opcode).toBe(0x8);
    client.sendFrame(0x8, closePayload(4000));
    await within(fin, 5_000, 'the server waited for the client to close its side of TCP');
    expect(await closed).toEqual({ code: 4000, reason: '' }); // what the peer's close frame said
    expect(apps.running.wss.clients.size).toBe(0);
  });

  test('a close the client starts is answered, and the server closes TCP without waiting for the client to close its side', async () => {
    const { client, closed, fin } = await halfOpenClient();
    client.sendFrame(0x8, closePayload(1001, 'leaving'));
    const answer = await client.nextFrame();
    expect([answer.opcode, answer.payload.readUInt16BE(0)]).toEqual([0x8, 1001]);
    await within(fin, 5_000, 'the server waited for the client to close its side of TCP');
    expect(await closed).toEqual({ code: 1001, reason: 'leaving' });
    expect(apps.running.wss.clients.size).toBe(0);
  });

  test('closing at once loses nothing still in flight: a client that reads 4 MiB only after its close gets all of it, the close frame, then the FIN', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectRaw(apps.running.port, '/s'); // reads nothing until nextFrame()
    const errors: Error[] = [];
    client.socket.on('error', (err) => errors.push(err));
    const { ws } = await accepted.next();
    const payload = Buffer.alloc(4 * 1024 * 1024, 0x5a);
    ws.send(payload);
    client.sendFrame(0x8, closePayload(1000));
    let received = 0;
    for (;;) {
      const frame = await client.nextFrame();
      if (frame.opcode === 0x8) {
        expect(frame.payload.readUInt16BE(0)).toBe(1000);
        break;
      }
      received += frame.payload.length;
    }
    expect(received).toBe(payload.length);
    await client.closed;
    expect(errors).toEqual([]);
  });

  test('with a ping of ours unanswered, the server half-closes and reads on until the FIN: the pong the peer still owes is read, not reset', async () => {
    const { client, ws, closed, fin } = await halfOpenClient();
    const errors: Error[] = [];
    client.socket.on('error', (err) => errors.push(err));
    ws.ping('are you there');
    const ping = await client.nextFrame();
    expect(ping.opcode).toBe(0x9);
    // The client closes before answering. Until it reads our close frame it still owes the pong
    // (RFC 6455 §5.5.2): bytes that reach a socket we had closed would make our kernel send RST,
    // dropping whatever of ours it had not sent yet. So the server ends its side but keeps reading.
    client.sendFrame(0x8, closePayload(1000));
    expect((await client.nextFrame()).opcode).toBe(0x8);
    await fin;
    client.sendFrame(0xa, ping.payload);
    await nextTurn();
    expect(ws.readyState).toBe(2); // still reading: the socket is open until the client's FIN
    client.socket.end();
    expect((await closed).code).toBe(1000);
    await client.closed;
    expect(errors).toEqual([]);
  });

  test('close() with a code that may not be sent throws synchronously and leaves the connection open', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectWs();
    const { ws } = await accepted.next();
    for (const code of [0, 999, 1004, 1005, 1006, 1015, 2999, 5000, 1000.5]) {
      let thrown: unknown;
      try {
        ws.close(code);
      } catch (err) {
        thrown = err;
      }
      expect(thrown instanceof RangeError || thrown instanceof TypeError).toBe(true);
    }
    expect(() => ws.close(1000, 'x'.repeat(124))).toThrow(RangeError);
    expect(ws.readyState).toBe(1);
    const received = new Inbox<string>();
    client.on('message', (data) => received.push(data.toString()));
    ws.send('still open');
    expect(await received.next()).toBe('still open');
  });

  test('terminate() drops the connection at once: 1006 on both sides', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectWs();
    const { ws } = await accepted.next();
    const clientSaw = clientClosed(client);
    const serverSaw = serverClosed(ws);
    ws.terminate();
    expect((await serverSaw).code).toBe(1006);
    expect((await clientSaw).code).toBe(1006);
    expect(ws.readyState).toBe(3);
  });
});

/**
 * The heartbeat's interval is driven by hand: fake timers replace setInterval
 * (and setTimeout) while I/O, setImmediate and nextTick stay real, so each
 * tick happens exactly when the test says and every wait is for an event —
 * never a race between a 20 ms timer and a loaded machine.
 */
const HEARTBEAT_MS = 30_000;

function useHeartbeatClock(): { tick(): void } {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'clearImmediate', 'queueMicrotask'] });
  apps.track(() => jest.useRealTimers()); // before the app closes: shutdown waits on a real timer
  return { tick: () => jest.advanceTimersByTime(HEARTBEAT_MS) };
}

describe('the heartbeat', () => {
  test('a peer that answers every ping stays connected, round after round', async () => {
    const clock = useHeartbeatClock();
    const accepted = await serverWithInbox(apps, { heartbeat: { intervalMs: HEARTBEAT_MS } });
    const client = await connectWs();
    const { ws } = await accepted.next();
    const pongs = new Inbox<Buffer>();
    ws.on('pong', pongs.push); // the ws client answers each ping with a pong
    for (let round = 0; round < 3; round++) {
      clock.tick(); // traffic since the last tick (the pong): nothing to do
      clock.tick(); // a silent interval: ping
      await pongs.next();
    }
    clock.tick();
    expect(ws.readyState).toBe(1);
    expect(client.readyState).toBe(WsClient.OPEN);
  });

  test('a peer that never answers is pinged, then terminated with 1006 one interval later', async () => {
    const clock = useHeartbeatClock();
    const accepted = await serverWithInbox(apps, { heartbeat: { intervalMs: HEARTBEAT_MS } });
    const client = await connectRaw(apps.running.port, '/s');
    const { ws } = await accepted.next();
    const closed = serverClosed(ws);
    clock.tick();
    clock.tick();
    expect((await client.nextFrame()).opcode).toBe(0x9);
    expect(ws.readyState).toBe(1);
    clock.tick(); // a whole interval without a byte after the ping
    expect(await closed).toEqual({ code: 1006, reason: '' });
    await client.closed;
    expect(apps.running.wss.clients.size).toBe(0);
  });
});

describe('the heartbeat and paused reading', () => {
  test('a peer is not dropped while the server itself has paused reading for a slow consumer', async () => {
    const clock = useHeartbeatClock();
    const gate = deferred();
    const paused = deferred<WebSocket>();
    const running = await apps.start(
      (app) => {
        app.ws('/slow', async (ws, req) => {
          req.socket.once('pause', () => paused.resolve(ws));
          for await (const msg of ws) {
            void msg;
            await gate.promise; // stuck: reading stays paused
          }
        });
      },
      { heartbeat: { intervalMs: HEARTBEAT_MS }, maxHeldBytes: 100 },
    );
    const slowClient = await openClient(`${running.url}/slow`);
    apps.track(() => slowClient.terminate());
    for (let i = 0; i < 5; i++) slowClient.send('x'.repeat(100));
    const ws = await paused.promise;
    const pings = new Inbox<Buffer>();
    slowClient.on('ping', pings.push);
    // Without the exemption: ping on the second tick, terminate on the third (its pong sits unread).
    // A live peer takes our bytes: each ping that goes out is read before the clock moves on.
    for (let i = 0; i < 6; i++) {
      const before = ws.bufferedAmount;
      clock.tick();
      if (ws.bufferedAmount > before) await pings.next();
    }
    expect(ws.readyState).toBe(1);
    gate.resolve();
    await nextTurn();
    expect(slowClient.readyState).toBe(WsClient.OPEN);
  });
});

describe('handler errors', () => {
  async function errorsFor(handler: (ws: WebSocket) => unknown): Promise<{ errors: Inbox<Error>; client: WsClient }> {
    const errors = new Inbox<Error>();
    const running = await apps.start((app, wss) => {
      wss.on('error', (err) => errors.push(err));
      app.ws('/s', (ws) => handler(ws));
    });
    const client = new WsClient(`${running.url}/s`);
    apps.track(() => client.terminate());
    return { errors, client };
  }

  test('a handler that throws closes the connection with 1011 and reports the error', async () => {
    const { errors, client } = await errorsFor(() => {
      throw new Error('sync boom');
    });
    const closed = clientClosed(client);
    expect((await closed).code).toBe(1011);
    expect((await errors.next()).message).toBe('sync boom');
  });

  test('a handler whose promise rejects closes the connection with 1011 and reports the error', async () => {
    const { errors, client } = await errorsFor(async () => {
      await Promise.resolve();
      throw new Error('async boom');
    });
    const closed = clientClosed(client);
    expect((await closed).code).toBe(1011);
    expect((await errors.next()).message).toBe('async boom');
  });

  test("a 'message' listener that throws closes the connection with 1011 and reports the error", async () => {
    const { errors, client } = await errorsFor((ws) => {
      ws.on('message', () => {
        throw new Error('listener boom');
      });
    });
    await new Promise((resolve) => client.once('open', resolve));
    const closed = clientClosed(client);
    client.send('trigger');
    expect((await closed).code).toBe(1011);
    expect((await errors.next()).message).toBe('listener boom');
  });

  test("a 'close' listener that throws is reported and does not crash the process", async () => {
    const thrown = deferred<Error>();
    const { errors, client } = await errorsFor((ws) => {
      ws.on('close', () => {
        const err = new Error('close listener boom');
        thrown.resolve(err);
        throw err;
      });
    });
    await new Promise((resolve) => client.once('open', resolve));
    client.close(1000);
    await thrown.promise;
    expect((await errors.next()).message).toBe('close listener boom');
  });
});

import WsClient from 'ws';
import type { WebSocket } from 'attach-ws';
import { useApps } from '../../helpers/app-server';
import { closePayload, connectRaw } from '../../helpers/raw-client';
import { clientClosed, deferred, Inbox, openClient, serverClosed, serverWithInbox } from './support';

const apps = useApps();

async function connectWs(options?: WsClient.ClientOptions): Promise<WsClient> {
  const client = await openClient(`${apps.running.url}/s`, options);
  apps.track(() => client.terminate());
  return client;
}

/** An Error from any realm (Node's stream errors are not the test sandbox's Error). */
const anError = expect.objectContaining({ message: expect.any(String) });

describe('message events', () => {
  test('a text message arrives as a string and a binary message as a Buffer', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectWs();
    const { ws } = await accepted.next();
    const received = new Inbox<[string | Buffer, boolean]>();
    ws.on('message', (data, isBinary) => received.push([data, isBinary]));
    client.send('héllo wörld €');
    client.send(Buffer.from([0, 1, 2, 255]));
    const [[text, textIsBinary], [bytes, bytesIsBinary]] = await received.take(2);
    expect(text).toBe('héllo wörld €');
    expect(textIsBinary).toBe(false);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(bytes).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(bytesIsBinary).toBe(true);
  });

  test("undici's WebSocket exchanges text and binary and sees the server's close code and reason", async () => {
    const { WebSocket: UndiciWebSocket } = await import('undici');
    const accepted = await serverWithInbox(apps);
    const client = new UndiciWebSocket(`${apps.running.url}/s`);
    client.binaryType = 'arraybuffer';
    const received = new Inbox<string | ArrayBuffer>();
    client.addEventListener('message', (event) => received.push(event.data as string | ArrayBuffer));
    await new Promise((resolve) => client.addEventListener('open', resolve, { once: true }));
    const { ws } = await accepted.next();
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    client.send('text ✓');
    client.send(new Uint8Array([9, 8, 7]));
    const [text, bytes] = await received.take(2);
    expect(text).toBe('text ✓');
    expect(Buffer.from(bytes as ArrayBuffer)).toEqual(Buffer.from([9, 8, 7]));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      client.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason }), { once: true }),
    );
    ws.close(4000, 'bye');
    expect(await closed).toEqual({ code: 4000, reason: 'bye' });
  });

  test('a fragmented text message is reassembled into one string, even when a character straddles fragments', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectRaw(apps.running.port, '/s');
    const { ws } = await accepted.next();
    const received = new Inbox<[string | Buffer, boolean]>();
    ws.on('message', (data, isBinary) => received.push([data, isBinary]));
    const euro = Buffer.from('€', 'utf8'); // 3 bytes
    client.sendFrame(0x1, Buffer.concat([Buffer.from('price: '), euro.subarray(0, 1)]), { fin: false });
    client.sendFrame(0x0, euro.subarray(1, 2), { fin: false });
    client.sendFrame(0x9, 'interleaved ping'); // §5.4: control frames may come between fragments
    client.sendFrame(0x0, Buffer.concat([euro.subarray(2), Buffer.from('5')]), { fin: true });
    expect(await received.next()).toEqual(['price: €5', false]);
    expect((await client.nextFrame()).payload.toString()).toBe('interleaved ping');
    client.destroy();
  });

  test('a fragmented binary message is reassembled into one Buffer', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectRaw(apps.running.port, '/s');
    const { ws } = await accepted.next();
    const received = new Inbox<[string | Buffer, boolean]>();
    ws.on('message', (data, isBinary) => received.push([data, isBinary]));
    const payload = Buffer.alloc(70_000, 7);
    client.sendFrame(0x2, payload.subarray(0, 10), { fin: false });
    client.sendFrame(0x0, payload.subarray(10, 66_000), { fin: false });
    client.sendFrame(0x0, payload.subarray(66_000), { fin: true });
    const [data, isBinary] = await received.next();
    expect(isBinary).toBe(true);
    expect(Buffer.compare(data as Buffer, payload)).toBe(0);
    client.destroy();
  });

  test('a text message with invalid UTF-8 fails the connection with 1007 and emits no message', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectRaw(apps.running.port, '/s');
    const { ws } = await accepted.next();
    const messages: unknown[] = [];
    ws.on('message', (data) => messages.push(data));
    ws.on('error', () => {});
    const closed = serverClosed(ws);
    client.sendFrame(0x1, Buffer.from([0x68, 0x69, 0xc3, 0x28]));
    expect((await client.expectClose()).code).toBe(1007);
    expect((await closed).code).toBe(1007);
    expect(messages).toEqual([]);
  });

  test('typed arrays, ArrayBuffers and DataViews are sent as binary with exactly their bytes', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectWs();
    const { ws } = await accepted.next();
    const received = new Inbox<[Buffer, boolean]>();
    client.on('message', (data, isBinary) => received.push([data as Buffer, isBinary]));
    const backing = new ArrayBuffer(16);
    new Uint8Array(backing).set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    ws.send(new Uint16Array([0x0102, 0xfffe]));
    ws.send(backing);
    ws.send(new DataView(backing, 4, 3)); // a view into the middle: only its bytes
    ws.send(new Uint8Array(backing, 10, 2));
    const [u16, ab, dv, u8] = await received.take(4);
    const expectedU16 = Buffer.from(new Uint16Array([0x0102, 0xfffe]).buffer);
    expect(u16).toEqual([expectedU16, true]);
    expect(ab).toEqual([Buffer.from(backing), true]);
    expect(dv).toEqual([Buffer.from([4, 5, 6]), true]);
    expect(u8).toEqual([Buffer.from([10, 11]), true]);
  });

  test('a Buffer can be sent as text with { binary: false }', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectWs();
    const { ws } = await accepted.next();
    const received = new Inbox<[string, boolean]>();
    client.on('message', (data, isBinary) => received.push([data.toString(), isBinary]));
    ws.send(Buffer.from('as text'), { binary: false });
    ws.send('as bytes', { binary: true });
    expect(await received.take(2)).toEqual([
      ['as text', false],
      ['as bytes', true],
    ]);
  });
});

describe('outgoing fragmentation and size limits', () => {
  test('with fragmentSize, sent and published messages leave as fragments of at most that size', async () => {
    const accepted = await serverWithInbox(apps, { fragmentSize: 4 });
    const client = await connectRaw(apps.running.port, '/s');
    const { ws } = await accepted.next();
    ws.subscribe('t');
    ws.send('abcdefghij');
    apps.running.wss.publish('t', Buffer.from('0123456'));
    const frames = [];
    for (let i = 0; i < 5; i++) frames.push(await client.nextFrame());
    expect(frames.map((f) => [f.opcode, f.fin, f.payload.toString()])).toEqual([
      [0x1, false, 'abcd'],
      [0x0, false, 'efgh'],
      [0x0, true, 'ij'],
      [0x2, false, '0123'],
      [0x0, true, '456'],
    ]);
    client.destroy();
  });

  test('a message over maxPayload fails the connection with 1009 and is not delivered', async () => {
    const accepted = await serverWithInbox(apps, { maxPayload: 1000 });
    const client = await connectRaw(apps.running.port, '/s');
    const { ws } = await accepted.next();
    const messages: unknown[] = [];
    ws.on('message', (data) => messages.push(data));
    ws.on('error', () => {});
    client.sendFrame(0x2, Buffer.alloc(1000)); // at the limit: fine
    client.sendFrame(0x2, Buffer.alloc(600), { fin: false });
    client.sendFrame(0x0, Buffer.alloc(600)); // 1200 in all
    expect((await client.expectClose()).code).toBe(1009);
    expect(messages).toHaveLength(1);
  });
});

describe('send() and backpressure', () => {
  test('the send callback reports the bytes flushed and bufferedAmount counts exactly the queued frame bytes', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectWs();
    const { ws } = await accepted.next();
    const received = new Inbox<Buffer>();
    client.on('message', (data) => received.push(data as Buffer));
    expect(ws.bufferedAmount).toBe(0);
    const first = deferred<Error | null | undefined>();
    const second = deferred<Error | null | undefined>();
    ws.send(Buffer.alloc(1000), (err) => first.resolve(err));
    // 1000 bytes behind a 4-byte header (7-bit 126 + 16-bit length).
    expect(ws.bufferedAmount).toBe(1004);
    ws.send('0123456789', (err) => second.resolve(err));
    expect(ws.bufferedAmount).toBe(1004 + 12);
    expect(await first.promise).toBeFalsy();
    expect(await second.promise).toBeFalsy();
    expect(ws.bufferedAmount).toBe(0);
    ws.send('after');
    expect((await received.take(3)).map((b) => b.length)).toEqual([1000, 10, 5]);
  });

  test('send returns false past the high-water mark and drain follows once the client reads', async () => {
    const accepted = await serverWithInbox(apps, { highWaterMark: 256 * 1024 });
    const client = await connectWs();
    const { ws } = await accepted.next();
    client.pause(); // stop reading: the kernel buffers fill, then ours
    const received = new Inbox<number>();
    client.on('message', (data) => received.push((data as Buffer).length));
    const chunk = Buffer.alloc(64 * 1024, 1);
    let sent = 0;
    // Each send in its own turn, so the kernel takes what it can between them.
    while (ws.send(chunk)) {
      sent++;
      await new Promise((resolve) => setImmediate(resolve));
      if (sent > 10_000) throw new Error('the client never pushed back');
    }
    sent++;
    expect(ws.bufferedAmount).toBeGreaterThanOrEqual(256 * 1024);
    const drained = new Promise<void>((resolve) => ws.once('drain', resolve));
    client.resume();
    await drained;
    expect(ws.bufferedAmount).toBeLessThan(256 * 1024);
    expect(ws.send(Buffer.alloc(1))).toBe(true);
    const lengths = await received.take(sent + 1);
    expect(lengths.slice(0, sent).every((n) => n === 64 * 1024)).toBe(true);
  });

  test('drain follows a false send even when the high-water mark is below the TCP stream buffer size', async () => {
    const accepted = await serverWithInbox(apps, { highWaterMark: 1024 });
    const client = await connectWs();
    const { ws } = await accepted.next();
    const received = new Inbox<number>();
    client.on('message', (data) => received.push((data as Buffer).length));
    expect(ws.send(Buffer.alloc(2000))).toBe(false);
    await new Promise<void>((resolve) => ws.once('drain', resolve));
    expect(ws.bufferedAmount).toBe(0);
    expect(await received.next()).toBe(2000);
  });

  test('drain follows a false send of a message that is still being compressed', async () => {
    const accepted = await serverWithInbox(apps, { highWaterMark: 1024, perMessageDeflate: { threshold: 0 } });
    const client = await connectWs({ perMessageDeflate: true });
    const { ws } = await accepted.next();
    expect(ws.extensions).toContain('permessage-deflate');
    const received = new Inbox<number>();
    client.on('message', (data) => received.push((data as Buffer).length));
    // 100 kB of zeros compress to a few hundred bytes: the socket's own buffer never fills.
    expect(ws.send(Buffer.alloc(100_000))).toBe(false);
    expect(ws.bufferedAmount).toBeGreaterThanOrEqual(100_000);
    await new Promise<void>((resolve) => ws.once('drain', resolve));
    expect(ws.bufferedAmount).toBeLessThan(1024);
    expect(await received.next()).toBe(100_000);
  });

  test('a send after close() returns false and calls back with an error instead of throwing', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectWs();
    const { ws } = await accepted.next();
    const clientSaw = clientClosed(client);
    ws.close(1000);
    expect(ws.readyState).toBe(2); // CLOSING
    const whileClosing = deferred<Error | null | undefined>();
    expect(ws.send('late', (err) => whileClosing.resolve(err))).toBe(false);
    expect(await whileClosing.promise).toEqual(anError);
    await clientSaw;
    await new Promise((resolve) => (ws.readyState === 3 ? resolve(undefined) : ws.once('close', resolve)));
    expect(ws.readyState).toBe(3); // CLOSED
    const afterClose = deferred<Error | null | undefined>();
    expect(() => ws.send('later', (err) => afterClose.resolve(err))).not.toThrow();
    expect(ws.send(Buffer.alloc(10))).toBe(false);
    expect(await afterClose.promise).toEqual(anError);
    const pingErr = deferred<Error | null | undefined>();
    expect(() => ws.ping('x', (err) => pingErr.resolve(err))).not.toThrow();
    expect(await pingErr.promise).toEqual(anError);
  });

  test('a send whose connection is lost before it was written calls back with an error', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectWs();
    const { ws, socket } = await accepted.next();
    const result = deferred<Error | null | undefined>();
    const closed = serverClosed(ws);
    ws.send(Buffer.alloc(10), (err) => result.resolve(err));
    socket.destroy(); // lost in the same turn: the corked bytes never leave
    expect(await result.promise).toEqual(anError);
    expect((await closed).code).toBe(1006);
    void client;
  });
});

describe('ping and pong', () => {
  test("a client's ping is answered with a pong carrying the same payload and emitted as 'ping'", async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectRaw(apps.running.port, '/s');
    const { ws } = await accepted.next();
    const pings = new Inbox<Buffer>();
    ws.on('ping', pings.push);
    client.sendFrame(0x9, Buffer.from([1, 2, 3, 0xff]));
    const pong = await client.nextFrame();
    expect(pong.opcode).toBe(0xa);
    expect(pong.payload).toEqual(Buffer.from([1, 2, 3, 0xff]));
    expect(await pings.next()).toEqual(Buffer.from([1, 2, 3, 0xff]));
    client.sendFrame(0x8, closePayload(1000));
    expect((await client.expectClose()).code).toBe(1000);
  });

  test("ws.ping() reaches the client, whose pong is emitted as 'pong' with the same payload", async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectWs();
    const { ws } = await accepted.next();
    const clientPings = new Inbox<Buffer>();
    client.on('ping', clientPings.push);
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
    ws.ping('are you there');
    expect((await clientPings.next()).toString()).toBe('are you there');
    expect((await pong).toString()).toBe('are you there');
  });

  test('an unsolicited pong from the client is emitted and not answered', async () => {
    const accepted = await serverWithInbox(apps);
    const client = await connectRaw(apps.running.port, '/s');
    const { ws } = await accepted.next();
    const pong = new Promise<Buffer>((resolve) => ws.once('pong', resolve));
    client.sendFrame(0xa, 'beat');
    expect((await pong).toString()).toBe('beat');
    ws.close(1000);
    // Nothing but the close frame follows.
    expect((await client.expectClose({ reply: true })).code).toBe(1000);
  });

  test('ping() with more than 125 bytes throws a RangeError', async () => {
    const accepted = await serverWithInbox(apps);
    await connectWs();
    const { ws } = await accepted.next();
    expect(() => ws.ping(Buffer.alloc(126))).toThrow(RangeError);
  });
});

// Used for typing only in some tests.
export type { WebSocket };

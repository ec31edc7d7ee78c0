import type { WebSocket } from 'attach-ws';
import { useApps } from '../../helpers/app-server';
import { clientClosed, Inbox, nextTurn, openClient, serverClosed, serverWithInbox, type ServerSide } from './support';

const apps = useApps();

/** A connected `ws` client, its server side, and an inbox of what it receives. */
async function connect(accepted: Inbox<ServerSide>) {
  const client = await openClient(`${apps.running.url}/s`);
  apps.track(() => client.terminate());
  const side = await accepted.next();
  const inbox = new Inbox<[string, boolean]>();
  client.on('message', (data, isBinary) => inbox.push([isBinary ? `bin:${(data as Buffer).toString('hex')}` : data.toString(), isBinary]));
  return { client, ...side, inbox };
}

test('subscribe, unsubscribe and topics track what a connection listens to', async () => {
  const accepted = await serverWithInbox(apps);
  const { ws } = await connect(accepted);
  expect(ws.subscribe('a')).toBe(true);
  expect(ws.subscribe('a')).toBe(false); // already
  expect(ws.subscribe('b')).toBe(true);
  expect([...ws.topics].sort()).toEqual(['a', 'b']);
  expect(apps.running.wss.subscriberCount('a')).toBe(1);
  expect(ws.unsubscribe('a')).toBe(true);
  expect(ws.unsubscribe('a')).toBe(false);
  expect([...ws.topics]).toEqual(['b']);
  expect(apps.running.wss.subscriberCount('a')).toBe(0);
  expect(apps.running.wss.stats().topics.topics).toBe(1);
});

test('wss.publish reaches every subscriber, as text or binary, and returns the local recipient count', async () => {
  const accepted = await serverWithInbox(apps);
  const a = await connect(accepted);
  const b = await connect(accepted);
  const c = await connect(accepted);
  a.ws.subscribe('room');
  b.ws.subscribe('room');
  c.ws.subscribe('elsewhere');
  expect(apps.running.wss.publish('room', 'hello')).toBe(2);
  expect(apps.running.wss.publish('room', Buffer.from([0xca, 0xfe]))).toBe(2);
  expect(apps.running.wss.publish('room', 'as bytes', { binary: true })).toBe(2);
  expect(apps.running.wss.publish('room', 'not to a', { except: a.ws })).toBe(1);
  expect(apps.running.wss.publish('nobody', 'void')).toBe(0);
  expect(await a.inbox.take(3)).toEqual([
    ['hello', false],
    ['bin:cafe', true],
    [`bin:${Buffer.from('as bytes').toString('hex')}`, true],
  ]);
  expect(await b.inbox.take(4)).toEqual([
    ['hello', false],
    ['bin:cafe', true],
    [`bin:${Buffer.from('as bytes').toString('hex')}`, true],
    ['not to a', false],
  ]);
  // c only gets its own topic.
  apps.running.wss.publish('elsewhere', 'for c');
  expect(await c.inbox.next()).toEqual(['for c', false]);
  expect(a.inbox.length).toBe(0);
});

test('ws.publish reaches the other subscribers but not the sender', async () => {
  const accepted = await serverWithInbox(apps);
  const a = await connect(accepted);
  const b = await connect(accepted);
  a.ws.subscribe('chat');
  b.ws.subscribe('chat');
  expect(a.ws.publish('chat', 'from a')).toBe(1);
  expect(await b.inbox.next()).toEqual(['from a', false]);
  apps.running.wss.publish('chat', 'marker');
  // a's first message is the marker: it never got its own publish.
  expect(await a.inbox.next()).toEqual(['marker', false]);
});

test('a connection that closes leaves its topics', async () => {
  const accepted = await serverWithInbox(apps);
  const a = await connect(accepted);
  const b = await connect(accepted);
  a.ws.subscribe('t');
  b.ws.subscribe('t');
  a.ws.subscribe('only-a');
  expect(apps.running.wss.subscriberCount('t')).toBe(2);
  const closed = serverClosed(a.ws);
  a.client.close(1000);
  await closed;
  expect(apps.running.wss.subscriberCount('t')).toBe(1);
  expect(apps.running.wss.subscriberCount('only-a')).toBe(0);
  expect(apps.running.wss.stats().topics.topics).toBe(1);
  expect(a.ws.subscribe('t')).toBe(false); // closed connections cannot join
  expect(apps.running.wss.publish('t', 'x')).toBe(1);
});

test('a published message is framed once: every subscriber is written the same Buffer', async () => {
  const accepted = await serverWithInbox(apps);
  const a = await connect(accepted);
  const b = await connect(accepted);
  a.ws.subscribe('t');
  b.ws.subscribe('t');
  const written = new Map<WebSocket, Buffer[]>();
  for (const side of [a, b]) {
    const chunks: Buffer[] = [];
    written.set(side.ws, chunks);
    const write = side.socket.write.bind(side.socket) as (...args: unknown[]) => boolean;
    side.socket.write = ((chunk: Buffer, ...rest: unknown[]) => {
      chunks.push(chunk);
      return write(chunk, ...rest);
    }) as typeof side.socket.write;
  }
  apps.running.wss.publish('t', 'small message');
  apps.running.wss.publish('t', Buffer.alloc(5000, 1)); // header and payload written separately
  await a.inbox.take(2);
  await b.inbox.take(2);
  const fromA = written.get(a.ws)!;
  const fromB = written.get(b.ws)!;
  expect(fromA.length).toBeGreaterThanOrEqual(2);
  expect(fromA).toHaveLength(fromB.length);
  for (let i = 0; i < fromA.length; i++) expect(fromA[i]).toBe(fromB[i]); // the same object
});

/** Publish 32 KiB messages, one per turn, until the hub skips (or closes) the paused subscriber. */
async function publishUntilSlow(slow: { ws: WebSocket }, policy: 'skip' | 'close'): Promise<number> {
  const wss = apps.running.wss;
  const payload = Buffer.alloc(32 * 1024, 0x61);
  for (let published = 1; published <= 5000; published++) {
    wss.publish('feed', payload);
    if (policy === 'skip' ? wss.stats().topics.skipped > 0 : slow.ws.readyState !== 1) return published;
    await nextTurn();
  }
  throw new Error('the paused subscriber never fell behind');
}

test("a subscriber over the backpressure limit is skipped and counted (policy 'skip') while a fast one gets everything", async () => {
  const accepted = await serverWithInbox(apps, { backpressure: { limit: 256 * 1024, policy: 'skip' } });
  const fast = await connect(accepted);
  const slow = await connect(accepted);
  fast.ws.subscribe('feed');
  slow.ws.subscribe('feed');
  let fastCount = 0;
  const fastDone = new Inbox<void>();
  fast.client.on('message', () => {
    if (++fastCount === published) fastDone.push();
  });
  slow.client.pause(); // stops reading: TCP buffers fill, then the server's
  let published = Infinity;
  published = await publishUntilSlow(slow, 'skip');
  if (fastCount === published) fastDone.push();
  await fastDone.next();
  expect(fastCount).toBe(published);
  const stats = apps.running.wss.stats().topics;
  expect(stats.skipped).toBe(1);
  expect(stats.delivered).toBe(2 * published - 1);
  expect(slow.ws.readyState).toBe(1); // skipped, not closed
});

test("a subscriber over the backpressure limit is closed with 1008 (policy 'close') while a fast one gets everything", async () => {
  const accepted = await serverWithInbox(apps, { backpressure: { limit: 256 * 1024, policy: 'close' } });
  const fast = await connect(accepted);
  const slow = await connect(accepted);
  fast.ws.subscribe('feed');
  slow.ws.subscribe('feed');
  let fastCount = 0;
  fast.client.on('message', () => fastCount++);
  slow.client.pause();
  const slowClosed = clientClosed(slow.client);
  const published = await publishUntilSlow(slow, 'close');
  expect(slow.ws.readyState).toBe(2); // CLOSING: the close frame waits behind the backlog
  expect(apps.running.wss.subscriberCount('feed')).toBe(2); // until the connection is gone
  slow.client.resume(); // it reads the backlog, then the close frame
  expect(await slowClosed).toEqual({ code: 1008, reason: 'subscriber too slow' });
  apps.running.wss.publish('feed', 'last');
  const lastSeen = new Promise<void>((resolve) => fast.client.on('message', (data) => data.toString() === 'last' && resolve()));
  await lastSeen;
  expect(fastCount).toBe(published + 1);
  expect(apps.running.wss.subscriberCount('feed')).toBe(1);
});

test('the backpressure limit holds inside one turn: a synchronous burst of publishes stops at it, the rest are skipped and counted', async () => {
  // Issue #12 item 5: the limit used to be checked against a snapshot taken at
  // the turn's first write, so a whole synchronous loop went through.
  const limit = 64 * 1024;
  const accepted = await serverWithInbox(apps, { backpressure: { limit, policy: 'skip' } });
  const fast = await connect(accepted);
  fast.ws.subscribe('burst');
  const messages = new Inbox<number>();
  fast.client.on('message', (data) => messages.push((data as Buffer).length));
  let delivered = 0;
  for (let i = 0; i < 20; i++) delivered += apps.running.wss.publish('burst', Buffer.alloc(16 * 1024));
  // Messages are accepted while what is buffered is within the limit: at most one past it.
  expect(delivered).toBeLessThanOrEqual(limit / (16 * 1024) + 1);
  expect(delivered).toBeGreaterThan(0);
  expect(apps.running.wss.stats().topics.skipped).toBe(20 - delivered);
  expect(await messages.take(delivered)).toEqual(Array(delivered).fill(16 * 1024));
  // Drained: the subscriber gets the next publish.
  expect(apps.running.wss.publish('burst', Buffer.alloc(8))).toBe(1);
  expect(await messages.next()).toBe(8);
});

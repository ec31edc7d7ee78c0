/**
 * The in-memory connection behaves like TCP where the server cares: bytes
 * arrive in order, a reader that stops reading holds up the writer
 * (backpressure), end() is a half-close, destroy() closes both ends.
 */
import { once } from 'node:events';
import { memorySocketPair } from '../../src/testing/duplex-pair';

test('delivers bytes in order, copied, on a later tick than the write', async () => {
  const [client, server] = memorySocketPair();
  const received: Buffer[] = [];
  server.on('data', (chunk: Buffer) => received.push(chunk));
  const data = Buffer.from('abc');
  client.write(data);
  client.write('def');
  expect(received).toEqual([]);
  data.fill(0);
  await new Promise((resolve) => setImmediate(resolve));
  expect(Buffer.concat(received).toString()).toBe('abcdef');
  client.destroy();
});

test('a reader that stops reading makes the writer buffer and then drain, as on TCP', async () => {
  const [client, server] = memorySocketPair();
  server.pause();
  const chunk = Buffer.alloc(64 * 1024);
  let writes = 0;
  while (client.write(chunk)) writes++;
  expect(writes).toBeLessThan(64);
  // Still held on the writer's side: nothing drains while the reader is paused.
  await new Promise((resolve) => setImmediate(resolve));
  expect(client.writableLength).toBeGreaterThan(0);
  let read = 0;
  server.on('data', (c: Buffer) => (read += c.length));
  server.resume();
  await once(client, 'drain');
  expect(read).toBeGreaterThan(0);
  client.destroy();
});

test('end() is a half-close: the other side reads EOF and can still write back', async () => {
  const [client, server] = memorySocketPair();
  const got: string[] = [];
  client.on('data', (c: Buffer) => got.push(c.toString()));
  server.resume();
  client.end();
  await once(server, 'end');
  server.end('late reply');
  await once(client, 'close');
  expect(got).toEqual(['late reply']);
});

test('destroy() on one end closes the other', async () => {
  const [client, server] = memorySocketPair();
  const closed = once(server, 'close');
  client.destroy();
  await closed;
  expect(server.destroyed).toBe(true);
});

import { Duplex, PassThrough } from 'node:stream';
import { corkForTurn, uncorkNow } from '../../src/socket/write-batcher';

/** A writable that records each batch it is handed (one `_writev` or `_write` call each). */
function recorder() {
  const batches: string[][] = [];
  const stream = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, cb) {
      batches.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      batches.push(chunks.map((c) => (c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { stream, batches };
}

test('writes made in one turn after corkForTurn leave as one batch at the end of the turn', async () => {
  const { stream, batches } = recorder();
  corkForTurn(stream);
  stream.write('a');
  corkForTurn(stream); // idempotent within the turn
  stream.write('b');
  stream.write('c');
  expect(batches).toEqual([]);
  expect(stream.writableCorked).toBe(1);
  await new Promise((resolve) => setImmediate(resolve));
  expect(batches).toEqual([['a', 'b', 'c']]);
  expect(stream.writableCorked).toBe(0);
});

test('every socket corked in a turn is uncorked, each in its own batch', async () => {
  const one = recorder();
  const two = recorder();
  corkForTurn(one.stream);
  corkForTurn(two.stream);
  one.stream.write('1a');
  two.stream.write('2a');
  one.stream.write('1b');
  await new Promise((resolve) => setImmediate(resolve));
  expect(one.batches).toEqual([['1a', '1b']]);
  expect(two.batches).toEqual([['2a']]);
});

test('uncorkNow flushes at once, and a socket that was uncorked early is left alone at the end of the turn', async () => {
  const { stream, batches } = recorder();
  corkForTurn(stream);
  stream.write('x');
  uncorkNow(stream);
  expect(batches).toEqual([['x']]);
  await new Promise((resolve) => setImmediate(resolve));
  expect(stream.writableCorked).toBe(0);
});

test('a socket corked again in a later turn is flushed at the end of that turn', async () => {
  const stream = new PassThrough();
  corkForTurn(stream);
  stream.write('first');
  await new Promise((resolve) => setImmediate(resolve));
  corkForTurn(stream);
  stream.write('second');
  expect(stream.writableCorked).toBe(1);
  await new Promise((resolve) => setImmediate(resolve));
  expect(stream.writableCorked).toBe(0);
  expect(stream.read()?.toString()).toBe('firstsecond');
});

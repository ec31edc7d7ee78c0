import { MessageIterator } from '../../src/socket/message-iterator';
import { HELD_MESSAGE_OVERHEAD } from '../../src/socket/options';
import { kPauseReading, kResumeReading, PauseReason } from '../../src/socket/symbols';
import type { WebSocket } from '../../src/socket/websocket';

/** The slice of a WebSocket the iterator uses, recording what it is asked to do. */
function fakeSocket() {
  const calls: string[] = [];
  const ws = {
    [kPauseReading]: (reason: number) => calls.push(`pause ${reason}`),
    [kResumeReading]: (reason: number) => calls.push(`resume ${reason}`),
    close: (code: number) => calls.push(`close ${code}`),
  };
  return { ws: ws as unknown as WebSocket, calls };
}

function limits(maxHeldBytes: number, maxHeldMessages = 1000) {
  return { maxHeldBytes, maxHeldMessages };
}

/** Bytes a queued message of `length` is charged. */
const charge = (length: number) => length + HELD_MESSAGE_OVERHEAD;

test('messages pushed before next() are yielded in order, then done after end()', async () => {
  const { ws } = fakeSocket();
  const finished: MessageIterator[] = [];
  const it = new MessageIterator(ws, limits(1000), (done) => finished.push(done));
  it.push('a');
  it.push(Buffer.from('b'));
  it.end();
  expect(await it.next()).toEqual({ value: 'a', done: false });
  expect(await it.next()).toEqual({ value: Buffer.from('b'), done: false });
  expect(await it.next()).toEqual({ value: undefined, done: true });
  expect(finished).toEqual([it]);
});

test('a pending next() is resolved by the next push, and by end() with done', async () => {
  const { ws } = fakeSocket();
  const it = new MessageIterator(ws, limits(1000), () => {});
  const first = it.next();
  it.push('x');
  expect(await first).toEqual({ value: 'x', done: false });
  const second = it.next();
  it.end();
  expect(await second).toEqual({ value: undefined, done: true });
});

test('reading pauses once more than the byte limit is queued (length plus overhead each) and resumes at half of it', async () => {
  const { ws, calls } = fakeSocket();
  const it = new MessageIterator(ws, limits(2 * charge(5)), () => {});
  it.push('12345');
  it.push('67890'); // at the limit, not over
  expect(calls).toEqual([]);
  it.push('x'); // over
  expect(calls).toEqual([`pause ${PauseReason.Iterator}`]);
  await it.next(); // charge(5) + charge(1) left: over half
  expect(calls).toHaveLength(1);
  await it.next(); // charge(1) left: under half
  expect(calls).toEqual([`pause ${PauseReason.Iterator}`, `resume ${PauseReason.Iterator}`]);
});

test('empty messages are not free: reading pauses at the message-count limit and resumes at half of it', async () => {
  const { ws, calls } = fakeSocket();
  const it = new MessageIterator(ws, limits(1024 * 1024, 4), () => {});
  for (let i = 0; i < 3; i++) it.push('');
  expect(calls).toEqual([]);
  it.push(''); // the 4th queued message reaches the count limit
  expect(calls).toEqual([`pause ${PauseReason.Iterator}`]);
  await it.next(); // 3 left
  expect(calls).toHaveLength(1);
  await it.next(); // 2 left: half
  expect(calls).toEqual([`pause ${PauseReason.Iterator}`, `resume ${PauseReason.Iterator}`]);
});

test('return() (a break) closes the connection with 1000, drops the queue and releases a pause', async () => {
  const { ws, calls } = fakeSocket();
  const it = new MessageIterator(ws, limits(1), () => {});
  it.push('ab');
  expect(await it.return()).toEqual({ value: undefined, done: true });
  expect(calls).toEqual([`pause ${PauseReason.Iterator}`, `resume ${PauseReason.Iterator}`, 'close 1000']);
  expect(await it.next()).toEqual({ value: undefined, done: true });
});

test('return() after the connection ended does not close it again', async () => {
  const { ws, calls } = fakeSocket();
  const it = new MessageIterator(ws, limits(100), () => {});
  it.end();
  await it.return();
  expect(calls).toEqual([]);
});

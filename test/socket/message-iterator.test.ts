import { MessageIterator } from '../../src/socket/message-iterator';
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

test('messages pushed before next() are yielded in order, then done after end()', async () => {
  const { ws } = fakeSocket();
  const finished: MessageIterator[] = [];
  const it = new MessageIterator(ws, 1000, (done) => finished.push(done));
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
  const it = new MessageIterator(ws, 1000, () => {});
  const first = it.next();
  it.push('x');
  expect(await first).toEqual({ value: 'x', done: false });
  const second = it.next();
  it.end();
  expect(await second).toEqual({ value: undefined, done: true });
});

test('reading pauses once more than the limit is queued and resumes at half of it', async () => {
  const { ws, calls } = fakeSocket();
  const it = new MessageIterator(ws, 10, () => {});
  it.push('12345');
  it.push('67890'); // 10: at the limit, not over
  expect(calls).toEqual([]);
  it.push('x'); // 11
  expect(calls).toEqual([`pause ${PauseReason.Iterator}`]);
  await it.next(); // 6 left
  expect(calls).toHaveLength(1);
  await it.next(); // 1 left: under half
  expect(calls).toEqual([`pause ${PauseReason.Iterator}`, `resume ${PauseReason.Iterator}`]);
});

test('return() (a break) closes the connection with 1000, drops the queue and releases a pause', async () => {
  const { ws, calls } = fakeSocket();
  const it = new MessageIterator(ws, 1, () => {});
  it.push('ab');
  expect(await it.return()).toEqual({ value: undefined, done: true });
  expect(calls).toEqual([`pause ${PauseReason.Iterator}`, `resume ${PauseReason.Iterator}`, 'close 1000']);
  expect(await it.next()).toEqual({ value: undefined, done: true });
});

test('return() after the connection ended does not close it again', async () => {
  const { ws, calls } = fakeSocket();
  const it = new MessageIterator(ws, 100, () => {});
  it.end();
  await it.return();
  expect(calls).toEqual([]);
});

import type { Socket } from 'node:net';
import { useApps } from '../../helpers/app-server';
import { clientFrame, connectRaw, type RawClient } from '../../helpers/raw-client';
import { Inbox } from './support';

const apps = useApps();

/** Counts the writes a socket hands to the kernel (one `_write` or `_writev` each). */
function countKernelWrites(socket: Socket): { count: number; chunks: number } {
  const counter = { count: 0, chunks: 0 };
  const target = socket as Socket & {
    _write(chunk: unknown, encoding: unknown, cb: unknown): void;
    _writev(chunks: unknown[], cb: unknown): void;
  };
  const write = target._write;
  const writev = target._writev;
  target._write = function (chunk, encoding, cb) {
    counter.count++;
    counter.chunks++;
    return write.call(this, chunk, encoding, cb);
  };
  target._writev = function (chunks, cb) {
    counter.count++;
    counter.chunks += chunks.length;
    return writev.call(this, chunks, cb);
  };
  return counter;
}

test('the echoes of a pipelined batch of messages leave in one write', async () => {
  const counters = new Inbox<{ count: number; chunks: number }>();
  const running = await apps.start((app) => {
    app.ws('/echo', (ws, req) => {
      counters.push(countKernelWrites(req.socket as Socket));
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  const client: RawClient = await connectRaw(running.port, '/echo');
  apps.track(() => client.destroy());
  const counter = await counters.next();
  expect(counter).toEqual({ count: 1, chunks: 1 }); // the 101 response
  // Five frames in one TCP write: decoded in one 'data' event, echoed in one turn.
  client.send(Buffer.concat(['a', 'b', 'c', 'd', 'e'].map((m) => clientFrame(0x1, m))));
  const echoes: string[] = [];
  for (let i = 0; i < 5; i++) echoes.push((await client.nextFrame()).payload.toString());
  expect(echoes).toEqual(['a', 'b', 'c', 'd', 'e']);
  expect(counter).toEqual({ count: 2, chunks: 6 });
});

test('several sends in one handler turn, a ping among them, leave in one write together with the 101 response', async () => {
  const counters = new Inbox<{ count: number; chunks: number }>();
  const running = await apps.start((app) => {
    app.ws('/burst', (ws, req) => {
      const counter = countKernelWrites(req.socket as Socket);
      ws.send('one');
      ws.send(Buffer.alloc(4000)); // header and payload: two chunks
      ws.ping('p');
      ws.send('three');
      counters.push(counter);
    });
  });
  const client = await connectRaw(running.port, '/burst');
  apps.track(() => client.destroy());
  const opcodes: number[] = [];
  for (let i = 0; i < 4; i++) opcodes.push((await client.nextFrame()).opcode);
  expect(opcodes).toEqual([0x1, 0x2, 0x9, 0x1]);
  expect(await counters.next()).toEqual({ count: 1, chunks: 6 }); // 101 + 4 frames (one in two chunks)
});

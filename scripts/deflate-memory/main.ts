/**
 * `npm run deflate-memory [-- --connections=10000 --modes=default,takeover,off]`:
 * the server's memory per connection with permessage-deflate, for N
 * connections that each (1) are open and idle, (2) were sent one 2 KiB
 * message, (3) sent one compressed 2 KiB message. One server process per
 * mode, measured after a GC; the clients live in this process.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { constants, deflateRawSync } from 'node:zlib';
import { encodeClientFrame } from '../../test/helpers/client-frames';
import { FrameDecoder } from '../../src/codec/decoder';
import { openConnection } from '../fuzz/raw-connection';
import type { MemoryReply, MemoryRequest } from './server';

type Memory = Extract<MemoryReply, { type: 'memory' }>;

function arg(name: string, fallback: string): string {
  const prefix = `--${name}=`;
  const found = process.argv.find((a) => a.startsWith(prefix));
  return found === undefined ? fallback : found.slice(prefix.length);
}

class Server {
  readonly #child: ChildProcess;
  readonly #waiters: Array<(reply: MemoryReply) => void> = [];

  constructor(mode: string) {
    this.#child = fork(path.join(__dirname, 'server.ts'), [mode], {
      execArgv: ['--expose-gc', '-r', 'ts-node/register/transpile-only'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (reply: MemoryReply) => this.#waiters.shift()?.(reply));
  }

  next(): Promise<MemoryReply> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  ask(request: MemoryRequest): Promise<MemoryReply> {
    const reply = this.next();
    this.#child.send(request);
    return reply;
  }

  async memory(): Promise<Memory> {
    // Two GCs a moment apart: zlib handles are freed from weak callbacks.
    await this.ask({ type: 'memory' });
    await new Promise((resolve) => setTimeout(resolve, 500));
    return (await this.ask({ type: 'memory' })) as Memory;
  }

  exit(): Promise<void> {
    return new Promise((resolve) => {
      this.#child.once('exit', () => resolve());
      this.#child.send({ type: 'exit' });
    });
  }
}

interface Client {
  firstMessage: Promise<void>;
  send(frame: Buffer): void;
  destroy(): void;
}

async function connect(port: number, offer: string): Promise<Client> {
  const { socket, rest } = await openConnection(port, '/m', offer);
  let gotMessage!: () => void;
  const firstMessage = new Promise<void>((resolve) => (gotMessage = resolve));
  const decoder = new FrameDecoder(
    { onMessage: () => gotMessage(), onPing() {}, onPong() {}, onClose() {}, onError: (err) => console.error(err) },
    { maxPayload: 0, expectMasked: false, perMessageDeflate: true },
  );
  socket.on('data', (chunk: Buffer) => decoder.push(chunk));
  if (rest.length > 0) decoder.push(rest);
  return { firstMessage, send: (frame) => socket.write(frame), destroy: () => socket.destroy() };
}

const KiB = 1024;
const perConnection = (a: number, b: number, n: number): string => ((b - a) / n / KiB).toFixed(2);

async function measure(mode: string, connections: number): Promise<string[]> {
  const server = new Server(mode);
  const ready = await server.next();
  if (ready.type !== 'ready') throw new Error('server did not start');
  const baseline = await server.memory();
  const clients: Client[] = [];
  for (let i = 0; i < connections; i += 200) {
    const batch = Math.min(200, connections - i);
    clients.push(...(await Promise.all(Array.from({ length: batch }, () => connect(ready.port, 'permessage-deflate; client_max_window_bits')))));
  }
  const idle = await server.memory();

  await server.ask({ type: 'send', bytes: 2 * KiB });
  await Promise.all(clients.map((client) => client.firstMessage));
  const sent = await server.memory();

  // One compressed 2 KiB message from every client (uncompressed where deflate is off).
  const text = Buffer.from(JSON.stringify(Array.from({ length: 80 }, (_, i) => ({ i, text: 'from the client' }))).slice(0, 2 * KiB));
  const compressed = deflateRawSync(text, { finishFlush: constants.Z_SYNC_FLUSH });
  const frame =
    mode === 'off' ? encodeClientFrame(0x1, text) : encodeClientFrame(0x1, compressed.subarray(0, compressed.length - 4), { rsv1: true });
  const all = server.ask({ type: 'await-messages', count: connections });
  for (const client of clients) client.send(frame);
  await all;
  const received = await server.memory();

  for (const client of clients) client.destroy();
  await server.exit();
  const kib = (m: Memory) => `RSS ${(m.rss / KiB / KiB).toFixed(0)} MiB, heap ${(m.heapUsed / KiB / KiB).toFixed(0)} MiB, external ${(m.external / KiB / KiB).toFixed(0)} MiB`;
  return [
    `${mode}: ${connections} connections (${idle.clients} open)`,
    `  baseline ${kib(baseline)}; idle ${kib(idle)}; sent ${kib(sent)}; received ${kib(received)}`,
    `  per connection, KiB: idle RSS ${perConnection(baseline.rss, idle.rss, connections)}; ` +
      `+ one 2 KiB message sent: RSS +${perConnection(idle.rss, sent.rss, connections)}, heap +${perConnection(idle.heapUsed, sent.heapUsed, connections)}, external +${perConnection(idle.external, sent.external, connections)}; ` +
      `+ one compressed 2 KiB message received: RSS +${perConnection(sent.rss, received.rss, connections)}, external +${perConnection(sent.external, received.external, connections)}`,
  ];
}

async function main(): Promise<void> {
  const connections = Number(arg('connections', '10000'));
  const modes = arg('modes', 'default,takeover,off').split(',');
  for (const mode of modes) for (const line of await measure(mode, connections)) console.log(line);
}

void main();

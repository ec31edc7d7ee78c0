/**
 * `npm run soak [-- --connections=3000 --duration=60 --message-interval=1000 --broadcast-interval=100]`:
 * thousands of loopback connections for about a minute, each sending numbered
 * messages that the server echoes while the server publishes numbered
 * broadcasts to all of them. Prints lost / duplicated / reordered (all must be
 * 0) and the server's RSS before, at peak, and after every client left.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { ServerReply, ServerRequest } from './server';
import { SoakClient } from './soak-client';

function arg(name: string, fallback: number): number {
  const prefix = `--${name}=`;
  const found = process.argv.find((a) => a.startsWith(prefix));
  return found === undefined ? fallback : Number(found.slice(prefix.length));
}

const MiB = 1024 * 1024;

class ServerProcess {
  readonly #child: ChildProcess;
  #waiters: Array<(reply: ServerReply) => void> = [];

  constructor() {
    this.#child = fork(path.join(__dirname, 'server.ts'), [], {
      execArgv: ['--expose-gc', '-r', 'ts-node/register/transpile-only'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.#child.on('message', (reply: ServerReply) => this.#waiters.shift()?.(reply));
  }

  next(): Promise<ServerReply> {
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  async ask<T extends ServerReply['type']>(request: ServerRequest, type: T): Promise<Extract<ServerReply, { type: T }>> {
    const reply = this.next();
    this.#child.send(request);
    const got = await reply;
    if (got.type !== type) throw new Error(`expected ${type}, got ${got.type}`);
    return got as Extract<ServerReply, { type: T }>;
  }

  send(request: ServerRequest): void {
    this.#child.send(request);
  }

  memory(gc = true): Promise<Extract<ServerReply, { type: 'memory' }>> {
    return this.ask({ type: 'memory', gc }, 'memory');
  }

  exit(): Promise<void> {
    return new Promise((resolve) => {
      this.#child.once('exit', () => resolve());
      this.#child.send({ type: 'exit' });
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function mib(bytes: number): string {
  return (bytes / MiB).toFixed(1);
}

async function main(): Promise<void> {
  const connections = arg('connections', 3000);
  const durationS = arg('duration', 60);
  const messageIntervalMs = arg('message-interval', 1000);
  const broadcastIntervalMs = arg('broadcast-interval', 100);

  const server = new ServerProcess();
  const ready = await server.next();
  if (ready.type !== 'ready') throw new Error('server did not start');
  await sleep(500);
  const before = await server.memory();

  const clients: SoakClient[] = [];
  for (let i = 0; i < connections; i += 100) {
    const batch = Math.min(100, connections - i);
    clients.push(...(await Promise.all(Array.from({ length: batch }, () => SoakClient.open(ready.port)))));
  }
  const connected = await server.memory();

  server.send({ type: 'start-broadcast', intervalMs: broadcastIntervalMs });
  // Each client sends on its own timer, spread over the interval.
  const timers = clients.map((client, i) => {
    const start = setTimeout(() => {
      client.sendNext();
      timers[i] = setInterval(() => client.sendNext(), messageIntervalMs);
    }, (i * messageIntervalMs) / connections);
    return start;
  });
  let peak = connected;
  const started = Date.now();
  while (Date.now() - started < durationS * 1000) {
    await sleep(Math.min(2000, durationS * 1000 - (Date.now() - started)));
    const sample = await server.memory(false);
    if (sample.rss > peak.rss) peak = sample;
  }
  for (const timer of timers) clearInterval(timer);
  const { count: broadcasts } = await server.ask({ type: 'stop-broadcast' }, 'broadcasts');

  // Everything in flight arrives before the clients leave (or 30 s pass: then it counts as lost).
  const settleBy = Date.now() + 30_000;
  const settled = (): boolean => clients.every((c) => c.echoes.received >= c.sent && c.broadcasts.received >= broadcasts);
  while (!settled() && Date.now() < settleBy) await sleep(100);

  for (const client of clients) client.close();
  await Promise.all(clients.map((client) => client.closed));
  let after = await server.memory();
  for (let i = 0; i < 20 && after.clients > 0; i++) {
    await sleep(100);
    after = await server.memory();
  }
  await sleep(1000);
  after = await server.memory();

  let sent = 0;
  let echoed = 0;
  let delivered = 0;
  let lost = 0;
  let duplicated = 0;
  let reordered = 0;
  let unexpected = 0;
  let wrongClose = 0;
  for (const client of clients) {
    sent += client.sent;
    echoed += client.echoes.received;
    delivered += client.broadcasts.received;
    lost += client.echoes.lost(client.sent) + client.broadcasts.lost(broadcasts);
    duplicated += client.echoes.duplicated + client.broadcasts.duplicated;
    reordered += client.echoes.reordered + client.broadcasts.reordered;
    unexpected += client.unexpected;
    if (client.closeCode !== 1000) wrongClose++;
  }
  const elapsedS = (Date.now() - started) / 1000;
  const ok = lost + duplicated + reordered + unexpected + wrongClose + after.clients + after.errors === 0;
  console.log(
    `soak ${ok ? 'OK' : 'FAIL'}: ${connections} connections, ${durationS} s (${elapsedS.toFixed(0)} s with settling); echo ${echoed}/${sent}; ` +
      `broadcasts ${broadcasts} × ${connections} = ${delivered}/${broadcasts * connections} delivered (skipped ${after.skipped})`,
  );
  console.log(
    `lost ${lost}, duplicated ${duplicated}, reordered ${reordered}, unexpected frames ${unexpected}, ` +
      `close not 1000 ${wrongClose}, server errors ${after.errors}, connections left ${after.clients}`,
  );
  console.log(
    `server RSS MiB: before ${mib(before.rss)}, all connected ${mib(connected.rss)}, peak ${mib(peak.rss)}, after all left ${mib(after.rss)} ` +
      `(heap MiB: ${mib(before.heapUsed)} → ${mib(peak.heapUsed)} → ${mib(after.heapUsed)})`,
  );
  await server.exit();
  process.exitCode = ok ? 0 : 1;
}

void main();

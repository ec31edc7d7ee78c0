import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import os from 'node:os';
import { findService } from './services';

/** A redis-server this test process started, on 127.0.0.1 only. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  /** Stop the server (SIGTERM, SIGKILL after 3 s) and wait for its exit. */
  stop(): Promise<void>;
  /**
   * Kill the server hard (a crash, not a shutdown: SIGKILL, every client sees
   * its connection drop), stay down for `downMs`, start it again on the same
   * port and wait until it answers PING. Nothing survives: `--save ''`.
   */
  restart(downMs?: number): Promise<void>;
}

const READY_TIMEOUT_MS = 10_000;

/**
 * Start a private redis-server on a free port, waiting until it answers PING.
 * Returns `undefined` (after a loud notice) when redis-server is not installed,
 * so the suite can skip; under CI=true that throws instead (see findService).
 *
 * @example
 * const redis = await startRedis();
 * const maybe = redis ? describe : describe.skip;
 */
export async function startRedis(): Promise<RedisServer | undefined> {
  const bin = findService('redis-server');
  if (!bin) return undefined;

  // Port 0 → the kernel's choice; close and reuse. Another process may grab it in
  // between, so a server that fails to come up is retried on a fresh port.
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      return new Server(bin, port, await spawnRedis(bin, port));
    } catch (err) {
      lastError = err;
    }
  }
  throw new Error(`could not start redis-server: ${String(lastError)}`);
}

class Server implements RedisServer {
  readonly url: string;
  #child: ChildProcess | undefined;

  constructor(
    readonly bin: string,
    readonly port: number,
    child: ChildProcess,
  ) {
    this.url = `redis://127.0.0.1:${port}`;
    this.#child = child;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child) await kill(child, 'SIGTERM');
  }

  async restart(downMs = 0): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (child) await kill(child, 'SIGKILL');
    if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
    // The same port: clients reconnect to the address they know. Redis sets
    // SO_REUSEADDR, so the just-closed port is bindable at once; retry briefly anyway.
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        this.#child = await spawnRedis(this.bin, this.port);
        return;
      } catch (err) {
        lastError = err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    throw new Error(`could not restart redis-server on port ${this.port}: ${String(lastError)}`);
  }
}

async function spawnRedis(bin: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    bin,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', os.tmpdir()],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // Keep the last output for the error message; never let a full pipe block redis.
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-2000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  // A crashed test process must not leave redis-server behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.removeListener('exit', reap));

  const exited = once(child, 'exit').then(([code, signal]) => {
    throw new Error(`redis-server exited early (code ${code}, signal ${signal}): ${output.trim()}`);
  });
  exited.catch(() => {}); // only awaited while starting
  try {
    await Promise.race([waitForPing(port), exited]);
    return child;
  } catch (err) {
    await kill(child, 'SIGKILL');
    throw err;
  }
}

/** Poll with a real PING until `+PONG` (no sleeping for a guessed start-up time). */
async function waitForPing(port: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      // "-LOADING ..." or anything else: not ready yet.
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function kill(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

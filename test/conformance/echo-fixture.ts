/**
 * The conformance suites' echo server (built with the public API, as an
 * application would) and the assertions they share: exact server frames,
 * close codes, and the server-side close event.
 */
import { createCipheriv } from 'node:crypto';
import type { AttachWsOptions } from 'attach-ws';
import { startApp, type RunningApp } from '../helpers/app-server';
import { clientFrame, connectRaw, type RawClient, type ServerFrame } from '../helpers/raw-client';

export const CONTINUATION = 0x0;
export const TEXT = 0x1;
export const BINARY = 0x2;
export const CLOSE = 0x8;
export const PING = 0x9;
export const PONG = 0xa;

export const MiB = 1024 * 1024;

export interface EchoServer {
  readonly running: RunningApp;
  /** A raw client on the echo route; destroyed after the test. */
  connect(): Promise<RawClient>;
  /** The `close` event (code, reason) of the server-side WebSocket of `client`. */
  serverClose(client: RawClient): Promise<{ code: number; reason: string }>;
}

/**
 * One echo server for the enclosing describe block (started in beforeAll,
 * closed in afterAll); every client a test opens is destroyed after it.
 */
export function useEchoServer(options: AttachWsOptions = { maxPayload: 16 * MiB + 1024 }): () => EchoServer {
  let running: RunningApp | undefined;
  const clients: RawClient[] = [];
  // Server-side close events, keyed by the client's port (as the server sees it: remotePort).
  // The handler may run a moment after the client has read the 101: whoever comes first creates the entry.
  type Close = { code: number; reason: string };
  const closes = new Map<number, { promise: Promise<Close>; resolve: (close: Close) => void }>();
  const closeOf = (port: number) => {
    let entry = closes.get(port);
    if (entry === undefined) {
      let resolve!: (close: Close) => void;
      const promise = new Promise<Close>((r) => (resolve = r));
      entry = { promise, resolve };
      closes.set(port, entry);
    }
    return entry;
  };

  const server: EchoServer = {
    get running() {
      if (running === undefined) throw new Error('the echo server is not running');
      return running;
    },
    async connect() {
      const client = await connectRaw(server.running.port, '/');
      clients.push(client);
      return client;
    },
    serverClose(client) {
      return closeOf(client.socket.localPort!).promise;
    },
  };

  beforeAll(async () => {
    running = await startApp((app) => {
      app.ws('/', (ws, req) => {
        ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
        const { resolve } = closeOf(req.socket.remotePort!);
        ws.once('close', (code, reason) => resolve({ code, reason }));
      });
    }, { heartbeat: false, ...options });
  });
  afterEach(async () => {
    for (const client of clients.splice(0)) {
      client.destroy();
      await client.closed;
    }
    closes.clear();
  });
  afterAll(async () => {
    await running?.close();
    running = undefined;
  });
  return () => server;
}

/** The bytes of the header a server must write for an unmasked frame (§5.2, minimal length form). */
export function serverHeader(opcode: number, length: number, fin = true): Buffer {
  const b0 = (fin ? 0x80 : 0) | opcode;
  if (length < 126) return Buffer.from([b0, length]);
  if (length <= 0xffff) {
    const header = Buffer.from([b0, 126, 0, 0]);
    header.writeUInt16BE(length, 2);
    return header;
  }
  const header = Buffer.from([b0, 127, 0, 0, 0, 0, 0, 0, 0, 0]);
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/** Assert that `frame` is exactly the unmasked frame (opcode, payload, FIN) with no RSV bits. */
export function expectFrame(frame: ServerFrame, opcode: number, payload: Buffer | string, fin = true): void {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  expect(frame.header.toString('hex')).toBe(serverHeader(opcode, body.length, fin).toString('hex'));
  if (body.length <= 256) {
    expect(frame.payload.toString('hex')).toBe(body.toString('hex'));
  } else {
    expect(frame.payload.length).toBe(body.length);
    // Buffer.equals, not toEqual: a diff of megabytes helps nobody.
    expect(frame.payload.equals(body)).toBe(true);
  }
}

/** Read the next frame and assert it is exactly the unfragmented frame `opcode`/`payload`. */
export async function expectEcho(client: RawClient, opcode: number, payload: Buffer | string): Promise<void> {
  expectFrame(await client.nextFrame(), opcode, payload);
}

/** Read the server's close frame, assert its code, and that the TCP connection ended. */
export async function expectCloseCode(client: RawClient, code: number | undefined): Promise<void> {
  const close = await client.expectClose();
  expect(close.code).toBe(code);
}

/** `length` bytes of ASCII text (valid UTF-8, one byte per character). */
export function asciiText(length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = 0x61 + (i % 26);
  return out;
}

/** `length` deterministic pseudo-random bytes (AES-128-CTR keystream of a fixed key): every byte value occurs. */
export function binaryData(length: number): Buffer {
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 7), Buffer.alloc(16, 0));
  return cipher.update(Buffer.alloc(length));
}

/** The client frames of one message in `size`-byte fragments: first `opcode`, then continuations, FIN on the last. */
export function fragmentedMessage(opcode: number, payload: Buffer, size: number): Buffer {
  const frames: Buffer[] = [];
  for (let start = 0; start < payload.length; start += size) {
    const end = Math.min(start + size, payload.length);
    frames.push(clientFrame(start === 0 ? opcode : CONTINUATION, payload.subarray(start, end), { fin: end === payload.length }));
  }
  return Buffer.concat(frames);
}

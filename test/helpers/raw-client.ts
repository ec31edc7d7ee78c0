/**
 * A WebSocket client over a raw TCP socket, for tests that must see and send
 * exact bytes: the opening handshake by hand, frames built here (masked, any
 * RSV bits, any opcode, any length — broken ones too), and the server's frames
 * parsed strictly. Independent of src/codec on purpose: a conformance test
 * must not check the codec against itself (the frame builder it shares with
 * the test client and the fuzzer, src/testing/build-frame.ts, is too).
 *
 * @example
 * const client = await connectRaw(running.port, '/');
 * client.sendFrame(0x1, 'Hello');
 * const frame = await client.nextFrame(); // { header: <81 05>, fin: true, rsv1: false, ..., opcode: 1, payload: <'Hello'> }
 * client.sendFrame(0x8, closePayload(1000));
 * expect(await client.expectClose()).toEqual({ code: 1000, reason: '' });
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { buildFrame, type FrameSpec } from '../../src/testing/build-frame';
import { FrameReader, type ReceivedFrame } from '../../src/testing/frame-reader';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** A frame as the server sent it (the fields of the testing FrameReader's frames). */
export interface ServerFrame extends Omit<ReceivedFrame, 'masked' | 'bytes'> {
  /** The header bytes exactly as received (2, 4 or 10 bytes: the server never masks). */
  header: Buffer;
}

/** The header bits of buildFrame's FrameSpec (fin defaults to true), with this client's masking. */
export interface FrameBits extends Pick<FrameSpec, 'fin' | 'rsv1' | 'rsv2' | 'rsv3'> {
  /** The 4-byte masking key; default a fixed non-zero key. `null`: send the frame unmasked. */
  mask?: Uint8Array | null;
}

export interface ConnectOptions {
  /** Extra request headers (e.g. Origin, Sec-WebSocket-Protocol). */
  headers?: Record<string, string>;
  /** The Sec-WebSocket-Extensions offer, e.g. 'permessage-deflate'. */
  extensions?: string;
}

export interface RawClient {
  readonly socket: net.Socket;
  /** The 101 response's headers, names lower-cased. */
  readonly headers: Record<string, string>;
  /** Resolves when the TCP connection is closed (by either side). Never rejects. */
  readonly closed: Promise<void>;
  /** Write bytes as they are. */
  send(bytes: Buffer): void;
  /** Write `bytes` in chunks of `size`, each handed to the kernel before the next (NODELAY is on). */
  sendChunked(bytes: Buffer, size: number): Promise<void>;
  /** Write one client frame (masked unless `mask: null`); returns the bytes written. */
  sendFrame(opcode: number, payload: Buffer | string, bits?: FrameBits): Buffer;
  /** The server's next frame. Rejects if the server sends a masked frame or the connection ends first. */
  nextFrame(): Promise<ServerFrame>;
  /**
   * Read the server's close frame (any other frame first is an error), then
   * wait for the TCP connection to end. `reply: true` answers with a close
   * frame echoing the code first (for a close the server started).
   */
  expectClose(options?: { reply?: boolean }): Promise<{ code: number | undefined; reason: string }>;
  /** Resolves if no frame arrives and the connection stays open for `ms`; rejects otherwise. */
  expectNothing(ms: number): Promise<void>;
  destroy(): void;
}

const DEFAULT_KEY = Uint8Array.of(0x1f, 0x8b, 0x5c, 0xe3);

/** Frame bytes for one client frame, with full control over every header bit (built by src/testing/build-frame.ts). */
export function clientFrame(opcode: number, payload: Buffer | string, bits: FrameBits = {}): Buffer {
  const key = bits.mask === undefined ? DEFAULT_KEY : bits.mask;
  return buildFrame({ opcode, payload, fin: bits.fin, rsv1: bits.rsv1, rsv2: bits.rsv2, rsv3: bits.rsv3, mask: key ?? false });
}

/** A close frame body: 2-byte code and a reason (a Buffer may be invalid UTF-8). */
export function closePayload(code: number, reason: string | Buffer = ''): Buffer {
  const text = typeof reason === 'string' ? Buffer.from(reason, 'utf8') : reason;
  const body = Buffer.allocUnsafe(2 + text.length);
  body.writeUInt16BE(code, 0);
  text.copy(body, 2);
  return body;
}

/** Open a WebSocket connection to `ws://127.0.0.1:PORT/path` (or a ws:// URL's host and port) by hand. */
export async function connectRaw(target: string | number, path = '/', options: ConnectOptions = {}): Promise<RawClient> {
  let host = '127.0.0.1';
  let port: number;
  if (typeof target === 'number') {
    port = target;
  } else {
    const url = new URL(target);
    host = url.hostname;
    port = Number(url.port);
  }
  const socket = net.connect({ host, port });
  socket.setNoDelay(true);
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  let socketError: Error | undefined;
  socket.on('error', (err) => {
    socketError = err;
  });

  const key = randomBytes(16).toString('base64');
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: ${host}:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (options.extensions !== undefined) lines.push(`Sec-WebSocket-Extensions: ${options.extensions}`);
  for (const [name, value] of Object.entries(options.headers ?? {})) lines.push(`${name}: ${value}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);

  // Read up to the end of the response head; what follows is already frames.
  const { head, rest } = await new Promise<{ head: string; rest: Buffer }>((resolve, reject) => {
    let received = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n\r\n');
      if (end === -1) return;
      cleanup();
      resolve({ head: received.subarray(0, end).toString('latin1'), rest: received.subarray(end + 4) });
    };
    const onClose = () => {
      cleanup();
      reject(socketError ?? new Error(`connection closed during the handshake: ${received.toString('latin1')}`));
    };
    const cleanup = () => {
      socket.pause(); // keep what follows the head until the client reads it
      socket.off('data', onData);
      socket.off('close', onClose);
    };
    socket.on('data', onData);
    socket.on('close', onClose);
  });

  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const expectedAccept = createHash('sha1').update(key + GUID).digest('base64');
  if (!/^HTTP\/1\.1 101 /.test(statusLine) || headers['sec-websocket-accept'] !== expectedAccept) {
    socket.destroy();
    throw new Error(`handshake failed: ${head}`);
  }
  return new Client(socket, headers, closed, rest);
}

type Waiter = { resolve: (frame: ServerFrame) => void; reject: (err: Error) => void };

class Client implements RawClient {
  readonly closed: Promise<void>;
  /** Cuts the byte stream into frames (the testing package's reader); this client judges them. */
  readonly #reader = new FrameReader(Number.MAX_SAFE_INTEGER);
  #frames: ServerFrame[] = [];
  #waiters: Waiter[] = [];
  /** A protocol violation by the server, or the end of the connection: every later read fails with it. */
  #failure: Error | null = null;
  #ended = false;

  constructor(
    readonly socket: net.Socket,
    readonly headers: Record<string, string>,
    closed: Promise<void>,
    rest: Buffer,
  ) {
    this.closed = closed;
    socket.on('data', (chunk: Buffer) => this.#receive(chunk));
    closed.then(() => {
      this.#ended = true;
      this.#settle();
    });
    if (rest.length > 0) this.#receive(rest);
    socket.resume();
  }

  send(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  async sendChunked(bytes: Buffer, size: number): Promise<void> {
    for (let i = 0; i < bytes.length; i += size) {
      if (this.socket.destroyed) return;
      await new Promise<void>((resolve) => this.socket.write(bytes.subarray(i, i + size), () => resolve()));
    }
  }

  sendFrame(opcode: number, payload: Buffer | string, bits: FrameBits = {}): Buffer {
    const frame = clientFrame(opcode, payload, bits);
    this.socket.write(frame);
    return frame;
  }

  nextFrame(): Promise<ServerFrame> {
    return new Promise((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      this.#settle();
    });
  }

  async expectClose(options: { reply?: boolean } = {}): Promise<{ code: number | undefined; reason: string }> {
    const frame = await this.nextFrame();
    if (frame.opcode !== 0x8) {
      throw new Error(`expected a close frame, got opcode 0x${frame.opcode.toString(16)} (${frame.payload.length} bytes)`);
    }
    if (frame.payload.length === 1) throw new Error('the server sent a close frame with a 1-byte body');
    const code = frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined;
    if (options.reply && !this.socket.destroyed) this.sendFrame(0x8, code === undefined ? Buffer.alloc(0) : closePayload(code));
    await this.closed;
    if (this.#frames.length > 0) throw new Error(`the server sent ${this.#frames.length} frame(s) after its close frame`);
    return { code, reason: frame.payload.subarray(2).toString('utf8') };
  }

  async expectNothing(ms: number): Promise<void> {
    // Bounded on purpose: this proves that NOTHING arrives.
    await new Promise((resolve) => setTimeout(resolve, ms));
    if (this.#failure !== null) throw this.#failure;
    if (this.#frames.length > 0) throw new Error(`unexpected frame with opcode 0x${this.#frames[0]!.opcode.toString(16)}`);
    if (this.#ended) throw new Error('the connection closed');
  }

  destroy(): void {
    this.socket.destroy();
  }

  #receive(chunk: Buffer): void {
    if (this.#failure !== null) return;
    let frames: ReceivedFrame[];
    try {
      frames = this.#reader.push(chunk);
    } catch (err) {
      this.#failure = err as Error; // a length past 2^53 - 1 (or with the top bit set)
      frames = [];
    }
    for (const frame of frames) {
      this.#failure = strictnessViolation(frame);
      if (this.#failure !== null) break;
      const { fin, rsv1, rsv2, rsv3, opcode, payload, bytes } = frame;
      this.#frames.push({ header: bytes.subarray(0, bytes.length - payload.length), fin, rsv1, rsv2, rsv3, opcode, payload });
    }
    this.#settle();
  }

  /** Hand parsed frames to waiting readers; fail them on a violation or once the connection is gone. */
  #settle(): void {
    while (this.#waiters.length > 0 && this.#frames.length > 0) this.#waiters.shift()!.resolve(this.#frames.shift()!);
    if (this.#waiters.length === 0) return;
    const failure =
      this.#failure ?? (this.#ended ? new Error('the connection closed before the next frame arrived') : null);
    if (failure === null) return;
    for (const waiter of this.#waiters.splice(0)) waiter.reject(failure);
  }
}

/** What this client refuses in a server frame, beyond what the frame reader takes apart. */
function strictnessViolation(frame: ReceivedFrame): Error | null {
  // RFC 6455 §5.1: "A server MUST NOT mask any frames that it sends to the client."
  if (frame.masked) return new Error('the server sent a masked frame');
  // §5.2: "the minimal number of bytes MUST be used to encode the length".
  const length7 = frame.bytes[1]! & 0x7f;
  const length = frame.payload.length;
  if (length7 === 126 && length < 126) return new Error(`non-minimal 16-bit length ${length}`);
  if (length7 === 127 && length <= 0xffff) return new Error(`non-minimal 64-bit length ${length}`);
  return null;
}

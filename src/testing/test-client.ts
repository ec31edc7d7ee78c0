/**
 * The client end of one test connection, after the 101: frames out through
 * the project's encoder (masked, as RFC 6455 §5.3 requires of clients, unless
 * a raw frame says otherwise), frames in through its FrameDecoder (which
 * checks what the server sends: unmasked frames, valid UTF-8, close codes).
 *
 * What arrives is kept until a step takes it: messages, pings and pongs in
 * arrival order, the server's close frame, and — only when the chain has an
 * `expectFrame` step — the raw frames.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { encodeClosePayload } from '../codec/close';
import { FrameDecoder } from '../codec/decoder';
import { encodeFrame, toPayload } from '../codec/encoder';
import { Opcode } from '../codec/opcodes';
import { buildFrame, type FrameSpec } from './build-frame';
import { FrameReader, type ReceivedFrame } from './frame-reader';

export type { FrameSpec } from './build-frame';

export type InboxEvent =
  | { kind: 'message'; data: Buffer; isBinary: boolean; compressed: boolean }
  | { kind: 'ping'; data: Buffer }
  | { kind: 'pong'; data: Buffer };

export interface TestClientOptions {
  /** Largest message (and frame) the client accepts, in bytes. */
  maxPayload: number;
  /** Keep raw frames for `expectFrame`. */
  recordFrames: boolean;
  /** The server agreed to permessage-deflate: RSV1 may mark a message. */
  perMessageDeflate: boolean;
}

export const TIMED_OUT: unique symbol = Symbol('timed out');

export class TestClient {
  readonly events: InboxEvent[] = [];
  readonly frames: ReceivedFrame[] = [];
  /** The server's close frame, once it came (1005 for an empty one). */
  closeReceived: { code: number; reason: string } | null = null;
  /** Our close frame, once sent. */
  closeSent = false;
  /** The transport is closed. */
  ended = false;
  /** Why the client gave up on the connection (the server broke the protocol), if it did. */
  failure: string | null = null;

  readonly #socket: Duplex;
  readonly #decoder: FrameDecoder;
  readonly #reader: FrameReader | null;
  readonly #wake = new Set<() => void>();
  /** A message is being sent in fragments: the next send is a continuation. */
  #sendingFragments = false;

  constructor(socket: Duplex, head: Buffer, options: TestClientOptions) {
    this.#socket = socket;
    this.#reader = options.recordFrames ? new FrameReader(options.maxPayload) : null;
    this.#decoder = new FrameDecoder(
      {
        onMessage: (data, isBinary, compressed) => this.#arrived({ kind: 'message', data, isBinary, compressed }),
        onPing: (data) => {
          // Answer as any client does (§5.5.2), and keep the ping for expectPing.
          if (!this.closeSent) this.#write(encodeFrame(Opcode.Pong, Buffer.from(data), { mask: newKey() }));
          this.#arrived({ kind: 'ping', data: Buffer.from(data) });
        },
        onPong: (data) => this.#arrived({ kind: 'pong', data: Buffer.from(data) }),
        onClose: (code, reason) => this.#closeFrame(code, reason),
        onError: (err) => {
          this.failure =
            err.code === 'WS_ERR_MESSAGE_TOO_BIG'
              ? `the server sent a message over the test client's maxPayload of ${options.maxPayload} bytes (${err.message})`
              : `the server broke the protocol: ${err.message} (${err.code})`;
          // §7.1.7: fail the connection, with the close code the error calls for.
          this.#sendClose(err.closeCode, '');
          this.#socket.destroy();
          this.#changed();
        },
      },
      { maxPayload: options.maxPayload, expectMasked: false, perMessageDeflate: options.perMessageDeflate },
    );
    socket.on('data', (chunk: Buffer) => this.#data(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      this.ended = true;
      this.#changed();
    });
    if (head.length > 0) this.#data(head);
  }

  /** Send one message, or a fragment of one (`fin: false` leaves it open for the next send). */
  send(data: string | Uint8Array, binary: boolean, fin = true): void {
    const opcode = this.#sendingFragments ? Opcode.Continuation : binary ? Opcode.Binary : Opcode.Text;
    this.#sendingFragments = !fin;
    this.#write(encodeFrame(opcode, toPayload(data), { fin, mask: newKey() }));
  }

  sendControl(opcode: typeof Opcode.Ping | typeof Opcode.Pong, data: string | Uint8Array): void {
    this.#write(encodeFrame(opcode, toPayload(data), { mask: newKey() }));
  }

  /** Start the closing handshake (§5.5.1); the server is expected to echo and close TCP. */
  close(code?: number, reason = ''): void {
    const body = encodeClosePayload(code, reason); // throws for a code that may not be sent
    this.#sendCloseBody(body);
  }

  /** A frame exactly as described: no checks, so a test can send what the server must refuse. */
  sendFrame(spec: FrameSpec): void {
    const frame = buildFrame(spec);
    if (spec.opcode === Opcode.Close) this.closeSent = true;
    this.#write([frame]);
  }

  /** Bytes as they are: a truncated frame, a lying length, anything. */
  sendRaw(bytes: Uint8Array): void {
    this.#write([Buffer.from(bytes)]);
  }

  /** Resolve with `check()`'s first defined answer, re-checked whenever something arrives; or TIMED_OUT. */
  waitFor<T>(check: () => T | undefined, timeoutMs: number): Promise<T | typeof TIMED_OUT> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve) => {
      const wake = (): void => {
        const value = check();
        if (value === undefined) return;
        this.#wake.delete(wake);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.#wake.delete(wake);
        resolve(TIMED_OUT);
      }, timeoutMs);
      this.#wake.add(wake);
    });
  }

  /** The chain is over: close politely if still open, wait up to `timeoutMs` for the server, then drop the connection. */
  async shutdown(timeoutMs: number): Promise<void> {
    if (!this.ended && !this.closeSent && this.failure === null) this.close(1000);
    if (!this.ended) await this.waitFor(() => (this.ended ? true : undefined), timeoutMs);
    this.#socket.destroy();
  }

  #data(chunk: Buffer): void {
    if (this.#reader !== null) {
      try {
        for (const frame of this.#reader.push(chunk)) this.frames.push(frame);
      } catch (err) {
        this.failure = (err as Error).message;
        this.#socket.destroy();
        this.#changed();
        return;
      }
    }
    this.#decoder.push(chunk);
  }

  #arrived(event: InboxEvent): void {
    this.events.push(event);
    this.#changed();
  }

  #closeFrame(code: number, reason: string): void {
    this.closeReceived = { code, reason };
    // §5.5.1: answer a close with a close (echoing its code), then the server closes TCP first (§7.1.1).
    if (!this.closeSent) this.#sendCloseBody(code === 1005 ? Buffer.alloc(0) : encodeClosePayload(code));
    this.#socket.end();
    this.#changed();
  }

  #sendClose(code: number, reason: string): void {
    if (!this.closeSent) this.#sendCloseBody(encodeClosePayload(code, reason));
  }

  #sendCloseBody(body: Buffer): void {
    this.closeSent = true;
    this.#write(encodeFrame(Opcode.Close, body, { mask: newKey() }));
  }

  #write(buffers: Buffer[]): void {
    if (this.#socket.destroyed || this.#socket.writableEnded) return;
    for (const buffer of buffers) this.#socket.write(buffer);
  }

  #changed(): void {
    for (const wake of [...this.#wake]) wake();
  }
}

/** §5.3: a fresh, unpredictable masking key for each frame. */
function newKey(): Buffer {
  return randomBytes(4);
}

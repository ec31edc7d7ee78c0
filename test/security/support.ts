/**
 * A raw TCP client for the upgrade-path security tests: it writes exact bytes
 * (several requests in one write, if asked) and reads what comes back in
 * order — whole HTTP responses first, then WebSocket frames after a 101.
 * Independent of src/ on purpose (frames are built by the raw-client helper).
 */
import net from 'node:net';
import { parseHead, SAMPLE_KEY } from '../helpers/raw-http';

export { clientFrame } from '../helpers/raw-client';

export interface HttpResponse {
  status: number;
  /** Lower-cased names; repeated headers joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
}

/** A valid upgrade request for `path` on `host`, with `extra` header lines. */
export function upgradeRequestFor(path: string, extra: string[] = [], host = '127.0.0.1'): string {
  return [
    `GET ${path} HTTP/1.1`,
    `Host: ${host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${SAMPLE_KEY}`,
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** A keep-alive GET for `path`. */
export function getRequest(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`;
}

export class RawConnection {
  readonly socket: net.Socket;
  /** Resolves when the TCP connection is closed (by either side). Never rejects. */
  readonly closed: Promise<void>;
  #buffer = Buffer.alloc(0);
  #ended = false;
  #wake: (() => void) | null = null;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined); // a reset shows up as `closed`
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#notify();
    });
    void this.closed.then(() => {
      this.#ended = true;
      this.#notify();
    });
  }

  static async open(port: number): Promise<RawConnection> {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('error', reject);
    });
    return new RawConnection(socket);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Everything received so far and not yet read, as latin1 (for "nothing more came" checks). */
  get unread(): string {
    return this.#buffer.toString('latin1');
  }

  /** The next whole HTTP response (Content-Length, chunked, or delimited by the end of the connection). */
  async readResponse(): Promise<HttpResponse> {
    for (;;) {
      const response = this.#parseResponse();
      if (response !== null) return response;
      if (this.#ended) throw new Error(`connection ended inside a response: ${JSON.stringify(this.unread.slice(0, 200))}`);
      await this.#more();
    }
  }

  /** The next server frame (unmasked, payload < 64 KiB is enough for these tests). */
  async readFrame(): Promise<{ opcode: number; payload: Buffer }> {
    for (;;) {
      const b = this.#buffer;
      if (b.length >= 2) {
        let length = b[1]! & 0x7f;
        let offset = 2;
        if (length === 126 && b.length >= 4) {
          length = b.readUInt16BE(2);
          offset = 4;
        }
        if (length < 126 && b.length >= offset + length) {
          this.#buffer = b.subarray(offset + length);
          return { opcode: b[0]! & 0x0f, payload: b.subarray(offset, offset + length) };
        }
      }
      if (this.#ended) throw new Error('connection ended before a frame');
      await this.#more();
    }
  }

  /** Wait for the connection to close; returns whatever arrived and was not read. */
  async readToEnd(): Promise<string> {
    await this.closed;
    return this.unread;
  }

  destroy(): void {
    this.socket.destroy();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #more(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }

  #parseResponse(): HttpResponse | null {
    const b = this.#buffer;
    const headEnd = b.indexOf('\r\n\r\n');
    if (headEnd === -1) return null;
    const { status, headers } = parseHead(b.subarray(0, headEnd).toString('latin1'));
    let at = headEnd + 4;
    let body: Buffer;
    if (status === 101 || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if (headers['content-length'] !== undefined) {
      const length = Number(headers['content-length']);
      if (b.length < at + length) return null;
      body = b.subarray(at, at + length);
      at += length;
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = b.indexOf('\r\n', at);
        if (lineEnd === -1) return null;
        const size = parseInt(b.subarray(at, lineEnd).toString('latin1'), 16);
        if (b.length < lineEnd + 2 + size + 2) return null;
        parts.push(b.subarray(lineEnd + 2, lineEnd + 2 + size));
        at = lineEnd + 2 + size + 2;
        if (size === 0) break;
      }
      body = Buffer.concat(parts);
    } else {
      if (!this.#ended) return null;
      body = b.subarray(at);
      at = b.length;
    }
    this.#buffer = b.subarray(at);
    return { status, headers, body };
  }
}

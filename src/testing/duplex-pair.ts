/**
 * Two connected in-process streams, one for the client and one for the
 * server: what one writes the other reads. They stand in for a TCP
 * connection in memory mode, so the HTTP server parses the upgrade request,
 * attach-ws answers 101 and both sides speak frames — with no port.
 *
 * TCP semantics that the server relies on are kept: `end()` is a FIN (the
 * other side reads EOF and may still write: HTTP servers are half-open), and
 * `destroy()` is a reset (the other side closes too).
 */
import { Duplex } from 'node:stream';

/** One end. The socket-only methods the HTTP and WebSocket layers call are no-ops. */
export class MemorySocket extends Duplex {
  /** What Express's `req.ip` and loggers read; an in-memory peer is local. */
  readonly remoteAddress = '127.0.0.1';
  readonly remoteFamily = 'IPv4';
  readonly remotePort: number;
  readonly localAddress = '127.0.0.1';
  readonly localPort = 0;
  /** @internal */
  peer: MemorySocket | null = null;
  #wantsData = true;
  /** Chunks (null: the peer's FIN) that arrived while our reader was full. */
  #pending: Array<Buffer | null> = [];
  /** The peer's write callbacks, held while we are full: its writes then queue on its side, as on TCP. */
  #blockedWriters: Array<() => void> = [];

  constructor(remotePort: number) {
    // allowHalfOpen: ending our side does not end the peer's (as on TCP).
    super({ allowHalfOpen: true });
    this.remotePort = remotePort;
  }

  setTimeout(): this {
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  override _read(): void {
    this.#wantsData = true;
    // Deliver what arrived while the reader was full (its backpressure).
    while (this.#wantsData && this.#pending.length > 0) this.#wantsData = this.push(this.#pending.shift() ?? null);
    if (this.#wantsData) this.#releaseWriters();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    // Delivered on the next tick, never inside write(): as on a real socket, a
    // write cannot re-enter the writer through the peer's reaction to it.
    // A copy: the writer may reuse its buffer (the decoder on the other side unmasks in place).
    process.nextTick(deliver, this, Buffer.from(chunk), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    // Our FIN: the peer reads EOF once it has read what we wrote (ticks run in order).
    process.nextTick(deliver, this, null, callback);
  }

  /** @internal `chunk` from the peer; `written` is its write callback, called once we have room. */
  receive(chunk: Buffer | null, written: () => void): void {
    if (this.#wantsData && this.#pending.length === 0) this.#wantsData = this.push(chunk);
    else this.#pending.push(chunk);
    // A FIN needs no room; data waits for our reader to take it.
    if (chunk === null || this.#wantsData) written();
    else this.#blockedWriters.push(written);
  }

  #releaseWriters(): void {
    const writers = this.#blockedWriters;
    this.#blockedWriters = [];
    for (const written of writers) written();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const peer = this.peer;
    this.peer = null;
    this.#pending = [];
    this.#releaseWriters();
    // A reset: the other side's connection is gone too (it sees 'close', no error).
    if (peer !== null) {
      peer.peer = null;
      process.nextTick(destroyQuietly, peer);
    }
    callback(error);
  }
}

function deliver(from: MemorySocket, chunk: Buffer | null, callback: (error?: Error | null) => void): void {
  const peer = from.peer;
  if (peer !== null && !peer.destroyed) peer.receive(chunk, callback);
  else callback();
}

function destroyQuietly(socket: MemorySocket): void {
  socket.destroy();
}

let nextPort = 1;

/** A connected pair: `[client, server]`. */
export function memorySocketPair(): [MemorySocket, MemorySocket] {
  // A distinct fake port per connection, so logs and rate limiters tell them apart.
  const port = 40_000 + (nextPort++ % 20_000);
  const client = new MemorySocket(port);
  const server = new MemorySocket(port);
  client.peer = server;
  server.peer = client;
  return [client, server];
}

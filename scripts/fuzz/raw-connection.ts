/**
 * One fuzz connection over a raw TCP socket: the opening handshake by hand,
 * the stream written in random chunks (each its own write, with event-loop
 * turns between many of them, so the server reads it in pieces), and the
 * server's frames decoded with the project's own decoder in client mode.
 */
import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { FrameDecoder } from '../../src/codec/decoder';
import { ClientDeflate, parseAgreement } from './client-deflate';
import type { Prng } from './prng';
import type { Message } from './streams';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export interface Opened {
  socket: net.Socket;
  deflate: ClientDeflate | null;
  /** Bytes that came with the 101 (frames the server sent at once). */
  rest: Buffer;
}

/** Connect and complete the opening handshake; rejects on anything but a 101 with the right accept value. */
export function openConnection(port: number, path: string, extensions: string | null): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const key = randomBytes(16).toString('base64');
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    let head = Buffer.alloc(0);
    const fail = (err: Error) => {
      socket.destroy();
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > 8192) fail(new Error('response head too long'));
        return;
      }
      socket.off('data', onData);
      socket.off('error', fail);
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      if (!/^HTTP\/1\.1 101 /.test(lines[0]!)) return fail(new Error(`handshake refused: ${lines[0]}`));
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      if (headers.get('sec-websocket-accept') !== accept) return fail(new Error('wrong Sec-WebSocket-Accept'));
      const agreed = parseAgreement(headers.get('sec-websocket-extensions'));
      resolve({ socket, deflate: agreed === null ? null : new ClientDeflate(agreed), rest: head.subarray(end + 4) });
    };
    socket.on('data', onData);
    socket.on('error', fail);
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
        (extensions === null ? '' : `Sec-WebSocket-Extensions: ${extensions}\r\n`) +
        '\r\n',
    );
  });
}

/** What the server sent back on one connection. */
export interface Received {
  messages: Message[];
  pongs: Buffer[];
  /** The server's close code; null: no close frame came. */
  closeCode: number | null;
  /** The server sent something the decoder rejects (a server bug). */
  badFrame: string | null;
  /** The server never closed the TCP connection within the wait. */
  leftOpen: boolean;
  /** A compressed message from the server failed to inflate. */
  inflateError: string | null;
}

/** Size of the next write: many tiny ones (every header split), some big. */
function chunkSize(rng: Prng): number {
  const r = rng.next();
  if (r < 0.2) return 1;
  if (r < 0.5) return rng.int(2, 16);
  if (r < 0.8) return rng.int(17, 512);
  return rng.int(513, 8192);
}

function closedWithin(socket: net.Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Write `bytes` in random chunks, then (if `endAfter`) half-close; collect
 * what the server sends until it closes the connection or `waitMs` passes.
 */
export async function exchange(opened: Opened, bytes: Buffer, rng: Prng, endAfter: boolean, waitMs: number): Promise<Received> {
  const { socket, deflate } = opened;
  const received: Received = { messages: [], pongs: [], closeCode: null, badFrame: null, leftOpen: false, inflateError: null };
  // Compressed messages may inflate asynchronously: slots keep arrival order.
  const slots: Array<{ message: Message | null }> = [];
  let inflating = 0;
  let inflated: (() => void) | null = null;
  const decoder = new FrameDecoder(
    {
      onMessage(data, isBinary, compressed) {
        const slot: { message: Message | null } = { message: null };
        slots.push(slot);
        if (!compressed) {
          slot.message = { binary: isBinary, data: Buffer.from(data) };
          return;
        }
        inflating++;
        deflate!.decompress(Buffer.from(data), (err, payload) => {
          if (err !== null) received.inflateError ??= err.message;
          else slot.message = { binary: isBinary, data: payload! };
          if (--inflating === 0) inflated?.();
        });
      },
      onPing() {},
      onPong(data) {
        received.pongs.push(Buffer.from(data));
      },
      onClose(code) {
        received.closeCode = code;
        socket.end(); // our side of the closing handshake is over: nothing more to send
      },
      onError(err) {
        received.badFrame = err.message;
        socket.destroy();
      },
    },
    { maxPayload: 0, expectMasked: false, perMessageDeflate: deflate !== null },
  );
  let socketClosed = false;
  socket.once('close', () => (socketClosed = true));
  socket.on('error', () => {}); // EPIPE/ECONNRESET once the server failed the connection: expected
  socket.on('data', (chunk: Buffer) => decoder.push(chunk));
  if (opened.rest.length > 0) decoder.push(opened.rest);

  for (let offset = 0; offset < bytes.length && !socket.destroyed && socket.writable; ) {
    const size = Math.min(chunkSize(rng), bytes.length - offset);
    const ok = socket.write(bytes.subarray(offset, offset + size));
    offset += size;
    if (!ok) await new Promise<void>((resolve) => (socket.destroyed ? resolve() : socket.once('drain', resolve).once('close', resolve)));
    else if (rng.chance(0.3)) await nextTurn();
  }
  if (endAfter && !socket.destroyed) socket.end();

  // The wait starts once everything is written: on a loaded machine writing alone can take seconds.
  received.leftOpen = !(socketClosed || (await closedWithin(socket, waitMs)));
  if (received.leftOpen) socket.destroy();
  if (inflating > 0) await new Promise<void>((resolve) => (inflated = resolve));
  deflate?.close();
  for (const slot of slots) if (slot.message !== null) received.messages.push(slot.message);
  return received;
}

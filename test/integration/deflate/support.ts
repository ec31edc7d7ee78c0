/**
 * Helpers for the permessage-deflate integration tests: an echo app, a `ws`
 * client whose incoming frames are sniffed off the wire (to prove RSV1), a
 * frame parser independent of src/codec, compressed client payloads made with
 * node:zlib, and a streaming inflater for raw clients.
 */
import net from 'node:net';
import zlib from 'node:zlib';
import WsClient from 'ws';
import type { AttachWsOptions, WebSocket } from 'attach-ws';
import type { AppLifecycle, RunningApp } from '../../helpers/app-server';
import { Inbox } from '../socket/support';

export { clientClosed, deferred, Inbox, openClient, serverClosed } from '../socket/support';

/** §7.2.1: the sync-flush tail a sender cuts and a receiver puts back. */
export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** A frame the server sent, as seen on the wire. */
export interface WireFrame {
  fin: boolean;
  rsv1: boolean;
  opcode: number;
  payload: Buffer;
}

/**
 * Parses frames out of a byte stream: by default a client's incoming bytes,
 * which start with the 101 response head; `afterHead` for a stream of frames
 * only. Masked (client) frames are unmasked.
 */
export class FrameSniffer {
  readonly frames: WireFrame[] = [];
  #buffer = Buffer.alloc(0);
  #inHead: boolean;

  constructor(options: { afterHead?: boolean } = {}) {
    this.#inHead = options.afterHead !== true;
  }

  push(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk]);
    if (this.#inHead) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end === -1) return;
      this.#buffer = this.#buffer.subarray(end + 4);
      this.#inHead = false;
    }
    for (;;) {
      const b = this.#buffer;
      if (b.length < 2) return;
      let length = b[1]! & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (b.length < 4) return;
        length = b.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (b.length < 10) return;
        length = Number(b.readBigUInt64BE(2));
        offset = 10;
      }
      const masked = (b[1]! & 0x80) !== 0;
      const key = masked ? b.subarray(offset, offset + 4) : null;
      if (masked) offset += 4;
      if (b.length < offset + length) return;
      const payload = Buffer.from(b.subarray(offset, offset + length));
      if (key !== null) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ key[i & 3]!;
      this.frames.push({ fin: (b[0]! & 0x80) !== 0, rsv1: (b[0]! & 0x40) !== 0, opcode: b[0]! & 0x0f, payload });
      this.#buffer = b.subarray(offset + length);
    }
  }

  /** The first frame of every data message (a text/binary opcode), in order. */
  get messageStarts(): WireFrame[] {
    return this.frames.filter((f) => f.opcode === 0x1 || f.opcode === 0x2);
  }
}

/** A `ws` client (open) whose socket's incoming bytes go through a FrameSniffer. */
export async function openSniffedClient(
  url: string,
  options: WsClient.ClientOptions = {},
): Promise<{ client: WsClient; sniffer: FrameSniffer; agreed: string | undefined }> {
  const sniffer = new FrameSniffer();
  const client = new WsClient(url, {
    ...options,
    createConnection: ((opts: net.TcpNetConnectOpts) => {
      // As ws's own netConnect: `path` is the URL path here, not an IPC path.
      const socket = net.connect({ host: opts.host ?? '127.0.0.1', port: Number(opts.port) });
      socket.prependListener('data', (chunk: Buffer) => sniffer.push(chunk));
      return socket;
    }) as typeof net.createConnection,
  });
  let agreed: string | undefined;
  client.once('upgrade', (res) => {
    agreed = res.headers['sec-websocket-extensions'];
  });
  await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
  return { client, sniffer, agreed };
}

/** A message as a `ws` client receives it (text → string, binary → Buffer). */
export type Received = string | Buffer;

/** Collects a `ws` client's messages in order. */
export function collect(client: WsClient): Inbox<Received> {
  const inbox = new Inbox<Received>();
  client.on('message', (data, isBinary) => {
    const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
    inbox.push(isBinary ? buf : buf.toString('utf8'));
  });
  return inbox;
}

/** Starts the test's echo app (through `apps`) on '/echo' (text back as text, binary as binary); the server sides go to the inbox. */
export async function startEchoApp(
  apps: AppLifecycle,
  options: AttachWsOptions,
): Promise<{ running: RunningApp; accepted: Inbox<WebSocket> }> {
  const accepted = new Inbox<WebSocket>();
  const running = await apps.start((app) => {
    app.ws('/echo', (ws) => {
      ws.on('message', (data) => ws.send(data));
      accepted.push(ws);
    });
  }, options);
  return { running, accepted };
}

/**
 * A mixed series of messages: JSON-ish text and binary above the 1 KiB
 * threshold, small ones below it, and an empty message, interleaved.
 */
export function mixedMessages(count: number, seed = 1): Received[] {
  let state = seed;
  const random = () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
  const out: Received[] = [];
  for (let i = 0; i < count; i++) {
    switch (i % 5) {
      case 0: {
        const items = Array.from({ length: 20 + Math.floor(random() * 200) }, (_, k) => ({ id: i * 1000 + k, name: `item-${k}`, ok: k % 3 === 0 }));
        out.push(JSON.stringify({ seq: i, items, note: 'héllo wörld € 😀' }));
        break;
      }
      case 1:
        out.push(`small ${i}`);
        break;
      case 2: {
        const buf = Buffer.alloc(1024 + Math.floor(random() * 20_000));
        for (let k = 0; k < buf.length; k++) buf[k] = (k * 7 + i) & 0xff;
        out.push(buf);
        break;
      }
      case 3:
        out.push(Buffer.from([i & 0xff, 1, 2, 3]));
        break;
      default:
        out.push(i % 10 === 4 ? '' : 'z'.repeat(1024 + (i % 7)));
    }
  }
  return out;
}

/** Send every message with a `ws` client and expect exactly them back, in order. */
export async function expectEcho(client: WsClient, inbox: Inbox<Received>, messages: readonly Received[]): Promise<void> {
  for (const message of messages) client.send(message);
  const echoed = await inbox.take(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const want = messages[i]!;
    const got = echoed[i]!;
    if (typeof want === 'string') {
      if (got !== want) throw new Error(`message ${i}: text differs (${String(got).length} vs ${want.length} chars)`);
    } else if (!Buffer.isBuffer(got) || !got.equals(want)) {
      throw new Error(`message ${i}: binary differs`);
    }
  }
}

/** A client's compressed message payload: deflate with a sync flush, tail removed (§7.2.1). */
export function compress(data: Buffer | string, windowBits = 15): Buffer {
  const out = zlib.deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, {
    windowBits,
    finishFlush: zlib.constants.Z_SYNC_FLUSH,
  });
  if (!out.subarray(-4).equals(TAIL)) throw new Error('no sync-flush tail');
  return out.subarray(0, out.length - 4);
}

/** Inflates one direction's messages with a persistent context (or a fresh one per message). */
export class StreamInflater {
  #inflate: zlib.InflateRaw | null = null;

  constructor(
    private readonly windowBits = 15,
    private readonly contextTakeover = true,
  ) {}

  inflate(payload: Buffer): Promise<Buffer> {
    const stream = (this.#inflate ??= zlib.createInflateRaw({ windowBits: Math.max(this.windowBits, 9) }));
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const onData = (chunk: Buffer) => chunks.push(chunk);
      stream.on('data', onData);
      stream.once('error', reject);
      stream.write(Buffer.concat([payload, TAIL]));
      stream.flush(() => {
        stream.off('data', onData);
        stream.off('error', reject);
        if (!this.contextTakeover) this.close();
        resolve(Buffer.concat(chunks));
      });
    });
  }

  close(): void {
    this.#inflate?.close();
    this.#inflate = null;
  }
}

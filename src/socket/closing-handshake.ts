import type { Duplex } from 'node:stream';
import { encodeClosePayload } from '../codec/close';
import { encodeFrame } from '../codec/encoder';
import { Opcode } from '../codec/opcodes';
import type { ProtocolError } from '../errors';
import type { SendPath } from './send-path';
import type { WebSocket } from './websocket';
import { uncorkNow } from './write-batcher';

const EMPTY = Buffer.alloc(0);

/**
 * The closing handshake of one connection (RFC 6455 §7): who sent a close
 * frame, whether anything more is read, the code and reason reported with
 * 'close', and the timer that drops a peer that never answers.
 */
export class ClosingHandshake {
  readonly #socket: Duplex;
  readonly #send: SendPath;
  readonly #ws: WebSocket;
  readonly #timeoutMs: number;

  /** Our close frame was sent (or queued behind pending messages). */
  frameSent = false;
  /** No frame will be read any more: the peer's close frame arrived, or the connection failed. */
  readingDone = false;
  /** The peer's close frame arrived: it sends no more data frames (§5.5.1). */
  #peerFrameReceived = false;
  /** A ping of ours may still be answered: a peer that closed before reading it still owes a pong (§5.5.2). */
  #pingOutstanding = false;
  code = 1006;
  reason = '';
  #timer: NodeJS.Timeout | null = null;

  constructor(socket: Duplex, send: SendPath, ws: WebSocket, timeoutMs: number) {
    this.#socket = socket;
    this.#send = send;
    this.#ws = ws;
    this.#timeoutMs = timeoutMs;
  }

  /** Send our close frame (after what was sent before it); a peer that never answers is dropped. */
  sendFrame(payload: Buffer): void {
    this.frameSent = true;
    this.#send.sendClose(encodeFrame(Opcode.Close, payload));
    this.#timer = setTimeout(closeTimedOut, this.#timeoutMs, this.#ws);
    this.#timer.unref();
  }

  /** We sent a ping (the heartbeat's or the app's). */
  pingSent(): void {
    this.#pingOutstanding = true;
  }

  /** A pong arrived: it answers our latest ping (§5.5.3), so none is owed. */
  pongReceived(): void {
    this.#pingOutstanding = false;
  }

  /** Our close frame was handed to the socket. */
  frameWritten(): void {
    // Both close frames exchanged (or the connection failed): the server
    // closes TCP first (§7.1.1). Otherwise wait for the peer's close frame.
    if (this.readingDone) this.#closeTcp();
  }

  /**
   * Close TCP, the server first (§7.1.1). At once when nothing more can come
   * from the peer; otherwise half-close and read on, discarding, until its
   * FIN (at most closeTimeoutMs): bytes arriving on a closed socket make the
   * kernel answer RST, which throws away what we had not sent yet, our close
   * frame included. Something more can come when the connection failed (the
   * peer does not know and goes on sending), when a ping of ours may still be
   * answered, and on TLS, whose close_notify alert only an orderly end sends.
   */
  #closeTcp(): void {
    const socket = this.#socket;
    if (this.#peerFrameReceived && !this.#pingOutstanding && (socket as { encrypted?: unknown }).encrypted !== true) {
      closeOnceFlushed(socket);
    } else {
      socket.end();
    }
  }

  /**
   * The peer's close frame (§7.1.5). Returns the close payload to answer
   * with, or null when ours was already sent.
   */
  peerClosed(code: number, reason: string): Buffer | null {
    this.readingDone = true;
    this.#peerFrameReceived = true;
    this.code = code;
    this.reason = reason;
    // §5.5.1: echo the status code received; no code received → empty body.
    if (!this.frameSent) return code === 1005 ? EMPTY : encodeClosePayload(code);
    // We started the handshake and it is now complete: the server closes TCP first (§7.1.1).
    // (With a queue, our close frame is still waiting; writing it closes TCP.)
    if (!this.#send.queued) this.#closeTcp();
    return null;
  }

  /**
   * Fail the WebSocket connection (§7.1.7). Returns the close payload to
   * send, or null when ours was already sent (the TCP connection is dropped).
   */
  failed(err: ProtocolError): Buffer | null {
    if (this.frameSent) {
      this.#socket.destroy();
      return null;
    }
    this.code = err.closeCode;
    this.reason = '';
    this.readingDone = true; // end TCP once our close frame is out
    return encodeClosePayload(err.closeCode, truncateReason(err.message));
  }

  /** The TCP connection is gone. */
  socketClosed(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}

/**
 * Close TCP once what we wrote is in the kernel, which then sends it and our
 * FIN, for a peer that will send nothing more. Waiting for its FIN as well
 * would hold our descriptor and cost a read, a shutdown and an event per
 * connection for nothing. The kernel keeps the closed connection's
 * TIME_WAIT, as §7.1.1 asks of the server.
 */
function closeOnceFlushed(socket: Duplex): void {
  if (socket.destroyed) return;
  // Our close frame is usually waiting for the turn's batch: nothing follows it, so it goes now.
  uncorkNow(socket);
  // Destroyed from a tick of its own, never while a write's completion is
  // still to be processed: Node then builds an ERR_STREAM_DESTROYED (stack
  // trace and all) for nobody, 3–4 % of a whole handshake's CPU.
  if (socket.writableLength === 0) process.nextTick(destroySocket, socket);
  // Write callbacks run in order: this one runs once every earlier write is in the kernel.
  else socket.write(EMPTY, () => process.nextTick(destroySocket, socket));
}

function destroySocket(socket: Duplex): void {
  socket.destroy();
}

function closeTimedOut(ws: WebSocket): void {
  ws.terminate();
}

function truncateReason(message: string): string {
  // A close reason is at most 123 bytes (§5.5); error messages are ASCII.
  return message.length > 123 ? message.slice(0, 123) : message;
}

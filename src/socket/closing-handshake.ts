import type { Duplex } from 'node:stream';
import { encodeClosePayload } from '../codec/close';
import { encodeFrame } from '../codec/encoder';
import { Opcode } from '../codec/opcodes';
import type { ProtocolError } from '../errors';
import type { SendPath } from './send-path';
import type { WebSocket } from './websocket';

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

  /** Our close frame was handed to the socket. */
  frameWritten(): void {
    // Both close frames exchanged (or the connection failed): end TCP; the
    // server closes first (§7.1.1). Otherwise wait for the peer's close frame.
    if (this.readingDone) this.#socket.end();
  }

  /**
   * The peer's close frame (§7.1.5). Returns the close payload to answer
   * with, or null when ours was already sent.
   */
  peerClosed(code: number, reason: string): Buffer | null {
    this.readingDone = true;
    this.code = code;
    this.reason = reason;
    // §5.5.1: echo the status code received; no code received → empty body.
    if (!this.frameSent) return code === 1005 ? EMPTY : encodeClosePayload(code);
    // We started the handshake and it is now complete: the server ends TCP first (§7.1.1).
    // (With a queue, our close frame is still waiting; writing it ends TCP.)
    if (!this.#send.queued) this.#socket.end();
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

function closeTimedOut(ws: WebSocket): void {
  ws.terminate();
}

function truncateReason(message: string): string {
  // A close reason is at most 123 bytes (§5.5); error messages are ASCII.
  return message.length > 123 ? message.slice(0, 123) : message;
}

/**
 * One soak connection: sends numbered text messages ("e<n>") and tallies their
 * echoes and the server's numbered broadcasts ("b<n>"). Frames are built and
 * decoded with the project's codec (client mode).
 */
import type { Socket } from 'node:net';
import { encodeClientFrame } from '../../test/helpers/client-frames';
import { encodeClosePayload } from '../../src/codec/close';
import { FrameDecoder } from '../../src/codec/decoder';
import { openConnection } from '../fuzz/raw-connection';
import { SequenceTally } from './sequence-tally';

export class SoakClient {
  readonly echoes = new SequenceTally();
  readonly broadcasts = new SequenceTally();
  sent = 0;
  closeCode: number | null = null;
  /** Frames that were neither an echo nor a broadcast, or that the decoder rejected. */
  unexpected = 0;
  readonly closed: Promise<void>;
  readonly #socket: Socket;

  private constructor(socket: Socket, rest: Buffer) {
    this.#socket = socket;
    const decoder = new FrameDecoder(
      {
        onMessage: (data) => {
          const text = data.toString('latin1');
          const seq = Number(text.slice(1));
          if (text[0] === 'e') this.echoes.record(seq);
          else if (text[0] === 'b') this.broadcasts.record(seq);
          else this.unexpected++;
        },
        onPing: () => {},
        onPong: () => {},
        onClose: (code) => {
          this.closeCode = code;
          socket.end();
        },
        onError: () => {
          this.unexpected++;
          socket.destroy();
        },
      },
      { maxPayload: 0, expectMasked: false },
    );
    socket.on('data', (chunk: Buffer) => decoder.push(chunk));
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    if (rest.length > 0) decoder.push(rest);
  }

  static async open(port: number): Promise<SoakClient> {
    const { socket, rest } = await openConnection(port, '/soak', null);
    return new SoakClient(socket, rest);
  }

  sendNext(): void {
    if (this.#socket.destroyed) return;
    this.#socket.write(encodeClientFrame(0x1, `e${this.sent++}`, { key: randomKey() }));
  }

  /** Start the closing handshake (1000); `closed` resolves once TCP is closed. */
  close(): void {
    if (!this.#socket.destroyed) this.#socket.write(encodeClientFrame(0x8, encodeClosePayload(1000), { key: randomKey() }));
  }
}

function randomKey(): Uint8Array {
  return Uint8Array.of((Math.random() * 256) | 0, (Math.random() * 256) | 0, (Math.random() * 256) | 0, (Math.random() * 256) | 0);
}

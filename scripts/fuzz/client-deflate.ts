/**
 * The client's side of permessage-deflate for the fuzzer, built from the
 * project's own PerMessageDeflate with the directions swapped: what the
 * server calls "client" parameters are this side's compression parameters.
 */
import { PerMessageDeflate, type DeflateParams } from '../../src/codec/permessage-deflate';

/** The agreed parameters from a `Sec-WebSocket-Extensions` response, or null if none was agreed. */
export function parseAgreement(header: string | undefined): DeflateParams | null {
  if (header === undefined || header === '') return null;
  const params: DeflateParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: 15,
    clientMaxWindowBits: 15,
  };
  const [name, ...rest] = header.split(';').map((part) => part.trim());
  if (name !== 'permessage-deflate') throw new Error(`unexpected extension answer: ${header}`);
  for (const param of rest) {
    const [key, value] = param.split('=');
    if (key === 'server_no_context_takeover') params.serverNoContextTakeover = true;
    else if (key === 'client_no_context_takeover') params.clientNoContextTakeover = true;
    else if (key === 'server_max_window_bits') params.serverMaxWindowBits = Number(value);
    else if (key === 'client_max_window_bits') params.clientMaxWindowBits = Number(value);
    else throw new Error(`unexpected extension parameter: ${param}`);
  }
  return params;
}

export class ClientDeflate {
  readonly #pmd: PerMessageDeflate;

  constructor(agreed: DeflateParams) {
    // Swapped: this side compresses with the client's parameters and inflates the server's.
    const mirrored: DeflateParams = {
      serverNoContextTakeover: agreed.clientNoContextTakeover,
      clientNoContextTakeover: agreed.serverNoContextTakeover,
      serverMaxWindowBits: agreed.clientMaxWindowBits,
      clientMaxWindowBits: agreed.serverMaxWindowBits,
    };
    this.#pmd = new PerMessageDeflate(mirrored, { threshold: 0 }, 0);
  }

  /** Compress now (messages up to 16 KiB take the synchronous path). */
  compress(data: Buffer): Buffer {
    let out: Buffer | undefined;
    let failure: Error | null = null;
    this.#pmd.compress(data, (err, payload) => {
      failure = err;
      out = payload;
    });
    if (failure !== null) throw failure;
    if (out === undefined) throw new Error('fuzz messages must compress synchronously (keep them under 16 KiB)');
    return out;
  }

  /** Inflate a server message; callbacks fire in call order. */
  decompress(data: Buffer, cb: (err: Error | null, payload?: Buffer) => void): void {
    this.#pmd.decompress(data, cb);
  }

  close(): void {
    this.#pmd.close();
  }
}

import type { ProtocolError } from '../../../../src/errors';
import type { DeflateParams } from '../../../../src/codec/deflate-options';
import type { PerMessageDeflate } from '../../../../src/codec/permessage-deflate';

export const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Agreed parameters: the defaults (no takeover restrictions, 15-bit windows) plus `overrides`. */
export function agreed(overrides: Partial<DeflateParams> = {}): DeflateParams {
  return { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15, ...overrides };
}

/** The parameters a peer must decompress with to read what `params` compresses (server → client mirrored). */
export function mirrored(params: DeflateParams): DeflateParams {
  return { ...params, clientNoContextTakeover: params.serverNoContextTakeover, clientMaxWindowBits: params.serverMaxWindowBits };
}

export function compress(pmd: PerMessageDeflate, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => pmd.compress(data, (err, payload) => (err ? reject(err) : resolve(payload!))));
}

export function decompress(pmd: PerMessageDeflate, data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => pmd.decompress(data, (err, payload) => (err ? reject(err) : resolve(payload!))));
}

/** Settles with the decompress error (or null), never rejects. */
export function decompressError(pmd: PerMessageDeflate, data: Buffer): Promise<ProtocolError | null> {
  return new Promise((resolve) => pmd.decompress(data, (err) => resolve(err)));
}

/** Compress every message at once; resolves with the payloads and the order the callbacks fired in. */
export async function compressAll(pmd: PerMessageDeflate, messages: Buffer[]): Promise<{ payloads: Buffer[]; order: number[] }> {
  const order: number[] = [];
  const payloads = await Promise.all(
    messages.map(
      (m, i) =>
        new Promise<Buffer>((resolve, reject) =>
          pmd.compress(m, (err, payload) => {
            order.push(i);
            if (err) reject(err);
            else resolve(payload!);
          }),
        ),
    ),
  );
  return { payloads, order };
}

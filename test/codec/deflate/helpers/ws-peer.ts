/**
 * The `ws` package's own permessage-deflate, client side, as an independent
 * peer. `ws/lib/*` has no type declarations, hence the small interfaces.
 */
import { dirname, join } from 'node:path';
import type { ExtensionOffer } from '../../../../src/codec/extension-offer';

type WsParams = Record<string, Array<string | true>>;

interface WsPerMessageDeflate {
  offer(): Record<string, string | number | true>;
  accept(configurations: WsParams[]): Record<string, unknown>;
  compress(data: Buffer, fin: boolean, cb: (err: Error | null, result?: Buffer) => void): void;
  decompress(data: Buffer, fin: boolean, cb: (err: Error | null, result?: Buffer) => void): void;
  cleanup(): void;
}

export interface WsClientOptions {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
}

// ws's "exports" map hides lib/; reach the files through its package.json.
const wsLib = join(dirname(require.resolve('ws/package.json')), 'lib');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const WsPmd = require(join(wsLib, 'permessage-deflate.js')) as new (options: object) => WsPerMessageDeflate;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const wsExtension = require(join(wsLib, 'extension.js')) as { parse(header: string): Record<string, WsParams[]> };

export class WsClientPeer {
  readonly #pmd: WsPerMessageDeflate;

  constructor(options: WsClientOptions) {
    this.#pmd = new WsPmd({ ...options, isServer: false, maxPayload: 0, threshold: 0 });
  }

  /** What this client offers, as the project's header parser would deliver it. */
  offer(): ExtensionOffer {
    return {
      name: 'permessage-deflate',
      params: Object.entries(this.#pmd.offer()).map(([k, v]): readonly [string, string | true] => [k, v === true ? true : String(v)]),
    };
  }

  /** Accept the server's response header value; throws if ws finds it invalid. */
  accept(response: string): void {
    const parsed = wsExtension.parse(response)['permessage-deflate'];
    if (parsed === undefined) throw new Error(`no permessage-deflate in ${response}`);
    this.#pmd.accept(parsed);
  }

  compress(data: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => this.#pmd.compress(data, true, (err, out) => (err ? reject(err) : resolve(out!))));
  }

  decompress(data: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => this.#pmd.decompress(data, true, (err, out) => (err ? reject(err) : resolve(out!))));
  }

  close(): void {
    this.#pmd.cleanup();
  }
}

/**
 * The zlib fast path trusts Node's private zlib handle only after checking
 * what it relies on: a deflate/inflate round trip through it at first use.
 * A handle that has the method but does something else, or the
 * ATTACH_WS_DEFLATE_SYNC=0 switch, sends every message down the async path.
 */
import * as zlib from 'node:zlib';

type DeflateSync = typeof import('../../../src/codec/deflate-sync');
type Pmd = typeof import('../../../src/codec/permessage-deflate');

/** A fresh copy of the modules, loaded with `env` and (optionally) a different node:zlib. */
function load(env: string | undefined, zlibModule?: typeof zlib): { sync: DeflateSync; pmd: Pmd } {
  const saved = process.env.ATTACH_WS_DEFLATE_SYNC;
  let loaded!: { sync: DeflateSync; pmd: Pmd };
  try {
    if (env === undefined) delete process.env.ATTACH_WS_DEFLATE_SYNC;
    else process.env.ATTACH_WS_DEFLATE_SYNC = env;
    jest.isolateModules(() => {
      if (zlibModule) jest.doMock('node:zlib', () => zlibModule);
      loaded = {
        sync: require('../../../src/codec/deflate-sync') as DeflateSync,
        pmd: require('../../../src/codec/permessage-deflate') as Pmd,
      };
    });
  } finally {
    if (saved === undefined) delete process.env.ATTACH_WS_DEFLATE_SYNC;
    else process.env.ATTACH_WS_DEFLATE_SYNC = saved;
    jest.dontMock('node:zlib');
  }
  return loaded;
}

/** node:zlib whose DeflateRaw handle has writeSync but writes nothing (consumes the input, produces no bytes). */
function zlibWithHollowWriteSync(): typeof zlib {
  class HollowDeflateRaw extends zlib.DeflateRaw {
    constructor(options?: zlib.ZlibOptions) {
      super(options);
      const self = this as unknown as { _handle: { writeSync: unknown }; _writeState: Uint32Array };
      const state = self._writeState;
      self._handle.writeSync = (_flush: number, _in: Buffer, _inOff: number, _inLen: number, _out: Buffer, _outOff: number, outLen: number) => {
        state[0] = outLen; // all output space left: nothing written
        state[1] = 0; // all input "read"
      };
    }
  }
  return { ...zlib, DeflateRaw: HollowDeflateRaw } as typeof zlib;
}

/** Whether compress() called back before it returned (the sync path). */
function compressedSynchronously(pmd: Pmd): boolean {
  const instance = new pmd.PerMessageDeflate(
    { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
    {},
    1024 * 1024,
  );
  let calledBack = false;
  instance.compress(Buffer.from('hello hello hello'), () => {
    calledBack = true;
  });
  instance.close();
  return calledBack;
}

test('on this Node.js the fast path passes its round-trip self-test and is used', () => {
  const { sync, pmd } = load(undefined);
  expect(sync.syncZlibAvailable()).toBe(true);
  expect(compressedSynchronously(pmd)).toBe(true);
});

test('ATTACH_WS_DEFLATE_SYNC=0 turns the fast path off: compress calls back later', () => {
  const { sync, pmd } = load('0');
  expect(sync.syncZlibAvailable()).toBe(false);
  expect(compressedSynchronously(pmd)).toBe(false);
});

test('a handle whose writeSync exists but does not deflate fails the self-test, so messages take the async path', async () => {
  const { sync, pmd } = load(undefined, zlibWithHollowWriteSync());
  expect(sync.syncZlibAvailable()).toBe(false);
  expect(compressedSynchronously(pmd)).toBe(false);
});

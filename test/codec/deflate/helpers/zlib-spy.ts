import * as zlib from 'node:zlib';

/**
 * Watch every raw deflate/inflate stream the code under test creates
 * (node:zlib's factories are read-only but configurable, so they are swapped
 * with defineProperty and put back by `restore`).
 */
export class ZlibSpy {
  readonly deflates: zlib.DeflateRaw[] = [];
  readonly inflates: zlib.InflateRaw[] = [];
  /** Bytes every inflater has emitted so far. */
  inflatedBytes = 0;
  readonly #restore: Array<() => void> = [];

  constructor() {
    this.#wrap('createDeflateRaw', (stream) => this.deflates.push(stream));
    this.#wrap('createInflateRaw', (stream) => {
      this.inflates.push(stream);
      stream.on('data', (chunk: Buffer) => (this.inflatedBytes += chunk.length));
    });
  }

  restore(): void {
    for (const undo of this.#restore.splice(0)) undo();
  }

  #wrap<K extends 'createDeflateRaw' | 'createInflateRaw'>(name: K, seen: (stream: ReturnType<(typeof zlib)[K]>) => void): void {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const target = require('node:zlib') as typeof zlib;
    const original = Object.getOwnPropertyDescriptor(target, name)!;
    const create = original.value as (options?: zlib.ZlibOptions) => ReturnType<(typeof zlib)[K]>;
    Object.defineProperty(target, name, {
      ...original,
      value: (options?: zlib.ZlibOptions) => {
        const stream = create(options);
        seen(stream);
        return stream;
      },
    });
    this.#restore.push(() => Object.defineProperty(target, name, original));
  }
}

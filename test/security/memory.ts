/**
 * Helpers for the bounded-memory tests: a real garbage collection (so a
 * measurement counts what is still reachable, not what is merely not yet
 * collected), and the server side of a raw connection.
 */
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const collect = vm.runInNewContext('gc') as () => void;

/** Bytes held in ArrayBuffers (Buffers) once garbage is collected. */
export function retainedBufferBytes(): number {
  collect();
  collect();
  return process.memoryUsage().arrayBuffers;
}

export const KiB = 1024;
export const MiB = 1024 * 1024;

/** Bytes of JavaScript heap in use once garbage is collected. */
export function retainedHeapBytes(): number {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}

/**
 * Payload masking, RFC 6455 §5.3: `transformed[i] = original[i] ^ key[i % 4]`.
 *
 * Measured on Node 20 (bench/micro/codec.js, and a 1 MiB loop): an Int32Array
 * view over the aligned middle, unrolled 16x, runs at ~8 GB/s where 4x ran at
 * ~5.5–6 (the loop overhead, not memory, was the limit); Int32 keeps every
 * value a small integer for V8. Building the view costs more than it saves
 * below ~128 bytes, where an unrolled byte loop wins. `readInt32LE`/
 * `writeInt32LE` loops were ~50x slower.
 */

/** Below this many bytes a byte loop beats creating a Int32Array view. */
const WORD_THRESHOLD = 128;

// The rotated key is written here byte by byte and read back as one native-endian
// word, so the word matches memory order on little- and big-endian hosts alike.
const keyBytes = new Uint8Array(4);
const keyWord = new Int32Array(keyBytes.buffer);

/** Load `key` rotated by `phase` into `keyBytes` and return it as a native word. */
function rotatedKeyWord(key: Uint8Array, phase: number): number {
  keyBytes[0] = key[phase & 3]!;
  keyBytes[1] = key[(phase + 1) & 3]!;
  keyBytes[2] = key[(phase + 2) & 3]!;
  keyBytes[3] = key[(phase + 3) & 3]!;
  return keyWord[0]!;
}

/** XOR every 32-bit word of `view` in place, unrolled 16x. */
function xorWords(view: Int32Array, word: number): void {
  const n = view.length;
  const n16 = n - (n & 15);
  let j = 0;
  for (; j < n16; j += 16) {
    view[j] ^= word;
    view[j + 1] ^= word;
    view[j + 2] ^= word;
    view[j + 3] ^= word;
    view[j + 4] ^= word;
    view[j + 5] ^= word;
    view[j + 6] ^= word;
    view[j + 7] ^= word;
    view[j + 8] ^= word;
    view[j + 9] ^= word;
    view[j + 10] ^= word;
    view[j + 11] ^= word;
    view[j + 12] ^= word;
    view[j + 13] ^= word;
    view[j + 14] ^= word;
    view[j + 15] ^= word;
  }
  for (; j < n; j++) view[j] ^= word;
}

/**
 * Unmask `buf[start, end)` in place. The key phase starts at `key[keyOffset & 3]`,
 * so a payload that arrives over several chunks is unmasked piece by piece with
 * `keyOffset` = number of payload bytes already unmasked.
 */
export function unmask(buf: Buffer, key: Uint8Array, start = 0, end: number = buf.length, keyOffset = 0): void {
  let i = start;
  let k = keyOffset & 3;
  if (end - start < WORD_THRESHOLD) {
    const k0 = key[k]!;
    const k1 = key[(k + 1) & 3]!;
    const k2 = key[(k + 2) & 3]!;
    const k3 = key[(k + 3) & 3]!;
    const stop = end - ((end - start) & 3);
    for (; i < stop; i += 4) {
      buf[i]! ^= k0;
      buf[i + 1]! ^= k1;
      buf[i + 2]! ^= k2;
      buf[i + 3]! ^= k3;
    }
    if (i < end) buf[i++]! ^= k0;
    if (i < end) buf[i++]! ^= k1;
    if (i < end) buf[i]! ^= k2;
    return;
  }
  // Byte loop up to a 4-byte-aligned address: typed array views need alignment.
  const base = buf.byteOffset;
  while (((base + i) & 3) !== 0) {
    buf[i]! ^= key[k]!;
    k = (k + 1) & 3;
    i++;
  }
  const words = (end - i) >>> 2;
  xorWords(new Int32Array(buf.buffer, base + i, words), rotatedKeyWord(key, k));
  i += words << 2; // whole words leave the phase `k` unchanged
  for (; i < end; i++) {
    buf[i]! ^= key[k]!;
    k = (k + 1) & 3;
  }
}

/**
 * Write `src` masked with `key` to `out` at `outOffset` (`src` is not modified).
 * Used to build client frames: by tests and by the benchmark's load generator.
 */
export function mask(src: Buffer, key: Uint8Array, out: Buffer, outOffset: number): void {
  if (outOffset < 0 || outOffset + src.length > out.length) throw new RangeError('mask: output buffer too small');
  src.copy(out, outOffset);
  unmask(out, key, outOffset, outOffset + src.length, 0);
}

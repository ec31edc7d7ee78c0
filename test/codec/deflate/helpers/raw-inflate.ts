/**
 * A tiny RFC 1951 decoder for tests (after Mark Adler's puff.c): it inflates
 * a raw DEFLATE stream and reports the farthest back-reference, which zlib
 * does not expose, so tests can check a window size is honoured.
 */

const LENGTH_BASE = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LENGTH_EXTRA = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];
const CODE_LENGTH_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];

interface Huffman {
  counts: number[];
  symbols: number[];
}

function huffman(lengths: number[]): Huffman {
  const counts = new Array<number>(16).fill(0);
  for (const len of lengths) counts[len]!++;
  counts[0] = 0;
  const offsets = [0, 0];
  for (let len = 1; len < 15; len++) offsets[len + 1] = offsets[len]! + counts[len]!;
  const symbols: number[] = [];
  lengths.forEach((len, symbol) => {
    if (len !== 0) symbols[offsets[len]!++] = symbol;
  });
  return { counts, symbols };
}

const FIXED_LITERALS = huffman([...Array<number>(144).fill(8), ...Array<number>(112).fill(9), ...Array<number>(24).fill(7), ...Array<number>(8).fill(8)]);
const FIXED_DISTANCES = huffman(Array<number>(30).fill(5));

export interface RawInflateResult {
  output: Buffer;
  /** The largest match distance used, 0 if none. */
  maxDistance: number;
}

/** Inflate `data` (a complete raw DEFLATE stream, final block or sync flush). */
export function rawInflate(data: Buffer): RawInflateResult {
  let pos = 0;
  let bitBuf = 0;
  let bitCount = 0;
  const out: number[] = [];
  let maxDistance = 0;

  const bits = (n: number): number => {
    while (bitCount < n) {
      if (pos >= data.length) throw new Error('ran out of input');
      bitBuf |= data[pos++]! << bitCount;
      bitCount += 8;
    }
    const value = bitBuf & ((1 << n) - 1);
    bitBuf >>>= n;
    bitCount -= n;
    return value;
  };

  const decode = (h: Huffman): number => {
    let code = 0;
    let first = 0;
    let index = 0;
    for (let len = 1; len <= 15; len++) {
      code |= bits(1);
      const count = h.counts[len]!;
      if (code - count < first) return h.symbols[index + (code - first)]!;
      index += count;
      first = (first + count) << 1;
      code <<= 1;
    }
    throw new Error('invalid Huffman code');
  };

  const codes = (literals: Huffman, distances: Huffman): void => {
    for (;;) {
      const symbol = decode(literals);
      if (symbol < 256) out.push(symbol);
      else if (symbol === 256) return;
      else {
        const lengthCode = symbol - 257;
        const length = LENGTH_BASE[lengthCode]! + bits(LENGTH_EXTRA[lengthCode]!);
        const distCode = decode(distances);
        const distance = DIST_BASE[distCode]! + bits(DIST_EXTRA[distCode]!);
        if (distance > out.length) throw new Error('distance too far back');
        maxDistance = Math.max(maxDistance, distance);
        for (let i = 0; i < length; i++) out.push(out[out.length - distance]!);
      }
    }
  };

  const dynamicTables = (): [Huffman, Huffman] => {
    const nLiterals = bits(5) + 257;
    const nDistances = bits(5) + 1;
    const nCodeLengths = bits(4) + 4;
    const codeLengthLengths = new Array<number>(19).fill(0);
    for (let i = 0; i < nCodeLengths; i++) codeLengthLengths[CODE_LENGTH_ORDER[i]!] = bits(3);
    const codeLengths = huffman(codeLengthLengths);
    const lengths: number[] = [];
    while (lengths.length < nLiterals + nDistances) {
      const symbol = decode(codeLengths);
      if (symbol < 16) lengths.push(symbol);
      else if (symbol === 16) lengths.push(...Array<number>(3 + bits(2)).fill(lengths[lengths.length - 1]!));
      else if (symbol === 17) lengths.push(...Array<number>(3 + bits(3)).fill(0));
      else lengths.push(...Array<number>(11 + bits(7)).fill(0));
    }
    return [huffman(lengths.slice(0, nLiterals)), huffman(lengths.slice(nLiterals))];
  };

  let last = false;
  while (!last && (pos < data.length || bitCount >= 3)) {
    last = bits(1) === 1;
    const type = bits(2);
    if (type === 0) {
      bitBuf = 0;
      bitCount = 0; // stored block: skip to the byte boundary
      const len = data.readUInt16LE(pos);
      pos += 4;
      for (let i = 0; i < len; i++) out.push(data[pos++]!);
    } else if (type === 1) codes(FIXED_LITERALS, FIXED_DISTANCES);
    else if (type === 2) codes(...dynamicTables());
    else throw new Error('invalid block type');
  }
  return { output: Buffer.from(out), maxDistance };
}

/**
 * UTF-8 validation (RFC 3629 §4), for text messages and close reasons
 * (RFC 6455 §8.1: invalid UTF-8 in a text message fails the connection, 1007).
 *
 * Whole buffers go to the platform's `buffer.isUtf8` (simdutf, Node ≥ 18.14).
 * Data that arrives in pieces goes through `Utf8Validator`, a DFA whose state
 * survives between pieces, so it can reject the first bad byte of a message
 * that has not finished arriving.
 */
import * as nodeBuffer from 'node:buffer';

const platformIsUtf8: ((input: Uint8Array) => boolean) | undefined =
  typeof (nodeBuffer as { isUtf8?: unknown }).isUtf8 === 'function' ? nodeBuffer.isUtf8 : undefined;

// Byte classes. The well-formed sequences (RFC 3629 §4) differ only in which
// range the SECOND byte must fall in, so continuation bytes split in three.
const C_ASCII = 0; // 00..7F
const C_CONT_LO = 1; // 80..8F
const C_CONT_MID = 2; // 90..9F
const C_CONT_HI = 3; // A0..BF
const C_BAD = 4; // C0, C1, F5..FF: never valid
const C_LEAD2 = 5; // C2..DF
const C_E0 = 6; // E0: second byte A0..BF (else overlong)
const C_LEAD3 = 7; // E1..EC, EE, EF
const C_ED = 8; // ED: second byte 80..9F (else a surrogate U+D800..DFFF)
const C_F0 = 9; // F0: second byte 90..BF (else overlong)
const C_LEAD4 = 10; // F1..F3
const C_F4 = 11; // F4: second byte 80..8F (else > U+10FFFF)
const CLASSES = 12;

// States: how much of the current sequence is still expected.
const S_ACCEPT = 0;
const S_NEED1 = 1; // one continuation byte 80..BF
const S_NEED2 = 2;
const S_NEED3 = 3;
const S_E0 = 4; // then A0..BF, then one more
const S_ED = 5; // then 80..9F, then one more
const S_F0 = 6; // then 90..BF, then two more
const S_F4 = 7; // then 80..8F, then two more
const S_REJECT = 8;
const STATES = 9;

const byteClass = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  byteClass[b] =
    b < 0x80 ? C_ASCII
    : b < 0x90 ? C_CONT_LO
    : b < 0xa0 ? C_CONT_MID
    : b < 0xc0 ? C_CONT_HI
    : b < 0xc2 ? C_BAD
    : b < 0xe0 ? C_LEAD2
    : b === 0xe0 ? C_E0
    : b === 0xed ? C_ED
    : b < 0xf0 ? C_LEAD3
    : b === 0xf0 ? C_F0
    : b < 0xf4 ? C_LEAD4
    : b === 0xf4 ? C_F4
    : C_BAD;
}

/** transition[state * CLASSES + class] → next state (S_REJECT unless listed). */
const transition = new Uint8Array(STATES * CLASSES).fill(S_REJECT);
function on(state: number, classes: readonly number[], next: number): void {
  for (const c of classes) transition[state * CLASSES + c] = next;
}
const ANY_CONT = [C_CONT_LO, C_CONT_MID, C_CONT_HI] as const;
on(S_ACCEPT, [C_ASCII], S_ACCEPT);
on(S_ACCEPT, [C_LEAD2], S_NEED1);
on(S_ACCEPT, [C_LEAD3], S_NEED2);
on(S_ACCEPT, [C_E0], S_E0);
on(S_ACCEPT, [C_ED], S_ED);
on(S_ACCEPT, [C_LEAD4], S_NEED3);
on(S_ACCEPT, [C_F0], S_F0);
on(S_ACCEPT, [C_F4], S_F4);
on(S_NEED1, ANY_CONT, S_ACCEPT);
on(S_NEED2, ANY_CONT, S_NEED1);
on(S_NEED3, ANY_CONT, S_NEED2);
on(S_E0, [C_CONT_HI], S_NEED1);
on(S_ED, [C_CONT_LO, C_CONT_MID], S_NEED1);
on(S_F0, [C_CONT_MID, C_CONT_HI], S_NEED2);
on(S_F4, [C_CONT_LO], S_NEED2);

/** Run the DFA over `buf[start, end)` from `state`; stops early on rejection. */
function run(state: number, buf: Uint8Array, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    // Runs of ASCII are the common case: skip the table lookup for them.
    if (state === S_ACCEPT && b < 0x80) continue;
    state = transition[state * CLASSES + byteClass[b]!]!;
    if (state === S_REJECT) return S_REJECT;
  }
  return state;
}

/** Below this many bytes the DFA beats slicing a view for the platform check. */
const PLATFORM_THRESHOLD = 64;

/**
 * Where the last, possibly incomplete, sequence of `buf[start, end)` begins:
 * `end` if the range ends on a sequence boundary (or the tail is invalid anyway,
 * which the platform check will catch).
 */
function completePrefixEnd(buf: Uint8Array, start: number, end: number): number {
  const floor = Math.max(start, end - 3);
  for (let i = end - 1; i >= floor; i--) {
    const b = buf[i]!;
    if ((b & 0xc0) === 0x80) continue; // continuation: keep looking for its lead
    const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
    return end - i < need ? i : end;
  }
  return end;
}

/** True if `buf` is entirely well-formed UTF-8. */
export function isValidUtf8(buf: Buffer): boolean {
  if (platformIsUtf8 !== undefined) return platformIsUtf8(buf);
  return run(S_ACCEPT, buf, 0, buf.length) === S_ACCEPT;
}

/**
 * Incremental UTF-8 validation: feeding a byte sequence in any split gives the
 * same verdict as validating it whole, and `feed` reports the first invalid
 * byte at once, before the rest has arrived (fail fast, Autobahn case 6.4.x).
 *
 * @example
 * const v = new Utf8Validator();
 * v.feed(Buffer.from([0xe2, 0x82])); // true: a prefix of "€"
 * v.feed(Buffer.from([0xac]));       // true
 * v.finish();                        // true: nothing left open
 */
export class Utf8Validator {
  #state = S_ACCEPT;
  /** The platform validator, or undefined to force the DFA (tests). */
  readonly #platform: ((input: Uint8Array) => boolean) | undefined;

  constructor(options: { usePlatform?: boolean } = {}) {
    this.#platform = options.usePlatform === false ? undefined : platformIsUtf8;
  }

  /** Validate `buf[start, end)`; false once the bytes seen so far cannot be UTF-8. */
  feed(buf: Buffer, start = 0, end: number = buf.length): boolean {
    let state = this.#state;
    if (state === S_REJECT) return false;
    let i = start;
    // Finish a sequence left open by the previous piece (at most 3 bytes).
    while (state !== S_ACCEPT && i < end) {
      state = transition[state * CLASSES + byteClass[buf[i]!]!]!;
      i++;
    }
    if (state === S_REJECT || i === end || this.#platform === undefined || end - i < PLATFORM_THRESHOLD) {
      this.#state = state === S_REJECT ? S_REJECT : run(state, buf, i, end);
      return this.#state !== S_REJECT;
    }
    // At a sequence boundary: the platform checks the complete sequences, the
    // DFA only the open tail, and the verdict equals running the DFA over all.
    const cut = completePrefixEnd(buf, i, end);
    if (!this.#platform(buf.subarray(i, cut))) {
      this.#state = S_REJECT;
      return false;
    }
    this.#state = run(S_ACCEPT, buf, cut, end);
    return this.#state !== S_REJECT;
  }

  /** True if every sequence fed so far is complete and valid. */
  finish(): boolean {
    return this.#state === S_ACCEPT;
  }

  /** Start over, for the next message. */
  reset(): void {
    this.#state = S_ACCEPT;
  }
}

/**
 * Accounting for numbered messages on one connection: each number should
 * arrive exactly once and in increasing order.
 */
export class SequenceTally {
  #seen = new Uint8Array(64);
  #highest = -1;
  received = 0;
  duplicated = 0;
  reordered = 0;

  record(seq: number): void {
    if (seq >= this.#seen.length) {
      const grown = new Uint8Array(Math.max(seq + 1, this.#seen.length * 2));
      grown.set(this.#seen);
      this.#seen = grown;
    }
    if (this.#seen[seq] === 1) {
      this.duplicated++;
      return;
    }
    this.#seen[seq] = 1;
    this.received++;
    if (seq < this.#highest) this.reordered++;
    else this.#highest = seq;
  }

  /** Numbers 0..expected-1 that never arrived. */
  lost(expected: number): number {
    let missing = 0;
    for (let seq = 0; seq < expected; seq++) if (this.#seen[seq] !== 1) missing++;
    return missing;
  }
}

'use strict';
// Small statistics helpers: a fixed-resolution latency histogram and
// median / quartiles of a handful of round results.

/** Latencies in ms, kept in 5 µs buckets up to 5 s (beyond: last bucket). */
class Histogram {
  constructor(resUs = 5, maxMs = 5000) {
    this.res = resUs / 1000;
    this.buckets = new Uint32Array(Math.ceil(maxMs / this.res) + 1);
    this.n = 0;
  }

  add(ms) {
    let i = (ms / this.res) | 0;
    if (i >= this.buckets.length) i = this.buckets.length - 1;
    else if (i < 0) i = 0;
    this.buckets[i]++;
    this.n++;
  }

  reset() {
    this.buckets.fill(0);
    this.n = 0;
  }

  /** Quantile in µs (bucket midpoint). */
  quantile(q) {
    if (this.n === 0) return NaN;
    const target = Math.ceil(q * this.n);
    let acc = 0;
    for (let i = 0; i < this.buckets.length; i++) {
      acc += this.buckets[i];
      if (acc >= target) return (i + 0.5) * this.res * 1000;
    }
    return NaN;
  }
}

function sorted(xs) {
  return xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
}

function quantile(xs, q) {
  const s = sorted(xs);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

const median = (xs) => quantile(xs, 0.5);

/** {median, min, max, q1, q3, n} of the finite values. */
function summary(xs) {
  const s = sorted(xs);
  return {
    median: quantile(s, 0.5),
    min: s.length ? s[0] : NaN,
    max: s.length ? s[s.length - 1] : NaN,
    q1: quantile(s, 0.25),
    q3: quantile(s, 0.75),
    n: s.length,
  };
}

module.exports = { Histogram, median, quantile, summary };

'use strict';
// Micro-benchmark of the codec's hot paths, each against its baseline in the
// same run. Not a test: numbers vary by machine. Build first:
//   npx tsc -p tsconfig.build.json && node bench/micro/codec.js
const { unmask } = require('../../dist/codec/mask');
const { isValidUtf8, Utf8Validator } = require('../../dist/codec/utf8');
const { FrameDecoder } = require('../../dist/codec/decoder');
const { frameHeader } = require('../../dist/codec/encoder');
const { mask } = require('../../dist/codec/mask');

/** One masked client frame (the test helper test/helpers/client-frames.ts is not in dist). */
function encodeClientFrame(opcode, payload, { key }) {
  const header = frameHeader(opcode, payload.length, { mask: key });
  const frame = Buffer.allocUnsafe(header.length + payload.length);
  header.copy(frame, 0);
  mask(payload, key, frame, header.length);
  return frame;
}

let bufferutil;
try {
  bufferutil = require('bufferutil');
} catch {
  bufferutil = undefined;
}

/** Run `fn` for ~`ms` after a warm-up; returns { ns per op, GB/s }. */
function measure(fn, bytesPerOp, ms = 300) {
  for (let i = 0; i < 200; i++) fn();
  let ops = 0;
  const deadline = process.hrtime.bigint() + BigInt(ms) * 1_000_000n;
  const start = process.hrtime.bigint();
  let now = start;
  while (now < deadline) {
    for (let i = 0; i < 64; i++) fn();
    ops += 64;
    now = process.hrtime.bigint();
  }
  const ns = Number(now - start) / ops;
  return { ns, gbps: bytesPerOp / ns };
}

function row(group, name, size, r) {
  console.log(
    `${group.padEnd(8)} ${name.padEnd(28)} ${String(size).padStart(8)} B  ${r.ns.toFixed(0).padStart(9)} ns/op  ${r.gbps.toFixed(2).padStart(6)} GB/s`,
  );
}

const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
const sizes = [64, 16 * 1024, 1024 * 1024];

function plainUnmask(buf, k) {
  for (let i = 0; i < buf.length; i++) buf[i] ^= k[i & 3];
}

for (const size of sizes) {
  const buf = Buffer.alloc(size, 0x61);
  row('unmask', 'byte loop (baseline)', size, measure(() => plainUnmask(buf, key), size));
  row('unmask', 'attach-ws unmask', size, measure(() => unmask(buf, key), size));
  if (bufferutil) row('unmask', 'bufferutil (native)', size, measure(() => bufferutil.unmask(buf, key), size));
}

function text(size, multibyte) {
  const unit = multibyte ? 'héllo wörld – κόσμε – 𝄞 ' : 'hello world, plain ascii ';
  let s = '';
  while (Buffer.byteLength(s) < size) s += unit;
  return Buffer.from(s).subarray(0, size - (multibyte ? 8 : 0)); // keep it valid for multibyte: trim below
}

for (const multibyte of [false, true]) {
  for (const size of sizes) {
    const raw = text(size, multibyte);
    // Make sure the sample ends on a character boundary.
    let buf = raw;
    while (!isValidUtf8(buf)) buf = buf.subarray(0, buf.length - 1);
    const label = multibyte ? 'utf8-mb' : 'utf8';
    row(label, 'isValidUtf8 (platform)', buf.length, measure(() => isValidUtf8(buf), buf.length));
    const v = new Utf8Validator();
    row(label, 'Utf8Validator, whole', buf.length, measure(() => { v.reset(); v.feed(buf); v.finish(); }, buf.length));
    const half = buf.length >> 1;
    row(label, 'Utf8Validator, 2 pieces', buf.length, measure(() => { v.reset(); v.feed(buf, 0, half); v.feed(buf, half); v.finish(); }, buf.length));
    const dfa = new Utf8Validator({ usePlatform: false });
    row(label, 'Utf8Validator, DFA only', buf.length, measure(() => { dfa.reset(); dfa.feed(buf); dfa.finish(); }, buf.length));
  }
}

// Decoding one chunk that holds many masked frames (a browser-like random key),
// attach-ws vs ws's Receiver (which uses bufferutil when it is installed; run
// with WS_NO_BUFFER_UTIL=1 for pure JS on both sides). Both unmask in place:
// binary frames are re-decoded as they are (the bytes just flip), text frames
// from a fresh copy each time (the copy is in both timings).
let WsReceiver;
try {
  WsReceiver = require('ws').Receiver;
} catch {
  WsReceiver = undefined;
}
const randomKey = Uint8Array.of(0x9c, 0x21, 0x5e, 0x07);
for (const [label, opcode, payloadSize, count, copy] of [
  ['64 B binary x 1000', 2, 64, 1000, false],
  ['64 B text x 1000 (+copy)', 1, 64, 1000, true],
  ['16 KiB binary x 64', 2, 16 * 1024, 64, false],
]) {
  const payload = Buffer.alloc(payloadSize, 0x61);
  const source = Buffer.concat(Array.from({ length: count }, () => encodeClientFrame(opcode, payload, { key: randomKey })));
  const input = () => (copy ? Buffer.from(source) : source);
  let messages = 0;
  const sink = {
    onMessage() { messages++; },
    onPing() {},
    onPong() {},
    onClose() {},
    onError(err) { throw err; },
  };
  row('decode', `attach-ws: ${label}`, source.length, measure(() => {
    new FrameDecoder(sink, { maxPayload: 0 }).push(input());
  }, source.length));
  if (WsReceiver) {
    row('decode', `ws: ${label}`, source.length, measure(() => {
      const r = new WsReceiver({ isServer: true, maxPayload: 0 });
      r.on('message', () => { messages++; });
      r.on('error', (err) => { throw err; });
      r._write(input(), 'buffer', () => {});
    }, source.length));
  }
  if (messages === 0) throw new Error('no message decoded');
}

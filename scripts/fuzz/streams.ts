/**
 * The fuzzer's streams and their oracle. Every stream is generated together
 * with the outcome it must have:
 * - valid: messages (text, binary, fragmented, compressed), pings between
 *   fragments, then a close frame → every message echoed exactly and in
 *   order, a pong per ping, the close code echoed;
 * - mutated: a valid prefix, then one broken frame (each mutation knows the
 *   close code RFC 6455 / RFC 7692 assign to it), nothing after → the prefix
 *   echoed (possibly cut short by the failure), then that close code;
 * - random: bytes → no crash; the server either closes with 1002/1007/1009 or
 *   still waits for a valid frame.
 */
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import type { ClientDeflate } from './client-deflate';
import { Prng } from './prng';
import { dataFrame, encodeWireFrame, type WireFrame } from './wire-frame';

/** The fuzz server's maxPayload: small, so that 1009 cases are cheap. */
export const FUZZ_MAX_PAYLOAD = 64 * 1024;

export interface Message {
  binary: boolean;
  data: Buffer;
}

export type StreamKind = 'valid' | 'mutated' | 'random';

export interface Plan {
  kind: StreamKind;
  /** What was broken (mutated streams), for the report. */
  mutation: string;
  frames: WireFrame[];
  /** Raw bytes instead of frames (random streams). */
  raw: Buffer | null;
  /** Messages the server must echo, in order (mutated: a prefix of them). */
  echoes: Message[];
  /** Ping payloads the server must answer, in order (valid streams). */
  pongs: Buffer[];
  /** Close codes the server may send; empty: it must not send one (random streams may also see none). */
  closeCodes: number[];
}

const TEXT_PIECES = ['a', 'hello ', 'é', '€', '𝄞', '{"k":1}', ' ', 'ünïcödé ', '日本'];

function key(rng: Prng): Uint8Array {
  return rng.chance(0.05) ? new Uint8Array(4) : new Uint8Array(rng.bytes(4));
}

function messageSize(rng: Prng): number {
  const r = rng.next();
  if (r < 0.4) return rng.int(0, 20);
  if (r < 0.7) return rng.int(21, 200);
  if (r < 0.92) return rng.int(201, 2000);
  return rng.int(2001, 9000);
}

function randomText(rng: Prng, bytes: number): Buffer {
  let s = '';
  while (Buffer.byteLength(s) < bytes) {
    s += rng.chance(0.5) ? rng.pick(TEXT_PIECES) : String.fromCharCode(rng.int(0x20, 0x7e));
  }
  return Buffer.from(s, 'utf8');
}

function randomMessage(rng: Prng): Message {
  const size = messageSize(rng);
  if (rng.chance(0.5)) return { binary: false, data: randomText(rng, size) };
  // Binary: random, or repetitive (compresses well).
  const data = rng.chance(0.5) ? rng.bytes(size) : Buffer.alloc(size, rng.int(0, 255));
  return { binary: true, data };
}

/** Cut `payload` into 1..6 pieces at random offsets (empty pieces allowed). */
function split(rng: Prng, payload: Buffer): Buffer[] {
  const pieces = rng.chance(0.5) ? 1 : rng.int(2, 6);
  const cuts = Array.from({ length: pieces - 1 }, () => rng.int(0, payload.length)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let start = 0;
  for (const cut of cuts) {
    out.push(payload.subarray(start, cut));
    start = cut;
  }
  out.push(payload.subarray(start));
  return out;
}

interface Built {
  frames: WireFrame[];
  pongs: Buffer[];
  /** Indexes (into frames) of the data frames. */
  dataIndexes: number[];
}

/** One message as frames: maybe compressed, maybe fragmented, pings maybe between fragments. */
function messageFrames(rng: Prng, message: Message, deflate: ClientDeflate | null, payloadOverride?: Buffer): Built {
  const compress = deflate !== null && payloadOverride === undefined && rng.chance(0.5);
  const payload = payloadOverride ?? (compress ? deflate!.compress(message.data) : message.data);
  const pieces = split(rng, payload);
  const built: Built = { frames: [], pongs: [], dataIndexes: [] };
  pieces.forEach((piece, i) => {
    if (i > 0 && rng.chance(0.2)) {
      const ping = rng.bytes(rng.int(0, 125));
      built.frames.push(dataFrame(0x9, ping, key(rng)));
      built.pongs.push(ping);
    }
    const opcode = i === 0 ? (message.binary ? 0x2 : 0x1) : 0x0;
    built.dataIndexes.push(built.frames.length);
    built.frames.push(dataFrame(opcode, piece, key(rng), i === pieces.length - 1, compress && i === 0));
  });
  return built;
}

function closeFrame(rng: Prng, code: number, reason: Buffer = Buffer.alloc(0)): WireFrame {
  const body = Buffer.allocUnsafe(2 + reason.length);
  body.writeUInt16BE(code, 0);
  reason.copy(body, 2);
  return dataFrame(0x8, body, key(rng));
}

function emptyPlan(kind: StreamKind): Plan {
  return { kind, mutation: '', frames: [], raw: null, echoes: [], pongs: [], closeCodes: [] };
}

/** Messages that go through whole, appended to `plan`. */
function addMessages(rng: Prng, plan: Plan, deflate: ClientDeflate | null, count: number): void {
  for (let i = 0; i < count; i++) {
    const message = randomMessage(rng);
    const built = messageFrames(rng, message, deflate);
    plan.frames.push(...built.frames);
    plan.pongs.push(...built.pongs);
    plan.echoes.push(message);
  }
}

export function validPlan(rng: Prng, deflate: ClientDeflate | null): Plan {
  const plan = emptyPlan('valid');
  addMessages(rng, plan, deflate, rng.int(1, 40));
  const code = rng.chance(0.7) ? 1000 : rng.pick([1001, 1003, 1008, 3000, 4000, 4999]);
  plan.frames.push(closeFrame(rng, code, rng.chance(0.3) ? randomText(rng, rng.int(0, 60)) : undefined));
  plan.closeCodes = [code];
  return plan;
}

/** A mutation: appends the broken part to a plan whose prefix is valid; returns the close code it implies. */
interface Mutation {
  name: string;
  /** Only with / only without permessage-deflate; undefined: either. */
  deflate?: boolean;
  apply(rng: Prng, plan: Plan, deflate: ClientDeflate | null): number;
}

/** Frames of one more message (not echoed: the stream breaks inside it or right after). */
function brokenMessage(rng: Prng, plan: Plan, deflate: ClientDeflate | null, edit: (built: Built) => void): void {
  const built = messageFrames(rng, randomMessage(rng), deflate);
  edit(built);
  // Cut right after the edited frame: nothing after a failure matters.
  plan.frames.push(...built.frames);
}

function lastEdited(built: Built, index: number): void {
  built.frames.length = index + 1;
}

const mutations: Mutation[] = [
  {
    name: 'RSV2 or RSV3 set',
    apply(rng, plan, deflate) {
      brokenMessage(rng, plan, deflate, (built) => {
        const i = rng.int(0, built.frames.length - 1);
        if (rng.chance(0.5)) built.frames[i]!.rsv2 = true;
        else built.frames[i]!.rsv3 = true;
        lastEdited(built, i);
      });
      return 1002;
    },
  },
  {
    name: 'RSV1 without permessage-deflate',
    deflate: false,
    apply(rng, plan, deflate) {
      brokenMessage(rng, plan, deflate, (built) => {
        const i = rng.int(0, built.frames.length - 1);
        built.frames[i]!.rsv1 = true;
        lastEdited(built, i);
      });
      return 1002;
    },
  },
  {
    name: 'RSV1 on a continuation or control frame',
    deflate: true,
    apply(rng, plan) {
      const ping = dataFrame(0x9, rng.bytes(rng.int(0, 20)), key(rng));
      ping.rsv1 = true;
      if (rng.chance(0.5)) {
        plan.frames.push(ping);
      } else {
        // A message in two or more fragments, RSV1 on a later one.
        const message = randomMessage(rng);
        const data = message.data.length > 0 ? message.data : Buffer.from('x');
        const cut = rng.int(0, data.length);
        plan.frames.push(dataFrame(message.binary ? 0x2 : 0x1, data.subarray(0, cut), key(rng), false));
        const continuation = dataFrame(0x0, data.subarray(cut), key(rng), rng.chance(0.5), true);
        plan.frames.push(continuation);
      }
      return 1002;
    },
  },
  {
    name: 'reserved opcode',
    apply(rng, plan) {
      plan.frames.push(dataFrame(rng.pick([3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf]), rng.bytes(rng.int(0, 30)), key(rng)));
      return 1002;
    },
  },
  {
    name: 'unmasked frame',
    apply(rng, plan, deflate) {
      brokenMessage(rng, plan, deflate, (built) => {
        const i = rng.int(0, built.frames.length - 1);
        built.frames[i]!.key = null;
        lastEdited(built, i);
      });
      return 1002;
    },
  },
  {
    name: 'control frame over 125 bytes',
    apply(rng, plan) {
      plan.frames.push(dataFrame(rng.pick([0x8, 0x9, 0xa]), rng.bytes(rng.int(126, 300)), key(rng)));
      return 1002;
    },
  },
  {
    name: 'fragmented control frame',
    apply(rng, plan) {
      plan.frames.push(dataFrame(rng.pick([0x9, 0xa]), rng.bytes(rng.int(0, 20)), key(rng), false));
      return 1002;
    },
  },
  {
    name: 'continuation with no message to continue',
    apply(rng, plan) {
      plan.frames.push(dataFrame(0x0, rng.bytes(rng.int(0, 50)), key(rng), rng.chance(0.5)));
      return 1002;
    },
  },
  {
    name: 'new data frame inside a fragmented message',
    apply(rng, plan) {
      plan.frames.push(dataFrame(0x2, rng.bytes(rng.int(0, 50)), key(rng), false));
      plan.frames.push(dataFrame(rng.pick([0x1, 0x2]), Buffer.from('x'), key(rng), rng.chance(0.5)));
      return 1002;
    },
  },
  {
    name: 'close frame with a code that may not be sent',
    apply(rng, plan) {
      plan.frames.push(closeFrame(rng, rng.pick([0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535])));
      return 1002;
    },
  },
  {
    name: 'close frame with a 1-byte body',
    apply(rng, plan) {
      plan.frames.push(dataFrame(0x8, rng.bytes(1), key(rng)));
      return 1002;
    },
  },
  {
    name: 'close reason that is not UTF-8',
    apply(rng, plan) {
      plan.frames.push(closeFrame(rng, 1000, Buffer.concat([randomText(rng, rng.int(0, 20)), invalidUtf8(rng)])));
      return 1007;
    },
  },
  {
    name: 'text message that is not UTF-8',
    apply(rng, plan) {
      const data = Buffer.concat([randomText(rng, rng.int(0, 300)), invalidUtf8(rng), randomText(rng, rng.int(0, 30))]);
      const built = messageFrames(rng, { binary: false, data }, null, data);
      plan.frames.push(...built.frames);
      return 1007;
    },
  },
  {
    name: 'compressed text that inflates to invalid UTF-8',
    deflate: true,
    apply(rng, plan, deflate) {
      const data = Buffer.concat([randomText(rng, rng.int(0, 300)), invalidUtf8(rng)]);
      const built = messageFrames(rng, { binary: false, data }, null, deflate!.compress(data));
      built.frames[built.dataIndexes[0]!]!.rsv1 = true;
      plan.frames.push(...built.frames);
      return 1007;
    },
  },
  {
    name: 'corrupt compressed data',
    deflate: true,
    apply(rng, plan) {
      // BTYPE 11 is reserved (RFC 1951 §3.2.3): inflation must fail on the first block header.
      const payload = Buffer.concat([Buffer.from([0x06 | (rng.int(0, 31) << 3)]), rng.bytes(rng.int(0, 40))]);
      const built = messageFrames(rng, { binary: rng.chance(0.5), data: payload }, null, payload);
      built.frames[built.dataIndexes[0]!]!.rsv1 = true;
      plan.frames.push(...built.frames);
      return 1007;
    },
  },
  {
    name: 'compressed message that inflates past maxPayload',
    deflate: true,
    apply(rng, plan) {
      const bomb = deflateRawSync(Buffer.alloc(FUZZ_MAX_PAYLOAD + rng.int(1, 64 * 1024)), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
      const payload = bomb.subarray(0, bomb.length - 4);
      const built = messageFrames(rng, { binary: true, data: payload }, null, payload);
      built.frames[built.dataIndexes[0]!]!.rsv1 = true;
      plan.frames.push(...built.frames);
      return 1009;
    },
  },
  {
    name: 'frame length over maxPayload',
    apply(rng, plan) {
      const frame = dataFrame(rng.pick([0x1, 0x2]), Buffer.alloc(0), key(rng));
      frame.announcedLength = BigInt(FUZZ_MAX_PAYLOAD + rng.int(1, 1 << 20)) * (rng.chance(0.2) ? 1n << 20n : 1n);
      plan.frames.push(frame);
      return 1009;
    },
  },
  {
    name: 'fragments adding up past maxPayload',
    apply(rng, plan) {
      const piece = rng.bytes(24 * 1024);
      for (let sent = 0; sent <= FUZZ_MAX_PAYLOAD; sent += piece.length) {
        plan.frames.push(dataFrame(sent === 0 ? 0x2 : 0x0, piece, key(rng), false));
      }
      return 1009;
    },
  },
  {
    name: '64-bit length with its top bit set',
    apply(rng, plan) {
      const frame = dataFrame(0x2, Buffer.alloc(0), key(rng));
      frame.announcedLength = (1n << 63n) | BigInt(rng.int(0, 1 << 30));
      plan.frames.push(frame);
      return 1002;
    },
  },
];

const INVALID_UTF8 = [
  [0x80], // lone continuation byte
  [0xc0, 0x80], // overlong
  [0xed, 0xa0, 0x80], // surrogate
  [0xf4, 0x90, 0x80, 0x80], // past U+10FFFF
  [0xff],
  [0xe2, 0x82], // truncated at the end of the message
];

function invalidUtf8(rng: Prng): Buffer {
  return Buffer.from(rng.pick(INVALID_UTF8));
}

export function mutatedPlan(rng: Prng, deflate: ClientDeflate | null): Plan {
  const plan = emptyPlan('mutated');
  addMessages(rng, plan, deflate, rng.int(0, 12));
  const usable = mutations.filter((m) => m.deflate === undefined || m.deflate === (deflate !== null));
  // The costly 64 KiB cases rarely: they are about limits, not parsing.
  let mutation = rng.pick(usable);
  if (mutation.name === 'fragments adding up past maxPayload' && !rng.chance(0.1)) mutation = usable[0]!;
  plan.mutation = mutation.name;
  plan.closeCodes = [mutation.apply(rng, plan, deflate)];
  return plan;
}

export function randomPlan(rng: Prng): Plan {
  const plan = emptyPlan('random');
  const raw = rng.bytes(rng.int(1, 1500));
  // A leading close frame would be answered with its own (valid) code; keep the oracle simple.
  if ((raw[0]! & 0x0f) === 0x8) raw[0]! ^= 0x01;
  plan.raw = raw;
  plan.closeCodes = [1002, 1007, 1009];
  return plan;
}

/** The plan's bytes, in order. */
export function planBytes(plan: Plan): Buffer {
  return plan.raw ?? Buffer.concat(plan.frames.map(encodeWireFrame));
}

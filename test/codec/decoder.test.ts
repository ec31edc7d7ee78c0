import { isUtf8 } from 'node:buffer';
import fc from 'fast-check';
import { encodeClientFrame } from '../helpers/client-frames';
import { FRAGMENT_OVERHEAD, FrameDecoder, type DecoderOptions, type DecoderSink } from '../../src/codec/decoder';
import { Opcode } from '../../src/codec/opcodes';
import type { ProtocolError } from '../../src/errors';

type Event =
  | { type: 'message'; data: Buffer; isBinary: boolean; compressed: boolean }
  | { type: 'ping'; data: Buffer }
  | { type: 'pong'; data: Buffer }
  | { type: 'close'; code: number; reason: string }
  | { type: 'error'; err: ProtocolError };

/** A sink that records every event, in order; `afterMessage` runs inside onMessage. */
class Recorder implements DecoderSink {
  readonly events: Event[] = [];
  afterMessage: (() => void) | undefined;
  onMessage(data: Buffer, isBinary: boolean, compressed: boolean): void {
    this.events.push({ type: 'message', data, isBinary, compressed });
    this.afterMessage?.();
  }
  onPing(data: Buffer): void {
    this.events.push({ type: 'ping', data });
  }
  onPong(data: Buffer): void {
    this.events.push({ type: 'pong', data });
  }
  onClose(code: number, reason: string): void {
    this.events.push({ type: 'close', code, reason });
  }
  onError(err: ProtocolError): void {
    this.events.push({ type: 'error', err });
  }
  /** Events with buffers as strings, for readable equality checks. */
  get summary(): unknown[] {
    return this.events.map((e) => {
      if (e.type === 'message') return [e.isBinary ? 'binary' : 'text', e.data.toString('latin1'), ...(e.compressed ? ['compressed'] : [])];
      if (e.type === 'ping' || e.type === 'pong') return [e.type, e.data.toString('latin1')];
      if (e.type === 'close') return ['close', e.code, e.reason];
      return ['error', e.err.code, e.err.closeCode];
    });
  }
}

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
/** Mask key 00000000 keeps payload bytes readable in hex vectors. */
const K0 = '00000000';
const zeroKey = Uint8Array.of(0, 0, 0, 0);

function decode(input: Buffer | Buffer[], options: Partial<DecoderOptions> = {}): { rec: Recorder; decoder: FrameDecoder } {
  const rec = new Recorder();
  const decoder = new FrameDecoder(rec, { maxPayload: 0, ...options });
  for (const chunk of Array.isArray(input) ? input : [input]) decoder.push(chunk);
  return { rec, decoder };
}

/** Feed a copy of `bytes`, one byte per push. */
function decodeBytewise(bytes: Buffer, options: Partial<DecoderOptions> = {}): Recorder {
  const chunks: Buffer[] = [];
  for (const b of bytes) chunks.push(Buffer.of(b));
  return decode(chunks, options).rec;
}

describe('FrameDecoder: RFC 6455 §5.7 examples', () => {
  test('decodes a single-frame unmasked text message (client side)', () => {
    expect(decode(hex('81 05 48656c6c6f'), { expectMasked: false }).rec.summary).toEqual([['text', 'Hello']]);
  });

  test('decodes a single-frame masked text message (server side)', () => {
    expect(decode(hex('81 85 37fa213d 7f9f4d5158')).rec.summary).toEqual([['text', 'Hello']]);
  });

  test('reassembles the fragmented unmasked text message "Hel" + "lo"', () => {
    expect(decode([hex('01 03 48656c'), hex('80 02 6c6f')], { expectMasked: false }).rec.summary).toEqual([['text', 'Hello']]);
  });

  test('delivers an unmasked ping "Hello" and a masked pong "Hello"', () => {
    expect(decode(hex('89 05 48656c6c6f'), { expectMasked: false }).rec.summary).toEqual([['ping', 'Hello']]);
    expect(decode(hex('8a 85 37fa213d 7f9f4d5158')).rec.summary).toEqual([['pong', 'Hello']]);
  });

  test('reads the 16-bit length of a 256-byte binary message', () => {
    const payload = Buffer.alloc(256, 0x61);
    const { rec } = decode(Buffer.concat([hex('82 7e 0100'), payload]), { expectMasked: false });
    expect(rec.events).toHaveLength(1);
    expect(rec.events[0]).toMatchObject({ type: 'message', isBinary: true, data: payload });
  });

  test('reads the 64-bit length of a 64 KiB binary message', () => {
    const payload = Buffer.alloc(65536, 0x62);
    const { rec } = decode(Buffer.concat([hex('82 7f 0000000000010000'), payload]), { expectMasked: false });
    expect(rec.events).toHaveLength(1);
    expect(rec.events[0]).toMatchObject({ type: 'message', isBinary: true });
    expect((rec.events[0] as { data: Buffer }).data.equals(payload)).toBe(true);
  });
});

describe('FrameDecoder: protocol errors, each with its code and close code', () => {
  const cases: Array<[string, string, Partial<DecoderOptions>, string, number]> = [
    ['an unmasked client frame', '81 05 48656c6c6f', {}, 'WS_ERR_UNMASKED_FRAME', 1002],
    ['a masked server frame', '81 85 37fa213d 7f9f4d5158', { expectMasked: false }, 'WS_ERR_UNEXPECTED_MASK', 1002],
    ['RSV1 without a negotiated extension', `c1 80 ${K0}`, {}, 'WS_ERR_RESERVED_BITS', 1002],
    ['RSV2', `a1 80 ${K0}`, { perMessageDeflate: true }, 'WS_ERR_RESERVED_BITS', 1002],
    ['RSV3', `91 80 ${K0}`, { perMessageDeflate: true }, 'WS_ERR_RESERVED_BITS', 1002],
    ['RSV1 on a ping with permessage-deflate', `c9 80 ${K0}`, { perMessageDeflate: true }, 'WS_ERR_RSV1_ON_CONTROL', 1002],
    ['RSV1 on a continuation with permessage-deflate', `41 81 ${K0} 61 c0 81 ${K0} 62`, { perMessageDeflate: true }, 'WS_ERR_RSV1_ON_CONTINUATION', 1002],
    ...['3', '4', '5', '6', '7', 'b', 'c', 'd', 'e', 'f'].map(
      (op): [string, string, Partial<DecoderOptions>, string, number] => [`reserved opcode 0x${op}`, `8${op} 80 ${K0}`, {}, 'WS_ERR_UNKNOWN_OPCODE', 1002],
    ),
    ['a ping with FIN=0', `09 80 ${K0}`, {}, 'WS_ERR_FRAGMENTED_CONTROL', 1002],
    ['a close with FIN=0', `08 80 ${K0}`, {}, 'WS_ERR_FRAGMENTED_CONTROL', 1002],
    ['a ping with a 126-byte payload', `89 fe 007e ${K0}`, {}, 'WS_ERR_CONTROL_TOO_LONG', 1002],
    ['a continuation with no message to continue', `80 81 ${K0} 61`, {}, 'WS_ERR_UNEXPECTED_CONTINUATION', 1002],
    ['a text frame inside a fragmented message', `01 81 ${K0} 61 81 81 ${K0} 62`, {}, 'WS_ERR_EXPECTED_CONTINUATION', 1002],
    ['a binary frame inside a fragmented message', `02 81 ${K0} 61 82 81 ${K0} 62`, {}, 'WS_ERR_EXPECTED_CONTINUATION', 1002],
    ['a 64-bit length with its top bit set', '82 ff 8000000000000000', {}, 'WS_ERR_LENGTH_TOP_BIT', 1002],
    ['a 64-bit length over 2^53 - 1', '82 ff 0020000000000000', {}, 'WS_ERR_MESSAGE_TOO_BIG', 1009],
    ['a 17-byte frame with maxPayload 16', `82 91 ${K0}`, { maxPayload: 16 }, 'WS_ERR_MESSAGE_TOO_BIG', 1009],
    ['fragments totalling 17 bytes with maxPayload 16', `02 88 ${K0} 0000000000000000 80 89 ${K0}`, { maxPayload: 16 }, 'WS_ERR_MESSAGE_TOO_BIG', 1009],
    ['invalid UTF-8 in a text message', `81 81 ${K0} ff`, {}, 'WS_ERR_INVALID_UTF8', 1007],
    ['a surrogate in a text message', `81 83 ${K0} eda080`, {}, 'WS_ERR_INVALID_UTF8', 1007],
    ['a text message ending inside a UTF-8 sequence', `01 81 ${K0} e2 80 81 ${K0} 82`, {}, 'WS_ERR_INVALID_UTF8', 1007],
    ['a close frame with a 1-byte body', `88 81 ${K0} 03`, {}, 'WS_ERR_INVALID_CLOSE_PAYLOAD', 1002],
    ['a close frame with code 1005', `88 82 ${K0} 03ed`, {}, 'WS_ERR_INVALID_CLOSE_CODE', 1002],
    ['a close frame with code 999', `88 82 ${K0} 03e7`, {}, 'WS_ERR_INVALID_CLOSE_CODE', 1002],
    ['a close frame with code 5000', `88 82 ${K0} 1388`, {}, 'WS_ERR_INVALID_CLOSE_CODE', 1002],
    ['a close reason that is not UTF-8', `88 84 ${K0} 03e8 c0af`, {}, 'WS_ERR_INVALID_CLOSE_REASON', 1007],
  ];

  test.each(cases)('fails %s', (_name, frame, options, code, closeCode) => {
    for (const rec of [decode(hex(frame), options).rec, decodeBytewise(hex(frame), options)]) {
      expect(rec.events).toHaveLength(1);
      expect(rec.events[0]).toMatchObject({ type: 'error', err: { code, closeCode } });
    }
  });

  test('fails a too-big message from its header, before any payload byte arrives', () => {
    const { rec, decoder } = decode(hex(`82 ff 0000000001000000 ${K0}`), { maxPayload: 1024 * 1024 });
    expect(rec.summary).toEqual([['error', 'WS_ERR_MESSAGE_TOO_BIG', 1009]]);
    expect(decoder.bufferedAmount).toBe(0);
  });

  test('fails a length with its top bit set before the masking key arrives', () => {
    const { rec } = decode(hex('82 ff 8000000000000000'));
    expect(rec.summary).toEqual([['error', 'WS_ERR_LENGTH_TOP_BIT', 1002]]);
  });

  test('is dead after an error: it reports one error and ignores later input', () => {
    const { rec, decoder } = decode([hex(`81 81 ${K0} ff 81 81 ${K0} 61`)]);
    expect(decoder.dead).toBe(true);
    decoder.push(encodeClientFrame(Opcode.Text, 'later'));
    expect(rec.summary).toEqual([['error', 'WS_ERR_INVALID_UTF8', 1007]]);
    expect(decoder.bufferedAmount).toBe(0);
  });
});

describe('FrameDecoder: UTF-8 fails fast', () => {
  test('closes with 1007 when a fragmented text message has invalid UTF-8 in its second fragment, before its last fragment arrives', () => {
    const rec = new Recorder();
    const decoder = new FrameDecoder(rec, { maxPayload: 0 });
    decoder.push(encodeClientFrame(Opcode.Text, 'κόσμε', { fin: false }));
    expect(rec.events).toHaveLength(0);
    decoder.push(encodeClientFrame(Opcode.Continuation, hex('eda080'), { fin: false }));
    expect(rec.summary).toEqual([['error', 'WS_ERR_INVALID_UTF8', 1007]]);
  });

  test('closes with 1007 on the first invalid byte of a frame whose payload has not all arrived', () => {
    const frame = encodeClientFrame(Opcode.Text, Buffer.concat([Buffer.from('hello'), hex('f4908080'), Buffer.alloc(1000, 0x61)]));
    const rec = new Recorder();
    const decoder = new FrameDecoder(rec, { maxPayload: 0 });
    decoder.push(Buffer.from(frame.subarray(0, 8 + 6))); // header and 6 payload bytes: "hello" + F4
    expect(rec.events).toHaveLength(0);
    decoder.push(Buffer.from(frame.subarray(14, 15))); // 0x90: past U+10FFFF
    expect(rec.summary).toEqual([['error', 'WS_ERR_INVALID_UTF8', 1007]]);
  });

  test('validates a code point split across two fragments that also straddle chunks', () => {
    const euro = hex('e282ac');
    const stream = Buffer.concat([
      encodeClientFrame(Opcode.Text, euro.subarray(0, 1), { fin: false }),
      encodeClientFrame(Opcode.Continuation, euro.subarray(1)),
    ]);
    expect(decodeBytewise(stream).summary).toEqual([['text', Buffer.from('€').toString('latin1')]]);
  });

  test('does not validate compressed text: inflation happens above the decoder', () => {
    const { rec } = decode(encodeClientFrame(Opcode.Text, hex('ff'), { rsv1: true }), { perMessageDeflate: true });
    expect(rec.summary).toEqual([['text', '\xff', 'compressed']]);
  });
});

describe('FrameDecoder: delivery', () => {
  const stream = Buffer.concat([
    encodeClientFrame(Opcode.Text, 'first'),
    encodeClientFrame(Opcode.Binary, 'bi', { fin: false }),
    encodeClientFrame(Opcode.Ping, 'p'),
    encodeClientFrame(Opcode.Continuation, 'n', { fin: false }),
    encodeClientFrame(Opcode.Pong, ''),
    encodeClientFrame(Opcode.Continuation, 'ary'),
    encodeClientFrame(Opcode.Text, ''),
    encodeClientFrame(Opcode.Text, Buffer.alloc(300, 0x7a)),
    encodeClientFrame(Opcode.Close, Buffer.concat([hex('03e8'), Buffer.from('bye')])),
  ]);
  const expected = [
    ['text', 'first'],
    ['ping', 'p'],
    ['pong', ''],
    ['binary', 'binary'],
    ['text', ''],
    ['text', 'z'.repeat(300)],
    ['close', 1000, 'bye'],
  ];

  test('decodes many frames from one chunk, with control frames between fragments delivered at once', () => {
    expect(decode(Buffer.from(stream)).rec.summary).toEqual(expected);
  });

  test('decodes the same frames pushed one byte at a time', () => {
    expect(decodeBytewise(stream).summary).toEqual(expected);
  });

  test('reports a close frame without a body as 1005 and stops decoding after a close frame', () => {
    const { rec, decoder } = decode(Buffer.concat([encodeClientFrame(Opcode.Close, ''), encodeClientFrame(Opcode.Text, 'after')]));
    expect(rec.summary).toEqual([['close', 1005, '']]);
    expect(decoder.dead).toBe(true);
  });

  test('delivers a frame that sits whole in one chunk as a view into that chunk, without copying', () => {
    const chunk = Buffer.concat([encodeClientFrame(Opcode.Binary, 'abc'), encodeClientFrame(Opcode.Text, 'defg')]);
    const { rec } = decode(chunk);
    const [a, b] = rec.events as Array<{ data: Buffer }>;
    expect(a!.data.buffer).toBe(chunk.buffer);
    expect(a!.data.byteOffset).toBe(chunk.byteOffset + 6);
    expect(b!.data.buffer).toBe(chunk.buffer);
    expect(rec.summary).toEqual([['binary', 'abc'], ['text', 'defg']]);
  });

  test('holds only the bytes that arrived for a frame that claims 16 MiB', () => {
    const { rec, decoder } = decode(hex(`82 ff 0000000001000000 ${K0} 61`), { maxPayload: 32 * 1024 * 1024 });
    expect(rec.events).toHaveLength(0);
    expect(decoder.bufferedAmount).toBe(1);
  });

  test('unmasks with the right key phase when a masked payload straddles chunks at odd offsets', () => {
    const frame = encodeClientFrame(Opcode.Binary, Buffer.from('0123456789abcdefghij'), { key: Uint8Array.of(1, 2, 3, 4) });
    const { rec } = decode([frame.subarray(0, 7), frame.subarray(7, 12), frame.subarray(12, 13), frame.subarray(13)].map((b) => Buffer.from(b)));
    expect(rec.summary).toEqual([['binary', '0123456789abcdefghij']]);
  });

  test('marks a message whose first frame has RSV1 as compressed when permessage-deflate is on', () => {
    const frames = Buffer.concat([
      encodeClientFrame(Opcode.Binary, 'ab', { rsv1: true, fin: false }),
      encodeClientFrame(Opcode.Continuation, 'cd'),
      encodeClientFrame(Opcode.Binary, 'plain'),
    ]);
    expect(decode(frames, { perMessageDeflate: true }).rec.summary).toEqual([['binary', 'abcd', 'compressed'], ['binary', 'plain']]);
  });

  test('accepts a message of exactly maxPayload bytes in two fragments', () => {
    const frames = Buffer.concat([
      encodeClientFrame(Opcode.Binary, Buffer.alloc(10, 1), { fin: false }),
      encodeClientFrame(Opcode.Continuation, Buffer.alloc(6, 2)),
    ]);
    const { rec } = decode(frames, { maxPayload: 16 });
    expect(rec.events).toHaveLength(1);
    expect((rec.events[0] as { data: Buffer }).data.length).toBe(16);
  });

  test('counts maxPayload per message, not per connection', () => {
    const frames = Buffer.concat([encodeClientFrame(Opcode.Binary, Buffer.alloc(16)), encodeClientFrame(Opcode.Binary, Buffer.alloc(16))]);
    expect(decode(frames, { maxPayload: 16 }).rec.events.map((e) => e.type)).toEqual(['message', 'message']);
  });

  test('lets an exception from the sink escape push() without losing its place in the stream', () => {
    const rec = new Recorder();
    rec.afterMessage = () => {
      rec.afterMessage = undefined;
      throw new Error('handler bug');
    };
    const decoder = new FrameDecoder(rec, { maxPayload: 0 });
    expect(() => decoder.push(Buffer.concat([encodeClientFrame(Opcode.Text, 'a'), encodeClientFrame(Opcode.Text, 'b')]))).toThrow('handler bug');
    decoder.push(encodeClientFrame(Opcode.Text, 'c'));
    expect(rec.summary).toEqual([['text', 'a'], ['text', 'b'], ['text', 'c']]);
  });
});

describe('FrameDecoder: pause and resume', () => {
  test('pausing inside onMessage holds the rest until resume(), which delivers it synchronously', () => {
    const rec = new Recorder();
    const decoder = new FrameDecoder(rec, { maxPayload: 0 });
    rec.afterMessage = () => decoder.pause();
    const second = encodeClientFrame(Opcode.Text, 'two');
    decoder.push(Buffer.concat([encodeClientFrame(Opcode.Text, 'one'), second, encodeClientFrame(Opcode.Text, 'three')]));
    expect(rec.summary).toEqual([['text', 'one']]);
    expect(decoder.paused).toBe(true);
    expect(decoder.bufferedAmount).toBe(2 * second.length + 2);

    decoder.push(encodeClientFrame(Opcode.Ping, 'queued'));
    expect(rec.summary).toEqual([['text', 'one']]);

    decoder.resume();
    expect(rec.summary).toEqual([['text', 'one'], ['text', 'two']]);
    decoder.resume();
    decoder.resume();
    expect(rec.summary).toEqual([['text', 'one'], ['text', 'two'], ['text', 'three'], ['ping', 'queued']]);
    expect(decoder.bufferedAmount).toBe(0);
  });

  test('resume() called from inside a callback continues the same loop', () => {
    const rec = new Recorder();
    const decoder = new FrameDecoder(rec, { maxPayload: 0 });
    rec.afterMessage = () => {
      decoder.pause();
      decoder.resume();
    };
    decoder.push(Buffer.concat([encodeClientFrame(Opcode.Text, 'a'), encodeClientFrame(Opcode.Text, 'b')]));
    expect(rec.summary).toEqual([['text', 'a'], ['text', 'b']]);
    expect(decoder.paused).toBe(false);
  });

  test('resume() is a no-op when not paused or when dead', () => {
    const { rec, decoder } = decode(hex(`81 81 ${K0} ff`));
    decoder.resume();
    decoder.pause();
    decoder.resume();
    expect(rec.events).toHaveLength(1);
  });
});

describe('FrameDecoder: fragment budget', () => {
  test(`charges ${FRAGMENT_OVERHEAD} bytes per fragment yet accepts 65,537 fragments of 64 bytes with maxPayload 16 MiB`, () => {
    const count = 65537;
    const fragment = encodeClientFrame(Opcode.Continuation, Buffer.alloc(64, 0x61), { fin: false, key: zeroKey });
    const stream = Buffer.allocUnsafe(count * fragment.length);
    for (let i = 0; i < count; i++) fragment.copy(stream, i * fragment.length);
    stream[0] = Opcode.Text; // the first fragment opens the message
    stream[(count - 1) * fragment.length] = 0x80; // the last one has FIN
    const { rec } = decode(stream, { maxPayload: 16 * 1024 * 1024 });
    expect(rec.events).toHaveLength(1);
    expect(rec.events[0]).toMatchObject({ type: 'message', isBinary: false });
    expect((rec.events[0] as { data: Buffer }).data.length).toBe(count * 64);
  });

  test('ends a flood of 10 million empty continuation frames with 1009 WS_ERR_TOO_MANY_FRAGMENTS, holding no memory', () => {
    const rec = new Recorder();
    const decoder = new FrameDecoder(rec, { maxPayload: 1024 * 1024 });
    decoder.push(encodeClientFrame(Opcode.Binary, '', { fin: false }));
    const batchSize = 10_000;
    const empty = encodeClientFrame(Opcode.Continuation, '', { fin: false });
    const batch = Buffer.concat(Array.from({ length: batchSize }, () => empty));
    let maxHeld = 0;
    for (let sent = 0; sent < 10_000_000 && !decoder.dead; sent += batchSize) {
      decoder.push(Buffer.from(batch));
      maxHeld = Math.max(maxHeld, decoder.bufferedAmount);
    }
    expect(rec.summary).toEqual([['error', 'WS_ERR_TOO_MANY_FRAGMENTS', 1009]]);
    expect(maxHeld).toBe(0);
  });
});

describe('FrameDecoder: fragment limit', () => {
  test('an explicit maxFragments overrides the fragment budget', () => {
    const rec = new Recorder();
    const decoder = new FrameDecoder(rec, { maxPayload: 16 * 1024 * 1024, maxFragments: 3 });
    decoder.push(encodeClientFrame(Opcode.Binary, 'a', { fin: false }));
    for (let i = 0; i < 3; i++) decoder.push(encodeClientFrame(Opcode.Continuation, 'b', { fin: false }));
    expect(rec.summary).toEqual([['error', 'WS_ERR_TOO_MANY_FRAGMENTS', 1009]]);
  });
});

// --- properties ---------------------------------------------------------------

type Msg = { kind: 'text'; text: string } | { kind: 'binary'; data: Uint8Array } | { kind: 'ping'; data: Uint8Array };

const arbMessage: fc.Arbitrary<{ msg: Msg; sizes: number[]; pings: boolean[] }> = fc.record({
  msg: fc.oneof(
    fc.record({ kind: fc.constant('text' as const), text: fc.string({ unit: 'binary', maxLength: 60 }) }),
    fc.record({ kind: fc.constant('binary' as const), data: fc.uint8Array({ maxLength: 300 }) }),
    fc.record({ kind: fc.constant('ping' as const), data: fc.uint8Array({ maxLength: 125 }) }),
  ),
  sizes: fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 5 }),
  pings: fc.array(fc.boolean(), { maxLength: 5 }),
});

/** Encode one message as client frames, fragmented at `sizes`, with pings between fragments where `pings` says. */
function framesOf({ msg, sizes, pings }: { msg: Msg; sizes: number[]; pings: boolean[] }, key: Uint8Array): { frames: Buffer[]; expected: unknown[] } {
  if (msg.kind === 'ping') {
    return { frames: [encodeClientFrame(Opcode.Ping, Buffer.from(msg.data), { key })], expected: [['ping', Buffer.from(msg.data).toString('latin1')]] };
  }
  const payload = msg.kind === 'text' ? Buffer.from(msg.text) : Buffer.from(msg.data);
  const frames: Buffer[] = [];
  const expected: unknown[] = [];
  let start = 0;
  let i = 0;
  do {
    const end = i < sizes.length ? Math.min(payload.length, start + sizes[i]!) : payload.length;
    const fin = end === payload.length;
    frames.push(encodeClientFrame(start === 0 ? (msg.kind === 'text' ? Opcode.Text : Opcode.Binary) : Opcode.Continuation, payload.subarray(start, end), { fin, key }));
    if (!fin && pings[i]) {
      frames.push(encodeClientFrame(Opcode.Ping, `p${i}`, { key }));
      expected.push(['ping', `p${i}`]);
    }
    start = end;
    i++;
  } while (start < payload.length);
  expected.push([msg.kind, payload.toString('latin1')]);
  return { frames, expected };
}

/** Cut `stream` at `cuts` into copies (the decoder unmasks in place). */
function chunked(stream: Buffer, cuts: number[]): Buffer[] {
  const points = [0, ...cuts.map((c) => c % (stream.length + 1)).sort((a, b) => a - b), stream.length];
  const out: Buffer[] = [];
  for (let i = 1; i < points.length; i++) out.push(Buffer.from(stream.subarray(points[i - 1], points[i])));
  return out;
}

describe('FrameDecoder: properties', () => {
  test('decodes any sequence of fragmented messages with interleaved pings, split at any chunk boundaries', () => {
    fc.assert(
      fc.property(
        fc.array(arbMessage, { maxLength: 8 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (messages, key, cuts) => {
          const frames: Buffer[] = [];
          const expected: unknown[] = [];
          for (const m of messages) {
            const encoded = framesOf(m, key);
            frames.push(...encoded.frames);
            expected.push(...encoded.expected);
          }
          const { rec, decoder } = decode(chunked(Buffer.concat(frames), cuts), { maxPayload: 1024 });
          expect(rec.summary).toEqual(expected);
          expect(decoder.bufferedAmount).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  // Valid frames with a few bytes overwritten reach deeper than random bytes alone.
  const arbInput = fc.oneof(
    fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
    fc
      .tuple(fc.array(arbMessage, { minLength: 1, maxLength: 4 }), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 3 }))
      .map(([messages, edits]) => {
        const stream = Buffer.concat(messages.flatMap((m) => framesOf(m, zeroKey).frames));
        for (const [at, byte] of edits) stream[at % stream.length] = byte;
        return stream;
      }),
  );

  test('never throws out of push() on arbitrary bytes in arbitrary chunks, and reports at most one error, last, with 1002, 1007 or 1009', () => {
    fc.assert(
      fc.property(
        arbInput,
        fc.array(fc.nat(), { maxLength: 20 }),
        fc.record({ maxPayload: fc.constantFrom(0, 16, 200), expectMasked: fc.boolean(), perMessageDeflate: fc.boolean() }),
        (stream, cuts, options) => {
          const rec = new Recorder();
          const decoder = new FrameDecoder(rec, options);
          for (const chunk of chunked(stream, cuts)) expect(() => decoder.push(chunk)).not.toThrow();
          const errors = rec.events.filter((e) => e.type === 'error');
          expect(errors.length).toBeLessThanOrEqual(1);
          if (errors.length === 1) {
            expect(rec.events[rec.events.length - 1]!.type).toBe('error');
            expect([1002, 1007, 1009]).toContain(errors[0]!.err.closeCode);
            expect(decoder.dead).toBe(true);
          }
          for (const e of rec.events) if (e.type === 'message' && !e.isBinary && !e.compressed) expect(isUtf8(e.data)).toBe(true);
        },
      ),
      { numRuns: 500 },
    );
  });
});

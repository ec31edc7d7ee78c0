import { buildFrame } from '../../src/testing/build-frame';
import { FrameReader, FrameSizeError } from '../../src/testing/frame-reader';

/** Bytes copied by Buffer.concat while `run` runs. */
function bytesJoined(run: () => void): number {
  const concat = Buffer.concat;
  let copied = 0;
  const spy = jest.spyOn(Buffer, 'concat').mockImplementation((list, totalLength) => {
    const joined = concat(list, totalLength);
    copied += joined.length;
    return joined;
  });
  try {
    run();
  } finally {
    spy.mockRestore();
  }
  return copied;
}

test('a 64 KiB frame read in 7-byte chunks is joined once, not once per chunk', () => {
  const payload = Buffer.alloc(64 * 1024, 0x61);
  const frame = buildFrame({ opcode: 0x2, payload, mask: false });
  const reader = new FrameReader(1024 * 1024);
  const received: Array<{ opcode: number; payload: Buffer }> = [];
  const copied = bytesJoined(() => {
    for (let i = 0; i < frame.length; i += 7) received.push(...reader.push(frame.subarray(i, i + 7)));
  });
  expect(received).toHaveLength(1);
  expect(received[0]!.opcode).toBe(0x2);
  expect(received[0]!.payload.equals(payload)).toBe(true);
  // The whole frame once, plus a 14-byte header peek per chunk until the header is complete.
  // Joining every chunk so far on each push copied 307 MB here (quadratic in the chunks).
  expect(copied).toBeLessThan(frame.length + 1024);
});

test('frames split across chunks and several frames in one chunk come out whole and in order', () => {
  const frames = [
    buildFrame({ opcode: 0x1, payload: 'first', mask: false }),
    buildFrame({ opcode: 0x2, payload: Buffer.alloc(300, 7), mask: false }),
    buildFrame({ opcode: 0x9, payload: 'ping', mask: Uint8Array.of(1, 2, 3, 4) }),
  ];
  const bytes = Buffer.concat(frames);
  const reader = new FrameReader(1024);
  const received = [
    ...reader.push(bytes.subarray(0, 1)),
    ...reader.push(bytes.subarray(1, 3)),
    ...reader.push(bytes.subarray(3, 200)),
    ...reader.push(bytes.subarray(200)),
  ];
  expect(received.map((f) => f.opcode)).toEqual([0x1, 0x2, 0x9]);
  expect(received[0]!.payload.toString()).toBe('first');
  expect(received[1]!.payload.equals(Buffer.alloc(300, 7))).toBe(true);
  expect(received[2]!.masked).toBe(true);
  expect(received[2]!.payload.toString()).toBe('ping');
  expect(received[2]!.bytes.equals(frames[2]!)).toBe(true);
});

test('a frame announced over the limit is refused from its header, before its payload arrives', () => {
  const reader = new FrameReader(100);
  const header = buildFrame({ opcode: 0x2, announcedLength: 101, mask: false });
  expect(() => reader.push(header)).toThrow(FrameSizeError);
});

import fc from 'fast-check';
import { decodeFrame, encodeFrame, isFromNode, NODE_ID_LENGTH } from '../../src/pubsub/redis-frame';

const nodeId = Buffer.from('00112233445566778899aabbccddeeff', 'hex');

describe('Redis adapter frame', () => {
  it('encodes version, flags, node id, topic length, topic and payload, in that order', () => {
    const frame = encodeFrame(nodeId, 'room:é', Buffer.from('hi'), false);
    expect(frame.toString('hex')).toBe(
      '01' + // version 1
        '00' + // flags: text
        '00112233445566778899aabbccddeeff' + // node id
        '00000007' + // topic length: "room:é" is 7 bytes of UTF-8
        Buffer.from('room:é').toString('hex') +
        '6869', // "hi"
    );
  });

  it('sets flag bit 0 for a binary message', () => {
    const frame = encodeFrame(nodeId, 't', Buffer.from([0xff, 0x00]), true);
    expect(frame[1]).toBe(0x01);
    expect(decodeFrame(frame)).toEqual({ nodeId, isBinary: true, topic: 't', data: Buffer.from([0xff, 0x00]) });
  });

  it('round-trips an empty topic and an empty payload', () => {
    expect(decodeFrame(encodeFrame(nodeId, '', Buffer.alloc(0), false))).toEqual({
      nodeId,
      isBinary: false,
      topic: '',
      data: Buffer.alloc(0),
    });
  });

  it('round-trips any topic, payload and flag', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.string({ unit: 'grapheme' }), fc.uint8Array(), fc.boolean(), (id, topic, data, isBinary) => {
        const decoded = decodeFrame(encodeFrame(Buffer.from(id), topic, Buffer.from(data), isBinary));
        expect(decoded).toEqual({ nodeId: Buffer.from(id), isBinary, topic, data: Buffer.from(data) });
      }),
    );
  });

  it('hands out the payload as a view into the frame, not a copy', () => {
    const frame = encodeFrame(nodeId, 't', Buffer.from('abc'), false);
    expect(decodeFrame(frame)!.data.buffer).toBe(frame.buffer);
  });

  it('rejects bytes that are not a version-1 frame', () => {
    const good = encodeFrame(nodeId, 'topic', Buffer.from('x'), false);
    expect(decodeFrame(Buffer.from('hello, not a frame'))).toBeUndefined();
    expect(decodeFrame(good.subarray(0, 21))).toBeUndefined(); // shorter than the header
    expect(decodeFrame(Buffer.concat([Buffer.from([2]), good.subarray(1)]))).toBeUndefined(); // version 2
    const flags = Buffer.from(good);
    flags[1] = 0x02; // unknown flag
    expect(decodeFrame(flags)).toBeUndefined();
    const longTopic = Buffer.from(good);
    longTopic.writeUInt32BE(1000, 2 + NODE_ID_LENGTH); // topic runs past the end
    expect(decodeFrame(longTopic)).toBeUndefined();
  });

  it('recognises its own node id without decoding', () => {
    const frame = encodeFrame(nodeId, 't', Buffer.from('x'), false);
    expect(isFromNode(frame, nodeId)).toBe(true);
    expect(isFromNode(frame, Buffer.alloc(16))).toBe(false);
    expect(isFromNode(Buffer.alloc(4), nodeId)).toBe(false);
  });

  it('refuses a node id of the wrong length', () => {
    expect(() => encodeFrame(Buffer.alloc(8), 't', Buffer.alloc(0), false)).toThrow(RangeError);
  });
});

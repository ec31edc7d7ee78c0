/**
 * The wire format of one cross-node publish, as the Redis adapter puts it on
 * the Redis channel `prefix + topic`. Pure: no Redis, no sockets.
 *
 * ```
 * offset  size  field
 * 0       1     version (1)
 * 1       1     flags: bit 0 = binary message, other bits 0
 * 2       16    publishing node's id (random per adapter)
 * 18      4     topic length T in bytes, unsigned big-endian
 * 22      T     topic, UTF-8
 * 22+T    …     message payload, as published
 * ```
 *
 * The topic travels with the payload (not only in the channel name) so a frame
 * is self-describing: a node can check it against the channel it arrived on.
 */

export const FRAME_VERSION = 1;
export const NODE_ID_LENGTH = 16;
const FLAG_BINARY = 0x01;
const HEADER_LENGTH = 2 + NODE_ID_LENGTH + 4;

export interface RedisFrame {
  nodeId: Buffer;
  isBinary: boolean;
  topic: string;
  /** A view into the frame buffer, not a copy. */
  data: Buffer;
}

/** Encode one publish into a single Buffer (one allocation, one payload copy). */
export function encodeFrame(nodeId: Buffer, topic: string, data: Buffer, isBinary: boolean): Buffer {
  if (nodeId.length !== NODE_ID_LENGTH) throw new RangeError(`node id must be ${NODE_ID_LENGTH} bytes`);
  const topicLength = Buffer.byteLength(topic);
  const frame = Buffer.allocUnsafe(HEADER_LENGTH + topicLength + data.length);
  frame[0] = FRAME_VERSION;
  frame[1] = isBinary ? FLAG_BINARY : 0;
  nodeId.copy(frame, 2);
  frame.writeUInt32BE(topicLength, 2 + NODE_ID_LENGTH);
  frame.write(topic, HEADER_LENGTH, topicLength, 'utf8');
  data.copy(frame, HEADER_LENGTH + topicLength);
  return frame;
}

/**
 * Decode a frame; `undefined` if the bytes are not a frame this version
 * understands (a foreign publisher on the same channel, a newer version).
 */
export function decodeFrame(frame: Buffer): RedisFrame | undefined {
  if (frame.length < HEADER_LENGTH || frame[0] !== FRAME_VERSION || (frame[1]! & ~FLAG_BINARY) !== 0) return undefined;
  const topicLength = frame.readUInt32BE(2 + NODE_ID_LENGTH);
  const dataStart = HEADER_LENGTH + topicLength;
  if (dataStart > frame.length) return undefined;
  return {
    nodeId: frame.subarray(2, 2 + NODE_ID_LENGTH),
    isBinary: (frame[1]! & FLAG_BINARY) !== 0,
    topic: frame.toString('utf8', HEADER_LENGTH, dataStart),
    data: frame.subarray(dataStart),
  };
}

/** Whether `frame` was published by `nodeId`, without decoding the rest. */
export function isFromNode(frame: Buffer, nodeId: Buffer): boolean {
  return frame.length >= HEADER_LENGTH && frame.compare(nodeId, 0, NODE_ID_LENGTH, 2, 2 + NODE_ID_LENGTH) === 0;
}

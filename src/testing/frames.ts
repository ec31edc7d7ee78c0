/**
 * Raw frames in the chain's words: how `sendFrame` specs and received
 * frames are shown in step labels and failure messages, and how
 * `expectFrame` compares a frame with what the test expects.
 */
import { describeBytes, describeText, describeValue } from './describe';
import type { ReceivedFrame } from './frame-reader';
import { bytesEqual, runPredicate } from './match';
import type { FrameSpec } from './test-client';

/** A raw frame's expected fields (those given are checked), or a predicate over the frame. */
export type FrameExpectation =
  | {
      opcode?: number;
      fin?: boolean;
      rsv1?: boolean;
      rsv2?: boolean;
      rsv3?: boolean;
      masked?: boolean;
      payload?: string | Uint8Array | RegExp | ((payload: Buffer) => boolean | void);
    }
  | ((frame: ReceivedFrame) => boolean | void);

const OPCODE_NAMES: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

function describeOpcode(opcode: number): string {
  return `0x${opcode.toString(16)}${OPCODE_NAMES[opcode] === undefined ? '' : ` (${OPCODE_NAMES[opcode]})`}`;
}

export function describePayload(payload: Buffer): string {
  return payload.length > 0 && isPrintable(payload) ? `${describeText(payload.toString('utf8'))} ${describeBytes(payload)}` : describeBytes(payload);
}

function isPrintable(bytes: Buffer): boolean {
  for (const byte of bytes) if (byte < 0x20 || byte > 0x7e) return false;
  return true;
}

export function describeFrame(frame: ReceivedFrame): string {
  const rsv = `${+frame.rsv1}${+frame.rsv2}${+frame.rsv3}`;
  return `a frame fin=${+frame.fin} rsv=${rsv} opcode=${describeOpcode(frame.opcode)}${frame.masked ? ' masked' : ''} payload ${describePayload(frame.payload)}`;
}

export function describeFrameSpec(spec: FrameSpec): string {
  const fields = [`opcode: ${describeOpcode(spec.opcode)}`];
  if (spec.fin === false) fields.push('fin: false');
  for (const bit of ['rsv1', 'rsv2', 'rsv3'] as const) if (spec[bit] === true) fields.push(`${bit}: true`);
  if (spec.mask === false) fields.push('mask: false');
  if (spec.payload !== undefined) fields.push(`payload: ${describeValue(spec.payload)}`);
  return `{ ${fields.join(', ')} }`;
}

export function describeFrameFields(expected: Exclude<FrameExpectation, (frame: ReceivedFrame) => boolean | void>): string {
  const fields: string[] = [];
  if (expected.opcode !== undefined) fields.push(`opcode=${describeOpcode(expected.opcode)}`);
  for (const field of ['fin', 'rsv1', 'rsv2', 'rsv3', 'masked'] as const) {
    if (expected[field] !== undefined) fields.push(`${field}=${+expected[field]!}`);
  }
  if (expected.payload !== undefined) fields.push(`payload ${describeValue(expected.payload)}`);
  return fields.length === 0 ? 'any fields' : fields.join(' ');
}

/** Null when the frame matches; '' for a plain mismatch, else a predicate's reason. */
export function checkFrame(expected: FrameExpectation, frame: ReceivedFrame): string | null {
  if (typeof expected === 'function') return runPredicate(expected, frame);
  for (const field of ['opcode', 'fin', 'rsv1', 'rsv2', 'rsv3', 'masked'] as const) {
    if (expected[field] !== undefined && expected[field] !== frame[field]) return '';
  }
  const payload = expected.payload;
  if (payload === undefined) return null;
  if (typeof payload === 'function') return runPredicate(payload, frame.payload);
  if (payload instanceof RegExp) return payload.test(frame.payload.toString('utf8')) ? null : '';
  return bytesEqual(typeof payload === 'string' ? Buffer.from(payload) : payload, frame.payload) ? null : '';
}

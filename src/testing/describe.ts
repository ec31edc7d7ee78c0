/**
 * How failure messages show values: short, one line, and unambiguous (text
 * quoted, bytes in hex), so "expected X, got Y" can be read at a glance.
 */
import { inspect } from 'node:util';

const MAX_TEXT = 200;
const MAX_BYTES = 32;

/** A received or expected text: quoted, cut to 200 characters. */
export function describeText(text: string): string {
  const quoted = JSON.stringify(text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text);
  return text.length > MAX_TEXT ? `${quoted}… (${text.length} characters)` : quoted;
}

/** Bytes in hex, the first 32 of them. */
export function describeBytes(bytes: Uint8Array): string {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hex = view.subarray(0, MAX_BYTES).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  const more = view.length > MAX_BYTES ? ' …' : '';
  return `<${hex}${more}> (${view.length} byte${view.length === 1 ? '' : 's'})`;
}

/** Any expected value: a RegExp as written, a function by name, data inspected on one line. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return describeText(value);
  if (value instanceof RegExp) return String(value);
  if (typeof value === 'function') return value.name ? `[predicate ${value.name}]` : '[predicate]';
  if (value instanceof Uint8Array) return describeBytes(value);
  if (isAsymmetricMatcher(value)) return typeof value.toString === 'function' ? String(value) : 'asymmetric matcher';
  return inspect(value, { depth: 6, breakLength: Infinity, maxStringLength: MAX_TEXT, maxArrayLength: 20 });
}

/** What a received message was, for "got …". */
export function describeMessage(data: Buffer, isBinary: boolean): string {
  return isBinary ? `a binary message ${describeBytes(data)}` : `a text message ${describeText(data.toString('utf8'))}`;
}

/** A close code and its reason, for "the server closed the connection with …". */
export function describeClose(code: number, reason: string): string {
  return reason === '' ? `${code}` : `${code} ${describeText(reason)}`;
}

/** Jest's and Vitest's `expect.objectContaining(...)` and friends. */
export interface AsymmetricMatcher {
  asymmetricMatch(other: unknown): boolean;
}

export function isAsymmetricMatcher(value: unknown): value is AsymmetricMatcher {
  return (
    typeof value === 'object' && value !== null && typeof (value as Partial<AsymmetricMatcher>).asymmetricMatch === 'function'
  );
}

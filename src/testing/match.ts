/**
 * The matching rules of the expectations: exact or deep equality, a RegExp
 * for text, a predicate, and the asymmetric matchers of Jest and Vitest
 * (`expect.objectContaining`, `expect.any(String)`) anywhere in a value —
 * without depending on either framework.
 */
import { isAsymmetricMatcher } from './describe';

/**
 * A predicate passes unless it returns false or throws (so it may use the
 * framework's own `expect` inside). Returns null on a pass, else why not.
 */
export function runPredicate<T>(predicate: (value: T) => boolean | void, value: T): string | null {
  let result: boolean | void;
  try {
    result = predicate(value);
  } catch (err) {
    return `the predicate threw: ${err instanceof Error ? err.message : String(err)}`;
  }
  return result === false ? 'the predicate returned false' : null;
}

/** Deep equality where an asymmetric matcher at any depth decides for its subtree. */
export function deepMatch(expected: unknown, actual: unknown): boolean {
  if (isAsymmetricMatcher(expected)) return expected.asymmetricMatch(actual);
  if (Object.is(expected, actual)) return true;
  if (typeof expected !== 'object' || expected === null || typeof actual !== 'object' || actual === null) return false;
  if (expected instanceof Uint8Array || actual instanceof Uint8Array) {
    return expected instanceof Uint8Array && actual instanceof Uint8Array && Buffer.from(expected).equals(Buffer.from(actual));
  }
  if (Array.isArray(expected) !== Array.isArray(actual)) return false;
  if (Array.isArray(expected)) {
    const list = actual as unknown[];
    return expected.length === list.length && expected.every((item, i) => deepMatch(item, list[i]));
  }
  const want = expected as Record<string, unknown>;
  const have = actual as Record<string, unknown>;
  const keys = Object.keys(want);
  if (keys.length !== Object.keys(have).length) return false;
  return keys.every((key) => Object.prototype.hasOwnProperty.call(have, key) && deepMatch(want[key], have[key]));
}

/** Bytes equal to an array of numbers, a Uint8Array or a Buffer. */
export function bytesEqual(expected: Uint8Array | readonly number[], actual: Uint8Array): boolean {
  return Buffer.from(expected as Uint8Array).equals(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength));
}

/**
 * permessage-deflate (RFC 7692): the server's options, the parameters a
 * negotiation agreed on, and the small rules both the negotiation and the
 * compressor need (defaults, validation, how a window size maps onto zlib).
 */
import { constants as zlibConstants } from 'node:zlib';
import { codedError } from '../errors';

/** What the server is willing to do; every field is optional. */
export interface PerMessageDeflateOptions {
  /** Bytes; smaller messages are sent uncompressed (default 1024). */
  threshold?: number;
  /** zlib level, -1..9 (default `Z_DEFAULT_COMPRESSION`, i.e. 6, as `ws` uses: same ratio, fair benchmarks). */
  level?: number;
  /** zlib memLevel, 1..9 (default 8). */
  memLevel?: number;
  /**
   * Reset the server's compression context between messages. `attachWs`
   * defaults it to true (a connection then holds no deflate stream of its
   * own); `false` opts in to context takeover: better ratios for similar
   * messages, at ~330 KiB of zlib state per connection that was sent a
   * compressed message. The pure codec's own default stays false.
   */
  serverNoContextTakeover?: boolean;
  /** Always ask the client to reset its compression context between messages. */
  clientNoContextTakeover?: boolean;
  /** Largest LZ77 window (log2, 8..15) the server compresses with. */
  serverMaxWindowBits?: number;
  /**
   * Largest LZ77 window (log2, 8..15) the server will inflate a client's
   * messages with. An offer without `client_max_window_bits` cannot be told
   * this limit (RFC 7692 §7.1.2.2), so such an offer is declined.
   */
  clientMaxWindowBits?: number;
  /** Concurrent zlib jobs process-wide (default 10), shared by every instance with the same limit. */
  concurrencyLimit?: number;
}

/** What a negotiation agreed on. Window bits are 8..15 (15 when not negotiated). */
export interface DeflateParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number;
  clientMaxWindowBits: number;
}

/** Options with every default filled in and every value checked. */
export interface ResolvedDeflateOptions {
  readonly threshold: number;
  readonly level: number;
  readonly memLevel: number;
  readonly serverNoContextTakeover: boolean;
  readonly clientNoContextTakeover: boolean;
  readonly serverMaxWindowBits: number | undefined;
  readonly clientMaxWindowBits: number | undefined;
  readonly concurrencyLimit: number;
}

export const DEFAULT_THRESHOLD = 1024;
export const DEFAULT_MEM_LEVEL = 8;
export const DEFAULT_CONCURRENCY_LIMIT = 10;
/** RFC 7692 §7.1.2: without a negotiated limit the window is 2^15 bytes. */
export const MAX_WINDOW_BITS = 15;
export const MIN_WINDOW_BITS = 8;

/**
 * Fill in defaults and reject nonsense early (a RangeError at configuration
 * time, not a failed handshake per connection).
 */
export function resolveDeflateOptions(options: PerMessageDeflateOptions): ResolvedDeflateOptions {
  return {
    threshold: checkInteger('threshold', options.threshold ?? DEFAULT_THRESHOLD, 0, Number.MAX_SAFE_INTEGER),
    level: checkInteger('level', options.level ?? zlibConstants.Z_DEFAULT_COMPRESSION, -1, 9),
    memLevel: checkInteger('memLevel', options.memLevel ?? DEFAULT_MEM_LEVEL, 1, 9),
    serverNoContextTakeover: options.serverNoContextTakeover === true,
    clientNoContextTakeover: options.clientNoContextTakeover === true,
    serverMaxWindowBits: optionalWindowBits('serverMaxWindowBits', options.serverMaxWindowBits),
    clientMaxWindowBits: optionalWindowBits('clientMaxWindowBits', options.clientMaxWindowBits),
    concurrencyLimit: checkInteger('concurrencyLimit', options.concurrencyLimit ?? DEFAULT_CONCURRENCY_LIMIT, 1, Number.MAX_SAFE_INTEGER),
  };
}

/**
 * The windowBits handed to zlib for a negotiated window size.
 *
 * zlib cannot make a 256-byte (8-bit) raw deflate window and Node silently
 * uses 9 instead. That still honours a negotiated 8 (RFC 7692 §7.1.2.1: the
 * sender MUST NOT use a bigger window than agreed): zlib never emits a match
 * more than w_size - MIN_LOOKAHEAD = 512 - 262 = 250 bytes back, so its output
 * decodes with a 256-byte window. Inflating with 9 accepts that output too.
 */
export function zlibWindowBits(negotiated: number): number {
  return Math.max(negotiated, 9);
}

function optionalWindowBits(name: string, value: number | undefined): number | undefined {
  return value === undefined ? undefined : checkInteger(name, value, MIN_WINDOW_BITS, MAX_WINDOW_BITS);
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw codedError(RangeError, 'WS_ERR_INVALID_OPTION', `perMessageDeflate.${name} must be an integer in ${min}..${max}, got ${String(value)}`);
  }
  return value;
}

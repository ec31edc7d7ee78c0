/** What happens to a topic subscriber whose send buffer is over its limit. */
export type BackpressurePolicy = 'skip' | 'close';

/** Per-connection settings, resolved once per server (and route) and shared. */
export interface SocketOptions {
  /** Largest message accepted, in bytes after inflation (1009 above). */
  readonly maxPayload: number;
  /** `send()` returns false once `bufferedAmount` passes this; `drain` follows. */
  readonly highWaterMark: number;
  /** How long a close handshake may take before the TCP connection is dropped. */
  readonly closeTimeoutMs: number;
  /** Bytes held for a handler that has not listened yet before reading pauses. */
  readonly maxHeldBytes: number;
  /** Split outgoing messages into frames of at most this many bytes (0: never). */
  readonly fragmentSize: number;
  /** Topic publishes skip (or close, 1008) a subscriber buffering more than this. */
  readonly maxBackpressure: number;
  readonly backpressurePolicy: BackpressurePolicy;
  /**
   * Most bytes `send()` buffers for a peer that does not read; a send past it
   * closes the connection with 1008 (its callback gets WS_ERR_SEND_LIMIT). A
   * single message on an otherwise empty buffer is always accepted.
   */
  readonly maxBufferedAmount: number;
  /** Most frames in one incoming message (1009 above). */
  readonly maxFragments: number;
  /** Most messages held for a handler, or queued for a `for await` loop, before reading pauses. */
  readonly maxHeldMessages: number;
  /** Close (1000) a connection from which no message arrived for this long (0: never). */
  readonly idleTimeoutMs: number;
}

/** Bytes charged per held or iterator-queued message on top of its length (its bookkeeping). */
export const HELD_MESSAGE_OVERHEAD = 64;

/**
 * Bytes charged per outgoing message not yet handed to the kernel (in the
 * socket's buffer, or queued behind a pending compression), on top of its
 * length, against highWaterMark, maxBufferedAmount and the topic backpressure
 * limit. What such a message really holds besides its bytes, measured with
 * empty messages: about 150 B of heap in the socket's buffer (its chunk entry
 * and frame header) and 220 B queued behind a compression; 256 covers both,
 * so maxBufferedAmount bounds the heap a peer that does not read can make us
 * hold, not only the payload bytes. Topic deliveries are charged by the
 * delivery budget instead, once in the socket's buffer.
 */
export const QUEUED_MESSAGE_OVERHEAD = 256;

export const defaultSocketOptions: SocketOptions = {
  maxPayload: 16 * 1024 * 1024,
  highWaterMark: 64 * 1024,
  closeTimeoutMs: 10_000,
  maxHeldBytes: 1024 * 1024,
  fragmentSize: 0,
  maxBackpressure: 4 * 1024 * 1024,
  backpressurePolicy: 'skip',
  maxBufferedAmount: 16 * 1024 * 1024,
  maxFragments: 131_072,
  maxHeldMessages: 1024,
  idleTimeoutMs: 0,
};

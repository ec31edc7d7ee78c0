/**
 * How topics reach other processes. The server delivers every publish to its
 * own subscribers itself, then hands it to the adapter; the adapter carries it
 * to the other nodes and calls `deliver` there. A node must never get its own
 * publish back through the adapter (that would deliver twice).
 */
export interface PubSubAdapter {
  /** Called once by the server before any other method. */
  attach(hooks: AdapterHooks): void;
  /** The first local subscriber of `topic` appeared: start receiving it. */
  subscribe(topic: string): void;
  /** The last local subscriber of `topic` left. */
  unsubscribe(topic: string): void;
  /** Carry a local publish to every other node, in publish order. */
  publish(topic: string, data: Buffer, isBinary: boolean): void;
  /** Stop: unsubscribe, quit connections. Resolves when nothing is left open. */
  close(): Promise<void>;
  /**
   * Optional, reported in `stats().delivery`: times the inbound connection
   * was lost after it had been receiving (each a gap in which other nodes'
   * messages were missed), and local publishes not carried to other nodes.
   */
  readonly gaps?: number;
  readonly dropped?: number;
}

export interface AdapterHooks {
  /** Deliver a message published on another node to local subscribers. */
  deliver(topic: string, data: Buffer, isBinary: boolean): void;
  /** Report a problem (e.g. lost Redis connection); never throws. */
  error(err: Error): void;
}

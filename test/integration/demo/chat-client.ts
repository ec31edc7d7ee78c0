import WebSocket from 'ws';

/** A message from the demo's server: `{ type, ... }`. */
export interface ServerMessage {
  type: string;
  [key: string]: unknown;
}

/**
 * A chat participant driven with the `ws` client: it queues every server
 * message, and `next(type)` takes the oldest unread one of that type (waiting
 * for it if need be), so a test reads the conversation in order.
 */
export class ChatClient {
  readonly socket: WebSocket;
  /** Resolves with the close code and reason once the connection is closed. */
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly unread: ServerMessage[] = [];
  private readonly waiters: Array<{ type: string | undefined; resolve: (m: ServerMessage) => void }> = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (data, isBinary) => {
      const msg = JSON.parse(isBinary ? '{"type":"<binary>"}' : String(data)) as ServerMessage;
      const i = this.waiters.findIndex((w) => w.type === undefined || w.type === msg.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]!.resolve(msg);
      else this.unread.push(msg);
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  /** Open `/chat/:room` and wait for the 101 (not for the welcome). */
  static async open(wsUrl: string, options: WebSocket.ClientOptions = {}): Promise<ChatClient> {
    const socket = new WebSocket(wsUrl, options);
    const client = new ChatClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }

  /** The oldest unread message of `type` (any type if omitted), within `timeoutMs`. */
  next(type?: string, timeoutMs = 3_000): Promise<ServerMessage> {
    const i = this.unread.findIndex((m) => type === undefined || m.type === type);
    if (i >= 0) return Promise.resolve(this.unread.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        type,
        resolve: (m: ServerMessage) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`no ${type ?? 'message'} within ${timeoutMs} ms; unread: ${JSON.stringify(this.unread)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Unread messages of `type` received so far (without waiting). */
  peek(type: string): ServerMessage[] {
    return this.unread.filter((m) => m.type === type);
  }

  json(message: unknown): void {
    this.socket.send(JSON.stringify(message));
  }

  say(text: string): void {
    this.json({ type: 'say', text });
  }

  terminate(): void {
    this.socket.terminate();
  }
}

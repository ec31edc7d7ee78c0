/**
 * Small helpers for the socket behaviour tests: promises to await instead of
 * sleeps, a connected `ws` client, the server side of a connection, and an
 * app that hands its connections to the test.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import WsClient from 'ws';
import type { AttachWsOptions, WebSocket } from 'attach-ws';
import type { AppLifecycle } from '../../helpers/app-server';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A queue of values pushed by callbacks and awaited one by one (or n at a time). */
export class Inbox<T> {
  #items: T[] = [];
  #waiters: Array<{ n: number; resolve: (items: T[]) => void }> = [];

  push = (item: T): void => {
    this.#items.push(item);
    this.#settle();
  };

  get length(): number {
    return this.#items.length;
  }

  /** Resolves with the next `n` items, removing them. */
  take(n = 1): Promise<T[]> {
    return new Promise((resolve) => {
      this.#waiters.push({ n, resolve });
      this.#settle();
    });
  }

  async next(): Promise<T> {
    return (await this.take(1))[0]!;
  }

  #settle(): void {
    while (this.#waiters.length > 0 && this.#items.length >= this.#waiters[0]!.n) {
      const waiter = this.#waiters.shift()!;
      waiter.resolve(this.#items.splice(0, waiter.n));
    }
  }
}

/** The server side of one accepted connection. */
export interface ServerSide {
  ws: WebSocket;
  req: IncomingMessage;
  /** The raw TCP socket under the connection (for spying on writes and reads). */
  socket: Socket;
}

/** Starts the test's app (through `apps`) with a '/s' route that hands its connections to the test. */
export async function serverWithInbox(apps: AppLifecycle, options: AttachWsOptions = {}): Promise<Inbox<ServerSide>> {
  const accepted = new Inbox<ServerSide>();
  await apps.start((app) => {
    app.ws('/s', (ws, req) => accepted.push({ ws, req, socket: req.socket as Socket }));
  }, options);
  return accepted;
}

/** A `ws` client, open. */
export async function openClient(url: string, options?: WsClient.ClientOptions): Promise<WsClient> {
  const client = new WsClient(url, options);
  await new Promise((resolve, reject) => client.once('open', resolve).once('error', reject));
  return client;
}

/** Resolves with the close event's (code, reason) of a `ws` client. */
export function clientClosed(client: WsClient): Promise<{ code: number; reason: string }> {
  if (client.readyState === WsClient.CLOSED) return Promise.reject(new Error('already closed'));
  return new Promise((resolve) => client.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Resolves with the close event's (code, reason) of a server-side WebSocket. */
export function serverClosed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason })));
}

/** Resolves on the next turn of the event loop (after I/O callbacks): not a timer. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

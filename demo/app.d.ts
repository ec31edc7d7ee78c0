// Types for demo/app.js (plain CommonJS), so the TypeScript tests can use it.
import type { Express } from 'express';
import type { Server } from 'node:http';

/** What the demo needs from `attachWs`'s return value. */
export interface ChatWsServer {
  publish(topic: string, data: string | Buffer): number;
  close(code?: number, reason?: string): Promise<void> | void;
  stats(): { clients: number; upgrades: { accepted: number; rejected: number } };
}

export interface ChatOptions {
  /** Messages replayed to whoever joins a room. Default 50. */
  historySize?: number;
  /** Characters in one chat message. Default 500. */
  maxTextLength?: number;
  /** Bytes in one WebSocket message; attach-ws closes with 1009 above it. Default 16 KiB. */
  maxPayload?: number;
  /** Bad frames tolerated before the server closes with 1008. Default 10. */
  maxErrors?: number;
  /** Heartbeat interval. Default 30 s. */
  heartbeatMs?: number;
  /** Where join/leave lines go. Default: nowhere. */
  log?: (line: string) => void;
  /** attach-ws's `attachWs`; default: the built package (`../dist`). */
  attachWs?(app: Express, server: Server, options: object): unknown;
}

export interface ChatMessage {
  type: 'message';
  id: number;
  nick: string;
  text: string;
  ts: number;
}

export interface ChatRoom {
  members: Map<object, string>;
  history: ChatMessage[];
  lastId: number;
}

export interface ChatApp {
  app: Express;
  server: Server;
  wss: ChatWsServer;
  rooms: Map<string, ChatRoom>;
  /** Listen (default: port 0 on 127.0.0.1) and resolve with the page's URL. */
  listen(port?: number, host?: string): Promise<string>;
  /** Graceful stop: 1001 to every chat client, then the HTTP server. */
  close(): Promise<void>;
}

export function createChatApp(options?: ChatOptions): ChatApp;
export const NICK: RegExp;
export const ROOM: RegExp;

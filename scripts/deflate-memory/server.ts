/**
 * The server whose memory `npm run deflate-memory` measures, alone in its
 * process (run with --expose-gc). argv[2]: 'default' (perMessageDeflate:
 * true), 'takeover' (server context takeover opted in) or 'off'.
 */
import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachWs, type AttachWsOptions, type WebSocket } from '../../src';

export type MemoryRequest = { type: 'send'; bytes: number } | { type: 'await-messages'; count: number } | { type: 'memory' } | { type: 'exit' };
export type MemoryReply =
  | { type: 'ready'; port: number }
  | { type: 'done' }
  | { type: 'memory'; rss: number; heapUsed: number; external: number; arrayBuffers: number; clients: number };

const mode = process.argv[2] ?? 'default';
const deflate: AttachWsOptions['perMessageDeflate'] =
  mode === 'off' ? false : mode === 'takeover' ? { serverNoContextTakeover: false } : true;

const app = express();
const server = http.createServer(app);
const wss = attachWs(app, server, { perMessageDeflate: deflate, heartbeat: false, maxConnections: Infinity });
const sockets: WebSocket[] = [];
let received = 0;
let waitingFor = Infinity;
app.ws('/m', (ws) => {
  sockets.push(ws);
  ws.on('message', () => {
    if (++received >= waitingFor) {
      waitingFor = Infinity;
      reply({ type: 'done' });
    }
  });
});

function reply(message: MemoryReply): void {
  process.send!(message);
}

/** 2 KiB of JSON-like text, different per connection (as real messages are). */
function message(i: number, bytes: number): string {
  let text = '';
  for (let n = 0; text.length < bytes; n++) text += `{"user":${i},"seq":${n},"text":"message number ${n * 7 + i}"},`;
  return text.slice(0, bytes);
}

process.on('message', (request: MemoryRequest) => {
  switch (request.type) {
    case 'send': {
      let pending = sockets.length;
      sockets.forEach((ws, i) =>
        ws.send(message(i, request.bytes), () => {
          if (--pending === 0) reply({ type: 'done' });
        }),
      );
      break;
    }
    case 'await-messages':
      if (received >= request.count) reply({ type: 'done' });
      else waitingFor = request.count;
      break;
    case 'memory': {
      (globalThis as { gc?: () => void }).gc?.();
      const usage = process.memoryUsage();
      reply({ type: 'memory', rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, arrayBuffers: usage.arrayBuffers, clients: wss.clients.size });
      break;
    }
    case 'exit':
      process.exit(0);
  }
});

server.listen(0, '127.0.0.1', () => reply({ type: 'ready', port: (server.address() as AddressInfo).port }));

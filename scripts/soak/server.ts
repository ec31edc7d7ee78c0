/**
 * The soak server, in a process of its own so that its memory is measured
 * alone: echoes every message and, on request from the parent (IPC), publishes
 * numbered broadcasts to every connection. Answers memory probes after a GC
 * (run with --expose-gc).
 */
import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachWs } from '../../src';

export type ServerRequest = { type: 'start-broadcast'; intervalMs: number } | { type: 'stop-broadcast' } | { type: 'memory'; gc: boolean } | { type: 'exit' };
export type ServerReply =
  | { type: 'ready'; port: number }
  | { type: 'broadcasts'; count: number }
  | { type: 'memory'; rss: number; heapUsed: number; external: number; clients: number; skipped: number; errors: number };

const app = express();
const server = http.createServer(app);
const wss = attachWs(app, server, { heartbeat: false, maxConnections: Infinity });
let errors = 0;
wss.on('error', () => errors++);
app.ws('/soak', (ws) => {
  ws.subscribe('all');
  ws.on('message', (data) => ws.send(data));
});

let broadcast: NodeJS.Timeout | null = null;
let published = 0;

function reply(message: ServerReply): void {
  process.send!(message);
}

process.on('message', (request: ServerRequest) => {
  switch (request.type) {
    case 'start-broadcast':
      broadcast = setInterval(() => wss.publish('all', `b${published++}`), request.intervalMs);
      break;
    case 'stop-broadcast':
      if (broadcast !== null) clearInterval(broadcast);
      broadcast = null;
      reply({ type: 'broadcasts', count: published });
      break;
    case 'memory': {
      // Peak samples are taken as they are; before/after ones after a GC.
      if (request.gc) (globalThis as { gc?: () => void }).gc?.();
      const usage = process.memoryUsage();
      const stats = wss.stats();
      reply({
        type: 'memory',
        rss: usage.rss,
        heapUsed: usage.heapUsed,
        external: usage.external,
        clients: stats.clients,
        skipped: stats.topics.skipped,
        errors,
      });
      break;
    }
    case 'exit':
      void wss.close().then(() => server.close(() => process.exit(0)));
      break;
  }
});

server.listen(0, '127.0.0.1', () => reply({ type: 'ready', port: (server.address() as AddressInfo).port }));

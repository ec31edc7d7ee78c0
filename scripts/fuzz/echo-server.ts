/**
 * The server under fuzz: an Express app with attach-ws on 127.0.0.1, port 0,
 * echoing every message. '/echo' uses the defaults for permessage-deflate
 * (no server context takeover); '/echo-takeover' opts in to context
 * takeover, so both compressor paths are fuzzed.
 */
import express from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachWs } from '../../src';
import type { WebSocket, WsServer } from '../../src';
import { FUZZ_MAX_PAYLOAD } from './streams';

export interface FuzzServer {
  port: number;
  wss: WsServer;
  /** Errors the server reported (a handler or the library failed): must stay empty. */
  errors: Error[];
  close(): Promise<void>;
}

/** How long the server waits for a peer's close reply; the fuzzer waits a bit longer. */
export const FUZZ_CLOSE_TIMEOUT_MS = 2_000;

export async function startFuzzServer(): Promise<FuzzServer> {
  const app = express();
  const server = http.createServer(app);
  const wss = attachWs(app, server, {
    maxPayload: FUZZ_MAX_PAYLOAD,
    perMessageDeflate: true,
    heartbeat: false,
    closeTimeoutMs: FUZZ_CLOSE_TIMEOUT_MS,
    maxConnections: Infinity,
  });
  const errors: Error[] = [];
  wss.on('error', (err) => errors.push(err));
  const echo = (ws: WebSocket): void => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  };
  app.ws('/echo', echo);
  app.ws('/echo-takeover', { perMessageDeflate: { serverNoContextTakeover: false } }, echo);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    wss,
    errors,
    async close() {
      await wss.close(1001);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

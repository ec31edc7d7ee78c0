import express, { type Express } from 'express';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { attachWs, type AttachWsOptions, type WsServer } from 'attach-ws';

export interface RunningApp {
  app: Express;
  server: http.Server;
  wss: WsServer;
  port: number;
  /** ws://127.0.0.1:PORT */
  url: string;
  close(): Promise<void>;
}

/** An Express app with attach-ws on port 0; `setup` mounts routes. Close it in afterEach. */
export async function startApp(
  setup: (app: Express, wss: WsServer) => void,
  options: AttachWsOptions = {},
): Promise<RunningApp> {
  const app = express();
  const server = http.createServer(app);
  const wss = attachWs(app, server, options);
  setup(app, wss);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    app,
    server,
    wss,
    port,
    url: `ws://127.0.0.1:${port}`,
    async close() {
      await wss.close(1001);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

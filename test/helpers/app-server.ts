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

/** An Express app with attach-ws on port 0; `setup` mounts routes. Close it in afterEach (or start it through useApps). */
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

/** A test file's apps: each test starts its own, and it is closed after the test. */
export interface AppLifecycle {
  /** As startApp; the app is closed after the test. */
  start(setup: (app: Express, wss: WsServer) => void, options?: AttachWsOptions): Promise<RunningApp>;
  /** The app this test started (for helpers outside the test body). */
  readonly running: RunningApp;
  /** Run `cleanup` after the test (in the order tracked), before the app closes. */
  track(cleanup: () => void): void;
}

/**
 * The per-file lifecycle of the integration tests: call at the top of a file
 * (or of a describe block). Registers an afterEach that runs every tracked
 * cleanup, then closes the app the test started.
 */
export function useApps(): AppLifecycle {
  let running: RunningApp | undefined;
  const cleanups: Array<() => void> = [];
  afterEach(async () => {
    try {
      for (const cleanup of cleanups.splice(0)) cleanup();
    } finally {
      const app = running;
      running = undefined;
      await app?.close();
    }
  });
  return {
    async start(setup, options) {
      running = await startApp(setup, options);
      return running;
    },
    get running() {
      if (running === undefined) throw new Error('no app started in this test');
      return running;
    },
    track(cleanup) {
      cleanups.push(cleanup);
    },
  };
}

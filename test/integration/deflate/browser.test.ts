/**
 * permessage-deflate with a real browser: Chromium (which always offers it)
 * loads a page from the test's own Express app, and compressed messages go
 * both ways. The server side sniffs its own socket to see RSV1 on the wire.
 * Skips loudly without Chromium, fails under CI=true.
 */
import type { Socket } from 'node:net';
import type { Browser } from 'playwright-core';
import type { WebSocket } from 'attach-ws';
import { findChromium, launchChromium } from '../../helpers/browser';
import { useApps } from '../../helpers/app-server';
import { FrameSniffer, Inbox } from './support';

const chromiumPath = findChromium();

/** A 10 KB, very repetitive JSON string. */
function bigJson(tag: string): string {
  const rows = Array.from({ length: 400 }, (_, i) => ({ tag, i, ok: true }));
  return JSON.stringify({ rows }).slice(0, 10_000);
}

/** What the page's script defines. */
interface PageGlobals {
  exchange(text: string): Promise<{ extensions: string; got: string[] }>;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>deflate</title>
<script>
window.exchange = (outgoing) => new Promise((resolve, reject) => {
  const ws = new WebSocket('ws://' + location.host + '/echo');
  const got = [];
  ws.onopen = () => ws.send(outgoing);
  ws.onmessage = (e) => {
    got.push(e.data);
    if (got.length === 2) { resolve({ extensions: ws.extensions, got }); ws.close(1000, 'done'); }
  };
  ws.onerror = () => reject(new Error('websocket error'));
});
</script>`;

(chromiumPath ? describe : describe.skip)('permessage-deflate with Chromium', () => {
  let browser: Browser | undefined;
  const apps = useApps();

  jest.setTimeout(60_000);

  beforeAll(async () => {
    browser = await launchChromium(chromiumPath!);
  });

  afterAll(async () => {
    await browser?.close();
  });

  test('a 10 KB JSON string goes compressed both ways and arrives intact on each side', async () => {
    const connections = new Inbox<{ ws: WebSocket; fromClient: FrameSniffer; toClient: FrameSniffer; got: string }>();
    const fromServer = bigJson('server');
    const running = await apps.start(
      (app) => {
        app.get('/', (_req, res) => {
          res.type('html').send(PAGE);
        });
        app.ws('/echo', (ws, req) => {
          const socket = req.socket as Socket;
          // Frames in (masked, from Chromium) and out (ours), as bytes on the wire.
          const fromClient = new FrameSniffer({ afterHead: true });
          const toClient = new FrameSniffer({ afterHead: true });
          socket.prependListener('data', (chunk: Buffer) => fromClient.push(chunk));
          const write = socket.write;
          socket.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
            if (Buffer.isBuffer(chunk)) toClient.push(chunk);
            return (write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
          } as Socket['write'];
          ws.on('message', (data) => {
            ws.send(data);
            ws.send(fromServer);
            connections.push({ ws, fromClient, toClient, got: data as string });
          });
        });
      },
      { perMessageDeflate: true },
    );
    const page = await browser!.newPage();
    try {
      await page.goto(`http://127.0.0.1:${running.port}/`);
      const fromPage = bigJson('page');
      const result = await page.evaluate(
        (text) => (globalThis as unknown as PageGlobals).exchange(text),
        fromPage,
      );

      const { ws, fromClient, toClient, got } = await connections.next();
      expect(ws.extensions).toMatch(/^permessage-deflate\b/);
      expect(result.extensions).toBe(ws.extensions);
      expect(got).toBe(fromPage);
      expect(result.got).toEqual([fromPage, fromServer]);

      // Chromium compressed its message; we compressed both of ours.
      const incoming = fromClient.frames.filter((f) => f.opcode === 0x1);
      expect(incoming).toHaveLength(1);
      expect(incoming[0]!.rsv1).toBe(true);
      expect(incoming[0]!.payload.length).toBeLessThan(fromPage.length / 4);
      const outgoing = toClient.frames.filter((f) => f.opcode === 0x1);
      expect(outgoing.map((f) => f.rsv1)).toEqual([true, true]);
      expect(outgoing.every((f) => f.payload.length < 10_000 / 4)).toBe(true);
    } finally {
      await page.close();
    }
  });
});

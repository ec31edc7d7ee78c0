/**
 * The smallest end-to-end check, through attach-ws/testing: an echo route
 * answers text and binary and completes the close handshake — over a real
 * socket and in memory. (Interop with the `ws` client: test/integration/socket/.)
 */
import type { Express } from 'express';
import { request } from 'attach-ws/testing';
import { useApps } from '../helpers/app-server';

const apps = useApps();

function echoRoute(app: Express): void {
  app.ws('/echo', (ws) => {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  });
}

test('an echo route exchanges text and binary messages over TCP and echoes the close code', async () => {
  const { server } = await apps.start(echoRoute);
  await request(server)
    .ws('/echo')
    .sendText('hello')
    .expectText('hello')
    .sendBinary(Buffer.from('bytes'))
    .expectBinary(Buffer.from('bytes'))
    // §5.5.1: the server echoes the status code.
    .close(1000, 'bye')
    .expectClosed(1000);
});

test('the same echo route answers in memory, through the app', async () => {
  const { app } = await apps.start(echoRoute);
  await request(app).ws('/echo').sendText('hello').expectText('hello').sendBinary([1, 2]).expectBinary([1, 2]).close(1000).expectClosed(1000);
});

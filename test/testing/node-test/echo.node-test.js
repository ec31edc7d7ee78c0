// attach-ws/testing under node:test, from the built package (dist/): no Jest,
// no framework globals. Run by test/testing/node-test.test.ts, or by hand:
//   npm run build && node --test test/testing/node-test/
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const express = require('express');
const { attachWs } = require('attach-ws');
const { request, WsTestError } = require('attach-ws/testing');

function echoApp() {
  const app = express();
  const server = http.createServer(app);
  attachWs(app, server);
  app.ws('/echo', (ws) => ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary })));
  return { app, server };
}

test('an echo route, in memory', async () => {
  const { app, server } = echoApp();
  await request(app).ws('/echo').sendText('hi').expectText('hi').close(1000).expectClosed(1000);
  assert.equal(server.listening, false);
});

test('an echo route, over TCP on a server the helper makes listen', async () => {
  const { server } = echoApp();
  await request(server).ws('/echo').sendBinary([1, 2]).expectBinary([1, 2]);
  assert.equal(server.listening, false);
});

test('a failing chain is a rejection assert.rejects understands', async () => {
  const { app } = echoApp();
  await assert.rejects(request(app).ws('/echo').sendText('a').expectText('b'), (err) => {
    assert.ok(err instanceof WsTestError);
    assert.equal(err.message, 'expectText("b"): expected the text message "b", got a text message "a"');
    return true;
  });
});

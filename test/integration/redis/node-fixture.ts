/**
 * One chat node for the multi-node test, run as a child process (forked with
 * ts-node, so it runs the current sources): Express + attach-ws + the Redis
 * adapter, `/room/:id` echoing every message to the room on every node.
 *
 * IPC out: { type: 'listening', port } | { type: 'error', code, message } | { type: 'closed', dropped }
 * IPC in:  { type: 'close' } → wss.close(), server.close(), then the process
 *          must exit by itself (nothing left open), which the test checks.
 */
import http from 'node:http';
import express from 'express';
import { attachWs } from '../../../src/index';
import { redisAdapter } from '../../../src/pubsub/redis-adapter';

const send = (message: unknown) => process.send?.(message);

const app = express();
const server = http.createServer(app);
const adapter = redisAdapter({ url: process.env.REDIS_URL });
const wss = attachWs(app, server, { adapter, heartbeat: false });

wss.on('error', (err: Error & { code?: string }) => send({ type: 'error', code: err.code, message: err.message }));

app.ws('/room/:id', (ws, req) => {
  const topic = `room:${req.params.id}`;
  ws.subscribe(topic);
  // To everyone in the room on every node, the sender included.
  ws.on('message', (data, isBinary) => wss.publish(topic, data, { binary: isBinary }));
});

server.listen(0, '127.0.0.1', () => {
  send({ type: 'listening', port: (server.address() as { port: number }).port });
});

process.on('message', (msg: { type?: string }) => {
  if (msg?.type !== 'close') return;
  void (async () => {
    await wss.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    send({ type: 'closed', dropped: adapter.dropped });
    process.disconnect(); // the IPC channel is the last thing keeping us alive
  })();
});

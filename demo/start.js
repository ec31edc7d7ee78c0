#!/usr/bin/env node
'use strict';
// `npm start`: the chat demo on http://localhost:3000 (PORT and HOST to change).
// Needs the built package (dist/): `npm start` runs scripts/ensure-setup.js first, which installs and builds when needed.

const { createChatApp } = require('./app');

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? 'localhost';

let chat;
try {
  let adapter;
  if (process.env.REDIS_URL) {
    // Several processes share rooms through Redis (see README, "Scaling out").
    const { redisAdapter } = require('../dist/pubsub/redis-adapter');
    adapter = redisAdapter({ url: process.env.REDIS_URL, onError: (err) => console.warn(`attach-ws demo: redis: ${err.message}`) });
  }
  chat = createChatApp({ log: (line) => console.log(`${new Date().toISOString()} ${line}`), adapter });
} catch (err) {
  console.error(`attach-ws demo: ${err.message}`);
  process.exit(1);
}

chat.listen(port, host).then(
  (url) => {
    const shown = url.replace(/^http:\/\/[^/]*:/, `http://${host.includes(':') ? `[${host}]` : host}:`);
    console.log(`attach-ws demo: chat on ${shown}  (rooms: ${shown}/r/<name>, health: ${shown}/healthz)`);
  },
  (err) => {
    console.error(`attach-ws demo: cannot listen on ${host}:${port}: ${err.message}`);
    process.exit(1);
  },
);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    if (stopping) process.exit(130); // a second Ctrl-C: do not wait
    stopping = true;
    console.log(`attach-ws demo: ${signal}, closing connections (1001)…`);
    setTimeout(() => process.exit(1), 5_000).unref();
    chat.close().then(
      () => process.exit(0),
      (err) => {
        console.error(`attach-ws demo: close failed: ${err.message}`);
        process.exit(1);
      },
    );
  });
}

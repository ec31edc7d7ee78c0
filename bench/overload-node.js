#!/usr/bin/env node
'use strict';
// One attach-ws node of the overload benchmark (bench/overload.js), in its own
// process: /sub subscribes to the topic 'all', /pub publishes every message it
// receives to it. With REDIS_URL it shares the topic with the other nodes
// through the Redis adapter. DELIVERY_BUDGET (bytes) overrides the default.
// IPC: {cmd:'stats'} → {stats: wss.stats(), rss, adapter: {dropped, gaps}}.

const diagnostics = require('node:diagnostics_channel');
const http = require('node:http');
const path = require('node:path');
const { PerformanceObserver, performance } = require('node:perf_hooks');

const dist = path.join(__dirname, '..', 'dist');
const express = require('express');
const { attachWs } = require(dist);

const options = {};
let adapter;
if (process.env.REDIS_URL) {
  const { redisAdapter } = require(path.join(dist, 'pubsub', 'redis-adapter'));
  adapter = redisAdapter({ url: process.env.REDIS_URL });
  options.adapter = adapter;
}
if (process.env.DELIVERY_BUDGET) options.deliveryBudget = { limit: Number(process.env.DELIVERY_BUDGET) };

const app = express();
const server = http.createServer(app);
const wss = attachWs(app, server, options);
let errors = 0;
wss.on('error', () => { errors++; }); // counted; the bench prints them
app.ws('/sub', (ws) => { ws.subscribe('all'); });
app.ws('/pub', (ws) => { ws.on('message', (data) => { wss.publish('all', data); }); });

// Where the time goes under overload (see the per-step columns of the table):
// garbage collection, and how long the publisher's reading was paused.
const gc = { ms: 0, count: 0 };
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) { gc.ms += e.duration; gc.count++; }
}).observe({ entryTypes: ['gc'] });
const pausing = { ms: 0, since: -1 };
diagnostics.subscribe('attach-ws:overload', (e) => {
  if (e.type === 'pause' && pausing.since < 0) pausing.since = performance.now();
  else if (e.type === 'resume' && e.pausedReaders === 0 && pausing.since >= 0) {
    pausing.ms += performance.now() - pausing.since;
    pausing.since = -1;
  }
});
const pausedMs = () => pausing.ms + (pausing.since >= 0 ? performance.now() - pausing.since : 0);

process.on('message', (m) => {
  if (m && m.cmd === 'stats') {
    process.send({
      stats: wss.stats(),
      rss: process.memoryUsage.rss(),
      errors,
      adapter: adapter ? { dropped: adapter.dropped, gaps: adapter.gaps } : null,
    });
  } else if (m && m.cmd === 'probe') {
    // A cheap snapshot at a step's edges: CPU, GC and paused time so far.
    const cpu = process.cpuUsage();
    process.send({ probe: { id: m.id, elu: performance.eventLoopUtilization(), cpuUs: cpu.user + cpu.system, gcMs: gc.ms, gcCount: gc.count, pausedMs: pausedMs(), pauses: wss.stats().delivery.pauses } });
  } else if (m && m.cmd === 'exit') {
    process.exit(0); // lets --cpu-prof write its profile
  }
});
process.on('disconnect', () => process.exit(0)); // parent gone: never linger

server.listen(0, '127.0.0.1', () => {
  process.send({ ready: { port: server.address().port, pid: process.pid, budget: wss.stats().delivery.budget } });
});

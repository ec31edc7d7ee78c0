#!/usr/bin/env node
'use strict';
// node bench/micro/idle-memory.js [--n=10000] [--servers=attach,ws,raw] [--snapshot]
//
// Where an idle connection's memory goes: opens N idle WebSocket connections
// to each bench server (bench/server.js, one process each, not pinned) and
// prints the growth per connection of RSS, V8 heap (used and committed, per
// space), external and arrayBuffers, after a full GC. --snapshot also writes
// a heap snapshot of each server with the connections open (bench/results/).
// Not a benchmark: no rounds, no ratios; it explains the `idle` row.

const { fork } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const F = require('../lib/frames');

const args = process.argv.slice(2);
const opt = (name, d) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : d;
};
const N = Number(opt('n', 10000));
const SERVERS = opt('servers', 'attach,ws,raw').split(',');
const SNAPSHOT = args.includes('--snapshot');

function message(child, pred) {
  return new Promise((resolve, reject) => {
    const on = (m) => { if (pred(m)) { child.off('message', on); resolve(m); } };
    child.on('message', on);
    child.once('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
}

function open(port, raw) {
  return new Promise((resolve, reject) => {
    const req = F.upgradeRequest('/', port, false);
    const sock = net.connect({ port, host: '127.0.0.1' });
    let got = 0;
    sock.on('error', reject);
    sock.on('connect', () => sock.write(req));
    sock.on('data', function onData(d) {
      got += d.length;
      if (raw ? got >= req.length : d.includes('\r\n\r\n')) { sock.off('data', onData); resolve(sock); }
    });
  });
}

async function openMany(port, raw, n) {
  const out = [];
  let next = 0;
  await Promise.all(Array.from({ length: 200 }, async () => {
    while (next < n) { next++; out.push(await open(port, raw)); }
  }));
  return out;
}

/** Resident KiB by kind of mapping, from /proc/<pid>/smaps: where RSS lives. */
function smaps(pid) {
  const out = {};
  let kind = '';
  for (const line of require('node:fs').readFileSync(`/proc/${pid}/smaps`, 'latin1').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m) {
      const size = (parseInt(m[2], 16) - parseInt(m[1], 16)) / 1024;
      const name = m[3];
      kind = name === '[heap]' ? 'brk heap (malloc)' : name.startsWith('/') ? 'files' : name ? name
        : size >= 65536 - 4096 && size <= 65536 ? 'anon 64 MiB (malloc arena)' : 'anon other (V8 pages, big mallocs)';
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) out[kind] = (out[kind] || 0) + Number(r[1]);
  }
  return out;
}

const kib = (x) => (x / 1024).toFixed(2).padStart(7);

async function measure(name) {
  const env = { ...process.env };
  if (name === 'ws') env.WS_NO_BUFFER_UTIL = '1';
  const child = fork(path.join(__dirname, '..', 'server.js'), [name, '0'], { execArgv: ['--expose-gc'], env });
  const { ready } = await message(child, (m) => m.ready || m.error);
  const mem = async () => { child.send({ cmd: 'mem' }); return message(child, (m) => m.mem); };
  closeAll(await openMany(ready.port, name === 'raw', 200));
  await new Promise((r) => setTimeout(r, 300));
  const a = await mem();
  const sa = smaps(child.pid);
  if (process.env.SMAPS_DUMP) {
    require("node:fs").writeFileSync(`${process.env.SMAPS_DUMP}-${name}-before`, require("node:fs").readFileSync(`/proc/${child.pid}/smaps`));
  }
  const socks = await openMany(ready.port, name === 'raw', N);
  await new Promise((r) => setTimeout(r, 500));
  const b = await mem();
  const sb = smaps(child.pid);
  if (process.env.SMAPS_DUMP) {
    require("node:fs").writeFileSync(`${process.env.SMAPS_DUMP}-${name}-after`, require("node:fs").readFileSync(`/proc/${child.pid}/smaps`));
  }
  if (SNAPSHOT) {
    const file = path.join(__dirname, '..', 'results', `idle-${name}-${Date.now()}.heapsnapshot`);
    child.send({ cmd: 'snapshot', file });
    console.log(`${name}: snapshot ${(await message(child, (m) => m.snapshot)).snapshot}`);
  }
  closeAll(socks);
  child.kill();
  const d = (k) => (b.mem[k] - a.mem[k]) / N;
  console.log(`${name.padEnd(7)} KiB/conn: rss ${kib(d('rss'))}  heapUsed ${kib(d('heapUsed'))}  heapTotal ${kib(d('heapTotal'))}` +
    `  external ${kib(d('external'))}  arrayBuffers ${kib(d('arrayBuffers'))}  heap+ext ${kib(d('heapUsed') + d('external'))}`);
  const spaces = [];
  for (const s of b.spaces) {
    const s0 = a.spaces.find((x) => x.space_name === s.space_name);
    const used = (s.space_used_size - s0.space_used_size) / N;
    const size = (s.space_size - s0.space_size) / N;
    if (Math.abs(used) > 10 || Math.abs(size) > 10) spaces.push(`${s.space_name} used ${kib(used)} size ${kib(size)}`);
  }
  console.log(`        ${spaces.join('\n        ')}`);
  for (const k of Object.keys(sb)) {
    const dk = (sb[k] - (sa[k] || 0)) / N;
    if (Math.abs(dk) > 0.01) console.log(`        rss in ${k}: ${kib(dk * 1024)}`);
  }
}

function closeAll(socks) { for (const s of socks) s.destroy(); }

(async () => {
  for (const s of SERVERS) await measure(s);
})().catch((err) => { console.error(err); process.exit(1); });

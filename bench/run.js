#!/usr/bin/env node
'use strict';
// npm run bench [-- --quick] [--only=small,large] [--servers=attach,ws] [--rounds=N]
//
// Every server runs in its own child process (pinned to core 0 with taskset
// when there are two cores), the load generator in another (core 1). Rounds are
// interleaved (A B C … then again, order rotated each round); each number is
// the median over rounds with its min–max, and ratios to `ws` are taken within
// a round, then median'd. See bench/README.md.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { summary, median } = require('./lib/stats');

const ROOT = path.join(__dirname, '..');

// ---------------------------------------------------------------- options

const { argv, flag, opt } = require('./lib/args');
if (flag('help') || flag('h')) {
  console.log('usage: npm run bench -- [--quick] [--only=small,large,handshake,idle,broadcast,deflate,overload]\n' +
    '                      [--servers=attach,ws,ws-bufferutil,express-ws,raw] [--rounds=N] [--idle-conns=N]\n' +
    '                      [--quiet-wait=S] [--retries=N] [--disturb-budget=S] [--nice=-10] [--cpu-prof]');
  process.exit(0);
}
const QUICK = flag('quick');

const ALL_SERVERS = ['attach', 'ws', 'ws-bufferutil', 'express-ws', 'raw'];
const LABEL = {
  attach: 'attach-ws', ws: 'ws', 'ws-bufferutil': 'ws+bufferutil', 'express-ws': 'express-ws', raw: 'raw TCP',
};
const T = QUICK
  ? { rounds: 2, warmMs: 250, measureMs: 750, idleN: 2000, quietWaitMs: 0, retries: 0, disturbBudgetMs: 0, slices: 2, sliceMs: 250, settleMs: 50 }
  : { rounds: 4, warmMs: 1000, measureMs: 2000, idleN: 10000, quietWaitMs: 10000, retries: 2, disturbBudgetMs: 90000, slices: 10, sliceMs: 500, settleMs: 100 };
// --nice=-10: run the server and load generator at a higher priority than
// whatever else shares the machine (needs root or CAP_SYS_NICE). Opt-in: it
// slows everyone else's work down while the bench runs.
const NICE = opt('nice') !== undefined ? Number(opt('nice')) : undefined;
if (opt('disturb-budget')) T.disturbBudgetMs = Number(opt('disturb-budget')) * 1000;
if (opt('quiet-wait')) T.quietWaitMs = Number(opt('quiet-wait')) * 1000;
if (opt('retries')) T.retries = Number(opt('retries'));
if (opt('rounds')) T.rounds = Math.max(1, Number(opt('rounds')));
if (opt('idle-conns')) T.idleN = Math.max(1, Number(opt('idle-conns')));
// --cpu-prof: every server child runs under V8's sampling profiler and writes
// bench/results/profiles/<scenario>-<server>-r<round>.cpuprofile when stopped.
const CPU_PROF = flag('cpu-prof');
const PROFILE_DIR = path.join(__dirname, 'results', 'profiles');

// A fresh Node process needs about 4 s of handshakes to compile its hot code on one core.
const HANDSHAKE_WARM_FACTOR = 4;
const num = (d) => (x) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—');
const SCENARIOS = {
  small: {
    title: 'small echo: 100 connections × 32 in flight, 64-byte text',
    run: 'echo', params: { payload: 'text64', conns: 100, inflight: 32 },
    metrics: [
      { key: 'perSec', label: 'msgs/s', fmt: num(0), primary: true },
      { key: 'p50Ms', label: 'p50 ms', fmt: num(2), lower: true },
      { key: 'p99Ms', label: 'p99 ms', fmt: num(2), lower: true },
      { key: 'srvCpuUsPerOp', label: 'srv µs/msg', fmt: num(2), lower: true, ratio: true },
    ],
  },
  large: {
    title: 'large echo: 4 connections × 4 in flight, 1 MiB binary (MB = 10^6 bytes, one direction)',
    run: 'echo', params: { payload: 'bin1m', conns: 4, inflight: 4 },
    metrics: [{ key: 'mbPerSec', label: 'MB/s', fmt: num(0), primary: true }],
  },
  handshake: {
    title: `handshakes: 32 parallel loops of connect, upgrade, one 5-byte echo, close (Express apps with one middleware); ` +
      `every server alive at once, measured in ${T.slices} alternated slices of ${T.sliceMs} ms after ${T.warmMs * HANDSHAKE_WARM_FACTOR} ms of warm-up each`,
    run: 'handshakes', interleaved: true, params: { conc: 32 }, warmFactor: HANDSHAKE_WARM_FACTOR,
    metrics: [
      { key: 'perSec', label: 'handshakes/s', fmt: num(0), primary: true },
      { key: 'srvCpuUsPerOp', label: 'srv µs/handshake', fmt: num(1), lower: true, ratio: true },
      { key: 'coldUsPerOp', label: `µs/hs, first ${T.warmMs} ms`, fmt: num(1), lower: true, ratio: true },
    ],
  },
  idle: {
    title: `idle memory: ${T.idleN.toLocaleString('en-US')} open connections (server growth after a full GC)${QUICK ? '; quick mode: use the full run for 10,000' : ''}`,
    run: 'idle',
    metrics: [
      { key: 'rssKiBPerConn', label: 'RSS KiB/conn', fmt: num(2), lower: true, primary: true },
      { key: 'heapKiBPerConn', label: 'heap+ext KiB/conn', fmt: num(2), lower: true, ratio: true },
    ],
  },
  broadcast: {
    title: 'broadcast: 1 publisher → 1,000 subscribers, 64-byte text, 16 broadcasts outstanding',
    run: 'broadcast', params: { subs: 1000, window: 16, payload: 'text64' },
    metrics: [
      { key: 'perSec', label: 'deliveries/s', fmt: num(0), primary: true },
      { key: 'srvCpuUsPerOp', label: 'srv µs/delivery', fmt: num(3), lower: true, ratio: true },
    ],
  },
  deflate: {
    title: 'deflate echo: 50 connections × 8 in flight, 1 KiB JSON text, permessage-deflate (no context takeover)',
    run: 'echo', params: { payload: 'json1k', conns: 50, inflight: 8, deflate: true },
    skip: ['raw'],
    metrics: [
      { key: 'perSec', label: 'msgs/s', fmt: num(0), primary: true },
      { key: 'p50Ms', label: 'p50 ms', fmt: num(2), lower: true },
      { key: 'p99Ms', label: 'p99 ms', fmt: num(2), lower: true },
      { key: 'srvCpuUsPerOp', label: 'srv µs/msg', fmt: num(1), lower: true, ratio: true },
    ],
  },
};

let only = opt('only') ? opt('only').split(',').map((s) => s.trim()).filter(Boolean) : Object.keys(SCENARIOS);
// `overload` (bench/overload.js) has its own harness: attach-ws alone, one or
// two nodes through Redis, offered load stepped past capacity. Opt-in only.
if (only.includes('overload')) {
  const rest = only.filter((s) => s !== 'overload');
  const r = spawnSync(process.execPath, [path.join(__dirname, 'overload.js'), ...argv.filter((a) => !a.startsWith('--only='))], { stdio: 'inherit' });
  if (rest.length === 0) process.exit(r.status === null ? 1 : r.status);
  only = rest;
}
for (const s of only) if (!SCENARIOS[s]) die(`unknown scenario "${s}" (known: ${Object.keys(SCENARIOS).join(', ')})`);
let servers = opt('servers') ? opt('servers').split(',').map((s) => s.trim()).filter(Boolean) : ALL_SERVERS.slice();
for (const s of servers) if (!ALL_SERVERS.includes(s)) die(`unknown server "${s}" (known: ${ALL_SERVERS.join(', ')})`);

class Fatal extends Error {}

function die(msg) {
  console.error(msg);
  process.exit(1);
}

// ---------------------------------------------------------------- preflight

if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) die('dist/ not found: run npm run build first');
if (servers.includes('attach')) {
  let ok = false;
  try { ok = typeof require(path.join(ROOT, 'dist')).attachWs === 'function'; } catch (err) {
    console.log(`notice: require('../dist') failed (${err.message})`);
  }
  if (!ok) {
    console.log('notice: dist/ has no attachWs yet; skipping the attach-ws server (run npm run build after it lands)');
    servers = servers.filter((s) => s !== 'attach');
  }
}
if (servers.length === 0) die('no servers left to measure');

const cpus = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const PIN = hasTaskset && cpus >= 2;
const SERVER_CPU = '0';
const LOADGEN_CPU = '1';

// ---------------------------------------------------------------- children

const children = new Set();

function startChild(script, nodeArgs, args, { cpu, env } = {}) {
  const full = [...nodeArgs, script, ...args];
  const [cmd, cmdArgs] = PIN ? ['taskset', ['-c', cpu, process.execPath, ...full]] : [process.execPath, full];
  const child = spawn(cmd, cmdArgs, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: env || process.env });
  children.add(child);
  child.on('exit', () => children.delete(child));
  if (NICE !== undefined) {
    try { os.setPriority(child.pid, NICE); } catch (err) { if (!niceWarned) console.log(`notice: --nice=${NICE} refused (${err.code}); running at normal priority`); niceWarned = true; }
  }
  return child;
}
let niceWarned = false;

function killChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    // A profiled child writes its profile on exit: give it time.
    const t = setTimeout(() => { try { process.kill(child.pid, 'SIGKILL'); } catch {} }, CPU_PROF ? 30000 : 2000);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    try { process.kill(child.pid, 'SIGTERM'); } catch { clearTimeout(t); resolve(); }
  });
}

function cleanupSync() {
  for (const c of children) { try { process.kill(c.pid, 'SIGKILL'); } catch {} }
  children.clear();
}
process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => { console.error(`\n${sig}: stopping children`); cleanupSync(); process.exit(130); });
}
process.on('uncaughtException', (err) => { console.error(err); cleanupSync(); process.exit(1); });
process.on('unhandledRejection', (err) => { console.error(err); cleanupSync(); process.exit(1); });

function waitMessage(child, pred, timeoutMs, what) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => { off(); reject(new Error(`timeout waiting for ${what}`)); }, timeoutMs);
    const onMsg = (m) => { if (pred(m)) { off(); resolve(m); } };
    const onExit = (code, sig) => { off(); reject(new Error(`${what}: child exited (${code ?? sig})`)); };
    const off = () => { clearTimeout(t); child.off('message', onMsg); child.off('exit', onExit); };
    child.on('message', onMsg);
    child.on('exit', onExit);
  });
}

async function startServer(name, deflate, profileName) {
  const env = { ...process.env };
  if (name === 'ws' || name === 'express-ws') env.WS_NO_BUFFER_UTIL = '1';
  else delete env.WS_NO_BUFFER_UTIL;
  const nodeArgs = ['--expose-gc'];
  if (CPU_PROF && profileName) {
    fs.mkdirSync(PROFILE_DIR, { recursive: true });
    nodeArgs.push('--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${profileName}.cpuprofile`);
  }
  const child = startChild(path.join(__dirname, 'server.js'), nodeArgs, [name, deflate ? '1' : '0'], { cpu: SERVER_CPU, env });
  const m = await waitMessage(child, (x) => x.ready || x.error, 15000, `${name} server start`);
  if (m.error) { await killChild(child); throw new Error(m.error); }
  return { child, info: m.ready };
}

let loadgen;
let reqId = 0;
async function lg(scenario, target, params) {
  const id = ++reqId;
  if (!loadgen.connected) throw new Fatal('the load generator died');
  loadgen.send({ id, scenario, target, params });
  const m = await waitMessage(loadgen, (x) => x.id === id, 120000, `loadgen ${scenario}`);
  if (m.error) throw new Error(m.error);
  return m.result;
}

function serverMem(child) {
  child.send({ cmd: 'mem' });
  return waitMessage(child, (x) => x.mem, 10000, 'server memory').then((m) => m.mem);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Busy % of all cores (in % of one core) over `ms`, from /proc/stat. */
async function systemBusy(ms) {
  const read = () => {
    try {
      const f = fs.readFileSync('/proc/stat', 'latin1').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
      const total = f.reduce((a, b) => a + b, 0);
      return { busy: total - f[3] - f[4], total };
    } catch { return null; }
  };
  const a = read();
  await sleep(ms);
  const b = read();
  if (!a || !b || b.total === a.total) return 0;
  return (100 * cpus * (b.busy - a.busy)) / (b.total - a.total);
}

/**
 * Other work on this machine (a test run next door) skews every number. Before
 * each measurement, wait up to T.quietWaitMs for the cores to be idle.
 */
let disturbSpentMs = 0; // time spent waiting for quiet and re-measuring, capped by T.disturbBudgetMs

async function waitQuiet() {
  if (T.quietWaitMs <= 0) return NaN;
  const t0 = Date.now();
  let busy = await systemBusy(250);
  while (busy > 15 && Date.now() - t0 < T.quietWaitMs && disturbSpentMs + (Date.now() - t0) < T.disturbBudgetMs) {
    busy = await systemBusy(500);
  }
  disturbSpentMs += Date.now() - t0;
  return busy;
}

// ---------------------------------------------------------------- one measurement

async function measureOnce(scn, name, round) {
  // A round spoiled by other processes is measured again (at most twice more);
  // the least disturbed attempt is kept, its disturbance reported.
  let best;
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = await waitQuiet();
    const t0 = Date.now();
    const r = await measureOnceRaw(scn, name, `${scn}-${name}-r${round + 1}${attempt ? `-a${attempt + 1}` : ''}`);
    if (attempt > 0) disturbSpentMs += Date.now() - t0;
    r.busyBefore = before;
    r.attempts = attempt + 1;
    if (!best || (r.foreignPct || 0) < (best.foreignPct || 0)) best = r;
    if (!(best.foreignPct > 20) || attempt >= T.retries || disturbSpentMs >= T.disturbBudgetMs) break;
  }
  return best;
}

async function measureOnceRaw(scn, name, profileName) {
  const sc = SCENARIOS[scn];
  const { child, info } = await startServer(name, !!(sc.params && sc.params.deflate), profileName);
  const target = { port: info.port, pid: info.pid, raw: name === 'raw' };
  try {
    if (sc.run === 'idle') {
      await lg('idleOpen', target, { n: 200, conc: 100 }); // touch every code path once
      await lg('idleClose', target);
      await sleep(200);
      const m0 = await serverMem(child);
      const o = await lg('idleOpen', target, { n: T.idleN, conc: 200 });
      await sleep(500);
      const m1 = await serverMem(child);
      await lg('idleClose', target);
      return {
        info, opened: o.opened, openSeconds: o.seconds,
        rssKiBPerConn: (m1.rss - m0.rss) / 1024 / o.opened,
        heapKiBPerConn: (m1.heapUsed + m1.external - m0.heapUsed - m0.external) / 1024 / o.opened,
        rssBefore: m0.rss, rssAfter: m1.rss,
      };
    }
    const r = await lg(sc.run, target, { ...sc.params, warmMs: T.warmMs, measureMs: T.measureMs });
    const cores = r.coreBusyPct || [];
    return { info, ...r, srvCorePct: PIN ? cores[Number(SERVER_CPU)] : NaN, lgCorePct: PIN ? cores[Number(LOADGEN_CPU)] : NaN };
  } finally {
    await killChild(child);
  }
}

/**
 * One round of an interleaved scenario: every server started at once and
 * measured by the load generator in alternated slices (see loadgen.js
 * `handshakes`). A round disturbed by other processes is measured again, as
 * in measureOnce.
 */
async function measureInterleaved(scn, names, round) {
  const sc = SCENARIOS[scn];
  let best;
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = await waitQuiet();
    const t0 = Date.now();
    const started = [];
    let results;
    try {
      for (const name of names) started.push(await startServer(name, false, `${scn}-${name}-r${round + 1}${attempt ? `-a${attempt + 1}` : ''}`));
      const targets = started.map(({ info }, i) => ({ port: info.port, pid: info.pid, raw: names[i] === 'raw' }));
      const rs = await lg(sc.run, targets, {
        ...sc.params, round, coldMs: T.warmMs, warmMs: T.warmMs * (sc.warmFactor || 1), slices: T.slices, sliceMs: T.sliceMs, settleMs: T.settleMs,
      });
      results = {};
      names.forEach((name, i) => {
        const cores = rs[i].coreBusyPct || [];
        results[name] = { info: started[i].info, ...rs[i], srvCorePct: PIN ? cores[Number(SERVER_CPU)] : NaN, lgCorePct: PIN ? cores[Number(LOADGEN_CPU)] : NaN };
      });
    } finally {
      for (const { child } of started) await killChild(child);
    }
    if (attempt > 0) disturbSpentMs += Date.now() - t0;
    const foreign = Math.max(...Object.values(results).map((r) => r.foreignPct || 0));
    for (const r of Object.values(results)) { r.busyBefore = before; r.attempts = attempt + 1; }
    if (!best || foreign < best.foreign) best = { results, foreign };
    if (!(best.foreign > 20) || attempt >= T.retries || disturbSpentMs >= T.disturbBudgetMs) break;
  }
  return best.results;
}

// ---------------------------------------------------------------- report

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

function spreadCell(s, fmt) {
  if (!Number.isFinite(s.median)) return '—';
  return s.n > 1 ? `${fmt(s.median)} [${fmt(s.min)}–${fmt(s.max)}]` : fmt(s.median);
}

function report(scn, res) {
  const sc = SCENARIOS[scn];
  const cols = [];
  for (const m of sc.metrics) {
    cols.push({ head: m.label, cell: (r) => spreadCell(r.summary[m.key], m.fmt) });
    if ((m.primary || m.ratio) && res.ws) {
      cols.push({ head: 'vs ws', cell: (r) => (Number.isFinite(r.ratio[m.key]) ? `${r.ratio[m.key].toFixed(2)}×` : '—') });
    }
  }
  if (sc.run !== 'idle') {
    const pct = (s) => (Number.isFinite(s.median) ? `${s.median.toFixed(0)}%` : '—');
    cols.push({ head: 'srv CPU (core)', cell: (r) => `${pct(r.summary.srvCpuPct)} (${pct(r.summary.srvCorePct)})` });
    cols.push({ head: 'lg CPU (core)', cell: (r) => `${pct(r.summary.lgCpuPct)} (${pct(r.summary.lgCorePct)})` });
    cols.push({ head: 'others', cell: (r) => pct(r.summary.foreignPct) });
    cols.push({ head: 'limit', cell: (r) => limitOf(r) });
  }
  const rows = Object.entries(res).map(([name, r]) => [LABEL[name], ...cols.map((c) => c.cell(r))]);
  const heads = ['server', ...cols.map((c) => c.head)];
  const w = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(`\n${sc.title}`);
  console.log(heads.map((h, i) => (i === 0 ? pad(h, w[i]) : lpad(h, w[i]))).join('  '));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? pad(c, w[i]) : lpad(c, w[i]))).join('  '));
  const notes = new Set();
  for (const [name, r] of Object.entries(res)) {
    for (const x of r.rounds) {
      if (x.foreignPct > 15) notes.add(`${LABEL[name]}: other processes took ${x.foreignPct.toFixed(0)}% of a core during a round: numbers are noisy`);
      if (x.errors) notes.add(`${LABEL[name]}: ${x.errors} socket errors${x.lastError ? ` (${x.lastError})` : ''}`);
      if (x.mismatches) notes.add(`${LABEL[name]}: ${x.mismatches} replies with the wrong opcode or payload`);
      for (const n of x.notes || []) notes.add(`${LABEL[name]}: ${n}`);
      if (x.compressedFraction !== undefined && x.compressedFraction < 0.99) notes.add(`${LABEL[name]}: only ${(100 * x.compressedFraction).toFixed(0)}% of replies compressed`);
      if (x.opened !== undefined && x.opened < T.idleN) notes.add(`${LABEL[name]}: only ${x.opened} connections opened`);
    }
  }
  for (const n of notes) console.log(`  note: ${n}`);
  // Load-generator headroom: the raw TCP run shows what the harness itself can do.
  const primary = sc.metrics.find((m) => m.primary);
  if (res.raw && !primary.lower && !sc.interleaved) {
    const ws = Object.entries(res).filter(([n]) => n !== 'raw');
    if (ws.length) {
      const [bestName, best] = ws.reduce((a, b) => (b[1].summary[primary.key].median > a[1].summary[primary.key].median ? b : a));
      const x = res.raw.summary[primary.key].median / best.summary[primary.key].median;
      console.log(`  loadgen headroom: raw TCP ${primary.fmt(res.raw.summary[primary.key].median)} ${primary.label} = ${x.toFixed(1)}× the best WebSocket server (${LABEL[bestName]}); ` +
        `loadgen CPU ${res.raw.summary.lgCpuPct.median.toFixed(0)}% in the raw run, ${best.summary.lgCpuPct.median.toFixed(0)}% in that server's`);
    }
  }
}

function limitOf(r) {
  // A core counts as saturated if the process or the core as a whole (which
  // includes the kernel's softirq work for loopback TCP) is ≥ 90% busy.
  const s = Math.max(r.summary.srvCpuPct.median, r.summary.srvCorePct.median || 0);
  const l = Math.max(r.summary.lgCpuPct.median, r.summary.lgCorePct.median || 0);
  if (s >= 90 && l >= 90) return 'both cores';
  if (s >= 90) return 'server core';
  if (l >= 90) return 'loadgen core';
  return 'neither core';
}

// ---------------------------------------------------------------- main

async function main() {
  const t0 = Date.now();
  console.log(`attach-ws bench ${QUICK ? '(quick)' : '(full)'}: node ${process.version}, ${cpus} cores, ` +
    (PIN ? `taskset: server on core ${SERVER_CPU}, loadgen on core ${LOADGEN_CPU}` : 'no pinning (taskset missing or < 2 cores)'));
  if (NICE !== undefined) console.log(`server and loadgen at nice ${NICE}`);
  if (CPU_PROF) console.log(`--cpu-prof: server profiles go to ${path.relative(process.cwd(), PROFILE_DIR)}/ (profiling slows every server: compare proportions, not these timings)`);
  console.log(`scenarios: ${only.join(', ')}; servers: ${servers.map((s) => LABEL[s]).join(', ')}; ` +
    `${T.rounds} rounds, warm-up ${T.warmMs} ms, window ${T.measureMs} ms`);

  loadgen = startChild(path.join(__dirname, 'loadgen.js'), [], [], { cpu: LOADGEN_CPU });
  await waitMessage(loadgen, (x) => x.ready, 10000, 'loadgen start');

  // Identify each server once (versions, and whether bufferutil really loaded).
  const infos = {};
  for (const name of servers.slice()) {
    try {
      const { child, info } = await startServer(name, false);
      await killChild(child);
      infos[name] = info;
      const extra = name === 'raw' ? 'net echo, no WebSocket' :
        name === 'attach' ? `attach-ws ${info.version} + express` :
        name === 'express-ws' ? `express-ws ${info.version} on ws ${info.wsVersion}, bufferutil ${info.bufferutil ? 'LOADED' : 'not loaded'}` :
        `ws ${info.version}, bufferutil ${info.bufferutil ? 'LOADED' : 'not loaded'}`;
      console.log(`  ${pad(LABEL[name], 14)} ${extra}`);
    } catch (err) {
      console.log(`notice: ${LABEL[name]} failed to start, skipping it: ${err.message.split('\n')[0]}`);
      servers = servers.filter((s) => s !== name);
    }
  }

  const out = {
    date: new Date().toISOString(), mode: QUICK ? 'quick' : 'full', node: process.version, cpus,
    cpuModel: (os.cpus()[0] || {}).model, pinned: PIN, timing: T, servers: infos, scenarios: {},
  };

  for (const scn of only) {
    const sc = SCENARIOS[scn];
    const names = servers.filter((s) => !(sc.skip || []).includes(s));
    const rounds = {};
    for (const n of names) rounds[n] = [];
    const ts = Date.now();
    process.stdout.write(`\n[${scn}] `);
    for (let r = 0; r < T.rounds && sc.interleaved; r++) {
      try {
        const res = await measureInterleaved(scn, names, r);
        for (const n of names) rounds[n][r] = res[n];
        process.stdout.write('.');
      } catch (err) {
        if (err instanceof Fatal || !loadgen.connected) throw new Fatal(`${err.message}; aborting`);
        for (const n of names) rounds[n][r] = { error: err.message };
        process.stdout.write('x');
        console.log(`\n  round ${r + 1}: ${err.message}`);
      }
    }
    for (let r = 0; r < T.rounds && !sc.interleaved; r++) {
      const k = r % names.length;
      const order = names.slice(k).concat(names.slice(0, k)); // rotate: no server is always first
      for (const n of order) {
        try {
          rounds[n][r] = await measureOnce(scn, n, r);
          process.stdout.write('.');
        } catch (err) {
          if (err instanceof Fatal || !loadgen.connected) throw new Fatal(`${err.message}; aborting`);
          rounds[n][r] = { error: err.message };
          process.stdout.write('x');
          console.log(`\n  ${LABEL[n]} round ${r + 1}: ${err.message}`);
        }
      }
    }
    process.stdout.write(` ${((Date.now() - ts) / 1000).toFixed(0)} s\n`);
    const res = {};
    for (const n of names) {
      const ok = rounds[n].filter((x) => x && !x.error);
      if (!ok.length) continue;
      const keys = ['srvCpuPct', 'lgCpuPct', 'srvCorePct', 'lgCorePct', 'foreignPct', ...sc.metrics.map((m) => m.key)];
      const sum = {};
      for (const key of keys) sum[key] = summary(ok.map((x) => x[key]));
      const ratio = {};
      if (rounds.ws) {
        for (const m of sc.metrics) {
          const per = [];
          for (let r = 0; r < T.rounds; r++) {
            const a = rounds[n][r];
            const b = rounds.ws[r];
            if (a && b && !a.error && !b.error) per.push(a[m.key] / b[m.key]);
          }
          ratio[m.key] = median(per);
        }
      }
      res[n] = { rounds: rounds[n], summary: sum, ratio };
    }
    report(scn, res);
    out.scenarios[scn] = { title: sc.title, params: sc.params, results: res };
  }

  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${out.date.replace(/:/g, '-').replace(/\..*/, '')}.json`);
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  if (T.disturbBudgetMs > 0) console.log(`\nwaited for quiet / re-measured for ${(disturbSpentMs / 1000).toFixed(0)} s (budget ${(T.disturbBudgetMs / 1000).toFixed(0)} s)`);
  console.log(`\nwrote ${path.relative(process.cwd(), file)} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  await killChild(loadgen);
}

main().catch((err) => {
  console.error(err);
  cleanupSync();
  process.exit(1);
});

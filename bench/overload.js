#!/usr/bin/env node
'use strict';
// npm run bench -- --only=overload [--quick] [--nodes=1,2] [--subs=N] [--factors=0.5,0.75,1,1.5,2,3]
//                  [--budget=BYTES] [--size=100]
//
// Overload: one publisher on node 0, N subscribers per node in one topic,
// offered load stepped from below the measured capacity to past twice it.
// Single node, and two nodes sharing the topic through a local redis-server.
// Prints, per step: offered and accepted msgs/s, deliveries/s (and % of the
// best step), p50/p99 latency, RSS and RSS growth per node; then what every
// subscriber lost or saw reordered, next to what the servers counted as
// skipped or dropped. See bench/README.md.

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const { flag, opt } = require('./lib/args');
const QUICK = flag('quick');
const T = QUICK
  ? { subs: 200, warmMs: 300, stepMs: 1000, calibrateMs: 1000 }
  : { subs: 500, warmMs: 1000, stepMs: 3000, calibrateMs: 2000 };
const SUBS = Number(opt('subs') || T.subs);
const SIZE = Number(opt('size') || 100);
const FACTORS = (opt('factors') || '0.5,0.75,1,1.5,2,3').split(',').map(Number);
const NODES = (opt('nodes') || '1,2').split(',').map(Number);
const BUDGET = opt('budget');
// --cpu-prof: every node runs under V8's sampling profiler and writes its
// profile to bench/results/profiles/ when the setup ends (read them with
// bench/profile-top.js; profiling slows the nodes: compare proportions).
const CPU_PROF = flag('cpu-prof');
const PROFILE_DIR = path.join(__dirname, 'results', 'profiles');

const cpus = os.availableParallelism ? os.availableParallelism() : os.cpus().length;
const PIN = cpus >= 2 && spawnSync('taskset', ['-c', '0', 'true']).status === 0;

const children = new Set();
function start(cmd, args, { cpu, env, ipc = true } = {}) {
  const [c, a] = PIN && cpu !== undefined ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args];
  const child = spawn(c, a, { stdio: ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'ignore', 'inherit'], env: env || process.env });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
function killAll() {
  for (const c of children) { try { c.kill('SIGKILL'); } catch {} }
  children.clear();
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { killAll(); process.exit(130); });

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

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function startRedis() {
  const bin = spawnSync('sh', ['-c', 'command -v redis-server']).stdout.toString().trim();
  if (!bin) throw new Error('redis-server not found (apt-get install redis-server): the two-node run needs it');
  const port = await freePort();
  const child = start(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', os.tmpdir()], { ipc: false });
  const t0 = Date.now();
  while (!(await ping(port))) {
    if (Date.now() - t0 > 10000 || child.exitCode !== null) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, url: `redis://127.0.0.1:${port}`, child };
}

function ping(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const done = (ok) => { s.destroy(); resolve(ok); };
    s.setTimeout(1000, () => done(false));
    s.on('error', () => done(false));
    s.on('connect', () => s.write('*1\r\n$4\r\nPING\r\n'));
    s.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

async function startNode(i, redisUrl) {
  const env = { ...process.env };
  if (redisUrl) env.REDIS_URL = redisUrl;
  if (BUDGET) env.DELIVERY_BUDGET = BUDGET;
  // Node 0 (the publisher's) gets core 0 to itself; node 1 shares core 1 with the load generator.
  const nodeArgs = CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=overload-n${i}-${Date.now()}.cpuprofile`] : [];
  const child = start(process.execPath, [...nodeArgs, path.join(__dirname, 'overload-node.js')], { cpu: i === 0 ? 0 : 1, env });
  const m = await waitMessage(child, (x) => x.ready, 15000, `node ${i} start`);
  return { child, ...m.ready };
}

function nodeStats(node) {
  node.child.send({ cmd: 'stats' });
  return waitMessage(node.child, (x) => x.stats, 10000, 'node stats');
}

const MiB = 1024 * 1024;
const fmt = (d) => (x) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—');
const n0 = fmt(0);
const n1 = fmt(1);
const n2 = fmt(2);
const pct = (x) => (Number.isFinite(x) ? `${(100 * x).toFixed(0)}%` : '—');

function table(heads, rows) {
  const w = heads.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  console.log(heads.map((h, i) => (i === 0 ? h.padEnd(w[i]) : h.padStart(w[i]))).join('  '));
  for (const r of rows) console.log(r.map((c, i) => (i === 0 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  '));
}

async function runSetup(nodeCount) {
  const redis = nodeCount > 1 ? await startRedis() : null;
  const nodes = [];
  for (let i = 0; i < nodeCount; i++) nodes.push(await startNode(i, redis && redis.url));
  const load = start(process.execPath, [path.join(__dirname, 'overload-load.js')], { cpu: 1 });
  await waitMessage(load, (x) => x.ready, 10000, 'load generator start');
  try {
    console.log(`\noverload, ${nodeCount} node${nodeCount > 1 ? 's through redis-server' : ''}: ${SUBS} subscribers per node, ` +
      `one publisher on node 0, ${SIZE}-byte text; delivery budget ${n0(nodes[0].budget / MiB)} MiB per node`);
    load.send({
      cmd: 'run',
      params: {
        targets: nodes.map((n) => ({ port: n.port, pid: n.pid })), subsPerNode: SUBS, size: SIZE, factors: FACTORS,
        warmMs: T.warmMs, stepMs: T.stepMs, calibrateMs: T.calibrateMs,
      },
    });
    load.on('message', (m) => {
      if (m.probe) {
        Promise.all(nodes.map((n, i) => { n.child.send({ cmd: 'probe', id: m.probe }); return waitMessage(n.child, (x) => x.probe && x.probe.id === m.probe, 10000, `node ${i} probe`); }))
          .then((rs) => load.send({ probeResult: m.probe, nodes: rs.map((r) => r.probe) }), () => load.send({ probeResult: m.probe, nodes: nodes.map(() => ({ cpuUs: NaN, gcMs: NaN, gcCount: NaN, pausedMs: NaN, pauses: NaN })) }));
      }
      if (m.progress) process.stdout.write(`  step ×${m.progress.factor}: ${n0(m.progress.deliveries)} deliveries/s\n`);
    });
    const m = await waitMessage(load, (x) => x.result || x.error, 600000, 'overload run');
    if (m.error) throw new Error(m.error);
    const r = m.result;
    const stats = await Promise.all(nodes.map(nodeStats));
    const peak = Math.max(...r.steps.map((s) => s.deliveries));
    console.log(`capacity (closed loop, ~64k deliveries outstanding): ${n0(r.capacity)} msgs/s = ${n0(r.capacity * r.subs)} deliveries/s`);
    // '% of offered': below ~100% the step is past what the server delivers (overload); at ~100% it
    // kept up, and its '% of peak' only says the offered rate was below the peak.
    const heads = ['offered', '× cap', 'accepted msgs/s', 'deliveries/s', '% of offered', '% of peak', 'p50 ms', 'p99 ms',
      ...nodes.flatMap((_, i) => [`RSS n${i} MiB`, `growth n${i}`])];
    const rows = r.steps.map((s) => [
      n0(s.offered), `${s.factor.toFixed(2)}×`, n0(s.accepted), n0(s.deliveries), `${((100 * s.deliveries) / (s.offered * r.subs)).toFixed(0)}%`,
      `${((100 * s.deliveries) / peak).toFixed(0)}%`,
      n1(s.p50Ms), n1(s.p99Ms), ...s.rss.flatMap((v, i) => [n0(v / MiB), `${s.rssGrowth[i] >= 0 ? '+' : ''}${n0(s.rssGrowth[i] / MiB)}`]),
    ]);
    table(heads, rows);
    // Where the time went, per step: a node that does more work per delivery
    // under overload (GC, pause/resume churn) shows it here, and a generator
    // near 100% of its core means the generator, not the server, is the limit.
    console.log('per step: CPU (cores), event-loop busy share, µs of CPU per delivery of each node, its share of CPU in GC, its share of the step with the publisher paused (and how many pauses); the load generator\'s CPU');
    table(['× cap', ...nodes.flatMap((_, i) => [`n${i} CPU`, `n${i} busy`, `n${i} µs/deliv`, `n${i} GC`, `n${i} paused`])
      , 'loadgen CPU'], r.steps.map((s) => [
      `${s.factor.toFixed(2)}×`,
      ...s.nodeCost.flatMap((c) => [n2(c.cpu), pct(c.elu), n2(c.usPerDelivery), pct(c.gcShare), `${pct(c.pausedShare)} (${n0(c.pauses)})`]),
      n2(s.loadCpu),
    ]));
    const counted = stats.reduce((a, s) => a + s.stats.topics.skipped + s.stats.delivery.droppedDeliveries, 0) +
      stats.reduce((a, s) => a + (s.adapter ? s.adapter.dropped * SUBS : 0), 0);
    console.log(`messages published ${n0(r.issued)} → ${n0(r.issued * r.subs)} deliveries due; lost ${n0(r.lost)}, reordered ${n0(r.reordered)}; ` +
      `counted by the servers as skipped/dropped: ${n0(counted)}` + (r.lost > counted ? '  ← UNCOUNTED LOSS' : ''));
    stats.forEach((s, i) => {
      const d = s.stats.delivery;
      console.log(`  node ${i}: peak queued ${n1(d.peakQueuedBytes / MiB)} MiB of ${n0(d.budget / MiB)}; publisher paused ${d.pauses}×; ` +
        `dropped from Redis ${d.droppedMessages} msgs (${d.droppedDeliveries} deliveries); skipped ${s.stats.topics.skipped}` +
        (s.adapter ? `; Redis gaps ${s.adapter.gaps}, publishes not carried ${s.adapter.dropped}` : '') +
        `; RSS after drain ${n0(r.rssAfterDrain[i] / MiB)} MiB (start ${n0(r.rssBase[i] / MiB)})`);
    });
    return { nodes: nodeCount, ...r, serverStats: stats };
  } finally {
    if (CPU_PROF) {
      await Promise.all(nodes.map((n) => new Promise((resolve) => {
        if (n.child.exitCode !== null) return resolve();
        n.child.once('exit', resolve);
        n.child.send({ cmd: 'exit' });
      })));
    }
    for (const c of [load, ...nodes.map((n) => n.child), ...(redis ? [redis.child] : [])]) {
      try { c.kill('SIGKILL'); } catch {}
    }
  }
}

async function main() {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) throw new Error('dist/ not found: run npm run build first');
  console.log(`attach-ws overload bench ${QUICK ? '(quick: a smoke test, not a result)' : '(full)'}: node ${process.version}, ${cpus} cores, ` +
    (PIN ? 'taskset: node 0 on core 0, load generator (and node 1) on core 1' : 'no pinning'));
  const out = { date: new Date().toISOString(), mode: QUICK ? 'quick' : 'full', node: process.version, cpus, cpuModel: (os.cpus()[0] || {}).model, runs: [] };
  for (const n of NODES) out.runs.push(await runSetup(n));
  const dir = path.join(__dirname, 'results');
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `overload-${out.date.replace(/:/g, '-').replace(/\..*/, '')}.json`);
  fs.writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
  console.log(`\nwrote ${path.relative(process.cwd(), file)}`);
}

main().then(() => process.exit(0), (err) => {
  console.error(err);
  killAll();
  process.exit(1);
});

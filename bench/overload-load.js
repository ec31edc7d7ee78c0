#!/usr/bin/env node
'use strict';
// The overload benchmark's load generator (started by bench/overload.js, pinned
// to its own core). Subscribers on every node, one publisher on node 0 sending
// sequence-numbered text messages at an offered rate (open loop), stepped up.
// Per step: deliveries/s, p99 latency (publisher write → subscriber read), RSS
// of every node (from /proc), what TCP held back. Every subscriber checks its
// sequence numbers: lost and reordered deliveries are counted, never guessed.
// IPC: {cmd:'run', params} → {result} | {error}.

const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const F = require('./lib/frames');
const { open, openMany, closeAll } = require('./lib/connect');
const { SeqFrames, seqPayload } = require('./lib/seq-frames');
const { Histogram } = require('./lib/stats');

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const RING = 1 << 21;
/** The publisher stops writing while this much waits in its own socket: TCP pushed back. */
const PUB_CAP = 1024 * 1024;

/** CPU, GC and paused time of every node so far (the parent asks them; see overload-node.js). */
let probeSeq = 0;
const probeWaiters = new Map();
function probeNodes() {
  const id = ++probeSeq;
  return new Promise((resolve) => {
    probeWaiters.set(id, resolve);
    process.send({ probe: id });
  });
}
process.on('message', (m) => {
  if (m && m.probeResult) {
    const done = probeWaiters.get(m.probeResult);
    probeWaiters.delete(m.probeResult);
    if (done) done(m.nodes);
  }
});
const selfCpuUs = () => { const c = process.cpuUsage(); return c.user + c.system; };

function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

async function run(p) {
  const { targets, subsPerNode, size } = p;
  const sentAt = new Float64Array(RING);
  const hist = new Histogram(100, 60000); // 0.1 ms buckets up to 60 s
  const nodes = targets.length;
  const st = { issued: 0, heldBack: 0, deliveries: new Float64Array(nodes), lost: 0, reordered: 0, closed: 0, received: 0 };

  // ---- subscribers
  const subs = [];
  for (let n = 0; n < nodes; n++) {
    const opened = await openMany(targets[n], '/sub', subsPerNode, 200);
    conns.push(...opened);
    for (const c of opened) {
      const sub = { last: -1, count: 0 };
      let t = 0;
      const frames = new SeqFrames(
        (seq) => {
          st.deliveries[n]++;
          sub.count++;
          if (seq === sub.last + 1) sub.last = seq;
          else if (seq > sub.last) {
            st.lost += seq - sub.last - 1;
            sub.last = seq;
          } else st.reordered++;
          hist.add(t - sentAt[seq & (RING - 1)]);
        },
        () => { st.closed++; },
      );
      c.onChunk = (chunk) => {
        t = now();
        frames.push(chunk);
      };
      c.sock.on('error', () => {});
      if (c.rest.length) c.onChunk(c.rest);
      subs.push(sub);
    }
  }
  const pub = await open(targets[0], '/pub');
  conns.push(pub);
  pub.sock.on('error', () => {});
  const total = () => st.deliveries.reduce((a, b) => a + b, 0);
  /** Wait until every subscriber has every message sent so far, or nothing arrived for 2 s (losses). */
  const drain = async () => {
    let prev = -1;
    for (let quiet = 0; quiet < 20 && total() + st.lost < st.issued * subs.length; ) {
      await sleep(100);
      const d = total();
      quiet = d === prev ? quiet + 1 : 0;
      prev = d;
    }
  };

  const send = (k) => {
    const t = now();
    const frames = new Array(k);
    for (let j = 0; j < k; j++) {
      const seq = st.issued++;
      sentAt[seq & (RING - 1)] = t;
      frames[j] = F.maskedFrame(1, seqPayload(seq, size));
    }
    pub.sock.write(k === 1 ? frames[0] : Buffer.concat(frames));
  };

  // ---- every subscriber on every node is reached (Redis subscriptions included)
  const allSubs = subs.length;
  const t0 = now();
  let probes = 0;
  while (total() < allSubs) {
    if (now() - t0 > 15000) throw new Error(`one message reached ${total()} of ${allSubs} subscribers`);
    if (probes < 200) { send(1); probes++; } // Redis may subscribe a moment later: probe again
    await sleep(50);
  }
  await sleep(200);

  // ---- capacity: closed loop, ~64k deliveries outstanding on node 0 (enough
  // that the loop measures throughput, not round-trip latency)
  const window = Math.max(16, Math.ceil(65536 / subsPerNode));
  let calibrating = true;
  const pump = () => {
    if (!calibrating) return;
    const outstanding = st.issued - Math.floor(st.deliveries[0] / subsPerNode);
    if (outstanding < window) send(window - outstanding);
  };
  const pumpTimer = setInterval(pump, 1);
  pump();
  await sleep(p.warmMs);
  const c0 = { t: now(), d: total() };
  await sleep(p.calibrateMs);
  const capacity = ((total() - c0.d) / ((now() - c0.t) / 1000)) / allSubs; // messages/s
  calibrating = false;
  clearInterval(pumpTimer);
  await drain(); // node 1 may lag behind node 0: start the steps from an empty pipe

  // ---- steps: open loop at factor × capacity
  const rssBase = targets.map((x) => rssOf(x.pid));
  const steps = [];
  for (const factor of p.factors) {
    const rate = factor * capacity;
    let stepStart = now();
    let due = 0;
    let last = stepStart;
    let measuring = false;
    const rssMax = targets.map(() => 0);
    const tick = () => {
      const t = now();
      due += (rate * (t - last)) / 1000;
      last = t;
      const k = Math.floor(due);
      if (k <= 0) return;
      due -= k;
      if (pub.sock.writableLength > PUB_CAP) {
        if (measuring) st.heldBack += k; // not offered: the server pushed back
        return;
      }
      send(Math.min(k, 4096));
    };
    const timer = setInterval(tick, 1);
    const rssTimer = setInterval(() => {
      if (measuring) targets.forEach((x, i) => { rssMax[i] = Math.max(rssMax[i], rssOf(x.pid)); });
    }, 100);
    await sleep(p.warmMs);
    measuring = true;
    hist.reset();
    stepStart = now();
    const a = { d: total(), dn: Array.from(st.deliveries), issued: st.issued, held: st.heldBack, lg: selfCpuUs(), probe: probeNodes() };
    await sleep(p.stepMs);
    const secs = (now() - stepStart) / 1000;
    const b = { d: total(), dn: Array.from(st.deliveries), issued: st.issued, held: st.heldBack, lg: selfCpuUs(), probe: probeNodes() };
    const [pa, pb] = await Promise.all([a.probe, b.probe]);
    const nodeCost = pb.map((q, i) => {
      const cpuUs = q.cpuUs - pa[i].cpuUs;
      const delivered = b.dn[i] - a.dn[i];
      return {
        cpu: cpuUs / 1e6 / secs, // cores
        usPerDelivery: delivered > 0 ? cpuUs / delivered : NaN,
        gcShare: (q.gcMs - pa[i].gcMs) / (cpuUs / 1000), // of the node's CPU time
        gcCount: q.gcCount - pa[i].gcCount,
        pausedShare: (q.pausedMs - pa[i].pausedMs) / (secs * 1000),
        pauses: q.pauses - pa[i].pauses,
        // Share of the step the node's event loop was busy (not waiting for I/O): below 100% under
        // overload, the node had nothing to do at times (empty pipes, or the generator is the limit).
        elu: (q.elu.active - pa[i].elu.active) / ((q.elu.idle + q.elu.active) - (pa[i].elu.idle + pa[i].elu.active)),
      };
    });
    measuring = false;
    clearInterval(timer);
    clearInterval(rssTimer);
    targets.forEach((x, i) => { rssMax[i] = Math.max(rssMax[i], rssOf(x.pid)); });
    steps.push({
      factor,
      offered: rate,
      accepted: (b.issued - a.issued) / secs,
      heldBack: (b.held - a.held) / secs,
      deliveries: (b.d - a.d) / secs,
      perNode: b.dn.map((v, i) => (v - a.dn[i]) / secs),
      p50Ms: hist.quantile(0.5) / 1000,
      p99Ms: hist.quantile(0.99) / 1000,
      rss: rssMax,
      rssGrowth: rssMax.map((r, i) => r - rssBase[i]),
      loadCpu: (b.lg - a.lg) / 1e6 / secs, // cores used by this generator
      nodeCost,
    });
    process.send({ progress: steps[steps.length - 1] });
  }

  // ---- drain, then account for every message
  await drain();
  let missingTail = 0;
  for (const s of subs) missingTail += st.issued - 1 - s.last;
  const result = {
    capacity, steps, subs: allSubs, issued: st.issued,
    lost: st.lost + missingTail, reordered: st.reordered, closedByServer: st.closed,
    rssAfterDrain: targets.map((x) => rssOf(x.pid)), rssBase,
  };
  return result;
}

let conns = [];
process.on('message', async (m) => {
  if (!m || m.cmd !== 'run') return;
  try {
    const result = await run(m.params);
    process.send({ result });
  } catch (err) {
    process.send({ error: String((err && err.stack) || err) });
  } finally {
    closeAll(conns);
    conns = [];
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: { pid: process.pid } });

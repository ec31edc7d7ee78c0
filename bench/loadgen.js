#!/usr/bin/env node
'use strict';
// The load generator: raw `net` sockets, handshake by hand, frames masked once
// up front, replies counted by header (payloads skipped). Started by run.js
// (pinned to the other core) and driven over IPC: {id, scenario, target, params}.
// target = {port, pid, raw}: `raw` means the raw-TCP echo, whose replies are our
// own bytes back, counted by length instead of parsed.

const net = require('node:net');
const fs = require('node:fs');
const { performance } = require('node:perf_hooks');
const F = require('./lib/frames');
const { Histogram } = require('./lib/stats');

const now = () => performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Server CPU time (user+system, all threads) in ms, from /proc/<pid>/stat. */
function procCpuMs(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10; // CLK_TCK = 100 on Linux
  } catch {
    return NaN;
  }
}

function cpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Per-core busy and total jiffies from /proc/stat (busy includes irq/softirq). */
function coreTicks() {
  const out = [];
  try {
    for (const line of fs.readFileSync('/proc/stat', 'latin1').split('\n')) {
      const m = /^cpu(\d+) (.*)/.exec(line);
      if (!m) continue;
      const f = m[2].trim().split(/\s+/).map(Number);
      const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user..steal
      out[Number(m[1])] = { busy: total - f[3] - f[4], irq: f[5] + f[6], total };
    }
  } catch {}
  return out;
}

/** Snapshot of everything a window needs, taken at its start and end. */
function snap(pid, counters) {
  return { t: now(), srv: procCpuMs(pid), lg: cpuMs(), cores: coreTicks(), ...counters() };
}

const { open, openMany, closeAll } = require('./lib/connect');

const PAYLOADS = {
  text64: () => ({ opcode: 1, data: Buffer.from('x'.repeat(64)) }),
  bin1m: () => {
    const b = Buffer.allocUnsafe(1024 * 1024);
    for (let i = 0; i < b.length; i++) b[i] = (i * 7) & 0xff;
    return { opcode: 2, data: b };
  },
  json1k: () => {
    // JSON-ish text of exactly 1024 bytes: repetitive keys, varied values.
    const items = [];
    let s = '';
    for (let i = 0; ; i++) {
      items.push({ id: 1000 + i, user: `user${(i * 37) % 101}`, type: i % 3 ? 'message' : 'presence', ts: 1700000000000 + i * 1013, ok: i % 2 === 0 });
      const next = JSON.stringify({ room: 'general', seq: 42, items });
      if (next.length > 1000) break;
      s = next;
    }
    return { opcode: 1, data: Buffer.from(s.slice(0, -2) + ' '.repeat(1024 - s.length) + s.slice(-2)) };
  },
};

const scenarios = {
  /**
   * Closed-loop echo: `conns` connections, `inflight` messages outstanding on
   * each; every reply sends one more. Used by small, large and deflate.
   */
  async echo(target, p) {
    const { opcode, data } = PAYLOADS[p.payload]();
    const deflate = !!p.deflate;
    const body = deflate ? F.deflateMessage(data) : data;
    const frame = F.maskedFrame(opcode, body, deflate);
    const batch = F.repeat(frame, p.inflight);
    const flen = frame.length;
    const hist = new Histogram();
    const st = { msgs: 0, errors: 0, mismatches: 0, compressed: 0, verified: 0, notes: new Set() };

    const conns = await openMany(target, '/', p.conns, 100, { deflate });
    let dirty = [];
    const flushDirty = () => {
      const list = dirty;
      dirty = [];
      for (const c of list) c.flush();
    };
    for (const c of conns) {
      if (deflate && !target.raw) {
        if (!/permessage-deflate/.test(c.extensions)) throw new Error(`server did not accept permessage-deflate (extensions: "${c.extensions}")`);
        if (!/server_no_context_takeover/.test(c.extensions)) st.notes.add('server kept its deflate context; only first replies inflated');
        c.serverCtx = !/server_no_context_takeover/.test(c.extensions);
      }
    }

    for (const c of conns) {
      const ring = new Float64Array(p.inflight);
      let head = 0;
      let tail = 0;
      let pending = 0;
      let t = 0;
      let seen = 0;
      const sock = c.sock;
      const onReplies = (k) => {
        st.msgs += k;
        pending += k;
        for (let j = 0; j < k; j++) {
          hist.add(t - ring[head]);
          head = head + 1 === ring.length ? 0 : head + 1;
        }
      };
      let counter;
      if (target.raw) {
        counter = new F.LengthCounter(flen, onReplies);
      } else {
        const verifyN = c.serverCtx ? 1 : 2;
        counter = new F.FrameCounter(
          (op, rsv1, payload) => {
            if (op === 8) { st.notes.add('server closed a connection'); return; }
            if (op !== opcode) { st.mismatches++; }
            if (rsv1) st.compressed++;
            if (payload !== null) {
              try {
                const got = rsv1 ? F.inflateMessage(payload) : payload;
                if (!got.equals(data)) st.mismatches++;
              } catch (err) {
                st.mismatches++;
                st.notes.add(`inflate failed: ${err.message}`);
              }
              st.verified++;
            }
            seen++;
            onReplies(1);
          },
          (op) => seen < (deflate ? verifyN : 1) && op !== 8,
        );
      }
      // Replies are counted as they arrive; the messages they release are
      // written once per event-loop turn per connection (one write for all
      // chunks read in that turn), which keeps our syscalls per message low.
      c.flush = () => {
        c.dirty = false;
        if (pending === 0 || stopped) return;
        const tw = now();
        sock.write(pending === p.inflight ? batch : batch.subarray(0, pending * flen));
        for (let j = 0; j < pending; j++) {
          ring[tail] = tw;
          tail = tail + 1 === ring.length ? 0 : tail + 1;
        }
        pending = 0;
      };
      c.onChunk = (chunk) => {
        t = now();
        counter.push(chunk);
        if (pending > 0 && !c.dirty) {
          c.dirty = true;
          dirty.push(c);
          if (dirty.length === 1) setImmediate(flushDirty);
        }
      };
      sock.on('error', () => { st.errors++; });
      c.start = () => {
        t = now();
        for (let j = 0; j < p.inflight; j++) { ring[tail] = t; tail = tail + 1 === ring.length ? 0 : tail + 1; }
        sock.write(batch);
        if (c.rest.length) c.onChunk(c.rest);
      };
    }
    let stopped = false;
    for (const c of conns) c.start();

    const counters = () => ({ msgs: st.msgs });
    await sleep(p.warmMs);
    const a = snap(target.pid, counters);
    hist.reset();
    await sleep(p.measureMs);
    const b = snap(target.pid, counters);
    stopped = true;
    closeAll(conns);
    return windowResult(a, b, {
      payloadBytes: data.length,
      p50Ms: hist.quantile(0.5) / 1000,
      p99Ms: hist.quantile(0.99) / 1000,
      errors: st.errors,
      mismatches: st.mismatches,
      compressedFraction: deflate && !target.raw ? st.compressed / Math.max(1, st.msgs) : undefined,
      verified: st.verified,
      notes: [...st.notes],
    });
  },

  /**
   * Connect, upgrade, one echo, close; `conc` of those loops in parallel,
   * against every target in turn. A handshake costs a few hundred µs, and
   * this machine's speed drifts by ±15% over seconds, which measured one
   * server after another shows up as a ±15% ratio. So every server of the
   * round is alive at once and measured in short slices, alternated: drift
   * then falls on all of them alike. Each server first gets `warmMs` of
   * handshakes on its own: a fresh process spends its first seconds compiling
   * its hot code (on the same core), and what is compared is the cost of an
   * upgrade to a running server. The CPU per handshake of the first `coldMs`
   * of a fresh process is reported as well, as `coldUsPerOp`.
   */
  async handshakes(targets, p) {
    const acc = targets.map(() => ({ t: 0, msgs: 0, srv: 0, lg: 0, cores: [], slices: [] }));
    const cold = [];
    const runs = [];
    const warmOrder = targets.map((_, i) => (i + (p.round || 0)) % targets.length); // rotated per round
    for (const i of warmOrder) {
      const target = targets[i];
      const run = handshakeLoops(target, p.conc);
      runs[i] = run;
      const a = snap(target.pid, () => ({ msgs: run.st.done }));
      await sleep(p.coldMs);
      const b = snap(target.pid, () => ({ msgs: run.st.done }));
      await sleep(p.warmMs - p.coldMs);
      await run.stop();
      cold[i] = ((b.srv - a.srv) * 1000) / Math.max(1, b.msgs - a.msgs);
    }
    for (let s = 0; s < p.slices; s++) {
      for (let k = 0; k < targets.length; k++) {
        // Rotated, and reversed every other slice: no server always comes first, or after the same one.
        const j = (s + k) % targets.length;
        const i = s % 2 === 0 ? j : targets.length - 1 - j;
        const run = (runs[i] = handshakeLoops(targets[i], p.conc, runs[i].st));
        await sleep(p.settleMs); // the 32 loops are in full swing before the window opens
        const a = snap(targets[i].pid, () => ({ msgs: run.st.done }));
        await sleep(p.sliceMs);
        const b = snap(targets[i].pid, () => ({ msgs: run.st.done }));
        await run.stop();
        addWindow(acc[i], a, b);
      }
    }
    const zero = { t: 0, msgs: 0, srv: 0, lg: 0, cores: acc[0].cores.map(() => ({ busy: 0, irq: 0, total: 0 })) };
    return targets.map((target, i) => {
      const st = runs[i].st;
      return windowResult(zero, acc[i], {
        errors: st.errors, lastError: st.lastError || undefined, coldUsPerOp: cold[i],
        sliceUsPerOp: acc[i].slices,
      });
    });
  },

  /** Opens `n` idle connections and keeps them until idleClose. */
  async idleOpen(target, p) {
    const t0 = now();
    state.idle = await openMany(target, '/', p.n, p.conc);
    for (const c of state.idle) c.sock.on('error', () => {});
    return { opened: state.idle.length, seconds: (now() - t0) / 1000 };
  },

  async idleClose() {
    const n = state.idle ? state.idle.length : 0;
    if (state.idle) closeAll(state.idle);
    state.idle = null;
    await sleep(200);
    return { closed: n };
  },

  /**
   * `subs` subscribers on /sub, one publisher on /pub. Each message the
   * publisher sends is one broadcast; at most `window` broadcasts are kept
   * outstanding (sent minus deliveries/subs).
   */
  async broadcast(target, p) {
    const { opcode, data } = PAYLOADS[p.payload]();
    const frame = F.maskedFrame(opcode, data);
    const batch = F.repeat(frame, p.window);
    const subs = await openMany(target, '/sub', p.subs, 200);
    const pub = await open(target, '/pub');
    const st = { deliveries: 0, sent: 0, errors: 0, mismatches: 0 };
    let stopped = false;
    let running = false;
    const pump = () => {
      if (stopped || !running) return;
      const k = p.window - (st.sent - Math.floor(st.deliveries / p.subs));
      if (k > 0) {
        pub.sock.write(k === p.window ? batch : batch.subarray(0, k * frame.length));
        st.sent += k;
      }
    };
    for (const c of subs) {
      const onN = (k) => { st.deliveries += k; pump(); };
      const counter = target.raw
        ? new F.LengthCounter(frame.length, onN)
        : new F.FrameCounter((op) => { if (op !== opcode) st.mismatches++; else onN(1); });
      c.onChunk = (chunk) => counter.push(chunk);
      if (c.rest.length) counter.push(c.rest);
      c.sock.on('error', () => { st.errors++; });
    }
    pub.sock.on('error', () => { st.errors++; });
    // Prove the fan-out first: one broadcast must reach every subscriber.
    await sleep(100); // let attach-time work (subscribe) settle
    pub.sock.write(frame);
    const t0 = now();
    while (st.deliveries < p.subs && now() - t0 < 5000) await sleep(5);
    if (st.deliveries !== p.subs) {
      stopped = true;
      closeAll(subs); closeAll([pub]);
      throw new Error(`one broadcast reached ${st.deliveries} of ${p.subs} subscribers`);
    }
    st.deliveries = 0;
    running = true;
    pump();
    await sleep(p.warmMs);
    const counters = () => ({ msgs: st.deliveries });
    const a = snap(target.pid, counters);
    await sleep(p.measureMs);
    const b = snap(target.pid, counters);
    stopped = true;
    closeAll(subs); closeAll([pub]);
    return windowResult(a, b, { errors: st.errors, mismatches: st.mismatches });
  },
};

function windowResult(a, b, extra) {
  const s = (b.t - a.t) / 1000;
  const msgs = b.msgs - a.msgs;
  const srvMs = b.srv - a.srv;
  const r = {
    seconds: s,
    count: msgs,
    perSec: msgs / s,
    srvCpuPct: (100 * srvMs) / (b.t - a.t),
    lgCpuPct: (100 * (b.lg - a.lg)) / (b.t - a.t),
    srvCpuUsPerOp: msgs ? (srvMs * 1000) / msgs : NaN,
    // CPU on all cores not charged to the server or to us, nor to (soft)irq
    // work: other processes (a test run, an editor) competing for the cores.
    foreignPct: (() => {
      let busy = 0;
      let irq = 0;
      b.cores.forEach((c, i) => { if (a.cores[i]) { busy += c.busy - a.cores[i].busy; irq += c.irq - a.cores[i].irq; } });
      return Math.max(0, (100 * (busy - irq) * 10) / (b.t - a.t) - (100 * srvMs) / (b.t - a.t) - (100 * (b.lg - a.lg)) / (b.t - a.t));
    })(),
    coreBusyPct: b.cores.map((c, i) => (a.cores[i] ? (100 * (c.busy - a.cores[i].busy)) / Math.max(1, c.total - a.cores[i].total) : NaN)),
    ...extra,
  };
  if (extra && extra.payloadBytes) r.mbPerSec = (r.perSec * extra.payloadBytes) / 1e6;
  return r;
}

/**
 * `conc` loops of connect, upgrade, one echo, close handshake, wait for the
 * TCP close, until stop() (which resolves once every loop has finished its
 * handshake). `st` carries counts over from an earlier run.
 */
function handshakeLoops(target, conc, st = { done: 0, errors: 0, lastError: '' }) {
  const msg = F.maskedFrame(1, Buffer.from('hello'));
  const closeFrame = F.maskedFrame(8, Buffer.from([0x03, 0xe8]));
  const req = F.upgradeRequest('/', target.port, false);
  let stopped = false;
  const live = new Set();

  function one() {
    return new Promise((resolve) => {
      const sock = net.connect({ port: target.port, host: '127.0.0.1', noDelay: true });
      live.add(sock);
      let phase = 0; // 0 response, 1 echo, 2 close frame, 3 waiting for TCP close
      let got = 0;
      let hbuf = '';
      const counter = target.raw ? null : new F.FrameCounter((op) => {
        if (phase === 1 && op === 1) { phase = 2; sock.write(closeFrame); }
        else if (phase === 2 && op === 8) { phase = 3; sock.end(); }
      });
      sock.on('connect', () => sock.write(req));
      sock.on('data', (chunk) => {
        if (target.raw) {
          got += chunk.length;
          if (phase === 0 && got >= req.length) { phase = 1; got -= req.length; sock.write(msg); }
          if (phase === 1 && got >= msg.length) { phase = 2; got -= msg.length; sock.write(closeFrame); }
          if (phase === 2 && got >= closeFrame.length) { phase = 3; sock.end(); }
          return;
        }
        if (phase === 0) {
          hbuf += chunk.toString('latin1');
          const i = hbuf.indexOf('\r\n\r\n');
          if (i === -1) return;
          if (!hbuf.startsWith('HTTP/1.1 101')) { st.lastError = hbuf.split('\r\n')[0]; sock.destroy(); return; }
          phase = 1;
          sock.write(msg);
          const rest = Buffer.from(hbuf.slice(i + 4), 'latin1');
          if (rest.length) counter.push(rest);
          return;
        }
        counter.push(chunk);
      });
      sock.on('error', (err) => { st.lastError = err.code || err.message; });
      sock.on('close', () => {
        live.delete(sock);
        if (phase === 3) st.done++;
        else st.errors++;
        resolve();
      });
    });
  }
  async function loop() {
    while (!stopped) await one();
  }
  const loops = Array.from({ length: conc }, loop);
  return {
    st,
    async stop() {
      stopped = true;
      await Promise.race([Promise.all(loops), sleep(3000)]);
      for (const s of live) s.destroy();
    },
  };
}

/** Adds one measured window (snapshots a → b) to a running total shaped like a snapshot. */
function addWindow(acc, a, b) {
  acc.t += b.t - a.t;
  acc.msgs += b.msgs - a.msgs;
  acc.srv += b.srv - a.srv;
  acc.lg += b.lg - a.lg;
  b.cores.forEach((c, i) => {
    if (!a.cores[i]) return;
    const x = (acc.cores[i] ||= { busy: 0, irq: 0, total: 0 });
    x.busy += c.busy - a.cores[i].busy;
    x.irq += c.irq - a.cores[i].irq;
    x.total += c.total - a.cores[i].total;
  });
  acc.slices.push(b.msgs > a.msgs ? ((b.srv - a.srv) * 1000) / (b.msgs - a.msgs) : NaN);
}

const state = { idle: null };

process.on('message', async (m) => {
  try {
    const result = await scenarios[m.scenario](m.target, m.params || {});
    process.send({ id: m.id, result });
  } catch (err) {
    process.send({ id: m.id, error: String((err && err.message) || err) });
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ ready: { pid: process.pid } });

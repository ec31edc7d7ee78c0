#!/usr/bin/env node
'use strict';
// node bench/profile-top.js <file.cpuprofile>... [--top=30] [--by=function|file]
//
// The top self-time entries of one or more V8 CPU profiles (as written by
// `npm run bench -- --cpu-prof`), merged, in % of the non-idle samples.
// Several profiles of the same server (one per round) add up. Samples before
// the first one under `onconnection` (the server's start-up: module loading,
// compilation) are left out, so the numbers are about serving connections.
// --inclusive also lists total (self + callees) time of the top functions.

const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('--'));
const opt = (name, d) => {
  const a = args.find((x) => x.startsWith(`--${name}=`));
  return a ? a.slice(name.length + 3) : d;
};
const TOP = Number(opt('top', 30));
const BY = opt('by', 'function');
const INCLUSIVE = args.includes('--inclusive');
const START_AT = opt('start-at', 'onconnection');
if (files.length === 0) {
  console.error('usage: node bench/profile-top.js <file.cpuprofile>... [--top=30] [--by=function|file]');
  process.exit(1);
}

const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);
const self = new Map();
const incl = new Map();
let total = 0;
let idle = 0;
let gc = 0;

function shortUrl(url) {
  if (!url) return '';
  const s = url.replace(/^file:\/\//, '');
  const nm = s.lastIndexOf('node_modules/');
  if (nm !== -1) return s.slice(nm + 'node_modules/'.length);
  const dist = s.lastIndexOf('/dist/');
  if (dist !== -1) return s.slice(dist + 1);
  return s.startsWith('node:') ? s : path.basename(s);
}

for (const file of files) {
  const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const under = (id, name) => {
    for (let x = id; x !== undefined; x = parent.get(x)) if (byId.get(x).callFrame.functionName === name) return true;
    return false;
  };
  const counts = new Map();
  let started = !START_AT;
  for (const id of prof.samples) {
    if (!started) {
      if (!under(id, START_AT)) continue;
      started = true;
    }
    counts.set(id, (counts.get(id) || 0) + 1);
  }
  for (const [id, n] of counts) {
    const node = byId.get(id);
    const cf = node.callFrame;
    const name = cf.functionName || '(anonymous)';
    total += n;
    if (INCLUSIVE && !IDLE.has(name)) {
      const seen = new Set();
      for (let x = id; x !== undefined; x = parent.get(x)) {
        const f = byId.get(x).callFrame;
        const k = `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}${f.lineNumber >= 0 && f.url ? `:${f.lineNumber + 1}` : ''}`;
        if (seen.has(k)) continue;
        seen.add(k);
        incl.set(k, (incl.get(k) || 0) + n);
      }
    }
    if (name === '(idle)') { idle += n; continue; }
    if (name === '(garbage collector)') gc += n;
    const key = BY === 'file'
      ? (IDLE.has(name) ? name : shortUrl(cf.url) || '(native)')
      : `${name} ${shortUrl(cf.url)}${cf.lineNumber >= 0 && cf.url ? `:${cf.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) || 0) + n);
  }
}

const busy = total - idle;
console.log(`${files.length} profile(s), ${total} samples, ${busy} busy (${((100 * busy) / total).toFixed(0)}%), GC ${((100 * gc) / busy).toFixed(1)}% of busy`);
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP);
for (const [key, n] of rows) console.log(`${((100 * n) / busy).toFixed(1).padStart(5)}%  ${key}`);
if (INCLUSIVE) {
  console.log('\ntotal (self + callees):');
  const rows2 = [...incl.entries()].sort((a, b) => b[1] - a[1]).slice(0, TOP * 2);
  for (const [key, n] of rows2) console.log(`${((100 * n) / busy).toFixed(1).padStart(5)}%  ${key}`);
}

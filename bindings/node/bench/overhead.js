'use strict';
// What the binding adds to a call: the JS call's median and p99 against the
// latency the C library measures for itself (brain_get_stats: recall_p50_ns,
// search_p50_ns), for recall over 10,000 text memories and searchKnn over
// 100,000 random 128-d vectors (M 16, efConstruction 200, ef 64).
//
//   BRAINCORE_LIBRARY=/path/to/libbraincore.so.0 node bench/overhead.js [--small]
//
// --small: 1,000 memories and 10,000 vectors, for a quick look.
//
// The C figures come in buckets (within 12.5%, never below), so each case
// also times the bare FFI call (koffi straight to C, no argument checks, no
// results read into objects), in turns with the binding's: JS minus bare is
// what the binding's own JavaScript costs.

const { Brain, Index } = require('..');
const { C } = require('../lib/native');
const { rng } = require('../support/testing');

const small = process.argv.includes('--small');
const MEMORIES = small ? 1000 : 10000;
const VECTORS = small ? 10000 : 100000;
const DIM = 128;
const CALLS = 2000;
const WARMUP = 100;

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

function clock(fn, i) {
  const t0 = process.hrtime.bigint();
  fn(i);
  return Number(process.hrtime.bigint() - t0);
}

/** Time `calls` calls of fn(i) after a warm-up; sorted nanoseconds. */
function time(fn, calls) {
  for (let i = 0; i < WARMUP; i++) fn(i);
  const ns = new Float64Array(calls);
  for (let i = 0; i < calls; i++) ns[i] = clock(fn, i);
  return ns.sort();
}

/**
 * Time js(i) and bare(i) in turns, each first every other time (so both see
 * the same machine and neither always finds the caches the other warmed):
 * sorted nanoseconds of each. The callers give the two different inputs at
 * each i for the same reason.
 */
function timeBoth(js, bare, calls) {
  for (let i = 0; i < WARMUP; i++) {
    js(i);
    bare(i);
  }
  const a = new Float64Array(calls);
  const b = new Float64Array(calls);
  for (let i = 0; i < calls; i++) {
    if (i % 2) {
      a[i] = clock(js, i);
      b[i] = clock(bare, i);
    } else {
      b[i] = clock(bare, i);
      a[i] = clock(js, i);
    }
  }
  return { js: a.sort(), bare: b.sort() };
}

const us = (ns) => (ns / 1000).toFixed(1).padStart(8);

function report(name, { js, bare }, stats, kind) {
  const p50 = quantile(js, 0.5);
  const p99 = quantile(js, 0.99);
  const b50 = quantile(bare, 0.5);
  const c50 = stats[`${kind}_p50_ns`];
  const c99 = stats[`${kind}_p99_ns`];
  console.log(name);
  console.log(`  JS call    p50 ${us(p50)} us   p99 ${us(p99)} us`);
  console.log(`  bare FFI   p50 ${us(b50)} us   p99 ${us(quantile(bare, 0.99))} us`);
  console.log(`  C (stats)  p50 ${us(c50)} us   p99 ${us(c99)} us   (${kind}_p50_ns / _p99_ns)`);
  console.log(
    `  JS/C p50 ${(p50 / c50).toFixed(2)}x, JS - C p50 ${us(p50 - c50).trim()} us; ` +
      `JS - bare p50 ${us(p50 - b50).trim()} us (the binding's own JavaScript)`
  );
}

/** Check that C counted every timed call (so its figures are of these calls). */
function counted(stats, kind, before) {
  if (stats[`${kind}_count`] - before !== 2 * (CALLS + WARMUP)) throw new Error(`${kind} count does not match`);
  return stats;
}

function words(next, n) {
  const VOCAB = [
    'river', 'mountain', 'invoice', 'printer', 'meeting', 'rocket', 'garden', 'coffee', 'station', 'ticket',
    'planet', 'engine', 'harbor', 'library', 'winter', 'signal', 'market', 'bridge', 'forest', 'castle',
    'battery', 'keyboard', 'doctor', 'recipe', 'camera', 'island', 'violin', 'contract', 'server', 'orbit',
    'lantern', 'desert', 'pepper', 'tunnel', 'compass', 'glacier', 'ledger', 'puzzle', 'saddle', 'thunder',
  ];
  const out = [];
  for (let i = 0; i < n; i++) out.push(VOCAB[Math.floor(next() * VOCAB.length)]);
  return out.join(' ');
}

function cpuModel() {
  try {
    const m = /model name\s*:\s*(.*)/.exec(require('fs').readFileSync('/proc/cpuinfo', 'utf8'));
    return m ? m[1] : 'unknown';
  } catch {
    return 'unknown';
  }
}

function benchRecall() {
  const next = rng(1);
  const brain = new Brain();
  const texts = [];
  for (let i = 0; i < MEMORIES; i++) texts.push(`Note ${i}: ${words(next, 12)}.`);
  for (let i = 0; i < texts.length; i += 1000) brain.rememberMany(texts.slice(i, i + 1000));
  // time the steady state: the graph built in the background holds every vector
  const until = Date.now() + 120000;
  while (brain.stats().index_pending > 0 && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
  const queries = Array.from({ length: 64 }, () => words(next, 4));

  const count = time(() => brain.count(), CALLS);
  console.log(`koffi call baseline (brain.count()) p50 ${us(quantile(count, 0.5))} us`);

  const before = brain.stats().recall_count;
  const h = brain._h();
  const cQueries = queries.map((q) => Buffer.from(`${q}\0`));
  const out = [null];
  const times = timeBoth(
    (i) => brain.recall(queries[i % queries.length], { k: 10 }),
    (i) => {
      C.brain_recall_mode(h, cQueries[(i + 32) % queries.length], 10, 0, null, out);
      C.brain_results_free(out[0]);
    },
    CALLS
  );
  const s = counted(brain.stats(), 'recall', before);
  report(`recall k=10, ${MEMORIES} text memories`, times, s, 'recall');
  brain.close();
}

function benchSearch() {
  const next = rng(2);
  const data = new Float32Array(VECTORS * DIM);
  for (let i = 0; i < data.length; i++) data[i] = next() * 2 - 1;
  const index = new Index('l2', DIM);
  index.initIndex(VECTORS, 16, 200, 100);
  const t0 = process.hrtime.bigint();
  index.addPoints(data);
  console.log(`built ${VECTORS} x ${DIM}-d (M 16, efC 200) in ${(Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1)} s`);
  index.setEf(64);
  const queries = new Float32Array(256 * DIM);
  for (let i = 0; i < queries.length; i++) queries[i] = next() * 2 - 1;
  const q = (i) => queries.subarray((i % 256) * DIM, ((i % 256) + 1) * DIM);

  const brain = index._b();
  const before = brain.stats().search_count;
  const h = brain._h();
  const ids = new BigUint64Array(10);
  const dist = new Float32Array(10);
  const found = new BigUint64Array(1);
  const times = timeBoth(
    (i) => index.searchKnn(q(i), 10),
    (i) => C.brain_search(h, q(i + 128), 10, ids, dist, found),
    CALLS
  );
  const s = counted(brain.stats(), 'search', before);
  report(`searchKnn k=10, ef 64, ${VECTORS} x ${DIM}-d`, times, s, 'search');
  index.close();
}

console.log(`CPU: ${cpuModel()}; Node ${process.version}; ${CALLS} timed calls after ${WARMUP} warm-up`);
console.log('C side: brain_get_stats() over every call since open (buckets within 12.5%)');
benchRecall();
benchSearch();

'use strict';
// Helpers shared by the tests in ../test (kept out of test/, where node --test
// would run this file as a test of its own).

const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const bc = require('..');

/** A fresh temporary directory, removed after the test. */
function tempDir(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'braincore-node-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A predicate for assert.throws/rejects: the error family, the code and its C value. */
function isError(cls, code) {
  return (e) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e && e.name}: ${e && e.message}`);
    assert.ok(e instanceof bc.BrainError);
    assert.equal(e.code, code);
    assert.equal(e.errno, bc.codes[code]);
    assert.equal(e.name, cls.name);
    assert.ok(typeof e.message === 'string' && e.message.length > 0);
    return true;
  };
}

function throwsBrain(fn, cls, code) {
  assert.throws(fn, isError(cls, code));
}

function rejectsBrain(promise, cls, code) {
  return assert.rejects(promise, isError(cls, code));
}

/** A deterministic generator of floats in [0, 1) (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n random vectors of dim floats in [-1, 1), as one flat Float32Array. */
function randomVectors(n, dim, seed) {
  const next = rng(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = next() * 2 - 1;
  return out;
}

module.exports = { bc, tempDir, isError, throwsBrain, rejectsBrain, rng, randomVectors };

#!/usr/bin/env node
// bench/bench_embed_ort.js - the ONNX Runtime peer of the C BERT encoder:
// sentences per second of one BERT forward pass per sentence (batch 1), on
// one thread and on all cores, plus a check against the numpy reference.
//
//   tools/bert_model.py write M --layers 6 --hidden 384 --heads 12 \
//       --inter 1536 --max-pos 512 --vocab-words 30522
//   tools/bert_model.py sentences M 1000 S.txt          # ~12 tokens each
//   tools/bert_model.py embed M S.txt E.txt             # ids + reference vec
//   tools/bert_model.py onnx M M/model.onnx
//   (cd /tmp/ortbench && npm install onnxruntime-node)
//   NODE_PATH=/tmp/ortbench/node_modules node bench/bench_embed_ort.js \
//       M/model.onnx E.txt
//
// IDS file: lines "ids <token ids>" as `embed` writes them (with [CLS] and
// [SEP]); the "vec <floats>" line after an ids line is the reference
// embedding, and the first --check sentences that have one must match it
// within --tol (max abs difference) or the script exits 1. A sentence with
// --max-pos (default 512) ids or more is not checked: its reference is the
// average over several windows, the graph sees only the first. The output of
// `tokenize` (no specials) works too with --cls ID --sep ID.
//
// Options: --n 1000 (timed sentences, cycling through the file),
// --warmup 100, --check 8, --tol 1e-4, --threads 1,N (default: 1 and all
// cores), --spin 0|1 (ORT's intra-op thread spinning; default ORT's own).
// Prints one JSON object on stdout. Timings on a shared 2-core machine are
// noisy: run it when nothing else is busy, and more than once.
'use strict';

const fs = require('fs');
const os = require('os');

function loadOrt() {
  try {
    return require('onnxruntime-node');
  } catch (e) {
    process.stderr.write(
      'bench_embed_ort: cannot load onnxruntime-node (' + e.message.split('\n')[0] + ')\n' +
      'install it outside the repo, e.g. `mkdir -p /tmp/ortbench && cd /tmp/ortbench && ' +
      'npm install onnxruntime-node`, and run with NODE_PATH=/tmp/ortbench/node_modules\n');
    process.exit(2);
  }
}

function parseArgs(argv) {
  const opt = { n: 1000, warmup: 100, check: 8, tol: 1e-4, cls: null, sep: null, threads: null,
                spin: null, 'max-pos': 512 };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const key = a.slice(2);
      const val = argv[++i];
      if (val === undefined) throw new Error('missing value for ' + a);
      if (key === 'threads') opt.threads = val.split(',').map(Number);
      else if (key in opt) opt[key] = Number(val);
      else throw new Error('unknown option ' + a);
    } else {
      pos.push(a);
    }
  }
  if (pos.length !== 2) {
    throw new Error('usage: bench_embed_ort.js MODEL.onnx IDS_FILE [--n N] [--warmup N] ' +
                    '[--check N] [--tol X] [--cls ID --sep ID] [--threads 1,2] [--spin 0|1] [--max-pos N]');
  }
  opt.model = pos[0];
  opt.ids = pos[1];
  return opt;
}

function readIds(path, cls, sep) {
  const out = [];
  for (const line of fs.readFileSync(path, 'utf8').split('\n')) {
    if (line.startsWith('ids')) {
      let ids = line.slice(3).trim().split(/\s+/).filter((s) => s.length).map(Number);
      if (cls !== null) ids = [cls, ...ids, sep];
      out.push({ ids, ref: null });
    } else if (line.startsWith('vec ') && out.length) {
      out[out.length - 1].ref = line.slice(4).trim().split(/\s+/).map(Number);
    }
  }
  return out;
}

function toTensor(ort, ids) {
  return new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, ids.length]);
}

async function run(session, ort, ids) {
  const res = await session.run({ input_ids: toTensor(ort, ids) });
  return res.sentence_embedding.data;
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  const ort = loadOrt();
  const sents = readIds(opt.ids, opt.cls, opt.sep);
  if (!sents.length) throw new Error(opt.ids + ': no ids lines');
  const cores = os.cpus().length;
  const threadList = opt.threads || (cores > 1 ? [1, cores] : [1]);
  const result = {
    tool: 'onnxruntime-node',
    ort_version: (ort.env && ort.env.versions && ort.env.versions.common) || null,
    model: opt.model,
    sentences_in_file: sents.length,
    mean_tokens: sents.reduce((s, x) => s + x.ids.length, 0) / sents.length,
    cores,
    spin: opt.spin,
    check: null,
    runs: [],
  };

  for (const threads of threadList) {
    const options = {
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    };
    if (opt.spin !== null) {
      options.extra = { session: { intra_op: { allow_spinning: String(opt.spin) } } };
    }
    const session = await ort.InferenceSession.create(opt.model, options);
    if (result.check === null) {
      let maxDiff = 0;
      let checked = 0;
      for (const s of sents) {
        if (checked >= opt.check) break;
        if (!s.ref || s.ids.length >= opt['max-pos']) continue;  // maybe windowed
        const v = await run(session, ort, s.ids);
        if (v.length !== s.ref.length) throw new Error('embedding width ' + v.length + ' != ' + s.ref.length);
        for (let i = 0; i < v.length; i++) maxDiff = Math.max(maxDiff, Math.abs(v[i] - s.ref[i]));
        checked++;
      }
      result.check = { sentences: checked, max_abs_diff: maxDiff, tol: opt.tol, ok: maxDiff <= opt.tol };
    }
    for (let i = 0; i < opt.warmup; i++) await run(session, ort, sents[i % sents.length].ids);
    const times = [];
    let tokens = 0;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < opt.n; i++) {
      const ids = sents[i % sents.length].ids;
      const a = process.hrtime.bigint();
      await run(session, ort, ids);
      times.push(Number(process.hrtime.bigint() - a) / 1e6);
      tokens += ids.length;
    }
    const secs = Number(process.hrtime.bigint() - t0) / 1e9;
    times.sort((x, y) => x - y);
    result.runs.push({
      threads,
      sentences: opt.n,
      seconds: +secs.toFixed(4),
      sentences_per_sec: +(opt.n / secs).toFixed(1),
      tokens_per_sec: +(tokens / secs).toFixed(0),
      p50_ms: +percentile(times, 0.5).toFixed(4),
      p99_ms: +percentile(times, 0.99).toFixed(4),
    });
    if (typeof session.release === 'function') await session.release();
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  if (result.check && result.check.sentences && !result.check.ok) {
    process.stderr.write('bench_embed_ort: embeddings differ from the reference by ' +
                         result.check.max_abs_diff + ' > ' + opt.tol + '\n');
    process.exit(1);
  }
}

main().catch((e) => {
  process.stderr.write('bench_embed_ort: ' + (e && e.message ? e.message : e) + '\n');
  process.exit(2);
});

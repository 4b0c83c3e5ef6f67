'use strict';
// Brain: text memories, metadata and filters, keys, relations, documents,
// paging, vectors, durability on disk.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { bc, rng, tempDir, throwsBrain } = require('../support/testing');

const FACTS = [
  'The Eiffel Tower is 330 metres tall and stands in Paris.',
  'Mount Everest is the highest mountain on Earth, 8849 metres above sea level.',
  'The Pacific Ocean is the largest and deepest ocean.',
  'Honey never spoils: edible honey was found in ancient Egyptian tombs.',
  'Octopuses have three hearts and blue blood.',
];

function withBrain(t, options) {
  const b = new bc.Brain(options);
  t.after(() => b.close());
  return b;
}

test('remember returns increasing ids and recall finds the right memory', (t) => {
  const b = withBrain(t);
  const ids = FACTS.map((f, i) => b.remember(f, { importance: 0.2 + i * 0.1 }));
  assert.deepEqual(ids, [1, 2, 3, 4, 5]);
  assert.equal(b.count(), 5);

  const hits = b.recall('how tall is the eiffel tower', { k: 3 });
  assert.ok(hits.length >= 1 && hits.length <= 3);
  const top = hits[0];
  assert.equal(top.id, ids[0]);
  assert.equal(top.text, FACTS[0]);
  assert.ok(top.score > 0 && top.score <= 1.1);
  assert.ok(Math.abs(top.importance - 0.2) < 1e-6);
  assert.ok(Number.isInteger(top.created) && top.created > 1.5e12);
  assert.ok(top.accessed >= top.created);
  assert.equal(top.metadata, null);
  assert.equal(top.key, null);
  assert.equal(top.document, null);
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].score >= hits[i].score);

  assert.equal(b.recall('which animal has three hearts', { k: 1 })[0].id, ids[4]);
});

test('text goes to C whole: non-ASCII round trips byte for byte, Buffers are accepted', (t) => {
  const b = withBrain(t);
  const text = 'Zoë’s café serves crème brûlée 🍮 every Tuesday';
  const id = b.remember(text);
  assert.equal(b.get(id).text, text);
  const id2 = b.remember(Buffer.from('Ferns reproduce with spores, not seeds.'));
  assert.equal(b.get(id2).text, 'Ferns reproduce with spores, not seeds.');
  assert.equal(b.recall('crème brûlée', { k: 1 })[0].id, id);
});

test('recall modes: keyword finds the exact word, hybrid ranks it first too', (t) => {
  const b = withBrain(t);
  FACTS.forEach((f) => b.remember(f));
  const kw = b.recall('octopuses', { mode: 'keyword', k: 2 });
  assert.equal(kw.length, 1);
  assert.equal(kw[0].text, FACTS[4]);
  assert.equal(b.recall('octopuses blood', { mode: 'hybrid', k: 2 })[0].text, FACTS[4]);
  throwsBrain(() => b.recall('x', { mode: 'psychic' }), bc.InvalidArgumentError, 'BRAIN_EINVAL');
});

test('think answers from the memories it used, and says when it does not know', (t) => {
  const b = withBrain(t);
  const ids = FACTS.map((f) => b.remember(f));
  const r = b.think('How tall is the Eiffel Tower?');
  assert.equal(typeof r.answer, 'string');
  assert.match(r.answer, /330 metres/);
  assert.ok(r.memories.length >= 1);
  assert.equal(r.memories[0].id, ids[0]);

  const none = b.think('zyxwvut qqqq');
  assert.equal(none.memories.length, 0);
  assert.ok(none.answer.length > 0);
  assert.doesNotMatch(none.answer, /330/);
});

test('metadata: stored, filtered on, replaced, patched', (t) => {
  const b = withBrain(t);
  const a = b.remember('Invoice 17 was paid late', { metadata: { kind: 'billing', ts: 1700000000, tags: ['late'] } });
  const c = b.remember('The printer on floor 2 is jammed', { metadata: { kind: 'support', ts: 1700000500 } });
  const d = b.remember('Invoice 18 was paid on time', { metadata: '{"kind":"billing","ts":1700001000}' });

  assert.deepEqual(b.get(a).metadata, { kind: 'billing', ts: 1700000000, tags: ['late'] });
  assert.deepEqual(b.getMetadata(c), { kind: 'support', ts: 1700000500 });

  assert.equal(b.count('kind = "billing"'), 2);
  assert.equal(b.count('ts >= 1700000500'), 2);
  assert.equal(b.count('tags CONTAINS "late"'), 1);

  const billing = b.recall('invoice paid', { k: 5, where: 'kind = "billing"' });
  assert.deepEqual(billing.map((m) => m.id).sort(), [a, d]);
  const late = b.recall('invoice', { k: 5, where: 'kind = "billing" AND ts < 1700000500' });
  assert.deepEqual(late.map((m) => m.id), [a]);

  b.patchMetadata(a, { tags: null, paid: true });
  assert.deepEqual(b.getMetadata(a), { kind: 'billing', ts: 1700000000, paid: true });
  b.setMetadata(c, { kind: 'hardware' });
  assert.deepEqual(b.getMetadata(c), { kind: 'hardware' });
  b.setMetadata(c, null);
  assert.deepEqual(b.getMetadata(c), {});
  assert.equal(b.get(c).metadata, null);

  // big metadata goes through the growing buffer
  const long = 'x'.repeat(5000);
  b.patchMetadata(d, { note: long });
  assert.equal(b.getMetadata(d).note, long);

  assert.equal(b.forgetWhere('kind = "billing"'), 2);
  assert.equal(b.count(), 1);
  assert.equal(b.get(c).text, 'The printer on floor 2 is jammed');
});

test('results objects are freed on every path', (t) => {
  const b = withBrain(t);
  const ids = b.rememberMany(FACTS);
  b.relate(ids[0], ids[1], 'near');
  for (let i = 0; i < 3; i++) {
    b.recall('tower', { k: 3 });
    b.think('How tall is the Eiffel Tower?');
    b.get(ids[0]);
    b.list({ limit: 2 });
    b.neighbors(ids[0]);
    throwsBrain(() => b.get(999), bc.NotFoundError, 'BRAIN_ENOTFOUND');
  }
  assert.equal(Number(b.stats().heap_results_bytes), 0);
});

test('keys: upsert replaces in place, keyId and forgetKey', (t) => {
  const b = withBrain(t);
  const id = b.upsert('user:42:city', 'User 42 lives in Lisbon', { metadata: { src: 'form' } });
  b.remember('An unrelated memory about tides');
  const again = b.remember('User 42 moved to Porto', { key: 'user:42:city', importance: 0.9 });
  assert.equal(again, id);
  assert.equal(b.count(), 2);
  const m = b.get(id);
  assert.equal(m.text, 'User 42 moved to Porto');
  assert.equal(m.key, 'user:42:city');
  assert.ok(Math.abs(m.importance - 0.9) < 1e-6);
  assert.equal(b.keyId('user:42:city'), id);
  assert.equal(b.recall('where does user 42 live', { k: 1 })[0].id, id);
  b.forgetKey('user:42:city');
  assert.equal(b.count(), 1);
  throwsBrain(() => b.keyId('user:42:city'), bc.NotFoundError, 'BRAIN_ENOTFOUND');
});

test('update changes text, importance and metadata but keeps the id', (t) => {
  const b = withBrain(t);
  const id = b.remember('The meeting is on Monday', { importance: 0.3, metadata: { room: 'A' } });
  b.update(id, { text: 'The meeting moved to Thursday' });
  let m = b.get(id);
  assert.equal(m.text, 'The meeting moved to Thursday');
  assert.ok(Math.abs(m.importance - 0.3) < 1e-6);
  assert.deepEqual(m.metadata, { room: 'A' });
  b.update(id, { importance: 0.8, metadata: { room: 'B' } });
  m = b.get(id);
  assert.equal(m.text, 'The meeting moved to Thursday');
  assert.ok(Math.abs(m.importance - 0.8) < 1e-6);
  assert.deepEqual(m.metadata, { room: 'B' });
  assert.equal(b.recall('when is the meeting', { k: 1 })[0].id, id);
  b.forget(id);
  assert.equal(b.count(), 0);
  throwsBrain(() => b.get(id), bc.NotFoundError, 'BRAIN_ENOTFOUND');
});

test('relations: relate, neighbors both ways, traverse with hops, unrelate', (t) => {
  const b = withBrain(t);
  const ana = b.remember('Ana is an engineer');
  const acme = b.remember('Acme builds rockets');
  const mars = b.remember('Mars is the fourth planet');
  b.relate(ana, acme, 'works_at', 0.9);
  b.relate(acme, mars, 'targets');

  const out = b.neighbors(ana);
  assert.equal(out.length, 1);
  assert.deepEqual(out[0], { from: ana, to: acme, verb: 'works_at', weight: out[0].weight, hops: 1 });
  assert.ok(Math.abs(out[0].weight - 0.9) < 1e-6);
  assert.deepEqual(b.neighbors(acme, { direction: 'in' }).map((e) => e.from), [ana]);
  assert.equal(b.neighbors(acme, { direction: 'both' }).length, 2);
  assert.equal(b.neighbors(acme, { verb: 'targets' }).length, 1);

  const far = b.traverse(ana, { depth: 2 });
  assert.deepEqual(far.map((e) => [e.to, e.hops]), [[acme, 1], [mars, 2]]);
  assert.equal(b.traverse(ana, { depth: 1 }).length, 1);

  b.relate(ana, acme, 'works_at', 0.5); // same edge: new weight
  assert.equal(b.neighbors(ana).length, 1);
  assert.ok(Math.abs(b.neighbors(ana)[0].weight - 0.5) < 1e-6);
  b.unrelate(ana, acme, 'works_at');
  assert.equal(b.neighbors(ana).length, 0);
  throwsBrain(() => b.unrelate(ana, acme, 'works_at'), bc.NotFoundError, 'BRAIN_ENOTFOUND');
  throwsBrain(() => b.relate(ana, 999, 'knows'), bc.NotFoundError, 'BRAIN_ENOTFOUND');
  throwsBrain(() => b.neighbors(ana, { direction: 'sideways' }), bc.InvalidArgumentError, 'BRAIN_EINVAL');
});

test('documents: passages with their document key, replaced whole, forgotten', (t) => {
  const b = withBrain(t);
  const sentences = [];
  for (let i = 0; i < 40; i++) sentences.push(`Section ${i} of the handbook explains rule number ${i} in detail.`);
  sentences.push('To reset your password, open the settings page and choose security.');
  const text = sentences.join(' ');
  const parts = b.rememberDocument('handbook.md', text, { metadata: { kind: 'manual' }, maxBytes: 200 });
  assert.ok(parts >= text.length / 200, `${parts} passages`);
  assert.equal(b.count(), parts);
  assert.equal(b.count('kind = "manual"'), parts);

  const hit = b.recall('how do I reset my password', { k: 1 })[0];
  assert.equal(hit.document, 'handbook.md');
  assert.match(hit.text, /reset your password/);
  assert.equal(hit.metadata.kind, 'manual');

  const again = b.rememberDocument('handbook.md', 'A short replacement. It has two sentences.');
  assert.equal(again, 1);
  assert.equal(b.count(), 1);
  assert.equal(b.forgetDocument('handbook.md'), 1);
  assert.equal(b.count(), 0);
  assert.equal(b.forgetDocument('handbook.md'), 0);
});

test('list pages through every memory in id order; count agrees', (t) => {
  const b = withBrain(t);
  const texts = [];
  for (let i = 0; i < 25; i++) texts.push(`Memory number ${i} about topic ${i % 3}`);
  const ids = b.rememberMany(texts, { metadata: texts.map((_, i) => ({ topic: i % 3 })) });
  assert.deepEqual(ids, Array.from({ length: 25 }, (_, i) => i + 1));

  const seen = [];
  for (let after = null; ; ) {
    const page = b.list({ after, limit: 10 });
    if (page.length === 0) break;
    assert.ok(page.length <= 10);
    seen.push(...page.map((m) => m.id));
    after = page[page.length - 1].id;
  }
  assert.deepEqual(seen, ids);
  const topic1 = b.list({ where: 'topic = 1', limit: 100 });
  assert.deepEqual(topic1.map((m) => m.id), ids.filter((_, i) => i % 3 === 1));
  assert.equal(b.count('topic = 1'), topic1.length);
  assert.equal(b.list({ limit: 3 })[2].text, texts[2]);
  throwsBrain(() => b.list({ limit: 0 }), bc.InvalidArgumentError, 'BRAIN_ERANGE');
});

test('rememberMany with one metadata for all, and ids accepted as bigint', (t) => {
  const b = withBrain(t);
  const ids = b.rememberMany(['alpha centauri is a star system', 'beta carotene is orange'], {
    importance: 0.7,
    metadata: { batch: 'one' },
  });
  assert.equal(b.count('batch = "one"'), 2);
  assert.equal(b.get(BigInt(ids[1])).text, 'beta carotene is orange');
  assert.deepEqual(b.rememberMany([]), []);
});

test('vectors in a brain: add, search (filter text and function), getVector, recallVector', (t) => {
  const b = withBrain(t, { dimensions: 4, metric: 'l2', embedder: 'none', index: 'flat' });
  b.add(10, new Float32Array([0, 0, 0, 0]), { side: 'left' });
  b.add(11, [1, 0, 0, 0], { side: 'right' });
  b.addMany([12, 13], [new Float32Array([2, 0, 0, 0]), [3, 0, 0, 0]]);
  assert.equal(b.count(), 4);

  const r = b.search([0.9, 0, 0, 0], { k: 3 });
  assert.deepEqual(r.ids, [11, 10, 12]);
  assert.ok(Math.abs(r.distances[0] - 0.01) < 1e-5);
  assert.ok(Math.abs(r.distances[1] - 0.81) < 1e-5);
  assert.deepEqual(b.search([0.9, 0, 0, 0], { k: 3, where: 'side = "left"' }).ids, [10]);
  assert.deepEqual(b.search([0.9, 0, 0, 0], { k: 2, where: (id) => id >= 12 }).ids, [12, 13]);
  assert.deepEqual(Array.from(b.getVector(13)), [3, 0, 0, 0]);

  // text with the caller's own vector, and metadata (remember_ex, then set)
  const id = b.remember('a note with a vector', { vector: [5, 0, 0, 0], metadata: { side: 'far' } });
  const near = b.recallVector([5, 0, 0, 0.1], { k: 1 });
  assert.equal(near[0].id, id);
  assert.equal(near[0].text, 'a note with a vector');
  assert.deepEqual(near[0].metadata, { side: 'far' });
  b.updateVector(10, [0, 0, 0, 1]);
  assert.deepEqual(Array.from(b.getVector(10)), [0, 0, 0, 1]);
  throwsBrain(() => b.remember('no embedder here'), bc.EmbedderError, 'BRAIN_ENOEMBEDDER');
  // the text refused: nothing half-made
  throwsBrain(() => b.remember('bad meta', { vector: [6, 0, 0, 0], metadata: '{"x":' }), bc.MetadataError, 'BRAIN_EJSON');
  assert.equal(b.count(), 5);
});

test('searchBatch: each query answered as search() answers it, sync and async', async (t) => {
  const dim = 8;
  for (const index of ['flat', 'hnsw']) {
    const b = withBrain(t, { dimensions: dim, metric: 'cosine', embedder: 'none', index });
    const r = rng(12345);
    const rnd = () => r() - 0.5;
    const n = 2500;
    const rows = new Float32Array(n * dim).map(rnd);
    b.addMany(Array.from({ length: n }, (_, i) => i + 1), rows);
    b.setParam('threads', 3);
    const qs = new Float32Array(40 * dim).map(rnd);
    const got = b.searchBatch(qs, { k: 5 });
    assert.equal(got.length, 40);
    for (let i = 0; i < 40; i++) {
      const one = b.search(qs.subarray(i * dim, (i + 1) * dim), { k: 5 });
      assert.deepEqual(got[i].ids, one.ids);
      assert.deepEqual(got[i].distances, one.distances);
    }
    assert.deepEqual(await b.searchBatchAsync(qs, { k: 5 }), got);
    // an array of vectors works as the flat array does
    assert.deepEqual(b.searchBatch([Array.from(qs.subarray(0, dim))], { k: 5 })[0], got[0]);
    assert.deepEqual(b.searchBatch([], { k: 5 }), []);
    const bad = qs.slice();
    bad[7 * dim + 2] = NaN;
    throwsBrain(() => b.searchBatch(bad, { k: 5 }), bc.VectorError, 'BRAIN_ENONFINITE');
    await assert.rejects(b.searchBatchAsync(bad, { k: 5 }), (e) => e.code === 'BRAIN_ENONFINITE');
    throwsBrain(() => b.searchBatch(qs.subarray(0, dim + 1), { k: 5 }), bc.VectorError, 'BRAIN_EDIM');
    throwsBrain(() => b.searchBatch(qs, { k: 0 }), bc.InvalidArgumentError, 'BRAIN_ERANGE');
  }
  // fewer held than asked for: each query gets what there is
  const small = withBrain(t, { dimensions: 2, metric: 'l2', embedder: 'none' });
  small.addMany([7, 8], [[0, 0], [1, 1]]);
  assert.deepEqual(small.searchBatch([[0, 0.1], [1, 0.9]], { k: 4 }).map((r) => r.ids), [[7, 8], [8, 7]]);
});

test('ids above 2^53 come back as bigint, exact', (t) => {
  const b = withBrain(t, { dimensions: 2, metric: 'l2', embedder: 'none' });
  const big = 2n ** 60n + 7n;
  b.add(big, [1, 2]);
  b.add(5, [1, 2.5]);
  const r = b.search([1, 2], { k: 2 });
  assert.equal(typeof r.ids[0], 'bigint');
  assert.equal(r.ids[0], big);
  assert.equal(r.ids[1], 5);
  assert.deepEqual(Array.from(b.getVector(big)), [1, 2]);
  throwsBrain(() => b.getVector(2 ** 53), bc.InvalidArgumentError, 'BRAIN_ERANGE');
  throwsBrain(() => b.getVector(-1), bc.InvalidArgumentError, 'BRAIN_ERANGE');
  throwsBrain(() => b.getVector(2n ** 64n), bc.InvalidArgumentError, 'BRAIN_ERANGE');
});

test('an on-disk brain reopened keeps its memories, metadata, keys and relations', (t) => {
  const dir = path.join(tempDir(t), 'brain');
  const b = new bc.Brain({ path: dir, sync: 'normal' });
  const ids = FACTS.map((f) => b.remember(f, { metadata: { n: f.length } }));
  const k = b.upsert('motto', 'Measure twice, cut once');
  b.relate(ids[0], ids[1], 'compares_with');
  b.checkpoint();
  b.remember('Written after the checkpoint, found in the log');
  assert.equal(b.stats().on_disk, 1);
  b.close();
  assert.ok(b.closed);

  const again = new bc.Brain({ path: dir, create: false });
  t.after(() => again.close());
  assert.equal(again.count(), FACTS.length + 2);
  assert.equal(again.recall('highest mountain', { k: 1 })[0].id, ids[1]);
  assert.equal(again.keyId('motto'), k);
  assert.deepEqual(again.getMetadata(ids[2]), { n: FACTS[2].length });
  assert.deepEqual(again.neighbors(ids[0]).map((e) => e.to), [ids[1]]);
  assert.equal(again.recall('after the checkpoint', { k: 1 })[0].text, 'Written after the checkpoint, found in the log');

  // a read-only opener sees the same while the writer holds it
  const ro = new bc.Brain({ path: dir, readOnly: true });
  assert.equal(ro.count(), FACTS.length + 2);
  ro.close();

  // a backup is a brain of its own
  const copy = path.join(path.dirname(dir), 'copy');
  again.backup(copy);
  const c = new bc.Brain({ path: copy, create: false });
  assert.equal(c.count(), FACTS.length + 2);
  c.close();
  again.sync();
});

test('a forgotten brain is closed when collected (its directory opens again)', async (t) => {
  const v8 = require('node:v8');
  const vm = require('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc');
  const dir = path.join(tempDir(t), 'brain');
  (() => {
    new bc.Brain({ path: dir }).remember('left open on purpose');
  })();
  throwsBrain(() => new bc.Brain({ path: dir }), bc.StateError, 'BRAIN_EBUSY');
  let reopened = null;
  for (let i = 0; i < 50 && reopened === null; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
    try {
      reopened = new bc.Brain({ path: dir });
    } catch (e) {
      if (e.code !== 'BRAIN_EBUSY') throw e;
    }
  }
  assert.ok(reopened, 'the registry closed the brain');
  assert.equal(reopened.count(), 1);
  reopened.close();
});

test('params by name (any case), options.params, stats and health', (t) => {
  const b = withBrain(t, { params: { think_max_memories: 2 } });
  assert.equal(b.getParam('THINK_MAX_MEMORIES'), 2);
  b.setParam('Recall_Min_Score', 100);
  assert.equal(b.getParam('recall_min_score'), 100);
  throwsBrain(() => b.setParam('recall_min_score', 5000), bc.InvalidArgumentError, 'BRAIN_ERANGE');
  throwsBrain(() => b.setParam('no_such_knob', 1), bc.InvalidArgumentError, 'BRAIN_EPARAM');
  throwsBrain(() => b.setParam('recall_min_score', 1.5), bc.InvalidArgumentError, 'BRAIN_EINVAL');
  throwsBrain(() => new bc.Brain({ params: { hnsw_m: 1 } }), bc.InvalidArgumentError, 'BRAIN_ERANGE');

  FACTS.forEach((f) => b.remember(f));
  b.recall('ocean');
  const s = b.stats();
  assert.equal(s.version, 7);
  assert.equal(s.memories, FACTS.length);
  assert.equal(s.text_memories, FACTS.length);
  assert.equal(s.dimensions, 384);
  assert.equal(s.remember_count, FACTS.length);
  assert.equal(s.recall_count, 1);
  assert.ok(s.recall_p50_ns > 0);
  const h = b.health();
  assert.equal(h.memories, FACTS.length);
  assert.equal(h.metric, 'cosine');
  assert.equal(b.dimensions, 384);
});

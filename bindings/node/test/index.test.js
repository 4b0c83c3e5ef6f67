'use strict';
// Index (hnswlib-node's shape) against a brute-force reference written here.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { bc, tempDir, throwsBrain, rejectsBrain, randomVectors } = require('../support/testing');

const N = 2000;
const DIM = 32;
const K = 10;
const QUERIES = 100;

// The distances hnswlib and braincore define, in double precision.
const DISTANCE = {
  l2(a, b) {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
    return s;
  },
  ip(a, b) {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i] * b[i];
    return 1 - s;
  },
  cosine(a, b) {
    let d = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      d += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return 1 - d / Math.sqrt(na * nb);
  },
};

function row(data, i) {
  return data.subarray(i * DIM, (i + 1) * DIM);
}

/** The exact k nearest labels of q and every label's distance to q. */
function bruteForce(space, data, q, k) {
  const dist = new Float64Array(data.length / DIM);
  for (let i = 0; i < dist.length; i++) dist[i] = DISTANCE[space](q, row(data, i));
  const order = Array.from(dist.keys()).sort((a, b) => dist[a] - dist[b] || a - b);
  return { labels: order.slice(0, k), dist };
}

for (const space of ['l2', 'ip', 'cosine']) {
  test(`${space}: recall@10 >= 0.99 at ef 200 and distances equal to the reference`, () => {
    const data = randomVectors(N, DIM, 1234);
    const queries = randomVectors(QUERIES, DIM, 99);
    const index = new bc.Index(space, DIM);
    index.initIndex(N, 16, 200, 100);
    index.addPoints(data); // one flat Float32Array, labels 0..N-1
    index.setEf(200);
    assert.equal(index.getCurrentCount(), N);
    assert.equal(index.getEf(), 200);

    let found = 0;
    let worst = 0;
    for (let q = 0; q < QUERIES; q++) {
      const query = row(queries, q);
      const got = index.searchKnn(query, K);
      const ref = bruteForce(space, data, query, K);
      assert.equal(got.neighbors.length, K);
      assert.equal(got.distances.length, K);
      const truth = new Set(ref.labels);
      for (let j = 0; j < K; j++) {
        if (truth.has(got.neighbors[j])) found++;
        worst = Math.max(worst, Math.abs(got.distances[j] - ref.dist[got.neighbors[j]]));
        if (j > 0) assert.ok(got.distances[j] >= got.distances[j - 1]);
      }
    }
    const recall = found / (QUERIES * K);
    assert.ok(recall >= 0.99, `recall@10 ${recall}`);
    assert.ok(worst <= 1e-4, `largest distance difference ${worst}`);
    index.close();
  });
}

test('addPoint / addPoints with labels; an existing label is replaced; default labels follow the largest', () => {
  const index = new bc.Index('l2', 3);
  index.initIndex(100);
  index.addPoint([1, 0, 0], 7);
  index.addPoints([[0, 1, 0], new Float32Array([0, 0, 1])], [8, 9]);
  assert.equal(index.getCurrentCount(), 3);
  assert.deepEqual(index.searchKnn([0, 0.9, 0], 1).neighbors, [8]);

  index.addPoint([5, 5, 5], 8); // replaces label 8's vector
  assert.equal(index.getCurrentCount(), 3);
  assert.deepEqual(index.getPoint(8), [5, 5, 5]);
  assert.deepEqual(index.searchKnn([5, 5, 4.9], 1).neighbors, [8]);

  // a batch mixing a known label (replaced) and new ones (added)
  index.addPoints([[1, 1, 0], [2, 2, 0]], [9, 20]);
  assert.equal(index.getCurrentCount(), 4);
  assert.deepEqual(index.getPoint(9), [1, 1, 0]);
  assert.deepEqual(index.searchKnn([2, 2, 0.1], 1).neighbors, [20]);

  // a view into a larger buffer is read at its own offset, in place
  const backing = new Float32Array([9, 9, 9, 4, 4, 4, 6, 6, 6, 9, 9, 9]);
  index.addPoints(backing.subarray(3, 9), [30, 31]);
  assert.deepEqual(index.getItems([30, 31]), [[4, 4, 4], [6, 6, 6]]);
  index.markDeleted(30);
  index.markDeleted(31);

  index.addPoints([[3, 0, 0]]); // no labels: after the largest label held (31, deleted since)
  assert.deepEqual(index.getIdsList().sort((a, b) => a - b), [7, 8, 9, 20, 32]);
  assert.equal(index.getMaxElements(), 100);
  assert.equal(index.getNumDimensions(), 3);
  index.close();
});

test('default labels never land on a point the index has: after markDeleted, explicit labels, a failed add', async () => {
  const index = new bc.Index('l2', 2);
  index.initIndex(20);
  index.addPoints([[0, 0], [1, 1], [2, 2]]); // labels 0, 1, 2
  index.markDeleted(0);
  index.addPoints([[3, 3]]); // label 3, not count (2): label 2 keeps its vector
  assert.deepEqual(index.getIdsList(), [1, 2, 3]);
  assert.deepEqual(index.getPoint(2), [2, 2]);
  assert.deepEqual(index.getPoint(3), [3, 3]);

  // the largest label deleted is still taken
  index.markDeleted(3);
  index.addPoints([[4, 4]]);
  assert.deepEqual(index.getIdsList(), [1, 2, 4]);

  // explicit labels count, by addPoint and addPoints, and async
  index.addPoint([10, 10], 10);
  index.addPoints([[5, 5]]);
  assert.deepEqual(index.getIdsList(), [1, 2, 4, 10, 11]);
  index.addPoints([[12, 12]], [12n]);
  await index.addPointsAsync([[13, 13], [14, 14]]);
  assert.deepEqual(index.getIdsList(), [1, 2, 4, 10, 11, 12, 13, 14]);
  assert.deepEqual(index.getPoint(13), [13, 13]);

  // a failed add gives its labels back
  throwsBrain(() => index.addPoints([[NaN, 0]]), bc.VectorError, 'BRAIN_ENONFINITE');
  await rejectsBrain(index.addPointsAsync([[0, Infinity]]), bc.VectorError, 'BRAIN_ENONFINITE');
  index.addPoints([[15, 15]]);
  assert.deepEqual(index.getIdsList().slice(-1), [15]);

  // two async adds in flight get different labels
  await Promise.all([index.addPointsAsync([[16, 16]]), index.addPointsAsync([[17, 17]])]);
  assert.deepEqual(index.getIdsList().slice(-2), [16, 17]);
  assert.equal(index.getCurrentCount(), 11);

  // the largest u64 is no id: past the largest label but one, defaults run out
  index.addPoint([18, 18], 2n ** 64n - 2n);
  throwsBrain(() => index.addPoints([[19, 19]]), bc.InvalidArgumentError, 'BRAIN_ERANGE');
  assert.equal(index.getCurrentCount(), 12);
  index.addPoints([], undefined); // none needed: fine

  // initIndex starts again at 0
  index.initIndex(5);
  index.addPoints([[1, 0]]);
  assert.deepEqual(index.getIdsList(), [0]);
  index.close();
});

test('default labels after a save/load round trip: after the largest label in the file', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'labels.idx');
  const index = new bc.Index('l2', 2);
  index.initIndex(20);
  index.addPoints([[0, 0], [1, 1], [2, 2]]);
  index.markDeleted(0);
  index.saveIndex(file);

  const loaded = new bc.Index('l2', 2);
  loaded.loadIndex(file);
  loaded.addPoints([[3, 3]]);
  assert.deepEqual(loaded.getIdsList(), [1, 2, 3]);
  assert.deepEqual(loaded.getPoint(2), [2, 2]);
  loaded.markDeleted(1);
  loaded.addPoints([[4, 4]]);
  assert.deepEqual(loaded.getIdsList(), [2, 3, 4]);

  // a load replaces the count: the file's largest label (2) + 1, not this object's past
  loaded.loadIndex(file);
  loaded.addPoints([[5, 5]]);
  assert.deepEqual(loaded.getIdsList(), [1, 2, 3]);
  assert.deepEqual(loaded.getPoint(3), [5, 5]);

  // labels beyond one page of brain_list, and large ones
  const big = new bc.Index('l2', 2);
  big.initIndex(10050, 8, 20);
  big.addPoints(randomVectors(10010, 2, 3));
  big.addPoint([9, 9], 2 ** 40);
  big.saveIndex(file);
  loaded.loadIndex(file);
  loaded.addPoints([[1, 2]]);
  assert.deepEqual(loaded.getPoint(2 ** 40 + 1), [1, 2]);
  big.close();

  // an empty index: 0
  const empty = new bc.Index('l2', 2);
  empty.initIndex(4);
  empty.saveIndex(file);
  empty.close();
  loaded.loadIndex(file);
  loaded.addPoints([[7, 7]]);
  assert.deepEqual(loaded.getIdsList(), [0]);
  loaded.close();
  index.close();
});

test('initIndex refuses maxElements below 1 (BRAIN_EINVAL), as Python and Rust do', () => {
  const index = new bc.Index('l2', 2);
  for (const bad of [0, -1, 0n, 0.5, NaN]) {
    throwsBrain(() => index.initIndex(bad), bc.InvalidArgumentError, 'BRAIN_EINVAL');
  }
  throwsBrain(() => index.addPoint([1, 1], 1), bc.StateError, 'BRAIN_ESTATE');
  index.initIndex(1);
  index.addPoint([1, 1], 1);
  throwsBrain(() => index.initIndex(0), bc.InvalidArgumentError, 'BRAIN_EINVAL');
  assert.equal(index.getCurrentCount(), 1); // the refused call left the index as it was
  assert.equal(index.getMaxElements(), 1);
  index.close();
});

test('markDeleted excludes the point from every later search', () => {
  const data = randomVectors(300, DIM, 7);
  const index = new bc.Index('cosine', DIM);
  index.initIndex(300);
  index.addPoints(data);
  const q = row(data, 42);
  assert.equal(index.searchKnn(q, 1).neighbors[0], 42);
  index.markDeleted(42);
  assert.equal(index.getCurrentCount(), 299);
  const after = index.searchKnn(q, 20);
  assert.ok(!after.neighbors.includes(42));
  const ref = bruteForce('cosine', data, q, 21).labels.filter((l) => l !== 42);
  assert.equal(after.neighbors[0], ref[0]);
  throwsBrain(() => index.getPoint(42), bc.NotFoundError, 'BRAIN_ENOTFOUND');
  throwsBrain(() => index.markDeleted(42), bc.NotFoundError, 'BRAIN_ENOTFOUND');
  index.close();
});

test('searchKnn with a filter function returns only accepted labels', () => {
  const data = randomVectors(500, DIM, 11);
  const index = new bc.Index('l2', DIM);
  index.initIndex(500);
  index.addPoints(data);
  index.setEf(100);
  const got = index.searchKnn(row(data, 3), 5, (label) => label % 2 === 0);
  assert.ok(got.neighbors.every((l) => l % 2 === 0));
  const ref = [];
  const { dist } = bruteForce('l2', data, row(data, 3), 0);
  const even = Array.from(dist.keys()).filter((l) => l % 2 === 0).sort((a, b) => dist[a] - dist[b]);
  ref.push(...even.slice(0, 5));
  assert.deepEqual(got.neighbors, ref);
  // an exception in the filter reaches the caller
  assert.throws(() => index.searchKnn(row(data, 3), 5, () => { throw new Error('filter broke'); }), /filter broke/);
  index.close();
});

test('save and load round trip: same count, same answers, the saved parameters; a truncated file is refused', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'points.idx');
  const data = randomVectors(800, DIM, 5);
  const index = new bc.Index('ip', DIM);
  assert.deepEqual([index.M, index.efConstruction], [16, 200]); // hnswlib's defaults before init
  index.initIndex(1000, 12, 100, 1);
  assert.deepEqual([index.M, index.efConstruction], [12, 100]);
  index.addPoints(data);
  index.setEf(150);
  index.saveIndex(file);
  assert.ok(fs.statSync(file).size > 800 * DIM * 4);
  assert.ok(!fs.existsSync(`${file}.tmp`));

  // maxElements absent: the file's; M, efConstruction and ef: the file's
  const loaded = new bc.Index('ip', DIM);
  loaded.loadIndex(file);
  assert.equal(loaded.getCurrentCount(), 800);
  assert.equal(loaded.getMaxElements(), 1000);
  assert.deepEqual([loaded.M, loaded.efConstruction, loaded.getEf()], [12, 100, 150]);
  for (let q = 0; q < 20; q++) {
    const query = row(data, q * 7);
    assert.deepEqual(loaded.searchKnn(query, 5), index.searchKnn(query, 5));
  }
  assert.deepEqual(loaded.getPoint(17), Array.from(row(data, 17)));

  // maxElements 0 keeps the file's too; a number replaces it (and is saved)
  loaded.readIndexSync(file, 0);
  assert.equal(loaded.getMaxElements(), 1000);
  loaded.loadIndex(file, 2000);
  assert.equal(loaded.getMaxElements(), 2000);
  const again = path.join(dir, 'again.idx');
  loaded.writeIndexSync(again);
  const third = new bc.Index('ip', DIM);
  third.loadIndex(again);
  assert.deepEqual([third.getMaxElements(), third.M, third.efConstruction, third.getEf()], [2000, 12, 100, 150]);
  third.close();

  // the loaded index takes more points
  loaded.addPoint(new Float32Array(DIM).fill(0.5), 5000);
  assert.equal(loaded.getCurrentCount(), 801);

  const cut = path.join(dir, 'cut.idx');
  fs.writeFileSync(cut, fs.readFileSync(file).subarray(0, 1000));
  throwsBrain(() => loaded.loadIndex(cut), bc.StorageError, 'BRAIN_EIO');
  assert.equal(loaded.getCurrentCount(), 801); // the failed load changed nothing
  assert.equal(loaded.getMaxElements(), 2000);

  throwsBrain(() => loaded.loadIndex(path.join(dir, 'nope.idx')), bc.StorageError, 'BRAIN_EIO');
  throwsBrain(() => index.saveIndex(path.join(dir, 'no-dir', 'x.idx')), bc.StorageError, 'BRAIN_EIO');
  index.close();
  loaded.close();
});

/** The file's first two lines (each with its newline) and the rest. */
function splitHeader(bytes) {
  const first = bytes.indexOf(0x0a) + 1;
  const second = bytes.indexOf(0x0a, first) + 1;
  assert.ok(first > 0 && second > first);
  return [bytes.subarray(0, first), bytes.subarray(first, second), bytes.subarray(second)];
}

test('the file starts with two lines: the format line and a JSON line with the six keys', (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'v.idx');
  const index = new bc.Index('l2', 6);
  index.initIndex(40, 10, 60, 3);
  index.addPoints(randomVectors(30, 6, 5));
  index.setEf(21);
  index.saveIndex(file);
  index.close();

  const bytes = fs.readFileSync(file);
  assert.ok(bytes.subarray(0, 18).equals(Buffer.from('braincore-index 1\n')));
  const [magic, json, snapshot] = splitHeader(bytes);
  assert.equal(magic.toString('latin1'), 'braincore-index 1\n');
  assert.equal(json[json.length - 1], 0x0a);
  const head = JSON.parse(json.toString('utf8'));
  assert.deepEqual(head, { space: 'l2', dim: 6, max_elements: 40, M: 10, ef_construction: 60, ef: 21 });
  assert.deepEqual(Object.keys(head), ['space', 'dim', 'max_elements', 'M', 'ef_construction', 'ef']);
  // written as the Python binding writes it
  assert.equal(
    json.toString('utf8'),
    '{"space": "l2", "dim": 6, "max_elements": 40, "M": 10, "ef_construction": 60, "ef": 21}\n'
  );
  // the snapshot starts right after the second line: behind a longer one it still loads
  const longer = path.join(dir, 'longer.idx');
  const padded = `${json.toString('utf8').trimEnd().slice(0, -1)}, "note": "${'x'.repeat(5000)}"}\n`;
  fs.writeFileSync(longer, Buffer.concat([magic, Buffer.from(padded), snapshot]));
  const loaded = new bc.Index('l2', 6);
  loaded.loadIndex(longer);
  assert.equal(loaded.getCurrentCount(), 30);
  loaded.close();
});

const TESTDATA = path.join(__dirname, '..', '..', 'testdata');

test('reads bindings/testdata/index-l2-8d.bin, written by the Python binding', () => {
  const rows = fs
    .readFileSync(path.join(TESTDATA, 'index-l2-8d.vectors.txt'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number));
  assert.equal(rows.length, 50);
  const index = new bc.Index('l2', 8);
  index.loadIndex(path.join(TESTDATA, 'index-l2-8d.bin'));
  assert.equal(index.getMaxElements(), 100);
  assert.deepEqual([index.M, index.efConstruction, index.getEf()], [8, 50, 33]);
  assert.equal(index.getCurrentCount(), 50);
  assert.deepEqual(index.getIdsList().sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => 1000 + i));
  const want = [[1000, 1035, 1006], [1001, 1049, 1003], [1002, 1035, 1014]];
  for (let r = 0; r < 3; r++) {
    const got = index.searchKnn(rows[r], 3);
    assert.deepEqual(got.neighbors, want[r]);
    assert.ok(Math.abs(got.distances[0]) < 1e-6, `row ${r}: first distance ${got.distances[0]}`);
  }
  assert.deepEqual(index.getPoint(1049), Array.from(new Float32Array(rows[49])));
  index.close();
});

test('refuses files in another format (ECORRUPT) or of another space or dim (EINVAL)', (t) => {
  const dir = tempDir(t);
  const good = fs.readFileSync(path.join(TESTDATA, 'index-l2-8d.bin'));
  const [, jsonLine, snapshot] = splitHeader(good);
  const json = jsonLine.toString('utf8').trimEnd();
  const m = Buffer.from('braincore-index 1\n');
  let n = 0;
  const write = (...parts) => {
    const file = path.join(dir, `bad-${n++}.idx`);
    fs.writeFileSync(file, Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))));
    return file;
  };
  const index = new bc.Index('l2', 8);
  index.initIndex(10);
  index.addPoint(new Float32Array(8).fill(1), 77);

  const corrupt = {
    empty: write(),
    'bad magic': write('braincore-index 2\n', json, '\n', snapshot),
    'no magic': write(snapshot),
    'only the magic': write(m),
    'cut in the JSON': write(m, json.slice(0, 20)),
    'not JSON': write(m, '{"space": "l2", "dim": 8,,}\n', snapshot),
    'not an object': write(m, '[1, 2]\n', snapshot),
    null: write(m, 'null\n', snapshot),
    'over 64 KiB': write(m, json, Buffer.alloc(64 * 1024, 0x20), '\n', snapshot),
    'bad UTF-8': write(m, `${json.slice(0, -1)}, "x": "`, Buffer.from([0xff]), '"}\n', snapshot),
    'no ef': write(m, json.replace(', "ef": 33', ''), '\n', snapshot),
    'no space': write(m, json.replace('"space": "l2", ', ''), '\n', snapshot),
    'no max_elements': write(m, json.replace('"max_elements": 100, ', ''), '\n', snapshot),
    'a string dim': write(m, json.replace('"dim": 8', '"dim": "8"'), '\n', snapshot),
    'a negative M': write(m, json.replace('"M": 8', '"M": -8'), '\n', snapshot),
  };
  for (const [what, file] of Object.entries(corrupt)) {
    assert.throws(
      () => index.loadIndex(file),
      (e) => {
        assert.ok(e instanceof bc.StorageError, `${what}: ${e.name}: ${e.message}`);
        assert.equal(e.code, 'BRAIN_ECORRUPT', `${what}: ${e.message}`);
        assert.ok(e.message.includes(file), `${what}: the message names the file: ${e.message}`);
        return true;
      }
    );
  }

  // any key order, unknown keys and whitespace are fine
  const shuffled =
    '{ "ef": 33, "comment": {"from": "elsewhere"}, "M": 8, "ef_construction": 50, ' +
    '"max_elements": 100, "dim": 8, "space": "l2", "seed": 7 }';
  index.loadIndex(write(m, shuffled, '\n', snapshot));
  assert.equal(index.getCurrentCount(), 50);
  assert.deepEqual([index.getMaxElements(), index.M, index.efConstruction, index.getEf()], [100, 8, 50, 33]);

  // another space or dim: InvalidArgumentError (BRAIN_EINVAL)
  const ip = write(m, json.replace('"l2"', '"ip"'), '\n', snapshot);
  throwsBrain(() => index.loadIndex(ip), bc.InvalidArgumentError, 'BRAIN_EINVAL');
  const dim9 = write(m, json.replace('"dim": 8', '"dim": 9'), '\n', snapshot);
  throwsBrain(() => index.loadIndex(dim9), bc.InvalidArgumentError, 'BRAIN_EINVAL');
  const wide = new bc.Index('l2', 16);
  throwsBrain(() => wide.loadIndex(path.join(TESTDATA, 'index-l2-8d.bin')), bc.InvalidArgumentError, 'BRAIN_EINVAL');
  const cosine = new bc.Index('cosine', 8);
  throwsBrain(() => cosine.loadIndex(path.join(TESTDATA, 'index-l2-8d.bin')), bc.InvalidArgumentError, 'BRAIN_EINVAL');

  // a snapshot cut short: the library's error
  assert.throws(
    () => index.loadIndex(write(m, json, '\n', snapshot.subarray(0, snapshot.length >> 1))),
    (e) => e instanceof bc.StorageError && ['BRAIN_EIO', 'BRAIN_ECORRUPT'].includes(e.code)
  );

  // the failed loads changed nothing
  assert.equal(index.getCurrentCount(), 50);
  assert.deepEqual([index.getMaxElements(), index.M, index.efConstruction, index.getEf()], [100, 8, 50, 33]);
  index.close();
});

test('addPointsAsync resolves and the points are searchable; rejects with typed errors', async () => {
  const data = randomVectors(400, DIM, 3);
  const index = new bc.Index('l2', DIM);
  index.initIndex(400);
  const rows = Array.from({ length: 400 }, (_, i) => row(data, i));
  await index.addPointsAsync(rows, Array.from({ length: 400 }, (_, i) => i + 1000));
  assert.equal(index.getCurrentCount(), 400);
  assert.equal(index.searchKnn(row(data, 10), 1).neighbors[0], 1010);
  const bad = new Float32Array(DIM);
  bad[3] = NaN;
  await rejectsBrain(index.addPointsAsync([bad], [1]), bc.VectorError, 'BRAIN_ENONFINITE');
  await rejectsBrain(index.addPointsAsync([new Float32Array(DIM + 1)], [1]), bc.VectorError, 'BRAIN_EDIM');
  await rejectsBrain(index.addPointsAsync([row(data, 0)], [1, 2]), bc.InvalidArgumentError, 'BRAIN_EINVAL');
  await rejectsBrain(index.addPointsAsync([row(data, 0)], [5000]), bc.CapacityError, 'BRAIN_EFULL');
  assert.equal(index.getCurrentCount(), 400);
  index.close();
});

test('shape checks before C, and fewer than k found is an error as in hnswlib', () => {
  const index = new bc.Index('l2', 4);
  throwsBrain(() => index.addPoint([1, 2, 3, 4], 0), bc.StateError, 'BRAIN_ESTATE');
  index.initIndex(3);
  throwsBrain(() => index.addPoint([1, 2, 3], 0), bc.VectorError, 'BRAIN_EDIM');
  throwsBrain(() => index.addPoints(new Float32Array(7)), bc.VectorError, 'BRAIN_EDIM');
  throwsBrain(() => index.addPoints([[1, 2, 3, 4], [1, 2]]), bc.VectorError, 'BRAIN_EDIM');
  throwsBrain(() => index.addPoint([1, 2, 3, 4], -1), bc.InvalidArgumentError, 'BRAIN_ERANGE');
  index.addPoints([[1, 0, 0, 0], [0, 1, 0, 0]]);
  throwsBrain(() => index.searchKnn([1, 0, 0, 0], 3), bc.InvalidArgumentError, 'BRAIN_ERANGE');
  throwsBrain(() => index.searchKnn([1, 0, 0], 1), bc.VectorError, 'BRAIN_EDIM');
  index.addPoint([0, 0, 1, 0], 2);
  throwsBrain(() => index.addPoint([0, 0, 0, 1], 3), bc.CapacityError, 'BRAIN_EFULL');
  throwsBrain(() => index.setEf(0), bc.InvalidArgumentError, 'BRAIN_ERANGE');
  throwsBrain(() => index.saveIndex(undefined), bc.InvalidArgumentError, 'BRAIN_EINVAL');
  index.close();
  throwsBrain(() => index.searchKnn([1, 0, 0, 0], 1), bc.StateError, 'BRAIN_ESTATE');
});

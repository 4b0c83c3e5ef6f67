'use strict';
// Index: hnswlib-node's shape (HierarchicalNSW) over an in-memory brain that
// holds vectors only (embedder "none", index "hnsw").

const fs = require('fs');
const nodePath = require('path');
const { koffi, C, WriteFn, ReadFn, ID_NONE } = require('./native');
const { BrainError, makeError, check } = require('./errors');
const { Brain, cOptions, METRICS } = require('./brain');
const cv = require('./convert');

/** A file system failure as a StorageError (BRAIN_EIO), the cause kept. */
function ioError(what, cause) {
  return makeError('EIO', `${what}: ${cause.message}`, { cause });
}

// The file (docs/bindings.md, "Index files"), the same in every binding:
//   braincore-index 1\n
//   {"space": "l2", "dim": 8, "max_elements": 100, "M": 8, "ef_construction": 50, "ef": 33}\n
//   the snapshot, as brain_save writes it
const MAGIC = Buffer.from('braincore-index 1\n', 'latin1');
const MAX_HEADER_LINE = 64 * 1024; // the JSON line, its newline included
const HEADER_INTS = ['dim', 'max_elements', 'M', 'ef_construction', 'ef'];

/** The two lines that start an index file. */
function headerBytes(h) {
  const json =
    `{"space": ${JSON.stringify(h.space)}, "dim": ${h.dim}, "max_elements": ${h.max_elements}, ` +
    `"M": ${h.M}, "ef_construction": ${h.ef_construction}, "ef": ${h.ef}}\n`;
  return Buffer.concat([MAGIC, Buffer.from(json, 'utf8')]);
}

/**
 * Read the two lines at the start of the open file `fd`: the header and
 * the offset of the snapshot. A file in another format is a StorageError
 * (BRAIN_ECORRUPT) naming it.
 */
function readHeader(fd, path) {
  const corrupt = (why) =>
    makeError('ECORRUPT', `loadIndex: ${path} is not an index file written by saveIndex: ${why}`);
  const head = Buffer.alloc(MAGIC.length + MAX_HEADER_LINE);
  let got = 0;
  try {
    while (got < head.length) {
      const n = fs.readSync(fd, head, got, head.length - got, got);
      if (n === 0) break;
      got += n;
    }
  } catch (e) {
    throw ioError(`loadIndex: ${path}`, e);
  }
  if (got < MAGIC.length || !head.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw corrupt('its first line is not "braincore-index 1"');
  }
  const end = head.indexOf(0x0a, MAGIC.length);
  if (end < 0 || end >= got) {
    throw corrupt(
      got === head.length
        ? `its header line is longer than ${MAX_HEADER_LINE} bytes`
        : 'it ends inside its header line'
    );
  }
  let h;
  try {
    h = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(head.subarray(MAGIC.length, end)));
  } catch (e) {
    throw corrupt(`its header is damaged: ${e.message}`);
  }
  if (h === null || typeof h !== 'object' || Array.isArray(h)) throw corrupt('its header is not a JSON object');
  if (!Object.prototype.hasOwnProperty.call(h, 'space')) throw corrupt('its header has no key "space"');
  if (typeof h.space !== 'string') throw corrupt('"space" in its header is not a string');
  for (const key of HEADER_INTS) {
    if (!Object.prototype.hasOwnProperty.call(h, key)) throw corrupt(`its header has no key "${key}"`);
    if (!Number.isSafeInteger(h[key]) || h[key] < 0) {
      throw corrupt(`"${key}" in its header is not an integer in 0..2^53-1`);
    }
  }
  return { header: h, offset: end + 1 };
}

class Index {
  /**
   * @param {'l2'|'ip'|'cosine'} space
   * @param {number} dim
   */
  constructor(space, dim) {
    cv.choice(space, METRICS, 'space');
    if (cv.count(dim, 'dim') === 0) throw makeError('ERANGE', 'dim must be at least 1');
    this._space = space;
    this._dim = dim;
    this._brain = null;
    this._max = 0;
    this._ef = null;
    this._M = 16;
    this._efConstruction = 200;
    // The next default label: one more than the largest label this index
    // has held (a bigint), so that a default label never lands on a point
    // the index has, whatever was deleted.
    this._next = 0n;
  }

  /** M of the graph: initIndex's, or the loaded file's (16 before either). */
  get M() {
    return this._M;
  }

  /** efConstruction of the graph: initIndex's, or the loaded file's (200 before either). */
  get efConstruction() {
    return this._efConstruction;
  }

  _b() {
    if (this._brain === null) {
      throw makeError('ESTATE', 'the index has no points yet: call initIndex() or loadIndex() first');
    }
    return this._brain;
  }

  /** Start an empty index of at most maxElements points (any previous one is closed). */
  initIndex(maxElements, M = 16, efConstruction = 200, randomSeed = 100) {
    if (typeof maxElements === 'number' ? !(maxElements >= 1) : typeof maxElements === 'bigint' && maxElements < 1n) {
      throw makeError('EINVAL', `initIndex: maxElements must be at least 1, not ${String(maxElements)}`);
    }
    const brain = new Brain({
      dimensions: this._dim,
      metric: this._space,
      index: 'hnsw',
      embedder: 'none',
      maxMemories: maxElements,
      params: { hnsw_m: M, hnsw_ef_construction: efConstruction, hnsw_seed: randomSeed },
    });
    this._replace(brain, Number(maxElements), Number(M), Number(efConstruction), this._ef);
    this._next = 0n;
  }

  /** Put `brain` in place of the current one; ef (null: the library's) is set on it. */
  _replace(brain, maxElements, M, efConstruction, ef) {
    try {
      if (ef !== null) brain.setParam('hnsw_ef_search', ef);
      if (this._brain) this._brain.close();
    } catch (e) {
      brain.close(); // the old one is busy, or ef is refused: keep the old one
      throw e;
    }
    this._brain = brain;
    this._max = maxElements;
    this._M = M;
    this._efConstruction = efConstruction;
    this._ef = ef;
  }

  /** Add a point, or replace the vector of the point that has the label. */
  addPoint(vector, label) {
    const b = this._b();
    const id = cv.idIn(label, 'label');
    if (b.count() > 0 && b._has(id)) b.updateVector(id, vector);
    else b.add(id, vector);
    this._held([id]);
  }

  /** Record that the index holds `ids` (bigints): the next default label follows the largest. */
  _held(ids) {
    for (const id of ids) if (id >= this._next) this._next = id + 1n;
  }

  /**
   * n default labels from the next one on, taken at once (so that two
   * addPointsAsync calls in flight get different ones); give them back
   * with _giveBack() if the add fails.
   */
  _takeLabels(n) {
    const first = this._next;
    if (n > 0 && first + BigInt(n) - 1n >= ID_NONE) {
      throw makeError('ERANGE', `no default labels left above ${first - 1n}: pass labels`);
    }
    const ids = new BigUint64Array(n);
    for (let i = 0; i < n; i++) ids[i] = first + BigInt(i);
    this._next = first + BigInt(n);
    return { ids, first, end: this._next };
  }

  /** Give back the labels of a failed add, unless later labels were taken meanwhile. */
  _giveBack(p) {
    if (p.taken && this._next === p.taken.end) this._next = p.taken.first;
  }

  /**
   * The new points of a batch (ids and rows) after replacing the vectors of
   * the labels the index has. Labels default to one more than the largest
   * label the index has held, and on: never a label it has, so nothing is
   * replaced then (taken: the labels to give back if the add fails).
   */
  _newPoints(vectors, labels) {
    const b = this._b();
    const dim = this._dim;
    const m = cv.matrix(vectors, dim);
    if (labels == null) {
      const taken = this._takeLabels(m.n);
      return { ids: taken.ids, data: m.data, taken };
    }
    const ids = cv.idsIn(labels, 'labels');
    if (ids.length !== m.n) throw makeError('EINVAL', `${ids.length} labels for ${m.n} vectors`);
    const have = b.count();
    if (have === 0) return { ids, data: m.data };
    const fresh = [];
    for (let i = 0; i < m.n; i++) {
      if (b._has(ids[i])) b.updateVector(ids[i], m.data.subarray(i * dim, (i + 1) * dim));
      else fresh.push(i);
    }
    if (fresh.length === m.n) return { ids, data: m.data };
    const data = new Float32Array(fresh.length * dim);
    fresh.forEach((row, j) => data.set(m.data.subarray(row * dim, (row + 1) * dim), j * dim));
    return { ids: BigUint64Array.from(fresh, (row) => ids[row]), data };
  }

  /**
   * Add points: `vectors` an array of vectors or one flat Float32Array of
   * n * dim (passed to C without a copy). New labels go in as one batch.
   */
  addPoints(vectors, labels) {
    const p = this._newPoints(vectors, labels);
    try {
      this._brain.addMany(p.ids, p.data);
    } catch (e) {
      this._giveBack(p);
      throw e;
    }
    this._held(p.ids);
  }

  /** addPoints() with the batch built on a worker thread. */
  async addPointsAsync(vectors, labels) {
    const p = this._newPoints(vectors, labels);
    try {
      await this._brain.addManyAsync(p.ids, p.data);
    } catch (e) {
      this._giveBack(p);
      throw e;
    }
    this._held(p.ids);
  }

  /**
   * The k nearest points: { neighbors, distances }, nearest first. `filter`
   * is a function (label) => boolean. Fewer than k found is an error, as
   * in hnswlib.
   */
  searchKnn(query, k, filter) {
    const b = this._b();
    const r = b.search(query, { k, where: filter });
    if (r.ids.length < k) {
      throw makeError(
        'ERANGE',
        `searchKnn: found ${r.ids.length} of the ${k} neighbours asked for ` +
          `(the index holds ${b.count()} points${filter ? ', some filtered out' : ''})`
      );
    }
    return { neighbors: r.ids, distances: r.distances };
  }

  setEf(ef) {
    this._b().setParam('hnsw_ef_search', ef);
    this._ef = ef;
  }

  getEf() {
    return this._b().getParam('hnsw_ef_search');
  }

  /** Remove a point for good (its label may be added again). */
  markDeleted(label) {
    this._b().forget(label);
  }

  getPoint(label) {
    return Array.from(this._b().getVector(label));
  }

  getItems(labels) {
    return Array.from(labels, (label) => this.getPoint(label));
  }

  getIdsList() {
    const ids = [];
    eachPage(this._b(), (page) => {
      for (const m of page) ids.push(m.id);
    });
    return ids;
  }

  getCurrentCount() {
    return this._brain === null ? 0 : this._brain.count();
  }

  getMaxElements() {
    return this._max;
  }

  getNumDimensions() {
    return this._dim;
  }

  /**
   * Write the index to `path` in the format every braincore binding reads
   * (docs/bindings.md, "Index files"): the line `braincore-index 1`, a JSON
   * line {"space", "dim", "max_elements", "M", "ef_construction", "ef"},
   * then the brain's snapshot as brain_save writes it. Written to path.tmp,
   * fsynced, then renamed over `path`.
   */
  saveIndex(path) {
    const b = this._b();
    filePath(path);
    const head = headerBytes({
      space: this._space,
      dim: this._dim,
      max_elements: this._max,
      M: this._M,
      ef_construction: this._efConstruction,
      ef: Number(this.getEf()),
    });
    const tmp = `${path}.tmp`;
    let fd;
    try {
      fd = fs.openSync(tmp, 'w');
    } catch (e) {
      throw ioError(`saveIndex: ${tmp}`, e);
    }
    try {
      const writeAll = (bytes) => {
        for (let off = 0; off < bytes.length; ) off += fs.writeSync(fd, bytes, off, bytes.length - off);
      };
      writeAll(head);
      const write = (data, len) => {
        writeAll(new Uint8Array(len ? koffi.view(data, len) : 0));
        return 0;
      };
      cv.withCallback(WriteFn, write, 1, (cb) => check(C.brain_save(b._h(), cb, null)));
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fd = null;
      fs.renameSync(tmp, path);
      syncDir(nodePath.dirname(nodePath.resolve(path)));
    } catch (e) {
      if (fd !== null) fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw e instanceof BrainError ? e : ioError(`saveIndex: ${path}`, e);
    }
  }

  /**
   * Replace this index with the one saveIndex (of any binding) wrote to
   * `path`. Its space and dim must be this index's (InvalidArgumentError,
   * BRAIN_EINVAL). maxElements 0 (or absent) keeps the file's; M,
   * efConstruction and ef are the file's, ef applied. A file in another
   * format is a StorageError (BRAIN_ECORRUPT); a damaged snapshot, the
   * library's error. On failure the index is unchanged.
   */
  loadIndex(path, maxElements = 0) {
    filePath(path);
    let fd;
    try {
      fd = fs.openSync(path, 'r');
    } catch (e) {
      throw ioError(`loadIndex: ${path}`, e);
    }
    try {
      const { header: h, offset } = readHeader(fd, path);
      if (h.space !== this._space || h.dim !== this._dim) {
        throw makeError(
          'EINVAL',
          `loadIndex: ${path} holds a ${JSON.stringify(h.space)} index of ${h.dim} dimensions, ` +
            `not ${this._space} of ${this._dim}`
        );
      }
      const { opts } = cOptions({
        dimensions: this._dim,
        metric: this._space,
        index: 'hnsw',
        embedder: 'none',
        maxMemories: maxElements || h.max_elements,
      });
      let pos = offset;
      const read = (buf, len) => {
        const bytes = new Uint8Array(len ? koffi.view(buf, len) : 0);
        for (let off = 0; off < len; ) {
          const n = fs.readSync(fd, bytes, off, len - off, pos);
          if (n === 0) throw new Error(`${path} ends at byte ${pos}, inside the snapshot`);
          off += n;
          pos += n;
        }
        return 0;
      };
      const brain = Object.create(Brain.prototype);
      cv.withCallback(ReadFn, read, 1, (cb) => brain._attach((out) => C.brain_load(cb, null, null, opts, out)));
      let next;
      try {
        next = nextLabel(brain);
      } catch (e) {
        brain.close();
        throw e;
      }
      this._replace(brain, Number(opts.max_memories), h.M, h.ef_construction, h.ef);
      this._next = next;
    } finally {
      fs.closeSync(fd);
    }
  }

  close() {
    if (this._brain) this._brain.close();
  }
}

/** fn(page) for every page of the memories of `brain`, in id order. */
function eachPage(brain, fn) {
  for (let after = null; ; ) {
    const page = brain.list({ after, limit: 10000 });
    if (page.length === 0) return;
    fn(page);
    after = page[page.length - 1].id;
  }
}

/** One more than the largest id in `brain` (0n when it is empty). */
function nextLabel(brain) {
  let last = null;
  eachPage(brain, (page) => {
    last = page[page.length - 1].id;
  });
  return last === null ? 0n : BigInt(last) + 1n;
}

function filePath(path) {
  if (typeof path !== 'string' || path === '') throw makeError('EINVAL', 'the path must be a non-empty string');
}

function syncDir(dir) {
  let fd;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // a file system without directory fsync: the rename stands
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

Index.prototype.markDelete = Index.prototype.markDeleted; // hnswlib-node's name
Index.prototype.writeIndexSync = Index.prototype.saveIndex;
Index.prototype.readIndexSync = Index.prototype.loadIndex;
if (typeof Symbol.dispose === 'symbol') Index.prototype[Symbol.dispose] = Index.prototype.close;

module.exports = { Index };

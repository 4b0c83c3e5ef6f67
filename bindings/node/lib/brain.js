'use strict';
// Brain: a text memory (remember, recall, think) that also holds vectors.

const { C, codes, params, OPTIONS_VERSION, STATS_VERSION, AcceptFn, ID_NONE } = require('./native');
const { makeError, check } = require('./errors');
const cv = require('./convert');

const METRICS = { cosine: 0, l2: 1, ip: 2 };
const INDEXES = { auto: 0, flat: 1, hnsw: 2 };
const EMBEDDERS = { builtin: 0, none: 1, model: 2 };
const SYNCS = { full: 0, normal: 1, off: 2 };
const MODES = { semantic: 0, keyword: 1, hybrid: 2 };
const DIRECTIONS = { out: 1, in: 2, both: 3 };
const OPEN_READONLY = 1;
const OPEN_NOCREATE = 2;
const KEEP_IMPORTANCE = -1;

const OPTION_NAMES = new Set([
  'path', 'dimensions', 'metric', 'index', 'embedder', 'modelPath', 'maxTextBytes',
  'maxMemories', 'sync', 'readOnly', 'create', 'params',
]);

// Out-slots for the u64s C writes (an id, a count): calls on this thread
// never overlap, so one of each will do.
const U64 = new BigUint64Array(1);
const u64 = () => U64[0];

// Where searches write their k ids and distances and the number found. The
// synchronous ones share one set, grown as k needs: fresh small typed arrays
// live in V8's heap and cost a move out of it when C is handed their address.
function newSearchOut(k) {
  const n = Math.max(k, 64);
  return { ids: new BigUint64Array(n), dist: new Float32Array(n), found: new BigUint64Array(1) };
}
let shared = newSearchOut(0);
function searchOut(k) {
  if (k > shared.ids.length) shared = newSearchOut(k);
  return shared;
}

function readSearch({ ids, dist, found }) {
  const n = Number(found[0]);
  const distances = new Array(n);
  for (let i = 0; i < n; i++) distances[i] = dist[i];
  return { ids: cv.idsOut(ids, n), distances };
}

// One { ids, distances } per query of a batch search.
function readBatch({ n, k, ids, dist, found }) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const f = Number(found[i]);
    out[i] = {
      ids: cv.idsOut(ids.subarray(i * k, i * k + f), f),
      distances: Array.from(dist.subarray(i * k, i * k + f)),
    };
  }
  return out;
}

// brain_errmsg() is thread-local: an async call's detail stays on its worker.
const ASYNC_NO_DETAIL = '(no detail: brain_errmsg() stays on the worker thread)';

// A forgotten brain is closed when it is collected; close() is the way.
const registry = new FinalizationRegistry((handle) => C.brain_close(handle));

/** brain_options (version 4) from the JS options, and the path. */
function cOptions(options) {
  if (options === null || typeof options !== 'object') {
    throw makeError('EINVAL', 'options must be an object');
  }
  for (const name of Object.keys(options)) {
    if (!OPTION_NAMES.has(name)) throw makeError('EINVAL', `unknown option '${name}'`);
  }
  const o = {};
  check(C.brain_options_init(o, OPTIONS_VERSION));
  const set = (field, value, convert) => {
    if (value !== undefined && value !== null) o[field] = convert(value);
  };
  set('dimensions', options.dimensions, (v) => cv.count(v, 'dimensions', cv.U32_MAX));
  set('metric', options.metric, (v) => cv.choice(v, METRICS, 'metric'));
  set('index', options.index, (v) => cv.choice(v, INDEXES, 'index'));
  set('embedder', options.embedder, (v) => cv.choice(v, EMBEDDERS, 'embedder'));
  set('model_path', options.modelPath, (v) => cv.cstr(v, 'modelPath'));
  set('max_text_bytes', options.maxTextBytes, (v) => cv.count(v, 'maxTextBytes', cv.U32_MAX));
  set('max_memories', options.maxMemories, (v) => cv.idIn(v, 'maxMemories'));
  set('sync', options.sync, (v) => cv.choice(v, SYNCS, 'sync'));
  if (options.readOnly) o.flags |= OPEN_READONLY;
  if (options.create === false) o.flags |= OPEN_NOCREATE;
  return { path: cv.cstr(options.path, 'path'), opts: o };
}

/** A parameter's number from its name (as in params.h, any case) or number. */
function paramId(name) {
  if (typeof name === 'number') return name;
  const id = typeof name === 'string' ? params[name.toLowerCase()] : undefined;
  if (id === undefined) throw makeError('EPARAM', `unknown parameter '${String(name)}'`);
  return id;
}

class Brain {
  /**
   * Open a brain: in memory unless options.path names its directory.
   * @param {object} [options] see index.d.ts (BrainOptions)
   */
  constructor(options = {}) {
    const { path, opts } = cOptions(options);
    this._attach((out) => C.brain_open(path, opts, out), options.params);
  }

  /** Take the brain that `open(out)` makes, then set `params` on it. */
  _attach(open, initialParams) {
    const out = [null];
    check(open(out));
    this._b = out[0];
    this._pending = new Set();
    this._dim = C.brain_dimensions(this._b);
    this._probe = new Float32Array(this._dim);
    registry.register(this, this._b, this);
    try {
      for (const [name, value] of Object.entries(initialParams || {})) this.setParam(name, value);
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** The C handle; a StateError once the brain is closed. */
  _h() {
    if (this._b === null) throw makeError('ESTATE', 'the brain is closed');
    return this._b;
  }

  /**
   * Run C function `fn` on a worker thread (koffi's async call) with the
   * brain and `args`; `args` and `keep` (buffers that args point into) stay
   * referenced until it settles. Resolves with the return code.
   */
  _async(fn, args, keep = null) {
    const h = this._h();
    const call = { args, keep };
    this._pending.add(call);
    return new Promise((resolve, reject) => {
      try {
        fn.async(h, ...args, (err, rc) => {
          this._pending.delete(call);
          if (err) reject(err);
          else if (rc < 0) reject(makeError(rc, `${C.brain_strerror(rc)} ${ASYNC_NO_DETAIL}`));
          else resolve(rc);
        });
      } catch (e) {
        this._pending.delete(call);
        reject(e);
      }
    });
  }

  get closed() {
    return this._b === null;
  }

  get dimensions() {
    return this._dim;
  }

  /**
   * Close the brain (an on-disk brain writes a checkpoint first). Idempotent.
   * Refused (StateError, BRAIN_EBUSY) while a Promise of this brain is pending.
   */
  close() {
    if (this._b === null) return;
    if (this._pending.size) {
      throw makeError('EBUSY', `${this._pending.size} asynchronous call(s) still running: await them first`);
    }
    const h = this._b;
    this._b = null;
    registry.unregister(this);
    check(C.brain_close(h));
  }

  // ------------------------------------------------------------ text memories

  remember(text, { importance = 0.5, metadata, vector, key } = {}) {
    if (key != null) return this.upsert(key, text, { importance, metadata, vector });
    const h = this._h();
    const imp = cv.num(importance, 'importance');
    const meta = cv.json(metadata, 'metadata');
    // one change: the text with its length, the vector (null: the
    // embedder's) and the metadata
    const v = vector == null ? null : cv.vector(vector, this._dim);
    check(C.brain_remember_full(h, ...cv.text(text, 'text'), v, imp, meta, U64));
    return cv.idOut(u64());
  }

  /**
   * The arguments of brain_remember_batch(): `args`, and `ids` (which C fills).
   * `args` points into buffers that `keep` holds: keep it referenced until C
   * is done (the caller reads `ids` from the same object after the call).
   */
  _batchText(texts, importance, metadata) {
    if (!Array.isArray(texts)) throw makeError('EINVAL', 'texts must be an array');
    const t = cv.cstrArray(texts, 'texts', cv.cstr);
    let meta = null;
    if (metadata != null) {
      const list = Array.isArray(metadata) ? metadata : texts.map(() => metadata);
      if (list.length !== texts.length) {
        throw makeError('EINVAL', `${list.length} metadata for ${texts.length} texts`);
      }
      meta = cv.cstrArray(list, 'metadata', cv.json);
    }
    const ids = new BigUint64Array(texts.length);
    const args = [t.ptrs, texts.length, cv.num(importance, 'importance'), meta && meta.ptrs, ids];
    return { args, ids, keep: [t, meta] };
  }

  /** Remember many texts in one call (all checked first); their ids. */
  rememberMany(texts, { importance = 0.5, metadata } = {}) {
    const h = this._h();
    if (Array.isArray(texts) && texts.length === 0) return [];
    const batch = this._batchText(texts, importance, metadata);
    check(C.brain_remember_batch(h, ...batch.args));
    return cv.idsOut(batch.ids, batch.ids.length); // batch (and the buffers it keeps) lives until here
  }

  /** rememberMany() on a worker thread. */
  async rememberManyAsync(texts, { importance = 0.5, metadata } = {}) {
    this._h();
    if (Array.isArray(texts) && texts.length === 0) return [];
    const batch = this._batchText(texts, importance, metadata);
    await this._async(C.brain_remember_batch, batch.args, batch.keep);
    return cv.idsOut(batch.ids, batch.ids.length);
  }

  /**
   * Queue a text to be remembered in the background (brain_remember_async);
   * resolves once it is queued (waiting for room if the queue is full).
   * flush() makes it searchable.
   */
  async rememberAsync(text, { importance = 0.5 } = {}) {
    this._h();
    await this._async(C.brain_remember_async, [cv.cstr(text, 'text'), cv.num(importance, 'importance')]);
  }

  recall(query, { k = 5, where, mode = 'semantic' } = {}) {
    const h = this._h();
    const q = cv.cstr(query, 'query');
    const kk = cv.count(k, 'k');
    const m = cv.choice(mode, MODES, 'mode');
    return cv.take(cv.RESULTS, (out) => cv.withFilter(where, (f) => C.brain_recall_mode(h, q, kk, m, f, out)));
  }

  recallVector(vector, { k = 5, where } = {}) {
    const h = this._h();
    const v = cv.vector(vector, this._dim);
    const kk = cv.count(k, 'k');
    return cv.take(cv.RESULTS, (out) => cv.withFilter(where, (f) => C.brain_recall_vector(h, v, kk, f, out)));
  }

  think(question) {
    const h = this._h();
    const q = cv.cstr(question, 'question');
    return cv.take(cv.ANSWER, (out) => C.brain_think_ex(h, q, out));
  }

  get(id) {
    const h = this._h();
    const i = cv.idIn(id);
    return cv.take(cv.RESULTS, (out) => C.brain_get(h, i, out))[0];
  }

  forget(id) {
    check(C.brain_forget(this._h(), cv.idIn(id)));
  }

  forgetWhere(where) {
    const h = this._h();
    cv.withFilter(where, (f) => check(C.brain_forget_where(h, f, U64)));
    return cv.idOut(u64());
  }

  update(id, { text, importance, metadata, vector } = {}) {
    const h = this._h();
    const v = cv.optVector(vector, this._dim);
    const imp = importance == null ? KEEP_IMPORTANCE : cv.num(importance, 'importance');
    check(C.brain_update(h, cv.idIn(id), ...cv.text(text, 'text'), v, imp, cv.json(metadata, 'metadata')));
  }

  upsert(key, text, { importance = 0.5, metadata, vector } = {}) {
    const h = this._h();
    const args = [
      cv.cstr(key, 'key'),
      ...cv.text(text, 'text'),
      cv.optVector(vector, this._dim),
      cv.num(importance, 'importance'),
      cv.json(metadata, 'metadata'),
    ];
    check(C.brain_upsert(h, ...args, U64));
    return cv.idOut(u64());
  }

  keyId(key) {
    check(C.brain_key_id(this._h(), cv.cstr(key, 'key'), U64));
    return cv.idOut(u64());
  }

  forgetKey(key) {
    check(C.brain_forget_key(this._h(), cv.cstr(key, 'key')));
  }

  // ------------------------------------------------------------ metadata

  getMetadata(id) {
    const h = this._h();
    const i = cv.idIn(id);
    for (let size = 256; ; ) {
      const buf = Buffer.allocUnsafe(size);
      const rc = C.brain_get_metadata(h, i, buf, size, U64);
      const len = Number(u64());
      if (rc === codes.BRAIN_EBUFSIZE) {
        size = len + 1;
        continue;
      }
      check(rc);
      return JSON.parse(buf.toString('utf8', 0, len));
    }
  }

  setMetadata(id, metadata) {
    check(C.brain_set_metadata(this._h(), cv.idIn(id), cv.json(metadata, 'metadata')));
  }

  patchMetadata(id, patch) {
    check(C.brain_patch_metadata(this._h(), cv.idIn(id), cv.json(patch, 'patch')));
  }

  count(where) {
    const h = this._h();
    if (where == null) return cv.idOut(C.brain_count(h));
    cv.withFilter(where, (f) => check(C.brain_count_where(h, f, U64)));
    return cv.idOut(u64());
  }

  /** A page of memories in id order: those with an id above `after`. */
  list({ where, after, limit = 100 } = {}) {
    const h = this._h();
    const a = after == null ? ID_NONE : cv.idIn(after, 'after');
    const n = cv.count(limit, 'limit');
    return cv.take(cv.RESULTS, (out) => cv.withFilter(where, (f) => C.brain_list(h, f, a, n, out)));
  }

  // ------------------------------------------------------------ relations

  relate(from, to, verb, weight = 1) {
    const h = this._h();
    check(C.brain_relate(h, cv.idIn(from, 'from'), cv.idIn(to, 'to'), cv.cstr(verb, 'verb'), cv.num(weight, 'weight')));
  }

  unrelate(from, to, verb = null) {
    check(C.brain_unrelate(this._h(), cv.idIn(from, 'from'), cv.idIn(to, 'to'), cv.cstr(verb, 'verb')));
  }

  neighbors(id, { verb = null, direction = 'out' } = {}) {
    const h = this._h();
    const args = [cv.idIn(id), cv.cstr(verb, 'verb'), cv.choice(direction, DIRECTIONS, 'direction')];
    return cv.take(cv.EDGES, (out) => C.brain_neighbors(h, ...args, out));
  }

  traverse(start, { depth = 1, verb = null, direction = 'out' } = {}) {
    const h = this._h();
    const args = [
      cv.idIn(start, 'start'),
      cv.count(depth, 'depth', cv.U32_MAX),
      cv.cstr(verb, 'verb'),
      cv.choice(direction, DIRECTIONS, 'direction'),
    ];
    return cv.take(cv.EDGES, (out) => C.brain_traverse(h, ...args, out));
  }

  // ------------------------------------------------------------ documents

  /** Remember a long text as passages under `key`; how many passages. */
  rememberDocument(key, text, { importance = 0.5, metadata, maxBytes = 0 } = {}) {
    const h = this._h();
    const args = [
      cv.cstr(key, 'key'),
      ...cv.text(text, 'text'),
      cv.num(importance, 'importance'),
      cv.json(metadata, 'metadata'),
      cv.count(maxBytes, 'maxBytes'),
    ];
    check(C.brain_remember_document(h, ...args, U64));
    return Number(u64());
  }

  forgetDocument(key) {
    check(C.brain_forget_document(this._h(), cv.cstr(key, 'key'), U64));
    return Number(u64());
  }

  // ------------------------------------------------------------ vectors

  add(id, vector, metadata) {
    const h = this._h();
    const v = cv.vector(vector, this._dim);
    const i = cv.idIn(id);
    if (metadata == null) check(C.brain_add(h, i, v));
    else check(C.brain_add_with(h, i, v, cv.json(metadata, 'metadata')));
  }

  _batchArgs(ids, vectors) {
    const m = cv.matrix(vectors, this._dim);
    const i = cv.idsIn(ids);
    if (i.length !== m.n) throw makeError('EINVAL', `${i.length} ids for ${m.n} vectors`);
    return [i, m.data, m.n];
  }

  /** Add n vectors under n ids, all or nothing. */
  addMany(ids, vectors) {
    const h = this._h();
    const args = this._batchArgs(ids, vectors);
    if (args[2] > 0) check(C.brain_add_batch(h, ...args));
  }

  /** addMany() on a worker thread. */
  async addManyAsync(ids, vectors) {
    this._h();
    const args = this._batchArgs(ids, vectors);
    if (args[2] > 0) await this._async(C.brain_add_batch, args);
  }

  /**
   * The k nearest vectors: { ids, distances }, nearest first. `where` is a
   * filter text or a function (id) => boolean (called during the search; it
   * must not use the brain).
   */
  search(vector, { k = 5, where } = {}) {
    const h = this._h();
    const q = cv.vector(vector, this._dim, 'query');
    const kk = cv.count(k, 'k');
    if (typeof where === 'function') return this._searchAccept(h, q, kk, where);
    const out = searchOut(kk);
    if (where == null) check(C.brain_search(h, q, kk, out.ids, out.dist, out.found));
    else cv.withFilter(where, (f) => check(C.brain_search_where(h, q, kk, f, out.ids, out.dist, out.found)));
    return readSearch(out);
  }

  /**
   * search() of many queries at once (an array of vectors or a flat
   * Float32Array of n * dimensions), spread over the brain's THREADS
   * threads in C: one { ids, distances } per query, nearest first.
   */
  searchBatch(queries, { k = 5 } = {}) {
    const h = this._h();
    const b = this._batchSearchArgs(queries, k);
    if (b.n > 0) check(C.brain_search_batch(h, b.q, b.n, b.k, b.ids, b.dist, b.found));
    return readBatch(b);
  }

  /** searchBatch() on a worker thread: the event loop goes on meanwhile. */
  async searchBatchAsync(queries, { k = 5 } = {}) {
    this._h();
    const b = this._batchSearchArgs(queries, k);
    if (b.n > 0) await this._async(C.brain_search_batch, [b.q, b.n, b.k, b.ids, b.dist, b.found]);
    return readBatch(b);
  }

  _batchSearchArgs(queries, k) {
    const m = cv.matrix(queries, this._dim, 'queries');
    let kk = cv.count(k, 'k');
    if (kk < 1) throw makeError('ERANGE', 'searchBatch: k is 0; ask for at least 1 neighbour');
    // at most what the brain holds: C writes no more than that per query
    kk = Math.max(1, Math.min(kk, Number(this.count())));
    return {
      q: m.data,
      n: m.n,
      k: kk,
      ids: new BigUint64Array(m.n * kk),
      dist: new Float32Array(m.n * kk),
      found: new BigUint64Array(Math.max(m.n, 1)),
    };
  }

  // A JS filter runs inside the C call and may use other brains: this search
  // writes into buffers of its own, not the shared ones. An exception in it
  // rejects the rest and is thrown after the search.
  _searchAccept(h, q, k, accept) {
    const out = newSearchOut(k);
    const fn = (id) => (accept(cv.idOut(id)) ? 1 : 0);
    const search = (cb) => check(C.brain_search_filter(h, q, k, cb, null, out.ids, out.dist, out.found));
    cv.withCallback(AcceptFn, fn, 0, search);
    return readSearch(out);
  }

  getVector(id) {
    const v = new Float32Array(this._dim);
    check(C.brain_get_vector(this._h(), cv.idIn(id), v));
    return v;
  }

  updateVector(id, vector) {
    check(C.brain_update_vector(this._h(), cv.idIn(id), cv.vector(vector, this._dim)));
  }

  /** Whether a memory has id `id` (a bigint). */
  _has(id) {
    const rc = C.brain_get_vector(this._h(), id, this._probe);
    if (rc === codes.BRAIN_ENOTFOUND) return false;
    check(rc);
    return true;
  }

  // ------------------------------------------------------------ durability

  /** Wait until every queued write (rememberAsync) is made and durable. */
  flush() {
    check(C.brain_flush(this._h()));
  }

  async flushAsync() {
    await this._async(C.brain_flush, []);
  }

  checkpoint() {
    check(C.brain_checkpoint(this._h()));
  }

  async checkpointAsync() {
    await this._async(C.brain_checkpoint, []);
  }

  sync() {
    check(C.brain_sync(this._h()));
  }

  /** Write a consistent copy of the brain as a new on-disk brain in `dir`. */
  backup(dir) {
    check(C.brain_backup(this._h(), cv.cstr(dir, 'dir')));
  }

  // ------------------------------------------------------------ introspection

  /** brain_stats (version 7), its fields named as in storage.h. */
  stats() {
    const h = this._h();
    const s = {};
    check(C.brain_stats_init(s, STATS_VERSION));
    check(C.brain_get_stats(h, s));
    return s;
  }

  /** brain_health_json(), parsed. */
  health() {
    const h = this._h();
    for (let size = 4096; ; ) {
      const buf = Buffer.allocUnsafe(size);
      const len = check(C.brain_health_json(h, buf, size));
      if (len < size) return JSON.parse(buf.toString('utf8', 0, len));
      size = len + 1;
    }
  }

  setParam(name, value) {
    const h = this._h();
    check(C.brain_set_param(h, paramId(name), cv.int64(value, `parameter ${String(name)}`)));
  }

  getParam(name) {
    const out = [0];
    check(C.brain_get_param(this._h(), paramId(name), out));
    return out[0];
  }
}

if (typeof Symbol.dispose === 'symbol') {
  Brain.prototype[Symbol.dispose] = Brain.prototype.close;
}

module.exports = { Brain, cOptions, METRICS };

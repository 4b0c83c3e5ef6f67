'use strict';
// JS values to C arguments and C results to JS values. Every text goes to C
// as UTF-8 bytes, every vector as a Float32Array (the caller's own, when it is
// one: no copy), every id as a u64; the one path from a results object to
// objects is take().

const { koffi, C } = require('./native');
const { makeError, check } = require('./errors');

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const U64_MAX = 0xffffffffffffffffn;
const NUL = Buffer.alloc(1);
// A zero-length text at a real address: koffi passes an empty Buffer as
// NULL, which C would refuse as BRAIN_ENULL instead of saying it is empty.
const EMPTY = NUL.subarray(0, 0);

// ---------------------------------------------------------------- text

// A lone surrogate: a high one not followed by a low one, or a low one not
// preceded by a high one. String.prototype.isWellFormed() is Node 20+; this
// is the same test on Node 18.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:[^\uD800-\uDBFF]|^)[\uDC00-\uDFFF]/;

function isWellFormed(s) {
  return !LONE_SURROGATE.test(s);
}

// UTF-8 of a string that holds lone surrogates, each encoded as its three
// bytes (WTF-8), which are not UTF-8: the C library refuses them with
// BRAIN_EUTF8 instead of Buffer.from() quietly turning them into U+FFFD.
function wtf8(s) {
  const out = [];
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
      }
    }
    if (c < 0x80) out.push(c);
    else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
    else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
  }
  return Buffer.from(out);
}

/**
 * The UTF-8 bytes of a text argument: a string, a Buffer or a Uint8Array
 * (as is: invalid UTF-8 reaches C and gets its error). null/undefined give
 * null, which C refuses with BRAIN_ENULL where the argument is required.
 */
function bytes(value, what) {
  let b;
  if (value == null) return null;
  if (typeof value === 'string') b = isWellFormed(value) ? Buffer.from(value, 'utf8') : wtf8(value);
  else if (Buffer.isBuffer(value)) b = value;
  else if (value instanceof Uint8Array) b = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  else throw makeError('EINVAL', `${what} must be a string or a Buffer, not ${typeName(value)}`);
  return b.length ? b : EMPTY;
}

/** A text as the (pointer, length) pair of C: [bytes, byte length]. */
function text(value, what) {
  const b = bytes(value, what);
  return [b, b === null ? 0 : b.length];
}

/**
 * bytes() with a NUL at the end, for the C arguments that end at a NUL. A NUL
 * inside would cut the text short, so it is refused here (BRAIN_EUTF8, as C
 * refuses one in a text passed with its length).
 */
function cstr(value, what) {
  if (typeof value === 'string' && isWellFormed(value)) {
    const at = value.indexOf('\0');
    if (at >= 0) throw nulError(what, Buffer.byteLength(value.slice(0, at)));
    return Buffer.from(`${value}\0`);
  }
  const b = bytes(value, what);
  if (b === null) return null;
  const at = b.indexOf(0);
  if (at >= 0) throw nulError(what, at);
  return Buffer.concat([b, NUL]);
}

function nulError(what, at) {
  return makeError('EUTF8', `${what}: a NUL at byte ${at} (this argument cannot hold one)`);
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function isPlainObject(v) {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** A value as a message names it: NaN, Infinity, undefined, a function, a Map... */
function valueName(v) {
  if (typeof v === 'number') return String(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (v === undefined) return 'undefined';
  if (typeof v === 'function') return 'a function';
  if (typeof v === 'symbol') return 'a symbol';
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    if (isPlainObject(v)) return 'a nested object';
    const name = typeName(v);
    return name.startsWith('an ') ? name : `a ${name}`;
  }
  return typeName(v);
}

const FIELD_TYPES = 'a string, a finite number, a boolean, null, a bigint in int64 or an array of strings';

/** The JSON of one metadata field's value; anything JSON.stringify would change or drop is BRAIN_EJSON. */
function fieldJson(v, what, name) {
  const refuse = (why) => makeError('EJSON', `${what}: field ${JSON.stringify(name)}: ${why}`);
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (Number.isFinite(v)) return JSON.stringify(v);
      throw refuse(`${v} is not a finite number (JSON has no NaN or Infinity)`);
    case 'bigint':
      if (v >= INT64_MIN && v <= INT64_MAX) return v.toString();
      throw refuse(`${v}n is outside int64`);
    case 'object':
      if (v === null) return 'null';
      if (Array.isArray(v)) {
        const items = new Array(v.length);
        for (let i = 0; i < v.length; i++) {
          if (typeof v[i] !== 'string') {
            throw refuse(`item ${i} is ${valueName(v[i])}, not a string (a list holds strings only)`);
          }
          items[i] = JSON.stringify(v[i]);
        }
        return `[${items.join(',')}]`;
      }
      break;
  }
  throw refuse(`${valueName(v)} cannot be stored (a field holds ${FIELD_TYPES})`);
}

/**
 * Metadata: a plain object (sent as JSON), a JSON text (a string or bytes)
 * as is, or null for none. The object is written here, not with
 * JSON.stringify, which would turn NaN and Infinity into null, a Map into {}
 * and drop undefined members: every value it cannot keep as given is
 * refused (MetadataError, BRAIN_EJSON, naming the field), as the Python
 * binding refuses it. null is a field's removal in a patch.
 */
function json(value, what) {
  if (value == null) return null;
  if (typeof value === 'string' || value instanceof Uint8Array) return cstr(value, what);
  if (!isPlainObject(value)) {
    throw makeError('EJSON', `${what} must be a plain object or a JSON text, not ${valueName(value)}`);
  }
  const syms = Object.getOwnPropertySymbols(value).filter((s) => Object.prototype.propertyIsEnumerable.call(value, s));
  if (syms.length) throw makeError('EJSON', `${what}: a field named by ${String(syms[0])} (names are strings)`);
  const fields = Object.keys(value).map((name) => `${JSON.stringify(name)}:${fieldJson(value[name], what, name)}`);
  return cstr(`{${fields.join(',')}}`, what);
}

/**
 * n values, each made a NUL-terminated text by `encode` (cstr or json), as
 * one buffer and an array of pointers into it (0 for a null entry), for the
 * C calls that take `const char **`. Both must stay alive while C reads
 * them: the caller keeps the result.
 */
function cstrArray(values, what, encode) {
  const parts = values.map((v, i) => encode(v, `${what}[${i}]`));
  const buf = Buffer.concat(parts.filter((p) => p !== null));
  const base = buf.length ? koffi.address(buf) : 0n;
  const ptrs = new BigUint64Array(values.length);
  let off = 0;
  parts.forEach((p, i) => {
    if (p === null) return;
    ptrs[i] = base + BigInt(off);
    off += p.length;
  });
  return { buf, ptrs };
}

// ---------------------------------------------------------------- numbers and ids

function typeName(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v.constructor && v.constructor.name) || 'an object';
  return typeof v;
}

/** A u64 id from a number (a safe integer) or a bigint, as a bigint. */
function idIn(v, what = 'id') {
  if (typeof v === 'bigint') {
    if (v < 0n || v > U64_MAX) throw makeError('ERANGE', `${what} ${v} is not a u64`);
    return v;
  }
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw makeError('ERANGE', `${what} ${v} is not an integer in 0..2^53-1 (pass a bigint for larger ids)`);
    }
    return BigInt(v);
  }
  if (v == null) throw makeError('ENULL', `${what} is required`);
  throw makeError('EINVAL', `${what} must be a number or a bigint, not ${typeName(v)}`);
}

/** An id from C: a number while it is exact (<= 2^53 - 1), else a bigint. */
function idOut(v) {
  if (typeof v === 'number') return v;
  return v <= MAX_SAFE ? Number(v) : v;
}

function idsIn(values, what = 'ids') {
  if (!values || typeof values.length !== 'number' || typeof values === 'string') {
    throw makeError('EINVAL', `${what} must be an array of ids`);
  }
  if (values instanceof BigUint64Array) return values;
  const out = new BigUint64Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = idIn(values[i], `${what}[${i}]`);
  return out;
}

function idsOut(arr, n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = idOut(arr[i]);
  return out;
}

/** A finite number argument (C checks the range). */
function num(v, what) {
  if (typeof v !== 'number') throw makeError('EINVAL', `${what} must be a number, not ${typeName(v)}`);
  return v;
}

const U32_MAX = 0xffffffff;

/**
 * A count (k, limit, depth): an integer in 0..max (C says whether 0 is
 * allowed). Checked here because koffi would wrap a value too large for
 * the C type instead of refusing it.
 */
function count(v, what, max = Number.MAX_SAFE_INTEGER) {
  if (typeof v === 'bigint' && v >= 0n && v <= BigInt(max)) v = Number(v);
  if (typeof v !== 'number') throw makeError('EINVAL', `${what} must be an integer, not ${typeName(v)}`);
  if (!Number.isSafeInteger(v) || v < 0 || v > max) {
    throw makeError('ERANGE', `${what} must be an integer in 0..${max}, not ${String(v)}`);
  }
  return v;
}

/** An int64 argument (a parameter's value): a safe integer or a bigint in range. */
function int64(v, what) {
  const ok = typeof v === 'bigint' ? v >= -(2n ** 63n) && v < 2n ** 63n : Number.isSafeInteger(v);
  if (ok) return v;
  throw makeError(typeof v === 'bigint' ? 'ERANGE' : 'EINVAL', `${what}: ${String(v)} is not an int64`);
}

/** One of `names` (a string) to its C value. */
function choice(v, names, what) {
  if (Object.prototype.hasOwnProperty.call(names, v)) return names[v];
  throw makeError('EINVAL', `${what} must be one of ${Object.keys(names).join(', ')}, not ${String(v)}`);
}

// ---------------------------------------------------------------- vectors

/**
 * A vector of `dim` floats as a Float32Array: the caller's own when it is one
 * (zero copy: C reads it in place), else a copy of the array of numbers.
 * NaN and infinities reach C, which refuses them (BRAIN_ENONFINITE).
 */
function vector(v, dim, what = 'vector') {
  let f;
  if (v instanceof Float32Array) f = v;
  else if (Array.isArray(v) || ArrayBuffer.isView(v)) f = Float32Array.from(v);
  else if (v == null) throw makeError('ENULL', `${what} is required`);
  else throw makeError('EINVAL', `${what} must be a Float32Array or an array of numbers, not ${typeName(v)}`);
  if (f.length !== dim) {
    throw makeError('EDIM', `${what} has ${f.length} dimensions, the brain has ${dim}`);
  }
  return f;
}

/** vector(), or null for null/undefined (the C calls where a vector is optional). */
function optVector(v, dim, what = 'vector') {
  return v == null ? null : vector(v, dim, what);
}

/**
 * n vectors as one row-major Float32Array: a flat Float32Array of n * dim
 * (zero copy) or an array of vectors (copied into one).
 */
function matrix(vs, dim, what = 'vectors') {
  if (vs instanceof Float32Array) {
    if (vs.length % dim !== 0) {
      throw makeError('EDIM', `${what}: a flat array of ${vs.length} floats is not rows of ${dim}`);
    }
    return { data: vs, n: vs.length / dim };
  }
  if (!Array.isArray(vs)) {
    throw makeError('EINVAL', `${what} must be an array of vectors or a flat Float32Array, not ${typeName(vs)}`);
  }
  const data = new Float32Array(vs.length * dim);
  vs.forEach((row, i) => data.set(vector(row, dim, `${what}[${i}]`), i * dim));
  return { data, n: vs.length };
}

// ---------------------------------------------------------------- results

// A memory without metadata has "{}": metadata null then.
function metadataOut(text) {
  if (text === null || text === '{}') return null;
  return JSON.parse(text);
}

// One accessor call per field: koffi's calls cost about 70 ns, less than
// decoding the struct array brain_results_read fills (about 2 us an entry).
function memories(r) {
  const n = C.brain_results_count(r);
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      id: idOut(C.brain_results_id(r, i)),
      text: C.brain_results_text(r, i),
      score: C.brain_results_score(r, i),
      importance: C.brain_results_importance(r, i),
      created: C.brain_results_created(r, i),
      accessed: C.brain_results_accessed(r, i),
      metadata: metadataOut(C.brain_results_metadata(r, i)),
      key: C.brain_results_key(r, i),
      document: C.brain_results_document(r, i),
    };
  }
  return out;
}

function edges(e) {
  const n = C.brain_edges_count(e);
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = {
      from: idOut(C.brain_edges_from(e, i)),
      to: idOut(C.brain_edges_to(e, i)),
      verb: C.brain_edges_verb(e, i),
      weight: C.brain_edges_weight(e, i),
      hops: C.brain_edges_hops(e, i),
    };
  }
  return out;
}

/** What take() reads from each kind of object C hands out, and how it is freed. */
const RESULTS = { read: memories, free: C.brain_results_free };
const ANSWER = {
  read: (r) => ({ answer: C.brain_results_answer(r), memories: memories(r) }),
  free: C.brain_results_free,
};
const EDGES = { read: edges, free: C.brain_edges_free };

/**
 * Call `call(out)` (a C call that returns an object through `out`), check
 * its code, read the object into JS values and free it, whatever happens.
 */
function take(kind, call) {
  const out = [null];
  try {
    check(call(out));
    return kind.read(out[0]);
  } finally {
    if (out[0]) kind.free(out[0]);
  }
}

/**
 * Call `run(cb)` with `fn` registered as a C callback of type `proto`. Once
 * fn throws, the callback returns `failValue` (without calling fn again) and
 * the exception is thrown after the C call; if run() throws (the C call
 * failed because of it) the exception becomes that error's cause.
 */
function withCallback(proto, fn, failValue, run) {
  let failure = null;
  const cb = koffi.register((...args) => {
    if (failure) return failValue;
    try {
      return fn(...args);
    } catch (e) {
      failure = e;
      return failValue;
    }
  }, koffi.pointer(proto));
  try {
    const result = run(cb);
    if (failure) throw failure;
    return result;
  } catch (e) {
    if (failure && e !== failure && e.cause === undefined) e.cause = failure;
    throw e;
  } finally {
    koffi.unregister(cb);
  }
}

/**
 * Run `fn(filter)` with the filter parsed from `where` (a filter text;
 * null/undefined: fn(null)), freed afterwards. Returns what fn returns.
 */
function withFilter(where, fn) {
  if (where == null) return fn(null);
  const text = bytes(where, 'where');
  const out = [null];
  check(C.brain_filter_parse_len(text, text.length, out));
  try {
    return fn(out[0]);
  } finally {
    C.brain_filter_free(out[0]);
  }
}

module.exports = {
  isWellFormed,
  text,
  cstr,
  json,
  cstrArray,
  idIn,
  idOut,
  idsIn,
  idsOut,
  num,
  count,
  int64,
  U32_MAX,
  choice,
  vector,
  optVector,
  matrix,
  take,
  withFilter,
  withCallback,
  RESULTS,
  ANSWER,
  EDGES,
};

// Type declarations of braincore's Node.js binding.

/// <reference types="node" />

/**
 * A memory's id: a u64. Returned as a number while it is at most
 * Number.MAX_SAFE_INTEGER (2^53 - 1), as a bigint above; accepted as either.
 */
export type Id = number | bigint;

/** A text argument: a string, or UTF-8 bytes passed as they are. */
export type Text = string | Buffer | Uint8Array;

/** A vector: a Float32Array is passed to C without a copy; an array of numbers is copied. */
export type Vector = Float32Array | ArrayLike<number>;

/**
 * Metadata: a plain object of typed fields, or the JSON text of one (given
 * as is). A field is a string, a finite number, a boolean, a bigint in
 * int64 or an array of strings; null removes the field in a patch. Any
 * other value (NaN, Infinity, undefined, a function, a symbol, a Map, a
 * Date, a nested object...) is a MetadataError (BRAIN_EJSON) naming the field.
 */
export type Metadata = Record<string, string | number | bigint | boolean | string[] | null> | string | Buffer | Uint8Array;

/** A filter text over metadata, e.g. `kind = "note" AND ts >= 1700000000`. */
export type Where = string | Buffer;

export type Metric = 'cosine' | 'l2' | 'ip';

export interface BrainOptions {
  /** Directory of an on-disk brain; omitted: in memory. */
  path?: string;
  /** Vector dimensions, 1..65536; default 384. */
  dimensions?: number;
  metric?: Metric;
  index?: 'auto' | 'flat' | 'hnsw';
  embedder?: 'builtin' | 'none' | 'model';
  /** The model of embedder "model": a .gguf file or a Hugging Face model directory. */
  modelPath?: string;
  /** Longest text accepted, in bytes; default 65536. */
  maxTextBytes?: number;
  /** Most memories the brain may hold. */
  maxMemories?: Id;
  sync?: 'full' | 'normal' | 'off';
  readOnly?: boolean;
  /** false: fail with NotFoundError instead of creating a new brain. Default true. */
  create?: boolean;
  /** Run-time parameters set after opening, by params.h name without BRAIN_PARAM_ (any case). */
  params?: Record<string, number | bigint>;
}

export interface Memory {
  id: Id;
  /** null for a memory without text (a vector added with add()). */
  text: string | null;
  score: number;
  importance: number;
  /** Milliseconds since the Unix epoch. */
  created: number;
  accessed: number;
  /** The memory's metadata (with the library's "@" fields), or null when it has none (getMetadata() gives {} then). */
  metadata: Record<string, unknown> | null;
  key: string | null;
  /** The document key of a passage of rememberDocument(). */
  document: string | null;
}

export interface Edge {
  from: Id;
  to: Id;
  verb: string;
  weight: number;
  /** Hops from the start (traverse), 1 for neighbors. */
  hops: number;
}

export interface Thought {
  answer: string;
  memories: Memory[];
}

export interface SearchResult {
  ids: Id[];
  distances: number[];
}

export interface RememberOptions {
  /** In [0, 1]; default 0.5. */
  importance?: number;
  metadata?: Metadata | null;
  /** The caller's embedding of the text instead of the embedder's. */
  vector?: Vector | null;
  /** Remember under this key: replaces the memory that has it (upsert). */
  key?: Text | null;
}

export type Direction = 'out' | 'in' | 'both';

/** brain_stats version 7, fields named as in braincore/storage.h. */
export interface BrainStats {
  version: number;
  memories: number;
  text_memories: number;
  dimensions: number;
  metric: number;
  sync: number;
  on_disk: number;
  read_only: number;
  index_bytes: number;
  last_lsn: number;
  durable_lsn: number;
  checkpoint_lsn: number;
  generation: number;
  checkpoint_bytes: number;
  wal_bytes: number;
  checkpoints: number;
  heap_bytes: number;
  heap_peak_bytes: number;
  heap_records_bytes: number;
  heap_index_bytes: number;
  heap_embedder_bytes: number;
  heap_log_bytes: number;
  heap_results_bytes: number;
  heap_other_bytes: number;
  remember_count: number;
  remember_p50_ns: number;
  remember_p99_ns: number;
  remember_max_ns: number;
  recall_count: number;
  recall_p50_ns: number;
  recall_p99_ns: number;
  recall_max_ns: number;
  think_count: number;
  think_p50_ns: number;
  think_p99_ns: number;
  think_max_ns: number;
  search_count: number;
  search_p50_ns: number;
  search_p99_ns: number;
  search_max_ns: number;
  index_pending: number;
  index_builds: number;
  ingest_queued: number;
  ingest_done: number;
  ingest_waited: number;
  memory_budget: number;
  memory_pressure: number;
  circadian_cycles: number;
  circadian_forgotten: number;
  circadian_consolidated: number;
  circadian_compacted: number;
  circadian_slots_released: number;
  meta_memories: number;
  meta_fields: number;
  meta_bytes: number;
  meta_postings_broken: number;
  relations: number;
}

export class Brain {
  /** Open a brain: in memory, or on disk at options.path. */
  constructor(options?: BrainOptions);
  readonly closed: boolean;
  readonly dimensions: number;
  /** Close (an on-disk brain checkpoints first). Idempotent; StateError (BRAIN_EBUSY) while a Promise is pending. */
  close(): void;
  [Symbol.dispose](): void;

  remember(text: Text, options?: RememberOptions): Id;
  /** Remember many texts at once (all checked before any is stored). */
  rememberMany(texts: Text[], options?: { importance?: number; metadata?: Metadata | (Metadata | null)[] | null }): Id[];
  rememberManyAsync(texts: Text[], options?: { importance?: number; metadata?: Metadata | (Metadata | null)[] | null }): Promise<Id[]>;
  /** Queue a text for the background; resolves once queued. flush() makes it searchable. */
  rememberAsync(text: Text, options?: { importance?: number }): Promise<void>;
  recall(query: Text, options?: { k?: number; where?: Where | null; mode?: 'semantic' | 'keyword' | 'hybrid' }): Memory[];
  recallVector(vector: Vector, options?: { k?: number; where?: Where | null }): Memory[];
  think(question: Text): Thought;
  /** NotFoundError when no memory has the id. */
  get(id: Id): Memory;
  forget(id: Id): void;
  /** Forget every memory the filter passes; how many. */
  forgetWhere(where: Where): number;
  update(id: Id, changes: { text?: Text | null; importance?: number | null; metadata?: Metadata | null; vector?: Vector | null }): void;
  upsert(key: Text, text: Text, options?: { importance?: number; metadata?: Metadata | null; vector?: Vector | null }): Id;
  keyId(key: Text): Id;
  forgetKey(key: Text): void;

  /** The caller's metadata and the library's "@" fields; {} for none. */
  getMetadata(id: Id): Record<string, unknown>;
  setMetadata(id: Id, metadata: Metadata | null): void;
  /** Merge: each field replaces its namesake, a null removes it. */
  patchMetadata(id: Id, patch: Metadata): void;
  count(where?: Where | null): number;
  /** A page in id order of the memories above `after` (default: from the first). */
  list(options?: { where?: Where | null; after?: Id | null; limit?: number }): Memory[];

  relate(from: Id, to: Id, verb: Text, weight?: number): void;
  /** Without a verb: every edge from `from` to `to`. */
  unrelate(from: Id, to: Id, verb?: Text | null): void;
  neighbors(id: Id, options?: { verb?: Text | null; direction?: Direction }): Edge[];
  traverse(start: Id, options?: { depth?: number; verb?: Text | null; direction?: Direction }): Edge[];

  /** Remember a long text as passages under `key`; the number of passages. */
  rememberDocument(key: Text, text: Text, options?: { importance?: number; metadata?: Metadata | null; maxBytes?: number }): number;
  forgetDocument(key: Text): number;

  add(id: Id, vector: Vector, metadata?: Metadata | null): void;
  /** `vectors`: an array of vectors or one flat Float32Array of n * dimensions (no copy). */
  addMany(ids: ArrayLike<Id> | BigUint64Array, vectors: Vector[] | Float32Array): void;
  addManyAsync(ids: ArrayLike<Id> | BigUint64Array, vectors: Vector[] | Float32Array): Promise<void>;
  /** `where`: a filter text, or a function of the id (must not use the brain). */
  search(vector: Vector, options?: { k?: number; where?: Where | ((id: Id) => boolean) | null }): SearchResult;
  /** search() of many queries (vectors, or a flat Float32Array of n x dimensions) on the brain's THREADS threads. */
  searchBatch(queries: Vector[] | Float32Array, options?: { k?: number }): SearchResult[];
  /** searchBatch() on a worker thread. */
  searchBatchAsync(queries: Vector[] | Float32Array, options?: { k?: number }): Promise<SearchResult[]>;
  getVector(id: Id): Float32Array;
  updateVector(id: Id, vector: Vector): void;

  flush(): void;
  flushAsync(): Promise<void>;
  checkpoint(): void;
  checkpointAsync(): Promise<void>;
  sync(): void;
  backup(dir: string): void;

  stats(): BrainStats;
  health(): Record<string, any>;
  setParam(name: string | number, value: number | bigint): void;
  /** A bigint for a value beyond 2^53 (HNSW_SEED may be). */
  getParam(name: string | number): number | bigint;
}

/** hnswlib-node's HierarchicalNSW shape over an in-memory brain of vectors. */
export class Index {
  constructor(space: Metric, dim: number);
  /** maxElements below 1 is an InvalidArgumentError (BRAIN_EINVAL). */
  initIndex(maxElements: number, M?: number, efConstruction?: number, randomSeed?: number): void;
  /** Adds, or replaces the vector of an existing label. */
  addPoint(vector: Vector, label: Id): void;
  /**
   * Labels default to one more than the largest label this index has held
   * (since initIndex, or in the file loadIndex read), +1, ...: never a label
   * it has, even after markDeleted.
   */
  addPoints(vectors: Vector[] | Float32Array, labels?: ArrayLike<Id> | BigUint64Array): void;
  addPointsAsync(vectors: Vector[] | Float32Array, labels?: ArrayLike<Id> | BigUint64Array): Promise<void>;
  /** InvalidArgumentError (BRAIN_ERANGE) when fewer than k are found. */
  searchKnn(query: Vector, k: number, filter?: ((label: Id) => boolean) | null): { neighbors: Id[]; distances: number[] };
  setEf(ef: number): void;
  getEf(): number;
  markDeleted(label: Id): void;
  markDelete(label: Id): void;
  getPoint(label: Id): number[];
  getItems(labels: ArrayLike<Id>): number[][];
  getIdsList(): Id[];
  getCurrentCount(): number;
  getMaxElements(): number;
  getNumDimensions(): number;
  /** M of the graph: initIndex's, or the loaded file's (16 before either). */
  readonly M: number;
  /** efConstruction of the graph: initIndex's, or the loaded file's (200 before either). */
  readonly efConstruction: number;
  /**
   * Writes the file every braincore binding reads (docs/bindings.md, "Index
   * files"): the line `braincore-index 1`, a JSON line with space, dim,
   * max_elements, M, ef_construction and ef, then the brain's snapshot;
   * through path.tmp, fsynced, then renamed.
   */
  saveIndex(path: string): void;
  writeIndexSync(path: string): void;
  /**
   * Reads a file saveIndex wrote in any binding. maxElements 0 (or absent):
   * the file's. M, efConstruction and ef become the file's (ef applied).
   * StorageError BRAIN_ECORRUPT: not such a file; InvalidArgumentError
   * BRAIN_EINVAL: another space or dim. On failure the index is unchanged.
   */
  loadIndex(path: string, maxElements?: number): void;
  readIndexSync(path: string, maxElements?: number): void;
  close(): void;
  [Symbol.dispose](): void;
}

export { Index as HierarchicalNSW };

export type ErrorCode =
  | 'BRAIN_EINVAL' | 'BRAIN_ENOMEM' | 'BRAIN_ENULL' | 'BRAIN_EEMPTY' | 'BRAIN_EUTF8' | 'BRAIN_ETOOLONG'
  | 'BRAIN_EDIM' | 'BRAIN_ENONFINITE' | 'BRAIN_EZEROVEC' | 'BRAIN_ERANGE' | 'BRAIN_ENOTFOUND'
  | 'BRAIN_EEXISTS' | 'BRAIN_EBUFSIZE' | 'BRAIN_ENOEMBEDDER' | 'BRAIN_EEMBEDDER' | 'BRAIN_EGENERATOR'
  | 'BRAIN_EVERSION' | 'BRAIN_EPARAM' | 'BRAIN_EFULL' | 'BRAIN_ENOTSUP' | 'BRAIN_ESTATE' | 'BRAIN_EBUSY'
  | 'BRAIN_EINTERNAL' | 'BRAIN_EIO' | 'BRAIN_ECORRUPT' | 'BRAIN_ENOSPC' | 'BRAIN_EMISMATCH'
  | 'BRAIN_EREADONLY' | 'BRAIN_EJSON' | 'BRAIN_EFILTER' | 'BRAIN_ETYPE';

/** Every error the binding throws. */
export class BrainError extends Error {
  constructor(message: string, errno: number, options?: ErrorOptions);
  /** The code's name, e.g. 'BRAIN_ENOTFOUND' (brain_error_name()). */
  readonly code: ErrorCode | string;
  /** The C value, e.g. -11. */
  readonly errno: number;
}
/** EINVAL ENULL ERANGE EPARAM EVERSION EBUFSIZE */
export class InvalidArgumentError extends BrainError {}
/** EEMPTY EUTF8 ETOOLONG */
export class TextError extends BrainError {}
/** EDIM ENONFINITE EZEROVEC */
export class VectorError extends BrainError {}
/** ENOTFOUND */
export class NotFoundError extends BrainError {}
/** EEXISTS */
export class ExistsError extends BrainError {}
/** EFULL */
export class CapacityError extends BrainError {}
/** ENOMEM */
export class OutOfMemoryError extends BrainError {}
/** ENOEMBEDDER EEMBEDDER EGENERATOR */
export class EmbedderError extends BrainError {}
/** ENOTSUP ESTATE EBUSY EREADONLY */
export class StateError extends BrainError {}
/** EIO ECORRUPT ENOSPC EMISMATCH */
export class StorageError extends BrainError {}
/** EJSON EFILTER ETYPE */
export class MetadataError extends BrainError {}
/** EINTERNAL */
export class InternalError extends BrainError {}

/** Error codes by name, from the library: { BRAIN_EINVAL: -1, ... }. */
export const codes: Readonly<Record<ErrorCode, number>>;
/** The C library's version, e.g. "0.1.0". */
export const libraryVersion: string;
/** The path or name the C library was loaded from. */
export const libraryPath: string;

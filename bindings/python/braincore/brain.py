"""braincore.Brain: text memory (remember, recall, think) over libbraincore."""

import ctypes
import json
import operator
import os
from ctypes import byref, c_char_p, c_int64, c_size_t, c_uint64, c_void_p
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _capi
from ._capi import ID_NONE, lib
from ._util import (EINVAL, ESTATE, cstring, fptr, matrix, metadata_json, parsed_filter,
                    text_bytes, vector)
from .errors import InvalidArgumentError, NotFoundError, StateError, check

__all__ = ["Brain", "Memory", "Thought", "Edge", "param_names", "check_brain", "repair_brain"]

Text = Union[str, bytes]
Metadata = Union[Dict[str, Any], str, None]

_METRICS = {"cosine": 0, "l2": 1, "ip": 2}
_INDEXES = {"auto": 0, "flat": 1, "hnsw": 2}
_EMBEDDERS = {"builtin": 0, "none": 1, "model": 2}
_SYNCS = {"full": 0, "normal": 1, "off": 2}
_BACKGROUNDS = {"threads": 0, "manual": 1}
_MODES = {"semantic": 0, "keyword": 1, "hybrid": 2}
_DIRECTIONS = {"out": 1, "in": 2, "both": 3}
OPEN_READONLY, OPEN_NOCREATE, OPEN_STORED_OPTIONS = 1, 2, 4
TIME_NONE = -2**63


@dataclass(frozen=True)
class Memory:
    """A memory as a call returned it. `score` is the call's ranking score
    (recall: similarity with importance; get/list: 1); times are Unix
    milliseconds; `metadata` is the memory's fields ({} for none); `key` its
    upsert key and `document` the document it is a passage of, or None."""
    id: int
    text: Optional[str]
    score: float = 0.0
    importance: float = 0.0
    created: int = 0
    accessed: int = 0
    metadata: Dict[str, Any] = field(default_factory=dict)
    key: Optional[str] = None
    document: Optional[str] = None


@dataclass(frozen=True)
class Thought:
    """brain.think()'s answer and the memories it drew on, best first (none
    when the brain did not know)."""
    answer: str
    memories: List[Memory]


@dataclass(frozen=True)
class Edge:
    """A relation: from_id --verb--> to_id, its weight, and (traverse) the hops from the start."""
    from_id: int
    to_id: int
    verb: str
    weight: float
    hops: int = 1


def _enum(table, value, what):
    if isinstance(value, int) and value in table.values():
        return value
    try:
        return table[str(value).lower()]
    except KeyError:
        raise InvalidArgumentError(EINVAL, "%s must be one of %s, not %r"
                                   % (what, ", ".join(sorted(table)), value)) from None


def _param_table():
    names = {}
    for number in range(0, 1024):
        name = lib.brain_param_name(number)
        if name:
            names[name.decode().lower()] = number
    return names


_PARAMS = _param_table()


def param_names() -> List[str]:
    """The parameters Brain.set_param() takes, by name (braincore/params.h without the prefix)."""
    return sorted(_PARAMS)


def _param_number(param):
    if isinstance(param, int):
        return param
    try:
        return _PARAMS[str(param).lower().replace("brain_param_", "")]
    except KeyError:
        raise InvalidArgumentError(-18, "unknown parameter %r (braincore.param_names() lists them)"
                                   % (param,)) from None


def _str(p):
    return p.decode("utf-8", "replace") if p is not None else None


def _take_results(r, answer=False):
    """Memories of a brain_results * (then freed) and, for think, its answer:
    every entry copied out in one call (brain_results_read)."""
    try:
        n = lib.brain_results_count(r)
        entries = (_capi.Result * max(n, 1))()
        check(lib.brain_results_read(r, 0, n, _capi.RESULT_VERSION, entries, None))
        string_at, loads = ctypes.string_at, json.loads
        out = [Memory(e.id, string_at(e.text, e.text_len).decode("utf-8") if e.text else None,
                      e.score, e.importance, e.created_ms, e.accessed_ms,
                      {} if e.metadata == b"{}" else loads(e.metadata),
                      _str(e.key), _str(e.document))
               for e in entries[:n]]
        if answer:
            return Thought(_str(lib.brain_results_answer(r)) or "", out)
        return out
    finally:
        lib.brain_results_free(r)


def _take_edges(e):
    try:
        return [Edge(lib.brain_edges_from(e, i), lib.brain_edges_to(e, i),
                     _str(lib.brain_edges_verb(e, i)), lib.brain_edges_weight(e, i),
                     lib.brain_edges_hops(e, i))
                for i in range(lib.brain_edges_count(e))]
    finally:
        lib.brain_edges_free(e)


def _options(dimensions=None, metric="cosine", index="auto", embedder="builtin",
             model_path=None, max_text_bytes=None, max_memories=None, sync="full",
             read_only=False, create=True, background="threads", stored_options=False):
    o = _capi.Options()
    check(lib.brain_options_init(byref(o), _capi.OPTIONS_VERSION))
    o.embedder = _enum(_EMBEDDERS, embedder, "embedder")
    if dimensions is not None:
        o.dimensions = int(dimensions)
    elif o.embedder == _EMBEDDERS["model"]:
        o.dimensions = 0          # the model's own
    o.metric = _enum(_METRICS, metric, "metric")
    o.index = _enum(_INDEXES, index, "index")
    if max_text_bytes is not None:
        o.max_text_bytes = int(max_text_bytes)
    if max_memories is not None:
        o.max_memories = int(max_memories)
    o.sync = _enum(_SYNCS, sync, "sync")
    o.background = _enum(_BACKGROUNDS, background, "background")
    o.flags = ((OPEN_READONLY if read_only else 0) | (0 if create else OPEN_NOCREATE)
               | (OPEN_STORED_OPTIONS if stored_options else 0))
    if model_path is not None:
        o.model_path = os.fsencode(model_path)
    return o


def _path(path):
    return None if path is None else os.fsencode(path)


class Brain:
    """A brain: memories of text (and vectors), recalled by meaning.

    Brain() is in memory; Brain(path) opens (or creates) an on-disk brain in
    that directory, durable as `sync` says (docs/durability.md). Options
    are those of brain_options (braincore/options.h): dimensions, metric
    ("cosine", "l2", "ip"), index ("auto", "flat", "hnsw"), embedder
    ("builtin", "none", "model" with model_path), max_text_bytes,
    max_memories, sync ("full", "normal", "off"), read_only, create
    (False: the brain must exist), background ("threads", "manual"),
    stored_options (take them from the brain on disk), and params, a dict of
    parameters set after opening (braincore.param_names()).

    One Brain serves many threads (the library releases the GIL during its
    calls). close() (or leaving a `with` block) must not race with other
    calls on the same brain.
    """

    def __init__(self, path: Union[str, os.PathLike, None] = None, *,
                 params: Optional[Dict[str, int]] = None, **options):
        self._b = None
        o = _options(**options)
        b = c_void_p()
        check(lib.brain_open(_path(path), byref(o), byref(b)))
        self._b = b
        self._dim = lib.brain_dimensions(b)
        self.path = path
        for name, value in (params or {}).items():
            self.set_param(name, value)

    @classmethod
    def _adopt(cls, handle, path):
        self = cls.__new__(cls)
        self._b = handle
        self._dim = lib.brain_dimensions(handle)
        self.path = path
        return self

    # ---- life -------------------------------------------------------------
    def _h(self):
        if self._b is None:
            raise StateError(ESTATE, "the brain is closed")
        return self._b

    def close(self) -> None:
        """Close the brain (an on-disk one is made durable first). Closing
        again does nothing; any other call afterwards raises StateError."""
        b, self._b = self._b, None
        if b is not None:
            check(lib.brain_close(b))

    @property
    def closed(self) -> bool:
        return self._b is None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        b, self._b = getattr(self, "_b", None), None
        if b is not None:
            lib.brain_close(b)

    def __repr__(self):
        if self._b is None:
            return "<braincore.Brain closed>"
        where = "in memory" if self.path is None else os.fspath(self.path)
        return "<braincore.Brain %s, %d memories, %d-d>" % (where, len(self), self._dim)

    @property
    def dimensions(self) -> int:
        return self._dim

    def __len__(self) -> int:
        return lib.brain_count(self._h())

    def __contains__(self, id) -> bool:
        try:
            self.get(id)
            return True
        except NotFoundError:
            return False

    def __iter__(self) -> Iterator[Memory]:
        return self.list()

    # ---- text -------------------------------------------------------------
    def remember(self, text: Text, importance: float = 0.5, *, metadata: Metadata = None,
                 vector: Optional[Sequence[float]] = None, key: Optional[str] = None) -> int:
        """Remember `text` and return its id. With `vector`, that vector is
        stored instead of the embedder's; with `key`, the memory holding that
        key is replaced (upsert) and keeps its id."""
        b = self._h()
        data = text_bytes(text)
        meta = metadata_json(metadata)
        vec = None if vector is None else self._vector(vector)
        out = c_uint64()
        if key is not None:
            check(lib.brain_upsert(b, cstring(key, "key"), data, len(data),
                                   None if vec is None else fptr(vec), importance, meta,
                                   byref(out)))
        else:
            check(lib.brain_remember_full(b, data, len(data), None if vec is None else fptr(vec),
                                          importance, meta, byref(out)))
        return out.value

    def upsert(self, key: str, text: Text, importance: float = 0.5, *,
               metadata: Metadata = None, vector: Optional[Sequence[float]] = None) -> int:
        """Remember `text` under `key`: a new memory, or the one that holds
        the key replaced in place (same id). Returns the id."""
        return self.remember(text, importance, metadata=metadata, vector=vector, key=key)

    def remember_many(self, texts: Sequence[Text], importance: float = 0.5, *,
                      metadata: Optional[Sequence[Metadata]] = None) -> List[int]:
        """Remember many texts at once (embedded on all cores, made durable
        once). Every text is checked first: a bad one changes nothing."""
        b = self._h()
        n = len(texts)
        arr = (c_char_p * max(n, 1))(*[cstring(t, "texts[%d]" % i) for i, t in enumerate(texts)])
        metas = None
        if metadata is not None:
            if len(metadata) != n:
                raise InvalidArgumentError(EINVAL, "metadata has %d entries for %d texts"
                                           % (len(metadata), n))
            metas = (c_char_p * max(n, 1))(*[metadata_json(m, "metadata[%d]" % i)
                                             for i, m in enumerate(metadata)])
        ids = (c_uint64 * max(n, 1))()
        check(lib.brain_remember_batch(b, arr, n, importance, metas, ids))
        return list(ids[:n])

    def remember_async(self, text: Text, importance: float = 0.5) -> None:
        """Queue `text` to be remembered in the background; flush() waits for the queue."""
        check(lib.brain_remember_async(self._h(), cstring(text), importance))

    def add_async(self, id: int, vector: Sequence[float]) -> None:
        """Queue a vector under `id` for the background."""
        vec = self._vector(vector)
        check(lib.brain_add_async(self._h(), id, fptr(vec)))

    def flush(self) -> None:
        """Wait until every queued asynchronous write is made (or refused)."""
        check(lib.brain_flush(self._h()))

    def remember_document(self, key: str, text: Text, importance: float = 0.5, *,
                          metadata: Metadata = None, max_bytes: int = 0) -> int:
        """Split a document into passages (whole sentences up to max_bytes;
        0: 1000) and remember them under `key`, replacing the key's old
        passages, in one change. Returns the number of passages."""
        data = text_bytes(text)
        n = c_size_t()
        check(lib.brain_remember_document(self._h(), cstring(key, "key"), data, len(data),
                                          importance, metadata_json(metadata), max_bytes,
                                          byref(n)))
        return n.value

    def forget_document(self, key: str) -> int:
        """Forget a document's passages; returns how many."""
        n = c_uint64()
        check(lib.brain_forget_document(self._h(), cstring(key, "key"), byref(n)))
        return n.value

    def recall(self, query: Text, k: int = 5, *, where: Optional[str] = None,
               mode: str = "semantic") -> List[Memory]:
        """The k memories most relevant to `query`, best first. `where` is a
        filter on metadata (braincore/filter.h: 'topic = "work" AND year >=
        2024'); mode is "semantic", "keyword" (BM25) or "hybrid"."""
        b = self._h()
        q = cstring(query, "query")
        out = c_void_p()
        with parsed_filter(where) as f:
            check(lib.brain_recall_mode(b, q, k, _enum(_MODES, mode, "mode"), f, byref(out)))
        return _take_results(out)

    def recall_many(self, queries: Sequence[Text], k: int = 5, *,
                    where: Optional[str] = None) -> List[List[Memory]]:
        """recall() of many queries at once."""
        b = self._h()
        n = len(queries)
        arr = (c_char_p * max(n, 1))(*[cstring(q, "queries[%d]" % i)
                                       for i, q in enumerate(queries)])
        outs = (c_void_p * max(n, 1))()
        with parsed_filter(where) as f:
            check(lib.brain_recall_batch(b, arr, n, k, f, outs))
        results = [None] * n
        try:
            for i in range(n):
                r, outs[i] = outs[i], None      # _take_results frees it, whatever happens
                results[i] = _take_results(r)
        finally:
            for i in range(n):
                if outs[i]:
                    lib.brain_results_free(outs[i])
        return results

    def recall_vector(self, vector: Sequence[float], k: int = 5, *,
                      where: Optional[str] = None) -> List[Memory]:
        """recall() by a vector of the brain's dimensions."""
        vec = self._vector(vector)
        out = c_void_p()
        with parsed_filter(where) as f:
            check(lib.brain_recall_vector(self._h(), fptr(vec), k, f, byref(out)))
        return _take_results(out)

    def recall_near(self, query: Text, around: int, k: int = 5, *, depth: int = 1,
                    where: Optional[str] = None) -> List[Memory]:
        """recall() among the memories within `depth` relations of `around`."""
        out = c_void_p()
        with parsed_filter(where) as f:
            check(lib.brain_recall_near(self._h(), cstring(query, "query"), k, around, depth, f,
                                        byref(out)))
        return _take_results(out)

    def think(self, question: Text) -> Thought:
        """Answer from what the brain remembers: the answer and the memories
        it used (an answer saying it does not know, and none, when nothing
        relevant enough is there)."""
        out = c_void_p()
        check(lib.brain_think_ex(self._h(), cstring(question, "question"), byref(out)))
        return _take_results(out, answer=True)

    # ---- one memory -------------------------------------------------------
    def get(self, id: int) -> Memory:
        """The memory `id` (NotFoundError if there is none)."""
        out = c_void_p()
        check(lib.brain_get(self._h(), id, byref(out)))
        found = _take_results(out)
        if not found:
            raise NotFoundError(-11, "no memory with id %d" % id)
        return found[0]

    def forget(self, id: int) -> None:
        """Forget the memory `id` (NotFoundError if there is none)."""
        check(lib.brain_forget(self._h(), id))

    def forget_where(self, where: str) -> int:
        """Forget every memory whose metadata passes the filter; returns how many."""
        n = c_uint64()
        with parsed_filter(where) as f:
            check(lib.brain_forget_where(self._h(), f, byref(n)))
        return n.value

    def update(self, id: int, text: Optional[Text] = None, *,
               vector: Optional[Sequence[float]] = None, importance: Optional[float] = None,
               metadata: Metadata = None) -> None:
        """Change a memory in place (same id): its text (re-embedded), vector,
        importance and/or metadata (replaced whole). What is None stays."""
        data = None if text is None else text_bytes(text)
        vec = None if vector is None else self._vector(vector)
        check(lib.brain_update(self._h(), id, data, 0 if data is None else len(data),
                               None if vec is None else fptr(vec),
                               -1.0 if importance is None else importance,
                               metadata_json(metadata)))

    def key_id(self, key: str) -> Optional[int]:
        """The id of the memory holding `key`, or None."""
        out = c_uint64()
        try:
            check(lib.brain_key_id(self._h(), cstring(key, "key"), byref(out)))
        except NotFoundError:
            return None
        return out.value

    def forget_key(self, key: str) -> None:
        """Forget the memory holding `key` (NotFoundError if none does)."""
        check(lib.brain_forget_key(self._h(), cstring(key, "key")))

    # ---- metadata ---------------------------------------------------------
    def get_metadata(self, id: int) -> Dict[str, Any]:
        b = self._h()
        need = c_size_t()
        while True:
            size = need.value + 1
            buf = ctypes.create_string_buffer(size)
            rc = lib.brain_get_metadata(b, id, buf, size, byref(need))
            if rc != -13 or need.value + 1 <= size:   # EBUFSIZE: another writer grew it
                check(rc)
                return json.loads(buf.value.decode("utf-8"))

    def set_metadata(self, id: int, metadata: Metadata) -> None:
        """Replace a memory's metadata (a dict of str, int, float, bool, or lists of those)."""
        meta = metadata_json(metadata if metadata is not None else {})
        check(lib.brain_set_metadata(self._h(), id, meta))

    def patch_metadata(self, id: int, patch: Metadata) -> None:
        """Merge fields into a memory's metadata (a None value removes a field)."""
        check(lib.brain_patch_metadata(self._h(), id, metadata_json(patch, "patch")))

    def set_valid(self, id: int, valid_from: Optional[int] = None,
                  valid_until: Optional[int] = None) -> None:
        """When a memory is true, in Unix milliseconds (None: open-ended)."""
        check(lib.brain_set_valid(self._h(), id, TIME_NONE if valid_from is None else valid_from,
                                  TIME_NONE if valid_until is None else valid_until))

    def supersede(self, old_id: int, new_id: int, at: Optional[int] = None) -> None:
        """`new_id` replaces `old_id` from `at` (ms; None: now)."""
        check(lib.brain_supersede(self._h(), old_id, new_id, TIME_NONE if at is None else at))

    def count(self, where: Optional[str] = None) -> int:
        """How many memories (whose metadata passes `where`)."""
        if where is None:
            return len(self)
        n = c_uint64()
        with parsed_filter(where) as f:
            check(lib.brain_count_where(self._h(), f, byref(n)))
        return n.value

    def list(self, where: Optional[str] = None, *, after: Optional[int] = None,
             limit: Optional[int] = None, page: int = 256) -> Iterator[Memory]:
        """The memories in increasing id order (those whose metadata passes
        `where`), from the first id above `after`, at most `limit`; fetched
        `page` at a time, each page as the brain is then."""
        last = ID_NONE if after is None else after
        left = limit
        while left is None or left > 0:
            want = page if left is None else min(page, left)
            out = c_void_p()
            with parsed_filter(where) as f:
                check(lib.brain_list(self._h(), f, last, want, byref(out)))
            memories = _take_results(out)
            if not memories:
                return
            for m in memories:
                yield m
            last = memories[-1].id
            if left is not None:
                left -= len(memories)

    # ---- relations --------------------------------------------------------
    def relate(self, from_id: int, to_id: int, verb: str, weight: float = 1.0) -> None:
        check(lib.brain_relate(self._h(), from_id, to_id, cstring(verb, "verb"), weight))

    def unrelate(self, from_id: int, to_id: int, verb: Optional[str] = None) -> None:
        """Remove the relation (every verb between the two when verb is None)."""
        check(lib.brain_unrelate(self._h(), from_id, to_id, cstring(verb, "verb")))

    def neighbors(self, id: int, verb: Optional[str] = None, direction: str = "out") -> List[Edge]:
        out = c_void_p()
        check(lib.brain_neighbors(self._h(), id, cstring(verb, "verb"),
                                  _enum(_DIRECTIONS, direction, "direction"), byref(out)))
        return _take_edges(out)

    def traverse(self, start: int, depth: int = 2, verb: Optional[str] = None,
                 direction: str = "out") -> List[Edge]:
        """The edges reached within `depth` hops of `start`, nearest first."""
        out = c_void_p()
        check(lib.brain_traverse(self._h(), start, depth, cstring(verb, "verb"),
                                 _enum(_DIRECTIONS, direction, "direction"), byref(out)))
        return _take_edges(out)

    # ---- vectors ----------------------------------------------------------
    def _vector(self, v, what="vector"):
        return vector(v, self._dim, what)

    def add(self, id: int, vector: Sequence[float], *, metadata: Metadata = None) -> None:
        """Store a vector (no text) under the caller's id."""
        vec = self._vector(vector)
        check(lib.brain_add_with(self._h(), id, fptr(vec), metadata_json(metadata)))

    def add_many(self, ids: Sequence[int], vectors) -> None:
        """Store n vectors (an (n, dimensions) array) under n ids, all or nothing."""
        data = matrix(vectors, self._dim, "vectors")
        keys = np.ascontiguousarray(ids, dtype=np.uint64)
        if keys.ndim != 1 or keys.shape[0] != data.shape[0]:
            raise InvalidArgumentError(EINVAL, "%d ids for %d vectors"
                                       % (keys.size, data.shape[0]))
        check(lib.brain_add_batch(self._h(), keys.ctypes.data_as(ctypes.POINTER(c_uint64)),
                                  fptr(data), data.shape[0]))

    def search(self, vector: Sequence[float], k: int = 10, *,
               where: Optional[str] = None) -> Tuple[np.ndarray, np.ndarray]:
        """The k nearest vectors: (ids uint64, distances float32), nearest first."""
        vec = self._vector(vector, "query")
        if operator.index(k) < 1:
            raise InvalidArgumentError(-10, "search: k is %d; at least 1 is needed" % k)
        # room for what the brain holds: C writes at most the k it is given
        k = min(operator.index(k), len(self))
        if k == 0:
            return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.float32)
        ids = np.empty(k, dtype=np.uint64)
        dist = np.empty(k, dtype=np.float32)
        found = c_size_t()
        idp = ids.ctypes.data_as(ctypes.POINTER(c_uint64))
        with parsed_filter(where) as f:
            if f is None:
                check(lib.brain_search(self._h(), fptr(vec), k, idp, fptr(dist), byref(found)))
            else:
                check(lib.brain_search_where(self._h(), fptr(vec), k, f, idp, fptr(dist),
                                             byref(found)))
        return ids[:found.value], dist[:found.value]

    def search_batch(self, queries, k: int = 10) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
        """search() of every row of `queries` ((n, dimensions) array) at once,
        on the brain's THREADS threads in C (the GIL released): (ids uint64
        n x k', distances float32 n x k', found n), k' = min(k, len(brain))
        (at least 1). Row i's first found[i] cells hold its neighbours,
        nearest first; the rest are ID_NONE and inf."""
        data = matrix(queries, self._dim, "queries")
        if operator.index(k) < 1:
            raise InvalidArgumentError(-10, "search_batch: k is %d; at least 1 is needed" % k)
        # at most what the brain holds: C writes no more than that per row
        n, k = data.shape[0], max(1, min(operator.index(k), len(self)))
        ids = np.full((n, k), ID_NONE, dtype=np.uint64)
        dist = np.full((n, k), np.inf, dtype=np.float32)
        found = np.zeros(n, dtype=np.uintp)
        check(lib.brain_search_batch(self._h(), fptr(data), n, k,
                                     ids.ctypes.data_as(ctypes.POINTER(c_uint64)), fptr(dist),
                                     found.ctypes.data_as(ctypes.POINTER(c_size_t))))
        return ids, dist, found.astype(np.int64)

    def get_vector(self, id: int) -> np.ndarray:
        """The stored vector of memory `id` (normalised, for the cosine metric)."""
        out = np.empty(self._dim, dtype=np.float32)
        check(lib.brain_get_vector(self._h(), id, fptr(out)))
        return out

    def update_vector(self, id: int, vector: Sequence[float]) -> None:
        vec = self._vector(vector)
        check(lib.brain_update_vector(self._h(), id, fptr(vec)))

    # ---- parameters, storage, health ---------------------------------------
    def set_param(self, param: Union[str, int], value: int) -> None:
        """Set a parameter by name ("hnsw_ef_search") or number (braincore/params.h)."""
        check(lib.brain_set_param(self._h(), _param_number(param), int(value)))

    def get_param(self, param: Union[str, int]) -> int:
        out = c_int64()
        check(lib.brain_get_param(self._h(), _param_number(param), byref(out)))
        return out.value

    def checkpoint(self) -> None:
        """Write a checkpoint of an on-disk brain now."""
        check(lib.brain_checkpoint(self._h()))

    def sync(self) -> None:
        """Make every change so far durable (fsync), whatever the sync mode."""
        check(lib.brain_sync(self._h()))

    def backup(self, directory: Union[str, os.PathLike]) -> None:
        """Copy the brain, consistent, into a new directory (a brain of its own)."""
        check(lib.brain_backup(self._h(), os.fsencode(directory)))

    def stats(self) -> Dict[str, int]:
        """brain_get_stats() as a dict (braincore/storage.h names the fields)."""
        return stats_of(self._h())

    def health(self) -> Dict[str, Any]:
        """brain_health_json() parsed: state, memory, index, latency, log, ..."""
        b = self._h()
        size = 4096
        while True:
            buf = ctypes.create_string_buffer(size)
            n = check(lib.brain_health_json(b, buf, size))
            if n < size:
                return json.loads(buf.value.decode("utf-8"))
            size = n + 1

    def save(self, path: Union[str, os.PathLike]) -> None:
        """Write a snapshot of the brain to a file (written beside it, fsynced,
        then renamed into place, so `path` is never half written)."""
        self._h()
        _write_file(path, lambda fn: lib.brain_save(self._b, fn, None))

    @classmethod
    def load(cls, snapshot: Union[str, os.PathLike], path: Union[str, os.PathLike, None] = None,
             **options) -> "Brain":
        """A brain from a snapshot file: in memory (path None) or a new
        on-disk brain at `path`. Options as for Brain(); stored_options=True
        takes the snapshot's."""
        o = _options(**options)
        return cls._adopt(_read_file(snapshot, lambda fn, out: lib.brain_load(
            fn, None, _path(path), byref(o), out)), path)


def stats_of(handle):
    """brain_get_stats() of a brain_t * as a dict."""
    s = _capi.Stats()
    check(lib.brain_stats_init(byref(s), _capi.STATS_VERSION))
    check(lib.brain_get_stats(handle, byref(s)))
    return {name: getattr(s, name) for name, _ in _capi.Stats._fields_ if name != "version"}


def _write_file(path, save, prefix=b""):
    """Write prefix, then run save(write_fn), into path.tmp; fsync; rename over path."""
    path = os.fspath(path)
    tmp = path + ".tmp"
    failure = []
    with open(tmp, "wb") as f:
        f.write(prefix)
        def write(data, size, _payload):
            try:
                f.write(ctypes.string_at(data, size))
                return 0
            except BaseException as e:      # noqa: B902 - reported after the call
                failure.append(e)
                return 1
        fn = _capi.WRITE_FN(write)
        rc = save(fn)
        try:
            if failure:
                raise failure[0]
            check(rc)
            f.flush()
            os.fsync(f.fileno())
        except BaseException:
            f.close()
            os.unlink(tmp)
            raise
    os.replace(tmp, path)
    dirfd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
    try:
        os.fsync(dirfd)
    finally:
        os.close(dirfd)


def _read_file(path, load, offset=0):
    """Run load(read_fn, &handle) over the file from `offset`; returns the handle."""
    failure = []
    with open(os.fspath(path), "rb") as f:
        f.seek(offset)
        def read(buf, size, _payload):
            try:
                data = f.read(size)
                if len(data) != size:
                    return 1
                ctypes.memmove(buf, data, size)
                return 0
            except BaseException as e:      # noqa: B902 - reported after the call
                failure.append(e)
                return 1
        fn = _capi.READ_FN(read)
        out = c_void_p()
        rc = load(fn, byref(out))
        if failure:
            if out:
                lib.brain_close(out)
            raise failure[0]
        check(rc)
        return out


def _check_call(fn, path, options):
    o = _options(**options)
    r = _capi.CheckReport()
    check(lib.brain_check_report_init(byref(r), _capi.CHECK_REPORT_VERSION))
    check(fn(os.fsencode(path), byref(o), byref(r)))
    return {name: getattr(r, name) for name, _ in _capi.CheckReport._fields_ if name != "version"}


def check_brain(path: Union[str, os.PathLike], **options) -> Dict[str, int]:
    """Verify every checksum of an on-disk brain without changing it
    (StorageError on damage); returns brain_check()'s report."""
    options.setdefault("stored_options", True)
    return _check_call(lib.brain_check, path, options)


def repair_brain(path: Union[str, os.PathLike], **options) -> Dict[str, int]:
    """brain_repair(): keep what is intact of a damaged brain; returns the report."""
    options.setdefault("stored_options", True)
    return _check_call(lib.brain_repair, path, options)

"""braincore.Index: hnswlib's Index, over a braincore brain of vectors.

Code written for hnswlib ports by changing the import:

    import braincore as hnswlib
    p = hnswlib.Index(space="cosine", dim=128)
    p.init_index(max_elements=10000, ef_construction=200, M=16)
    p.add_items(data, ids)
    p.set_ef(50)
    labels, distances = p.knn_query(data, k=1)

Distances are hnswlib's: "l2" squared Euclidean, "ip" 1 - dot product,
"cosine" 1 - cosine similarity (vectors normalised when added).
"""

import ctypes
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from ctypes import byref, c_size_t, c_uint64, c_void_p

import numpy as np

from . import _capi
from ._capi import lib
from ._util import EINVAL, ESTATE, fptr, matrix
from .brain import _options, _read_file, _write_file, stats_of
from .errors import InvalidArgumentError, StateError, StorageError, check

__all__ = ["Index"]

_SPACES = {"l2": "l2", "ip": "ip", "cosine": "cosine"}
_MAGIC = b"braincore-index 1\n"
ERANGE, ECORRUPT = -10, -25
_U64P = ctypes.POINTER(c_uint64)
_F32P = ctypes.POINTER(ctypes.c_float)


class Index:
    """An approximate nearest-neighbour index with hnswlib's interface."""

    def __init__(self, space: str, dim: int):
        self._b = None
        if space not in _SPACES:
            raise InvalidArgumentError(EINVAL, "space must be 'l2', 'ip' or 'cosine', not %r"
                                       % (space,))
        if int(dim) < 1:
            raise InvalidArgumentError(EINVAL, "dim must be at least 1, not %r" % (dim,))
        self.space = space
        self.dim = int(dim)
        self.max_elements = 0
        self.M = 16
        self.ef_construction = 200
        self.num_threads = os.cpu_count() or 1
        self._threads_lock = threading.Lock()
        self._ef = 10
        self._next_label = 0

    # ---- life -------------------------------------------------------------
    def _open(self, max_elements, M, ef_construction, random_seed, ef):
        o = _options(dimensions=self.dim, metric=self.space, index="hnsw", embedder="none",
                     max_memories=max(int(max_elements), 1))
        b = c_void_p()
        check(lib.brain_open(None, byref(o), byref(b)))
        self._close()
        self._b = b
        self.max_elements = int(max_elements)
        for param, value in ((300, M), (301, ef_construction), (304, random_seed)):
            check(lib.brain_set_param(b, param, int(value)))
        self.M, self.ef_construction = int(M), int(ef_construction)
        self._next_label = 0
        self.set_ef(ef)

    def init_index(self, max_elements: int, M: int = 16, ef_construction: int = 200,
                   random_seed: int = 100, allow_replace_deleted: bool = False) -> None:
        """Make an empty index for at most max_elements vectors."""
        if allow_replace_deleted:
            raise InvalidArgumentError(EINVAL, "allow_replace_deleted is not supported: "
                                       "braincore reuses deleted slots by itself")
        if int(max_elements) < 1:
            raise InvalidArgumentError(EINVAL, "max_elements must be at least 1")
        self._open(max_elements, M, ef_construction, random_seed, 10)

    def _h(self):
        if self._b is None:
            raise StateError(ESTATE, "the index is not initialised: call init_index() or "
                             "load_index() first")
        return self._b

    def _close(self):
        b, self._b = self._b, None
        if b is not None:
            lib.brain_close(b)

    def __del__(self):
        if getattr(self, "_b", None) is not None:
            self._close()

    def __repr__(self):
        return "<braincore.Index space=%s dim=%d count=%d max=%d>" % (
            self.space, self.dim, self.element_count, self.max_elements)

    # ---- hnswlib's attributes ---------------------------------------------
    @property
    def ef(self) -> int:
        return self._ef

    @ef.setter
    def ef(self, value: int) -> None:
        self.set_ef(value)

    @property
    def element_count(self) -> int:
        return 0 if self._b is None else lib.brain_count(self._b)

    def get_current_count(self) -> int:
        return self.element_count

    def get_max_elements(self) -> int:
        return self.max_elements

    def set_ef(self, ef: int) -> None:
        """Candidates kept while searching (at least k are)."""
        check(lib.brain_set_param(self._h(), 302, int(ef)))
        self._ef = int(ef)

    def stats(self):
        """The underlying brain's statistics (Brain.stats(): memory, latency
        percentiles of search, index_pending, ...); not in hnswlib."""
        return stats_of(self._h())

    def set_num_threads(self, num_threads: int) -> None:
        self.num_threads = (os.cpu_count() or 1) if num_threads <= 0 else int(num_threads)

    # ---- vectors ----------------------------------------------------------
    def add_items(self, data, ids=None, num_threads: int = -1,
                  replace_deleted: bool = False) -> None:
        """Add the rows of data (n x dim, or one vector) under ids (default:
        the current count on). An id already present gets its vector
        replaced, as in hnswlib."""
        b = self._h()
        rows = matrix(data, self.dim)
        n = rows.shape[0]
        if ids is None:
            # after the largest label ever held (as hnswlib counts every element
            # added, deleted or not), never a label in use
            start = self._next_label
            keys = np.arange(start, start + n, dtype=np.uint64)
        else:
            keys = np.ascontiguousarray(np.atleast_1d(ids), dtype=np.uint64)
            if keys.ndim != 1 or keys.shape[0] != n:
                raise InvalidArgumentError(EINVAL, "%d ids for %d rows" % (keys.size, n))
        if n == 0:
            return
        if ids is not None and int(keys.max()) == _capi.ID_NONE:
            raise InvalidArgumentError(EINVAL, "label 2**64 - 1 is reserved (BRAIN_ID_NONE)")
        if num_threads > 0:
            check(lib.brain_set_param(b, 12, num_threads))
        rc = lib.brain_add_batch(b, keys.ctypes.data_as(_U64P), fptr(rows), n)
        if rc == -12:           # EEXISTS: some ids are there already (or repeated)
            for i in range(n):
                row = rows[i]
                rc = lib.brain_add_with(b, int(keys[i]), fptr(row), None)
                if rc == -12:
                    rc = lib.brain_update_vector(b, int(keys[i]), fptr(row))
                check(rc)
                self._next_label = max(self._next_label, int(keys[i]) + 1)
        check(rc)
        self._next_label = max(self._next_label, int(keys.max()) + 1)

    def knn_query(self, data, k: int = 1, num_threads: int = -1, filter=None):
        """The k nearest of each row: (labels uint64 n x k, distances float32
        n x k). `filter` is hnswlib's: a callable taking a label and
        returning whether it may be returned (it holds the GIL, so filtered
        queries run on one thread)."""
        b = self._h()
        rows = matrix(data, self.dim)
        n, k = rows.shape[0], int(k)
        if k < 1:
            raise InvalidArgumentError(ERANGE, "k must be at least 1")
        if k > lib.brain_count(b):
            raise InvalidArgumentError(ERANGE, "Cannot return the results in a contiguous 2D "
                                       "array: k=%d but the index holds %d"
                                       % (k, lib.brain_count(b)))
        labels = np.empty((n, k), dtype=np.uint64)
        dist = np.empty((n, k), dtype=np.float32)
        accept = None
        failure = []
        if callable(filter):
            def accept_label(label, _payload):
                if failure:
                    return 0
                try:
                    return 1 if filter(label) else 0
                except BaseException as e:      # noqa: B902 - raised after the search
                    failure.append(e)
                    return 0
            accept = _capi.ACCEPT_FN(accept_label)
        elif filter is not None:
            raise InvalidArgumentError(EINVAL, "filter must be a callable taking a label")

        row_bytes, out_ids, out_dist = rows.strides[0], labels.ctypes.data, dist.ctypes.data
        base, handle, search = rows.ctypes.data, b.value, _capi.search_raw

        def run(lo, hi):
            found = c_size_t()
            at = ctypes.addressof(found)
            for i in range(lo, hi):
                q, idp, dp = base + i * row_bytes, out_ids + i * 8 * k, out_dist + i * 4 * k
                if accept is not None:
                    rc = lib.brain_search_filter(b, ctypes.cast(q, _F32P), k, accept, None,
                                                 ctypes.cast(idp, _U64P),
                                                 ctypes.cast(dp, _F32P), byref(found))
                else:
                    rc = search(handle, q, k, idp, dp, at)
                if failure:
                    raise failure[0]
                check(rc)
                if found.value < k:
                    raise InvalidArgumentError(ERANGE, "Cannot return the results in a "
                                               "contiguous 2D array: %d of k=%d found (the "
                                               "index holds %d)" % (found.value, k,
                                                                    lib.brain_count(b)))
        threads = self.num_threads if num_threads <= 0 else num_threads
        if accept is None and n > 1:
            # brain_search_batch spreads the rows over the brain's THREADS
            # threads in C. Another count for this call is set and put back
            # under a lock, so that concurrent calls never leave another's
            # count behind (calls with the brain's own count run unlocked).
            threads = min(int(threads), 1024)
            found = np.zeros(n, dtype=np.uintp)

            def search():
                check(lib.brain_search_batch(b, fptr(rows), n, k,
                                             labels.ctypes.data_as(ctypes.POINTER(c_uint64)),
                                             fptr(dist),
                                             found.ctypes.data_as(ctypes.POINTER(c_size_t))))
            now = ctypes.c_int64()
            check(lib.brain_get_param(b, 12, byref(now)))
            if now.value == threads:
                search()
            else:
                with self._threads_lock:
                    before = ctypes.c_int64()
                    check(lib.brain_get_param(b, 12, byref(before)))
                    check(lib.brain_set_param(b, 12, threads))
                    try:
                        search()
                    finally:
                        lib.brain_set_param(b, 12, before.value)
            short = int(found.min()) if n else k
            if short < k:
                raise InvalidArgumentError(ERANGE, "Cannot return the results in a contiguous "
                                           "2D array: %d of k=%d found (the index holds %d)"
                                           % (short, k, lib.brain_count(b)))
            return labels, dist
        # a Python callback holds the GIL on every call: threads would only queue
        threads = 1 if accept is not None else min(threads, max(n // 16, 1))
        if threads <= 1:
            run(0, n)
        else:
            step = -(-n // threads)
            with ThreadPoolExecutor(threads) as pool:
                for f in [pool.submit(run, lo, min(lo + step, n)) for lo in range(0, n, step)]:
                    f.result()
        return labels, dist

    def mark_deleted(self, label: int) -> None:
        """Remove label from the results (braincore forgets it: its slot is reused)."""
        check(lib.brain_forget(self._h(), int(label)))

    def unmark_deleted(self, label: int) -> None:
        raise StateError(-20, "unmark_deleted is not supported: mark_deleted forgets the "
                         "vector; add it again with add_items")

    def get_items(self, ids, return_type: str = "numpy"):
        """The stored vectors of ids (normalised, for cosine), as hnswlib returns them."""
        b = self._h()
        keys = np.atleast_1d(np.asarray(ids, dtype=np.uint64))
        out = np.empty((keys.shape[0], self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            check(lib.brain_get_vector(b, int(key), fptr(out[i])))
        return out if return_type == "numpy" else out.tolist()

    def get_ids_list(self):
        """Every label in the index, increasing."""
        b = self._h()
        ids = []
        last = _capi.ID_NONE
        while True:
            out = c_void_p()
            check(lib.brain_list(b, None, last, 4096, byref(out)))
            try:
                n = lib.brain_results_count(out)
                page = [lib.brain_results_id(out, i) for i in range(n)]
            finally:
                lib.brain_results_free(out)
            if not page:
                return ids
            ids.extend(page)
            last = page[-1]

    def resize_index(self, new_size: int) -> None:
        """Change max_elements: the index is rebuilt from a snapshot in memory."""
        b = self._h()
        if int(new_size) < lib.brain_count(b):
            raise InvalidArgumentError(EINVAL, "new_size %d is below the %d elements held"
                                       % (new_size, lib.brain_count(b)))
        chunks = []

        def write(data, size, _p):
            chunks.append(ctypes.string_at(data, size))
            return 0
        check(lib.brain_save(b, _capi.WRITE_FN(write), None))
        self._load_bytes(b"".join(chunks), int(new_size))

    # ---- files ------------------------------------------------------------
    def _header(self):
        return json.dumps({"space": self.space, "dim": self.dim,
                           "max_elements": self.max_elements, "M": self.M,
                           "ef_construction": self.ef_construction, "ef": self._ef}).encode()

    def save_index(self, path) -> None:
        """Write the index to a file: a line naming the format, a JSON line
        (space, dim, max_elements, M, ef_construction, ef), then braincore's
        snapshot (braincore/storage.h). Written beside `path`, fsynced and
        renamed, so `path` is never half written."""
        b = self._h()
        _write_file(path, lambda fn: lib.brain_save(b, fn, None),
                    prefix=_MAGIC + self._header() + b"\n")

    def load_index(self, path, max_elements: int = 0,
                   allow_replace_deleted: bool = False) -> None:
        """Read a file save_index() wrote (its space and dim must be this
        Index's); max_elements 0 keeps the saved one."""
        name = os.fspath(path)
        with open(name, "rb") as f:
            magic = f.read(len(_MAGIC))
            line = f.readline(65536)
            offset = f.tell()
        try:
            if magic != _MAGIC or not line.endswith(b"\n"):
                raise ValueError
            head = json.loads(line)
            space, dim, saved = head["space"], int(head["dim"]), int(head["max_elements"])
        except (ValueError, KeyError, TypeError):
            raise StorageError(ECORRUPT, "%s is not an index written by braincore's "
                               "save_index (or its header is damaged)" % name) from None
        if space != self.space or dim != self.dim:
            raise InvalidArgumentError(EINVAL, "%s holds a %s index of %d dimensions, not %s "
                                       "of %d" % (name, space, dim, self.space, self.dim))
        cap = int(max_elements) or saved
        o = _options(dimensions=self.dim, metric=self.space, index="hnsw", embedder="none",
                     max_memories=max(cap, 1))
        handle = _read_file(name, lambda fn, out: lib.brain_load(fn, None, None, byref(o), out),
                            offset=offset)
        self._adopt(handle, cap, head)

    def _load_bytes(self, data, cap):
        o = _options(dimensions=self.dim, metric=self.space, index="hnsw", embedder="none",
                     max_memories=max(cap, 1))
        view = memoryview(data)
        pos = [0]

        def read(buf, size, _p):
            if pos[0] + size > len(view):
                return 1
            ctypes.memmove(buf, bytes(view[pos[0]:pos[0] + size]), size)
            pos[0] += size
            return 0
        out = c_void_p()
        check(lib.brain_load(_capi.READ_FN(read), None, None, byref(o), byref(out)))
        self._adopt(out, cap, {"M": self.M, "ef_construction": self.ef_construction,
                               "ef": self._ef})

    def _adopt(self, handle, cap, head):
        self._close()
        self._b = handle
        ids = self.get_ids_list()
        self._next_label = max(ids) + 1 if ids else 0
        self.max_elements = cap
        self.M = int(head.get("M", 16))
        self.ef_construction = int(head.get("ef_construction", 200))
        self.set_ef(int(head.get("ef", 10)))

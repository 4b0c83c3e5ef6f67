"""The C API of libbraincore, declared for ctypes (private).

Every function the package calls is declared here once, with its argument
and result types, so that a wrong call fails in Python (ctypes.ArgumentError)
instead of passing garbage to C. The structs mirror the C headers exactly;
the tests check them against brain_options_init() and brain_stats_init().
"""

import ctypes
import ctypes.util
import operator
import os
import threading
import types
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_float, c_int,
                    c_int64, c_size_t, c_uint, c_uint32, c_uint64, c_void_p)

__all__ = ["lib", "library_path", "OPTIONS_VERSION", "STATS_VERSION", "ID_NONE", "Options",
           "Stats", "CheckReport", "WRITE_FN", "READ_FN"]

OPTIONS_VERSION = 4          # braincore/options.h BRAIN_OPTIONS_VERSION this module mirrors
STATS_VERSION = 7            # braincore/storage.h BRAIN_STATS_VERSION
CHECK_REPORT_VERSION = 1
ID_NONE = 2**64 - 1          # BRAIN_ID_NONE
SONAME = "libbraincore.so.0"


def _load():
    """The library named by BRAINCORE_LIBRARY, else the loader's own search
    (LD_LIBRARY_PATH, the ld.so cache: where libbraincore0 installs it)."""
    explicit = os.environ.get("BRAINCORE_LIBRARY")
    candidates = [explicit] if explicit else [SONAME, ctypes.util.find_library("braincore")]
    errors = []
    for name in candidates:
        if not name:
            continue
        try:
            return ctypes.CDLL(name), name
        except OSError as e:
            errors.append(str(e))
    raise ImportError("braincore: cannot load libbraincore (%s). Install the libbraincore0 "
                      "package, or set BRAINCORE_LIBRARY to the path of libbraincore.so.0"
                      % "; ".join(errors or ["not found"]))


lib, library_path = _load()


class Options(Structure):
    """struct brain_options, version 4 (braincore/options.h)."""
    _fields_ = [
        ("version", c_uint),
        ("dimensions", c_uint32),
        ("metric", c_int),
        ("index", c_int),
        ("embedder", c_int),
        ("max_text_bytes", c_uint32),
        ("max_memories", c_uint64),
        ("index_name", c_char_p),
        ("sync", c_int),
        ("flags", c_uint),
        ("io", c_void_p),
        ("background", c_int),
        ("model_path", c_char_p),
    ]


_STATS_FIELDS = (
    "memories text_memories dimensions metric sync on_disk read_only index_bytes last_lsn "
    "durable_lsn checkpoint_lsn generation checkpoint_bytes wal_bytes checkpoints heap_bytes "
    "heap_peak_bytes heap_records_bytes heap_index_bytes heap_embedder_bytes heap_log_bytes "
    "heap_results_bytes heap_other_bytes remember_count remember_p50_ns remember_p99_ns "
    "remember_max_ns recall_count recall_p50_ns recall_p99_ns recall_max_ns think_count "
    "think_p50_ns think_p99_ns think_max_ns search_count search_p50_ns search_p99_ns "
    "search_max_ns index_pending index_builds ingest_queued ingest_done ingest_waited "
    "memory_budget memory_pressure circadian_cycles circadian_forgotten circadian_consolidated "
    "circadian_compacted circadian_slots_released meta_memories meta_fields meta_bytes "
    "meta_postings_broken relations").split()
_STATS_INTS = {"dimensions": c_uint32, "metric": c_int, "sync": c_int, "on_disk": c_int,
               "read_only": c_int, "memory_pressure": c_int, "meta_postings_broken": c_int}


class Stats(Structure):
    """struct brain_stats, version 7 (braincore/storage.h)."""
    _fields_ = [("version", c_uint)] + [(n, _STATS_INTS.get(n, c_uint64)) for n in _STATS_FIELDS]


class CheckReport(Structure):
    """struct brain_check_report, version 1 (braincore/storage.h)."""
    _fields_ = [("version", c_uint)] + [(n, c_uint64) for n in (
        "memories generation checkpoint_lsn checkpoint_bytes bytes_verified wal_records "
        "wal_bytes wal_torn_bytes dropped_records").split()]


RESULT_VERSION = 1


class Result(Structure):
    """struct brain_result, version 1 (braincore/memory.h)."""
    _fields_ = [
        ("id", c_uint64),
        ("score", c_float),
        ("importance", c_float),
        ("created_ms", c_int64),
        ("accessed_ms", c_int64),
        ("text", c_void_p),
        ("text_len", c_size_t),
        ("metadata", c_char_p),
        ("key", c_char_p),
        ("document", c_char_p),
    ]


# ctypes turns an exception of from_param into ArgumentError with only its
# text: the exception itself waits here for the call's wrapper (_wrap).
_refused = threading.local()


def _integer(value, lo, hi, code, what):
    try:
        v = operator.index(value)
    except TypeError as e:
        _refused.exc = e
        raise
    if not lo <= v <= hi:
        from .errors import InvalidArgumentError
        _refused.exc = InvalidArgumentError(code, "%s %d is outside %d .. %d" % (what, v, lo, hi))
        raise _refused.exc
    return v


class _Id:
    """A memory id argument: an int in 0 .. 2**64 - 1, checked before the
    call (ctypes would wrap -1 or 2**64 + 5 around silently)."""

    @classmethod
    def from_param(cls, value):
        return c_uint64(_integer(value, 0, 2**64 - 1, -1, "id"))


class _Count:
    """A count argument (k, max): an int in 0 .. 2**63 - 1, checked before
    the call (a negative one would become SIZE_MAX)."""

    @classmethod
    def from_param(cls, value):
        return c_size_t(_integer(value, 0, 2**63 - 1, -10, "count"))


def _wrap(fn):
    """fn, raising what an argument check refused (or TypeError for an
    argument ctypes cannot convert) instead of ctypes.ArgumentError."""
    def call(*args):
        try:
            return fn(*args)
        except ctypes.ArgumentError as e:
            exc, _refused.exc = getattr(_refused, "exc", None), None
            if exc is not None:
                raise exc from None
            raise TypeError("%s: %s" % (fn.__name__, e)) from None
    call.__name__ = fn.__name__
    return call


ACCEPT_FN = CFUNCTYPE(c_int, c_uint64, c_void_p)
WRITE_FN = CFUNCTYPE(c_int, c_void_p, c_size_t, c_void_p)
READ_FN = CFUNCTYPE(c_int, c_void_p, c_size_t, c_void_p)

_p = c_void_p          # brain_t *, brain_results *, brain_filter *, brain_edges *
_u64p = POINTER(c_uint64)
_f32p = POINTER(c_float)
_szp = POINTER(c_size_t)

# name: (result type, argument types)
_DECLS = {
    # common.h, errors.h
    "brain_version": (c_int, []),
    "brain_version_string": (c_char_p, []),
    "brain_strerror": (c_char_p, [c_int]),
    "brain_error_name": (c_char_p, [c_int]),
    "brain_errmsg": (c_char_p, []),
    "brain_errcode": (c_int, []),
    # options.h, brain.h
    "brain_options_init": (c_int, [POINTER(Options), c_uint]),
    "brain_open": (c_int, [c_char_p, POINTER(Options), POINTER(_p)]),
    "brain_close": (c_int, [_p]),
    "brain_count": (c_uint64, [_p]),
    "brain_dimensions": (c_uint32, [_p]),
    # memory.h
    "brain_remember_full": (c_int, [_p, c_char_p, c_size_t, _f32p, c_float, c_char_p, _u64p]),
    "brain_remember_batch": (c_int, [_p, POINTER(c_char_p), c_size_t, c_float,
                                     POINTER(c_char_p), _u64p]),
    "brain_recall_mode": (c_int, [_p, c_char_p, _Count, c_int, _p, POINTER(_p)]),
    "brain_recall_batch": (c_int, [_p, POINTER(c_char_p), c_size_t, _Count, _p, POINTER(_p)]),
    "brain_think_ex": (c_int, [_p, c_char_p, POINTER(_p)]),
    "brain_get": (c_int, [_p, _Id, POINTER(_p)]),
    "brain_forget": (c_int, [_p, _Id]),
    "brain_forget_where": (c_int, [_p, _p, _u64p]),
    "brain_count_where": (c_int, [_p, _p, _u64p]),
    "brain_list": (c_int, [_p, _p, _Id, _Count, POINTER(_p)]),
    "brain_update": (c_int, [_p, _Id, c_char_p, c_size_t, _f32p, c_float, c_char_p]),
    "brain_upsert": (c_int, [_p, c_char_p, c_char_p, c_size_t, _f32p, c_float, c_char_p, _u64p]),
    "brain_key_id": (c_int, [_p, c_char_p, _u64p]),
    "brain_forget_key": (c_int, [_p, c_char_p]),
    "brain_set_metadata": (c_int, [_p, _Id, c_char_p]),
    "brain_patch_metadata": (c_int, [_p, _Id, c_char_p]),
    "brain_get_metadata": (c_int, [_p, _Id, c_char_p, c_size_t, _szp]),
    "brain_set_valid": (c_int, [_p, _Id, c_int64, c_int64]),
    "brain_supersede": (c_int, [_p, _Id, _Id, c_int64]),
    "brain_results_count": (c_size_t, [_p]),
    "brain_results_id": (c_uint64, [_p, c_size_t]),
    "brain_results_score": (c_float, [_p, c_size_t]),
    "brain_results_text": (c_void_p, [_p, c_size_t]),
    "brain_results_text_len": (c_size_t, [_p, c_size_t]),
    "brain_results_importance": (c_float, [_p, c_size_t]),
    "brain_results_created": (c_int64, [_p, c_size_t]),
    "brain_results_accessed": (c_int64, [_p, c_size_t]),
    "brain_results_metadata": (c_char_p, [_p, c_size_t]),
    "brain_results_key": (c_char_p, [_p, c_size_t]),
    "brain_results_document": (c_char_p, [_p, c_size_t]),
    "brain_results_answer": (c_char_p, [_p]),
    "brain_results_read": (c_int, [_p, c_size_t, c_size_t, c_uint, POINTER(Result), _szp]),
    "brain_results_free": (None, [_p]),
    # vector.h
    "brain_add_with": (c_int, [_p, _Id, _f32p, c_char_p]),
    "brain_add_batch": (c_int, [_p, _u64p, _f32p, c_size_t]),
    "brain_search": (c_int, [_p, _f32p, _Count, _u64p, _f32p, _szp]),
    "brain_search_batch": (c_int, [_p, _f32p, _Count, _Count, _u64p, _f32p, _szp]),
    "brain_search_filter": (c_int, [_p, _f32p, _Count, ACCEPT_FN, c_void_p, _u64p, _f32p, _szp]),
    "brain_search_where": (c_int, [_p, _f32p, _Count, _p, _u64p, _f32p, _szp]),
    "brain_recall_vector": (c_int, [_p, _f32p, _Count, _p, POINTER(_p)]),
    "brain_update_vector": (c_int, [_p, _Id, _f32p]),
    "brain_get_vector": (c_int, [_p, _Id, _f32p]),
    # filter.h
    "brain_filter_parse_len": (c_int, [c_char_p, c_size_t, POINTER(_p)]),
    "brain_filter_free": (None, [_p]),
    # relations.h
    "brain_relate": (c_int, [_p, _Id, _Id, c_char_p, c_float]),
    "brain_unrelate": (c_int, [_p, _Id, _Id, c_char_p]),
    "brain_neighbors": (c_int, [_p, _Id, c_char_p, c_int, POINTER(_p)]),
    "brain_traverse": (c_int, [_p, _Id, c_uint, c_char_p, c_int, POINTER(_p)]),
    "brain_recall_near": (c_int, [_p, c_char_p, _Count, _Id, c_uint, _p, POINTER(_p)]),
    "brain_edges_count": (c_size_t, [_p]),
    "brain_edges_from": (c_uint64, [_p, c_size_t]),
    "brain_edges_to": (c_uint64, [_p, c_size_t]),
    "brain_edges_verb": (c_char_p, [_p, c_size_t]),
    "brain_edges_weight": (c_float, [_p, c_size_t]),
    "brain_edges_hops": (c_uint, [_p, c_size_t]),
    "brain_edges_free": (None, [_p]),
    # document.h
    "brain_remember_document": (c_int, [_p, c_char_p, c_char_p, c_size_t, c_float, c_char_p,
                                        c_size_t, _szp]),
    "brain_forget_document": (c_int, [_p, c_char_p, _u64p]),
    # ingest.h
    "brain_remember_async": (c_int, [_p, c_char_p, c_float]),
    "brain_add_async": (c_int, [_p, _Id, _f32p]),
    "brain_flush": (c_int, [_p]),
    # params.h
    "brain_set_param": (c_int, [_p, c_int, c_int64]),
    "brain_get_param": (c_int, [_p, c_int, POINTER(c_int64)]),
    "brain_param_bounds": (c_int, [c_int, POINTER(c_int64), POINTER(c_int64), POINTER(c_int64)]),
    "brain_param_name": (c_char_p, [c_int]),
    # storage.h, health.h
    "brain_checkpoint": (c_int, [_p]),
    "brain_sync": (c_int, [_p]),
    "brain_save": (c_int, [_p, WRITE_FN, c_void_p]),
    "brain_load": (c_int, [READ_FN, c_void_p, c_char_p, POINTER(Options), POINTER(_p)]),
    "brain_backup": (c_int, [_p, c_char_p]),
    "brain_check_report_init": (c_int, [POINTER(CheckReport), c_uint]),
    "brain_check": (c_int, [c_char_p, POINTER(Options), POINTER(CheckReport)]),
    "brain_repair": (c_int, [c_char_p, POINTER(Options), POINTER(CheckReport)]),
    "brain_stats_init": (c_int, [POINTER(Stats), c_uint]),
    "brain_get_stats": (c_int, [_p, POINTER(Stats)]),
    "brain_health_json": (c_int, [_p, c_char_p, c_size_t]),
}

_cdll = lib
lib = types.SimpleNamespace()
for _name, (_res, _args) in _DECLS.items():
    _fn = getattr(_cdll, _name)
    _fn.restype = _res
    _fn.argtypes = _args
    setattr(lib, _name, _wrap(_fn))
del _name, _res, _args, _fn

# The hot loop of Index.knn_query: brain_search with every argument an
# address (ints), without the argument checks and wrapper of `lib` (the
# caller has checked k once for all rows), so a query costs the binding a
# few microseconds rather than tens.
search_raw = _cdll["brain_search"]
search_raw.restype = c_int
search_raw.argtypes = [c_void_p, c_void_p, c_size_t, c_void_p, c_void_p, c_void_p]

if lib.brain_version() // 10000 != 0:
    raise ImportError("braincore: %s is version %s; this module speaks the 0.x ABI"
                      % (library_path, lib.brain_version_string().decode()))

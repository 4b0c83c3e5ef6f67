"""Conversions shared by Brain and Index (private)."""

import json
from contextlib import contextmanager
from ctypes import POINTER, byref, c_float, c_void_p

import numpy as np

from ._capi import lib
from .errors import MetadataError, TextError, VectorError, check

EINVAL, EUTF8, EDIM, EJSON, ESTATE = -1, -5, -7, -29, -21

__all__ = ["text_bytes", "cstring", "metadata_json", "vector", "matrix", "fptr", "parsed_filter"]


def text_bytes(text, what="text"):
    """UTF-8 bytes of a str (lone surrogates kept, so the library reports
    them as invalid UTF-8), or bytes as given."""
    if isinstance(text, str):
        return text.encode("utf-8", "surrogatepass")
    if isinstance(text, (bytes, bytearray, memoryview)):
        return bytes(text)
    raise TypeError("%s must be str or bytes, not %s" % (what, type(text).__name__))


def cstring(text, what="text"):
    """Bytes for a call that takes a NUL-terminated string: a NUL inside
    would cut the text short in C, so it is refused here as the library
    refuses it in counted text (BRAIN_EUTF8)."""
    if text is None:
        return None
    data = text_bytes(text, what)
    at = data.find(b"\0")
    if at >= 0:
        raise TextError(EUTF8, "%s is not valid UTF-8 at byte %d (a NUL byte)" % (what, at))
    return data


def metadata_json(metadata, what="metadata"):
    """JSON bytes of a metadata dict (or a JSON string as given); None stays None."""
    if metadata is None:
        return None
    if isinstance(metadata, (str, bytes)):
        return cstring(metadata, what)
    if not isinstance(metadata, dict):
        raise MetadataError(EJSON, "%s must be a dict or a JSON string, not %s"
                            % (what, type(metadata).__name__))
    try:
        text = json.dumps(metadata, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as e:
        raise MetadataError(EJSON, "%s cannot be written as JSON: %s" % (what, e)) from None
    return cstring(text, what)


def vector(v, dim, what="vector"):
    """A contiguous float32 1-d array of `dim` values (no copy when it is one already)."""
    a = np.ascontiguousarray(v, dtype=np.float32)
    if a.ndim != 1 or a.shape[0] != dim:
        raise VectorError(EDIM, "%s has shape %s; the brain takes %d values"
                          % (what, tuple(a.shape), dim))
    return a


def matrix(data, dim, what="data"):
    """A contiguous float32 (n, dim) array; a 1-d array of dim values is one row."""
    a = np.ascontiguousarray(data, dtype=np.float32)
    if a.ndim == 1:
        a = a.reshape(1, -1)
    if a.ndim != 2 or a.shape[1] != dim:
        raise VectorError(EDIM, "%s has shape %s; rows of %d values are needed"
                          % (what, tuple(a.shape), dim))
    return a


def fptr(a):
    return a.ctypes.data_as(POINTER(c_float))


@contextmanager
def parsed_filter(where):
    """The brain_filter * of a filter string (braincore/filter.h syntax), or
    NULL for None; freed on leaving."""
    if where is None:
        yield None
        return
    data = text_bytes(where, "filter")
    f = c_void_p()
    check(lib.brain_filter_parse_len(data, len(data), byref(f)))
    try:
        yield f
    finally:
        lib.brain_filter_free(f)

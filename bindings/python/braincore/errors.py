"""Exceptions: one class per family of braincore's error codes.

Every failing call raises a subclass of BrainError carrying the C code
(`code`, e.g. -7), its name (`error_name`, e.g. "BRAIN_EDIM") and the
library's message for that very call (brain_errmsg(), read on the calling
thread right after the call). Families also derive from the Python built-in
a caller would reach for: ValueError for bad arguments, text and vectors;
LookupError for a missing memory; MemoryError for out of memory; OSError
for the file system.
"""

from ._capi import lib

__all__ = ["BrainError", "InvalidArgumentError", "TextError", "VectorError", "NotFoundError",
           "ExistsError", "CapacityError", "OutOfMemoryError", "EmbedderError", "StateError",
           "StorageError", "MetadataError", "InternalError", "check"]


class BrainError(Exception):
    """Base of every braincore error. `code` is the C error code (negative),
    `error_name` its name in braincore/errors.h, `message` the library's
    explanation of this failure."""

    def __init__(self, code, message=None, error_name=None):
        self.code = int(code)
        self.error_name = error_name or _name(self.code)
        self.message = message or _strerror(self.code)
        super().__init__("%s: %s" % (self.error_name, self.message))


class InvalidArgumentError(BrainError, ValueError):
    """EINVAL, ENULL, ERANGE, EPARAM, EVERSION, EBUFSIZE: an argument the call cannot take."""


class TextError(BrainError, ValueError):
    """EEMPTY, EUTF8, ETOOLONG: text that is empty, not UTF-8, or over the brain's limit."""


class VectorError(BrainError, ValueError):
    """EDIM, ENONFINITE, EZEROVEC: a vector of the wrong length, with NaN/inf, or zero."""


class NotFoundError(BrainError, LookupError):
    """ENOTFOUND: no memory (or brain, key, relation) of that name."""


class ExistsError(BrainError):
    """EEXISTS: the id (or the brain at that path) is already there."""


class CapacityError(BrainError):
    """EFULL: the brain holds max_memories (Index: max_elements)."""


class OutOfMemoryError(BrainError, MemoryError):
    """ENOMEM: an allocation failed, or the memory budget refused it."""


class EmbedderError(BrainError):
    """ENOEMBEDDER, EEMBEDDER, EGENERATOR: no embedder for text, or a callback failed."""


class StateError(BrainError):
    """ENOTSUP, ESTATE, EBUSY, EREADONLY: not possible now or on this brain (also: the
    brain is closed)."""


class StorageError(BrainError, OSError):
    """EIO, ECORRUPT, ENOSPC, EMISMATCH: the files of an on-disk brain."""


class MetadataError(BrainError, ValueError):
    """EJSON, EFILTER, ETYPE: metadata or a filter the brain cannot take."""


class InternalError(BrainError):
    """EINTERNAL: a bug in braincore; please report it with the message."""


_FAMILIES = {
    InvalidArgumentError: (-1, -3, -10, -18, -17, -13),
    TextError: (-4, -5, -6),
    VectorError: (-7, -8, -9),
    NotFoundError: (-11,),
    ExistsError: (-12,),
    CapacityError: (-19,),
    OutOfMemoryError: (-2,),
    EmbedderError: (-14, -15, -16),
    StateError: (-20, -21, -22, -28),
    StorageError: (-24, -25, -26, -27),
    MetadataError: (-29, -30, -31),
    InternalError: (-23,),
}
_BY_CODE = {code: cls for cls, codes in _FAMILIES.items() for code in codes}


def _name(code):
    return "BRAIN_" + lib.brain_error_name(code).decode()


def _strerror(code):
    return lib.brain_strerror(code).decode()


def error_class(code):
    """The exception class of a C error code (BrainError for an unknown one)."""
    return _BY_CODE.get(code, BrainError)


def raise_error(code, message=None):
    raise error_class(code)(code, message)


def check(rc):
    """Raise the error of a C call's return code; return it when >= 0. Must
    run on the thread that made the call, right after it (brain_errmsg() is
    per thread)."""
    if rc < 0:
        msg = lib.brain_errmsg()
        raise error_class(rc)(rc, msg.decode("utf-8", "replace") if msg else None)
    return rc

"""braincore: an embedded AI memory engine (Python binding of libbraincore).

    import braincore

    with braincore.Brain("notes.brain") as brain:     # or Brain() in memory
        brain.remember("The Eiffel Tower is 330 metres tall.", importance=0.8)
        for m in brain.recall("how tall is the eiffel tower", k=3):
            print(m.score, m.text)
        print(brain.think("How tall is the Eiffel Tower?").answer)

braincore.Index has hnswlib's interface (init_index, add_items, knn_query,
set_ef, mark_deleted, get_items, save_index, load_index).

The library is loaded from BRAINCORE_LIBRARY if set, else as
libbraincore.so.0 through the system's loader (Debian: libbraincore0).
"""

from ._capi import ID_NONE, lib as _lib, library_path
from .brain import Brain, Edge, Memory, Thought, check_brain, param_names, repair_brain
from .errors import (BrainError, CapacityError, EmbedderError, ExistsError, InternalError,
                     InvalidArgumentError, MetadataError, NotFoundError, OutOfMemoryError,
                     StateError, StorageError, TextError, VectorError)
from .index import Index

__version__ = "0.1.0"
#: the version of the loaded libbraincore ("0.1.0")
library_version = _lib.brain_version_string().decode()

__all__ = ["Brain", "Index", "Memory", "Thought", "Edge", "BrainError", "InvalidArgumentError",
           "TextError", "VectorError", "NotFoundError", "ExistsError", "CapacityError",
           "OutOfMemoryError", "EmbedderError", "StateError", "StorageError", "MetadataError",
           "InternalError", "param_names", "check_brain", "repair_brain", "library_path",
           "library_version", "ID_NONE"]

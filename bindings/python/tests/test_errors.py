"""Every bad input gets its error family, its C code and the library's message."""
import math
import os

import numpy as np
import pytest

import braincore
from braincore import errors


@pytest.fixture
def brain():
    with braincore.Brain(max_text_bytes=64, max_memories=3) as b:
        yield b


def raises(cls, name, fn, *args, **kw):
    with pytest.raises(cls) as e:
        fn(*args, **kw)
    assert e.value.error_name == name, e.value
    assert isinstance(e.value, braincore.BrainError) and e.value.code < 0
    assert e.value.message and name in str(e.value)
    return e.value


def test_text_errors(brain):
    raises(braincore.TextError, "BRAIN_EEMPTY", brain.remember, "")
    e = raises(braincore.TextError, "BRAIN_EUTF8", brain.remember, b"caf\xe9")
    assert "UTF-8" in e.message or "utf" in e.message.lower()
    raises(braincore.TextError, "BRAIN_EUTF8", brain.remember, "lone \ud800 surrogate")
    raises(braincore.TextError, "BRAIN_ETOOLONG", brain.remember, "x" * 65)
    assert len(brain) == 0
    assert issubclass(braincore.TextError, ValueError)


def test_nul_where_c_wants_a_string(brain):
    e = raises(braincore.TextError, "BRAIN_EUTF8", brain.recall, "a\0b")
    assert "byte 1" in e.message
    raises(braincore.TextError, "BRAIN_EUTF8", brain.remember_many, ["ok", "b\0"])
    raises(braincore.TextError, "BRAIN_EUTF8", brain.remember, "b\0")
    assert len(brain) == 0


def test_vector_errors():
    with braincore.Brain(dimensions=4, embedder="none") as b:
        raises(braincore.VectorError, "BRAIN_EDIM", b.add, 1, [1.0, 2.0, 3.0])
        raises(braincore.VectorError, "BRAIN_EDIM", b.add, 1, np.ones((2, 4)))
        raises(braincore.VectorError, "BRAIN_ENONFINITE", b.add, 1, [1, math.nan, 0, 0])
        raises(braincore.VectorError, "BRAIN_EZEROVEC", b.add, 1, [0, 0, 0, 0])
        raises(braincore.VectorError, "BRAIN_EDIM", b.search, [1, 2], 3)
        e = raises(braincore.VectorError, "BRAIN_ENONFINITE", b.add_many, [1, 2],
                   [[1, 1, 1, 1], [1, math.inf, 1, 1]])
        assert len(b) == 0 and e.message
        raises(braincore.EmbedderError, "BRAIN_ENOEMBEDDER", b.remember, "text")
        b.add(1, [1, 0, 0, 0])
        raises(braincore.ExistsError, "BRAIN_EEXISTS", b.add, 1, [0, 1, 0, 0])


def test_lookup_and_capacity(brain):
    raises(braincore.NotFoundError, "BRAIN_ENOTFOUND", brain.get, 42)
    raises(braincore.NotFoundError, "BRAIN_ENOTFOUND", brain.forget, 42)
    assert issubclass(braincore.NotFoundError, LookupError)
    for t in ("one", "two", "three"):
        brain.remember(t)
    raises(braincore.CapacityError, "BRAIN_EFULL", brain.remember, "four")
    assert len(brain) == 3


def test_metadata_and_filter_errors(brain):
    i = brain.remember("m")
    raises(braincore.MetadataError, "BRAIN_EJSON", brain.set_metadata, i, '{"a": ')
    raises(braincore.MetadataError, "BRAIN_EJSON", brain.set_metadata, i, {"x": math.nan})
    raises(braincore.MetadataError, "BRAIN_EJSON", brain.set_metadata, i, {"x": object()})
    raises(braincore.MetadataError, "BRAIN_EJSON", brain.set_metadata, i, [1, 2])
    brain.set_metadata(i, {"n": 1})
    raises(braincore.MetadataError, "BRAIN_ETYPE", brain.remember, "t", metadata={"n": "one"})
    raises(braincore.MetadataError, "BRAIN_EFILTER", brain.recall, "m", where="n >>= 1")
    raises(braincore.MetadataError, "BRAIN_EFILTER", brain.count, "((")
    assert brain.get_metadata(i) == {"n": 1} and len(brain) == 1


def test_argument_errors(brain):
    raises(braincore.InvalidArgumentError, "BRAIN_EPARAM", brain.set_param, "no_such", 1)
    raises(braincore.InvalidArgumentError, "BRAIN_ERANGE", brain.set_param, "hnsw_ef_search", 0)
    raises(braincore.InvalidArgumentError, "BRAIN_EINVAL", braincore.Brain, metric="manhattan")
    raises(braincore.InvalidArgumentError, "BRAIN_ERANGE", brain.recall, "x", k=0)
    with pytest.raises(TypeError):
        brain.remember(42)


def test_storage_errors(tmp_path):
    path = tmp_path / "b"
    with braincore.Brain(path) as b:
        b.remember_many(["alpha", "beta", "gamma"])
        b.checkpoint()
    raises(braincore.StorageError, "BRAIN_EMISMATCH", braincore.Brain, path, dimensions=64)
    raises(braincore.NotFoundError, "BRAIN_ENOTFOUND", braincore.Brain, tmp_path / "none",
           create=False)
    # damage every file of the brain in its middle: opening must fail cleanly
    for name in sorted(os.listdir(path)):
        f = path / name
        if f.is_file() and f.stat().st_size > 64:
            data = bytearray(f.read_bytes())
            data[len(data) // 2] ^= 0xFF
            f.write_bytes(bytes(data))
    with pytest.raises(braincore.StorageError) as e:
        braincore.check_brain(path)
    assert e.value.error_name == "BRAIN_ECORRUPT"
    with pytest.raises(braincore.StorageError):
        braincore.Brain(path)
    assert issubclass(braincore.StorageError, OSError)


def test_snapshot_errors(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(b"not a snapshot at all" * 10)
    raises(braincore.StorageError, "BRAIN_ECORRUPT", braincore.Brain.load, bad)
    with braincore.Brain() as b:
        b.remember("whole")
        b.save(tmp_path / "snap")
    data = (tmp_path / "snap").read_bytes()
    (tmp_path / "cut").write_bytes(data[: len(data) // 2])
    with pytest.raises(braincore.StorageError):
        braincore.Brain.load(tmp_path / "cut")
    with pytest.raises(FileNotFoundError):
        braincore.Brain.load(tmp_path / "missing")


def test_every_code_has_a_family():
    for code in range(-1, -32, -1):
        cls = errors.error_class(code)
        assert cls is not braincore.BrainError, code
        e = cls(code)
        assert e.error_name.startswith("BRAIN_E") and e.message
    assert errors.error_class(-999) is braincore.BrainError


def test_ids_and_counts_are_checked_before_c():
    with braincore.Brain(dimensions=4, embedder="none") as b:
        b.add(5, [1, 0, 0, 0])
        for bad in (-1, 2**64, 2**64 + 5):
            with pytest.raises(braincore.InvalidArgumentError):
                b.get(bad)
            with pytest.raises(braincore.InvalidArgumentError):
                b.forget(bad)
        with pytest.raises(TypeError):
            b.get(5.0)
        assert b.get(5).id == 5 and len(b) == 1
        for k in (0, -1):
            raises(braincore.InvalidArgumentError, "BRAIN_ERANGE", b.search, [1, 0, 0, 0], k)
        ids, dist = b.search([1, 0, 0, 0], k=10**12)     # no buffer of 10**12
        assert list(ids) == [5]
        with pytest.raises(braincore.InvalidArgumentError):
            b.recall_vector([1, 0, 0, 0], k=-3)


def test_a_failure_while_reading_results_frees_them_once(monkeypatch):
    import braincore.brain as brain_module
    with braincore.Brain() as b:
        b.remember("with metadata", metadata={"n": 1})

        def broken(text):
            raise RuntimeError("injected")
        monkeypatch.setattr(brain_module.json, "loads", broken)
        for _ in range(3):
            with pytest.raises(RuntimeError):
                b.recall_many(["metadata", "with"], k=1)
        monkeypatch.undo()
        assert b.stats()["heap_results_bytes"] == 0

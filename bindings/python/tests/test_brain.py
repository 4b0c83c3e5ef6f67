"""braincore.Brain: behaviour of every call, against what the C library promises."""
import threading

import numpy as np
import pytest

import braincore

FACTS = [
    "The Eiffel Tower is 330 metres tall.",
    "Cats sleep for most of the day.",
    "The Nile is the longest river in Africa.",
    "Mount Everest is the highest mountain on Earth.",
    "Honey never spoils if it is sealed.",
]


@pytest.fixture
def brain():
    with braincore.Brain() as b:
        yield b


def test_remember_recall_think(brain):
    ids = [brain.remember(t, 0.5) for t in FACTS]
    assert ids == sorted(set(ids)) and len(brain) == len(FACTS)
    found = brain.recall("how tall is the eiffel tower", k=3)
    assert [m.id for m in found][0] == ids[0]
    assert found[0].text == FACTS[0] and 0 < found[0].score <= 1.5
    assert [m.score for m in found] == sorted((m.score for m in found), reverse=True)
    thought = brain.think("How tall is the Eiffel Tower?")
    assert "330" in thought.answer and thought.memories[0].id == ids[0]
    unknown = brain.think("What is the capital of Mongolia?")
    assert unknown.memories == [] and unknown.answer


def test_text_round_trip_keeps_every_byte(brain):
    text = "naïve café — 東京 \U0001F600 tab\tend"
    i = brain.remember(text)
    assert brain.get(i).text == text
    j = brain.remember(b"bytes in, str out")
    assert brain.get(j).text == "bytes in, str out"


def test_metadata_filters_and_modes(brain):
    a = brain.remember("Quarterly report is due Friday", metadata={"topic": "work", "year": 2024})
    b = brain.remember("Dentist appointment on Friday", metadata={"topic": "health", "year": 2023})
    brain.remember("Friday dinner with Ana", metadata={"topic": "social", "tags": ["ana", "food"]})
    assert [m.id for m in brain.recall("friday", k=5, where='topic = "work"')] == [a]
    assert {m.id for m in brain.recall("friday", k=5, where="year >= 2023")} == {a, b}
    assert brain.count('topic = "health"') == 1
    assert brain.count() == 3
    for mode in ("semantic", "keyword", "hybrid"):
        assert brain.recall("dentist", k=1, mode=mode)[0].id == b
    assert brain.get_metadata(a) == {"topic": "work", "year": 2024}
    brain.patch_metadata(a, {"year": None, "done": True})
    assert brain.get_metadata(a) == {"topic": "work", "done": True}
    brain.set_metadata(a, {})
    assert brain.get_metadata(a) == {}
    assert brain.forget_where('topic = "health"') == 1
    assert b not in brain and len(brain) == 2


def test_keys_upsert_update(brain):
    i = brain.upsert("pref:color", "My favourite colour is blue.")
    j = brain.upsert("pref:color", "My favourite colour is green.")
    assert i == j and len(brain) == 1
    assert brain.get(i).text == "My favourite colour is green."
    assert brain.get(i).key == "pref:color" and brain.key_id("pref:color") == i
    assert brain.key_id("nope") is None
    brain.update(i, importance=0.9)
    m = brain.get(i)
    assert abs(m.importance - 0.9) < 1e-6 and m.text.endswith("green.")
    brain.update(i, "My favourite colour is red.", metadata={"kind": "pref"})
    assert brain.get(i).text.endswith("red.")
    assert brain.get_metadata(i) == {"@key": "pref:color", "kind": "pref"}
    # metadata read and written back, the library's '@key' with it
    meta = brain.get_metadata(i)
    meta["kind"] = "colour"
    brain.set_metadata(i, meta)
    assert brain.get_metadata(i) == {"@key": "pref:color", "kind": "colour"}
    with pytest.raises(braincore.MetadataError):
        brain.set_metadata(i, {"@key": "other"})
    brain.forget_key("pref:color")
    assert len(brain) == 0


def test_remember_many_matches_one_by_one():
    with braincore.Brain() as one, braincore.Brain() as many:
        ids_one = [one.remember(t) for t in FACTS]
        ids_many = many.remember_many(FACTS, metadata=[{"n": i} for i in range(len(FACTS))])
        assert ids_one == ids_many
        for i in ids_many:
            assert np.array_equal(one.get_vector(i), many.get_vector(i))
        assert many.get_metadata(ids_many[3]) == {"n": 3}
        queries = ["longest river", "highest mountain", "honey"]
        batched = many.recall_many(queries, k=2)
        assert [[m.id for m in r] for r in batched] == \
            [[m.id for m in many.recall(q, k=2)] for q in queries]


def test_list_iter_pages(brain):
    ids = brain.remember_many(["memory number %d" % i for i in range(700)])
    assert [m.id for m in brain] == ids
    assert [m.id for m in brain.list(after=ids[99], limit=5)] == ids[100:105]
    assert [m.id for m in brain.list(page=7, limit=20)] == ids[:20]


def test_relations(brain):
    ana, acme, bob = (brain.remember(t) for t in ("Ana is an engineer", "Acme makes rockets",
                                                 "Bob is Ana's manager"))
    brain.relate(ana, acme, "works_at")
    brain.relate(bob, ana, "manages", 0.5)
    out = brain.neighbors(ana)
    assert [(e.from_id, e.to_id, e.verb) for e in out] == [(ana, acme, "works_at")]
    incoming = brain.neighbors(ana, direction="in")
    assert incoming[0].from_id == bob and abs(incoming[0].weight - 0.5) < 1e-6
    walk = brain.traverse(bob, depth=2)
    assert [(e.to_id, e.hops) for e in walk] == [(ana, 1), (acme, 2)]
    near = brain.recall_near("rockets", around=ana, k=3)
    assert acme in [m.id for m in near]
    brain.unrelate(ana, acme, "works_at")
    assert brain.neighbors(ana) == []
    with pytest.raises(braincore.NotFoundError):
        brain.unrelate(ana, acme)


def test_documents(brain):
    text = " ".join("Sentence number %d talks about topic %d." % (i, i % 3) for i in range(60))
    n = brain.remember_document("doc:1", text, max_bytes=200, metadata={"src": "t"})
    assert n > 5 and len(brain) == n
    parts = list(brain)
    assert all(m.document == "doc:1" for m in parts)
    assert "".join(m.text + " " for m in parts).split() == text.split()
    assert brain.remember_document("doc:1", "Now it is short.") == 1 and len(brain) == 1
    assert brain.forget_document("doc:1") == 1 and len(brain) == 0


def test_async_and_flush():
    with braincore.Brain() as b:
        for t in FACTS:
            b.remember_async(t)
        b.flush()
        assert len(b) == len(FACTS)
        assert b.recall("honey", k=1)[0].text == FACTS[4]


def test_vectors_against_numpy():
    rng = np.random.default_rng(7)
    data = rng.standard_normal((300, 24)).astype(np.float32)
    with braincore.Brain(dimensions=24, metric="l2", embedder="none", index="flat") as b:
        b.add_many(np.arange(1000, 1300), data)
        b.add(5, data[0] * 2, metadata={"odd": True})
        q = rng.standard_normal(24).astype(np.float32)
        ids, dist = b.search(q, k=10)
        every = np.vstack([data, data[0] * 2])
        labels = np.concatenate([np.arange(1000, 1300), [5]])
        d = ((every - q) ** 2).sum(1)
        order = np.argsort(d, kind="stable")[:10]
        assert list(ids) == list(labels[order])
        assert np.allclose(dist, d[order], rtol=1e-4, atol=1e-4)
        assert list(b.search(q, k=3, where="odd = true")[0]) == [5]
        assert np.array_equal(b.get_vector(1003), data[3])
        b.update_vector(1003, q)
        assert b.search(q, k=1)[0][0] == 1003
        assert [m.id for m in b.recall_vector(q, k=1)] == [1003]
        # a text with the caller's vector and metadata: one change, nothing on error
        i = b.remember("a text with its own vector", vector=-q, metadata={"odd": False})
        assert b.get(i).metadata == {"odd": False} and b.search(-q, k=1)[0][0] == i
        n = len(b)
        with pytest.raises(braincore.VectorError):
            b.remember("bad", vector=np.full(24, np.nan), metadata={"odd": True})
        with pytest.raises(braincore.MetadataError):
            b.remember("bad", vector=q, metadata={"odd": "no"})
        assert len(b) == n


@pytest.mark.parametrize("index", ["flat", "hnsw"])
def test_search_batch_matches_search(index):
    rng = np.random.default_rng(11)
    data = rng.standard_normal((2500, 16)).astype(np.float32)
    queries = rng.standard_normal((70, 16)).astype(np.float32)
    with braincore.Brain(dimensions=16, metric="cosine", embedder="none", index=index) as b:
        b.add_many(np.arange(1, 2501), data)
        b.set_param("threads", 3)
        ids, dist, found = b.search_batch(queries, k=6)
        assert ids.shape == (70, 6) and dist.shape == (70, 6) and list(found) == [6] * 70
        for i, q in enumerate(queries):
            one_ids, one_dist = b.search(q, k=6)
            assert list(ids[i]) == list(one_ids) and np.array_equal(dist[i], one_dist)
        # fewer held than asked: rows as wide as the brain holds
        with braincore.Brain(dimensions=16, metric="l2", embedder="none") as small:
            small.add_many([7, 8], data[:2])
            ids, dist, found = small.search_batch(queries[:3], k=4)
            assert ids.shape == (3, 2) and list(found) == [2, 2, 2]
            assert sorted(ids[0]) == [7, 8]
        # an empty brain: every cell is ID_NONE and inf
        with braincore.Brain(dimensions=16, metric="l2", embedder="none") as empty:
            ids, dist, found = empty.search_batch(queries[:2], k=3)
            assert ids.shape == (2, 1) and list(found) == [0, 0]
            assert (ids == braincore.ID_NONE).all() and np.isinf(dist).all()
        bad = queries.copy()
        bad[33, 5] = np.nan
        with pytest.raises(braincore.VectorError, match="query 33"):
            b.search_batch(bad, k=6)
        with pytest.raises(braincore.VectorError):
            b.search_batch(queries[:, :15], k=6)
        with pytest.raises(braincore.InvalidArgumentError):
            b.search_batch(queries, k=0)


def test_on_disk_reopen_and_snapshot(tmp_path):
    path = tmp_path / "b"
    with braincore.Brain(path, sync="normal") as b:
        ids = b.remember_many(FACTS)
        b.relate(ids[0], ids[1], "near")
        b.checkpoint()
        b.remember("After the checkpoint, only in the log.")
        assert b.stats()["on_disk"] == 1
    with braincore.Brain(path, create=False) as b:
        assert len(b) == len(FACTS) + 1
        assert b.recall("log checkpoint", k=1)[0].text.startswith("After the checkpoint")
        assert b.neighbors(ids[0])[0].to_id == ids[1]
        b.save(tmp_path / "snap")
        b.backup(tmp_path / "copy")
    report = braincore.check_brain(path)
    assert report["memories"] == len(FACTS) + 1
    with braincore.Brain.load(tmp_path / "snap") as c:
        assert [m.text for m in c] == FACTS + ["After the checkpoint, only in the log."]
    with braincore.Brain(tmp_path / "copy", read_only=True) as d:
        assert len(d) == len(FACTS) + 1
        with pytest.raises(braincore.StateError) as e:
            d.remember("no")
        assert e.value.error_name == "BRAIN_EREADONLY"


def test_params_stats_health(brain):
    brain.set_param("think_min_score", 400)
    assert brain.get_param("THINK_MIN_SCORE") == 400
    assert "hnsw_ef_search" in braincore.param_names()
    brain.remember("one")
    brain.recall("one", k=1)
    s = brain.stats()
    assert s["memories"] == 1 and s["dimensions"] == 384 and s["recall_count"] == 1
    h = brain.health()
    assert h["memories"] == 1


def test_results_objects_are_always_freed(brain):
    ids = brain.remember_many(FACTS)
    brain.relate(ids[0], ids[1], "near")
    for _ in range(3):
        brain.recall("tower", k=3)
        brain.recall_many(["river", "honey"], k=2)
        brain.think("How tall is the Eiffel Tower?")
        brain.get(ids[0])
        list(brain.list(limit=2))
        brain.neighbors(ids[0])
        with pytest.raises(braincore.NotFoundError):
            brain.get(999)
    assert brain.stats()["heap_results_bytes"] == 0


def test_threads_share_one_brain():
    with braincore.Brain() as b:
        errors = []

        def work(t):
            try:
                for i in range(100):
                    b.remember("thread %d memory %d about topic %d" % (t, i, i % 7))
                    b.recall("topic %d" % (i % 7), k=3)
            except Exception as e:        # pragma: no cover - reported below
                errors.append(e)
        threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [] and len(b) == 400


def test_close_is_idempotent_and_final():
    b = braincore.Brain()
    b.remember("x")
    b.close()
    b.close()
    assert b.closed and "closed" in repr(b)
    with pytest.raises(braincore.StateError):
        b.recall("x")
    with pytest.raises(braincore.StateError):
        len(b)

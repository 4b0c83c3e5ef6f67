"""braincore.Index: hnswlib's interface, checked against exact search in
numpy and against Debian's python3-hnswlib on the same data."""
import os

import numpy as np
import pytest

import braincore


def exact(space, data, queries, k):
    if space == "l2":
        d = ((queries[:, None, :] - data[None, :, :]) ** 2).sum(-1)
    else:
        a, q = data, queries
        if space == "cosine":
            a = a / np.linalg.norm(a, axis=1, keepdims=True)
            q = q / np.linalg.norm(q, axis=1, keepdims=True)
        d = 1.0 - q @ a.T
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return order, np.take_along_axis(d, order, axis=1)


def recall_at(labels, truth):
    return np.mean([len(set(a) & set(b)) / len(b) for a, b in zip(labels, truth)])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    return rng.standard_normal((2000, 32)).astype(np.float32), \
        rng.standard_normal((100, 32)).astype(np.float32)


@pytest.mark.parametrize("space", ["l2", "ip", "cosine"])
def test_matches_exact_search(space, data):
    base, queries = data
    p = braincore.Index(space=space, dim=32)
    p.init_index(max_elements=len(base), ef_construction=200, M=16)
    p.add_items(base)
    p.set_ef(200)
    labels, dist = p.knn_query(queries, k=10)
    assert labels.shape == (100, 10) and labels.dtype == np.uint64
    assert dist.shape == (100, 10) and dist.dtype == np.float32
    truth, tdist = exact(space, base.astype(np.float64), queries.astype(np.float64), 10)
    assert recall_at(labels, truth) >= 0.99
    # the distance of every label returned is its true distance
    _, every = exact(space, base.astype(np.float64), queries.astype(np.float64), len(base))
    order, _ = exact(space, base.astype(np.float64), queries.astype(np.float64), len(base))
    true = np.empty_like(every)
    np.put_along_axis(true, order, every, axis=1)      # true[i, label] = distance
    got = np.take_along_axis(true, labels.astype(np.int64), axis=1)
    assert np.allclose(dist, got, rtol=1e-4, atol=1e-4)
    # one thread gives what many threads give
    one, _ = p.knn_query(queries, k=10, num_threads=1)
    assert np.array_equal(one, labels)


def test_ids_updates_deletes_and_items():
    rng = np.random.default_rng(3)
    data = rng.standard_normal((50, 8)).astype(np.float32)
    p = braincore.Index("cosine", 8)
    p.init_index(100)
    p.add_items(data[:20])                         # ids 0..19
    p.add_items(data[20:30], ids=np.arange(500, 510))
    assert p.get_current_count() == 30 and p.element_count == 30
    assert sorted(p.get_ids_list()) == list(range(20)) + list(range(500, 510))
    items = p.get_items([0, 505])
    assert np.allclose(items[1], data[25] / np.linalg.norm(data[25]), atol=1e-6)
    p.add_items(data[40], ids=[3])                 # an id present: its vector is replaced
    assert p.get_current_count() == 30
    assert p.knn_query(data[40], k=1)[0][0, 0] == 3
    p.mark_deleted(3)
    assert 3 not in p.knn_query(data[40], k=5)[0][0]
    with pytest.raises(braincore.NotFoundError):
        p.mark_deleted(3)
    labels, _ = p.knn_query(data[:5], k=3, filter=lambda label: label >= 500)
    assert (labels >= 500).all()

    def broken(label):
        raise KeyError(label)
    with pytest.raises(KeyError):
        p.knn_query(data[:5], k=3, filter=broken)
    with pytest.raises(braincore.InvalidArgumentError):
        p.knn_query(data[:5], k=3, filter="label > 3")


def test_errors_like_hnswlib():
    p = braincore.Index("l2", 4)
    with pytest.raises(braincore.StateError):
        p.add_items(np.ones((1, 4)))
    p.init_index(2)
    with pytest.raises(braincore.VectorError):
        p.add_items(np.ones((3, 5)))
    with pytest.raises(braincore.InvalidArgumentError):
        p.add_items(np.ones((2, 4)), ids=[1])
    p.add_items(np.eye(4)[:2])
    with pytest.raises(braincore.CapacityError):
        p.add_items(np.eye(4)[2:3])
    with pytest.raises(ValueError, match="contiguous 2D array"):
        p.knn_query(np.ones(4), k=3)
    with pytest.raises(braincore.InvalidArgumentError):
        braincore.Index("manhattan", 4)
    p.resize_index(10)
    p.add_items(np.eye(4)[2:4])
    assert p.get_max_elements() == 10 and p.get_current_count() == 4


def test_save_load_round_trip(tmp_path, data):
    base, queries = data
    p = braincore.Index("cosine", 32)
    p.init_index(3000, M=12, ef_construction=100)
    p.add_items(base)
    p.set_ef(77)
    before = p.knn_query(queries, k=5)
    p.save_index(tmp_path / "i.bin")
    q = braincore.Index("cosine", 32)
    q.load_index(tmp_path / "i.bin")
    assert (q.M, q.ef_construction, q.ef, q.get_max_elements()) == (12, 100, 77, 3000)
    after = q.knn_query(queries, k=5)
    assert np.array_equal(before[0], after[0]) and np.allclose(before[1], after[1])
    with pytest.raises(braincore.InvalidArgumentError):
        braincore.Index("l2", 32).load_index(tmp_path / "i.bin")
    blob = (tmp_path / "i.bin").read_bytes()
    (tmp_path / "cut.bin").write_bytes(blob[: len(blob) * 2 // 3])
    with pytest.raises(braincore.StorageError):
        braincore.Index("cosine", 32).load_index(tmp_path / "cut.bin")
    (tmp_path / "junk.bin").write_bytes(b"hello")
    with pytest.raises(braincore.StorageError):
        braincore.Index("cosine", 32).load_index(tmp_path / "junk.bin")


@pytest.mark.parametrize("space", ["l2", "cosine"])
def test_same_neighbours_as_hnswlib(space):
    import hnswlib  # Debian python3-hnswlib (tools/run.sh test installs it): never skipped
    rng = np.random.default_rng(5)
    base = rng.standard_normal((5000, 32)).astype(np.float32)
    queries = rng.standard_normal((200, 32)).astype(np.float32)
    ours, theirs = braincore.Index(space, 32), hnswlib.Index(space=space, dim=32)
    for p in (ours, theirs):
        p.init_index(max_elements=len(base), ef_construction=200, M=16)
        p.add_items(base)
        p.set_ef(400)
    a, da = ours.knn_query(queries, k=10)
    b, db = theirs.knn_query(queries, k=10)
    same = np.mean([len(set(x) & set(y)) / 10 for x, y in zip(a, b)])
    assert same >= 0.99
    assert np.allclose(np.sort(da, 1)[:, 0], np.sort(db, 1)[:, 0], rtol=1e-4, atol=1e-4)


def test_reads_the_shared_index_file():
    """bindings/testdata/index-l2-8d.bin, which every binding reads."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testdata")
    rows = np.loadtxt(os.path.join(here, "index-l2-8d.vectors.txt"), dtype=np.float32)
    p = braincore.Index("l2", 8)
    p.load_index(os.path.join(here, "index-l2-8d.bin"))
    assert (p.get_max_elements(), p.M, p.ef_construction, p.ef) == (100, 8, 50, 33)
    assert p.get_current_count() == 50 and sorted(p.get_ids_list()) == list(range(1000, 1050))
    labels, dist = p.knn_query(rows[:3], k=3)
    assert labels.tolist() == [[1000, 1035, 1006], [1001, 1049, 1003], [1002, 1035, 1014]]
    assert np.allclose(dist[:, 0], 0) and np.array_equal(p.get_items([1049])[0], rows[49])


def test_default_labels_never_reuse_a_label(tmp_path):
    """hnswlib counts every element added: a default label after a deletion
    is a new one, never the label of a point still there."""
    v = np.eye(4, dtype=np.float32) + 0.1
    p = braincore.Index("l2", 4)
    p.init_index(10)
    p.add_items(v[:3])                    # labels 0, 1, 2
    p.mark_deleted(0)
    p.add_items(v[3])                     # label 3, not 2
    assert sorted(p.get_ids_list()) == [1, 2, 3]
    assert np.array_equal(p.get_items([2])[0], v[2])
    p.add_items(v[0], ids=[7])
    p.save_index(tmp_path / "i.bin")
    q = braincore.Index("l2", 4)
    q.load_index(tmp_path / "i.bin")
    q.add_items(v[1])                     # after the largest label held: 8
    assert sorted(q.get_ids_list()) == [1, 2, 3, 7, 8]
    with pytest.raises(braincore.InvalidArgumentError):
        q.knn_query(v[0], k=6)            # more than it holds: refused up front

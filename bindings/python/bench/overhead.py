#!/usr/bin/python3
"""Cost of the Python binding per call, and braincore.Index against hnswlib.

    BRAINCORE_LIBRARY=build/bench/libbraincore.so.0 \\
        /usr/bin/python3 bindings/python/bench/overhead.py [--n 100000] [--dim 128]

1. recall at 10,000 text memories: the Python call's latency (perf_counter)
   beside the C call's own, as the library measures it (stats
   recall_p50_ns: the same calls, timed inside the library).
2. knn_query of one vector, k = 10, on N random vectors (M 16,
   ef_construction 200, ef 64): the same two figures (search_p50_ns).
3. The same data through Debian's python3-hnswlib in the same run: build
   time, queries per second (one query a call and a batch on all cores)
   and recall@10 against exact search (numpy).
"""
import argparse
import os
import platform
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import braincore  # noqa: E402


def cpu():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def pct(values, p):
    return float(np.percentile(np.asarray(values, dtype=np.float64), p))


def timed(fn, args_list):
    out = []
    for args in args_list:
        t = time.perf_counter_ns()
        fn(*args)
        out.append(time.perf_counter_ns() - t)
    return out


def report(name, py_ns, c_p50_ns):
    p50 = pct(py_ns, 50)
    print("%-34s python p50 %7.1f us  p99 %7.1f us  max %7.1f us | C p50 %7.1f us | "
          "binding adds %5.1f us (%.2fx)" % (name, p50 / 1e3, pct(py_ns, 99) / 1e3,
                                             max(py_ns) / 1e3, c_p50_ns / 1e3,
                                             (p50 - c_p50_ns) / 1e3, p50 / max(c_p50_ns, 1)))


def words(rng, n):
    vocab = ("river mountain city garden music science history market ocean forest "
             "engine planet village doctor teacher summer winter letter window bridge "
             "language coffee kitchen train station island festival library museum").split()
    return [" ".join(rng.choice(vocab, size=9)) + " %d" % i for i in range(n)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=100000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--queries", type=int, default=1000)
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    print("CPU: %s, %d cores; libbraincore %s from %s" % (cpu(), os.cpu_count(),
                                                            braincore.library_version,
                                                            braincore.library_path))

    with braincore.Brain() as brain:
        brain.remember_many(words(rng, 10000))
        while brain.stats()["index_pending"]:      # the graph is built in the background
            time.sleep(0.05)
        queries = words(rng, a.queries)
        timed(lambda q: brain.recall(q, k=10), [(q,) for q in queries[:100]])  # warm
        before = brain.stats()["recall_count"]
        py = timed(lambda q: brain.recall(q, k=10), [(q,) for q in queries])
        s = brain.stats()
        assert s["recall_count"] == before + len(queries)
        report("Brain.recall, 10K memories, k=10", py, s["recall_p50_ns"])

    data = rng.standard_normal((a.n, a.dim)).astype(np.float32)
    qs = rng.standard_normal((a.queries, a.dim)).astype(np.float32)
    d2 = None
    truth = np.empty((a.queries, 10), dtype=np.int64)
    norms = (data.astype(np.float64) ** 2).sum(1)
    for lo in range(0, a.queries, 100):
        q = qs[lo:lo + 100].astype(np.float64)
        d2 = norms[None, :] - 2 * q @ data.T.astype(np.float64)
        truth[lo:lo + 100] = np.argsort(d2, axis=1)[:, :10]

    def recall10(labels):
        return np.mean([len(set(x) & set(y)) / 10 for x, y in zip(labels, truth)])

    import hnswlib
    rows = []
    for name, mod in (("braincore.Index", braincore), ("hnswlib.Index", hnswlib)):
        p = mod.Index(space="l2", dim=a.dim)
        p.init_index(max_elements=a.n, M=16, ef_construction=200)
        t = time.perf_counter()
        p.add_items(data)
        build = time.perf_counter() - t
        p.set_ef(64)
        p.knn_query(qs[:100], k=10, num_threads=1)
        single = timed(lambda q: p.knn_query(q, k=10, num_threads=1), [(q,) for q in qs])
        t = time.perf_counter()
        labels, _ = p.knn_query(qs, k=10)
        batch = time.perf_counter() - t
        rows.append((name, build, single, a.queries / batch, recall10(labels)))
        if mod is braincore:
            s = p.stats()
            report("Index.knn_query, %dK x %d, k=10" % (a.n // 1000, a.dim), single,
                   s["search_p50_ns"])
    print()
    print("%-16s %9s %16s %16s %14s %9s" % ("", "build s", "1 query p50 us", "1 query p99 us",
                                           "batch q/s", "recall@10"))
    for name, build, single, qps, rec in rows:
        print("%-16s %9.1f %16.1f %16.1f %14.0f %9.4f" % (name, build, pct(single, 50) / 1e3,
                                                        pct(single, 99) / 1e3, qps, rec))
    b, h = rows
    print("braincore/hnswlib: build time %.2fx, single-query p50 %.2fx, batch q/s %.2fx"
          % (b[1] / h[1], pct(b[2], 50) / pct(h[2], 50), b[3] / h[3]))


if __name__ == "__main__":
    main()

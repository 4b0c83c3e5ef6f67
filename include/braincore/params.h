/*
 * braincore/params.h - run-time parameters of a brain.
 *
 * Knobs that may change while a brain is in use are an enum plus
 * brain_set_param() / brain_get_param() / brain_param_bounds(), never struct
 * fields, so new knobs never change a struct. Values are int64_t; fractions
 * are given in thousandths ("per mille": 150 means 0.15). Parameters are
 * numbered in families with gaps, so each family can grow:
 *
 *     1..99     general
 *     100..199  recall and ranking
 *     200..299  think and working memory
 *     300..     index backends (per backend, added with the backend)
 *
 * Numbers are pinned forever.
 */
#ifndef BRAINCORE_PARAMS_H
#define BRAINCORE_PARAMS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The one list of parameters: X(NAME, number, min, max, default).
 * It generates enum brain_param and the bounds and defaults the library
 * enforces.
 *
 * RECALL_MIN_SCORE          recall returns only memories scoring above this (per mille).
 * RECALL_IMPORTANCE_WEIGHT  w in score = similarity * (1 + w * (importance - 0.5)), per mille.
 * THINK_MIN_SCORE           a think uses only memories scoring above this (per mille);
 *                           with none, the brain says it does not know. Default 250, or
 *                           300 for a brain whose built-in embedder has the semantic
 *                           lift (its scores are higher): calibrated per embedder
 *                           (docs/embedder.md); a model's brain: set it from your own
 *                           questions.
 * THINK_MAX_MEMORIES        most memories a think draws on.
 * THINK_CONTEXT_WEIGHT      weight of the previous exchange in the query of a follow-up
 *                           (per mille): an input that refers back ("when was it built?")
 *                           and finds nothing alone is asked again in that context.
 * WORKING_MEMORY_SIZE       exchanges kept in working memory; setting it lower forgets the
 *                           oldest, 0 keeps none (and so gives thinks no context).
 * THINK_RELATIVE_SCORE      a think uses only memories scoring at least this share of the
 *                           best one's score (per mille), so that a weak match does not
 *                           trail a strong one.
 * CONSOLIDATE_WORKING       1: each Circadian cycle (CIRCADIAN_MS) remembers the statements
 *                           brain_think was told since the last cycle, still in working
 *                           memory: each exchange's input (the user's words, not the
 *                           answer), once, importance 0.5, a logged remember (with
 *                           MERGE_SIMILAR a near-copy strengthens the memory there). A
 *                           statement is an input that, after trailing white space, is not
 *                           empty and does not end in a question mark ('?', U+FF1F or
 *                           U+061F): questions are not facts. Exchanges working memory let
 *                           go before the cycle (WORKING_MEMORY_SIZE) are not remembered.
 *                           One refused for a passing reason (BRAIN_ENOMEM, _EIO, _ENOSPC,
 *                           _EFULL: the budget) is tried again at the next cycle, one
 *                           refused otherwise (an embedder's error) is let go; the log says
 *                           so (WARN, once a cycle). Not on a read-only brain. 0 (the
 *                           default): nothing enters long-term memory unless remembered.
 * SYNC_INTERVAL_MS          BRAIN_SYNC_NORMAL: longest time, in milliseconds, between a
 *                           change and the fsync that makes it durable.
 * THREADS                   worker threads for batch builds (brain_add_batch into an HNSW
 *                           index) and batch searches (brain_search_batch); 0 = one per
 *                           core.
 * HNSW_M                    links per node and layer of the HNSW graph (twice that on the
 *                           bottom layer). Read when the graph is created: set it before the
 *                           first vector is added.
 * HNSW_EF_CONSTRUCTION      candidates kept while inserting; higher builds slower and finds
 *                           better links. Read when the graph is created.
 * HNSW_EF_SEARCH            candidates kept while searching (at least k are); higher is
 *                           slower and more exact. Any time.
 * HNSW_SQ8                  1: keep an 8-bit copy of every vector beside its links and
 *                           walk the graph on those (a quarter of the memory traffic),
 *                           then rerank the candidates on the float vectors; costs one
 *                           byte per dimension per vector. The 8-bit range is learned
 *                           from the vectors present when the graph starts (and again
 *                           when a batch at least doubles the index). Read when the
 *                           first vector is added.
 * HNSW_SEED                 seed of the graph's levels: a node's level is a function of
 *                           the seed and its slot, so single-threaded builds of the same
 *                           adds are identical. Read when the graph is created.
 * HNSW_EXACT_BELOW          an HNSW index holding fewer vectors than this is searched
 *                           exactly and starts its graph only when it passes this size
 *                           (BRAIN_INDEX_AUTO: 2000; BRAIN_INDEX_HNSW: 0). Where a scan
 *                           costs what a walk of the graph costs, so that recall has no
 *                           step there: the graph (ef 64) searches faster from about
 *                           2,700 vectors at 100-d, 2,000 at 384-d and 520 at 784-d
 *                           (bench_ann --crossover, bench_grow). The graph is built in
 *                           the background (INDEX_TAIL_MAX), so a remember does not pay
 *                           for it.
 *                           Saved with the graph: a brain opened again (AUTO or
 *                           BRAIN_OPEN_STORED_OPTIONS) takes back the value it had at
 *                           its last checkpoint, and HNSW_M, _EF_CONSTRUCTION, _SQ8 and
 *                           _SEED report the graph it has; opening with
 *                           BRAIN_INDEX_HNSW sets it to 0 again. Other parameters start
 *                           at their defaults on every open.
 * HNSW_ELEMENT              how the HNSW index stores each component: 0 a float; 1 a uint8,
 *                           2 an int8 (a quarter of the memory and of the bytes a search
 *                           reads); 3 quantised: any floats, kept as an int8 per component
 *                           and one float scale per vector (cosine and IP only). With 1 or
 *                           2 every component added must be an integer in 0..255 or
 *                           -128..127 (else BRAIN_EINVAL, nothing added): for pixels, SIFT
 *                           descriptors, int8 embeddings; distances are those of the same
 *                           integers stored as floats, bit for bit; metric L2 or IP only.
 *                           With 1 under L2, a query whose components are all integers
 *                           in 0..255 is searched with integer arithmetic (faster; the
 *                           same distances returned).
 *                           With 3 each component is kept to within 1/254 of the vector's
 *                           largest (under cosine about 1.5/254, as the vector is kept unit
 *                           length), brain_get_vector
 *                           returns what is kept, and recall on text is unchanged
 *                           (docs/embedder.md). -1 (the default): 3 for a text brain
 *                           (embedder option BRAIN_EMBEDDER_BUILTIN, cosine or IP, its
 *                           first memory a text, whichever embedder made the vector),
 *                           else 0 (a brain whose first memory is a vector, or with
 *                           HNSW_SQ8). Not with HNSW_SQ8. Read when
 *                           the first vector is added; saved with the graph (a reopened
 *                           brain reports the element its index holds).
 * TICK_MS                   the Heart's beat for this brain, in milliseconds (an on-disk
 *                           brain opened for writing; in NORMAL sync it beats at least
 *                           every SYNC_INTERVAL_MS): a beat fsyncs in NORMAL mode and
 *                           starts a checkpoint when one is due (brain_tick() beats by
 *                           hand).
 * CHECKPOINT_WAL_BYTES      an on-disk brain checkpoints in the background when its
 *                           write-ahead log passes this size and a quarter of the last
 *                           checkpoint's size (so rewriting a big brain stays rare);
 *                           0 = only at brain_close() and brain_checkpoint().
 * INDEX_TAIL_MAX            most vectors an HNSW index holds that are not yet in its graph
 *                           (its "tail"). remember and add store a vector and return; the
 *                           graph takes it in later, on the brain's background threads (or
 *                           at brain_tick()), and meanwhile every search finds it by an
 *                           exact scan of the tail. Once the tail holds this many, an add
 *                           puts its own vector into the graph before it returns (it waits
 *                           for a graph insert, as every add did before). Higher absorbs
 *                           longer bursts of writes; each search pays a scan of the tail
 *                           (about 1 ms per 10,000 384-d vectors). 0: every add inserts
 *                           into the graph itself. brain_add_batch always builds its
 *                           graph before it returns (on THREADS threads).
 * INGEST_QUEUE              most writes brain_remember_async and brain_add_async hold
 *                           queued (the Stomach) before they are made.
 * INGEST_WAIT_MS            how long an async write waits for room in a full queue
 *                           before it fails with BRAIN_EFULL (0: fails at once).
 * MEMORY_BUDGET             bytes of heap the brain may hold (0: no budget). At 80% the
 *                           pressure is elevated, at 95% critical (brain_health_json,
 *                           brain_get_stats, the log); at 100% remember, add, add_batch and
 *                           update_vector fail with BRAIN_EFULL and change nothing, unless
 *                           forgotten memories left room they reuse (forgetting frees a
 *                           memory's room for the next; compaction, COMPACT_FREE, gives the
 *                           heap back later), or the budget is raised. Never a crash, never
 *                           a memory dropped; the log replayed on open is never refused.
 * CIRCADIAN_MS              the Circadian's cycle: at most this often (on a beat of the Heart,
 *                           or at brain_tick()), the brain consolidates working memory if
 *                           CONSOLIDATE_WORKING asks, then forgets what FORGET_OVER and
 *                           FORGET_ON_PRESSURE ask for, then asks for compaction if
 *                           COMPACT_FREE finds it due. 0: at every beat.
 * FORGET_OVER               most memories the brain keeps (0: no limit, the default): a cycle
 *                           finding more forgets the least valuable (lowest importance,
 *                           decayed by DECAY_HALF_LIFE_H; then the longest unused), up to
 *                           1024 a cycle, each a logged forget (the log callback says how
 *                           many). Never by default: nothing is forgotten unless asked.
 * FORGET_ON_PRESSURE        1: at critical memory pressure (MEMORY_BUDGET), a cycle forgets
 *                           the least valuable 1% of the memories (at least one), once per
 *                           growth: again only after new memories came in (a forgotten
 *                           memory's room is reused by the next; the heap shrinks only once
 *                           COMPACT_FREE finds enough of it free).
 *                           0 (the default): a brain at its budget refuses writes, except
 *                           into the room forgotten memories left.
 * MERGE_SIMILAR             a remembered text whose nearest memory with text is at least this
 *                           similar (per mille, cosine for the built-in embedder) strengthens
 *                           that memory instead of being stored again: its importance becomes
 *                           m + (1 - m) / 4, m the higher of the two, and it counts as just
 *                           used; remember returns its id (a logged change, STRENGTHEN). The
 *                           nearest is found by the index as a recall would. 0 (the default):
 *                           every remember stores a memory.
 * COMPACT_FREE              compaction: when at least this share (per mille) of the slots the
 *                           store has used are free (forgotten memories' slots, reused by
 *                           new ones first) and at least 64 are, a Circadian cycle has the
 *                           background work (or brain_tick()) move the memories of the last
 *                           slots into the free ones below, a few at a time under the write
 *                           lock (at most 0.25 ms a hold and a sixteenth of the memories between
 *                           two builds of the tail; readers go between), and hand back
 *                           the memory of the slots freed at the end: records and the index's
 *                           rows (a backend of index vtable version 7; whole chunks), and at
 *                           the next checkpoint their room on disk. Ids, texts, vectors and
 *                           answers stay as they were; an HNSW graph takes each moved vector
 *                           in again (through its tail) and drops the old node, repairing its
 *                           neighbours' links. 0: never.
 * BACKGROUND_NICE           how much lower than the caller's the priority of the threads that
 *                           build the HNSW graph in the background (the tail) is: their nice
 *                           value is raised by this much, to 19 at most (Linux). 10 by
 *                           default, so that the process's own searches and writes come
 *                           first and the graph is built with what the cores leave (a tail
 *                           that outgrows INDEX_TAIL_MAX makes adds insert their own
 *                           vectors). 0: the caller's priority, for the fastest build on a
 *                           machine with nothing else to do. A nice value once raised
 *                           cannot come down without privilege, so these are threads of
 *                           their own, made for each batch. A change that waits for an
 *                           insert under way (a forget, a compaction's move) waits for one
 *                           at that priority. Elsewhere than Linux (where the value is the
 *                           process's) it is not used.
 * WATCHDOG_MS               a background job of this brain (its writes made, its graph built,
 *                           its checkpoint) that runs this long is a stall: reported through
 *                           the log (WARN) and brain_health_json ("watchdog"), and a spare
 *                           worker thread starts (once per process) so that other brains'
 *                           work goes on. 0: not watched.
 * HYBRID_KEYWORD_WEIGHT     a hybrid recall (BRAIN_HYBRID) fuses the keyword and the semantic
 *                           ranks by reciprocal rank fusion: score = w / (60 + keyword rank)
 *                           + (1 - w) / (60 + semantic rank), w this, per mille (500: equal).
 * DECAY_HALF_LIFE_H         importance decays while a memory goes unused: a recall ranks by
 *                           importance * 2^(-hours since it was made or last recalled / this),
 *                           and FORGET_OVER chooses by it. 0 (the default): no decay.
 */
#define BRAIN_PARAM_LIST(X)                                                        \
	X(SYNC_INTERVAL_MS, 10, 1, 60000, 100)                                         \
	X(CHECKPOINT_WAL_BYTES, 11, 0, INT64_C(1) << 40, INT64_C(64) << 20)            \
	X(THREADS, 12, 0, 1024, 0)                                                     \
	X(TICK_MS, 13, 1, 60000, 100)                                                  \
	X(INDEX_TAIL_MAX, 14, 0, UINT32_MAX, 65536)                                    \
	X(INGEST_QUEUE, 15, 1, 1 << 20, 4096)                                          \
	X(INGEST_WAIT_MS, 16, 0, 3600000, 1000)                                        \
	X(MEMORY_BUDGET, 17, 0, INT64_C(1) << 50, 0)                                   \
	X(CIRCADIAN_MS, 18, 0, 86400000, 60000)                                        \
	X(FORGET_OVER, 19, 0, INT64_C(1) << 40, 0)                                     \
	X(FORGET_ON_PRESSURE, 20, 0, 1, 0)                                             \
	X(MERGE_SIMILAR, 21, 0, 1000, 0)                                               \
	X(WATCHDOG_MS, 22, 0, 3600000, 5000)                                           \
	X(COMPACT_FREE, 23, 0, 1000, 250)                                              \
	X(BACKGROUND_NICE, 24, 0, 19, 10)                                              \
	X(DECAY_HALF_LIFE_H, 102, 0, 1000000, 0)                                       \
	X(HYBRID_KEYWORD_WEIGHT, 103, 0, 1000, 500)                                    \
	X(HNSW_M, 300, 2, 100, 16)                                                     \
	X(HNSW_EF_CONSTRUCTION, 301, 1, 8192, 200)                                     \
	X(HNSW_EF_SEARCH, 302, 1, 65536, 64)                                           \
	X(HNSW_SQ8, 303, 0, 1, 0)                                                      \
	X(HNSW_SEED, 304, 0, INT64_MAX, 42)                                            \
	X(HNSW_EXACT_BELOW, 305, 0, UINT32_MAX, 2000)                                 \
	X(HNSW_ELEMENT, 306, -1, 3, -1)                                                \
	X(RECALL_MIN_SCORE, 100, -1000, 1000, 0)                                       \
	X(RECALL_IMPORTANCE_WEIGHT, 101, 0, 1000, 200)                                 \
	X(THINK_MIN_SCORE, 200, -1000, 1000, 250)                                      \
	X(THINK_MAX_MEMORIES, 201, 1, 64, 3)                                           \
	X(THINK_CONTEXT_WEIGHT, 202, 0, 1000, 500)                                     \
	X(WORKING_MEMORY_SIZE, 203, 0, 1024, 8)                                        \
	X(THINK_RELATIVE_SCORE, 204, 0, 1000, 500)                                     \
	X(CONSOLIDATE_WORKING, 205, 0, 1, 0)

/** Parameters. Pinned: numbers never change. */
enum brain_param {
#define BRAIN__PARAM_ENUM(name, number, min, max, def) BRAIN_PARAM_##name = number,
	BRAIN_PARAM_LIST(BRAIN__PARAM_ENUM)
#undef BRAIN__PARAM_ENUM
	BRAIN__PARAM_LIST_END = 0 /* not a parameter */
};

/**
 * Set a parameter of brain b. Takes effect for calls that start after it
 * returns. Returns 0 or: BRAIN_ENULL, BRAIN_EPARAM (unknown parameter),
 * BRAIN_ERANGE (value outside brain_param_bounds(); the message gives the
 * bounds). Thread-safe.
 */
int brain_set_param(brain_t *b, int param, int64_t value);

/**
 * Read a parameter into *value. Returns 0, BRAIN_ENULL or BRAIN_EPARAM.
 * Thread-safe: one brain serves many threads (docs/threading.md).
 */
int brain_get_param(const brain_t *b, int param, int64_t *value);

/**
 * Bounds (inclusive) and default of a parameter; any of min, max, def may be
 * NULL. Returns 0 or BRAIN_EPARAM. Thread-safe; needs no brain.
 */
int brain_param_bounds(int param, int64_t *min, int64_t *max, int64_t *def);

/**
 * Name of a parameter without the prefix ("THINK_MIN_SCORE"), or NULL if
 * unknown. Static string.
 * Returns a static string or NULL. Thread-safe.
 */
const char *brain_param_name(int param);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_PARAMS_H */

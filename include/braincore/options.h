/*
 * braincore/options.h - options for opening a brain.
 *
 * brain_options is versioned: it starts with `unsigned int version`, fields
 * are only ever appended, and brain_options_init() fills every field of the
 * version the caller asks for with its default. A program built against an
 * older header keeps working with a newer library, which reads only the
 * fields that version had.
 */
#ifndef BRAINCORE_OPTIONS_H
#define BRAINCORE_OPTIONS_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Distance between vectors. Smaller is closer for every metric. The default
 * (cosine) is 0, like every default of brain_options: a zeroed struct with
 * its version set means "all defaults".
 */
enum brain_metric {
	/**
	 * 1 - cosine similarity, in [0, 2]. Vectors are stored normalised to
	 * unit length, so a zero vector is rejected (BRAIN_EZEROVEC).
	 */
	BRAIN_METRIC_COSINE = 0,
	/** Squared Euclidean distance. */
	BRAIN_METRIC_L2 = 1,
	/** 1 - inner product. Vectors are stored as given. */
	BRAIN_METRIC_IP = 2
};

/** Index backend. */
enum brain_index_kind {
	/**
	 * Let the brain choose by size: exact search while the brain holds
	 * fewer than BRAIN_PARAM_HNSW_EXACT_BELOW vectors (default 2000: at
	 * about 2000 384-d vectors a scan costs what a walk of the graph
	 * does), then an HNSW graph, built in the background from when the
	 * brain passes that size (searches scan what is not yet in it). Reopening an existing brain with AUTO accepts the index it was
	 * made with, and the threshold its graph was saved with (so a brain
	 * made with BRAIN_INDEX_HNSW goes on searching its graph).
	 */
	BRAIN_INDEX_AUTO = 0,
	/** Exact search over every vector: slow for millions, never wrong. */
	BRAIN_INDEX_FLAT = 1,
	/**
	 * HNSW graph (approximate) from the first vector on; recall and speed
	 * are set with the BRAIN_PARAM_HNSW_* parameters.
	 */
	BRAIN_INDEX_HNSW = 2
};

/** How text becomes a vector. */
enum brain_embedder_kind {
	/**
	 * The built-in embedder: signed feature hashing of word unigrams and
	 * bigrams and character 3- to 5-grams, weighted by inverse document
	 * frequency learned from the brain's own memories, L2-normalised.
	 * Deterministic, no dependencies, works for any dimension.
	 */
	BRAIN_EMBEDDER_BUILTIN = 0,
	/**
	 * None: the brain holds vectors the application computes. Text calls
	 * need a vector from the caller or an embedder installed with
	 * brain_set_embedder(); otherwise they fail with BRAIN_ENOEMBEDDER.
	 */
	BRAIN_EMBEDDER_NONE = 1,
	/**
	 * A BERT-family sentence encoder (all-MiniLM-L6-v2, bge-small, e5-small,
	 * gte-small shapes) run by braincore's own transformer runtime, from
	 * the user's model at brain_options.model_path: a GGUF file as
	 * llama.cpp writes BERT models, or a directory with config.json,
	 * model.safetensors and vocab.txt or tokenizer.json (docs/embedder.md).
	 * The brain's dimensions are the model's (set `dimensions` to 0 or to
	 * that size). The model's fingerprint is kept in the brain: a brain
	 * embedded with one model refuses to open with another.
	 */
	BRAIN_EMBEDDER_MODEL = 2
};

/**
 * When a change to an on-disk brain counts as done (brain_options.sync).
 * See docs/durability.md for the exact promise of each mode.
 */
enum brain_sync {
	/**
	 * Every call that changes the brain returns only after the change is
	 * on stable storage (its write-ahead log record is fsynced). Several
	 * threads writing at once share one fsync (group commit). A crash,
	 * kill -9 or power loss never loses an acknowledged change.
	 */
	BRAIN_SYNC_FULL = 0,
	/**
	 * Changes are written to the log at once (a process crash or kill -9
	 * loses nothing) and fsynced by a background thread within
	 * BRAIN_PARAM_SYNC_INTERVAL_MS (default 100 ms): a power loss or OS
	 * crash may lose the changes of that last interval, never more, and
	 * never leaves a damaged brain.
	 */
	BRAIN_SYNC_NORMAL = 1,
	/**
	 * The log is written but fsynced only by checkpoints, brain_sync() and
	 * brain_close(). A process crash loses nothing; a power loss may lose
	 * everything since the last of those, but the brain still opens.
	 */
	BRAIN_SYNC_OFF = 2
};

/**
 * Who does an on-disk brain's periodic work (the NORMAL fsync, background
 * checkpoints): brain_options.background.
 */
enum brain_background {
	/** The Heart: one clock thread, one worker thread and one syncer
	 *  thread (NORMAL's fsyncs) for the whole process, shared by every
	 *  such brain, started by the first and stopped by the last
	 *  (docs/threading.md). */
	BRAIN_BACKGROUND_THREADS = 0,
	/** No thread: brain_tick() does it on the caller's thread (hosts
	 *  without threads, deterministic tests). Until then a NORMAL brain's
	 *  changes wait for their fsync, and no checkpoint starts by itself. */
	BRAIN_BACKGROUND_MANUAL = 1
};

/** Flags of brain_options.flags (bits). */
enum brain_open_flag {
	/**
	 * Open an existing on-disk brain for reading only. Many processes may
	 * do so while one other process writes; each sees the brain as it was
	 * when it opened. Changes fail with BRAIN_EREADONLY.
	 */
	BRAIN_OPEN_READONLY = 1u << 0,
	/** Fail with BRAIN_ENOTFOUND instead of creating a new brain. */
	BRAIN_OPEN_NOCREATE = 1u << 1,
	/**
	 * Take dimensions, metric, embedder and index from the brain on disk
	 * instead of checking the options' values against them (for tools that
	 * open any brain). Needs an existing brain: implies NOCREATE.
	 */
	BRAIN_OPEN_STORED_OPTIONS = 1u << 2
};

struct brain_io;

/** Current version of brain_options; pass it to brain_options_init(). */
#define BRAIN_OPTIONS_VERSION 4

/** Default and limits of the options, also enforced by brain_open(). */
#define BRAIN_DEFAULT_DIMENSIONS 384
#define BRAIN_MAX_DIMENSIONS 65536
#define BRAIN_DEFAULT_MAX_TEXT_BYTES 65536
#define BRAIN_MAX_TEXT_BYTES_LIMIT (64u * 1024u * 1024u)
/** Largest number of memories one brain can hold (slots are 32-bit). */
#define BRAIN_MAX_MEMORIES_LIMIT 4294967294ull

/**
 * Options for brain_open(). Initialise with brain_options_init(), then set
 * the fields you care about. Zero in any field but `version` means "the
 * default".
 */
typedef struct brain_options {
	/** BRAIN_OPTIONS_VERSION of the header the caller was built with. */
	unsigned int version;
	/** Vector dimensions, 1..BRAIN_MAX_DIMENSIONS; 0 = 384. */
	uint32_t dimensions;
	/** enum brain_metric; default BRAIN_METRIC_COSINE. */
	int metric;
	/** enum brain_index_kind; default BRAIN_INDEX_AUTO. */
	int index;
	/** enum brain_embedder_kind; default BRAIN_EMBEDDER_BUILTIN. */
	int embedder;
	/**
	 * Longest text accepted, in bytes, 1..BRAIN_MAX_TEXT_BYTES_LIMIT;
	 * 0 = 65536. Longer text is refused with BRAIN_ETOOLONG, never cut.
	 */
	uint32_t max_text_bytes;
	/**
	 * Most memories the brain may hold, 1..BRAIN_MAX_MEMORIES_LIMIT;
	 * 0 = the limit. Adding beyond it fails with BRAIN_EFULL.
	 */
	uint64_t max_memories;
	/**
	 * Name of a registered index backend (braincore/sys/index.h) to use
	 * instead of `index`; NULL = choose by `index`. Read during
	 * brain_open() only. Unknown names fail with BRAIN_EINVAL.
	 */
	const char *index_name;

	/* ---- version 2 ---- */

	/** enum brain_sync, for on-disk brains; default BRAIN_SYNC_FULL. */
	int sync;
	/** enum brain_open_flag bits; default 0 (read-write, create if missing). */
	unsigned int flags;
	/**
	 * The io layer of an on-disk brain (braincore/sys/io.h); NULL =
	 * brain_io_posix(). Must stay valid until the brain is closed.
	 */
	const struct brain_io *io;

	/* ---- version 3 ---- */

	/** enum brain_background; default BRAIN_BACKGROUND_THREADS. */
	int background;

	/* ---- version 4 ---- */

	/**
	 * The model of BRAIN_EMBEDDER_MODEL: a .gguf file or a directory of a
	 * Hugging Face model (config.json, model.safetensors, vocab.txt or
	 * tokenizer.json). Read during brain_open() only; the model is mapped
	 * once per process and shared by every brain that uses it. Must be
	 * NULL for the other embedders.
	 */
	const char *model_path;
} brain_options;

/**
 * Fill `opts` with the defaults of struct version `version` (normally
 * BRAIN_OPTIONS_VERSION). Returns 0, BRAIN_ENULL if opts is NULL, or
 * BRAIN_EVERSION if this library does not know that version (a header newer
 * than the library).
 * Thread-safe (touches only *o).
 */
int brain_options_init(brain_options *opts, unsigned int version);

/**
 * The short name of a metric (enum brain_metric). Returns "cosine", "l2"
 * or "ip", and "unknown" for any other value (never NULL; a static
 * string). Thread-safe.
 */
const char *brain_metric_name(int metric);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_OPTIONS_H */

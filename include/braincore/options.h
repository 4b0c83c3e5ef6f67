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
	/** Let the brain choose by size (today always exact search). */
	BRAIN_INDEX_AUTO = 0,
	/** Exact search over every vector: slow for millions, never wrong. */
	BRAIN_INDEX_FLAT = 1
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
	BRAIN_EMBEDDER_NONE = 1
};

/** Current version of brain_options; pass it to brain_options_init(). */
#define BRAIN_OPTIONS_VERSION 1

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
} brain_options;

/**
 * Fill `opts` with the defaults of struct version `version` (normally
 * BRAIN_OPTIONS_VERSION). Returns 0, BRAIN_ENULL if opts is NULL, or
 * BRAIN_EVERSION if this library does not know that version (a header newer
 * than the library).
 */
int brain_options_init(brain_options *opts, unsigned int version);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_OPTIONS_H */

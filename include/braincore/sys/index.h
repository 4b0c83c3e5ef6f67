/*
 * braincore/sys/index.h - the index backend interface.
 *
 * An index backend stores vectors under small integer slots and finds the
 * nearest ones. The brain owns ids, records and slot numbers; a backend sees
 * only slots and vectors. Backends built into the library: "flat" (exact).
 * Applications may register their own with brain_index_register() and
 * choose it with brain_options.index_name.
 *
 * Stability: this is a "sys" interface with a weaker promise than the rest
 * of the API, like libgit2's git2/sys: the struct is versioned and only ever
 * grows at the end (as SQLite's VFS does), but a new major version of the
 * library may change it.
 */
#ifndef BRAINCORE_SYS_INDEX_H
#define BRAINCORE_SYS_INDEX_H

#include "../common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Current version of brain_index_vtable and brain_index_config.
 *  Version 2 added save() and load(); a version 1 vtable still registers
 *  (its vectors are saved by the brain and added back on open). Version 3
 *  added add_batch() and, in the config, the parameter callback. */
#define BRAIN_INDEX_VTABLE_VERSION 3

/** A backend's instance; its layout is the backend's own. */
typedef struct brain_index brain_index;

/** Capability flags of a backend. */
enum brain_index_capability {
	/** search() returns the exact k nearest (otherwise approximate). */
	BRAIN_INDEX_CAP_EXACT = 1u << 0,
	/** search() honours a filter: it returns only accepted slots and
	 *  still up to k of them. */
	BRAIN_INDEX_CAP_FILTER = 1u << 1
};

/** How the brain opens a backend. */
typedef struct brain_index_config {
	unsigned int version;  /**< BRAIN_INDEX_VTABLE_VERSION */
	uint32_t dimensions;   /**< floats per vector, >= 1 */
	int metric;            /**< enum brain_metric. For BRAIN_METRIC_COSINE the brain
	                            passes unit vectors and the backend computes
	                            1 - dot product. */
	uint32_t max_slots;    /**< slots are < max_slots */

	/* ---- version 3 ---- */

	/** The brain's current value of a parameter (enum brain_param, e.g.
	 *  BRAIN_PARAM_HNSW_EF_SEARCH); callable from any thread at any time
	 *  while the index lives. NULL: use the defaults
	 *  (brain_param_bounds()). */
	int64_t (*param)(void *payload, int param);
	void *param_payload;
} brain_index_config;

/** A predicate over slots: nonzero means the slot may be returned. */
typedef struct brain_index_filter {
	int (*accept)(uint32_t slot, void *payload);
	void *payload;
} brain_index_filter;

/** Where save() writes its bytes, in order. */
typedef struct brain_index_writer {
	/** Take len bytes; returns 0 or a negative BRAIN_E* code, which save()
	 *  must return. */
	int (*write)(void *payload, const void *data, size_t len);
	void *payload;
} brain_index_writer;

/**
 * The backend interface. The brain serialises calls that change the index
 * (reserve, add, remove) and may run search, get and memory_usage from
 * many threads at once, never concurrently with a change. Every function
 * returns 0 or a negative BRAIN_E* code and may set the thread's error
 * message; none may print.
 */
typedef struct brain_index_vtable {
	unsigned int version;   /**< BRAIN_INDEX_VTABLE_VERSION */
	const char *name;       /**< short, stable, unique ("flat") */
	unsigned int capabilities; /**< enum brain_index_capability flags */

	/** Create an empty index. */
	int (*open)(const brain_index_config *config, brain_index **out);
	/** Make room so that adds to slots below `slots` cannot fail for lack
	 *  of memory (the brain calls it before all-or-nothing batches).
	 *  Slots at or above max_slots are ignored. */
	int (*reserve)(brain_index *index, uint32_t slots);
	/** Store `vector` under `slot`, which is free (never added, or removed). */
	int (*add)(brain_index *index, uint32_t slot, const float *vector);
	/** Remove the vector of an occupied `slot`; the slot becomes free. A
	 *  free slot is BRAIN_ENOTFOUND. */
	int (*remove)(brain_index *index, uint32_t slot);
	/** Copy the vector of an occupied `slot` into `vector`. A free slot
	 *  is an error (BRAIN_ENOTFOUND): brain_check() relies on it to find
	 *  records and index that disagree. */
	int (*get)(const brain_index *index, uint32_t slot, float *vector);
	/** Up to k nearest occupied slots accepted by `filter` (NULL: all),
	 *  nearest first, ties by smaller slot; *found gets the number.
	 *  `slots` and `distances` need room for min(k, vectors held);
	 *  nothing beyond *found is written. A NaN distance (only possible
	 *  from overflowing inputs) ranks last. */
	int (*search)(const brain_index *index, const float *query, size_t k,
	              const brain_index_filter *filter, uint32_t *slots, float *distances,
	              size_t *found);
	/** Bytes of memory the index holds. */
	size_t (*memory_usage)(const brain_index *index);
	/** Release the index. NULL is a no-op. */
	void (*close)(brain_index *index);

	/* ---- version 2 ---- */

	/** Write the whole index to `w` in the form load() uses in place (for
	 *  checkpoints, snapshots and backups). Runs concurrently with search
	 *  and get, never with a change. NULL: the brain saves the vectors
	 *  itself and rebuilds the index with add() on open. */
	int (*save)(const brain_index *index, const brain_index_writer *w);
	/** Make an index over `len` bytes that save() wrote, at a 4096-byte
	 *  aligned address. The bytes stay valid until close() and are the
	 *  brain's private copy-on-write mapping of a checkpoint: the backend
	 *  may read and write them in place (the file never changes) and must
	 *  not free them. They may be damaged: check every size and offset
	 *  against len (BRAIN_ECORRUPT), never read outside. Their checksums
	 *  are verified by the brain before it calls search, get, add or
	 *  remove, not before load. NULL together with save. */
	int (*load)(const brain_index_config *config, void *data, size_t len, brain_index **out);

	/* ---- version 3 ---- */

	/** Store n vectors under n free, distinct slots (reserved before), as
	 *  add() would one by one, possibly on several threads. All or nothing:
	 *  on error none of them is stored. NULL: the brain calls add(). */
	int (*add_batch)(brain_index *index, const uint32_t *slots, const float *vectors, size_t n);
} brain_index_vtable;

/**
 * Register a backend for this process, by its name (1 to 63 bytes: names
 * are written into files). The vtable must stay valid for the life of the
 * process; up to 16 backends can be registered. Returns 0 or: BRAIN_ENULL
 * (vt, a function or the name is NULL; save and load may both be NULL, and
 * add_batch may be NULL), BRAIN_EINVAL (name empty or over 63 bytes, or
 * only one of save and load given), BRAIN_EVERSION (vt->version not 1..3), BRAIN_EEXISTS (the name
 * is taken), BRAIN_EFULL (16 already registered). Thread-safe.
 */
int brain_index_register(const brain_index_vtable *vt);

/**
 * The registered backend called `name`, or NULL. Thread-safe. Returns NULL
 * when no backend has that name.
 */
const brain_index_vtable *brain_index_find(const char *name);

#ifdef __cplusplus
}
#endif

#endif /* BRAINCORE_SYS_INDEX_H */

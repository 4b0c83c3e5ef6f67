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
 *  added add_batch() and, in the config, the parameter callback. Version 4
 *  added info() and search_planned(): the brain's Thalamus plans every
 *  search (exact or not, how wide) and the backend carries the plan out.
 *  Backends of versions 1 to 3 still register and are searched with
 *  search(). Version 4 also lets a backend keep files of its own in the
 *  brain directory and write at a checkpoint only what changed (flush(),
 *  open_files(), retire()). Version 5 added build(): a backend may store
 *  a vector at add() and put it into its structure (a graph) later, in
 *  the background, searching the vectors not yet in it exactly meanwhile;
 *  and brain_index_info.pending. Version 6 added rebuild(): an index
 *  whose saved form is damaged is opened from its stored vectors, and
 *  what derives from them (a graph) is built again; and freeze(),
 *  flush_frozen() and thaw(): a checkpoint during which changes go on.
 *  Version 7 added shrink(): the memory of free slots at the end is
 *  handed back once the brain has compacted its memories below them; and
 *  release(): the mappings of files a checkpoint replaced are let go.
 *  Version 8 added distances(): the distances to many held slots at
 *  once, for a filtered search over the slots that pass (the backend
 *  fetches rows ahead and uses its own kernel). Version 9 added
 *  add_batch_rows(): a batch whose rows the backend asks for one at a
 *  time, so that adding a million rows needs no prepared copy of them
 *  all. */
#define BRAIN_INDEX_VTABLE_VERSION 9

/** The brain checks a saved index (the bytes save() or flush() wrote into
 *  a checkpoint) in blocks of this many bytes, counted from its first
 *  byte, each under its own checksum. A backend that keeps its stored
 *  vectors apart from what derives from them, starting at a multiple of
 *  this, lets rebuild() find them whole when only the rest is damaged. */
#define BRAIN_INDEX_CHECK_BLOCK 65536u

/** Checks bytes [off, off + len) of a saved index against their
 *  checksums: 0, or BRAIN_ECORRUPT naming the file and offset. */
typedef int (*brain_index_verify_fn)(void *ctx, size_t off, size_t len);

/** Writes the prepared vector of a batch's row i (dim floats) into out
 *  (version 9, add_batch_rows()). */
typedef void (*brain_index_row_fn)(void *ctx, size_t i, float *out);

/** A backend's instance; its layout is the backend's own. */
typedef struct brain_index brain_index;

/** Capability flags of a backend. */
enum brain_index_capability {
	/** search() returns the exact k nearest (otherwise approximate). */
	BRAIN_INDEX_CAP_EXACT = 1u << 0,
	/** search() honours a filter: it returns only accepted slots and
	 *  still up to k of them. */
	BRAIN_INDEX_CAP_FILTER = 1u << 1,
	/** (version 4) search_planned() can scan exactly when the plan says
	 *  so, and takes the plan's effort, even if its own structure is
	 *  approximate. */
	BRAIN_INDEX_CAP_PLANNED = 1u << 2
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

/** What a backend says about itself (version 4, info()). */
typedef struct brain_index_info {
	/** Vectors held. */
	uint64_t count;
	/** 1 while a search that is not asked to be exact may miss (an
	 *  approximate structure, such as a graph, is in use); 0 while every
	 *  search is exact. */
	int approximate;
	/** The parameters the index was built with (enum brain_param and its
	 *  value), which a reopened brain reports instead of its defaults;
	 *  nbuilt of them. */
	struct {
		int param;
		int64_t value;
	} built[8];
	unsigned int nbuilt;

	/* ---- version 5 ---- */

	/** Vectors held but not yet in the structure (build() has them to
	 *  do); searches find them by an exact scan meanwhile. */
	uint64_t pending;
} brain_index_info;

/** A search as the brain planned it (version 4, search_planned()). */
typedef struct brain_index_search {
	const float *query;  /**< prepared: finite, unit length under cosine */
	size_t k;            /**< >= 1 */
	const brain_index_filter *filter; /**< NULL: every slot */
	/** 1: scan every occupied slot (the exact k nearest); 0: the backend's
	 *  own structure may be used. */
	int exact;
	/** How many candidates a structure keeps while it searches (HNSW's
	 *  ef), at least k; 0: the backend's own default. The Thalamus widens
	 *  it for a filter that turns many away. */
	uint64_t effort;
} brain_index_search;

struct brain_io;

/** A backend's own files (version 4): where they live and how to reach
 *  them. */
typedef struct brain_index_files {
	/** Every access goes through the brain's io layer (braincore/sys/io.h). */
	const struct brain_io *io;
	/** The brain directory. */
	const char *dir;
	/** The backend's file names start with this ("index-"); the brain
	 *  never touches such files, and no other file starts so. */
	const char *prefix;
	/** The checkpoint generation being written (flush) or opened
	 *  (open_files) or just committed (retire). Growing; a generation
	 *  whose checkpoint never committed (a crash) may be given again
	 *  after the next open, whose retire() came first: a backend
	 *  replaces such leftover files rather than expecting them absent. */
	uint64_t generation;
} brain_index_files;

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
 * many threads at once, never concurrently with a change (build(), of
 * version 5, is the exception: see there). Every function
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

	/* ---- version 4 ---- */

	/** Describe the index now (count, whether searches may miss, the
	 *  parameters it was built with). Runs concurrently with search.
	 *  Required in version 4. */
	int (*info)(const brain_index *index, brain_index_info *out);
	/** search() as the brain planned it: the same contract, and
	 *  `plan->exact` and `plan->effort` obeyed (BRAIN_INDEX_CAP_PLANNED).
	 *  Required in version 4. */
	int (*search_planned)(const brain_index *index, const brain_index_search *plan,
	                      uint32_t *slots, float *distances, size_t *found);
	/** At a checkpoint of an on-disk brain: write what changed since the
	 *  last flush (or since open_files) into new files of the backend's
	 *  own, make them durable, and write to `w` a descriptor of the whole
	 *  index that open_files() reads back (the checkpoint image keeps it).
	 *  It must not change any file an earlier descriptor names: until the
	 *  checkpoint commits, a crash reopens the one before. Runs
	 *  concurrently with search and get, never with a change. NULL (with
	 *  open_files and retire): the brain writes the whole index with
	 *  save() into every checkpoint. Snapshots and backups always use
	 *  save(). */
	int (*flush)(brain_index *index, const brain_index_files *files,
	             const brain_index_writer *w);
	/** Make an index from a descriptor that flush() wrote (`len` bytes,
	 *  4096-byte aligned, valid until close(); they may be damaged: check
	 *  them) and the files it names, which may be damaged too
	 *  (BRAIN_ECORRUPT), or gone if a writer replaced the checkpoint
	 *  meanwhile (BRAIN_ENOTFOUND). */
	int (*open_files)(const brain_index_config *config, const brain_index_files *files,
	                  void *descriptor, size_t len, brain_index **out);
	/** The checkpoint of files->generation is committed (or opened by the
	 *  writer): remove the backend's files that its descriptor does not
	 *  name (those of older checkpoints and of flushes whose checkpoint
	 *  never committed). Best effort: a file left is removed next time. */
	void (*retire)(brain_index *index, const brain_index_files *files);

	/* ---- version 5 ---- */

	/** Background building. A backend with build() may let add() store a
	 *  vector without putting it into its structure (the vectors so
	 *  waiting are its "tail", at most BRAIN_PARAM_INDEX_TAIL_MAX of
	 *  them; past that add() does the work itself), and must find the
	 *  tail in every search, exactly. build() puts up to `max` waiting
	 *  vectors into the structure, sets *pending to how many still wait
	 *  and returns 0 or a negative BRAIN_E* code (a failure leaves the
	 *  vectors waiting, still found). `max` 0 only counts. Unlike every
	 *  other call, build() runs concurrently with all of them, changes
	 *  included (never with close()): the backend serialises what must
	 *  be, and should hold anything a change waits for only briefly.
	 *  The brain calls it from its background threads, or from
	 *  brain_tick(). NULL: add() always does the work. */
	int (*build)(brain_index *index, size_t max, uint64_t *pending);

	/* ---- version 6 ---- */

	/** Open an index whose saved form (`data`, `len` bytes, the
	 *  descriptor flush() wrote, as for open_files(); `files` NULL is
	 *  reserved) failed its checksums, from the part still whole: the
	 *  stored vectors. The brain calls it only after the checksums failed,
	 *  and only for an index in files of its own (an image that keeps the
	 *  vectors in the section itself is not rebuilt: vectors a caller chose
	 *  could pose as the backend's own bytes); `verify` checks a range,
	 *  and the backend must trust no byte it has not verified. What derives
	 *  from the vectors (a graph) is built again, for example by putting
	 *  every vector into build()'s tail. BRAIN_ECORRUPT if the vectors
	 *  themselves are damaged or cannot be found: the open fails as it did
	 *  before version 6. NULL: a damaged index always fails the open. */
	int (*rebuild)(const brain_index_config *config, const brain_index_files *files, void *data,
	               size_t len, brain_index_verify_fn verify, void *ctx, brain_index **out);

	/** A checkpoint in two steps, so that changes need not wait for the
	 *  files to be written (optional, all three with flush; NULL: the
	 *  brain calls flush() and changes wait for it). freeze() runs as
	 *  flush() does, beside no change: it writes to `w` what of the
	 *  descriptor it must write now (the first bytes: the brain writes
	 *  nothing else into it in between) and notes the index as it is in
	 *  *frozen. flush_frozen() then runs beside every call, changes and
	 *  build() included, and does what flush() does for the index as it
	 *  was at the freeze: the backend keeps what changes meanwhile
	 *  (copy on write), and `w` gets the rest of the descriptor. thaw()
	 *  ends it, after flush_frozen() or after an error (frozen may be
	 *  NULL), beside every call too. */
	int (*freeze)(brain_index *index, const brain_index_writer *w, void **frozen);
	int (*flush_frozen)(brain_index *index, void *frozen, const brain_index_files *files,
	                    const brain_index_writer *w);
	void (*thaw)(brain_index *index, void *frozen);

	/* ---- version 7 ---- */

	/** Hand back what the index holds for slots at or above `slots`,
	 *  none of which is occupied (BRAIN_EINVAL names one that is, and
	 *  nothing changes). The brain calls it as a change (beside no search,
	 *  but beside build() and a checkpoint's flush_frozen(), which must
	 *  still get the rows of its freeze), after its compaction moved the
	 *  memories of the last slots into free slots below. Adds to those
	 *  slots later work as before (reserve them first). The granularity is
	 *  the backend's (whole chunks of rows): it may keep some. NULL: the
	 *  memory of free slots is only reused, never handed back. */
	int (*shrink)(brain_index *index, uint32_t slots);
	/** After a checkpoint committed and retire() ran: hand back the
	 *  mappings of the backend's files that no descriptor names any more
	 *  (whose rows a checkpoint wrote elsewhere), so that the disk space of
	 *  a removed file comes back. Up to `max_chunks` units of rows still
	 *  lying in such a mapping are copied to the heap first; a mapping no
	 *  row lies in is unmapped; *left gets how many units still wait (the
	 *  brain calls again). Called as a change (beside no search, beside
	 *  build(), and beside a checkpoint's flush_frozen(): then it may do
	 *  nothing, with *left 0, as the checkpoint's retire() comes next and
	 *  the brain calls release() after it). NULL: mappings stay until
	 *  close(). (The built-in backends' release() also stops using the
	 *  bytes load() and open_files() gave them, and the brain then unmaps
	 *  the image it opened; for any other backend those bytes stay valid
	 *  until close(), as load() promises.) */
	int (*release)(brain_index *index, size_t max_chunks, size_t *left);

	/* ---- version 8 ---- */

	/** Distances from `query` (prepared, as search() takes it) to the
	 *  vectors of the n slots (in any order; each must hold one:
	 *  BRAIN_ENOTFOUND names one that does not) into out[0..n), as the
	 *  backend's exact search computes them. Runs beside search() and
	 *  build(), as search() does. NULL: the brain calls get() for each
	 *  slot and computes the distance itself. */
	int (*distances)(const brain_index *index, const float *query, const uint32_t *slots,
	                 size_t n, float *out);

	/* ---- version 9 ---- */

	/** add_batch() with the rows made on demand: row(ctx, i, out) writes
	 *  the prepared vector of row i (dim floats) into out, and the backend
	 *  stores it under slots[i] as add_batch() would. The brain prepares
	 *  each row (normalised for the cosine metric) when it is asked for,
	 *  so a batch costs no copy of all its rows. row() cannot fail, may be
	 *  asked for a row more than once, and is called only while
	 *  add_batch_rows() runs, on any of its threads (each with its own
	 *  out). All or nothing, as add_batch(). NULL: the brain prepares the
	 *  rows into one buffer for add_batch(). */
	int (*add_batch_rows)(brain_index *index, const uint32_t *slots, size_t n,
	                      brain_index_row_fn row, void *ctx);
} brain_index_vtable;

/**
 * Register a backend for this process, by its name (1 to 63 bytes: names
 * are written into files). The vtable must stay valid for the life of the
 * process; up to 16 backends can be registered. Returns 0 or: BRAIN_ENULL
 * (vt, a function or the name is NULL; save and load may both be NULL,
 * add_batch may be NULL; info and search_planned are required in version
 * 4), BRAIN_EINVAL (name empty or over 63 bytes, only one of save and load
 * given, or flush, open_files and retire not all given or all NULL, or
 * flush without save), BRAIN_EVERSION (vt->version not 1..9), BRAIN_EEXISTS (the name
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

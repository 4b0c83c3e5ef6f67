/*
 * spine/spine.h - the Spine: the internal message bus between organs.
 *
 * Messages are typed (spine/messages.h, one X-macro list per organ) and
 * each type is owned by exactly one organ, which has one handler for it in
 * a table generated from that list (BRAIN_ORGAN_HANDLERS).
 *
 *  - brain__spine_call(): synchronous dispatch on the caller's thread. The
 *    payload is a struct on the caller's stack; no allocation, no copy, no
 *    thread hop. This is the request path.
 *  - brain__spine_post() / brain__spine_drain(): the background path. The
 *    payload is copied into a bounded queue and dispatched later by whoever
 *    drains it (a worker organ). Posted payloads must not hold pointers to
 *    the poster's stack.
 *
 * Organs never call each other's functions: they send messages. A test can
 * attach its own organ in place of a real one (brain__spine_attach).
 */
#ifndef BRAIN_SPINE_H
#define BRAIN_SPINE_H

#include <stdatomic.h>

#include "base/base.h"
#include "base/queue.h"
#include "braincore/sys/index.h"
#include "base/param_table.h"

/* ---- the brain-wide environment organs read --------------------------- */



struct brain_image;
struct brain_image_writer;
struct brain_model;
struct brain_lift;

/* An on-disk brain's storage, as the organs see it (all NULL/false for an
 * in-memory brain). */
typedef struct brain_storage {
	const struct brain_io *io;
	const char *dir;
	bool writable;
} brain_storage;

typedef struct brain_env {
	brain_options opts;                  /* resolved: no field left at "default" */
	const brain_index_vtable *index_vt;  /* the backend this brain uses */
	_Atomic int64_t params[BRAIN_PIDX__COUNT];
	brain_storage storage;
	/* BRAIN_EMBEDDER_MODEL's model (organs/cortex/model.h; a reference the
	 * engine holds from open to close), else NULL */
	struct brain_model *model;
	/* the fingerprint of the model or word table that makes the vectors
	 * (the identity's embedder_id), 0 for none */
	uint32_t embedder_id;
	/* the built-in embedder's semantic lift (organs/cortex/lift.h; a
	 * reference the engine holds from open to close, chosen by
	 * brain__use_lift), else NULL */
	struct brain_lift *lift;
} brain_env;

static inline int64_t brain__param(const brain_env *env, enum brain_param_index i)
{
	return atomic_load_explicit(&((brain_env *)env)->params[i], memory_order_relaxed);
}

/* A parameter by its public number (enum brain_param); 0 if unknown. For
 * index backends, which know parameters by number. */
static inline int64_t brain__param_number(const brain_env *env, int number)
{
	int i = brain__param_index(number);
	return i < 0 ? 0 : brain__param(env, (enum brain_param_index)i);
}

/* ---- organs and messages ---------------------------------------------- */

/* The one list of organs: id and the name of its object
 * (brain__organ_<name>, declared by organs/organs.h), in the order they are
 * created (destroyed in reverse). F is called as F(ID, name, arg). */
#define BRAIN_ORGAN_LIST(F, arg)                                                \
	F(PANCREAS, pancreas, arg)                                                  \
	F(CORTEX, cortex, arg)                                                      \
	F(HIPPOCAMPUS, hippocampus, arg)                                            \
	F(THALAMUS, thalamus, arg)                                                  \
	F(LUNGS, lungs, arg)                                                        \
	F(STOMACH, stomach, arg)                                                    \
	F(LIVER, liver, arg)

typedef enum brain_organ_id {
#define BRAIN__ORGAN_ENUM(id, name, arg) BRAIN_ORGAN_##id,
	BRAIN_ORGAN_LIST(BRAIN__ORGAN_ENUM, _)
#undef BRAIN__ORGAN_ENUM
	BRAIN_ORGAN__COUNT
} brain_organ_id;

typedef struct brain_spine brain_spine;

/* What an organ's create() is given besides the environment. */
typedef struct brain_organ_args {
	/* The checkpoint to adopt the organ's state from (NULL: start
	 * empty). An organ takes its own reference if it keeps pointers into
	 * it. */
	struct brain_image *image;
	/* The Lungs: open the brain's log (env->storage.dir). False while a
	 * brain is being created or for a read-only brain without a log. */
	bool open_log;
	/* Where the index backend keeps files of its own (an on-disk brain;
	 * NULL otherwise): create() opens them, save() of a checkpoint writes
	 * them (NULL: a self-contained image, as snapshots and backups are). */
	const brain_index_files *files;
	/* save() of a checkpoint in two steps: a backend that can (index
	 * vtable version 6) is frozen and the index section left open, last
	 * in the image (the Hippocampus saves last); INDEX_FINISH ends it
	 * once the writers' gate is open again. */
	bool freeze_index;
} brain_organ_args;

/* One message handler: state is the organ's, msg the message's payload. */
typedef int (*brain_handler_fn)(void *state, void *msg);

#include "spine/messages.h"

/* An organ: how to create and destroy its state, and a handler for each
 * message it owns (BRAIN_ORGAN_HANDLERS makes the table from the list). */
typedef struct brain_organ {
	const char *name;
	brain_organ_id id;
	int (*create)(const brain_env *env, brain_spine *spine, const brain_organ_args *args,
	              void **state);
	void (*destroy)(void *state);
	/* Indexed by message type; NULL for a message the organ does not take
	 * (only test organs leave any of their own messages out). */
	const brain_handler_fn *handlers;
	/* Write the organ's lasting state into a checkpoint image as sections
	 * (NULL: it has none). Called with the brain lock held, at least
	 * shared: it must not change the memories (an index's own files may
	 * be written, under the write lock of a checkpoint). create() reads the
	 * sections back from args->image. */
	int (*save)(void *state, struct brain_image_writer *w, const brain_organ_args *args);
} brain_organ;

/* An organ's handler table, made from its part of the message list: the
 * organ's file defines `static int on_<NAME>(struct <organ> *, <payload> *)`
 * for each of its messages (a missing one, or one whose payload type is
 * not the list's, does not compile), then writes
 * BRAIN_ORGAN_HANDLERS(CORTEX, cortex_handlers). */
#define BRAIN__HANDLER_THUNK(name, owner, type, lock)                           \
	static int thunk_##name(void *state, void *msg)                             \
	{                                                                           \
		type *typed = msg;                                                      \
		return on_##name(state, typed);                                         \
	}
#define BRAIN__HANDLER_ENTRY(name, owner, type, lock) [BRAIN_MSG_##name] = thunk_##name,
#define BRAIN_ORGAN_HANDLERS(ID, table)                                         \
	BRAIN_MESSAGES_##ID(BRAIN__HANDLER_THUNK, ID)                               \
	static const brain_handler_fn table[BRAIN_MSG__COUNT] = {                   \
		BRAIN_MESSAGES_##ID(BRAIN__HANDLER_ENTRY, ID)}

/* The same for an organ made of several files (organs/<organ>/): its
 * internal header declares `int brain__<organ>_<NAME>(<organ> *, <payload> *)`
 * for each of its messages with BRAIN_ORGAN_DECLARE(ID, organ) (the state
 * type is named as the organ), the files define them, and the organ's
 * file makes the table with BRAIN_ORGAN_HANDLERS_OF(ID, organ, table); a
 * message without its handler does not link. */
#define BRAIN__HANDLER_DECL(name, organ, type, lock)                            \
	int brain__##organ##_##name(organ *state, type *msg);
#define BRAIN__HANDLER_THUNK_OF(name, organ, type, lock)                        \
	static int thunk_##name(void *state, void *msg)                             \
	{                                                                           \
		type *typed = msg;                                                      \
		return brain__##organ##_##name(state, typed);                           \
	}
#define BRAIN_ORGAN_DECLARE(ID, organ) BRAIN_MESSAGES_##ID(BRAIN__HANDLER_DECL, organ)
#define BRAIN_ORGAN_HANDLERS_OF(ID, organ, table)                               \
	BRAIN_MESSAGES_##ID(BRAIN__HANDLER_THUNK_OF, organ)                         \
	static const brain_handler_fn table[BRAIN_MSG__COUNT] = {                   \
		BRAIN_MESSAGES_##ID(BRAIN__HANDLER_ENTRY, ID)}

struct brain_spine {
	const brain_env *env;
	/* The brain's account (base/alloc.c): every message runs in its scope,
	 * counted as the owning organ's bytes. NULL: not counted. */
	brain_mem *mem;
	struct {
		const brain_organ *organ;
		void *state;
	} organs[BRAIN_ORGAN__COUNT];
	brain_queue queue; /* the background path */
	bool queue_ready;
};

/* Initialise an empty spine (no organs) counting against account mem. */
void brain__spine_init(brain_spine *s, const brain_env *env, brain_mem *mem);

_Static_assert(BRAIN_MEM_ORGAN0 + BRAIN_ORGAN__COUNT <= BRAIN_MEM_INDEX,
               "base/base.h: a memory category for each organ");

/* Create organ `o`'s state and attach it in its slot, destroying the organ
 * that was there. Returns the organ's create() result, or BRAIN_EINTERNAL
 * for a real organ whose table misses one of its messages or holds
 * another organ's. */
int brain__spine_attach(brain_spine *s, const brain_organ *o, const brain_organ_args *args);

/* Set up the background queue: `capacity` messages. */
int brain__spine_queue_init(brain_spine *s, size_t capacity);

/* Every organ's save() in the order of their ids. */
int brain__spine_save(brain_spine *s, struct brain_image_writer *w, const brain_organ_args *args);

/* Destroy all organs in reverse order of their ids, and the queue. */
void brain__spine_fini(brain_spine *s);

/* Owner and name of each message type. */
extern const brain_organ_id brain__msg_owner[BRAIN_MSG__COUNT];
extern const char *const brain__msg_name[BRAIN_MSG__COUNT];

/* ---- the lock column, checked ------------------------------------------ */

enum brain_lock_need {
	BRAIN_LOCK_ANY = 0,
	BRAIN_LOCK_READ = 1,
	BRAIN_LOCK_WRITE = 2,
	BRAIN_LOCK_UNLOCKED = 3
};
extern const unsigned char brain__msg_lock[BRAIN_MSG__COUNT];

#ifdef BRAIN_CHECK_LOCKS
/* What the calling thread holds of a brain's lock (the brain's spine names
 * it): the engine's lock helpers record it, dispatch checks it against
 * the list's lock column and aborts on a breach (a bug, not an input). */
void brain__lock_note(const brain_spine *s, int held); /* 0, READ or WRITE */
void brain__lock_check(const brain_spine *s, brain_msg_type type);
#define BRAIN__LOCK_CHECK(s, type) brain__lock_check((s), (type))
#else
#define BRAIN__LOCK_CHECK(s, type) ((void)0)
#endif

/* Synchronous dispatch. Returns the handler's result; BRAIN_EINTERNAL if the
 * owning organ is not attached, BRAIN_ENOTSUP if it does not take the
 * message (a test organ). */
int brain__spine_missing(brain_spine *s, brain_msg_type type);

static inline int brain__spine_call(brain_spine *s, brain_msg_type type, void *msg)
{
	brain_organ_id owner = brain__msg_owner[type];
	const brain_organ *o = s->organs[owner].organ;
	BRAIN__LOCK_CHECK(s, type);
	if (BRAIN_UNLIKELY(!o || !o->handlers[type]))
		return brain__spine_missing(s, type);
	brain_mem_scope outer = brain__mem_enter(s->mem, BRAIN_MEM_ORGAN0 + (int)owner);
	int rc = o->handlers[type](s->organs[owner].state, msg);
	brain__mem_leave(outer);
	return rc;
}

/* Typed wrappers, one per message: brain__call_EMBED(spine, &msg). The
 * owner is known at compile time. */
#define BRAIN__CALL_FN(name, owner, type, lock)                                 \
	static inline int brain__call_##name(brain_spine *s, type *msg)             \
	{                                                                           \
		const brain_organ *o = s->organs[BRAIN_ORGAN_##owner].organ;            \
		BRAIN__LOCK_CHECK(s, BRAIN_MSG_##name);                                 \
		if (BRAIN_UNLIKELY(!o || !o->handlers[BRAIN_MSG_##name]))               \
			return brain__spine_missing(s, BRAIN_MSG_##name);                   \
		brain_mem_scope outer =                                                 \
			brain__mem_enter(s->mem, BRAIN_MEM_ORGAN0 + BRAIN_ORGAN_##owner);   \
		int rc = o->handlers[BRAIN_MSG_##name](s->organs[BRAIN_ORGAN_##owner].state, msg); \
		brain__mem_leave(outer);                                                \
		return rc;                                                              \
	}
BRAIN_MESSAGE_LIST(BRAIN__CALL_FN)
#undef BRAIN__CALL_FN

/* Background path: copy `size` bytes of payload into the queue (at most
 * BRAIN_POST_MAX bytes). wait_ms: 0 = fail with BRAIN_EFULL at once when the
 * queue is full, < 0 = wait for room, > 0 = wait that long. Returns 0,
 * BRAIN_EFULL, BRAIN_ESTATE (queue not set up or closed) or BRAIN_EINVAL
 * (payload too large). Issue 13's background organs (the Stomach's ingest,
 * the Heart's ticks) are its users. */
#define BRAIN_POST_MAX 112
int brain__spine_post(brain_spine *s, brain_msg_type type, const void *msg, size_t size,
                      int wait_ms);

/* Dispatch up to `max` posted messages on the calling thread, waiting up to
 * wait_ms for the first. Returns the number dispatched; handler errors are
 * logged (a posted message has no caller left to answer). */
size_t brain__spine_drain(brain_spine *s, size_t max, int wait_ms);

#endif /* BRAIN_SPINE_H */

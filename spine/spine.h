/*
 * spine/spine.h - the Spine: the internal message bus between organs.
 *
 * Every organ registers one handler; messages are typed (spine/messages.h,
 * one X-macro list) and each type is owned by exactly one organ.
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

/* An on-disk brain's storage, as the organs see it (all NULL/false for an
 * in-memory brain). */
typedef struct brain_storage {
	const struct brain_io *io;
	const char *dir;
	bool writable;
	/* Set by the api layer for the organs' create(): the checkpoint to
	 * adopt their state from (NULL: start empty). Organs take their own
	 * reference if they keep pointers into it. */
	struct brain_image *image;
	/* Asked by the Lungs' background thread when the log has grown enough
	 * for a checkpoint; runs the checkpoint (taking the brain lock). */
	void (*checkpoint_due)(void *payload);
	void *checkpoint_payload;
} brain_storage;

typedef struct brain_env {
	brain_options opts;                  /* resolved: no field left at "default" */
	const brain_index_vtable *index_vt;  /* the backend this brain uses */
	_Atomic int64_t params[BRAIN_PIDX__COUNT];
	brain_storage storage;
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

#define BRAIN_ORGAN_LIST(X)                                                     \
	X(PANCREAS)                                                                 \
	X(CORTEX)                                                                   \
	X(HIPPOCAMPUS)                                                              \
	X(THALAMUS)                                                                 \
	X(LUNGS)

typedef enum brain_organ_id {
#define BRAIN__ORGAN_ENUM(name) BRAIN_ORGAN_##name,
	BRAIN_ORGAN_LIST(BRAIN__ORGAN_ENUM)
#undef BRAIN__ORGAN_ENUM
	BRAIN_ORGAN__COUNT
} brain_organ_id;

typedef struct brain_spine brain_spine;

/* An organ: how to create and destroy its state, and its one handler, which
 * receives every message type the organ owns (and answers BRAIN_ENOTSUP for
 * any other). */
typedef struct brain_organ {
	const char *name;
	brain_organ_id id;
	int (*create)(const brain_env *env, brain_spine *spine, void **state);
	void (*destroy)(void *state);
	int (*handle)(void *state, int type, void *msg);
	/* Write the organ's lasting state into a checkpoint image as sections
	 * (NULL: it has none). Called with the brain lock held, at least
	 * shared: it must not change the state. create() reads the sections
	 * back from env->storage.image. */
	int (*save)(void *state, struct brain_image_writer *w);
} brain_organ;

#include "spine/messages.h"

struct brain_spine {
	const brain_env *env;
	struct {
		const brain_organ *organ;
		void *state;
	} organs[BRAIN_ORGAN__COUNT];
	brain_queue queue; /* the background path */
	bool queue_ready;
};

/* Initialise an empty spine (no organs). */
void brain__spine_init(brain_spine *s, const brain_env *env);

/* Create organ `o`'s state and attach it in its slot, destroying the organ
 * that was there. Returns the organ's create() result. */
int brain__spine_attach(brain_spine *s, const brain_organ *o);

/* Set up the background queue: `capacity` messages. */
int brain__spine_queue_init(brain_spine *s, size_t capacity);

/* Every organ's save() in the order of their ids. */
int brain__spine_save(brain_spine *s, struct brain_image_writer *w);

/* Destroy all organs in reverse order of their ids, and the queue. */
void brain__spine_fini(brain_spine *s);

/* Owner of each message type. */
extern const brain_organ_id brain__msg_owner[BRAIN_MSG__COUNT];
extern const char *const brain__msg_name[BRAIN_MSG__COUNT];

/* Synchronous dispatch. Returns the handler's result; BRAIN_EINTERNAL if the
 * owning organ is not attached. */
static inline int brain__spine_call(brain_spine *s, brain_msg_type type, void *msg)
{
	brain_organ_id owner = brain__msg_owner[type];
	const brain_organ *o = s->organs[owner].organ;
	if (BRAIN_UNLIKELY(!o))
		return brain__err(BRAIN_EINTERNAL, "spine: no organ attached for message %s",
		                  brain__msg_name[type]);
	return o->handle(s->organs[owner].state, (int)type, msg);
}

/* Typed wrappers, one per message: brain__call_EMBED(spine, &msg). */
#define BRAIN__CALL_FN(name, organ, type)                                       \
	static inline int brain__call_##name(brain_spine *s, type *msg)             \
	{                                                                           \
		return brain__spine_call(s, BRAIN_MSG_##name, msg);                     \
	}
BRAIN_MESSAGE_LIST(BRAIN__CALL_FN)
#undef BRAIN__CALL_FN

/* Background path: copy `size` bytes of payload into the queue (at most
 * BRAIN_POST_MAX bytes). wait_ms: 0 = fail with BRAIN_EFULL at once when the
 * queue is full, < 0 = wait for room, > 0 = wait that long. Returns 0,
 * BRAIN_EFULL, BRAIN_ESTATE (queue not set up or closed) or BRAIN_EINVAL
 * (payload too large). */
#define BRAIN_POST_MAX 112
int brain__spine_post(brain_spine *s, brain_msg_type type, const void *msg, size_t size,
                      int wait_ms);

/* Dispatch up to `max` posted messages on the calling thread, waiting up to
 * wait_ms for the first. Returns the number dispatched; handler errors are
 * logged (a posted message has no caller left to answer). */
size_t brain__spine_drain(brain_spine *s, size_t max, int wait_ms);

#endif /* BRAIN_SPINE_H */

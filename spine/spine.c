/*
 * spine/spine.c - the Spine: organ table, synchronous dispatch and the
 * background queue (see spine.h).
 */
#include <string.h>

#include "spine/spine.h"

const brain_organ_id brain__msg_owner[BRAIN_MSG__COUNT] = {
#define X(name, organ, type, lock) [BRAIN_MSG_##name] = BRAIN_ORGAN_##organ,
	BRAIN_MESSAGE_LIST(X)
#undef X
};

const char *const brain__msg_name[BRAIN_MSG__COUNT] = {
#define X(name, organ, type, lock) [BRAIN_MSG_##name] = #name,
	BRAIN_MESSAGE_LIST(X)
#undef X
};

const unsigned char brain__msg_lock[BRAIN_MSG__COUNT] = {
#define X(name, organ, type, lock) [BRAIN_MSG_##name] = BRAIN_LOCK_##lock,
	BRAIN_MESSAGE_LIST(X)
#undef X
};

int brain__spine_missing(brain_spine *s, brain_msg_type type)
{
	const brain_organ *o = s->organs[brain__msg_owner[type]].organ;
	if (!o)
		return brain__err(BRAIN_EINTERNAL, "spine: no organ attached for message %s",
		                  brain__msg_name[type]);
	return brain__err(BRAIN_ENOTSUP, "spine: organ %s does not take message %s", o->name,
	                  brain__msg_name[type]);
}

#ifdef BRAIN_CHECK_LOCKS
#include <stdio.h>
#include <stdlib.h>

/* The brains whose lock this thread holds (a few at most: a call on one
 * brain may reach another through the caller's io or callbacks). */
#define HELD_MAX 8
static _Thread_local struct {
	const brain_spine *spine;
	int held;
} t_held[HELD_MAX];

void brain__lock_note(const brain_spine *s, int held)
{
	int free_at = -1;
	for (int i = 0; i < HELD_MAX; i++) {
		if (t_held[i].spine == s) {
			t_held[i].held = held;
			if (!held)
				t_held[i].spine = NULL;
			return;
		}
		if (!t_held[i].spine && free_at < 0)
			free_at = i;
	}
	if (held && free_at >= 0) {
		t_held[free_at].spine = s;
		t_held[free_at].held = held;
	}
}

void brain__lock_check(const brain_spine *s, brain_msg_type type)
{
	int held = 0;
	for (int i = 0; i < HELD_MAX; i++)
		if (t_held[i].spine == s)
			held = t_held[i].held;
	int need = brain__msg_lock[type];
	bool ok = need == BRAIN_LOCK_ANY || (need == BRAIN_LOCK_READ && held != 0) ||
	          (need == BRAIN_LOCK_WRITE && held == BRAIN_LOCK_WRITE) ||
	          (need == BRAIN_LOCK_UNLOCKED && held == 0);
	if (!ok) {
		static const char *const names[] = {"nothing", "the read lock", "the write lock",
		                                    "no lock"};
		/* a debug build's assertion: a caller broke the locking contract */
		fprintf(stderr, "braincore: spine: %s needs %s, the caller holds %s\n",
		        brain__msg_name[type], names[need], names[held]);
		abort();
	}
}
#endif

/* What travels through the queue: the type and a copy of the payload. */
typedef struct posted {
	int type;
	uint32_t size;
	_Alignas(16) unsigned char payload[BRAIN_POST_MAX];
} posted;

void brain__spine_init(brain_spine *s, const brain_env *env, brain_mem *mem)
{
	memset(s, 0, sizeof *s);
	s->env = env;
	s->mem = mem;
}

int brain__spine_attach(brain_spine *s, const brain_organ *o, const brain_organ_args *args)
{
	if ((unsigned)o->id >= BRAIN_ORGAN__COUNT)
		return brain__err(BRAIN_EINTERNAL, "spine: organ %s has no slot", o->name);
	if (!o->handlers)
		return brain__err(BRAIN_EINTERNAL, "spine: organ %s has no handlers", o->name);
	for (int t = 0; t < BRAIN_MSG__COUNT; t++)
		if (o->handlers[t] && brain__msg_owner[t] != o->id)
			return brain__err(BRAIN_EINTERNAL, "spine: organ %s handles %s, another organ's message",
			                  o->name, brain__msg_name[t]);
	static const brain_organ_args none = {NULL, false, NULL, false};
	void *state = NULL;
	brain_mem_scope outer = brain__mem_enter(s->mem, BRAIN_MEM_ORGAN0 + (int)o->id);
	int rc = o->create(s->env, s, args ? args : &none, &state);
	brain__mem_leave(outer);
	if (rc)
		return rc;
	const brain_organ *old = s->organs[o->id].organ;
	if (old)
		old->destroy(s->organs[o->id].state);
	s->organs[o->id].organ = o;
	s->organs[o->id].state = state;
	return BRAIN_OK;
}

int brain__spine_queue_init(brain_spine *s, size_t capacity)
{
	int rc = brain__queue_init(&s->queue, capacity, sizeof(posted));
	if (rc == BRAIN_OK)
		s->queue_ready = true;
	return rc;
}

void brain__spine_fini(brain_spine *s)
{
	if (s->queue_ready) {
		brain__queue_close(&s->queue);
		brain__queue_destroy(&s->queue);
		s->queue_ready = false;
	}
	for (int i = BRAIN_ORGAN__COUNT - 1; i >= 0; i--) {
		if (s->organs[i].organ)
			s->organs[i].organ->destroy(s->organs[i].state);
		s->organs[i].organ = NULL;
		s->organs[i].state = NULL;
	}
}

int brain__spine_post(brain_spine *s, brain_msg_type type, const void *msg, size_t size,
                      int wait_ms)
{
	if (!s->queue_ready)
		return brain__err(BRAIN_ESTATE, "spine: no background queue");
	if ((unsigned)type >= BRAIN_MSG__COUNT)
		return brain__err(BRAIN_EINVAL, "spine: message type %d unknown", (int)type);
	if (size > BRAIN_POST_MAX)
		return brain__err(BRAIN_EINVAL, "spine: %s payload of %zu bytes is over %d",
		                  brain__msg_name[type], size, BRAIN_POST_MAX);
	posted p;
	memset(&p, 0, sizeof p);
	p.type = (int)type;
	p.size = (uint32_t)size;
	if (size)
		memcpy(p.payload, msg, size);
	return brain__queue_push(&s->queue, &p, wait_ms);
}

size_t brain__spine_drain(brain_spine *s, size_t max, int wait_ms)
{
	size_t done = 0;
	posted p;
	while (done < max && s->queue_ready &&
	       brain__queue_pop(&s->queue, &p, done == 0 ? wait_ms : 0) == BRAIN_OK) {
		int rc = brain__spine_call(s, (brain_msg_type)p.type, p.payload);
		if (rc)
			BRAIN_LOG(BRAIN_LOG_WARN, "spine: posted %s failed: %s (%s)",
			          brain__msg_name[p.type], brain_error_name(rc), brain_errmsg());
		done++;
	}
	return done;
}

int brain__spine_save(brain_spine *s, struct brain_image_writer *w, const brain_organ_args *args)
{
	for (int i = 0; i < BRAIN_ORGAN__COUNT; i++) {
		const brain_organ *o = s->organs[i].organ;
		if (o && o->save) {
			int rc = o->save(s->organs[i].state, w, args);
			if (rc)
				return rc;
		}
	}
	return BRAIN_OK;
}

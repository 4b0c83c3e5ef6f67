/*
 * bench/bench_internal.c - see bench_internal.h.
 */
#include "bench_internal.h"
#include "engine/handle.h"

int bench_embed(brain_t *b, const char *text, size_t len, int query, float *vector)
{
	brain_msg_embed e = {
		.text = text,
		.len = len,
		.purpose = query ? BRAIN_EMBED_QUERY : BRAIN_EMBED_DOCUMENT,
		.vector = vector,
	};
	return brain__call_EMBED(&b->spine, &e);
}

/*
 * engine/options.c - brain_options: defaults per struct version, and checking
 * what a caller passed.
 */
#include <stddef.h>
#include <string.h>

#include "engine/handle.h"
#include "braincore/sys/io.h"

/* Size of brain_options in each version this library knows; a caller built
 * against version v passes a struct this large, and only those fields are
 * read. */
static const size_t g_options_size[] = {
	[1] = offsetof(brain_options, sync),
	[2] = offsetof(brain_options, background),
	[3] = offsetof(brain_options, model_path),
	[4] = sizeof(brain_options),
};
#define OPTIONS_VERSION_MAX (BRAIN_ARRAY_LEN(g_options_size) - 1)

static void defaults(brain_options *o)
{
	memset(o, 0, sizeof *o);
	o->version = BRAIN_OPTIONS_VERSION;
	o->dimensions = BRAIN_DEFAULT_DIMENSIONS;
	o->metric = BRAIN_METRIC_COSINE;
	o->index = BRAIN_INDEX_AUTO;
	o->embedder = BRAIN_EMBEDDER_BUILTIN;
	o->max_text_bytes = BRAIN_DEFAULT_MAX_TEXT_BYTES;
	o->max_memories = BRAIN_MAX_MEMORIES_LIMIT;
	o->index_name = NULL;
	o->sync = BRAIN_SYNC_FULL;
	o->flags = 0;
	o->io = NULL;
	o->background = BRAIN_BACKGROUND_THREADS;
	o->model_path = NULL;
}

BRAIN_EXPORT int brain_options_init(brain_options *opts, unsigned int version)
{
	if (!opts)
		return brain__err(BRAIN_ENULL, "options_init: options are NULL");
	if (version == 0 || version > OPTIONS_VERSION_MAX)
		return brain__err(BRAIN_EVERSION,
		                  "options_init: options version %u unknown (this library knows "
		                  "1..%zu)",
		                  version, OPTIONS_VERSION_MAX);
	brain_options full;
	defaults(&full);
	full.version = version;
	memcpy(opts, &full, g_options_size[version]);
	return BRAIN_OK;
}

int brain__options_resolve(const brain_options *in, brain_options *out)
{
	defaults(out);
	if (!in)
		return BRAIN_OK;
	if (in->version == 0 || in->version > OPTIONS_VERSION_MAX)
		return brain__err(BRAIN_EVERSION,
		                  "options: version %u unknown (this library knows 1..%zu); call "
		                  "brain_options_init() first",
		                  in->version, OPTIONS_VERSION_MAX);
	brain_options o;
	defaults(&o);
	memcpy(&o, in, g_options_size[in->version]);
	o.version = BRAIN_OPTIONS_VERSION;

	/* a model's brain takes the model's dimensions (engine/brain.c) */
	if (o.dimensions == 0 && o.embedder != BRAIN_EMBEDDER_MODEL)
		o.dimensions = BRAIN_DEFAULT_DIMENSIONS;
	if (o.dimensions > BRAIN_MAX_DIMENSIONS)
		return brain__err(BRAIN_ERANGE, "options: dimensions %u is over the limit of %u",
		                  o.dimensions, (unsigned)BRAIN_MAX_DIMENSIONS);
	if (o.metric != BRAIN_METRIC_L2 && o.metric != BRAIN_METRIC_COSINE &&
	    o.metric != BRAIN_METRIC_IP)
		return brain__err(BRAIN_EINVAL,
		                  "options: metric %d is not BRAIN_METRIC_L2, _COSINE or _IP", o.metric);
	if (o.index != BRAIN_INDEX_AUTO && o.index != BRAIN_INDEX_FLAT &&
	    o.index != BRAIN_INDEX_HNSW)
		return brain__err(BRAIN_EINVAL,
		                  "options: index %d is not BRAIN_INDEX_AUTO, _FLAT or _HNSW", o.index);
	if (o.embedder != BRAIN_EMBEDDER_BUILTIN && o.embedder != BRAIN_EMBEDDER_NONE &&
	    o.embedder != BRAIN_EMBEDDER_MODEL)
		return brain__err(BRAIN_EINVAL,
		                  "options: embedder %d is not BRAIN_EMBEDDER_BUILTIN, _NONE or _MODEL",
		                  o.embedder);
	if (o.embedder == BRAIN_EMBEDDER_MODEL && (!o.model_path || !o.model_path[0]))
		return brain__err(BRAIN_EINVAL, "options: embedder BRAIN_EMBEDDER_MODEL needs "
		                  "model_path (a .gguf file or a model directory)");
	/* with BRAIN_OPEN_STORED_OPTIONS the brain on disk says which embedder
	 * it has: a model_path is for the case it is a model */
	if (o.embedder != BRAIN_EMBEDDER_MODEL && o.model_path &&
	    !(o.flags & BRAIN_OPEN_STORED_OPTIONS))
		return brain__err(BRAIN_EINVAL, "options: model_path is set but embedder is not "
		                  "BRAIN_EMBEDDER_MODEL");
	if (o.sync != BRAIN_SYNC_FULL && o.sync != BRAIN_SYNC_NORMAL && o.sync != BRAIN_SYNC_OFF)
		return brain__err(BRAIN_EINVAL,
		                  "options: sync %d is not BRAIN_SYNC_FULL, _NORMAL or _OFF", o.sync);
	if (o.background != BRAIN_BACKGROUND_THREADS && o.background != BRAIN_BACKGROUND_MANUAL)
		return brain__err(BRAIN_EINVAL, "options: background %d is not "
		                  "BRAIN_BACKGROUND_THREADS or _MANUAL", o.background);
	const unsigned int known = BRAIN_OPEN_READONLY | BRAIN_OPEN_NOCREATE |
	                           BRAIN_OPEN_STORED_OPTIONS;
	if (o.flags & ~known)
		return brain__err(BRAIN_EINVAL, "options: flags 0x%x has unknown bits 0x%x", o.flags,
		                  o.flags & ~known);
	if (o.flags & (BRAIN_OPEN_READONLY | BRAIN_OPEN_STORED_OPTIONS))
		o.flags |= BRAIN_OPEN_NOCREATE;
	if (o.io && (o.io->version < 1 || o.io->version > BRAIN_IO_VERSION))
		return brain__err(BRAIN_EVERSION, "options: io version %u unknown (this library knows "
		                  "1 to %d)", o.io->version, BRAIN_IO_VERSION);
	if (o.max_text_bytes == 0)
		o.max_text_bytes = BRAIN_DEFAULT_MAX_TEXT_BYTES;
	if (o.max_text_bytes > BRAIN_MAX_TEXT_BYTES_LIMIT)
		return brain__err(BRAIN_ERANGE, "options: max_text_bytes %u is over the limit of %u",
		                  o.max_text_bytes, (unsigned)BRAIN_MAX_TEXT_BYTES_LIMIT);
	if (o.max_memories == 0)
		o.max_memories = BRAIN_MAX_MEMORIES_LIMIT;
	if (o.max_memories > BRAIN_MAX_MEMORIES_LIMIT)
		return brain__err(BRAIN_ERANGE, "options: max_memories %llu is over the limit of %llu",
		                  (unsigned long long)o.max_memories,
		                  (unsigned long long)BRAIN_MAX_MEMORIES_LIMIT);
	*out = o;
	return BRAIN_OK;
}

const char *brain__options_index_name(const brain_options *o)
{
	if (o->index_name)
		return o->index_name;
	return o->index == BRAIN_INDEX_FLAT ? "flat" : "hnsw";
}

BRAIN_EXPORT const char *brain_metric_name(int metric)
{
	switch (metric) {
	case BRAIN_METRIC_COSINE:
		return "cosine";
	case BRAIN_METRIC_L2:
		return "l2";
	case BRAIN_METRIC_IP:
		return "ip";
	default:
		return "unknown";
	}
}

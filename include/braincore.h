/*
 * braincore.h - the embedded AI memory engine.
 *
 * An application remembers text or vectors, recalls what is relevant and
 * asks the brain to think over what it recalled:
 *
 *     brain_t *b = brain_create();
 *     brain_remember(b, "The Eiffel Tower is 330 metres tall.", 0.8f);
 *     char **hits = brain_recall(b, "how tall is the eiffel tower", 3);
 *     for (char **h = hits; h && *h; h++) puts(*h);
 *     free(hits);
 *     brain_destroy(b);
 *
 * Link with `pkg-config --cflags --libs braincore` or, in CMake,
 * find_package(braincore) and target_link_libraries(app braincore::braincore).
 *
 * Headers by area:
 *   braincore/common.h   versions, brain_t, brain_id
 *   braincore/errors.h   error codes, messages, logging
 *   braincore/options.h  brain_options
 *   braincore/brain.h    open, close, count
 *   braincore/memory.h   remember, recall, think, get, forget, results
 *   braincore/vector.h   add, search with the application's own vectors
 *   braincore/filter.h   filters over metadata
 *   braincore/relations.h  relations between memories
 *   braincore/params.h   run-time parameters
 * Extension points with a weaker stability promise (include them yourself):
 *   braincore/sys/index.h  index backend interface
 *   braincore/sys/alloc.h  allocator hook
 */
#ifndef BRAINCORE_H
#define BRAINCORE_H

#include "braincore/common.h"
#include "braincore/errors.h"
#include "braincore/options.h"
#include "braincore/brain.h"
#include "braincore/memory.h"
#include "braincore/vector.h"
#include "braincore/filter.h"
#include "braincore/relations.h"
#include "braincore/document.h"
#include "braincore/params.h"
#include "braincore/storage.h"
#include "braincore/health.h"
#include "braincore/ingest.h"

#endif /* BRAINCORE_H */

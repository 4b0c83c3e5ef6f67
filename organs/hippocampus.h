/*
 * organs/hippocampus.h - the memory store: ids, records (text, importance,
 * times), the vectors' index, and the slots that tie them together.
 *
 * Reached only through the Spine: STORE, STORE_BATCH, FORGET, LOOKUP,
 * GET_VECTOR, SEARCH, HITS, STATUS (spine/messages.h).
 */
#ifndef BRAIN_ORGANS_HIPPOCAMPUS_H
#define BRAIN_ORGANS_HIPPOCAMPUS_H

#include "spine/spine.h"

extern const brain_organ brain__organ_hippocampus;

#endif /* BRAIN_ORGANS_HIPPOCAMPUS_H */

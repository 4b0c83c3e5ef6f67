/*
 * organs/thalamus.h - routing and planning of recalls: which memories are
 * candidates, how many to fetch from the index, how they are ranked
 * (similarity, importance), and when a plan must be widened to stay exact.
 *
 * Reached only through the Spine: RECALL (spine/messages.h).
 */
#ifndef BRAIN_ORGANS_THALAMUS_H
#define BRAIN_ORGANS_THALAMUS_H

#include "spine/spine.h"

extern const brain_organ brain__organ_thalamus;

#endif /* BRAIN_ORGANS_THALAMUS_H */

/*
 * organs/organs.h - the organs, for the engine that attaches them. One
 * object per entry of BRAIN_ORGAN_LIST (spine/spine.h), in its file or
 * folder:
 *
 *   Pancreas     organs/pancreas.c     text checks, normalisation, analysis
 *   Cortex       organs/cortex/        embedding, IDF statistics, think
 *   Hippocampus  organs/hippocampus/   ids, records, the index backend
 *   Thalamus     organs/thalamus.c     plans and ranks every recall and search
 *   Lungs        organs/lungs.c        the write-ahead log, group commit
 *   Stomach      organs/stomach.c      the queue of asynchronous writes
 *   Liver        organs/liver.c        memory pressure against a budget
 *
 * Organs are reached only through the Spine; no organ includes this.
 */
#ifndef BRAIN_ORGANS_ORGANS_H
#define BRAIN_ORGANS_ORGANS_H

#include "spine/spine.h"

#define BRAIN__ORGAN_EXTERN(id, name, arg) extern const brain_organ brain__organ_##name;
BRAIN_ORGAN_LIST(BRAIN__ORGAN_EXTERN, _)
#undef BRAIN__ORGAN_EXTERN

#endif /* BRAIN_ORGANS_ORGANS_H */

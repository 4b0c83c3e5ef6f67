/*
 * organs/lungs.h - background I/O of an on-disk brain: the write-ahead
 * log (append, group commit, replay, reset after checkpoints) and the
 * thread that fsyncs within the NORMAL sync interval and asks for
 * checkpoints when the log has grown.
 *
 * Reached only through the Spine: WAL_APPEND, WAL_COMMIT, WAL_REPLAY,
 * WAL_RESET, WAL_STATUS, LUNGS_START, LUNGS_STOP (spine/messages.h).
 */
#ifndef BRAIN_ORGANS_LUNGS_H
#define BRAIN_ORGANS_LUNGS_H

#include "spine/spine.h"

extern const brain_organ brain__organ_lungs;

#endif /* BRAIN_ORGANS_LUNGS_H */

/*
 * api/change_api.h - what every changing call of the api does after its
 * change: tell the Heart if the index put work off.
 */
#ifndef BRAIN_API_CHANGE_API_H
#define BRAIN_API_CHANGE_API_H

#include "engine/change.h"
#include "engine/handle.h"

/* brain__change_make, then the Heart kicked: a change that left vectors
 * in the index's tail has them built in the background at once, not at
 * the next beat. */
static inline int brain__api_change(brain_t *b, brain_change *c)
{
	int rc = brain__change_make(b, c);
	if (rc == BRAIN_OK)
		brain__heart_kick(b);
	return rc;
}

#endif /* BRAIN_API_CHANGE_API_H */

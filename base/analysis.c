/*
 * base/analysis.c - lifetime of an analysis (filled by the Pancreas).
 */
#include <string.h>

#include "base/analysis.h"

void brain__analysis_init(brain_analysis *a)
{
	memset(a, 0, sizeof *a);
}

void brain__analysis_free(brain_analysis *a)
{
	if (!a)
		return;
	brain__free(a->text);
	brain__free(a->words);
	brain__free(a->grams);
	memset(a, 0, sizeof *a);
}

#define TERM_SEED 0x6b657977u /* "keyw" */

int brain__analysis_terms(const brain_analysis *a, uint64_t **terms)
{
	uint64_t *t = brain__malloc_array(a->nwords ? a->nwords : 1, sizeof *t);
	if (!t)
		return brain__oom(a->nwords * sizeof *t, "keyword terms");
	for (size_t i = 0; i < a->nwords; i++)
		t[i] = brain__hash64(a->text + a->words[i].off, a->words[i].len, TERM_SEED);
	*terms = t;
	return BRAIN_OK;
}

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

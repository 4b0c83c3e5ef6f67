/*
 * tests/fuzz/fuzz_pancreas.c - libFuzzer target: arbitrary bytes into the
 * Pancreas. Valid UTF-8 is analysed; the key must be valid UTF-8, words and
 * grams must lie inside it, and analysing the key again must give the same
 * key. Invalid input must be reported at an offset before which the text is
 * valid.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "organs/pancreas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	size_t bad = 0;
	if (brain__utf8_check(text, size, &bad) != BRAIN_OK) {
		check(bad < size);
		check(brain__utf8_check(text, bad, NULL) == BRAIN_OK);
		return 0;
	}
	brain_analysis a, again;
	brain__analysis_init(&a);
	brain__analysis_init(&again);
	check(brain__analyze(text, size, 3, 5, &a) == BRAIN_OK);
	check(brain__utf8_check(a.text, a.text_len, NULL) == BRAIN_OK);
	for (size_t w = 0; w < a.nwords; w++)
		check((size_t)a.words[w].off + a.words[w].len <= a.text_len);
	for (size_t g = 0; g < a.ngrams; g++)
		check((size_t)a.grams[g].off + a.grams[g].len <= a.text_len);
	check(brain__analyze(a.text, a.text_len, 3, 5, &again) == BRAIN_OK);
	check(again.text_len == a.text_len && memcmp(again.text, a.text, a.text_len) == 0);
	brain__analysis_free(&a);
	brain__analysis_free(&again);
	return 0;
}

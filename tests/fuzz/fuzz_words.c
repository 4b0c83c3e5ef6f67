/*
 * tests/fuzz/fuzz_words.c - libFuzzer target: arbitrary bytes as the word
 * table of the semantic lift (organs/cortex/lift.c). A table the loader
 * accepts must then be safe to use in place: every word is found at its
 * own row, every vector adds finite numbers, and looking up any bytes ends.
 * The fuzz build ignores the content hash (FUZZING_BUILD_MODE_UNSAFE_FOR_
 * PRODUCTION), so mutations reach the checks behind it. Seeds:
 * corpus_words/ (a four-word table, tools/build_words.py's layout).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "organs/cortex/lift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	brain_lift *l = NULL;
	int rc = brain__lift_parse(data, size, "fuzz", &l);
	if (rc != BRAIN_OK) {
		check(rc == BRAIN_ECORRUPT || rc == BRAIN_ENOMEM);
		check(l == NULL);
		return 0;
	}
	uint32_t dims = brain__lift_dims(l), count = brain__lift_count(l);
	check(dims >= 1 && dims <= 1024 && count >= 1);
	float *acc = calloc(dims, sizeof *acc);
	check(acc != NULL);
	/* a bounded sample of the rows (a large table is checked at open) */
	for (uint32_t i = 0; i < count && i < 256; i++) {
		size_t len;
		const char *w = brain__lift_word(l, i, &len);
		check(brain__lift_find(l, w, len) == (int32_t)i);
		brain__lift_add(l, i, 1.0f, acc);
	}
	/* lookups of the input's own bytes, as words of every short length */
	for (size_t off = 0; off < size && off < 64; off++)
		for (size_t len = 1; len <= 8 && off + len <= size; len++)
			(void)brain__lift_find(l, (const char *)data + off, len);
	free(acc);
	brain__lift_release(l);
	return 0;
}

/*
 * tests/fuzz/fuzz_meta.c - libFuzzer target: arbitrary bytes into the
 * metadata parser (base/meta.h). The first byte's low bit chooses patch
 * mode, the rest is the JSON. Whatever is accepted must give a blob that
 * passes the check, iterates over its count of fields, writes JSON that
 * reads back as the same bytes, and merges onto itself and onto nothing.
 * The raw bytes also go to the blob check, which must refuse or accept
 * them without reading out of bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/meta.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

/* What every blob that passed the check must allow. */
static void use_checked(const uint8_t *blob, size_t len, bool patch)
{
	size_t pos = 0;
	uint32_t n = 0;
	brain_meta_field f, g;
	while (brain__meta_next(blob, len, &pos, &f)) {
		n++;
		check(pos <= len);
		check(brain__meta_find(blob, len, f.name, f.name_len, &g) && g.name == f.name);
		check(patch || f.type != BRAIN_META_NONE);
		size_t ip = 0;
		for (uint32_t i = 0; i < (f.type == BRAIN_META_LIST ? f.n_items : 0); i++) {
			const char *s;
			uint32_t sl;
			brain__meta_item(&f, &ip, &s, &sl);
			check(s + sl <= (const char *)blob + len);
		}
	}
	check(n == brain__meta_count(blob));
	check((pos ? pos : 4) == len);

	/* to_json, then from_json: the same bytes */
	size_t jl = brain__meta_to_json(blob, len, NULL, 0);
	char *json = malloc(jl + 1);
	check(json != NULL);
	check(brain__meta_to_json(blob, len, json, jl + 1) == jl);
	check(strlen(json) == jl);
	brain_meta_blob again;
	check(brain__meta_from_json(json, jl, patch, &again) == BRAIN_OK);
	check(again.len == len && memcmp(again.data, blob, len) == 0);
	brain__free(again.data);
	/* one byte short: never a cut document */
	if (jl > 0) {
		check(brain__meta_to_json(blob, len, json, jl) == jl);
		check(json[0] == '\0');
	}
	free(json);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the raw bytes as a blob, both ways */
	for (int patch = 0; patch <= 1; patch++) {
		int rc = brain__meta_check(data, size, patch);
		check(rc == BRAIN_OK || rc == BRAIN_ECORRUPT);
		if (rc == BRAIN_OK)
			use_checked(data, size, patch);
	}
	if (size == 0)
		return 0;

	bool patch = data[0] & 1;
	const char *json = (const char *)data + 1;
	size_t len = size - 1;
	brain_meta_blob b = {NULL, 0};
	int rc = brain__meta_from_json(json, len, patch, &b);
	if (rc != BRAIN_OK) {
		check(rc == BRAIN_EJSON || rc == BRAIN_ETOOLONG || rc == BRAIN_ENOMEM);
		check(b.data == NULL && b.len == 0);
		check(strncmp(brain_errmsg(), "metadata: ", 10) == 0);
		return 0;
	}
	check(b.data != NULL && b.len >= 4 && b.len <= BRAIN_META_BYTES_MAX);
	check(brain__meta_check(b.data, b.len, patch) == BRAIN_OK);
	use_checked(b.data, b.len, patch);

	/* merged onto itself: the fields it sets, as they are (its removals
	 * remove) */
	brain_meta_blob self, onto_empty, empty;
	check(brain__meta_from_json("{}", 2, false, &empty) == BRAIN_OK);
	check(brain__meta_patch(b.data, b.len, b.data, b.len, &self) == BRAIN_OK);
	check(brain__meta_check(self.data, self.len, false) == BRAIN_OK);
	use_checked(self.data, self.len, false);
	/* onto nothing, and onto an empty blob: the same result */
	check(brain__meta_patch(NULL, 0, b.data, b.len, &onto_empty) == BRAIN_OK);
	check(brain__meta_check(onto_empty.data, onto_empty.len, false) == BRAIN_OK);
	check(onto_empty.len == self.len && memcmp(onto_empty.data, self.data, self.len) == 0);
	brain__free(onto_empty.data);
	check(brain__meta_patch(empty.data, empty.len, b.data, b.len, &onto_empty) == BRAIN_OK);
	check(onto_empty.len == self.len && memcmp(onto_empty.data, self.data, self.len) == 0);
	/* without removals, a blob merged onto anything is itself */
	if (!patch)
		check(self.len == b.len && memcmp(self.data, b.data, b.len) == 0);
	/* the empty patch changes nothing */
	brain_meta_blob same;
	check(brain__meta_patch(self.data, self.len, empty.data, empty.len, &same) == BRAIN_OK);
	check(same.len == self.len && memcmp(same.data, self.data, self.len) == 0);
	brain__free(same.data);
	brain__free(onto_empty.data);
	brain__free(self.data);
	brain__free(empty.data);
	brain__free(b.data);
	return 0;
}

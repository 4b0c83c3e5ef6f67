/*
 * tests/fuzz/fuzz_embedder.c - libFuzzer target: arbitrary bytes into the
 * loaders of the embedders' files, which come from users and the network.
 * The first byte chooses the loader, the rest is the file:
 *
 *   0  a GGUF model (organs/cortex/gguf.c, model.c): refused, or loaded
 *      and able to embed a text without reading out of bounds
 *   1  a JSON document (base/json_walk.c: safetensors headers, config.json,
 *      tokenizer.json): refused, or walked through every value
 *   2  a vocab.txt (organs/cortex/wordpiece.c): refused, or a tokenizer
 *      that encodes the file's own text and a fixed one
 *
 * Seeds: corpus_embedder/ (a tiny GGUF model from tools/bert_model.py, a
 * safetensors header, a vocabulary).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"
#include "base/json_walk.h"
#include "organs/cortex/model.h"
#include "organs/cortex/wordpiece.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

static void walk(const brain_jv *v, int depth)
{
	check(depth <= 130);
	if (v->type == BRAIN_JV_ARRAY || v->type == BRAIN_JV_OBJECT) {
		brain_jv_iter it;
		brain_jv key, val;
		size_t n = 0;
		brain__jv_iter_init(&it, v);
		while (brain__jv_next(&it, v->type == BRAIN_JV_OBJECT ? &key : NULL, &val)) {
			if (v->type == BRAIN_JV_OBJECT) {
				char buf[64];
				size_t len;
				check(key.type == BRAIN_JV_STRING);
				(void)brain__jv_string(&key, buf, sizeof buf, &len);
			}
			walk(&val, depth + 1);
			n++;
		}
		check(n == brain__jv_count(v));
	} else if (v->type == BRAIN_JV_STRING) {
		char buf[256];
		size_t len;
		(void)brain__jv_string(v, buf, sizeof buf, &len);
	} else if (v->type == BRAIN_JV_NUMBER) {
		int64_t i;
		double d;
		(void)brain__jv_int(v, &i);
		(void)brain__jv_double(v, &d);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	int mode = data[0] % 3;
	data++;
	size--;
	/* an exact-size copy: an overread is ASan's to see */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (mode == 0) {
		brain_model *m = NULL;
		if (brain__model_from_gguf(copy, size, &m) == 0) {
			float *v = malloc(brain__model_dimensions(m) * sizeof *v);
			if (v) {
				(void)brain__model_embed(m, "Hello, world: a test of the fuzzer.", 35, v);
				free(v);
			}
			brain__model_free(m);
		}
	} else if (mode == 1) {
		brain_jv root;
		if (brain__jv_parse((const char *)copy, size, &root) == 0)
			walk(&root, 0);
	} else {
		brain_wordpiece *w = NULL;
		if (brain__wordpiece_from_vocab_txt((const char *)copy, size, true, &w) == 0) {
			static const char text[] = "Unaffable tokens, ##ing [UNK] caf\xc3\xa9";
			int32_t *ids = NULL;
			size_t n = 0;
			if (brain__wordpiece_encode(w, text, sizeof text - 1, &ids, &n) == 0) {
				for (size_t i = 0; i < n; i++)
					check(ids[i] >= 0 && (size_t)ids[i] < brain__wordpiece_size(w));
				brain__free(ids);
			}
			brain__wordpiece_free(w);
		}
	}
	free(copy);
	return 0;
}

/*
 * tests/fuzz/fuzz_text.c - libFuzzer target: arbitrary bytes through the
 * text API of one brain (remember, recall, think, forget, parameters).
 *
 * An input is a sequence of records separated by 0xFF: an operation byte,
 * then the text it works on. The brain lives across inputs (and is renewed
 * every few thousand operations), so the fuzzer also explores states that
 * many inputs built together. Every answer is checked for the promises of
 * the headers: NUL-terminated results, snprintf-like think output.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "braincore.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static brain_t *g_brain;
static unsigned g_ops;

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!g_brain || g_ops > 4000) {
		brain_destroy(g_brain);
		g_brain = brain_create();
		g_ops = 0;
		check(g_brain != NULL);
		brain_set_param(g_brain, BRAIN_PARAM_RECALL_MIN_SCORE, -1000);
	}
	char *text = malloc(size + 1);
	check(text != NULL);
	for (size_t i = 0; i < size;) {
		uint8_t op = data[i++];
		size_t j = i;
		while (j < size && data[j] != 0xFF)
			j++;
		memcpy(text, data + i, j - i);
		text[j - i] = '\0';
		i = j + 1;
		g_ops++;
		unsigned arg = op >> 3;
		switch (op & 7) {
		case 0:
		case 1:
			brain_remember(g_brain, text, (float)arg / 31.0f);
			break;
		case 2: {
			char **r = brain_recall(g_brain, text, 1 + (int)(arg % 5));
			for (size_t k = 0; r && r[k]; k++)
				(void)strlen(r[k]);
			free(r);
			break;
		}
		case 3: {
			char out[64];
			size_t cap = 2 + arg % 62;
			int n = brain_think(g_brain, text, out, cap);
			if (n >= 0) {
				size_t len = strlen(out);
				check(len < cap && len <= (size_t)n);
			}
			break;
		}
		case 4: {
			brain_results *r = NULL;
			if (brain_think_ex(g_brain, text, &r) == 0) {
				check(brain_results_answer(r) != NULL);
				for (size_t k = 0; k < brain_results_count(r); k++) {
					const char *t = brain_results_text(r, k);
					check(t && strlen(t) == brain_results_text_len(r, k));
				}
				brain_results_free(r);
			}
			break;
		}
		case 5: {
			brain_results *r = NULL;
			if (brain_recall_results(g_brain, text, 1 + arg, &r) == 0)
				brain_results_free(r);
			break;
		}
		case 6: {
			brain_id ids[4];
			size_t found = 0;
			if (brain_recall_ids(g_brain, text, 4, ids, NULL, &found) == 0)
				for (size_t k = 0; k < found; k++)
					check(brain_forget(g_brain, ids[k]) == 0);
			break;
		}
		default:
			brain_set_param(g_brain, BRAIN_PARAM_WORKING_MEMORY_SIZE, arg % 4);
			brain_set_param(g_brain, BRAIN_PARAM_RECALL_IMPORTANCE_WEIGHT, (int64_t)arg * 32);
			break;
		}
	}
	free(text);
	return 0;
}

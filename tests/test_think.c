/*
 * tests/test_think.c - think: answers from memory, "I don't know", buffer
 * semantics, generators, and context from working memory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "braincore.h"
#include "base/base.h"

static const char *const g_facts[] = {
	"The Eiffel Tower was finished in 1889 for the World's Fair in Paris.",
	"The Eiffel Tower is 330 metres tall.",
	"Mount Everest rises 8849 metres above sea level.",
	"Sourdough bread rises thanks to wild yeast and lactic acid bacteria.",
	"The café on Rue Cler serves crêpes with salted caramel.",
};

static brain_t *with_facts(void)
{
	brain_t *b = brain_create();
	for (size_t i = 0; i < sizeof g_facts / sizeof g_facts[0]; i++)
		assert_int_equal(brain_remember(b, g_facts[i], 0.5f), 0);
	return b;
}

static void test_think__answers_from_memory(void **state)
{
	(void)state;
	brain_t *b = with_facts();
	char out[1024];
	int n = brain_think(b, "When was the Eiffel Tower finished?", out, sizeof out);
	assert_true(n > 0);
	assert_int_equal((size_t)n, strlen(out));
	assert_non_null(strstr(out, g_facts[0]));
	assert_non_null(strstr(out, "memory 1")); /* names the memory it used */
	assert_non_null(strstr(out, "match"));

	brain_results *r = NULL;
	assert_int_equal(brain_think_ex(b, "When was the Eiffel Tower finished?", &r), 0);
	assert_true(brain_results_count(r) >= 1);
	assert_int_equal(brain_results_id(r, 0), 1);
	assert_non_null(brain_results_answer(r));
	assert_string_equal(brain_results_answer(r), out);
	brain_results_free(r);
	brain_destroy(b);
}

static void test_think__says_when_it_does_not_know(void **state)
{
	(void)state;
	brain_t *b = with_facts();
	brain_results *r = NULL;
	assert_int_equal(brain_think_ex(b, "Which planet has the most moons?", &r), 0);
	assert_int_equal(brain_results_count(r), 0);
	assert_non_null(strstr(brain_results_answer(r), "don't know"));
	brain_results_free(r);

	brain_t *empty = brain_create();
	char out[256];
	assert_true(brain_think(empty, "Anything?", out, sizeof out) > 0);
	assert_non_null(strstr(out, "don't know"));
	brain_destroy(empty);
	brain_destroy(b);
}

static void test_think__max_memories(void **state)
{
	(void)state;
	brain_t *b = with_facts();
	brain_results *r = NULL;
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_THINK_MIN_SCORE, -1000), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_THINK_RELATIVE_SCORE, 0), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_THINK_MAX_MEMORIES, 4), 0);
	assert_int_equal(brain_think_ex(b, "Eiffel Tower", &r), 0);
	assert_int_equal(brain_results_count(r), 4);
	brain_results_free(r);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_THINK_MAX_MEMORIES, 1), 0);
	assert_int_equal(brain_think_ex(b, "Eiffel Tower", &r), 0);
	assert_int_equal(brain_results_count(r), 1);
	brain_results_free(r);
	brain_destroy(b);
}

static void test_think__truncates_like_snprintf_on_characters(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	assert_int_equal(brain_remember(b, "Crêpes crêpes crêpes crêpes crêpes crêpes.", 0.5f), 0);
	char full[512];
	int n = brain_think(b, "crêpes", full, sizeof full);
	assert_true(n > 40);
	/* every buffer size: a NUL-terminated prefix that ends on a whole
	 * character, and the same full length returned */
	for (size_t size = 2; size <= (size_t)n + 1; size++) {
		char *out = malloc(size);
		assert_int_equal(brain_think(b, "crêpes", out, size), n);
		size_t len = strlen(out);
		assert_true(len < size);
		assert_memory_equal(out, full, len);
		assert_int_equal(brain__utf8_floor(out, len), len);
		/* the cut is as late as a whole character allows */
		assert_true(len + 4 > size - 1 || len == (size_t)n);
		free(out);
	}
	brain_destroy(b);
}

typedef struct gen_state {
	int calls;
	int mode;
	size_t seen_memories;
	char seen_first[128];
} gen_state;

static int generator(const char *input, const brain_results *memories, char *output,
                     size_t size, void *payload)
{
	gen_state *g = payload;
	g->calls++;
	g->seen_memories = brain_results_count(memories);
	snprintf(g->seen_first, sizeof g->seen_first, "%s",
	         g->seen_memories ? brain_results_text(memories, 0) : "");
	switch (g->mode) {
	case 0:
		return snprintf(output, size, "model says: %s (%zu)", input, g->seen_memories);
	case 1:
		return -7;
	case 2:
		memset(output, 'x', size - 1);
		output[size - 1] = '\0';
		return (int)size + 10; /* "did not fit" */
	case 3:
		strcpy(output, "short");
		return 12; /* lies about the length */
	default:
		strcpy(output, "bad \xff utf8");
		return (int)strlen(output);
	}
}

static void test_think__generator(void **state)
{
	(void)state;
	brain_t *b = with_facts();
	gen_state g = {0};
	assert_int_equal(brain_set_generator(b, generator, &g), 0);
	char out[256];
	int n = brain_think(b, "How tall is Mount Everest?", out, sizeof out);
	assert_int_equal(g.calls, 1);
	assert_true(g.seen_memories >= 1);
	assert_string_equal(g.seen_first, g_facts[2]);
	char expect[256];
	snprintf(expect, sizeof expect, "model says: How tall is Mount Everest? (%zu)",
	         g.seen_memories);
	assert_string_equal(out, expect);
	assert_int_equal(n, (int)strlen(expect));

	g.mode = 1;
	assert_int_equal(brain_think(b, "x y z", out, sizeof out), BRAIN_EGENERATOR);
	assert_non_null(strstr(brain_errmsg(), "-7"));
	g.mode = 2;
	assert_int_equal(brain_think(b, "x y z", out, sizeof out), BRAIN_EGENERATOR);
	g.mode = 3;
	assert_int_equal(brain_think(b, "x y z", out, sizeof out), BRAIN_EGENERATOR);
	g.mode = 4;
	assert_int_equal(brain_think(b, "x y z", out, sizeof out), BRAIN_EGENERATOR);
	assert_non_null(strstr(brain_errmsg(), "UTF-8"));

	assert_int_equal(brain_set_generator(b, NULL, NULL), 0);
	assert_true(brain_think(b, "How tall is Mount Everest?", out, sizeof out) > 0);
	assert_non_null(strstr(out, "8849"));
	assert_int_equal(brain_set_generator(NULL, NULL, NULL), BRAIN_ENULL);
	brain_destroy(b);
}

static void test_think__follow_up_uses_context(void **state)
{
	(void)state;
	brain_t *b = with_facts();
	brain_results *r = NULL;
	assert_int_equal(brain_think_ex(b, "Tell me about the Eiffel Tower.", &r), 0);
	assert_true(brain_results_count(r) >= 1);
	assert_null(strstr(brain_results_answer(r), "follow-up"));
	brain_results_free(r);
	/* alone, "when was it built" matches nothing; as a follow-up of the
	 * Eiffel Tower question, the tower's completion */
	assert_int_equal(brain_think_ex(b, "When was it built?", &r), 0);
	assert_true(brain_results_count(r) >= 1);
	assert_int_equal(brain_results_id(r, 0), 1);
	assert_non_null(strstr(brain_results_answer(r), "follow-up"));
	assert_non_null(strstr(brain_results_answer(r), "Tell me about the Eiffel Tower."));
	brain_results_free(r);
	/* a question that names its own subject is read on its own */
	assert_int_equal(brain_think_ex(b, "What makes sourdough bread rise?", &r), 0);
	assert_null(strstr(brain_results_answer(r), "follow-up"));
	assert_int_equal(brain_results_id(r, 0), 4);
	brain_results_free(r);
	/* an unknown question that does not refer back: no context */
	assert_int_equal(brain_think_ex(b, "Who painted the Mona Lisa?", &r), 0);
	assert_int_equal(brain_results_count(r), 0);
	assert_non_null(strstr(brain_results_answer(r), "don't know"));
	brain_results_free(r);

	/* without working memory there is no context */
	brain_t *fresh = with_facts();
	assert_int_equal(brain_set_param(fresh, BRAIN_PARAM_WORKING_MEMORY_SIZE, 0), 0);
	assert_int_equal(brain_think_ex(fresh, "Tell me about the Eiffel Tower.", &r), 0);
	brain_results_free(r);
	assert_int_equal(brain_think_ex(fresh, "When was it built?", &r), 0);
	assert_int_equal(brain_results_count(r), 0);
	assert_null(strstr(brain_results_answer(r), "follow-up"));
	brain_results_free(r);
	/* nor when working memory is switched off after the exchange */
	brain_destroy(fresh);
	fresh = with_facts();
	assert_int_equal(brain_think_ex(fresh, "Tell me about the Eiffel Tower.", &r), 0);
	brain_results_free(r);
	assert_int_equal(brain_set_param(fresh, BRAIN_PARAM_WORKING_MEMORY_SIZE, 0), 0);
	assert_int_equal(brain_think_ex(fresh, "When was it built?", &r), 0);
	assert_int_equal(brain_results_count(r), 0);
	brain_results_free(r);
	/* nor with a zero context weight */
	brain_destroy(fresh);
	fresh = with_facts();
	assert_int_equal(brain_set_param(fresh, BRAIN_PARAM_THINK_CONTEXT_WEIGHT, 0), 0);
	assert_int_equal(brain_think_ex(fresh, "Tell me about the Eiffel Tower.", &r), 0);
	brain_results_free(r);
	assert_int_equal(brain_think_ex(fresh, "When was it built?", &r), 0);
	assert_int_equal(brain_results_count(r), 0);
	brain_results_free(r);
	brain_destroy(fresh);
	brain_destroy(b);
}

static void test_think__follow_up_reorders_what_it_recalls(void **state)
{
	(void)state;
	brain_t *b = brain_create();
	brain_id giraffe, tower;
	assert_int_equal(brain_remember_ex(b, "Giraffes are tall, very tall animals.", NULL, 0.5f,
	                                   &giraffe),
	                 0);
	assert_int_equal(brain_remember_ex(b, "The Eiffel Tower is 330 metres tall.", NULL, 0.5f,
	                                   &tower),
	                 0);
	assert_int_equal(brain_remember(b, "The Eiffel Tower stands in Paris.", 0.5f), 0);
	brain_results *r = NULL;
	/* alone, the giraffes are the tall thing */
	assert_int_equal(brain_recall_results(b, "How tall is it?", 1, &r), 0);
	assert_int_equal(brain_results_id(r, 0), giraffe);
	brain_results_free(r);
	assert_int_equal(brain_think_ex(b, "Where is the Eiffel Tower?", &r), 0);
	brain_results_free(r);
	/* after the tower, "it" is the tower */
	assert_int_equal(brain_think_ex(b, "How tall is it?", &r), 0);
	assert_int_equal(brain_results_id(r, 0), tower);
	assert_non_null(strstr(brain_results_answer(r), "follow-up"));
	brain_results_free(r);
	brain_destroy(b);
}

static void test_think__relative_score_drops_trailing_matches(void **state)
{
	(void)state;
	brain_t *b = with_facts();
	brain_results *r = NULL;
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_THINK_MIN_SCORE, -1000), 0);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_THINK_RELATIVE_SCORE, 0), 0);
	assert_int_equal(brain_think_ex(b, "Mount Everest", &r), 0);
	assert_int_equal(brain_results_count(r), 3);
	float top = brain_results_score(r, 0), last = brain_results_score(r, 2);
	brain_results_free(r);
	assert_true(last < 0.9f * top);
	/* keep only what scores at least 90% of the best */
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_THINK_RELATIVE_SCORE, 900), 0);
	assert_int_equal(brain_think_ex(b, "Mount Everest", &r), 0);
	assert_true(brain_results_count(r) >= 1 && brain_results_count(r) < 3);
	for (size_t i = 0; i < brain_results_count(r); i++)
		assert_true(brain_results_score(r, i) >= 0.9f * top);
	brain_results_free(r);
	brain_destroy(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_think__answers_from_memory),
		cmocka_unit_test(test_think__says_when_it_does_not_know),
		cmocka_unit_test(test_think__max_memories),
		cmocka_unit_test(test_think__truncates_like_snprintf_on_characters),
		cmocka_unit_test(test_think__generator),
		cmocka_unit_test(test_think__follow_up_uses_context),
		cmocka_unit_test(test_think__follow_up_reorders_what_it_recalls),
		cmocka_unit_test(test_think__relative_score_drops_trailing_matches),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

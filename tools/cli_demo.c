/*
 * tools/cli_demo.c - `braincore demo`: remembers the built-in corpus
 * (demo_corpus.c), then shows recalls and thinks over it. Every score and
 * answer shown comes from the library at run time.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <braincore.h>

#include "cli_json.h"
#include "cli_output.h"
#include "demo_corpus.h"

/* Memories each demo recall shows. */
#define DEMO_RECALL_K 3

/* Memories per topic, in the corpus's order: "astronomy 5, geography 6". */
static void print_topics(void)
{
	const char *indent = "  ";
	size_t col = 0;
	for (size_t i = 0; i < demo_fact_count; i++) {
		size_t n = 0, seen = 0;
		for (size_t t = 0; t < demo_fact_count; t++) {
			if (strcmp(demo_facts[t].topic, demo_facts[i].topic) == 0) {
				n++;
				if (t < i)
					seen = 1;
			}
		}
		if (seen)
			continue;
		char item[96];
		int len = snprintf(item, sizeof item, "%s%s %zu", col ? ", " : "",
		                   demo_facts[i].topic, n);
		if (len < 0)
			continue;
		if (col && col + (size_t)len > 76) {
			fputs(",\n", stdout);
			col = 0;
			len = snprintf(item, sizeof item, "%s %zu", demo_facts[i].topic, n);
			if (len < 0)
				continue;
		}
		if (col == 0)
			fputs(indent, stdout);
		fputs(item, stdout);
		col += (size_t)len;
	}
	fputc('\n', stdout);
}

int cli_demo(brain_t *b, int json)
{
	brain_id *ids = calloc(demo_fact_count, sizeof *ids);
	int ex = CLI_EXIT_OK;
	if (!ids)
		return cli_out_of_memory();
	float imp_min = 1.0f, imp_max = 0.0f;
	for (size_t i = 0; i < demo_fact_count; i++) {
		imp_min = fminf(imp_min, demo_facts[i].importance);
		imp_max = fmaxf(imp_max, demo_facts[i].importance);
		int rc = brain_remember_ex(b, demo_facts[i].text, NULL, demo_facts[i].importance,
		                           &ids[i]);
		if (rc) {
			free(ids);
			return cli_refused(rc, "demo corpus");
		}
	}

	cli_json j;
	cli_json_init(&j);
	double w = (double)cli_get_param(b, BRAIN_PARAM_RECALL_IMPORTANCE_WEIGHT) / 1000.0;
	double think_min = (double)cli_get_param(b, BRAIN_PARAM_THINK_MIN_SCORE) / 1000.0;
	int64_t think_max = cli_get_param(b, BRAIN_PARAM_THINK_MAX_MEMORIES);
	if (json) {
		cli_json_begin_object(&j);
		cli_json_key(&j, "version");
		cli_json_string(&j, brain_version_string());
		cli_json_key(&j, "dimensions");
		cli_json_uint(&j, brain_dimensions(b));
		cli_json_key(&j, "params");
		cli_params_json(&j, b);
		cli_json_key(&j, "memories");
		cli_json_begin_array(&j);
		for (size_t i = 0; i < demo_fact_count; i++) {
			cli_json_begin_object(&j);
			cli_json_key(&j, "id");
			cli_json_uint(&j, ids[i]);
			cli_json_key(&j, "topic");
			cli_json_string(&j, demo_facts[i].topic);
			cli_json_key(&j, "importance");
			cli_json_number(&j, (double)demo_facts[i].importance, 3);
			cli_json_key(&j, "text");
			cli_json_string(&j, demo_facts[i].text);
			cli_json_end_object(&j);
		}
		cli_json_end_array(&j);
		cli_json_key(&j, "recall");
		cli_json_begin_array(&j);
	} else {
		printf("braincore %s demo: an in-memory brain, %" PRIu32
		       " dimensions, built-in embedder\n\n",
		       brain_version_string(), brain_dimensions(b));
		printf("Remembered %" PRIu64 " memories (ids #%" PRIu64 "-#%" PRIu64
		       ", importance %.1f-%.1f):\n",
		       brain_count(b), ids[0], ids[demo_fact_count - 1], (double)imp_min,
		       (double)imp_max);
		print_topics();
		printf("\nRecall: the %d best memories for a query, by score = cosine similarity\n"
		       "(1 = the same words) x (1 + %.2f x (importance - 0.5)).\n",
		       DEMO_RECALL_K, w);
	}

	for (size_t q = 0; q < demo_recall_query_count; q++) {
		brain_results *r = NULL;
		int rc = brain_recall_results(b, demo_recall_queries[q], DEMO_RECALL_K, &r);
		if (rc) {
			ex = cli_refused(rc, "demo recall");
			goto done;
		}
		if (json) {
			cli_json_begin_object(&j);
			cli_json_key(&j, "query");
			cli_json_string(&j, demo_recall_queries[q]);
			cli_json_key(&j, "results");
			cli_results_json(&j, r);
			cli_json_end_object(&j);
		} else {
			printf("\n  ? %s\n", demo_recall_queries[q]);
			if (brain_results_count(r) == 0)
				printf("    no memory matches\n");
			cli_print_memories(r, "    ");
		}
		brain_results_free(r);
	}

	if (json) {
		cli_json_end_array(&j);
		cli_json_key(&j, "think");
		cli_json_begin_array(&j);
	} else {
		printf("\nThink: recall, then answer from the memories scoring above %.3f\n"
		       "(at most %" PRId64 "); the previous exchange is context for the next.\n",
		       think_min, think_max);
	}
	for (size_t q = 0; q < demo_question_count; q++) {
		const demo_question *dq = &demo_questions[q];
		brain_results *r = NULL;
		int rc = brain_think_ex(b, dq->input, &r);
		if (rc) {
			ex = cli_refused(rc, "demo think");
			goto done;
		}
		const char *answer = brain_results_answer(r);
		if (json) {
			cli_json_begin_object(&j);
			cli_json_key(&j, "kind");
			cli_json_string(&j, dq->kind);
			cli_json_key(&j, "input");
			cli_json_string(&j, dq->input);
			cli_json_key(&j, "answer");
			cli_json_string(&j, answer ? answer : "");
			cli_json_key(&j, "knows");
			cli_json_bool(&j, brain_results_count(r) > 0);
			cli_json_key(&j, "memories");
			cli_results_json(&j, r);
			cli_json_end_object(&j);
		} else {
			printf("\n  (%s: %s)\n  > %s\n", dq->kind, dq->note, dq->input);
			cli_put_lines(stdout, answer ? answer : "", "    ");
		}
		brain_results_free(r);
	}
	if (json) {
		cli_json_end_array(&j);
		cli_json_end_object(&j);
	}
	ex = cli_finish_output(json ? &j : NULL);
done:
	cli_json_free(&j);
	free(ids);
	return ex;
}

/*
 * tools/demo_corpus.h - the built-in corpus and queries of `braincore demo`.
 *
 * Only inputs live here: facts to remember and questions to ask. Every
 * score, ranking and answer the demo shows is computed by the library when
 * it runs.
 */
#ifndef BRAINCORE_DEMO_CORPUS_H
#define BRAINCORE_DEMO_CORPUS_H

#include <stddef.h>

typedef struct demo_fact {
	const char *topic;
	float importance;
	const char *text;
} demo_fact;

/* What a think question is meant to show. */
typedef struct demo_question {
	const char *kind;  /* "answerable", "paraphrase", "context", "follow-up", "unknown" */
	const char *note;  /* one line for the human output: what to look for */
	const char *input;
} demo_question;

extern const demo_fact demo_facts[];
extern const size_t demo_fact_count;

extern const char *const demo_recall_queries[];
extern const size_t demo_recall_query_count;

extern const demo_question demo_questions[];
extern const size_t demo_question_count;

#endif /* BRAINCORE_DEMO_CORPUS_H */

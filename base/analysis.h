/*
 * base/analysis.h - the result of analysing a text (Pancreas output, read by
 * the Cortex and by keyword indexes): normalised text, words and character
 * n-grams. Part of the Spine's message contract.
 */
#ifndef BRAIN_ANALYSIS_H
#define BRAIN_ANALYSIS_H

#include "base/base.h"

/* A word: bytes [off, off + len) of brain_analysis.text. */
typedef struct brain_word_span {
	uint32_t off;
	uint32_t len;
} brain_word_span;

enum brain_gram_flags {
	BRAIN_GRAM_BOW = 1, /* the gram starts at the beginning of its word */
	BRAIN_GRAM_EOW = 2  /* the gram ends at the end of its word */
};

/* A character n-gram of a word, as in fastText: the word is framed by
 * virtual boundary markers, "<cafe>", and every run of n symbols of the
 * frame is a gram. Its real characters are bytes [off, off + len) of
 * brain_analysis.text; flags say whether the frame's '<' and '>' are part of
 * it; n counts symbols including the markers. */
typedef struct brain_gram {
	uint32_t off;
	uint32_t len;
	uint8_t n;
	uint8_t flags;
} brain_gram;

/* Output of an analysis. Buffers are owned and grown by the analysis and
 * reused by the next one (init once, analyse many times, free once). */
typedef struct brain_analysis {
	char *text;        /* normalised words separated by one ' ', NUL-terminated */
	size_t text_len;
	size_t text_cap;
	brain_word_span *words; /* in order of appearance */
	size_t nwords;
	size_t words_cap;
	brain_gram *grams; /* word by word, by position, then by n */
	size_t ngrams;
	size_t grams_cap;
} brain_analysis;

void brain__analysis_init(brain_analysis *a);
void brain__analysis_free(brain_analysis *a);

/* The keyword index's terms of an analysed text: its words, hashed, in
 * order, into *terms (brain__malloc'ed, the caller frees; a's nwords of
 * them). Where the text is analysed anyway (the Cortex's embedding), they
 * come from there; the Hippocampus analyses only texts that came without.
 * 0 or BRAIN_ENOMEM. */
int brain__analysis_terms(const brain_analysis *a, uint64_t **terms);

#endif /* BRAIN_ANALYSIS_H */

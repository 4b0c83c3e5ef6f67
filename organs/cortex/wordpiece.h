/*
 * organs/cortex/wordpiece.h - the WordPiece tokenizer of BERT sentence
 * encoders: a text to the ids of its tokens, as Hugging Face transformers'
 * BertTokenizer gives them (its slow, Python tokenizer; see wordpiece.c for
 * the rules and for where the fast one differs).
 *
 * A tokenizer is made from a vocabulary (vocab.txt, tokenizer.json's vocab
 * in id order, or a GGUF file's tokenizer.ggml.tokens), never changes after,
 * and may be used by any number of threads at once.
 */
#ifndef BRAIN_ORGANS_CORTEX_WORDPIECE_H
#define BRAIN_ORGANS_CORTEX_WORDPIECE_H

#include "base/base.h"

typedef struct brain_wordpiece brain_wordpiece;

/* How a vocabulary writes its pieces. */
enum brain_wp_style {
	/* vocab.txt, tokenizer.json: a piece that continues a word starts
	 * with "##" ("un", "##aff", "##able") */
	BRAIN_WP_HF = 0,
	/* llama.cpp's conversion to GGUF: a word's first piece starts with
	 * U+2581 "▁" ("▁un"), a continuation has no prefix ("aff"), and a
	 * token in brackets ("[CLS]") is as it was */
	BRAIN_WP_GGUF = 1
};

/* The special tokens, looked up by these names. */
enum brain_wp_special {
	BRAIN_WP_CLS, /* "[CLS]" */
	BRAIN_WP_SEP, /* "[SEP]" */
	BRAIN_WP_UNK, /* "[UNK]" */
	BRAIN_WP_PAD, /* "[PAD]" */
	BRAIN_WP_MASK, /* "[MASK]" */
	BRAIN_WP__SPECIALS
};

/* Limits of a vocabulary. */
#define BRAIN_WP_MAX_TOKENS (1u << 24)
#define BRAIN_WP_MAX_TOKEN_BYTES 1024
/* A word of more characters (after normalisation) is one [UNK]. */
#define BRAIN_WP_MAX_WORD_CHARS 100

/* A tokenizer from the text of a vocab.txt: one token a line, its id its
 * line's number from 0. Lines end with "\n", "\r\n" or "\r" (Python's
 * universal newlines, as transformers reads the file); a last line
 * without an end counts, an empty line is the token "", and a byte order
 * mark is part of the first token (as Python reads it). When a token
 * occurs twice, the later line's id is the one the text gets (as in
 * transformers' load_vocab). lowercase: do_lower_case (uncased models).
 *
 * Errors: BRAIN_ENULL (text or out NULL), BRAIN_EUTF8 (with the byte
 * offset), BRAIN_EINVAL (no token, or no "[UNK]"), BRAIN_ETOOLONG (a token
 * over BRAIN_WP_MAX_TOKEN_BYTES, more than BRAIN_WP_MAX_TOKENS),
 * BRAIN_ENOMEM. *out is NULL on error; free with brain__wordpiece_free. */
int brain__wordpiece_from_vocab_txt(const char *text, size_t len, bool lowercase,
                                    brain_wordpiece **out);

/* A tokenizer from n tokens in id order, tokens[i] of lens[i] bytes (lens
 * NULL: each NUL-terminated), written in `style` (enum brain_wp_style).
 * The tokens are copied. Duplicates and errors as above, and BRAIN_EINVAL
 * for an unknown style, BRAIN_ENULL for a NULL token. */
int brain__wordpiece_from_tokens(const char *const *tokens, const size_t *lens, size_t n,
                                 int style, bool lowercase, brain_wordpiece **out);

/* NULL is a no-op. */
void brain__wordpiece_free(brain_wordpiece *w);

/* The number of ids (the vocabulary's lines or tokens, duplicates too). */
size_t brain__wordpiece_size(const brain_wordpiece *w);

/* The id of a special token (enum brain_wp_special), -1 if the vocabulary
 * has none (or `which` is out of range). [UNK] is always there. */
int32_t brain__wordpiece_special(const brain_wordpiece *w, int which);

/* Was the tokenizer made for an uncased model? */
bool brain__wordpiece_lowercase(const brain_wordpiece *w);

/* The ids of the tokens of text[0..len) (UTF-8; NUL bytes are dropped, as
 * BERT's text cleaning does), without [CLS] and [SEP] and never
 * truncated: *ids is allocated with brain__malloc and the caller frees it
 * with brain__free (NULL when there is none), *n their count. A special
 * token written in the text ("[SEP]") is that token, when the vocabulary
 * has it. Time linear in len; nothing allocated per word.
 *
 * Errors: BRAIN_ENULL, BRAIN_EUTF8 (the message names the byte offset),
 * BRAIN_ENOMEM; then *ids is NULL and *n 0. */
int brain__wordpiece_encode(const brain_wordpiece *w, const char *text, size_t len,
                            int32_t **ids, size_t *n);

/* Bytes the tokenizer holds, for memory accounting. */
size_t brain__wordpiece_bytes(const brain_wordpiece *w);

#endif /* BRAIN_ORGANS_CORTEX_WORDPIECE_H */

/*
 * index/keyword.h - the keyword index: an inverted index of the words of
 * memory texts, ranked by BM25 (index/keyword.c).
 *
 * A document is a slot and the sequence of its terms: 64-bit hashes of the
 * Pancreas's normalised words (the same words the embedder sees), in
 * order, a word that appears twice counted twice. The index keeps per term
 * its postings (slot, term frequency) and per document its length and its
 * distinct terms (so that removing or moving a document touches only its
 * own postings).
 *
 * Ranking is BM25 as SQLite FTS5 computes it (so the two can be compared
 * on the same texts): for each query term t present in document d,
 *
 *     idf(t)   = ln((N - n(t) + 0.5) / (n(t) + 0.5)), at least 1e-6
 *     score   += idf(t) * ((tf * (k1 + 1)) / (tf + k1 * (1 - b + b * |d| / avgdl)))
 *
 * with N the documents, n(t) those holding t, |d| the document's terms,
 * avgdl their mean, k1 = 1.2, b = 0.75. A query term given twice counts
 * twice (as in FTS5). Ties go to the smaller slot.
 *
 * Not thread-safe by itself: the Hippocampus calls it under the brain's
 * lock (changes under the write lock, searches under the read lock; a
 * search never writes to the index).
 */
#ifndef BRAIN_INDEX_KEYWORD_H
#define BRAIN_INDEX_KEYWORD_H

#include "base/base.h"

#define BRAIN_KW_K1 1.2
#define BRAIN_KW_B 0.75

typedef struct brain_keyword brain_keyword;

/* A new empty index in *out: 0 or BRAIN_ENOMEM. */
int brain__kw_new(brain_keyword **out);
void brain__kw_free(brain_keyword *k);

/* Add document `slot` (not in the index) with its n terms in order (n may
 * be 0: a document with no words, counted in N). 0; BRAIN_ENOMEM, and then
 * the index is as before; BRAIN_EEXISTS (slot present), BRAIN_ERANGE (slot
 * UINT32_MAX), BRAIN_ETOOLONG (over 2^32 - 1 terms). */
int brain__kw_add(brain_keyword *k, uint32_t slot, const uint64_t *terms, size_t n);

/* Remove document `slot`; nothing if it is not there. Never allocates. */
void brain__kw_remove(brain_keyword *k, uint32_t slot);

/* Document `from` becomes document `to` (a free slot; compaction). Never
 * allocates. */
void brain__kw_move(brain_keyword *k, uint32_t from, uint32_t to);

/* Is `slot` a document of the index? */
bool brain__kw_has(const brain_keyword *k, uint32_t slot);

/* Documents in the index. */
uint64_t brain__kw_docs(const brain_keyword *k);

/* The `topk` best documents for the nq query terms by BM25, best first,
 * into slots[] and scores[] (capacity topk; scores positive, higher is
 * better), *found of them. Only documents that hold at least one query
 * term are ranked; with require_all, only those that hold every distinct
 * query term (none if a query term is in no document, as FTS5's AND);
 * with accept, only those it takes. 0 or BRAIN_ENOMEM. */
int brain__kw_search(const brain_keyword *k, const uint64_t *q, size_t nq, size_t topk,
                     bool require_all, bool (*accept)(uint32_t slot, void *payload),
                     void *payload, uint32_t *slots, float *scores, size_t *found);

/* The BM25 score of one document for the query (0 if it holds no query
 * term, or is not in the index), computed as the search computes it: for
 * checks (test_keyword compares the search with it, and it with a BM25
 * written apart). */
double brain__kw_score(const brain_keyword *k, uint32_t slot, const uint64_t *q, size_t nq);

/* Write the whole index through write() (a checkpoint section), and read
 * it back into an empty index from `len` bytes (checked: BRAIN_ECORRUPT
 * naming what is wrong for bytes that cannot be what save wrote, and
 * nothing kept). */
int brain__kw_save(const brain_keyword *k, int (*write)(void *ctx, const void *p, size_t n),
                   void *ctx);
int brain__kw_load(brain_keyword *k, const void *data, size_t len);

/* Bytes held. */
size_t brain__kw_bytes(const brain_keyword *k);

#endif /* BRAIN_INDEX_KEYWORD_H */

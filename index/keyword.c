/*
 * index/keyword.c - the keyword index of keyword.h: an inverted index over
 * 64-bit term hashes, ranked by BM25 computed as SQLite FTS5's bm25().
 *
 * Layout. Terms: a brain_map from term hash to term index, and per term
 * its postings (document, tf) in no particular order; df is the number in
 * use. Most terms of a vocabulary occur in one document, so a term's first
 * posting lives inside the term itself and an array is made only for the
 * second. A term whose last posting goes leaves the map, and its index
 * goes on a free list for the next new term.
 *
 * Documents: records in a dense array (a removed one is replaced by the
 * last), and a brain_map32 from slot to record. Postings name the record,
 * not the slot, so that a move only changes the map (O(1), and the map
 * cannot grow: a key leaves before one comes) and a search finds each
 * posting's document length by index. Per record: its slot, its length,
 * and its distinct terms as (term index, position of its posting in the
 * term's array) sorted by term index. The position makes removal cost
 * O(distinct terms * log): a posting is replaced by the term's last one,
 * whose document's entry is found by binary search and repointed.
 *
 * Search is term at a time: each query term's postings add their part to
 * an accumulator per document (a dense array over the records when the
 * postings are at least half as many, a map otherwise), then a bounded
 * min-heap keeps the best topk by (score, smaller slot). A term's part is
 * bm25_part() in both search and score, summed in the order of the query,
 * so the two give the same double.
 *
 * Byte format of save/load (all integers little-endian):
 *
 *   offset  size
 *        0     4  magic "KWIX"
 *        4     4  version, 1
 *        8     8  D, documents
 *       16     8  T, terms (each held by at least one document)
 *       24     8  P, postings (the sum of the terms' df)
 *       32     8  L, the sum of the documents' lengths
 *       40   8*D  per document: u32 slot (each once, never UINT32_MAX),
 *                 u32 length (its terms, repeats counted)
 *        .     .  per term: u64 hash (never UINT64_MAX), u32 df >= 1, then
 *                 df times u32 slot, u32 tf >= 1 (slots of documents
 *                 above, each at most once per term)
 *
 * The file is exactly 40 + 8D + 12T + 8P bytes, and every document's tfs
 * add up to its length.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/hashmap.h"
#include "index/keyword.h"

#define NO_TERM UINT32_MAX
#define MAX_DOCS (UINT32_MAX - 1u) /* record indices fit the maps' values */

#define KW_MAGIC 0x5849574bu /* "KWIX" */
#define KW_VERSION 1u
#define KW_HEADER 40u

typedef struct kw_post {
	uint32_t doc; /* record */
	uint32_t tf;
} kw_post;

typedef struct kw_term {
	uint64_t hash; /* its key in the map */
	union {
		kw_post *many; /* cap > 1 */
		kw_post one;   /* cap == 1; cap == 0 (a free term): one.doc is the next free */
	} p;
	uint32_t df; /* postings in use */
	uint32_t cap;
} kw_term;

typedef struct kw_ent {
	uint32_t term;
	uint32_t pos; /* of the document's posting in the term's array */
} kw_ent;

typedef struct kw_doc {
	kw_ent *ents; /* distinct terms, by term index */
	uint32_t n_ents;
	uint32_t slot;
	uint32_t len;
} kw_doc;

struct brain_keyword {
	brain_map by_hash; /* term hash -> term index */
	kw_term *terms;
	uint32_t n_terms;    /* indices in use, free ones included */
	uint32_t cap_terms;
	uint32_t live_terms; /* with df >= 1: those in the map */
	uint32_t free_term;  /* head of the free list, NO_TERM if empty */
	brain_map32 by_slot; /* slot -> record */
	kw_doc *docs;
	uint32_t n_docs;
	uint32_t cap_docs;
	uint64_t total_len;
	uint64_t n_posts;
	size_t heap; /* bytes of postings arrays and entries */
};

/* ---- small helpers ------------------------------------------------------- */

/* The map reserves UINT64_MAX for its empty cells. */
static inline uint64_t term_key(uint64_t hash)
{
	return hash == BRAIN_MAP_EMPTY ? BRAIN_MAP_EMPTY - 1 : hash;
}

static inline kw_post *posts_of(kw_term *t)
{
	return t->cap > 1 ? t->p.many : &t->p.one;
}

static inline const kw_post *cposts_of(const kw_term *t)
{
	return t->cap > 1 ? t->p.many : &t->p.one;
}

/* The record of a slot, or NULL. */
static const kw_doc *doc_at(const brain_keyword *k, uint32_t slot)
{
	uint32_t r;
	return brain__map32_get(&k->by_slot, slot, &r) ? &k->docs[r] : NULL;
}

static kw_ent *ent_find(const kw_doc *d, uint32_t term)
{
	size_t lo = 0, hi = d->n_ents;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (d->ents[mid].term < term)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < d->n_ents && d->ents[lo].term == term ? &d->ents[lo] : NULL;
}

/* FTS5: idf = log((nRow - nHit + 0.5) / (nHit + 0.5)), 1e-6 if not above 0. */
static inline double idf_of(uint64_t n_docs, uint32_t df)
{
	double idf = log(((double)(n_docs - df) + 0.5) / ((double)df + 0.5));
	return idf <= 0.0 ? 1e-6 : idf;
}

/* One query term's part of a document's score, parenthesised as FTS5's
 * fts5Bm25Function() does, so that the two round alike. */
static inline double bm25_part(double idf, uint32_t tf, uint32_t len, double avgdl)
{
	double f = (double)tf;
	return idf * ((f * (BRAIN_KW_K1 + 1.0)) /
	              (f + BRAIN_KW_K1 * (1.0 - BRAIN_KW_B + BRAIN_KW_B * (double)len / avgdl)));
}

static inline double avgdl_of(const brain_keyword *k)
{
	return (double)k->total_len / (double)k->n_docs;
}

/* ---- life ---------------------------------------------------------------- */

static void kw_init(brain_keyword *k)
{
	memset(k, 0, sizeof *k);
	brain__map_init(&k->by_hash);
	brain__map32_init(&k->by_slot);
	k->free_term = NO_TERM;
}

/* Frees what k holds; works on a half-built index (load). */
static void kw_release(brain_keyword *k)
{
	for (uint32_t t = 0; t < k->n_terms; t++)
		if (k->terms[t].cap > 1)
			brain__free(k->terms[t].p.many);
	brain__free(k->terms);
	for (uint32_t r = 0; r < k->n_docs; r++)
		brain__free(k->docs[r].ents);
	brain__free(k->docs);
	brain__map_free(&k->by_hash);
	brain__map32_free(&k->by_slot);
	kw_init(k);
}

int brain__kw_new(brain_keyword **out)
{
	if (!out)
		return brain__err(BRAIN_ENULL, "keyword index: out is NULL");
	*out = brain__malloc(sizeof **out);
	if (!*out)
		return brain__oom(sizeof **out, "keyword index");
	kw_init(*out);
	return BRAIN_OK;
}

void brain__kw_free(brain_keyword *k)
{
	if (!k)
		return;
	kw_release(k);
	brain__free(k);
}

bool brain__kw_has(const brain_keyword *k, uint32_t slot)
{
	return k && doc_at(k, slot);
}

uint64_t brain__kw_docs(const brain_keyword *k)
{
	return k ? k->n_docs : 0;
}

size_t brain__kw_bytes(const brain_keyword *k)
{
	if (!k)
		return 0;
	return sizeof *k + brain__map_memory(&k->by_hash) + brain__map32_memory(&k->by_slot) +
	       (size_t)k->cap_terms * sizeof(kw_term) + (size_t)k->cap_docs * sizeof(kw_doc) +
	       k->heap;
}

/* Room for one record more (kept if a later step of add fails: capacity,
 * invisible otherwise). */
static int reserve_doc(brain_keyword *k)
{
	if (k->n_docs >= MAX_DOCS)
		return brain__err(BRAIN_EFULL, "keyword index: %u documents already", k->n_docs);
	if (k->n_docs == k->cap_docs) {
		size_t cap = BRAIN_MIN((size_t)k->cap_docs + k->cap_docs / 2 + 16, (size_t)MAX_DOCS);
		kw_doc *d = brain__realloc(k->docs, cap * sizeof *d);
		if (!d)
			return brain__oom(cap * sizeof *d, "keyword documents");
		k->docs = d;
		k->cap_docs = (uint32_t)cap;
	}
	return brain__map32_reserve(&k->by_slot, (size_t)k->n_docs + 1);
}

/* ---- add ----------------------------------------------------------------- */

/* Room for a posting more in term t (capacity only, kept on failure). */
static int grow_posts(brain_keyword *k, kw_term *t)
{
	if (t->df < t->cap)
		return BRAIN_OK;
	if (t->cap == UINT32_MAX)
		return brain__err(BRAIN_EFULL, "keyword index: a term is in too many documents");
	uint32_t cap = t->cap < 4 ? 4 : t->cap > UINT32_MAX / 2 ? UINT32_MAX : t->cap * 2;
	kw_post *p;
	if (t->cap <= 1) {
		p = brain__malloc_array(cap, sizeof *p);
		if (!p)
			return brain__oom((size_t)cap * sizeof *p, "keyword postings");
		if (t->cap == 1)
			p[0] = t->p.one;
		k->heap += (size_t)cap * sizeof *p;
	} else {
		p = brain__realloc(t->p.many, (size_t)cap * sizeof *p);
		if (!p)
			return brain__oom((size_t)cap * sizeof *p, "keyword postings");
		k->heap += (size_t)(cap - t->cap) * sizeof *p;
	}
	t->p.many = p;
	t->cap = cap;
	return BRAIN_OK;
}

/* Room for `fresh` new terms: map cells and term records. */
static int reserve_terms(brain_keyword *k, size_t fresh)
{
	if (!fresh)
		return BRAIN_OK;
	size_t free_n = (size_t)(k->n_terms - k->live_terms);
	size_t want = k->n_terms + (fresh > free_n ? fresh - free_n : 0);
	if (want >= NO_TERM)
		return brain__err(BRAIN_EFULL, "keyword index: more than %u terms", NO_TERM - 1);
	if (want > k->cap_terms) {
		size_t cap = BRAIN_MIN(BRAIN_MAX(want, (size_t)k->cap_terms + k->cap_terms / 2 + 16),
		                       (size_t)NO_TERM - 1);
		kw_term *t = brain__realloc(k->terms, cap * sizeof *t);
		if (!t)
			return brain__oom(cap * sizeof *t, "keyword terms");
		k->terms = t;
		k->cap_terms = (uint32_t)cap;
	}
	return brain__map_reserve(&k->by_hash, brain__map_count(&k->by_hash) + fresh);
}

/* A term record for key, from the free list or new; room was reserved. */
static uint32_t term_take(brain_keyword *k, uint64_t key)
{
	uint32_t t;
	if (k->free_term != NO_TERM) {
		t = k->free_term;
		k->free_term = k->terms[t].p.one.doc;
	} else {
		t = k->n_terms++;
	}
	memset(&k->terms[t], 0, sizeof k->terms[t]);
	k->terms[t].hash = key;
	k->terms[t].cap = 1;
	(void)brain__map_put(&k->by_hash, key, t); /* reserved: cannot fail */
	k->live_terms++;
	return t;
}

/* A term with no posting left leaves the map for the free list. */
static void term_drop(brain_keyword *k, uint32_t t)
{
	kw_term *T = &k->terms[t];
	if (T->cap > 1) {
		brain__free(T->p.many);
		k->heap -= (size_t)T->cap * sizeof(kw_post);
	}
	brain__map_remove(&k->by_hash, T->hash);
	T->cap = 0;
	T->df = 0;
	T->p.one.doc = k->free_term;
	T->p.one.tf = 0;
	k->free_term = t;
	k->live_terms--;
}

typedef struct kw_word {
	uint64_t key;
	uint32_t tf;
	uint32_t term; /* NO_TERM: new */
} kw_word;

static int word_cmp(const void *a, const void *b)
{
	uint64_t x = ((const kw_word *)a)->key, y = ((const kw_word *)b)->key;
	return (x > y) - (x < y);
}

static int ent_cmp(const void *a, const void *b)
{
	uint32_t x = ((const kw_ent *)a)->term, y = ((const kw_ent *)b)->term;
	return (x > y) - (x < y);
}

int brain__kw_add(brain_keyword *k, uint32_t slot, const uint64_t *terms, size_t n)
{
	if (!k || (n && !terms))
		return brain__err(BRAIN_ENULL, "keyword index: add: %s is NULL", k ? "terms" : "index");
	if (slot == BRAIN_MAP32_EMPTY)
		return brain__err(BRAIN_ERANGE, "keyword index: slot %u is reserved", slot);
	if (doc_at(k, slot))
		return brain__err(BRAIN_EEXISTS, "keyword index: slot %u is already a document", slot);
	if (n > UINT32_MAX || k->total_len + n < k->total_len)
		return brain__err(BRAIN_ETOOLONG, "keyword index: a document of %zu terms", n);
	/* Everything that can fail first, and only adds capacity; from the
	 * commit on, nothing can fail. */
	int rc = reserve_doc(k);
	if (rc)
		return rc;
	kw_word *w = NULL;
	kw_ent *ents = NULL;
	size_t d = 0;
	if (n) {
		w = brain__malloc_array(n, sizeof *w);
		if (!w)
			return brain__oom(n * sizeof *w, "keyword document");
		for (size_t i = 0; i < n; i++)
			w[i] = (kw_word){term_key(terms[i]), 1, NO_TERM};
		qsort(w, n, sizeof *w, word_cmp);
		for (size_t i = 0; i < n; i++) {
			if (d && w[d - 1].key == w[i].key)
				w[d - 1].tf++;
			else
				w[d++] = w[i];
		}
		size_t fresh = 0;
		for (size_t i = 0; i < d; i++)
			if (!brain__map_get(&k->by_hash, w[i].key, &w[i].term))
				fresh++;
		rc = reserve_terms(k, fresh);
		for (size_t i = 0; i < d && rc == BRAIN_OK; i++)
			if (w[i].term != NO_TERM)
				rc = grow_posts(k, &k->terms[w[i].term]);
		if (rc == BRAIN_OK) {
			ents = brain__malloc_array(d, sizeof *ents);
			if (!ents)
				rc = brain__oom(d * sizeof *ents, "keyword document terms");
		}
		if (rc) {
			brain__free(w);
			return rc;
		}
	}
	/* commit */
	uint32_t r = k->n_docs;
	for (size_t i = 0; i < d; i++) {
		uint32_t t = w[i].term != NO_TERM ? w[i].term : term_take(k, w[i].key);
		kw_term *T = &k->terms[t];
		uint32_t pos = T->df++;
		posts_of(T)[pos] = (kw_post){r, w[i].tf};
		ents[i] = (kw_ent){t, pos};
	}
	brain__free(w);
	if (d > 1)
		qsort(ents, d, sizeof *ents, ent_cmp);
	k->docs[r] = (kw_doc){ents, (uint32_t)d, slot, (uint32_t)n};
	(void)brain__map32_put(&k->by_slot, slot, r); /* reserved */
	k->n_docs++;
	k->total_len += n;
	k->n_posts += d;
	k->heap += d * sizeof *ents;
	return BRAIN_OK;
}

/* ---- remove, move -------------------------------------------------------- */

/* Point slot's map entry at record r. The key is there, and the map holds
 * one key fewer than at its last growth check passed: no allocation. */
static void slot_set(brain_keyword *k, uint32_t slot, uint32_t r)
{
	uint32_t *v;
	if (brain__map32_upsert(&k->by_slot, slot, &v, NULL) == BRAIN_OK)
		*v = r;
}

void brain__kw_remove(brain_keyword *k, uint32_t slot)
{
	uint32_t r;
	if (!k || !brain__map32_get(&k->by_slot, slot, &r))
		return;
	kw_doc *doc = &k->docs[r];
	for (uint32_t e = 0; e < doc->n_ents; e++) {
		uint32_t t = doc->ents[e].term, pos = doc->ents[e].pos;
		kw_term *T = &k->terms[t];
		kw_post *p = posts_of(T);
		uint32_t last = --T->df;
		if (pos != last) {
			/* the last posting fills the hole; its document's entry follows */
			p[pos] = p[last];
			kw_ent *oe = ent_find(&k->docs[p[pos].doc], t);
			if (oe)
				oe->pos = pos;
		}
		if (T->df == 0)
			term_drop(k, t);
	}
	k->total_len -= doc->len;
	k->n_posts -= doc->n_ents;
	k->heap -= (size_t)doc->n_ents * sizeof(kw_ent);
	brain__free(doc->ents);
	brain__map32_remove(&k->by_slot, slot);
	/* the last record fills the hole: its postings and its slot follow */
	uint32_t last = --k->n_docs;
	if (r != last) {
		k->docs[r] = k->docs[last];
		const kw_doc *m = &k->docs[r];
		for (uint32_t e = 0; e < m->n_ents; e++)
			posts_of(&k->terms[m->ents[e].term])[m->ents[e].pos].doc = r;
		slot_set(k, m->slot, r);
	}
	memset(&k->docs[last], 0, sizeof k->docs[last]);
}

void brain__kw_move(brain_keyword *k, uint32_t from, uint32_t to)
{
	uint32_t r;
	if (!k || to == BRAIN_MAP32_EMPTY || !brain__map32_get(&k->by_slot, from, &r) ||
	    brain__map32_get(&k->by_slot, to, NULL))
		return;
	/* out first, so that the map has room without growing */
	brain__map32_remove(&k->by_slot, from);
	slot_set(k, to, r);
	k->docs[r].slot = to;
}

/* ---- search, score ------------------------------------------------------- */

typedef struct kw_qterm {
	const kw_term *t; /* NULL: not in the index */
	double idf;
	bool first; /* the first time the query names this term */
} kw_qterm;

typedef struct kw_acc {
	double score;
	uint32_t doc;
	uint32_t hits; /* distinct query terms the document holds */
} kw_acc;

typedef struct kw_best {
	double score;
	uint32_t slot;
} kw_best;

/* a ranks below b: lower score, or the same and a larger slot */
static inline bool worse(kw_best a, kw_best b)
{
	return a.score < b.score || (a.score == b.score && a.slot > b.slot);
}

static void sift_down(kw_best *h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < n && worse(h[l], h[m]))
			m = l;
		if (l + 1 < n && worse(h[l + 1], h[m]))
			m = l + 1;
		if (m == i)
			return;
		kw_best x = h[i];
		h[i] = h[m];
		h[m] = x;
		i = m;
	}
}

static void sift_up(kw_best *h, size_t i)
{
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (!worse(h[i], h[parent]))
			return;
		kw_best x = h[i];
		h[i] = h[parent];
		h[parent] = x;
		i = parent;
	}
}

/* Resolve the query: qt[i] per query term, the distinct terms, whether
 * one of them is not in the index, the sum of their df. */
static int resolve_query(const brain_keyword *k, const uint64_t *q, size_t nq, kw_qterm *qt,
                         size_t *distinct, bool *missing, uint64_t *sum_df)
{
	brain_map seen;
	brain__map_init(&seen);
	int rc = brain__map_reserve(&seen, nq);
	if (rc)
		return rc;
	*distinct = 0;
	*missing = false;
	*sum_df = 0;
	for (size_t i = 0; i < nq; i++) {
		uint64_t key = term_key(q[i]);
		uint32_t *v, at;
		bool created = false;
		(void)brain__map_upsert(&seen, key, &v, &created); /* reserved */
		qt[i].first = created;
		*distinct += created;
		if (brain__map_get(&k->by_hash, key, &at)) {
			qt[i].t = &k->terms[at];
			qt[i].idf = idf_of(k->n_docs, qt[i].t->df);
			if (created)
				*sum_df += qt[i].t->df;
		} else {
			qt[i].t = NULL;
			qt[i].idf = 0.0;
			*missing |= created;
		}
	}
	brain__map_free(&seen);
	return BRAIN_OK;
}

int brain__kw_search(const brain_keyword *k, const uint64_t *q, size_t nq, size_t topk,
                     bool require_all, bool (*accept)(uint32_t slot, void *payload),
                     void *payload, uint32_t *slots, float *scores, size_t *found)
{
	if (found)
		*found = 0;
	if (!k || !found || (nq && !q) || (topk && (!slots || !scores)))
		return brain__err(BRAIN_ENULL, "keyword index: search: a required pointer is NULL");
	if (!nq || !topk || !k->n_docs)
		return BRAIN_OK;
	kw_qterm *qt = brain__malloc_array(nq, sizeof *qt);
	if (!qt)
		return brain__oom(nq * sizeof *qt, "keyword query");
	size_t distinct;
	bool missing;
	uint64_t sum_df;
	int rc = resolve_query(k, q, nq, qt, &distinct, &missing, &sum_df);
	if (rc || sum_df == 0 || (require_all && missing)) {
		brain__free(qt);
		return rc;
	}

	/* Accumulate per record: in a dense array when the postings are at
	 * least half as many as the documents, else through a map. */
	double avgdl = avgdl_of(k);
	bool dense = k->n_docs <= 2 * sum_df;
	size_t cap = dense ? k->n_docs : (size_t)sum_df;
	kw_acc *acc = dense ? brain__calloc(cap, sizeof *acc) : brain__malloc_array(cap, sizeof *acc);
	brain_map32 where;
	brain__map32_init(&where);
	if (!acc || (!dense && brain__map32_reserve(&where, cap))) {
		brain__free(acc);
		brain__free(qt);
		return brain__oom(cap * sizeof *acc, "keyword search");
	}
	size_t n_acc = dense ? cap : 0;
	for (size_t i = 0; i < nq; i++) {
		const kw_term *t = qt[i].t;
		if (!t)
			continue;
		const kw_post *p = cposts_of(t);
		uint32_t first = qt[i].first;
		for (uint32_t j = 0; j < t->df; j++) {
			uint32_t r = p[j].doc;
			kw_acc *a;
			if (dense) {
				a = &acc[r];
			} else {
				uint32_t *v;
				bool created = false;
				(void)brain__map32_upsert(&where, r, &v, &created); /* reserved */
				if (created) {
					*v = (uint32_t)n_acc;
					acc[n_acc++] = (kw_acc){0.0, r, 0};
				}
				a = &acc[*v];
			}
			a->score += bm25_part(qt[i].idf, p[j].tf, k->docs[r].len, avgdl);
			a->hits += first;
		}
	}
	brain__map32_free(&where);
	brain__free(qt);

	/* Select: a min-heap of the best seen, its root the worst of them. */
	size_t need = require_all ? distinct : 1;
	size_t hcap = BRAIN_MIN(topk, n_acc);
	kw_best *heap = brain__malloc_array(hcap, sizeof *heap);
	if (!heap) {
		brain__free(acc);
		return brain__oom(hcap * sizeof *heap, "keyword search");
	}
	size_t nh = 0;
	for (size_t i = 0; i < n_acc; i++) {
		if (acc[i].hits == 0 || acc[i].hits < need)
			continue;
		kw_best b = {acc[i].score, k->docs[dense ? i : acc[i].doc].slot};
		if (nh == hcap && !worse(heap[0], b))
			continue;
		if (accept && !accept(b.slot, payload))
			continue;
		if (nh < hcap) {
			heap[nh] = b;
			sift_up(heap, nh++);
		} else {
			heap[0] = b;
			sift_down(heap, nh, 0);
		}
	}
	brain__free(acc);
	*found = nh;
	while (nh) {
		slots[nh - 1] = heap[0].slot;
		scores[nh - 1] = (float)heap[0].score;
		heap[0] = heap[--nh];
		sift_down(heap, nh, 0);
	}
	brain__free(heap);
	return BRAIN_OK;
}

double brain__kw_score(const brain_keyword *k, uint32_t slot, const uint64_t *q, size_t nq)
{
	const kw_doc *d = k ? doc_at(k, slot) : NULL;
	if (!d || !q || !d->n_ents)
		return 0.0;
	double avgdl = avgdl_of(k), score = 0.0;
	for (size_t i = 0; i < nq; i++) {
		uint32_t at;
		if (!brain__map_get(&k->by_hash, term_key(q[i]), &at))
			continue;
		const kw_ent *e = ent_find(d, at);
		if (!e)
			continue;
		const kw_term *t = &k->terms[at];
		score += bm25_part(idf_of(k->n_docs, t->df), cposts_of(t)[e->pos].tf, d->len, avgdl);
	}
	return score;
}

/* ---- save ---------------------------------------------------------------- */

typedef struct kw_out {
	int (*write)(void *ctx, const void *p, size_t n);
	void *ctx;
	int rc;
	size_t n;
	unsigned char buf[8192];
} kw_out;

static void out_flush(kw_out *o)
{
	if (o->rc == BRAIN_OK && o->n)
		o->rc = o->write(o->ctx, o->buf, o->n);
	o->n = 0;
}

static void out_u32(kw_out *o, uint32_t v)
{
	if (o->n + 4 > sizeof o->buf)
		out_flush(o);
	for (int i = 0; i < 4; i++)
		o->buf[o->n++] = (unsigned char)(v >> (8 * i));
}

static void out_u64(kw_out *o, uint64_t v)
{
	out_u32(o, (uint32_t)v);
	out_u32(o, (uint32_t)(v >> 32));
}

int brain__kw_save(const brain_keyword *k, int (*write)(void *ctx, const void *p, size_t n),
                   void *ctx)
{
	if (!k || !write)
		return brain__err(BRAIN_ENULL, "keyword index: save: %s is NULL",
		                  k ? "write" : "index");
	kw_out o;
	o.write = write;
	o.ctx = ctx;
	o.rc = BRAIN_OK;
	o.n = 0;
	out_u32(&o, KW_MAGIC);
	out_u32(&o, KW_VERSION);
	out_u64(&o, k->n_docs);
	out_u64(&o, k->live_terms);
	out_u64(&o, k->n_posts);
	out_u64(&o, k->total_len);
	for (uint32_t r = 0; r < k->n_docs && o.rc == BRAIN_OK; r++) {
		out_u32(&o, k->docs[r].slot);
		out_u32(&o, k->docs[r].len);
	}
	for (uint32_t t = 0; t < k->n_terms && o.rc == BRAIN_OK; t++) {
		const kw_term *T = &k->terms[t];
		if (!T->df)
			continue;
		out_u64(&o, T->hash);
		out_u32(&o, T->df);
		const kw_post *p = cposts_of(T);
		for (uint32_t j = 0; j < T->df; j++) {
			out_u32(&o, k->docs[p[j].doc].slot);
			out_u32(&o, p[j].tf);
		}
	}
	out_flush(&o);
	return o.rc;
}

/* ---- load ---------------------------------------------------------------- */

static inline uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline uint64_t get_u64(const unsigned char *p)
{
	return (uint64_t)get_u32(p) | (uint64_t)get_u32(p + 4) << 32;
}

#define CORRUPT(...) brain__err(BRAIN_ECORRUPT, "keyword index: " __VA_ARGS__)

/* Load into x (empty, initialised): every check of the format. On failure
 * x holds what was built so far, for kw_release. */
static int load_into(brain_keyword *x, const unsigned char *b, size_t len)
{
	if (len < KW_HEADER)
		return CORRUPT("%zu bytes are too few for the header", len);
	if (get_u32(b) != KW_MAGIC)
		return CORRUPT("bad magic 0x%08x", get_u32(b));
	if (get_u32(b + 4) != KW_VERSION)
		return CORRUPT("version %u unknown (this library knows %u)", get_u32(b + 4),
		               KW_VERSION);
	uint64_t nd = get_u64(b + 8), nt = get_u64(b + 16), np = get_u64(b + 24);
	uint64_t total = get_u64(b + 32);
	/* bounded by the length first, so that the sum cannot overflow */
	if (nd > len / 8 || nt > len / 12 || np > len / 8 ||
	    KW_HEADER + 8 * nd + 12 * nt + 8 * np != len)
		return CORRUPT("%zu bytes cannot hold %llu documents, %llu terms and %llu postings",
		               len, (unsigned long long)nd, (unsigned long long)nt,
		               (unsigned long long)np);
	if (nd > MAX_DOCS || nt >= NO_TERM || nt > np)
		return CORRUPT("%llu documents, %llu terms and %llu postings cannot be",
		               (unsigned long long)nd, (unsigned long long)nt, (unsigned long long)np);

	/* documents; their length counts down the tfs of their postings */
	const unsigned char *docs = b + KW_HEADER;
	if (nd) {
		x->docs = brain__malloc_array((size_t)nd, sizeof *x->docs);
		if (!x->docs)
			return brain__oom((size_t)nd * sizeof *x->docs, "keyword documents");
		x->cap_docs = (uint32_t)nd;
		int rc = brain__map32_reserve(&x->by_slot, (size_t)nd);
		if (rc)
			return rc;
	}
	uint64_t sum = 0;
	for (uint32_t r = 0; r < nd; r++) {
		uint32_t slot = get_u32(docs + 8 * (size_t)r), dl = get_u32(docs + 8 * (size_t)r + 4);
		uint32_t *v;
		bool created = false;
		if (slot == BRAIN_MAP32_EMPTY)
			return CORRUPT("document %u: slot %u is reserved", r, slot);
		(void)brain__map32_upsert(&x->by_slot, slot, &v, &created); /* reserved */
		if (!created)
			return CORRUPT("slot %u is there twice", slot);
		*v = r;
		x->docs[r] = (kw_doc){NULL, 0, slot, dl};
		x->n_docs = r + 1;
		sum += dl; /* below 2^32 lengths below 2^32: no overflow */
	}
	if (sum != total)
		return CORRUPT("the documents' lengths add up to %llu, the header says %llu",
		               (unsigned long long)sum, (unsigned long long)total);
	x->total_len = total;

	/* terms and their postings */
	if (nt) {
		x->terms = brain__malloc_array((size_t)nt, sizeof *x->terms);
		if (!x->terms)
			return brain__oom((size_t)nt * sizeof *x->terms, "keyword terms");
		x->cap_terms = (uint32_t)nt;
		int rc = brain__map_reserve(&x->by_hash, (size_t)nt);
		if (rc)
			return rc;
	}
	const unsigned char *p = docs + 8 * nd, *end = b + len;
	uint64_t posts = 0;
	for (uint32_t t = 0; t < nt; t++) {
		if ((size_t)(end - p) < 12)
			return CORRUPT("term %u is cut short", t);
		uint64_t hash = get_u64(p);
		uint32_t df = get_u32(p + 8);
		p += 12;
		if (hash == BRAIN_MAP_EMPTY)
			return CORRUPT("term %u has the reserved hash", t);
		if (df == 0 || df > nd || df > (size_t)(end - p) / 8)
			return CORRUPT("term %u: %u documents cannot be", t, df);
		uint32_t *v;
		bool created = false;
		(void)brain__map_upsert(&x->by_hash, hash, &v, &created); /* reserved */
		if (!created)
			return CORRUPT("term %016llx is there twice", (unsigned long long)hash);
		*v = t;
		kw_term *T = &x->terms[t];
		memset(T, 0, sizeof *T);
		T->hash = hash;
		T->cap = df;
		if (df > 1) {
			T->p.many = brain__malloc_array(df, sizeof(kw_post));
			if (!T->p.many)
				return brain__oom((size_t)df * sizeof(kw_post), "keyword postings");
			x->heap += (size_t)df * sizeof(kw_post);
		}
		x->n_terms = t + 1; /* for kw_release */
		kw_post *tp = posts_of(T);
		for (uint32_t j = 0; j < df; j++, p += 8) {
			uint32_t slot = get_u32(p), tf = get_u32(p + 4), r;
			if (!brain__map32_get(&x->by_slot, slot, &r))
				return CORRUPT("term %016llx: slot %u is not a document",
				               (unsigned long long)hash, slot);
			kw_doc *d = &x->docs[r];
			if (tf == 0)
				return CORRUPT("term %016llx: tf 0 in slot %u", (unsigned long long)hash, slot);
			if (tf > d->len)
				return CORRUPT("term %016llx: slot %u holds its terms more than its length",
				               (unsigned long long)hash, slot);
			d->len -= tf;
			d->n_ents++;
			tp[j] = (kw_post){r, tf};
		}
		T->df = df;
		posts += df;
	}
	if (p != end || posts != np)
		return CORRUPT("the terms hold %llu postings, the header says %llu",
		               (unsigned long long)posts, (unsigned long long)np);
	x->live_terms = (uint32_t)nt;
	x->n_posts = np;

	/* every length fully accounted for; then the entries */
	for (uint32_t r = 0; r < nd; r++) {
		kw_doc *d = &x->docs[r];
		if (d->len)
			return CORRUPT("slot %u: its terms' tfs fall %u short of its length", d->slot,
			               d->len);
		d->len = get_u32(docs + 8 * (size_t)r + 4);
		if (d->n_ents) {
			d->ents = brain__malloc_array(d->n_ents, sizeof *d->ents);
			if (!d->ents)
				return brain__oom((size_t)d->n_ents * sizeof *d->ents, "keyword document terms");
			x->heap += (size_t)d->n_ents * sizeof *d->ents;
		}
		d->n_ents = 0; /* filled below */
	}
	/* terms in increasing index: the entries come out sorted */
	for (uint32_t t = 0; t < x->n_terms; t++) {
		const kw_term *T = &x->terms[t];
		const kw_post *tp = cposts_of(T);
		for (uint32_t j = 0; j < T->df; j++) {
			kw_doc *d = &x->docs[tp[j].doc];
			if (d->n_ents && d->ents[d->n_ents - 1].term == t)
				return CORRUPT("term %016llx: slot %u is there twice",
				               (unsigned long long)T->hash, d->slot);
			d->ents[d->n_ents++] = (kw_ent){t, j};
		}
	}
	return BRAIN_OK;
}

int brain__kw_load(brain_keyword *k, const void *data, size_t len)
{
	if (!k || (!data && len))
		return brain__err(BRAIN_ENULL, "keyword index: load: %s is NULL", k ? "data" : "index");
	if (k->n_docs || k->n_terms)
		return brain__err(BRAIN_EINVAL, "keyword index: load into an index that is not empty");
	brain_keyword x;
	kw_init(&x);
	int rc = load_into(&x, data, len);
	if (rc) {
		kw_release(&x);
		return rc;
	}
	kw_release(k);
	*k = x;
	return BRAIN_OK;
}

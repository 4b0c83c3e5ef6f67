/*
 * organs/hippocampus/postings.c - the metadata of the memory store: blobs per
 * slot, fields and their posting lists, and the evaluation of a filter
 * over them (see postings.h).
 */
#include <math.h>
#include <string.h>

#include "organs/hippocampus/postings.h"

#define NAME_SEED 0x6d657461u  /* "meta" */
#define VALUE_SEED 0x76616c75u /* "valu" */

int brain__meta_store_init(meta_store *ms)
{
	memset(ms, 0, sizeof *ms);
	brain__names_init(&ms->names, NAME_SEED);
	ms->live = brain__slotset_new();
	return ms->live ? BRAIN_OK : BRAIN_ENOMEM;
}

static void nums_free(meta_nums *n)
{
	for (size_t i = 0; i < n->n_blocks; i++)
		brain__free(n->blocks[i]);
	brain__free(n->blocks);
	memset(n, 0, sizeof *n);
}

static void field_free(meta_field *f)
{
	brain__slotset_free(f->exists);
	for (uint32_t i = 0; i < f->values.n; i++)
		brain__slotset_free(f->value_slots[i]);
	brain__free(f->value_slots);
	brain__names_free(&f->values);
	nums_free(&f->nums);
}

void brain__meta_store_free(meta_store *ms)
{
	for (uint32_t i = 0; i < ms->names.n; i++)
		field_free(&ms->fields[i]);
	brain__free(ms->fields);
	brain__names_free(&ms->names);
	for (size_t s = 0; s < ms->cap_blobs; s++)
		brain__free(ms->blobs[s]);
	brain__free(ms->blobs);
	brain__slotset_free(ms->live);
	memset(ms, 0, sizeof *ms);
}

/* ---- fields and values: names (base/names.h) and what each keeps ------ */

/* The number of a field, or -1. */
static int64_t field_find(const meta_store *ms, const char *name, size_t len)
{
	return brain__names_find(&ms->names, name, len);
}

static int64_t field_add(meta_store *ms, const char *name, size_t len)
{
	int64_t at = field_find(ms, name, len);
	if (at >= 0)
		return at;
	if (ms->names.n == ms->cap_fields) {
		uint32_t cap = ms->cap_fields ? 2 * ms->cap_fields : 8;
		meta_field *fs = brain__realloc(ms->fields, cap * sizeof *fs);
		if (!fs)
			return brain__oom(cap * sizeof *fs, "metadata fields");
		ms->fields = fs;
		ms->cap_fields = cap;
	}
	meta_field f;
	memset(&f, 0, sizeof f);
	brain__names_init(&f.values, VALUE_SEED);
	f.exists = brain__slotset_new();
	if (!f.exists)
		return BRAIN_ENOMEM;
	bool added;
	at = brain__names_add(&ms->names, name, len, &added);
	if (at < 0) {
		field_free(&f);
		return at;
	}
	ms->fields[at] = f;
	return at;
}

static int64_t value_find(const meta_field *f, const char *s, size_t len)
{
	return brain__names_find(&f->values, s, len);
}

static int64_t value_add(meta_field *f, const char *s, size_t len)
{
	int64_t at = value_find(f, s, len);
	if (at >= 0)
		return at;
	if (f->values.n == f->cap_values) {
		uint32_t cap = f->cap_values ? 2 * f->cap_values : 4;
		brain_slotset **vs = brain__realloc(f->value_slots, cap * sizeof *vs);
		if (!vs)
			return brain__oom(cap * sizeof *vs, "metadata values");
		f->value_slots = vs;
		f->cap_values = cap;
	}
	brain_slotset *slots = brain__slotset_new();
	if (!slots)
		return BRAIN_ENOMEM;
	bool added;
	at = brain__names_add(&f->values, s, len, &added);
	if (at < 0) {
		brain__slotset_free(slots);
		return at;
	}
	f->value_slots[at] = slots;
	return at;
}

/* ---- ordered numbers ----------------------------------------------------- */

static inline bool pair_less(uint64_t ka, uint32_t sa, uint64_t kb, uint32_t sb)
{
	return ka < kb || (ka == kb && sa < sb);
}

/* The block a pair belongs in: the last whose first pair is not above it
 * (0 if it is below them all). */
static size_t nums_block_of(const meta_nums *n, uint64_t key, uint32_t slot)
{
	size_t lo = 0, hi = n->n_blocks;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		const meta_num_block *b = n->blocks[mid];
		if (pair_less(key, slot, b->keys[0], b->slots[0]))
			hi = mid;
		else
			lo = mid;
	}
	return lo;
}

/* First index in b of a pair not below (key, slot). */
static uint32_t block_lower(const meta_num_block *b, uint64_t key, uint32_t slot)
{
	uint32_t lo = 0, hi = b->n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (pair_less(b->keys[mid], b->slots[mid], key, slot))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int nums_insert(meta_nums *n, uint64_t key, uint32_t slot)
{
	if (n->n_blocks == 0) {
		n->blocks = brain__malloc(4 * sizeof *n->blocks);
		meta_num_block *b = n->blocks ? brain__malloc(sizeof *b) : NULL;
		if (!b) {
			brain__free(n->blocks);
			n->blocks = NULL;
			return brain__oom(sizeof *b, "metadata numbers");
		}
		b->n = 0;
		n->blocks[0] = b;
		n->n_blocks = 1;
		n->cap = 4;
	}
	size_t bi = nums_block_of(n, key, slot);
	meta_num_block *b = n->blocks[bi];
	if (b->n == META_NUM_BLOCK) {
		/* split in halves; the pair goes into the half it belongs to */
		if (n->n_blocks == n->cap) {
			size_t cap = 2 * n->cap;
			meta_num_block **bs = brain__realloc(n->blocks, cap * sizeof *bs);
			if (!bs)
				return brain__oom(cap * sizeof *bs, "metadata numbers");
			n->blocks = bs;
			n->cap = cap;
		}
		meta_num_block *c = brain__malloc(sizeof *c);
		if (!c)
			return brain__oom(sizeof *c, "metadata numbers");
		uint32_t half = META_NUM_BLOCK / 2;
		c->n = META_NUM_BLOCK - half;
		memcpy(c->keys, b->keys + half, c->n * sizeof *c->keys);
		memcpy(c->slots, b->slots + half, c->n * sizeof *c->slots);
		b->n = half;
		memmove(n->blocks + bi + 2, n->blocks + bi + 1, (n->n_blocks - bi - 1) * sizeof *n->blocks);
		n->blocks[bi + 1] = c;
		n->n_blocks++;
		if (!pair_less(key, slot, c->keys[0], c->slots[0]))
			b = c;
	}
	uint32_t at = block_lower(b, key, slot);
	if (at < b->n && b->keys[at] == key && b->slots[at] == slot)
		return BRAIN_OK; /* there already */
	memmove(b->keys + at + 1, b->keys + at, (b->n - at) * sizeof *b->keys);
	memmove(b->slots + at + 1, b->slots + at, (b->n - at) * sizeof *b->slots);
	b->keys[at] = key;
	b->slots[at] = slot;
	b->n++;
	n->count++;
	return BRAIN_OK;
}

static void nums_remove(meta_nums *n, uint64_t key, uint32_t slot)
{
	if (n->n_blocks == 0)
		return;
	size_t bi = nums_block_of(n, key, slot);
	meta_num_block *b = n->blocks[bi];
	uint32_t at = block_lower(b, key, slot);
	if (at >= b->n || b->keys[at] != key || b->slots[at] != slot)
		return;
	memmove(b->keys + at, b->keys + at + 1, (b->n - at - 1) * sizeof *b->keys);
	memmove(b->slots + at, b->slots + at + 1, (b->n - at - 1) * sizeof *b->slots);
	b->n--;
	n->count--;
	if (b->n == 0 && n->n_blocks > 1) {
		brain__free(b);
		memmove(n->blocks + bi, n->blocks + bi + 1, (n->n_blocks - bi - 1) * sizeof *n->blocks);
		n->n_blocks--;
	}
}

/* Sort n slots: LSD radix, three passes of 11 bits through tmp (the
 * counts fit in L1; a pass whose digit is the same everywhere is
 * skipped). */
static void sort_slots(uint32_t *a, uint32_t *tmp, size_t n)
{
	for (int shift = 0; shift < 32; shift += 11) {
		size_t count[2049] = {0};
		for (size_t i = 0; i < n; i++)
			count[((a[i] >> shift) & 2047) + 1]++;
		if (count[((a[0] >> shift) & 2047) + 1] == n)
			continue;
		for (size_t d = 0; d < 2048; d++)
			count[d + 1] += count[d];
		for (size_t i = 0; i < n; i++)
			tmp[count[(a[i] >> shift) & 2047]++] = a[i];
		memcpy(a, tmp, n * sizeof *a);
	}
}

/* The n slots below limit as a bitset of limit bits, handed to the set
 * whole: for a range that passes many of the slots (one in 64 or more),
 * cheaper than sorting them and adding them one by one (at half of
 * 100,000 slots: 47 us against 540 us for a count, Xeon). */
static int add_dense(const uint32_t *a, size_t n, uint32_t limit, uint64_t *bits,
                     brain_slotset *s)
{
	size_t words = ((size_t)limit + 63) / 64;
	memset(bits, 0, words * sizeof *bits);
	for (size_t i = 0; i < n; i++)
		bits[a[i] >> 6] |= UINT64_C(1) << (a[i] & 63);
	return brain__slotset_add_bits(s, bits, words);
}

/* The slots of the pairs with lo <= key <= hi, into s: gathered, sorted
 * and added in order (CRoaring appends sorted slots cheaply; in key order
 * they would land all over its containers). Every slot is below limit. */
static int nums_range(const meta_nums *n, uint64_t lo, uint64_t hi, uint32_t limit,
                      brain_slotset *s)
{
	if (n->n_blocks == 0 || lo > hi)
		return BRAIN_OK;
	size_t b0 = nums_block_of(n, lo, 0);
	uint32_t at0 = block_lower(n->blocks[b0], lo, 0);
	/* how many: whole blocks, then the last one's part */
	size_t total = 0, bi = b0;
	uint32_t at = at0;
	for (; bi < n->n_blocks; bi++, at = 0) {
		const meta_num_block *b = n->blocks[bi];
		if (b->keys[b->n - 1] <= hi) {
			total += b->n - at;
			continue;
		}
		uint32_t end = at;
		while (end < b->n && b->keys[end] <= hi)
			end++;
		total += end - at;
		break;
	}
	if (total == 0)
		return BRAIN_OK;
	size_t words = ((size_t)limit + 63) / 64;
	bool dense = words <= total;
	/* the slots, then the radix sort's room or the bitset (8-aligned) */
	size_t room = dense ? (total + 1) / 2 * 2 + 2 * words : 2 * total;
	uint32_t *buf = brain__malloc_array(room, sizeof *buf);
	if (!buf)
		return brain__oom(room * sizeof *buf, "filter range");
	size_t got = 0;
	for (bi = b0, at = at0; got < total; bi++, at = 0) {
		const meta_num_block *b = n->blocks[bi];
		size_t take = BRAIN_MIN((size_t)(b->n - at), total - got);
		memcpy(buf + got, b->slots + at, take * sizeof *buf);
		got += take;
	}
	int rc;
	if (dense) {
		rc = add_dense(buf, total, limit, (uint64_t *)(void *)(buf + (total + 1) / 2 * 2), s);
	} else {
		sort_slots(buf, buf + total, total);
		rc = brain__slotset_add_many(s, buf, total);
	}
	brain__free(buf);
	return rc;
}

/* ---- a blob's postings --------------------------------------------------- */

/* A posting list's change: one that did not take leaves them all unsure. */
static void post(meta_store *ms, meta_field *f, int rc)
{
	(void)f;
	if (rc)
		ms->broken = true;
}

static void post_value(meta_store *ms, meta_field *f, const char *s, size_t len, uint32_t slot,
                       bool add)
{
	if (add) {
		int64_t at = value_add(f, s, len);
		post(ms, f, at < 0 ? (int)at : brain__slotset_add(f->value_slots[at], slot));
	} else {
		int64_t at = value_find(f, s, len);
		if (at >= 0)
			post(ms, f, brain__slotset_remove(f->value_slots[at], slot));
	}
}

static void post_num(meta_store *ms, meta_field *f, uint64_t key, uint32_t slot, bool add)
{
	if (add)
		post(ms, f, nums_insert(&f->nums, key, slot));
	else
		nums_remove(&f->nums, key, slot);
}

/* Add (or take out) the postings of a blob at `slot`. Its fields exist
 * (prepare made them when it was put). */
static void postings(meta_store *ms, uint32_t slot, const uint8_t *blob, size_t len, bool add)
{
	size_t pos = 0;
	brain_meta_field mf;
	while (brain__meta_next(blob, len, &pos, &mf)) {
		int64_t fi = field_find(ms, mf.name, mf.name_len);
		if (fi < 0) {
			ms->broken = true; /* never: put's prepare made it */
			continue;
		}
		meta_field *f = &ms->fields[fi];
		post(ms, f, add ? brain__slotset_add(f->exists, slot)
		                : brain__slotset_remove(f->exists, slot));
		switch (mf.type) {
		case BRAIN_META_STRING:
			post_value(ms, f, mf.str, mf.str_len, slot, add);
			break;
		case BRAIN_META_BOOL:
			post_value(ms, f, mf.b ? "\1" : "", 1, slot, add); /* "\0" or "\1" */
			break;
		case BRAIN_META_LIST: {
			size_t ip = 0;
			for (uint32_t i = 0; i < mf.n_items; i++) {
				const char *s;
				uint32_t l;
				brain__meta_item(&mf, &ip, &s, &l);
				post_value(ms, f, s, l, slot, add);
			}
			break;
		}
		case BRAIN_META_INT:
			post_num(ms, f, brain__meta_int_key(mf.i), slot, add);
			break;
		case BRAIN_META_DOUBLE:
			post_num(ms, f, brain__meta_double_key(mf.d), slot, add);
			break;
		default:
			break;
		}
	}
}

/* Each field of a blob gains (or loses) a holder. */
static void holders(meta_store *ms, const uint8_t *blob, size_t len, bool add)
{
	size_t pos = 0;
	brain_meta_field mf;
	while (brain__meta_next(blob, len, &pos, &mf)) {
		int64_t fi = field_find(ms, mf.name, mf.name_len);
		if (fi < 0)
			continue;
		meta_field *f = &ms->fields[fi];
		if (add) {
			if (f->holders++ == 0)
				f->type = mf.type;
		} else if (f->holders) {
			f->holders--;
		}
	}
}

/* ---- the store's changes ------------------------------------------------- */

int brain__meta_field_type(const meta_store *ms, const char *name, size_t len)
{
	int64_t fi = field_find(ms, name, len);
	if (fi < 0 || ms->fields[fi].holders == 0)
		return BRAIN_META_NONE;
	return ms->fields[fi].type;
}

int brain__meta_store_check(const meta_store *ms, const void *blob, size_t len, uint32_t slot,
                            brain_meta_blob *out)
{
	out->data = NULL;
	out->len = 0;
	size_t own_len = 0;
	const uint8_t *own = slot != UINT32_MAX ? brain__meta_blob(ms, slot, &own_len) : NULL;
	bool widen[BRAIN_META_FIELDS_MAX];
	bool any = false;
	size_t pos = 0, i = 0;
	brain_meta_field mf;
	while (brain__meta_next(blob, len, &pos, &mf)) {
		widen[i] = false;
		int64_t fi = field_find(ms, mf.name, mf.name_len);
		if (fi >= 0) {
			const meta_field *f = &ms->fields[fi];
			brain_meta_field mine;
			uint64_t others = f->holders;
			if (own && others && brain__meta_find(own, own_len, mf.name, mf.name_len, &mine))
				others--;
			if (others && f->type != mf.type) {
				if (f->type == BRAIN_META_DOUBLE && mf.type == BRAIN_META_INT) {
					widen[i] = any = true;
				} else {
					return brain__err(BRAIN_ETYPE, "metadata: field \"%.*s\" holds %s; %s "
					                  "cannot be stored in it",
					                  (int)mf.name_len, mf.name, brain__meta_type_plural(f->type),
					                  brain__meta_type_one(mf.type));
				}
			}
		}
		i++;
	}
	return any ? brain__meta_widen(blob, len, widen, out) : BRAIN_OK;
}

int brain__meta_store_prepare(meta_store *ms, const void *blob, size_t len, uint32_t slot)
{
	if (blob && slot >= ms->cap_blobs) {
		size_t cap = BRAIN_MAX((size_t)slot + 1, ms->cap_blobs ? 2 * ms->cap_blobs : 64);
		uint8_t **bs = brain__realloc(ms->blobs, cap * sizeof *bs);
		if (!bs)
			return brain__oom(cap * sizeof *bs, "metadata slots");
		memset(bs + ms->cap_blobs, 0, (cap - ms->cap_blobs) * sizeof *bs);
		ms->blobs = bs;
		ms->cap_blobs = cap;
	}
	size_t pos = 0;
	brain_meta_field mf;
	while (blob && brain__meta_next(blob, len, &pos, &mf)) {
		int64_t fi = field_add(ms, mf.name, mf.name_len);
		if (fi < 0)
			return (int)fi;
	}
	return BRAIN_OK;
}

/* Take the postings of a slot's blob out and free it. */
static void clear(meta_store *ms, uint32_t slot)
{
	size_t len;
	const uint8_t *blob = brain__meta_blob(ms, slot, &len);
	if (!blob)
		return;
	postings(ms, slot, blob, len, false);
	ms->bytes -= len + 4;
	brain__free(ms->blobs[slot]);
	ms->blobs[slot] = NULL;
}

void brain__meta_store_put(meta_store *ms, uint32_t slot, uint8_t *blob)
{
	clear(ms, slot); /* none (never: drop took it), unless a change was lost */
	post(ms, NULL, brain__slotset_add(ms->live, slot));
	if (!blob)
		return;
	ms->blobs[slot] = blob;
	size_t len = 0;
	const uint8_t *b = brain__meta_blob(ms, slot, &len);
	ms->bytes += len + 4;
	ms->count++;
	holders(ms, b, len, true);
	postings(ms, slot, b, len, true);
}

void brain__meta_store_drop(meta_store *ms, uint32_t slot)
{
	post(ms, NULL, brain__slotset_remove(ms->live, slot));
	size_t len;
	const uint8_t *b = brain__meta_blob(ms, slot, &len);
	if (!b)
		return;
	holders(ms, b, len, false);
	ms->count--;
	clear(ms, slot);
}

void brain__meta_store_live(meta_store *ms, const uint32_t *slots, size_t n)
{
	post(ms, NULL, brain__slotset_add_many(ms->live, slots, n));
}

void brain__meta_store_move(meta_store *ms, uint32_t from, uint32_t to)
{
	post(ms, NULL, brain__slotset_remove(ms->live, from));
	post(ms, NULL, brain__slotset_add(ms->live, to));
	clear(ms, to);
	size_t len;
	const uint8_t *b = brain__meta_blob(ms, from, &len);
	if (!b)
		return;
	postings(ms, from, b, len, false);
	ms->blobs[to] = ms->blobs[from];
	ms->blobs[from] = NULL;
	postings(ms, to, b, len, true);
}

uint64_t brain__meta_store_bytes(const meta_store *ms)
{
	uint64_t n = ms->bytes + ms->cap_blobs * sizeof *ms->blobs +
	             ms->cap_fields * sizeof *ms->fields + brain__names_bytes(&ms->names);
	for (uint32_t i = 0; i < ms->names.n; i++) {
		const meta_field *f = &ms->fields[i];
		n += brain__slotset_bytes(f->exists) + brain__names_bytes(&f->values) +
		     f->cap_values * sizeof *f->value_slots +
		     f->nums.cap * sizeof *f->nums.blocks + f->nums.n_blocks * sizeof(meta_num_block);
		for (uint32_t v = 0; v < f->values.n; v++)
			n += brain__slotset_bytes(f->value_slots[v]);
	}
	return n;
}

/* ---- evaluation ----------------------------------------------------------- */

typedef struct eval_ctx {
	const meta_store *ms;
	uint32_t limit; /* every slot is below it */
} eval_ctx;

/* A numeric condition as a range of keys [lo, hi]; false: it matches no
 * number of the field's type. */
static bool key_range(int field_type, int op, const brain_filter_value *v, uint64_t *lo,
                      uint64_t *hi)
{
	*lo = 0;
	*hi = UINT64_MAX;
	if (field_type == BRAIN_META_INT) {
		int64_t i;
		if (v->type == BRAIN_META_INT) {
			i = v->i;
		} else {
			double d = v->d;
			if (d >= 9223372036854775808.0) /* 2^63: above every int64 */
				return op == BRAIN_FILTER_LT || op == BRAIN_FILTER_LE;
			if (d < -9223372036854775808.0)
				return op == BRAIN_FILTER_GT || op == BRAIN_FILTER_GE;
			double fl = floor(d);
			if (fl != d) {
				/* between two integers: < and <= take up to floor, > and
				 * >= from floor + 1 (floor is at least -2^63: no overflow
				 * but at the top, where floor + 1 is still in range) */
				int64_t f = (int64_t)fl;
				if (op == BRAIN_FILTER_EQ)
					return false;
				if (op == BRAIN_FILTER_LT || op == BRAIN_FILTER_LE)
					*hi = brain__meta_int_key(f);
				else
					*lo = brain__meta_int_key(f + 1);
				return true;
			}
			i = (int64_t)d;
		}
		uint64_t k = brain__meta_int_key(i);
		switch (op) {
		case BRAIN_FILTER_EQ: *lo = *hi = k; return true;
		case BRAIN_FILTER_LT: if (k == 0) return false; *hi = k - 1; return true;
		case BRAIN_FILTER_LE: *hi = k; return true;
		case BRAIN_FILTER_GT: if (k == UINT64_MAX) return false; *lo = k + 1; return true;
		case BRAIN_FILTER_GE: *lo = k; return true;
		default: return false;
		}
	}
	/* a double field */
	double d;
	int strict_side = 0; /* an integer between two doubles: -1 rounded down, +1 up */
	if (v->type == BRAIN_META_DOUBLE) {
		d = v->d;
	} else {
		d = (double)v->i;
		int c = brain__cmp_int_double(v->i, d);
		if (c != 0) {
			if (op == BRAIN_FILTER_EQ)
				return false;
			strict_side = c > 0 ? -1 : 1; /* d below the integer, or above */
		}
	}
	uint64_t k = brain__meta_double_key(d);
	if (strict_side) {
		/* no double lies between the integer and d: x < i is x <= d when
		 * d is below i, x < d when above; likewise for > */
		bool below = strict_side < 0;
		if (op == BRAIN_FILTER_LT || op == BRAIN_FILTER_LE)
			op = below ? BRAIN_FILTER_LE : BRAIN_FILTER_LT;
		else
			op = below ? BRAIN_FILTER_GT : BRAIN_FILTER_GE;
	}
	switch (op) {
	case BRAIN_FILTER_EQ: *lo = *hi = k; return true;
	case BRAIN_FILTER_LT: if (k == 0) return false; *hi = k - 1; return true;
	case BRAIN_FILTER_LE: *hi = k; return true;
	case BRAIN_FILTER_GT: if (k == UINT64_MAX) return false; *lo = k + 1; return true;
	case BRAIN_FILTER_GE: *lo = k; return true;
	default: return false;
	}
}

/* Does hay[0..hn) hold needle[0..nn) (nn >= 1)? */
static bool holds(const char *hay, size_t hn, const char *needle, size_t nn)
{
	for (size_t i = 0; i + nn <= hn; i++) {
		const char *p = memchr(hay + i, needle[0], hn - nn + 1 - i);
		if (!p)
			return false;
		i = (size_t)(p - hay);
		if (memcmp(p, needle, nn) == 0)
			return true;
	}
	return false;
}

/* The slots a value of a string, bool or list field passes `=`. */
static const brain_slotset *value_slots(const meta_field *f, const brain_filter_value *v)
{
	int64_t at;
	if (v->type == BRAIN_META_BOOL)
		at = value_find(f, v->b ? "\1" : "", 1);
	else if (v->type == BRAIN_META_STRING)
		at = value_find(f, v->s, v->len);
	else
		return NULL;
	return at >= 0 ? f->value_slots[at] : NULL;
}

/* Add the slots of `f = v` (the literal compares with the field's type,
 * checked) into s. */
static int add_eq(const meta_field *f, const brain_filter_value *v, uint32_t limit,
                  brain_slotset *s)
{
	if (f->type == BRAIN_META_INT || f->type == BRAIN_META_DOUBLE) {
		uint64_t lo, hi;
		if (v->type != BRAIN_META_INT && v->type != BRAIN_META_DOUBLE)
			return BRAIN_OK;
		return key_range(f->type, BRAIN_FILTER_EQ, v, &lo, &hi)
		               ? nums_range(&f->nums, lo, hi, limit, s) : BRAIN_OK;
	}
	const brain_slotset *vs = value_slots(f, v);
	if (vs)
		brain__slotset_or(s, vs);
	return BRAIN_OK;
}

static int eval_node(const eval_ctx *c, const brain_filter *n, brain_slotset **out);

static int eval_condition(const eval_ctx *c, const brain_filter *n, brain_slotset **out)
{
	*out = NULL;
	int64_t fi = field_find(c->ms, n->field, n->field_len);
	const meta_field *f = fi >= 0 ? &c->ms->fields[fi] : NULL;
	if (!f || f->holders == 0) {
		*out = brain__slotset_new(); /* no live memory holds it */
		return *out ? BRAIN_OK : BRAIN_ENOMEM;
	}
	brain_slotset *s = brain__slotset_new();
	if (!s)
		return BRAIN_ENOMEM;
	int rc = BRAIN_OK;
	switch (n->node) {
	case BRAIN_FILTER_EXISTS:
		brain__slotset_or(s, f->exists);
		break;
	case BRAIN_FILTER_IN:
		for (uint32_t i = 0; rc == BRAIN_OK && i < n->n_values; i++)
			rc = add_eq(f, &n->values[i], c->limit, s);
		break;
	case BRAIN_FILTER_CONTAINS:
		if (f->type == BRAIN_META_LIST) {
			rc = add_eq(f, &n->values[0], c->limit, s);
		} else if (f->type == BRAIN_META_STRING) {
			const brain_filter_value *v = &n->values[0];
			for (uint32_t i = 0; i < f->values.n; i++) {
				const brain_name *mv = brain__names_at(&f->values, i);
				if (v->len == 0 || holds(mv->s, mv->len, v->s, v->len))
					brain__slotset_or(s, f->value_slots[i]);
			}
		}
		break;
	case BRAIN_FILTER_CMP:
		if (n->op == BRAIN_FILTER_EQ || n->op == BRAIN_FILTER_NE) {
			rc = add_eq(f, &n->values[0], c->limit, s);
			if (rc == BRAIN_OK && n->op == BRAIN_FILTER_NE) {
				brain_slotset *all = brain__slotset_copy(f->exists);
				if (!all) {
					rc = BRAIN_ENOMEM;
					break;
				}
				brain__slotset_andnot(all, s);
				brain__slotset_free(s);
				s = all;
			}
		} else if (f->type == BRAIN_META_INT || f->type == BRAIN_META_DOUBLE) {
			uint64_t lo, hi;
			const brain_filter_value *v = &n->values[0];
			if ((v->type == BRAIN_META_INT || v->type == BRAIN_META_DOUBLE) &&
			    key_range(f->type, n->op, v, &lo, &hi))
				rc = nums_range(&f->nums, lo, hi, c->limit, s);
		}
		break;
	default:
		break;
	}
	if (rc) {
		brain__slotset_free(s);
		return rc;
	}
	*out = s;
	return BRAIN_OK;
}

static int eval_node(const eval_ctx *c, const brain_filter *n, brain_slotset **out)
{
	*out = NULL;
	if (n->node == BRAIN_FILTER_NOT) {
		brain_slotset *k;
		int rc = eval_node(c, n->kids[0], &k);
		if (rc)
			return rc;
		brain_slotset *all = brain__slotset_copy(c->ms->live);
		if (!all) {
			brain__slotset_free(k);
			return BRAIN_ENOMEM;
		}
		brain__slotset_andnot(all, k);
		brain__slotset_free(k);
		*out = all;
		return BRAIN_OK;
	}
	if (n->node == BRAIN_FILTER_AND || n->node == BRAIN_FILTER_OR) {
		brain_slotset *acc = NULL;
		for (uint32_t i = 0; i < n->n_kids; i++) {
			brain_slotset *k;
			int rc = eval_node(c, n->kids[i], &k);
			if (rc) {
				brain__slotset_free(acc);
				return rc;
			}
			if (!acc) {
				acc = k;
			} else {
				if (n->node == BRAIN_FILTER_AND)
					brain__slotset_and(acc, k);
				else
					brain__slotset_or(acc, k);
				brain__slotset_free(k);
			}
			if (n->node == BRAIN_FILTER_AND && brain__slotset_empty(acc))
				break; /* nothing left to narrow */
		}
		*out = acc;
		return BRAIN_OK;
	}
	return eval_condition(c, n, out);
}

int brain__meta_store_eval(const meta_store *ms, const brain_filter *f, uint32_t limit,
                           bool (*is_live)(uint32_t slot, void *payload), void *payload,
                           brain_slotset **out)
{
	*out = NULL;
	if (!ms->broken) {
		eval_ctx c = {ms, limit};
		int rc = eval_node(&c, f, out);
		return rc == BRAIN_ENOMEM ? brain__oom(64, "filter") : rc;
	}
	/* a posting list missed a change: every live memory's blob, checked */
	brain_slotset *s = brain__slotset_new();
	if (!s)
		return BRAIN_ENOMEM;
	uint32_t buf[1024];
	size_t nb = 0;
	int rc = BRAIN_OK;
	for (uint32_t slot = 0; rc == BRAIN_OK && slot < limit; slot++) {
		if (!is_live(slot, payload))
			continue;
		size_t len = 0;
		const uint8_t *b = brain__meta_blob(ms, slot, &len);
		if (brain__filter_match(f, b, len))
			buf[nb++] = slot;
		if (nb == BRAIN_ARRAY_LEN(buf) || (nb && slot + 1 == limit)) {
			rc = brain__slotset_add_many(s, buf, nb);
			nb = 0;
		}
	}
	if (rc == BRAIN_OK && nb)
		rc = brain__slotset_add_many(s, buf, nb);
	if (rc) {
		brain__slotset_free(s);
		return rc;
	}
	*out = s;
	return BRAIN_OK;
}

/*
 * organs/hippocampus/postings.h - the metadata of the memory store: one blob per
 * slot (base/meta.h), the fields the brain's memories hold, and the posting
 * lists a filter is evaluated over (postings.c).
 *
 * The blobs are the truth; the posting lists are derived from them:
 *
 *   a field    name, the type its holders have (set by the first holder;
 *              free again once no live memory holds the field), how many
 *              hold it, the slots whose blob has it (exists), the slots of
 *              each distinct string, list item and bool (values), and the
 *              (key, slot) pairs of numbers in order (nums, keys from
 *              brain__meta_int_key / brain__meta_double_key);
 *   a slot     the blob of the memory there;
 *   live       the slots of every live memory (NOT's universe).
 *
 * So the set a filter evaluates to holds live memories only, and its size
 * is the exact count. The changes allocate nothing through the brain's
 * allocator but at prepare (fields, the slot table): the posting lists are
 * CRoaring's (base/slotset.h). If a change of one fails (out of memory),
 * `broken` is set and every filter is evaluated by scanning the blobs of
 * the live memories (brain__filter_match), which is exact; a reopen builds
 * them again. So a forget, which must not fail, takes a memory's postings
 * out at once.
 *
 * All under the brain's lock: changes under the write lock, evaluation
 * under the read lock.
 */
#ifndef BRAIN_ORGANS_HIPPOCAMPUS_POSTINGS_H
#define BRAIN_ORGANS_HIPPOCAMPUS_POSTINGS_H

#include "base/filter_tree.h"
#include "base/hashmap.h"
#include "base/names.h"
#include "base/meta.h"
#include "base/slotset.h"

/* Entries of one block of a field's ordered numbers. */
#define META_NUM_BLOCK 256

typedef struct meta_num_block {
	uint32_t n;
	uint32_t slots[META_NUM_BLOCK];
	uint64_t keys[META_NUM_BLOCK];
} meta_num_block;

/* (key, slot) pairs in order: blocks in order, each sorted, none empty
 * (but a lone first block). */
typedef struct meta_nums {
	meta_num_block **blocks;
	size_t n_blocks;
	size_t cap;
	uint64_t count;
} meta_nums;

typedef struct meta_field {
	int type;              /* of its holders (enum brain_meta_type) */
	uint64_t holders;      /* live memories holding it */
	brain_slotset *exists;
	/* its distinct strings and list items (a bool is "\0" or "\1"), and
	 * the slots of each, by the value's number */
	brain_names values;
	brain_slotset **value_slots;
	uint32_t cap_values;
	meta_nums nums;
} meta_field;

typedef struct meta_store {
	brain_names names;     /* the fields' names */
	meta_field *fields;    /* by the name's number */
	uint32_t cap_fields;
	uint8_t **blobs;       /* per slot: u32 length, then the blob; or NULL */
	size_t cap_blobs;
	uint64_t count;        /* live memories with metadata */
	uint64_t bytes;        /* bytes of the blobs held */
	brain_slotset *live;   /* every live memory's slot */
	bool broken;           /* a posting list missed a change: scan */
} meta_store;

/* 0 or BRAIN_ENOMEM. */
int brain__meta_store_init(meta_store *ms);
void brain__meta_store_free(meta_store *ms);

/* The blob of a slot (its length in *len), or NULL. */
static inline const uint8_t *brain__meta_blob(const meta_store *ms, uint32_t slot, size_t *len)
{
	if (slot >= ms->cap_blobs || !ms->blobs[slot])
		return NULL;
	uint32_t l;
	__builtin_memcpy(&l, ms->blobs[slot], 4);
	*len = l;
	return ms->blobs[slot] + 4;
}

/* The type of the field `name` has among live memories (NONE: none holds
 * it). */
int brain__meta_field_type(const meta_store *ms, const char *name, size_t len);

/* Check a blob against the fields' types, as a memory's new metadata;
 * `slot` is the memory's own slot (its current blob does not count), or
 * UINT32_MAX. An integer for a double field is widened: *out then holds a
 * new blob to use instead (else out->data is NULL). BRAIN_ETYPE naming the
 * field, or BRAIN_ENOMEM. */
int brain__meta_store_check(const meta_store *ms, const void *blob, size_t len, uint32_t slot,
                            brain_meta_blob *out);

/* Make sure the fields of `blob` exist and the slot table reaches `slot`
 * (with a blob: a brain without metadata has no table), so that put cannot
 * fail but for its posting lists (which only set broken). 0 or
 * BRAIN_ENOMEM; nothing else changes. */
int brain__meta_store_prepare(meta_store *ms, const void *blob, size_t len, uint32_t slot);

/* A live memory with metadata `blob` (NULL: none), a heap blob with its
 * u32 length in front (brain__meta_heap; ownership passes), takes `slot`
 * (a new memory, after prepare; or one whose metadata drop took out).
 * Cannot fail (broken on a posting list's failure). */
void brain__meta_store_put(meta_store *ms, uint32_t slot, uint8_t *blob);

/* The memory of `slot` is gone (forget, a store undone) or about to take
 * new metadata: its fields lose a holder, its postings and blob go, and
 * its slot leaves `live`. Never allocates through the brain's allocator
 * (see the top); cannot fail. */
void brain__meta_store_drop(meta_store *ms, uint32_t slot);

/* Slots of live memories that put did not see (a load: memories without
 * metadata), into `live`. Cannot fail (broken). */
void brain__meta_store_live(meta_store *ms, const uint32_t *slots, size_t n);

/* The live memory of `from` moves to the free slot `to` (compaction:
 * `to` < `from`, so the slot table reaches it if `from` has a blob).
 * Cannot fail (broken on a posting list's failure). */
void brain__meta_store_move(meta_store *ms, uint32_t from, uint32_t to);

/* The slots of the live memories that pass f (checked types): *out is a
 * new set. When broken, the slots below `limit` whose memories are live
 * (is_live(slot, payload)) are scanned. 0, BRAIN_ENOMEM. */
int brain__meta_store_eval(const meta_store *ms, const brain_filter *f, uint32_t limit,
                           bool (*is_live)(uint32_t slot, void *payload), void *payload,
                           brain_slotset **out);

/* Bytes held: blobs, fields, posting lists (CRoaring's estimate). */
uint64_t brain__meta_store_bytes(const meta_store *ms);

#endif /* BRAIN_ORGANS_HIPPOCAMPUS_POSTINGS_H */

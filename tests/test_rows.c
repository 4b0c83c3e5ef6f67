/*
 * tests/test_rows.c - the chunked row table (storage/rows.c): geometry,
 * growth, rows that never move, alignment, zero fill, and out-of-memory
 * at every allocation leaving the table usable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "storage/rows.h"
#include "tests/test_alloc.h"
#include "tests/test_util.h"

/* Fail the nth allocation from now (-1: every one) / stop failing. */
static void fail_nth(long n)
{
	assert_int_equal(test_alloc_install(), 0);
	test_alloc_arm(n);
}

static void fail_none(void)
{
	assert_int_equal(test_alloc_remove(), 0);
}

/* ---- helpers ----------------------------------------------------------- */

/* A byte pattern that depends on the row and the offset. */
static unsigned char pattern(size_t row, size_t off)
{
	return (unsigned char)(brain__mix64(row * 1000003u + off) | 1);
}

static void fill_row(const brain_rows *r, size_t i)
{
	unsigned char *p = brain__rows_at(r, i);
	for (size_t j = 0; j < r->row_size; j++)
		p[j] = pattern(i, j);
}

static bool row_intact(const brain_rows *r, size_t i)
{
	const unsigned char *p = brain__rows_at(r, i);
	for (size_t j = 0; j < r->row_size; j++)
		if (p[j] != pattern(i, j))
			return false;
	return true;
}

/* ---- tests ------------------------------------------------------------- */

static void test_rows__init_checks_arguments(void **state)
{
	(void)state;
	brain_rows r;
	assert_int_equal(brain__rows_init(&r, 0, 4), BRAIN_EINVAL);
	assert_int_equal(brain__rows_init(&r, 8, 25), BRAIN_EINVAL);
	assert_int_equal(brain__rows_init(&r, SIZE_MAX, 0), BRAIN_EINVAL);
	assert_int_equal(brain__rows_init(&r, SIZE_MAX / 2, 4), BRAIN_EINVAL);
	assert_int_equal(brain__rows_init(NULL, 8, 4), BRAIN_ENULL);
	assert_int_equal(brain__rows_init(&r, 8, 24), 0);
	assert_int_equal(brain__rows_init(&r, 8, 0), 0);
}

static void test_rows__stride_is_row_size_rounded_to_64(void **state)
{
	(void)state;
	static const size_t sizes[][2] = {{1, 64}, {63, 64}, {64, 64}, {65, 128}, {400, 448},
	                                  {512, 512}, {513, 576}};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(sizes); i++) {
		brain_rows r;
		assert_int_equal(brain__rows_init(&r, sizes[i][0], 3), 0);
		assert_int_equal(r.row_size, sizes[i][0]);
		assert_int_equal(r.stride, sizes[i][1]);
		assert_int_equal(brain__rows_capacity(&r), 0);
		assert_int_equal(brain__rows_memory(&r), 0);
		brain__rows_free(&r);
	}
}

static void test_rows__reserve_grows_by_whole_chunks(void **state)
{
	(void)state;
	brain_rows r;
	assert_int_equal(brain__rows_init(&r, 12, 3), 0); /* 8 rows per chunk */
	assert_int_equal(brain__rows_reserve(&r, 0), 0);
	assert_int_equal(brain__rows_capacity(&r), 0);
	assert_int_equal(brain__rows_reserve(&r, 1), 0);
	assert_int_equal(brain__rows_capacity(&r), 8);
	assert_int_equal(brain__rows_reserve(&r, 8), 0);
	assert_int_equal(brain__rows_capacity(&r), 8);
	assert_int_equal(brain__rows_reserve(&r, 9), 0);
	assert_int_equal(brain__rows_capacity(&r), 16);
	/* Asking for less never shrinks. */
	assert_int_equal(brain__rows_reserve(&r, 3), 0);
	assert_int_equal(brain__rows_capacity(&r), 16);
	assert_int_equal(brain__rows_reserve(&r, 1000), 0);
	assert_int_equal(brain__rows_capacity(&r), 1000);
	assert_int_equal(brain__rows_reserve(&r, 1001), 0);
	assert_int_equal(brain__rows_capacity(&r), 1008);
	for (size_t i = 0; i < 1008; i++)
		fill_row(&r, i);
	for (size_t i = 0; i < 1008; i++)
		assert_true(row_intact(&r, i));
	brain__rows_free(&r);
	assert_int_equal(brain__rows_capacity(&r), 0);
	/* Freed tables can be used again, and freeing twice is harmless. */
	assert_int_equal(brain__rows_reserve(&r, 5), 0);
	assert_int_equal(brain__rows_capacity(&r), 8);
	brain__rows_free(&r);
	brain__rows_free(&r);
	brain__rows_free(NULL);
}

static void test_rows__one_row_per_chunk(void **state)
{
	(void)state;
	brain_rows r;
	assert_int_equal(brain__rows_init(&r, 100, 0), 0);
	assert_int_equal(brain__rows_reserve(&r, 37), 0);
	assert_int_equal(brain__rows_capacity(&r), 37);
	for (size_t i = 0; i < 37; i++)
		fill_row(&r, i);
	for (size_t i = 0; i < 37; i++)
		assert_true(row_intact(&r, i));
	brain__rows_free(&r);
}

static void test_rows__rows_never_move(void **state)
{
	(void)state;
	brain_rows r;
	assert_int_equal(brain__rows_init(&r, 40, 2), 0);
	assert_int_equal(brain__rows_reserve(&r, 10), 0);
	size_t n = brain__rows_capacity(&r);
	void *before[12];
	assert_true(n <= BRAIN_ARRAY_LEN(before));
	for (size_t i = 0; i < n; i++) {
		fill_row(&r, i);
		before[i] = brain__rows_at(&r, i);
	}
	/* Many chunks later (and many growths of the chunk list), the first
	 * rows are where they were, with what they held. */
	for (size_t want = 16; want <= 20000; want = want * 3 / 2)
		assert_int_equal(brain__rows_reserve(&r, want), 0);
	for (size_t i = 0; i < n; i++) {
		assert_ptr_equal(brain__rows_at(&r, i), before[i]);
		assert_true(row_intact(&r, i));
	}
	brain__rows_free(&r);
}

static void test_rows__rows_are_64_byte_aligned(void **state)
{
	(void)state;
	static const size_t sizes[] = {1, 4, 60, 64, 100, 384 * 4, 1000};
	for (size_t s = 0; s < BRAIN_ARRAY_LEN(sizes); s++) {
		for (unsigned log2 = 0; log2 <= 5; log2++) {
			brain_rows r;
			assert_int_equal(brain__rows_init(&r, sizes[s], log2), 0);
			assert_int_equal(brain__rows_reserve(&r, 70), 0);
			for (size_t i = 0; i < brain__rows_capacity(&r); i++)
				assert_int_equal((uintptr_t)brain__rows_at(&r, i) % 64, 0);
			brain__rows_free(&r);
		}
	}
}

static void test_rows__new_rows_are_zero(void **state)
{
	(void)state;
	/* Dirty the heap first so that a missing memset would likely show. */
	for (int i = 0; i < 16; i++) {
		unsigned char *junk = brain__malloc(4096);
		assert_non_null(junk);
		memset(junk, 0xA5, 4096);
		brain__free(junk);
	}
	brain_rows r;
	assert_int_equal(brain__rows_init(&r, 100, 4), 0);
	assert_int_equal(brain__rows_reserve(&r, 50), 0);
	size_t cap = brain__rows_capacity(&r);
	/* The whole stride, padding included, is zero. */
	for (size_t i = 0; i < cap; i++) {
		const unsigned char *p = brain__rows_at(&r, i);
		for (size_t j = 0; j < r.stride; j++)
			assert_int_equal(p[j], 0);
	}
	brain__rows_free(&r);
}

static void test_rows__memory_counts_chunks(void **state)
{
	(void)state;
	brain_rows r;
	assert_int_equal(brain__rows_init(&r, 64, 4), 0); /* 1 KiB chunks */
	assert_int_equal(brain__rows_memory(&r), 0);
	assert_int_equal(brain__rows_reserve(&r, 16), 0);
	size_t one = brain__rows_memory(&r);
	assert_true(one >= 16 * 64);
	assert_int_equal(brain__rows_reserve(&r, 16 * 10), 0);
	size_t ten = brain__rows_memory(&r);
	assert_true(ten >= 10 * 16 * 64);
	assert_true(ten > one);
	brain__rows_free(&r);
	assert_int_equal(brain__rows_memory(&r), 0);
}

static void test_rows__reserve_huge_is_enomem(void **state)
{
	(void)state;
	brain_rows r;
	assert_int_equal(brain__rows_init(&r, 64, 0), 0);
	assert_int_equal(brain__rows_reserve(&r, 3), 0);
	fill_row(&r, 0);
	/* More chunks than the chunk list can address. */
	assert_int_equal(brain__rows_reserve(&r, SIZE_MAX), BRAIN_ENOMEM);
	assert_true(row_intact(&r, 0));
	assert_int_equal(brain__rows_capacity(&r), 3);
	brain__rows_free(&r);
}

/* Fail the Nth allocation for N = 1, 2, ... until reserve succeeds. Each
 * failure is BRAIN_ENOMEM, keeps every row that existed with its content
 * and address, and leaves a table that the next reserve grows normally. */
static void test_rows__enomem_leaves_table_usable(void **state)
{
	(void)state;
	brain_rows r;
	assert_int_equal(brain__rows_init(&r, 24, 2), 0);
	assert_int_equal(brain__rows_reserve(&r, 6), 0);
	size_t had = brain__rows_capacity(&r);
	void *addr[8];
	for (size_t i = 0; i < had; i++) {
		fill_row(&r, i);
		addr[i] = brain__rows_at(&r, i);
	}
	int failures = 0;
	for (long n = 1;; n++) {
		fail_nth(n);
		int rc = brain__rows_reserve(&r, 200);
		fail_none();
		if (rc == 0)
			break;
		assert_int_equal(rc, BRAIN_ENOMEM);
		failures++;
		assert_true(brain__rows_capacity(&r) >= had);
		assert_true(brain__rows_capacity(&r) < 200);
		for (size_t i = 0; i < had; i++) {
			assert_ptr_equal(brain__rows_at(&r, i), addr[i]);
			assert_true(row_intact(&r, i));
		}
		/* Rows added by the partial reserve are usable and zero. */
		for (size_t i = had; i < brain__rows_capacity(&r); i++) {
			const unsigned char *p = brain__rows_at(&r, i);
			assert_int_equal(p[0] | p[r.row_size - 1], 0);
		}
		assert_true(n < 1000);
	}
	assert_true(failures > 0);
	assert_true(brain__rows_capacity(&r) >= 200);
	for (size_t i = 0; i < had; i++)
		assert_true(row_intact(&r, i));
	for (size_t i = had; i < 200; i++)
		fill_row(&r, i);
	for (size_t i = 0; i < 200; i++)
		assert_true(row_intact(&r, i));
	brain__rows_free(&r);
}

/* The first allocation of an empty table fails: still empty, still usable. */
static void test_rows__enomem_on_first_chunk(void **state)
{
	(void)state;
	for (long n = 1; n <= 2; n++) {
		brain_rows r;
		assert_int_equal(brain__rows_init(&r, 10, 3), 0);
		fail_nth(n);
		assert_int_equal(brain__rows_reserve(&r, 5), BRAIN_ENOMEM);
		fail_none();
		assert_int_equal(brain__rows_capacity(&r), 0);
		assert_int_equal(brain__rows_reserve(&r, 5), 0);
		assert_int_equal(brain__rows_capacity(&r), 8);
		brain__rows_free(&r);
	}
}

static void test_rows__aligned_stride(void **state)
{
	(void)state;
	brain_rows r;
	assert_int_equal(brain__rows_init_aligned(&r, 41, 8, 4), 0);
	assert_int_equal(r.stride, 48);
	assert_int_equal(brain__rows_reserve(&r, 100), 0);
	for (size_t i = 0; i < 100; i++) {
		unsigned char *row = brain__rows_at(&r, i);
		assert_int_equal((uintptr_t)row % 8, 0);
		if (i % 16 == 0)
			assert_int_equal((uintptr_t)row % 64, 0); /* chunks start 64-aligned */
		memset(row, (int)i, 41);
	}
	for (size_t i = 0; i < 100; i++)
		assert_int_equal(((unsigned char *)brain__rows_at(&r, i))[40], (unsigned char)i);
	brain__rows_free(&r);
	assert_int_equal(brain__rows_init_aligned(&r, 8, 3, 4), BRAIN_EINVAL);
	assert_int_equal(brain__rows_init_aligned(&r, 8, 128, 4), BRAIN_EINVAL);
	assert_int_equal(brain__rows_init_aligned(&r, 8, 0, 4), BRAIN_EINVAL);
}

/* Adopted chunks owned a budget at a time, those `pick` chooses only:
 * each keeps its bytes, moves to the heap (off the adopter's buffer), and
 * *left counts the chosen still adopted. */
static bool pick_even(const unsigned char *chunk, const void *ctx)
{
	const unsigned char *base = ctx;
	return ((size_t)(chunk - base) / 1024) % 2 == 0;
}

static void test_rows__own_some_by_budget_and_pick(void **state)
{
	(void)state;
	brain_rows r;
	assert_int_equal(brain__rows_init(&r, 64, 4), 0); /* 16 rows, 1 KiB a chunk */
	size_t bytes = brain__rows_chunk_bytes(&r);
	assert_int_equal(bytes, 1024);
	unsigned char *base = NULL;
	assert_int_equal(posix_memalign((void **)&base, 64, 6 * bytes), 0);
	for (size_t i = 0; i < 6 * bytes; i++)
		base[i] = (unsigned char)(i * 7);
	assert_int_equal(brain__rows_adopt(&r, base, 6 * 16), 0);
	size_t budget = 2, left = 99;
	assert_int_equal(brain__rows_own_some(&r, &budget, pick_even, base, &left), 0);
	assert_int_equal(budget, 0);
	assert_int_equal(left, 1); /* chunks 0, 2 owned; 4 left */
	assert_false(brain__rows_borrowed(&r, 0));
	assert_true(brain__rows_borrowed(&r, 1));
	assert_false(brain__rows_borrowed(&r, 2));
	assert_true(brain__rows_borrowed(&r, 4));
	budget = 10;
	assert_int_equal(brain__rows_own_some(&r, &budget, NULL, NULL, &left), 0);
	assert_int_equal(left, 0);
	assert_int_equal(budget, 10 - 4);
	for (size_t c = 0; c < 6; c++) {
		assert_false(brain__rows_borrowed(&r, c));
		assert_memory_equal(brain__rows_at(&r, c * 16), base + c * bytes, bytes);
		assert_true((unsigned char *)brain__rows_at(&r, c * 16) < base ||
		            (unsigned char *)brain__rows_at(&r, c * 16) >= base + 6 * bytes);
	}
	brain__rows_free(&r);
	free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows__aligned_stride),
		cmocka_unit_test(test_rows__init_checks_arguments),
		cmocka_unit_test(test_rows__stride_is_row_size_rounded_to_64),
		cmocka_unit_test(test_rows__reserve_grows_by_whole_chunks),
		cmocka_unit_test(test_rows__one_row_per_chunk),
		cmocka_unit_test(test_rows__rows_never_move),
		cmocka_unit_test(test_rows__rows_are_64_byte_aligned),
		cmocka_unit_test(test_rows__new_rows_are_zero),
		cmocka_unit_test(test_rows__memory_counts_chunks),
		cmocka_unit_test(test_rows__reserve_huge_is_enomem),
		cmocka_unit_test(test_rows__enomem_leaves_table_usable),
		cmocka_unit_test(test_rows__enomem_on_first_chunk),
		cmocka_unit_test(test_rows__own_some_by_budget_and_pick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

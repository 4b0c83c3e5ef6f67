/*
 * tests/test_hashmap.c - the id/feature hash maps against a plain array,
 * both key widths (brain_map, brain_map32: one code made twice, so each
 * test runs on each).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/hashmap.h"
#include "base/names.h"
#include "test_util.h"

#define KEYS 2000

/* The tests once per map: T the map, C its cell, K its key, E its empty
 * key, F(x) its functions, S the tests' name suffix. */
#define MAP_TESTS(T, C, K, E, F, S)                                                     \
	static void test_hashmap__matches_reference_under_churn_##S(void **state)          \
	{                                                                                   \
		(void)state;                                                                    \
		test_rng rng = {42};                                                            \
		T m;                                                                            \
		F(init)(&m);                                                                    \
		/* keys from a small range collide and form long probe runs, which           \
		 * exercises backward-shift deletion */                                        \
		static uint32_t ref[KEYS];                                                      \
		static bool present[KEYS];                                                      \
		memset(present, 0, sizeof present);                                             \
		size_t count = 0;                                                               \
		for (int step = 0; step < 200000; step++) {                                     \
			K key = (K)(test_rng_next(&rng) % KEYS);                                    \
			if (test_rng_next(&rng) % 3 < 2) {                                          \
				uint32_t v = (uint32_t)test_rng_next(&rng);                             \
				assert_int_equal(F(put)(&m, key, v), 0);                                \
				if (!present[key])                                                      \
					count++;                                                            \
				present[key] = true;                                                    \
				ref[key] = v;                                                           \
			} else {                                                                    \
				assert_int_equal(F(remove)(&m, key), present[key]);                     \
				if (present[key])                                                       \
					count--;                                                            \
				present[key] = false;                                                   \
			}                                                                           \
			assert_int_equal(F(count)(&m), count);                                      \
			if (step % 997 == 0) {                                                      \
				for (K k = 0; k < KEYS; k++) {                                          \
					uint32_t v = 0;                                                     \
					assert_int_equal(F(get)(&m, k, &v), present[k]);                    \
					if (present[k])                                                     \
						assert_int_equal(v, ref[k]);                                    \
				}                                                                       \
			}                                                                           \
		}                                                                               \
		F(free)(&m);                                                                    \
	}                                                                                   \
                                                                                        \
	static void test_hashmap__reserve_and_upsert_##S(void **state)                      \
	{                                                                                   \
		(void)state;                                                                    \
		T m;                                                                            \
		F(init)(&m);                                                                    \
		assert_false(F(get)(&m, 5, NULL));                                              \
		assert_false(F(remove)(&m, 5));                                                 \
		assert_int_equal(F(memory)(&m), 0);                                             \
		assert_int_equal(F(reserve)(&m, 1000), 0);                                      \
		size_t mem = F(memory)(&m);                                                     \
		assert_true(mem >= 1000 * sizeof(C));                                           \
		for (K k = 0; k < 1000; k++) {                                                  \
			uint32_t *v;                                                                \
			bool created;                                                               \
			assert_int_equal(F(upsert)(&m, k * 7919, &v, &created), 0);                 \
			assert_true(created);                                                       \
			*v = (uint32_t)k;                                                           \
		}                                                                               \
		assert_int_equal(F(memory)(&m), mem); /* reserved: no growth */                 \
		uint32_t *v;                                                                    \
		bool created;                                                                   \
		assert_int_equal(F(upsert)(&m, 7919, &v, &created), 0);                         \
		assert_false(created);                                                          \
		assert_int_equal(*v, 1);                                                        \
		assert_int_equal(F(upsert)(&m, E, &v, &created), BRAIN_EINTERNAL);              \
		assert_false(F(get)(&m, E, NULL));                                              \
		F(free)(&m);                                                                    \
	}                                                                                   \
                                                                                        \
	/* A saved table is adopted in place, and one a lookup could not walk is         \
	 * refused. */                                                                     \
	static void test_hashmap__adopt_checks_the_table_##S(void **state)                  \
	{                                                                                   \
		(void)state;                                                                    \
		T m;                                                                            \
		F(init)(&m);                                                                    \
		for (K k = 1; k <= 50; k++)                                                     \
			assert_int_equal(F(put)(&m, k * 31, (uint32_t)k), 0);                       \
		size_t cap = m.mask + 1;                                                        \
		C *copy = malloc(cap * sizeof *copy);                                           \
		assert_non_null(copy);                                                          \
		memcpy(copy, m.cells, cap * sizeof *copy);                                      \
		T a;                                                                            \
		F(init)(&a);                                                                    \
		assert_int_equal(F(adopt)(&a, copy, cap, 50), 0);                               \
		uint32_t v = 0;                                                                 \
		assert_true(F(get)(&a, 31 * 7, &v));                                            \
		assert_int_equal(v, 7);                                                         \
		F(free)(&a); /* borrowed: not freed */                                          \
		assert_int_equal(F(adopt)(&a, copy, cap, 49), BRAIN_ECORRUPT);                  \
		assert_int_equal(F(adopt)(&a, copy, cap - 1, 50), BRAIN_ECORRUPT);              \
		/* one more key, where lookups cannot reach it: in an empty cell      \
		 * after an empty cell, not its home */                                         \
		K extra = 999983;                                                               \
		size_t home = (size_t)brain__mix64(extra) & (cap - 1), e = 1;                   \
		while (!(copy[e].key == E && copy[e - 1].key == E && e != home))                \
			e++;                                                                        \
		copy[e].key = extra;                                                            \
		assert_int_equal(F(adopt)(&a, copy, cap, 51), BRAIN_ECORRUPT);                  \
		copy[e].key = E;                                                                \
		assert_int_equal(F(adopt)(&a, copy, cap, 50), 0);                               \
		/* its cells copied, taken into use: the map no longer reads copy */          \
		C *own = NULL;                                                                  \
		assert_int_equal(F(copy_cells)(&a, &own), 0);                                   \
		assert_non_null(own);                                                           \
		F(take_cells)(&a, own);                                                         \
		assert_false(a.borrowed);                                                       \
		memset(copy, 0, cap * sizeof *copy);                                            \
		assert_true(F(get)(&a, 31 * 9, &v));                                            \
		assert_int_equal(v, 9);                                                         \
		F(free)(&a); /* owned: freed */                                                 \
		free(copy);                                                                     \
		F(free)(&m);                                                                    \
	}

#define MAP64_FN(x) brain__map_##x
#define MAP32_FN(x) brain__map32_##x
MAP_TESTS(brain_map, brain_map_cell, uint64_t, BRAIN_MAP_EMPTY, MAP64_FN, 64)
MAP_TESTS(brain_map32, brain_map32_cell, uint32_t, BRAIN_MAP32_EMPTY, MAP32_FN, 32)

/* Interned names: numbered in order, found again, NULs inside kept, the
 * last taken back and added again under the same number. */
static void test_names__intern_and_drop_last(void **state)
{
	(void)state;
	brain_names t;
	brain__names_init(&t, 7);
	char buf[32];
	bool added;
	for (int i = 0; i < 3000; i++) {
		int n = snprintf(buf, sizeof buf, "name %d", i);
		assert_int_equal(brain__names_add(&t, buf, (size_t)n, &added), i);
		assert_true(added);
	}
	assert_int_equal(brain__names_add(&t, "name 17", 7, &added), 17);
	assert_false(added);
	assert_int_equal(brain__names_add(&t, "a\0b", 3, &added), 3000);
	assert_int_equal(brain__names_find(&t, "a\0b", 3), 3000);
	assert_int_equal(brain__names_find(&t, "a", 1), -1);
	assert_int_equal(brain__names_at(&t, 3000)->len, 3);
	brain__names_drop_last(&t);
	assert_int_equal(brain__names_find(&t, "a\0b", 3), -1);
	assert_int_equal(t.n, 3000);
	for (int i = 0; i < 3000; i++) {
		int n = snprintf(buf, sizeof buf, "name %d", i);
		assert_int_equal(brain__names_find(&t, buf, (size_t)n), i);
		assert_memory_equal(brain__names_at(&t, (uint32_t)i)->s, buf, (size_t)n);
	}
	assert_int_equal(brain__names_add(&t, "a\0b", 3, &added), 3000);
	assert_true(added);
	brain__names_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hashmap__matches_reference_under_churn_64),
		cmocka_unit_test(test_hashmap__reserve_and_upsert_64),
		cmocka_unit_test(test_hashmap__adopt_checks_the_table_64),
		cmocka_unit_test(test_hashmap__matches_reference_under_churn_32),
		cmocka_unit_test(test_hashmap__reserve_and_upsert_32),
		cmocka_unit_test(test_hashmap__adopt_checks_the_table_32),
		cmocka_unit_test(test_names__intern_and_drop_last),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

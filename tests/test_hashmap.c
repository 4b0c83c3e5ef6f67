/*
 * tests/test_hashmap.c - the id/feature hash map against a plain array.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/hashmap.h"
#include "test_util.h"

#define KEYS 2000

static void test_hashmap__matches_reference_under_churn(void **state)
{
	(void)state;
	test_rng rng = {42};
	brain_map m;
	brain__map_init(&m);
	/* keys from a small range collide and form long probe runs, which
	 * exercises backward-shift deletion */
	static uint32_t ref[KEYS];
	static bool present[KEYS];
	memset(present, 0, sizeof present);
	size_t count = 0;
	for (int step = 0; step < 200000; step++) {
		uint64_t key = test_rng_next(&rng) % KEYS;
		switch (test_rng_next(&rng) % 3) {
		case 0:
		case 1: {
			uint32_t v = (uint32_t)test_rng_next(&rng);
			assert_int_equal(brain__map_put(&m, key, v), 0);
			if (!present[key])
				count++;
			present[key] = true;
			ref[key] = v;
			break;
		}
		default:
			assert_int_equal(brain__map_remove(&m, key), present[key]);
			if (present[key])
				count--;
			present[key] = false;
		}
		assert_int_equal(brain__map_count(&m), count);
		if (step % 997 == 0) {
			for (uint64_t k = 0; k < KEYS; k++) {
				uint32_t v = 0;
				assert_int_equal(brain__map_get(&m, k, &v), present[k]);
				if (present[k])
					assert_int_equal(v, ref[k]);
			}
		}
	}
	brain__map_free(&m);
}

static void test_hashmap__reserve_and_upsert(void **state)
{
	(void)state;
	brain_map m;
	brain__map_init(&m);
	assert_false(brain__map_get(&m, 5, NULL));
	assert_false(brain__map_remove(&m, 5));
	assert_int_equal(brain__map_memory(&m), 0);
	assert_int_equal(brain__map_reserve(&m, 1000), 0);
	size_t mem = brain__map_memory(&m);
	assert_true(mem >= 1000 * sizeof(brain_map_cell));
	for (uint64_t k = 0; k < 1000; k++) {
		uint32_t *v;
		bool created;
		assert_int_equal(brain__map_upsert(&m, k * 7919, &v, &created), 0);
		assert_true(created);
		*v = (uint32_t)k;
	}
	assert_int_equal(brain__map_memory(&m), mem); /* reserved: no growth */
	uint32_t *v;
	bool created;
	assert_int_equal(brain__map_upsert(&m, 7919, &v, &created), 0);
	assert_false(created);
	assert_int_equal(*v, 1);
	assert_int_equal(brain__map_upsert(&m, BRAIN_MAP_EMPTY, &v, &created), BRAIN_EINTERNAL);
	assert_false(brain__map_get(&m, BRAIN_MAP_EMPTY, NULL));
	brain__map_free(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hashmap__matches_reference_under_churn),
		cmocka_unit_test(test_hashmap__reserve_and_upsert),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

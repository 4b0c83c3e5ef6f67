/*
 * tests/test_crc32c.c - CRC-32C (storage/crc32c.c): the published check
 * values, incremental use, and the dispatched (SSE4.2) and portable
 * versions against a bitwise reference at every length, alignment and
 * split point, over long buffers too, and the BRAINCORE_SIMD override.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "storage/crc32c.h"
#include "tests/test_util.h"

static const char *g_argv0;

/* ---- helpers ----------------------------------------------------------- */

/* The definition, one bit at a time. */
static uint32_t crc_bitwise(uint32_t crc, const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t c = ~crc;
	for (size_t i = 0; i < len; i++) {
		c ^= p[i];
		for (int b = 0; b < 8; b++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
	}
	return ~c;
}

static void fill_random(unsigned char *p, size_t len, uint64_t seed)
{
	test_rng rng = {seed};
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)test_rng_next(&rng);
}

typedef uint32_t (*crc_fn)(uint32_t crc, const void *data, size_t len);

static const crc_fn g_fns[] = {brain__crc32c, brain__crc32c_portable};

/* ---- tests ------------------------------------------------------------- */

static void test_crc32c__check_values(void **state)
{
	(void)state;
	unsigned char buf[32];
	for (size_t f = 0; f < BRAIN_ARRAY_LEN(g_fns); f++) {
		crc_fn crc = g_fns[f];
		assert_int_equal(crc(0, "123456789", 9), 0xE3069283u);
		assert_int_equal(crc(0, NULL, 0), 0);
		assert_int_equal(crc(0x12345678u, NULL, 0), 0x12345678u);
		/* RFC 3720, B.4 */
		memset(buf, 0, sizeof buf);
		assert_int_equal(crc(0, buf, sizeof buf), 0x8A9136AAu);
		memset(buf, 0xff, sizeof buf);
		assert_int_equal(crc(0, buf, sizeof buf), 0x62A8AB43u);
		for (int i = 0; i < 32; i++)
			buf[i] = (unsigned char)i;
		assert_int_equal(crc(0, buf, sizeof buf), 0x46DD794Eu);
		for (int i = 0; i < 32; i++)
			buf[i] = (unsigned char)(31 - i);
		assert_int_equal(crc(0, buf, sizeof buf), 0x113FDB5Cu);
	}
	assert_int_equal(crc_bitwise(0, "123456789", 9), 0xE3069283u);
}

/* Any split of a buffer into two pieces gives the CRC of the whole, and so
 * do many small pieces. The buffer is long enough for the three-stream
 * loops of both block sizes. */
static void test_crc32c__incremental_equals_one_shot(void **state)
{
	(void)state;
	enum { N = 3 * 8192 + 3 * 256 + 77 };
	unsigned char *buf = malloc(N);
	assert_non_null(buf);
	fill_random(buf, N, 1);
	uint32_t whole = crc_bitwise(0, buf, N);
	for (size_t f = 0; f < BRAIN_ARRAY_LEN(g_fns); f++) {
		crc_fn crc = g_fns[f];
		assert_int_equal(crc(0, buf, N), whole);
		/* every split point of the first 2000 bytes, then every 7th */
		for (size_t i = 0; i <= N; i += i < 2000 ? 1 : 7) {
			uint32_t c = crc(crc(0, buf, i), buf + i, N - i);
			if (c != whole)
				fail_msg("fn %zu: split at %zu gives %08x, want %08x", f, i, c, whole);
		}
		/* pieces of 1, 2, 3, ... bytes */
		uint32_t c = 0;
		for (size_t at = 0, step = 1; at < N; at += step, step++)
			c = crc(c, buf + at, TEST_MIN(step, N - at));
		assert_int_equal(c, whole);
	}
	free(buf);
}

/* Every length 0..1100 at every alignment: both versions agree with the
 * bitwise definition. */
static void test_crc32c__every_length_and_alignment(void **state)
{
	(void)state;
	enum { MAXLEN = 1100 };
	unsigned char *buf = malloc(MAXLEN + 16);
	assert_non_null(buf);
	fill_random(buf, MAXLEN + 16, 2);
	for (size_t align = 0; align < 8; align++) {
		for (size_t len = 0; len <= MAXLEN; len++) {
			const unsigned char *p = buf + align;
			uint32_t seed = (uint32_t)(len * 2654435761u);
			uint32_t want = crc_bitwise(seed, p, len);
			uint32_t hw = brain__crc32c(seed, p, len);
			uint32_t sw = brain__crc32c_portable(seed, p, len);
			if (hw != want || sw != want)
				fail_msg("len %zu align %zu: dispatched %08x portable %08x want %08x", len,
				         align, hw, sw, want);
		}
	}
	free(buf);
}

/* Lengths around the block sizes of the three-stream loops, misaligned. */
static void test_crc32c__block_boundaries(void **state)
{
	(void)state;
	static const size_t blocks[] = {3 * 256, 2 * 3 * 256, 3 * 8192, 2 * 3 * 8192,
	                                3 * 8192 + 3 * 256};
	enum { MAX = 2 * 3 * 8192 + 64 };
	unsigned char *buf = malloc(MAX);
	assert_non_null(buf);
	fill_random(buf, MAX, 3);
	for (size_t b = 0; b < BRAIN_ARRAY_LEN(blocks); b++) {
		for (size_t d = 0; d < 24; d++) {
			size_t len = blocks[b] + d - 8;
			size_t align = d % 8;
			uint32_t want = crc_bitwise(0, buf + align, len);
			assert_int_equal(brain__crc32c(0, buf + align, len), want);
			assert_int_equal(brain__crc32c_portable(0, buf + align, len), want);
		}
	}
	free(buf);
}

/* One 8 MB buffer, whole and in odd pieces. */
static void test_crc32c__long_buffer(void **state)
{
	(void)state;
	size_t n = (size_t)8 << 20;
	unsigned char *buf = malloc(n + 1);
	assert_non_null(buf);
	fill_random(buf, n + 1, 4);
	const unsigned char *p = buf + 1; /* misaligned */
	uint32_t want = crc_bitwise(0, p, n);
	assert_int_equal(brain__crc32c(0, p, n), want);
	assert_int_equal(brain__crc32c_portable(0, p, n), want);
	uint32_t c = 0;
	for (size_t at = 0, step = 99991; at < n; at += step)
		c = brain__crc32c(c, p + at, TEST_MIN(step, n - at));
	assert_int_equal(c, want);
	free(buf);
}

/* The child side of test_crc32c__environment_override. */
static int impl_child(void)
{
	fputs(brain__crc32c_impl(), stdout);
	/* and the answer is right whichever it is */
	return brain__crc32c(0, "123456789", 9) == 0xE3069283u ? 0 : 1;
}

/* Run this program again with BRAINCORE_SIMD=value (NULL: unset) and read
 * what it prints. NULL if it cannot be run (then the test skips). */
static const char *child_impl(const char *value, char *buf, size_t size)
{
	return test_run_self_simd(g_argv0, "--crc-child", value, buf, size);
}

static void test_crc32c__environment_override(void **state)
{
	(void)state;
	char buf[64];
	if (!child_impl(NULL, buf, sizeof buf))
		skip();
	assert_true(strcmp(buf, "sse4.2") == 0 || strcmp(buf, "portable") == 0);
	char top[64];
	strcpy(top, buf);
#if defined(__x86_64__)
	if (__builtin_cpu_supports("sse4.2"))
		assert_string_equal(top, "sse4.2");
#endif
	assert_non_null(child_impl("scalar", buf, sizeof buf));
	assert_string_equal(buf, "portable");
	assert_non_null(child_impl("SCALAR", buf, sizeof buf));
	assert_string_equal(buf, "portable");
	assert_non_null(child_impl("avx2", buf, sizeof buf));
	assert_string_equal(buf, top);
	assert_non_null(child_impl("scalarx", buf, sizeof buf));
	assert_string_equal(buf, top);
	assert_non_null(child_impl("", buf, sizeof buf));
	assert_string_equal(buf, top);
}

int main(int argc, char **argv)
{
	g_argv0 = argv[0];
	if (argc > 1 && strcmp(argv[1], "--crc-child") == 0)
		return impl_child();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32c__check_values),
		cmocka_unit_test(test_crc32c__incremental_equals_one_shot),
		cmocka_unit_test(test_crc32c__every_length_and_alignment),
		cmocka_unit_test(test_crc32c__block_boundaries),
		cmocka_unit_test(test_crc32c__long_buffer),
		cmocka_unit_test(test_crc32c__environment_override),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * tests/test_pancreas.c - the Pancreas: strict UTF-8 validation against an
 * independent reference decoder, text checks and their messages (without
 * reading past the limit), normalisation, words and exact n-grams (against
 * a reference enumeration), out of memory at every allocation, and the
 * organ's message dispatch.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>

#include "tests/test_alloc.h"

#include "organs/pancreas.h"
#include "test_util.h"

/* ---- helpers ------------------------------------------------------------ */

/* The reference: decode each sequence by its bit pattern, then reject
 * what the standard forbids (overlong, surrogate, above U+10FFFF) and NUL.
 * Returns len if s is valid, else the offset of the first bad sequence. */
static size_t ref_utf8_check(const unsigned char *s, size_t len)
{
	static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
	size_t i = 0;
	while (i < len) {
		unsigned b = s[i];
		size_t n;
		uint32_t cp;
		if (b == 0)
			return i;
		if (b < 0x80) {
			i++;
			continue;
		}
		if ((b & 0xE0) == 0xC0) {
			n = 2;
			cp = b & 0x1F;
		} else if ((b & 0xF0) == 0xE0) {
			n = 3;
			cp = b & 0x0F;
		} else if ((b & 0xF8) == 0xF0) {
			n = 4;
			cp = b & 0x07;
		} else {
			return i;
		}
		if (len - i < n)
			return i;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return i;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if (cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return i;
		i += n;
	}
	return len;
}

/* UTF-8 of cp (any value up to 0x1FFFFF, surrogates too: the generator
 * makes invalid text with it). */
static size_t enc(uint32_t cp, unsigned char *out)
{
	if (cp < 0x80) {
		out[0] = (unsigned char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (unsigned char)(0xC0 | cp >> 6);
		out[1] = (unsigned char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (unsigned char)(0xE0 | cp >> 12);
		out[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (unsigned char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (unsigned char)(0xF0 | cp >> 18);
	out[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (unsigned char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Decode valid UTF-8 (the analysis's own text). */
static uint32_t dec(const unsigned char *p, size_t *n)
{
	if (p[0] < 0x80) {
		*n = 1;
		return p[0];
	}
	if (p[0] < 0xE0) {
		*n = 2;
		return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
	}
	if (p[0] < 0xF0) {
		*n = 3;
		return (uint32_t)(p[0] & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
	}
	*n = 4;
	return (uint32_t)(p[0] & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
	       (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
}

static int utf8_at(const char *s, size_t len, size_t *off)
{
	*off = (size_t)-1;
	return brain__utf8_check(s, len, off);
}

/* Check that brain__utf8_check finds the first error of s[0..len) at
 * `expect` (or none when expect == len). */
static void expect_bad_at(const char *s, size_t len, size_t expect)
{
	size_t off;
	int rc = utf8_at(s, len, &off);
	if (expect == len) {
		assert_int_equal(rc, BRAIN_OK);
		return;
	}
	assert_int_equal(rc, BRAIN_EUTF8);
	assert_int_equal(off, expect);
	/* everything before the offending byte is valid */
	assert_int_equal(brain__utf8_check(s, off, NULL), BRAIN_OK);
}

#define BAD(lit, at) expect_bad_at(lit, sizeof(lit) - 1, at)
#define GOOD(lit) expect_bad_at(lit, sizeof(lit) - 1, sizeof(lit) - 1)

/* Analyse a C string with grams 3..5; the analysis is checked for its
 * invariants (see check_analysis) before it is returned. */
static void check_analysis(const brain_analysis *a, int gmin, int gmax);

static void analyze_str(brain_analysis *a, const char *s, int gmin, int gmax)
{
	assert_int_equal(brain__analyze(s, strlen(s), gmin, gmax, a), BRAIN_OK);
	check_analysis(a, gmin, gmax);
}

/* The normalised text of s. */
static void expect_norm(const char *s, const char *expect)
{
	brain_analysis a;
	brain__analysis_init(&a);
	analyze_str(&a, s, 3, 5);
	assert_string_equal(a.text, expect);
	brain__analysis_free(&a);
}

/* The words of s, given as one string "w1|w2|...". */
static void expect_words(const char *s, const char *words)
{
	brain_analysis a;
	brain__analysis_init(&a);
	analyze_str(&a, s, 0, 0);
	char joined[512];
	size_t len = 0;
	for (size_t w = 0; w < a.nwords; w++) {
		if (w) {
			assert_true(len + 1 < sizeof joined);
			joined[len++] = '|';
		}
		assert_true(len + a.words[w].len < sizeof joined);
		memcpy(joined + len, a.text + a.words[w].off, a.words[w].len);
		len += a.words[w].len;
	}
	joined[len] = '\0';
	assert_string_equal(joined, words);
	brain__analysis_free(&a);
}

/* ---- the reference n-grams ---------------------------------------------- */

/* The grams of the word text[off, off + len) straight from the definition:
 * list the byte span of each symbol of the frame ('<' and '>' are empty,
 * at the word's start and end) and enumerate every run of n of them; a
 * gram's span runs from the start of its first real character to the end
 * of its last, or is the empty span of its marker when it has none. */
static size_t ref_grams(const char *text, uint32_t off, uint32_t len, int gmin, int gmax,
                        brain_gram *out, size_t cap)
{
	uint32_t *start = calloc((size_t)len + 2, sizeof *start);
	uint32_t *end = calloc((size_t)len + 2, sizeof *end);
	assert_non_null(start);
	assert_non_null(end);
	size_t L = 0;
	for (uint32_t i = off; i < off + len; L++) {
		size_t n;
		dec((const unsigned char *)text + i, &n);
		start[L + 1] = i;
		end[L + 1] = i + (uint32_t)n;
		i += (uint32_t)n;
	}
	start[0] = end[0] = off;
	start[L + 1] = end[L + 1] = off + len;
	size_t count = 0;
	for (size_t s = 0; s < L + 2; s++) {
		for (int n = gmin; n <= gmax; n++) {
			size_t e = s + (size_t)n - 1;
			if (e >= L + 2)
				break;
			size_t first = s < 1 ? 1 : s, last = e > L ? L : e;
			assert_true(count < cap);
			if (first <= last) {
				out[count].off = start[first];
				out[count].len = end[last] - start[first];
			} else {
				out[count].off = s == 0 ? off : off + len;
				out[count].len = 0;
			}
			out[count].n = (uint8_t)n;
			out[count].flags = (uint8_t)((s == 0 ? BRAIN_GRAM_BOW : 0) |
			                             (e == L + 1 ? BRAIN_GRAM_EOW : 0));
			count++;
		}
	}
	free(start);
	free(end);
	return count;
}

/* Invariants of every analysis: the text is valid UTF-8, NUL-terminated,
 * and exactly the words joined by single spaces; words are in order and
 * non-empty; grams are exactly those of the reference, word by word. */
static void check_analysis(const brain_analysis *a, int gmin, int gmax)
{
	assert_non_null(a->text);
	assert_int_equal(strlen(a->text), a->text_len);
	assert_int_equal(brain__utf8_check(a->text, a->text_len, NULL), BRAIN_OK);
	size_t pos = 0;
	for (size_t w = 0; w < a->nwords; w++) {
		if (w) {
			assert_int_equal(a->text[pos], ' ');
			pos++;
		}
		assert_int_equal(a->words[w].off, pos);
		assert_true(a->words[w].len > 0);
		for (size_t i = 0; i < a->words[w].len; i++)
			assert_int_not_equal(a->text[pos + i], ' ');
		pos += a->words[w].len;
	}
	assert_int_equal(pos, a->text_len);

	bool grams = gmin >= 1 && gmax >= gmin;
	if (!grams) {
		assert_int_equal(a->ngrams, 0);
		return;
	}
	size_t g = 0;
	for (size_t w = 0; w < a->nwords; w++) {
		size_t cap = (a->words[w].len + 2) * (size_t)(gmax - gmin + 1) + 1;
		brain_gram *ref = calloc(cap, sizeof *ref);
		assert_non_null(ref);
		size_t n = ref_grams(a->text, a->words[w].off, a->words[w].len, gmin, gmax, ref, cap);
		assert_true(g + n <= a->ngrams);
		for (size_t i = 0; i < n; i++, g++) {
			assert_int_equal(a->grams[g].off, ref[i].off);
			assert_int_equal(a->grams[g].len, ref[i].len);
			assert_int_equal(a->grams[g].n, ref[i].n);
			assert_int_equal(a->grams[g].flags, ref[i].flags);
		}
		free(ref);
	}
	assert_int_equal(g, a->ngrams);
}

/* ---- UTF-8 validation --------------------------------------------------- */

static void test_pancreas__utf8_valid(void **state)
{
	(void)state;
	assert_int_equal(brain__utf8_check("", 0, NULL), BRAIN_OK);
	assert_int_equal(brain__utf8_check(NULL, 0, NULL), BRAIN_OK);
	GOOD("plain ASCII text that is longer than sixteen bytes, for the fast path");
	GOOD("\x7F");
	GOOD("\xC2\x80");         /* U+0080 */
	GOOD("\xDF\xBF");         /* U+07FF */
	GOOD("\xE0\xA0\x80");     /* U+0800 */
	GOOD("\xED\x9F\xBF");     /* U+D7FF */
	GOOD("\xEE\x80\x80");     /* U+E000 */
	GOOD("\xEF\xBF\xBF");     /* U+FFFF */
	GOOD("\xF0\x90\x80\x80"); /* U+10000 */
	GOOD("\xF4\x8F\xBF\xBF"); /* U+10FFFF */
	GOOD("Caf\xC3\xA9 \xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x98\x80 done");
}

static void test_pancreas__utf8_invalid_classes(void **state)
{
	(void)state;
	/* overlong forms */
	BAD("ab\xC0\x80", 2);
	BAD("\xC1\xBF", 0);
	BAD("x\xE0\x80\x80", 1);
	BAD("\xE0\x9F\xBF", 0);
	BAD("\xF0\x80\x80\x80", 0);
	BAD("\xF0\x8F\xBF\xBF", 0);
	/* surrogates */
	BAD("\xED\xA0\x80", 0);
	BAD("abc\xED\xBF\xBF", 3);
	BAD("\xED\xB0\x80z", 0);
	/* above U+10FFFF */
	BAD("\xF4\x90\x80\x80", 0);
	BAD("ok\xF4\xBF\xBF\xBF", 2);
	BAD("\xF5\x80\x80\x80", 0);
	BAD("\xF7\xBF\xBF\xBF", 0);
	/* lone continuation bytes */
	BAD("\x80", 0);
	BAD("a\xBF", 1);
	BAD("\xC3\xA9\x80", 2);
	BAD("\xE2\x82\xAC\xAC", 3);
	/* truncated at the end */
	BAD("abc\xC3", 3);
	BAD("\xE2\x82", 0);
	BAD("\xE2", 0);
	BAD("\xF0\x9F\x98", 0);
	BAD("xy\xF0\x9F", 2);
	/* truncated in the middle */
	BAD("\xC3" "A", 0);
	BAD("\xE2\x82" "A", 0);
	BAD("\xE2" "A\x82", 0);
	BAD("ab\xF0\x9F\x98" "A", 2);
	BAD("\xF0\x9F" "\xC3\xA9", 0);
	/* bytes that never occur */
	for (unsigned b = 0; b < 256; b++) {
		if (b != 0xC0 && b != 0xC1 && b < 0xF5)
			continue;
		char buf[4] = {'o', 'k', (char)b, (char)0x80};
		expect_bad_at(buf, 4, 2);
		expect_bad_at(buf, 3, 2);
	}
	/* embedded NUL */
	expect_bad_at("ab\0cd", 5, 2);
	expect_bad_at("\0", 1, 0);
}

/* An error at every position of a long text, around the 8- and 16-byte
 * steps of the fast path. */
static void test_pancreas__utf8_error_at_every_offset(void **state)
{
	(void)state;
	static const char *const bad[] = {"\x80", "\0", "\xC0\x80", "\xED\xA0\x80", "\xFF",
	                                  "\xC3"};
	static const size_t bad_len[] = {1, 1, 2, 3, 1, 1};
	char buf[80];
	for (size_t k = 0; k < BRAIN_ARRAY_LEN(bad); k++) {
		for (size_t at = 0; at + bad_len[k] <= 70; at++) {
			memset(buf, 'a', sizeof buf);
			memcpy(buf + at, bad[k], bad_len[k]);
			/* "\xC3" is followed by 'a': truncated in the middle */
			expect_bad_at(buf, 70, at);
			/* and a valid multi-byte character just before it */
			if (at >= 2) {
				buf[at - 2] = (char)0xC3;
				buf[at - 1] = (char)0xA9;
				expect_bad_at(buf, 70, at);
			}
		}
	}
}

/* Random byte strings, mostly almost valid, against the reference. */
static void test_pancreas__utf8_matches_reference(void **state)
{
	(void)state;
	test_rng rng = {20240611};
	static const uint32_t edges[] = {0x80,   0x7FF,  0x800,  0xFFF,   0x1000,  0xD7FF,
	                                 0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x3FFFF, 0x10FFFF};
	unsigned char buf[300];
	size_t valid = 0, invalid = 0;
	for (int iter = 0; iter < 200000; iter++) {
		size_t len = 0;
		size_t tokens = test_rng_next(&rng) % 24;
		bool clean = test_rng_next(&rng) % 3 == 0; /* a third stay valid */
		for (size_t t = 0; t < tokens && len + 32 < sizeof buf; t++) {
			uint64_t r = test_rng_next(&rng) % 100;
			unsigned char tmp[8];
			if (r < 35) {
				/* an ASCII run, sometimes long enough for the fast path */
				size_t run = 1 + test_rng_next(&rng) % (r < 5 ? 24 : 4);
				for (size_t i = 0; i < run; i++)
					buf[len++] = (unsigned char)(0x20 + test_rng_next(&rng) % 95);
			} else if (r < 55) {
				len += enc(edges[test_rng_next(&rng) % BRAIN_ARRAY_LEN(edges)], buf + len);
			} else if (r < 80 || clean) {
				uint32_t cp;
				do {
					cp = (uint32_t)(test_rng_next(&rng) % 0x110000);
				} while ((cp >= 0xD800 && cp <= 0xDFFF) || cp == 0);
				len += enc(cp, buf + len);
			} else {
				/* damage */
				switch (test_rng_next(&rng) % 8) {
				case 0: /* surrogate */
					len += enc(0xD800 + (uint32_t)(test_rng_next(&rng) % 0x800), buf + len);
					break;
				case 1: /* above U+10FFFF */
					len += enc(0x110000 + (uint32_t)(test_rng_next(&rng) % 0xF0000),
					           buf + len);
					break;
				case 2: { /* overlong: cp in a longer form than needed */
					uint32_t cp = (uint32_t)(test_rng_next(&rng) % 0x800);
					if (cp < 0x80) {
						buf[len++] = (unsigned char)(0xC0 | cp >> 6);
						buf[len++] = (unsigned char)(0x80 | (cp & 0x3F));
					} else {
						buf[len++] = 0xE0;
						buf[len++] = (unsigned char)(0x80 | cp >> 6);
						buf[len++] = (unsigned char)(0x80 | (cp & 0x3F));
					}
					break;
				}
				case 3: { /* truncated */
					size_t n = enc(0x80 + (uint32_t)(test_rng_next(&rng) % 0x10FF80), tmp);
					size_t keep = 1 + test_rng_next(&rng) % (n - 1);
					memcpy(buf + len, tmp, keep);
					len += keep;
					break;
				}
				case 4: /* lone continuation */
					buf[len++] = (unsigned char)(0x80 + test_rng_next(&rng) % 0x40);
					break;
				case 5: /* NUL */
					buf[len++] = 0;
					break;
				case 6: /* any byte */
					buf[len++] = (unsigned char)test_rng_next(&rng);
					break;
				default: /* flip a bit of what is there */
					if (len)
						buf[test_rng_next(&rng) % len] ^=
							(unsigned char)(1u << test_rng_next(&rng) % 8);
				}
			}
		}
		size_t expect = ref_utf8_check(buf, len);
		size_t off = (size_t)-1;
		int rc = brain__utf8_check((const char *)buf, len, &off);
		if (expect == len) {
			assert_int_equal(rc, BRAIN_OK);
			valid++;
		} else {
			assert_int_equal(rc, BRAIN_EUTF8);
			assert_int_equal(off, expect);
			invalid++;
		}
	}
	/* the generator really made both kinds */
	assert_true(valid > 40000);
	assert_true(invalid > 40000);
}

/* ---- text checks --------------------------------------------------------- */

static void test_pancreas__text_check_basics(void **state)
{
	(void)state;
	size_t len = 99;
	assert_int_equal(brain__text_check(NULL, 100, "remember: text", &len), BRAIN_ENULL);
	assert_string_equal(brain_errmsg(), "remember: text is NULL");
	assert_int_equal(brain__text_check("", 100, "remember: text", &len), BRAIN_EEMPTY);
	assert_string_equal(brain_errmsg(), "remember: text is empty");
	assert_int_equal(len, 99); /* untouched on error */

	/* whitespace or punctuation alone is text; the embedder decides */
	assert_int_equal(brain__text_check(" ... ", 100, "remember: text", &len), BRAIN_OK);
	assert_int_equal(len, 5);

	assert_int_equal(brain__text_check("0123456789", 10, "recall: query", &len), BRAIN_OK);
	assert_int_equal(len, 10);
	assert_int_equal(brain__text_check("0123456789A", 10, "recall: query", &len),
	                 BRAIN_ETOOLONG);
	assert_string_equal(brain_errmsg(), "recall: query is longer than the limit of 10 bytes");
	assert_int_equal(brain__text_check("x", 0, "t", &len), BRAIN_ETOOLONG);
	assert_int_equal(brain__text_check("x", SIZE_MAX, "t", &len), BRAIN_OK);
	assert_int_equal(len, 1);
	/* len may be NULL */
	assert_int_equal(brain__text_check("x", 5, "t", NULL), BRAIN_OK);
}

static void test_pancreas__text_check_utf8_messages(void **state)
{
	(void)state;
	static const struct {
		const char *text;
		const char *msg;
	} cases[] = {
		{"0123456789abcdefg\xC3",
		 "remember: text is not valid UTF-8 at byte 17 (0xC3 starts a 2-byte sequence that "
		 "ends early, at the end of the text)"},
		{"ab\xE2\x82xyz",
		 "remember: text is not valid UTF-8 at byte 2 (0xE2 starts a 3-byte sequence that "
		 "ends early: 0x78 at byte 4 is not a continuation byte)"},
		{"a\x80", "remember: text is not valid UTF-8 at byte 1 (0x80 is a continuation byte "
		          "with no lead byte before it)"},
		{"\xC0\xAF", "remember: text is not valid UTF-8 at byte 0 (0xC0 could only start an "
		             "overlong 2-byte form)"},
		{"\xE0\x80\xAF", "remember: text is not valid UTF-8 at byte 0 (0xE0 0x80 is an "
		                 "overlong 3-byte form)"},
		{"\xF0\x80\x80\xAF", "remember: text is not valid UTF-8 at byte 0 (0xF0 0x80 is an "
		                     "overlong 4-byte form)"},
		{"x\xED\xA0\x80", "remember: text is not valid UTF-8 at byte 1 (0xED 0xA0 encodes a "
		                  "UTF-16 surrogate (U+D800..U+DFFF))"},
		{"\xF4\x90\x80\x80", "remember: text is not valid UTF-8 at byte 0 (0xF4 0x90 encodes a "
		                     "code point above U+10FFFF)"},
		{"\xFE", "remember: text is not valid UTF-8 at byte 0 (0xFE never occurs in UTF-8)"},
	};
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(cases); i++) {
		size_t len = 0;
		assert_int_equal(brain__text_check(cases[i].text, 1000, "remember: text", &len),
		                 BRAIN_EUTF8);
		assert_string_equal(brain_errmsg(), cases[i].msg);
		assert_int_equal(brain_errcode(), BRAIN_EUTF8);
	}
}

/* The check reads at most max_bytes + 1 bytes: the text ends at a page
 * followed by an inaccessible one, with no NUL in reach. */
static void test_pancreas__text_check_stops_at_limit(void **state)
{
	(void)state;
	long page = sysconf(_SC_PAGESIZE);
	assert_true(page > 0);
	int fd = open("/dev/zero", O_RDWR);
	assert_true(fd >= 0);
	char *map = mmap(NULL, (size_t)page * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	assert_true(map != MAP_FAILED);
	assert_int_equal(mprotect(map + page, (size_t)page, PROT_NONE), 0);
	char *page_end = map + page;

	for (size_t max = 0; max < 40; max++) {
		/* max + 1 bytes without a NUL, up to the guard page */
		char *text = page_end - (max + 1);
		memset(text, 'a', max + 1);
		size_t len = 7;
		assert_int_equal(brain__text_check(text, max, "remember: text", &len),
		                 BRAIN_ETOOLONG);
		assert_int_equal(len, 7);
		/* exactly at the limit: max bytes, then the NUL as the last
		 * byte of the page */
		if (max > 0) {
			text = page_end - (max + 1);
			page_end[-1] = '\0';
			assert_int_equal(brain__text_check(text, max, "remember: text", &len), BRAIN_OK);
			assert_int_equal(len, max);
		}
	}
	/* a big limit, a text of a whole page without NUL */
	memset(map, 'b', (size_t)page);
	assert_int_equal(brain__text_check(map, (size_t)page - 1, "t", NULL), BRAIN_ETOOLONG);
	munmap(map, (size_t)page * 2);

	/* the same on the heap, which AddressSanitizer watches byte by byte */
	for (size_t max = 0; max < 40; max += 3) {
		char *buf = malloc(max + 1);
		assert_non_null(buf);
		memset(buf, 'c', max + 1);
		assert_int_equal(brain__text_check(buf, max, "t", NULL), BRAIN_ETOOLONG);
		free(buf);
	}
}

/* ---- normalisation and words ---------------------------------------------- */

static void test_pancreas__normalise_latin(void **state)
{
	(void)state;
	expect_norm("Caf\xC3\xA9", "cafe");
	expect_norm("CAFE", "cafe");
	expect_norm("cafe\xCC\x81", "cafe");                         /* e + U+0301 */
	expect_norm("\xEF\xBD\x83\xEF\xBD\x81\xEF\xBD\x86\xEF\xBD\x85", "cafe"); /* fullwidth */
	expect_norm("\xEF\xBC\xA3\xEF\xBC\xA1\xEF\xBC\xA6\xEF\xBC\xA5", "cafe"); /* ＣＡＦＥ */
	expect_norm("Stra\xC3\x9F" "e", "strasse");
	expect_norm("STRASSE", "strasse");
	expect_norm("\xE1\xBA\x9E", "ss");                 /* capital sharp s */
	expect_norm("\xEF\xAC\x81", "fi");                 /* ﬁ ligature */
	expect_norm("\xEF\xAC\x81nal", "final");
	expect_norm("\xC5\x92uvre", "\xC5\x93uvre");       /* Œ is a letter of its own */
	expect_norm("\xC3\x85ngstr\xC3\xB6m", "angstrom");
	expect_norm("\xE2\x84\xAB", "a");                  /* ANGSTROM SIGN */
	expect_norm("na\xC3\xAFve r\xC3\xA9sum\xC3\xA9", "naive resume");
	expect_norm("\xC4\xB0stanbul", "istanbul");        /* İ: i + dot, dot dropped */
	expect_norm("\xE2\x85\xAB", "xii");                /* roman numeral twelve */
	expect_norm("x\xC2\xB2", "x2");                    /* superscript two */
	expect_norm("\xF0\x9D\x90\x80\xF0\x9D\x90\x81", "ab"); /* mathematical bold */
	expect_norm("Vi\xE1\xBB\x87t Nam", "viet nam");
}

static void test_pancreas__normalise_greek_cyrillic(void **state)
{
	(void)state;
	expect_norm("\xCE\x91\xCE\x98\xCE\x97\xCE\x9D\xCE\x91", "\xCE\xB1\xCE\xB8\xCE\xB7\xCE\xBD\xCE\xB1");
	/* ΣΊΣΥΦΟΣ: tonos dropped, final sigma folds to σ */
	expect_norm("\xCE\xA3\xCE\x8A\xCE\xA3\xCE\xA5\xCE\xA6\xCE\x9F\xCE\xA3",
	            "\xCF\x83\xCE\xB9\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x83");
	expect_norm("\xCF\x83\xCE\xAF\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x82",
	            "\xCF\x83\xCE\xB9\xCF\x83\xCF\x85\xCF\x86\xCE\xBF\xCF\x83");
	/* МОСКВА, Москва */
	expect_norm("\xD0\x9C\xD0\x9E\xD0\xA1\xD0\x9A\xD0\x92\xD0\x90",
	            "\xD0\xBC\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0");
	expect_norm("\xD0\x9C\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0",
	            "\xD0\xBC\xD0\xBE\xD1\x81\xD0\xBA\xD0\xB2\xD0\xB0");
	/* Ёлка -> елка (the diaeresis is a mark) */
	expect_norm("\xD0\x81\xD0\xBB\xD0\xBA\xD0\xB0", "\xD0\xB5\xD0\xBB\xD0\xBA\xD0\xB0");
	/* Deseret capital -> small (4-byte letters) */
	expect_norm("\xF0\x90\x90\x80", "\xF0\x90\x90\xA8");
}

static void test_pancreas__normalise_other_scripts(void **state)
{
	(void)state;
	/* Arabic: vowel marks and tatweel dropped */
	expect_norm("\xD9\x83\xD9\x8E\xD8\xAA\xD9\x8E\xD8\xA8\xD9\x8E", "\xD9\x83\xD8\xAA\xD8\xA8");
	expect_norm("\xD9\x83\xD9\x80\xD8\xAA\xD9\x80\xD8\xA8", "\xD9\x83\xD8\xAA\xD8\xA8");
	/* Hebrew points dropped: שָׁלוֹם -> שלום */
	expect_norm("\xD7\xA9\xD7\x81\xD6\xB8\xD7\x9C\xD7\x95\xD6\xB9\xD7\x9D",
	            "\xD7\xA9\xD7\x9C\xD7\x95\xD7\x9D");
	/* Devanagari and Thai keep their vowel signs: हिंदी, ภาษาไทย */
	expect_norm("\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\x82\xE0\xA4\xA6\xE0\xA5\x80",
	            "\xE0\xA4\xB9\xE0\xA4\xBF\xE0\xA4\x82\xE0\xA4\xA6\xE0\xA5\x80");
	expect_norm("\xE0\xB8\xA0\xE0\xB8\xB2\xE0\xB8\xA9\xE0\xB8\xB2\xE0\xB9\x84\xE0\xB8\x97\xE0\xB8\xA2",
	            "\xE0\xB8\xA0\xE0\xB8\xB2\xE0\xB8\xA9\xE0\xB8\xB2\xE0\xB9\x84\xE0\xB8\x97\xE0\xB8\xA2");
	/* Hangul syllables stay whole, and decomposed jamo compose to them:
	 * 한국 as syllables, and as L V T L V T jamo */
	expect_norm("\xED\x95\x9C\xEA\xB5\xAD", "\xED\x95\x9C\xEA\xB5\xAD");
	expect_norm("\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB\xE1\x84\x80\xE1\x85\xAE\xE1\x86\xA8",
	            "\xED\x95\x9C\xEA\xB5\xAD");
	/* a compatibility jamo alone stays a (conjoining) jamo */
	expect_norm("\xE3\x85\x8B\xE3\x85\x8B", "\xE1\x84\x8F\xE1\x84\x8F");
	/* kana: が stays whole; か + U+3099 and half-width ｶﾞ become が / ガ */
	expect_norm("\xE3\x81\x8C", "\xE3\x81\x8C");
	expect_norm("\xE3\x81\x8B\xE3\x82\x99", "\xE3\x81\x8C");
	expect_norm("\xEF\xBD\xB6\xEF\xBE\x9E", "\xE3\x82\xAC");
	expect_norm("\xEF\xBE\x8A\xEF\xBE\x9F", "\xE3\x83\x91"); /* ﾊﾟ -> パ */
	/* a sound mark after a separator or a non-kana is dropped */
	expect_norm("a\xE3\x82\x99" "b", "ab");
	expect_norm("\xE3\x81\x8B \xE3\x82\x99", "\xE3\x81\x8B");
	/* ㍿ -> 株式会社, four words */
	expect_norm("\xE3\x8D\xBF", "\xE6\xA0\xAA \xE5\xBC\x8F \xE4\xBC\x9A \xE7\xA4\xBE");
	/* soft hyphen and zero width joiner join, zero width space splits */
	expect_norm("co\xC2\xADoperate", "cooperate");
	expect_norm("ab\xE2\x80\x8D" "cd", "abcd");
	expect_norm("ab\xE2\x80\x8B" "cd", "ab cd");
	/* variation selectors and tags are dropped too, wherever they are */
	expect_norm("ab\xEF\xB8\x8F" "cd", "abcd");
	expect_norm("ab\xF3\xA0\x81\x81" "cd\xF3\xA0\x84\x80", "abcd");
	/* beyond the tables: private use and unassigned planes separate */
	expect_norm("ab\xF3\xB0\x80\x80" "cd\xF1\x80\x80\x80" "ef", "ab cd ef");
	/* symbols and emoji separate */
	expect_norm("I\xE2\x9D\xA4NY", "i ny");
	expect_norm("\xF0\x9F\x98\x80 ok", "ok");
	/* ½ -> 1⁄2: the fraction slash separates */
	expect_norm("\xC2\xBD", "1 2");
}

static void test_pancreas__words_rules(void **state)
{
	(void)state;
	expect_words("don't", "dont");
	expect_words("Don\xE2\x80\x99t stop", "dont|stop");
	expect_words("rock'n'roll", "rocknroll");
	/* a possessive is the word it is made from */
	expect_words("When is Tomasz's birthday?", "when|is|tomasz|birthday");
	expect_words("the boss\xE2\x80\x99s desk", "the|boss|desk");
	expect_words("it's", "it");
	expect_words("o'sullivan", "osullivan"); /* not at the end: joins */
	expect_words("'quoted' words'", "quoted|words");
	expect_words("it''s", "it|s");  /* two apostrophes do not join */
	expect_words("90's", "90|s");   /* between a digit and a letter: separates */
	expect_words("a'9", "a|9");
	expect_words("x\xE2\x80\x99", "x");
	expect_words("3.14", "3.14");
	expect_words("pi is 3.14159, e is 2,718", "pi|is|3.14159|e|is|2,718");
	expect_words("1,000,000.50", "1,000,000.50");
	expect_words("v1.2.3", "v1.2.3");
	expect_words("3. 4 .5 3..4 a.b x.3 3.x", "3|4|5|3|4|a|b|x|3|3|x");
	expect_words("e-mail", "e|mail");
	expect_words("  hello,\tworld!\n", "hello|world");
	expect_words("snake_case CamelCase", "snake|case|camelcase");
	expect_words("\xD9\xA3\xD9\xAB\xD9\xA1\xD9\xA4", "\xD9\xA3\xD9\xAB\xD9\xA1\xD9\xA4");
	expect_words("\xEF\xBC\x93\xEF\xBC\x8E\xEF\xBC\x91", "3.1"); /* fullwidth ３．１ */
	/* ideographs: each a word, also next to letters and digits */
	expect_words("\xE6\x9D\xB1\xE4\xBA\xAC\xE3\x82\xBF\xE3\x83\xAF\xE3\x83\xBC",
	             "\xE6\x9D\xB1|\xE4\xBA\xAC|\xE3\x82\xBF|\xE3\x83\xAF|\xE3\x83\xBC");
	expect_words("abc\xE6\x97\xA5\xE6\x9C\xAC" "42", "abc|\xE6\x97\xA5|\xE6\x9C\xAC|42");
	expect_words("\xF0\xA0\x80\x8B\xF0\xA0\x80\x8C", "\xF0\xA0\x80\x8B|\xF0\xA0\x80\x8C"); /* Ext B */
	/* nothing to index */
	expect_words("!!! ... --- ?", "");
	expect_words(" ", "");
	expect_words("", "");
}

static void test_pancreas__analysis_reuse_and_no_text(void **state)
{
	(void)state;
	brain_analysis a;
	brain__analysis_init(&a);
	analyze_str(&a, "A first, rather longer text with many words in it", 3, 5);
	assert_int_equal(a.nwords, 10);
	assert_true(a.ngrams > 0);
	analyze_str(&a, "!!!", 3, 5);
	assert_int_equal(a.nwords, 0);
	assert_int_equal(a.ngrams, 0);
	assert_string_equal(a.text, "");
	/* NULL with length 0 is the empty text */
	assert_int_equal(brain__analyze(NULL, 0, 3, 5, &a), BRAIN_OK);
	assert_string_equal(a.text, "");
	assert_int_equal(brain__analyze(NULL, 1, 3, 5, &a), BRAIN_ENULL);
	assert_int_equal(brain__analyze("x", 1, 3, 5, NULL), BRAIN_ENULL);
	/* gram sizes: none unless 1 <= min <= max; at most 255 */
	analyze_str(&a, "word", 0, 0);
	assert_int_equal(a.ngrams, 0);
	analyze_str(&a, "word", 5, 3);
	assert_int_equal(a.ngrams, 0);
	analyze_str(&a, "word", 0, 3);
	assert_int_equal(a.ngrams, 0);
	assert_int_equal(brain__analyze("word", 4, 3, 256, &a), BRAIN_EINVAL);
	assert_int_equal(a.nwords, 0);
	analyze_str(&a, "word", 1, 255);
	assert_int_equal(a.ngrams, 6 + 5 + 4 + 3 + 2 + 1);
	/* a text too long for 32-bit offsets is refused before it is read */
	if (SIZE_MAX > UINT32_MAX) {
		assert_int_equal(brain__analyze("x", (size_t)UINT32_MAX + 1, 3, 5, &a),
		                 BRAIN_ETOOLONG);
		assert_int_equal(a.nwords, 0);
		assert_string_equal(a.text, "");
	}
	/* not valid UTF-8 (the caller skipped the check): bad bytes separate */
	assert_int_equal(brain__analyze("ab\xFF" "cd\xC3", 6, 3, 5, &a), BRAIN_OK);
	check_analysis(&a, 3, 5);
	assert_string_equal(a.text, "ab cd");
	brain__analysis_free(&a);
	brain__analysis_free(&a); /* twice is harmless */
	brain__analysis_free(NULL);
}

/* ---- n-grams --------------------------------------------------------------- */

typedef struct gram_spec {
	uint32_t off, len;
	uint8_t n, flags;
} gram_spec;

static void expect_grams(const char *s, int gmin, int gmax, const gram_spec *g, size_t n)
{
	brain_analysis a;
	brain__analysis_init(&a);
	analyze_str(&a, s, gmin, gmax);
	assert_int_equal(a.ngrams, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(a.grams[i].off, g[i].off);
		assert_int_equal(a.grams[i].len, g[i].len);
		assert_int_equal(a.grams[i].n, g[i].n);
		assert_int_equal(a.grams[i].flags, g[i].flags);
	}
	brain__analysis_free(&a);
}

enum { B = BRAIN_GRAM_BOW, E = BRAIN_GRAM_EOW };

static void test_pancreas__grams_exact(void **state)
{
	(void)state;
	/* "<ab>": <ab, <ab>, ab> */
	static const gram_spec ab[] = {{0, 2, 3, B}, {0, 2, 4, B | E}, {0, 2, 3, E}};
	expect_grams("ab", 3, 5, ab, BRAIN_ARRAY_LEN(ab));
	/* "<a>" with n = 1..3: <, <a, <a>, a, a>, > */
	static const gram_spec a1[] = {{0, 0, 1, B}, {0, 1, 2, B}, {0, 1, 3, B | E},
	                               {0, 1, 1, 0}, {0, 1, 2, E}, {1, 0, 1, E}};
	expect_grams("A", 1, 3, a1, BRAIN_ARRAY_LEN(a1));
	/* a 1-letter word has no 4- or 5-grams: "<x>" is 3 symbols */
	static const gram_spec x[] = {{0, 1, 3, B | E}};
	expect_grams("x", 3, 5, x, BRAIN_ARRAY_LEN(x));
	/* "жук" (2 bytes per letter), n = 2..3, as the second word at byte 2 */
	static const gram_spec zhuk[] = {
		{2, 2, 2, B}, {2, 4, 3, B}, /* <ж <жу */
		{2, 4, 2, 0}, {2, 6, 3, 0}, /* жу жук */
		{4, 4, 2, 0}, {4, 4, 3, E}, /* ук ук> */
		{6, 2, 2, E},               /* к> */
	};
	brain_analysis a;
	brain__analysis_init(&a);
	analyze_str(&a, "Q \xD0\x96\xD0\xA3\xD0\x9A", 2, 3);
	assert_string_equal(a.text, "q \xD0\xB6\xD1\x83\xD0\xBA");
	/* "q" first: <q, <q>, q>  (n = 2: <q q>; n = 3: <q>) */
	assert_int_equal(a.ngrams, 3 + BRAIN_ARRAY_LEN(zhuk));
	static const gram_spec q[] = {{0, 1, 2, B}, {0, 1, 3, B | E}, {0, 1, 2, E}};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(a.grams[i].off, q[i].off);
		assert_int_equal(a.grams[i].len, q[i].len);
		assert_int_equal(a.grams[i].n, q[i].n);
		assert_int_equal(a.grams[i].flags, q[i].flags);
	}
	for (size_t i = 0; i < BRAIN_ARRAY_LEN(zhuk); i++) {
		assert_int_equal(a.grams[3 + i].off, zhuk[i].off);
		assert_int_equal(a.grams[3 + i].len, zhuk[i].len);
		assert_int_equal(a.grams[3 + i].n, zhuk[i].n);
		assert_int_equal(a.grams[3 + i].flags, zhuk[i].flags);
	}
	brain__analysis_free(&a);
	/* 4-byte and 1-byte letters: "𐐨b" (Deseret, folded), n = 3 */
	static const gram_spec deseret[] = {{0, 5, 3, B}, {0, 5, 3, E}};
	expect_grams("\xF0\x90\x90\x80" "B", 3, 3, deseret, BRAIN_ARRAY_LEN(deseret));
	/* an ideograph: "<東>" only */
	static const gram_spec ideo[] = {{0, 3, 3, B | E}, {4, 3, 3, B | E}};
	expect_grams("\xE6\x9D\xB1\xE4\xBA\xAC", 3, 5, ideo, BRAIN_ARRAY_LEN(ideo));
	/* the count: a word of L code points has L + 3 - n grams of size n */
	brain__analysis_init(&a);
	analyze_str(&a, "abcdefg", 3, 5);
	assert_int_equal(a.ngrams, (7 + 3 - 3) + (7 + 3 - 4) + (7 + 3 - 5));
	brain__analysis_free(&a);
}

/* Random texts from many scripts: every analysis meets its invariants
 * (grams equal to the reference enumeration), and analysing the normalised
 * text again changes nothing. */
static void test_pancreas__random_texts_match_reference(void **state)
{
	(void)state;
	static const uint32_t pieces[] = {
		'a', 'Z', 'q', '0', '7', ' ', ' ', '.', ',', '\'', '-', '!', 0x2019, 0xC9, 0xDF,
		0xE9, 0x301, 0x308, 0x391, 0x3C2, 0x3A3, 0x410, 0x451, 0x5D0, 0x5B8, 0x627, 0x64E,
		0x640, 0x663, 0x66B, 0x915, 0x93F, 0x94D, 0xE01, 0xE34, 0x1100, 0x1161, 0x11A8,
		0x3131, 0x314F, 0xAC00, 0xD55C, 0x304B, 0x3099, 0x309A, 0x30CF, 0xFF76, 0xFF9E,
		0x4E2D, 0x6587, 0x3005, 0x30FC, 0xFB01, 0xFF21, 0xFF0E, 0x2460, 0x2163, 0xBD, 0xAD,
		0x200B, 0x200D, 0xFDFA, 0x3392, 0x1D400, 0x10400, 0x20000, 0x1F600, 0xE0041, 0xFE0F,
		0x2F800, 0x1E9E, 0x130, 0x345, 0x1FB3, 0x2126, 0x212B, 0x10FFFF, 0xFFFD, 0xA0,
	};
	test_rng rng = {7};
	brain_analysis a, b;
	brain__analysis_init(&a);
	brain__analysis_init(&b);
	unsigned char buf[2048];
	for (int iter = 0; iter < 3000; iter++) {
		size_t len = 0;
		size_t count = test_rng_next(&rng) % 200;
		for (size_t i = 0; i < count; i++) {
			uint32_t cp = pieces[test_rng_next(&rng) % BRAIN_ARRAY_LEN(pieces)];
			len += enc(cp, buf + len);
		}
		int gmin = 1 + (int)(test_rng_next(&rng) % 4);
		int gmax = gmin + (int)(test_rng_next(&rng) % 6);
		assert_int_equal(brain__utf8_check((const char *)buf, len, NULL), BRAIN_OK);
		assert_int_equal(brain__analyze((const char *)buf, len, gmin, gmax, &a), BRAIN_OK);
		check_analysis(&a, gmin, gmax);
		assert_int_equal(brain__analyze(a.text, a.text_len, gmin, gmax, &b), BRAIN_OK);
		assert_string_equal(a.text, b.text);
		assert_int_equal(a.nwords, b.nwords);
		assert_int_equal(a.ngrams, b.ngrams);
	}
	/* one long non-ASCII word, longer than the ring of offsets, with the
	 * largest grams */
	size_t len = 0;
	for (int i = 0; i < 600; i++)
		len += enc(i % 3 ? 0x436 : 0x10428, buf + len);
	assert_int_equal(brain__analyze((const char *)buf, len, 1, 255, &a), BRAIN_OK);
	assert_int_equal(a.nwords, 1);
	check_analysis(&a, 1, 255);
	assert_int_equal(brain__analyze((const char *)buf, len, 200, 255, &a), BRAIN_OK);
	check_analysis(&a, 200, 255);
	brain__analysis_free(&a);
	brain__analysis_free(&b);
}

/* ---- out of memory -------------------------------------------------------- */

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* Every code point, next to letters, marks and kana: the key is valid
 * UTF-8 with words and grams inside it (check_analysis), and analysing the
 * key again gives the same key. (A letter above U+FFFF followed by a kana
 * sound mark once composed as if it were a kana.) */
static void test_pancreas__every_code_point_gives_a_stable_key(void **state)
{
	(void)state;
	brain_analysis a, again;
	brain__analysis_init(&a);
	brain__analysis_init(&again);
	static const uint32_t ctx[2][5] = {
		{0, 0x3099, 'x', 0, 'y'},    /* cp + voiced mark, cp between letters */
		{0x30A2, 0, 0x309A, 0, 0x301}, /* after a kana, + semi-voiced mark, + accent */
	};
	for (uint32_t cp = 1; cp <= 0x10FFFF; cp++) {
		if (cp >= 0xD800 && cp <= 0xDFFF)
			continue;
		for (int c = 0; c < 2; c++) {
			char text[32];
			size_t len = 0;
			for (int i = 0; i < 5; i++)
				len += put_utf8(text + len, ctx[c][i] ? ctx[c][i] : cp);
			assert_int_equal(brain__analyze(text, len, 3, 5, &a), BRAIN_OK);
			if (brain__utf8_check(a.text, a.text_len, NULL) != BRAIN_OK)
				fail_msg("U+%04X in context %d: key is not valid UTF-8", (unsigned)cp, c);
			assert_int_equal(brain__analyze(a.text, a.text_len, 3, 5, &again), BRAIN_OK);
			if (again.text_len != a.text_len || memcmp(again.text, a.text, a.text_len) != 0)
				fail_msg("U+%04X in context %d: key changes when analysed again",
				         (unsigned)cp, c);
		}
	}
	check_analysis(&a, 3, 5);
	brain__analysis_free(&a);
	brain__analysis_free(&again);
}

static void test_pancreas__out_of_memory_at_every_allocation(void **state)
{
	(void)state;
	/* long enough that the words and grams arrays grow several times,
	 * with expansions (ﷺ) that outgrow the first text buffer */
	char text[4096];
	size_t len = 0;
	static const char *const parts[] = {"The quick brown fox ", "jumps over 3.14 lazy ",
	                                    "\xEF\xB7\xBA ", "\xE6\x9D\xB1\xE4\xBA\xAC ",
	                                    "Stra\xC3\x9F\145 caf\xC3\xA9 "}; /* \145: e */
	for (int i = 0; len + 40 < sizeof text; i++) {
		const char *p = parts[i % BRAIN_ARRAY_LEN(parts)];
		memcpy(text + len, p, strlen(p));
		len += strlen(p);
	}
	text[len] = '\0';

	brain_analysis want;
	brain__analysis_init(&want);
	analyze_str(&want, text, 3, 5);

	assert_int_equal(test_alloc_install(), BRAIN_OK);
	for (int reuse = 0; reuse < 2; reuse++) {
		bool done = false;
		long failures = 0;
		for (long n = 1; !done; n++) {
			brain_analysis a;
			brain__analysis_init(&a);
			if (reuse) {
				/* small buffers already there, grown by the long text */
				assert_int_equal(brain__analyze("tiny", 4, 3, 5, &a), BRAIN_OK);
			}
			test_alloc_arm(n);
			int rc = brain__analyze(text, len, 3, 5, &a);
			long used = test_alloc_calls;
			test_alloc_disarm();
			if (rc == BRAIN_OK) {
				assert_true(used < n); /* no allocation failed */
				done = true;
			} else {
				failures++;
				assert_int_equal(rc, BRAIN_ENOMEM);
				assert_int_equal(brain_errcode(), BRAIN_ENOMEM);
				assert_int_equal(a.text_len, 0);
				assert_int_equal(a.nwords, 0);
				assert_int_equal(a.ngrams, 0);
				if (a.text)
					assert_string_equal(a.text, "");
				/* reusable: the next analysis works */
				assert_int_equal(brain__analyze(text, len, 3, 5, &a), BRAIN_OK);
			}
			check_analysis(&a, 3, 5);
			assert_string_equal(a.text, want.text);
			assert_int_equal(a.nwords, want.nwords);
			assert_int_equal(a.ngrams, want.ngrams);
			for (size_t g = 0; g < want.ngrams; g++) {
				assert_int_equal(a.grams[g].off, want.grams[g].off);
				assert_int_equal(a.grams[g].len, want.grams[g].len);
				assert_int_equal(a.grams[g].n, want.grams[g].n);
				assert_int_equal(a.grams[g].flags, want.grams[g].flags);
			}
			brain__analysis_free(&a);
			assert_int_equal(test_alloc_live, 0); /* nothing leaked */
			assert_true(n < 200);
		}
		assert_true(failures >= 3); /* text, words and grams each failed once */
	}
	assert_int_equal(test_alloc_remove(), BRAIN_OK);
	brain__analysis_free(&want);
}

/* ---- the organ -------------------------------------------------------------- */

static void test_pancreas__organ_dispatch(void **state)
{
	(void)state;
	const brain_organ *o = &brain__organ_pancreas;
	assert_string_equal(o->name, "pancreas");
	assert_int_equal(o->id, BRAIN_ORGAN_PANCREAS);
	void *st = (void *)&st;
	brain_organ_args args = {NULL, false, NULL, false};
	assert_int_equal(o->create(NULL, NULL, &args, &st), BRAIN_OK);

	brain_msg_text_check chk = {"Hello, world", 100, "remember: text", 0};
	assert_int_equal(o->handlers[BRAIN_MSG_TEXT_CHECK](st, &chk), BRAIN_OK);
	assert_int_equal(chk.len, 12);
	brain_msg_text_check bad = {"bad \xC3", 100, "remember: text", 0};
	assert_int_equal(o->handlers[BRAIN_MSG_TEXT_CHECK](st, &bad), BRAIN_EUTF8);

	brain_analysis a;
	brain__analysis_init(&a);
	brain_msg_text_analyze an = {"Hello, World", 12, 3, 5, &a};
	assert_int_equal(o->handlers[BRAIN_MSG_TEXT_ANALYZE](st, &an), BRAIN_OK);
	assert_string_equal(a.text, "hello world");
	assert_int_equal(a.nwords, 2);
	assert_int_equal(a.ngrams, 2 * (5 + 4 + 3));
	brain__analysis_free(&a);

	/* the table holds exactly the Pancreas's messages */
	for (int t = 0; t < BRAIN_MSG__COUNT; t++)
		assert_int_equal(o->handlers[t] != NULL, brain__msg_owner[t] == BRAIN_ORGAN_PANCREAS);
	o->destroy(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pancreas__utf8_valid),
		cmocka_unit_test(test_pancreas__utf8_invalid_classes),
		cmocka_unit_test(test_pancreas__utf8_error_at_every_offset),
		cmocka_unit_test(test_pancreas__utf8_matches_reference),
		cmocka_unit_test(test_pancreas__text_check_basics),
		cmocka_unit_test(test_pancreas__text_check_utf8_messages),
		cmocka_unit_test(test_pancreas__text_check_stops_at_limit),
		cmocka_unit_test(test_pancreas__normalise_latin),
		cmocka_unit_test(test_pancreas__normalise_greek_cyrillic),
		cmocka_unit_test(test_pancreas__normalise_other_scripts),
		cmocka_unit_test(test_pancreas__words_rules),
		cmocka_unit_test(test_pancreas__analysis_reuse_and_no_text),
		cmocka_unit_test(test_pancreas__grams_exact),
		cmocka_unit_test(test_pancreas__random_texts_match_reference),
		cmocka_unit_test(test_pancreas__every_code_point_gives_a_stable_key),
		cmocka_unit_test(test_pancreas__out_of_memory_at_every_allocation),
		cmocka_unit_test(test_pancreas__organ_dispatch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

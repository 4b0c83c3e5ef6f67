/*
 * tests/test_chunk.c - the sentence-aware chunker (base/chunk.c,
 * brain_chunk of braincore/document.h): hand examples of each rule, the
 * argument checks, random texts whose passages are checked against a
 * sentence splitter written here the simple way, and texts of megabytes
 * (plain and pathological) that a chunker slower than linear would not
 * finish under the test's timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <sys/mman.h>

#include "base/chunk.h"
#include "test_util.h"

/* ---- characters, the test's own ----------------------------------------- */

static const char *const white[] = {" ", "\t", "\n", "\v", "\f", "\r", "\xC2\xA0", "\xE3\x80\x80"};

/* The length of the white space character at t[i], or 0. */
static size_t t_ws(const char *t, size_t len, size_t i)
{
	unsigned char c = (unsigned char)t[i];
	if (c != ' ' && (c < '\t' || c > '\r') && c != 0xC2 && c != 0xE3)
		return 0; /* (only to save time: the checks read every byte) */
	for (size_t k = 0; k < sizeof white / sizeof *white; k++) {
		size_t n = strlen(white[k]);
		if (len - i >= n && memcmp(t + i, white[k], n) == 0)
			return n;
	}
	return 0;
}

/* Does a white space character end right before t[i]? */
static bool t_ws_before(const char *t, size_t i)
{
	for (size_t k = 0; k < sizeof white / sizeof *white; k++) {
		size_t n = strlen(white[k]);
		if (i >= n && t[i - 1] == white[k][n - 1] && memcmp(t + i - n, white[k], n) == 0)
			return true;
	}
	return false;
}

static bool t_boundary(const char *t, size_t len, size_t i)
{
	return i == len || ((unsigned char)t[i] & 0xC0) != 0x80;
}

static size_t t_char_len(const char *t, size_t i)
{
	unsigned char c = (unsigned char)t[i];
	return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
}

static bool t_combining(const char *t, size_t len, size_t i)
{
	if (i + 1 >= len)
		return false;
	unsigned cp = ((unsigned)(unsigned char)t[i] & 0x1F) << 6 | ((unsigned char)t[i + 1] & 0x3F);
	return ((unsigned char)t[i] & 0xE0) == 0xC0 && cp >= 0x300 && cp <= 0x36F;
}

static bool starts_with(const char *t, size_t len, size_t i, const char *s)
{
	if (t[i] != s[0])
		return false;
	size_t n = strlen(s);
	return len - i >= n && memcmp(t + i, s, n) == 0;
}

/* ---- the reference sentence splitter ------------------------------------ */

typedef struct ref_sentence {
	size_t start, end; /* first and after last byte that is not white space */
	bool para;         /* a blank line between it and the next */
} ref_sentence;

static const char *const ref_abbrev[] = {
	"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc",
	"e.g", "i.e", "fig", "inc", "ltd", "approx", "cf", "al",
};

static const char *const ref_closers[] = {
	"\"", "'", ")", "]", "}", "\u2019", "\u201D", "\u203A", "\u00BB", "\u3009",
	"\u300B", "\u300D", "\u300F", "\u3011", "\uFF09", "\uFF3D", "\uFF5D",
};

static size_t ref_closer(const char *t, size_t len, size_t i)
{
	for (size_t k = 0; k < sizeof ref_closers / sizeof *ref_closers; k++)
		if (starts_with(t, len, i, ref_closers[k]))
			return strlen(ref_closers[k]);
	return 0;
}

/* 0: no terminator at t[i]; 1: needs white space after; 2: ideographic */
static int ref_terminator(const char *t, size_t len, size_t i, size_t *n)
{
	static const char *const needs_ws[] = {".", "!", "?", "\u2026"};
	static const char *const ideographic[] = {"\u3002", "\uFF01", "\uFF1F"};
	for (size_t k = 0; k < 4; k++)
		if (starts_with(t, len, i, needs_ws[k])) {
			*n = strlen(needs_ws[k]);
			return 1;
		}
	for (size_t k = 0; k < 3; k++)
		if (starts_with(t, len, i, ideographic[k])) {
			*n = 3;
			return 2;
		}
	return 0;
}

static bool ref_is_abbreviation(const char *t, size_t len, size_t dot)
{
	size_t w = dot;
	while (w > 0 && (((t[w - 1] | 0x20) >= 'a' && (t[w - 1] | 0x20) <= 'z') || t[w - 1] == '.'))
		w--;
	size_t n = dot - w;
	if (n == 1 && t[w] >= 'A' && t[w] <= 'Z' && (w == 0 || t_ws_before(t, w)))
		return true;
	char word[16];
	if (n == 0 || n >= sizeof word)
		return false;
	for (size_t k = 0; k < n; k++)
		word[k] = (char)(t[w + k] >= 'A' && t[w + k] <= 'Z' ? t[w + k] + 32 : t[w + k]);
	word[n] = '\0';
	if (!strcmp(word, "no")) { /* "No. 5", not "the answer is no." */
		size_t j = dot + 1;
		while (j < len && (t[j] == ' ' || t[j] == '\t'))
			j++;
		return j < len && t[j] >= '0' && t[j] <= '9';
	}
	for (size_t k = 0; k < sizeof ref_abbrev / sizeof *ref_abbrev; k++)
		if (!strcmp(word, ref_abbrev[k]))
			return true;
	return false;
}

/* Does a blank line ("\n", spaces, tabs, CRs, "\n") start at t[i]? */
static bool ref_blank_line(const char *t, size_t len, size_t i)
{
	if (t[i] != '\n')
		return false;
	for (size_t k = i + 1; k < len; k++) {
		if (t[k] == '\n')
			return true;
		if (t[k] != ' ' && t[k] != '\t' && t[k] != '\r')
			return false;
	}
	return false;
}

/* The sentences of t, walked one character at a time. Caller frees. */
static size_t ref_sentences(const char *t, size_t len, ref_sentence **out)
{
	size_t cap = 64, n = 0;
	ref_sentence *v = malloc(cap * sizeof *v);
	assert_non_null(v);
	bool open = false;
	size_t start = 0, last = 0, close_at = SIZE_MAX;
	for (size_t i = 0; i <= len;) {
		if (open && (i == close_at || i == len || (t_ws(t, len, i) && ref_blank_line(t, len, i)))) {
			if (n == cap) {
				cap *= 2;
				v = realloc(v, cap * sizeof *v);
				assert_non_null(v);
			}
			v[n++] = (ref_sentence){start, i == close_at ? close_at : last, false};
			open = false;
			close_at = SIZE_MAX;
		}
		if (i == len)
			break;
		size_t w = t_ws(t, len, i);
		if (w) {
			i += w;
			continue;
		}
		if (!open) {
			open = true;
			start = i;
		}
		last = i + t_char_len(t, i);
		size_t tn;
		int kind = ref_terminator(t, len, i, &tn);
		if (kind) {
			size_t j = i + tn, c;
			while (j < len && (c = ref_closer(t, len, j)) > 0)
				j += c;
			if (kind == 2 || ((j == len || t_ws(t, len, j)) &&
			                  !(t[i] == '.' && ref_is_abbreviation(t, len, i))))
				close_at = j;
		}
		i += t_char_len(t, i);
	}
	for (size_t k = 0; k + 1 < n; k++)
		for (size_t i = v[k].end; i < v[k + 1].start; i++)
			if (ref_blank_line(t, len, i))
				v[k].para = true;
	*out = v;
	return n;
}

/* ---- checking passages --------------------------------------------------- */

/* All passages of t (through brain_chunk); caller frees. */
static brain_span *chunk_all(const char *t, size_t len, size_t max, size_t *n)
{
	int rc = brain_chunk(t, len, max, NULL, 0, n);
	if (*n == 0) {
		assert_int_equal(rc, 0);
		return NULL;
	}
	assert_int_equal(rc, BRAIN_ERANGE);
	brain_span *s = malloc(*n * sizeof *s);
	assert_non_null(s);
	size_t again = 0;
	if (brain_chunk(t, len, max, s, *n, &again) != 0)
		fail_msg("chunk: %s", brain_errmsg());
	assert_int_equal(again, *n);
	return s;
}

/* The layout: 1..max bytes each, in order, no white space at either end,
 * nothing but white space between them, on character boundaries. */
static void check_layout(const char *t, size_t len, size_t max, const brain_span *s, size_t n)
{
	size_t prev = 0;
	for (size_t k = 0; k <= n; k++) {
		size_t a = k < n ? s[k].start : len;
		assert_true(a >= prev);
		for (size_t i = prev; i < a;) {
			size_t w = t_ws(t, len, i);
			if (!w)
				fail_msg("byte %zu (0x%02X) is in no passage", i, (unsigned char)t[i]);
			i += w;
			assert_true(i <= a);
		}
		if (k == n)
			break;
		size_t e = a + s[k].len;
		if (s[k].len < 1 || s[k].len > max)
			fail_msg("passage %zu [%zu, +%zu) (max %zu): \"%.*s\"", k, a, s[k].len, max,
			         (int)s[k].len, t + a);
		assert_true(e <= len);
		assert_true(t_boundary(t, len, a) && t_boundary(t, len, e));
		assert_int_equal(t_ws(t, len, a), 0);
		assert_false(t_ws_before(t, e));
		assert_true(brain__utf8_valid(t + a, s[k].len, NULL));
		prev = e;
	}
}

/* A passage cut inside a sentence [a, e) took the last white space at or
 * before a + max, else the last character boundary not before a combining
 * mark, else the last boundary. */
static void check_cut(const char *t, size_t len, size_t max, size_t a, size_t e)
{
	size_t lim = a + max;
	assert_true(lim < len);
	size_t r = e;
	while (r < len && t_ws(t, len, r))
		r += t_ws(t, len, r);
	if (r > e) {
		for (size_t q = r; q <= lim; q++)
			if (t_ws(t, len, q))
				fail_msg("cut at %zu, but white space at %zu <= %zu", e, q, lim);
		return;
	}
	for (size_t q = a + 1; q <= lim; q++)
		assert_int_equal(t_ws(t, len, q), 0);
	size_t fl = lim;
	while (!t_boundary(t, len, fl))
		fl--;
	assert_true(e <= fl);
	if (e == fl)
		return;
	assert_false(t_combining(t, len, e));
	for (size_t b = e + 1; b <= fl; b++)
		if (t_boundary(t, len, b))
			assert_true(t_combining(t, len, b));
}

/* The layout, and the passages against the reference sentences: a passage
 * holds whole sentences, as many as fit (or, at a blank line, as many as
 * half fill it), unless a sentence is too long on its own and is cut. */
static void check_chunks(const char *t, size_t len, size_t max, const brain_span *s, size_t n)
{
	check_layout(t, len, max, s, n);
	ref_sentence *r;
	size_t nr = ref_sentences(t, len, &r);
	size_t k = 0; /* the sentence that holds the passage's last byte */
	for (size_t p = 0; p < n; p++) {
		size_t a = s[p].start, e = a + s[p].len;
		size_t first = k; /* the sentence that holds a */
		while (first < nr && r[first].end <= a)
			first++;
		assert_true(first < nr && r[first].start <= a);
		if (r[first].start != a)
			assert_true(r[first].end - r[first].start > max); /* the rest of a cut one */
		k = first;
		while (k < nr && r[k].end < e) {
			/* a sentence ends inside: a blank line after it ends the
			 * passage if it is half full */
			if (r[k].para && r[k].end - a >= max / 2)
				fail_msg("passage %zu [%zu, %zu) goes on after a paragraph at %zu (max %zu)", p,
				         a, e, r[k].end, max);
			k++;
		}
		assert_true(k < nr && r[k].start < e);
		if (r[k].end == e) {
			if (k + 1 < nr && !(r[k].para && e - a >= max / 2) && r[k + 1].end - a <= max)
				fail_msg("passage %zu [%zu, %zu) ends at %zu, but the next sentence ends at "
				         "%zu (max %zu)", p, a, e, e, r[k + 1].end, max);
		} else {
			/* cut inside a sentence: only the first of a passage, too long */
			assert_int_equal(k, first);
			if (r[k].end - a <= max)
				fail_msg("passage %zu [%zu, %zu) cuts the sentence [%zu, %zu) that fits (max "
				         "%zu)", p, a, e, r[k].start, r[k].end, max);
			check_cut(t, len, max, a, e);
		}
	}
	free(r);
}

static void chunk_and_check(const char *t, size_t len, size_t max)
{
	size_t n;
	brain_span *s = chunk_all(t, len, max, &n);
	check_chunks(t, len, max, s, n);
	free(s);
}

/* Passages of t as NUL-terminated strings, compared with want[]. */
static void expect_passages(const char *t, size_t max, const char *const *want, size_t n_want)
{
	size_t len = strlen(t), n;
	brain_span *s = chunk_all(t, len, max, &n);
	for (size_t k = 0; k < n || k < n_want; k++) {
		const char *got = k < n ? t + s[k].start : "(none)";
		int got_len = k < n ? (int)s[k].len : 6;
		if (k >= n || k >= n_want || strlen(want[k]) != s[k].len ||
		    memcmp(got, want[k], s[k].len) != 0)
			fail_msg("max %zu: passage %zu is \"%.*s\", expected \"%s\"", max, k, got_len, got,
			         k < n_want ? want[k] : "(none)");
	}
	check_chunks(t, len, max, s, n);
	free(s);
}

#define EXPECT(text, max, ...)                                                          \
	do {                                                                                \
		const char *const want_[] = {__VA_ARGS__};                                      \
		expect_passages(text, max, want_, sizeof want_ / sizeof *want_);                \
	} while (0)

/* ---- hand examples ------------------------------------------------------- */

static void test_chunk__sentences(void **state)
{
	(void)state;
	/* "It was ... day. Dr." would fit in 40: "Dr." must not end a sentence */
	EXPECT("It was a long and rainy day. Dr. Smith went home. He slept.", 40,
	       "It was a long and rainy day.", "Dr. Smith went home. He slept.");
	/* "no." ends a sentence, "No. 5" does not */
	EXPECT("The answer is no. We went home early.", 32, "The answer is no.",
	       "We went home early.");
	EXPECT("See form No. 5 for the details we need.", 32, "See form No. 5 for the details",
	       "we need.");
	EXPECT("We read a lot of good books. J. R. R. Tolkien wrote books.", 40,
	       "We read a lot of good books.", "J. R. R. Tolkien wrote books.");
	/* a capital after a letter is no initial, "U.S" no abbreviation */
	EXPECT("We went to visit the U.S. Then AB. We left.", 32, "We went to visit the U.S.",
	       "Then AB. We left.");
	/* the words of the table, in any case */
	static const char *const abbrevs[] = {
		"Mr.", "mrs.", "MS.", "Dr.", "Prof.", "Sr.", "Jr.", "St.", "vs.", "etc.",
		"e.g.", "I.E.", "Fig.", "Inc.", "Ltd.", "approx.", "cf.", "al.",
	};
	for (size_t k = 0; k < sizeof abbrevs / sizeof *abbrevs; k++) {
		char text[128], second[64];
		snprintf(second, sizeof second, "%s it goes on.", abbrevs[k]);
		snprintf(text, sizeof text, "Here is the first one. %s", second);
		EXPECT(text, 32, "Here is the first one.", second);
	}
	/* as many whole sentences as fit, the rest in the next passage */
	EXPECT("One two. Three four. Five six. Seven eight. Nine ten.", 32,
	       "One two. Three four. Five six.", "Seven eight. Nine ten.");
	EXPECT("Is it? Yes! It is. No doubt about it at all.", 32, "Is it? Yes! It is.",
	       "No doubt about it at all.");
	/* a '.' in a number, or before a letter, ends nothing */
	EXPECT("Pi is 3.14 or so, see a.b.c for more on it. And then more.", 48,
	       "Pi is 3.14 or so, see a.b.c for more on it.", "And then more.");
	/* closing quotes and brackets belong to the sentence they close */
	EXPECT("He said \"stop.\" Then he left the room quietly.", 32, "He said \"stop.\"",
	       "Then he left the room quietly.");
	EXPECT("(It was over.) Then he left the room quietly.", 32, "(It was over.)",
	       "Then he left the room quietly.");
	EXPECT("Elle a dit \u00ABnon.\u00BB Puis elle est partie vite.", 32,
	       "Elle a dit \u00ABnon.\u00BB", "Puis elle est partie vite.");
	EXPECT("She said \u201Cgo.\u201D He went off to the station.", 32,
	       "She said \u201Cgo.\u201D", "He went off to the station.");
	/* the ellipsis, one character or three dots */
	EXPECT("I waited for a long while\u2026 Then the bus came at last.", 32,
	       "I waited for a long while\u2026", "Then the bus came at last.");
	EXPECT("I waited for a long while... Then the bus came.", 32, "I waited for a long while...",
	       "Then the bus came.");
	/* U+00A0 and U+3000 are white space too */
	EXPECT("\xC2\xA0One sentence is here.\xC2\xA0Two sentences now.\xE3\x80\x80", 32,
	       "One sentence is here.", "Two sentences now.");
	/* everything fits: one passage, ends trimmed */
	EXPECT("  \n Dr. Smith went home. He slept. \n\t", 1000, "Dr. Smith went home. He slept.");
}

static void test_chunk__paragraphs(void **state)
{
	(void)state;
	/* half full (32 >= 30) at the blank line: the passage ends */
	EXPECT("First paragraph has a sentence.\n\nSecond one.", 60,
	       "First paragraph has a sentence.", "Second one.");
	/* not half full: the next paragraph joins it */
	EXPECT("First paragraph has a sentence.\n\nSecond one.", 100,
	       "First paragraph has a sentence.\n\nSecond one.");
	/* a blank line ends a sentence without a stop; spaces, tabs, CRs in it */
	EXPECT("A line without a stop at all\n \t\r\nnext line", 40,
	       "A line without a stop at all", "next line");
	EXPECT("A line without a stop at all\r\n\r\nnext line", 40, "A line without a stop at all",
	       "next line");
	/* a single newline is no paragraph: the sentence goes on */
	EXPECT("A line without a stop at all\nand more of it here. End.", 50,
	       "A line without a stop at all\nand more of it here.", "End.");
	/* a vertical tab between the newlines makes no blank line */
	EXPECT("A line without a stop at all\n\v\nand more of it. End.", 48,
	       "A line without a stop at all\n\v\nand more of it.", "End.");
}

static void test_chunk__cjk(void **state)
{
	(void)state;
	/* 21 and 18 bytes: both do not fit in 32, no space needed after 。 */
	EXPECT("\u4ECA\u5929\u5929\u6C14\u5F88\u597D\u3002\u660E\u5929\u4F1A\u4E0B\u96E8\u3002", 32,
	       "\u4ECA\u5929\u5929\u6C14\u5F88\u597D\u3002", "\u660E\u5929\u4F1A\u4E0B\u96E8\u3002");
	/* 今天很好。明天下雨。 fits in 32 whole (30 bytes) */
	EXPECT("\u4ECA\u5929\u5F88\u597D\u3002\u660E\u5929\u4E0B\u96E8\u3002", 32,
	       "\u4ECA\u5929\u5F88\u597D\u3002\u660E\u5929\u4E0B\u96E8\u3002");
	/* ！ and ？, and 」 after the mark */
	EXPECT("\u300C\u4F60\u597D\u5417\uFF1F\u300D\u6211\u5F88\u597D\uFF01\u8C22\u8C22\u4F60"
	       "\u3002",
	       32, "\u300C\u4F60\u597D\u5417\uFF1F\u300D\u6211\u5F88\u597D\uFF01",
	       "\u8C22\u8C22\u4F60\u3002");
}

/* A word longer than the passage is cut at the last character that fits. */
static void check_long_word(const char *unit, size_t units, size_t max, size_t want_len)
{
	size_t u = strlen(unit), len = u * units;
	char *t = malloc(len);
	assert_non_null(t);
	for (size_t k = 0; k < units; k++)
		memcpy(t + k * u, unit, u);
	size_t n;
	brain_span *s = chunk_all(t, len, max, &n);
	assert_int_equal(n, (len + want_len - 1) / want_len);
	for (size_t k = 0; k < n; k++) {
		assert_int_equal(s[k].start, k * want_len);
		assert_int_equal(s[k].len, k + 1 < n ? want_len : len - k * want_len);
	}
	check_chunks(t, len, max, s, n);
	free(s);
	free(t);
}

static void test_chunk__long_words(void **state)
{
	(void)state;
	check_long_word("\xC3\xA9", 2500, 33, 32);     /* é: 5000 bytes, cut at 32 not 33 */
	check_long_word("\xE6\x97\xA5", 1700, 32, 30); /* 日 */
	check_long_word("\xF0\x9F\x98\x80", 1250, 35, 32); /* 😀 */
	check_long_word("x", 5000, 1000, 1000);
	/* e + U+0301: 3 bytes; 32 would leave the mark at 31 alone: cut at 30 */
	check_long_word("e\xCC\x81", 1700, 32, 30);
	/* only marks: no boundary is not before one, cut at the last that fits */
	check_long_word("\xCC\x81", 1000, 33, 32);

	/* a long sentence is cut at the last white space that fits */
	EXPECT("aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii. Next one.", 32,
	       "aaaa bbbb cccc dddd eeee ffff", "gggg hhhh iiii. Next one.");
	/* white space exactly at the limit: a piece of max bytes */
	EXPECT("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa bbbbbbbbbbb cc.", 32,
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "bbbbbbbbbbb cc.");
	/* no white space before the limit: cut inside the word */
	EXPECT("a bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.", 32, "a",
	       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", "bbbbbbbbbbbbbbbbbb.");
	/* a cut right before the closing marks: the sentence still ends after
	 * them (else the next one would join "))" and be cut) */
	EXPECT("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.)) Next sentence is right here ok.", 32,
	       "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.", "))", "Next sentence is right here ok.");
}

/* brain__chunk_next walks the passages itself. */
static void test_chunk__next(void **state)
{
	(void)state;
	const char *t = " One. Two.  ";
	size_t pos = 0, len = strlen(t);
	brain_span sp;
	assert_true(brain__chunk_next(t, len, 32, &pos, &sp));
	assert_int_equal(sp.start, 1);
	assert_int_equal(sp.len, 9);
	assert_true(pos >= 10 && pos <= len);
	assert_false(brain__chunk_next(t, len, 32, &pos, &sp));
	assert_int_equal(pos, len);
	pos = 0;
	assert_false(brain__chunk_next(" \n\t\xE3\x80\x80", 6, 32, &pos, &sp));
	pos = 0;
	assert_false(brain__chunk_next("", 0, 32, &pos, &sp));
}

/* ---- arguments ----------------------------------------------------------- */

static void test_chunk__errors(void **state)
{
	(void)state;
	size_t n = 7;
	brain_span s[8];
	assert_int_equal(brain_chunk(NULL, 0, 0, s, 8, &n), BRAIN_ENULL);
	assert_int_equal(n, 0);
	assert_non_null(strstr(brain_errmsg(), "text"));
	assert_int_equal(brain_chunk("a", 1, 0, s, 8, NULL), BRAIN_ENULL);
	assert_int_equal(brain_chunk("a", 1, 0, NULL, 8, &n), BRAIN_ENULL);

	assert_int_equal(brain_chunk("a", 1, 1, s, 8, &n), BRAIN_ERANGE);
	assert_int_equal(brain_chunk("a", 1, BRAIN_CHUNK_MIN - 1, s, 8, &n), BRAIN_ERANGE);
	assert_int_equal(brain_chunk("a", 1, BRAIN_CHUNK_MAX + 1, s, 8, &n), BRAIN_ERANGE);
	assert_non_null(strstr(brain_errmsg(), "max_bytes"));
	assert_int_equal(brain_chunk("a", 1, BRAIN_CHUNK_MIN, s, 8, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(brain_chunk("a", 1, BRAIN_CHUNK_MAX, s, 8, &n), 0);
	assert_int_equal(n, 1);

	/* UTF-8 and NUL bytes: the first bad byte is named */
	assert_int_equal(brain_chunk("ab\xff", 3, 0, s, 8, &n), BRAIN_EUTF8);
	assert_non_null(strstr(brain_errmsg(), "byte 2"));
	assert_int_equal(brain_chunk("ab\xC3", 3, 0, s, 8, &n), BRAIN_EUTF8);
	assert_non_null(strstr(brain_errmsg(), "byte 2"));
	assert_int_equal(brain_chunk("abc\xED\xA0\x80", 6, 0, s, 8, &n), BRAIN_EUTF8); /* surrogate */
	assert_non_null(strstr(brain_errmsg(), "byte 3"));
	assert_int_equal(brain_chunk("abcd\0e", 6, 0, s, 8, &n), BRAIN_EUTF8);
	assert_non_null(strstr(brain_errmsg(), "byte 4"));
	assert_non_null(strstr(brain_errmsg(), "NUL"));
	assert_int_equal(brain_chunk("a\xff\0", 3, 0, s, 8, &n), BRAIN_EUTF8);
	assert_non_null(strstr(brain_errmsg(), "byte 1"));
	assert_int_equal(brain_chunk("a\0\xff", 3, 0, s, 8, &n), BRAIN_EUTF8);
	assert_non_null(strstr(brain_errmsg(), "byte 1"));
	assert_non_null(strstr(brain_errmsg(), "NUL"));
	assert_int_equal(n, 0);

	/* nothing to cut: no passages */
	n = 7;
	assert_int_equal(brain_chunk("", 0, 0, NULL, 0, &n), 0);
	assert_int_equal(n, 0);
	n = 7;
	assert_int_equal(brain_chunk(" \n\n\t\r\v\f\xC2\xA0\xE3\x80\x80 ", 13, 0, NULL, 0, &n), 0);
	assert_int_equal(n, 0);
}

static void test_chunk__cap(void **state)
{
	(void)state;
	const char *t = "One sentence here that is long. Two sentences here that are long. "
	                "Three sentences here, long. Four.";
	size_t len = strlen(t), n = 0;
	brain_span full[8];
	assert_int_equal(brain_chunk(t, len, 40, full, 8, &n), 0);
	assert_int_equal(n, 3);
	/* a count: ERANGE with the count */
	size_t m = 0;
	assert_int_equal(brain_chunk(t, len, 40, NULL, 0, &m), BRAIN_ERANGE);
	assert_int_equal(m, 3);
	/* the first cap filled, the rest untouched */
	brain_span some[4];
	memset(some, 0xAB, sizeof some);
	assert_int_equal(brain_chunk(t, len, 40, some, 2, &m), BRAIN_ERANGE);
	assert_int_equal(m, 3);
	assert_non_null(strstr(brain_errmsg(), "3 passages"));
	for (size_t k = 0; k < 2; k++) {
		assert_int_equal(some[k].start, full[k].start);
		assert_int_equal(some[k].len, full[k].len);
	}
	brain_span poison;
	memset(&poison, 0xAB, sizeof poison);
	assert_memory_equal(&some[2], &poison, sizeof poison);
	/* exactly enough room */
	assert_int_equal(brain_chunk(t, len, 40, some, 3, &m), 0);
	assert_int_equal(m, 3);
	assert_memory_equal(some, full, 3 * sizeof *full);
}

static void test_chunk__default_size(void **state)
{
	(void)state;
	size_t len = 0, cap = 20000;
	char *t = malloc(cap);
	assert_non_null(t);
	for (int k = 0; len + 64 < cap; k++)
		len += (size_t)snprintf(t + len, cap - len, "Sentence number %d is here. ", k);
	size_t n0, n1000, n900;
	brain_span *s0 = chunk_all(t, len, 0, &n0);
	brain_span *s1000 = chunk_all(t, len, 1000, &n1000);
	brain_span *s900 = chunk_all(t, len, 900, &n900);
	assert_int_equal(n0, n1000);
	assert_memory_equal(s0, s1000, n0 * sizeof *s0);
	assert_true(n900 > n1000);
	for (size_t k = 0; k + 1 < n0; k++)
		assert_true(s0[k].len > 950 && s0[k].len <= BRAIN_CHUNK_DEFAULT);
	free(s0);
	free(s1000);
	free(s900);
	free(t);
}

/* ---- random texts ------------------------------------------------------- */

typedef struct text {
	char *p;
	size_t len, cap;
} text;

static void put(text *t, const char *s, size_t n)
{
	if (t->len + n > t->cap) {
		t->cap = (t->len + n) * 2 + 64;
		t->p = realloc(t->p, t->cap);
		assert_non_null(t->p);
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
}

static void puts_(text *t, const char *s)
{
	put(t, s, strlen(s));
}

static const char *pick(test_rng *r, const char *const *v, size_t n)
{
	return v[test_rng_next(r) % n];
}

#define PICK(r, v) pick(r, v, sizeof v / sizeof *v)

static const char *const letters[] = {
	"a", "e", "i", "o", "n", "s", "t", "r", "\xC3\xA9", "\xC3\xBC", "\xC3\xB1",
	"\xE6\x97\xA5", "\xE6\x9C\xAC", "\xF0\x9F\x98\x80", "e\xCC\x81", "\xCC\x81",
};
static const char *const seps[] = {
	" ", " ", " ", " ", " ", "  ", "\n", "\n\n", "\n \t\r\n", "\r\n\r\n", "\t", "\xC2\xA0",
	"\xE3\x80\x80", "\v", "\n\v\n", " \n ",
};
static const char *const stops[] = {
	".", ".", ".", "!", "?", "\xE2\x80\xA6", "...", "?!", "\xE3\x80\x82", "\xEF\xBC\x81",
	"\xEF\xBC\x9F",
};
static const char *const closes[] = {
	"\"", "'", ")", "]", "\xE2\x80\x9D", "\xE2\x80\x99", "\xC2\xBB", "\xE3\x80\x8D", "))",
};
static const char *const words[] = {
	"Dr.", "dr.", "Mr.", "e.g.", "i.e.", "etc.", "vs.", "No.", "approx.", "al.", "J.", "R.",
	"U.S.", "3.14", "a.b", "x", "(see", "\"quoted", "A",
};

static void put_word(test_rng *r, text *t, size_t max_units)
{
	static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
	static const char lower[] = "abcdefghijklmnopqrstuvwxyz";
	size_t units = 1 + test_rng_next(r) % max_units;
	bool ascii = test_rng_next(r) % 3 != 0;
	if (test_rng_next(r) % 4 == 0)
		put(t, &upper[test_rng_next(r) % 26], 1);
	for (size_t k = 0; k < units; k++) {
		if (ascii)
			put(t, &lower[test_rng_next(r) % 26], 1);
		else
			puts_(t, PICK(r, letters));
	}
}

/* A random text of about `size` bytes. */
static void random_text(test_rng *r, text *t, size_t size)
{
	t->len = 0;
	while (t->len < size) {
		uint64_t x = test_rng_next(r) % 100;
		if (x < 45)
			put_word(r, t, 9);
		else if (x < 50)
			puts_(t, PICK(r, words));
		else if (x < 52)
			put_word(r, t, 1 + test_rng_next(r) % 300); /* long words */
		else if (x < 62) {
			puts_(t, PICK(r, stops));
			if (test_rng_next(r) % 4 == 0)
				puts_(t, PICK(r, closes));
		} else if (x < 64) {
			size_t n = 1 + test_rng_next(r) % 60; /* runs of white space */
			for (size_t k = 0; k < n; k++)
				puts_(t, PICK(r, seps));
		} else if (x < 65) {
			puts_(t, PICK(r, closes));
		} else {
			puts_(t, PICK(r, seps));
		}
	}
}

static void test_chunk__random_texts(void **state)
{
	(void)state;
	test_rng r = {20240601};
	text t = {malloc(64), 0, 64};
	assert_non_null(t.p);
	size_t passages = 0, cuts = 0;
	for (int round = 0; round < 3000; round++) {
		random_text(&r, &t, test_rng_next(&r) % 3000);
		size_t max = 32 + test_rng_next(&r) % 369;
		size_t n;
		brain_span *s = chunk_all(t.p, t.len, max, &n);
		check_chunks(t.p, t.len, max, s, n);
		/* brain__chunk_next from 0 gives the same, and each *pos is the
		 * end of its passage or the start of the next */
		size_t pos = 0, k = 0;
		brain_span sp;
		while (brain__chunk_next(t.p, t.len, max, &pos, &sp)) {
			assert_true(k < n);
			assert_memory_equal(&sp, &s[k], sizeof sp);
			assert_true(pos >= sp.start + sp.len && (k + 1 == n || pos <= s[k + 1].start));
			k++;
		}
		assert_int_equal(k, n);
		passages += n;
		for (size_t j = 0; j + 1 < n; j++)
			cuts += s[j].start + s[j].len < t.len && !t_ws(t.p, t.len, s[j].start + s[j].len);
		free(s);
	}
	/* the texts did exercise what they are for */
	assert_true(passages > 10000);
	assert_true(cuts > 100);
	free(t.p);
}

/* ---- size ----------------------------------------------------------------- */

/* unit repeated up to size bytes, with `tail` once at the end. */
static void repeated(text *t, const char *unit, size_t size, const char *tail)
{
	t->len = 0;
	while (t->len < size)
		puts_(t, unit);
	puts_(t, tail);
}

/* Every call of brain__chunk_next reads only near *pos: the pages of the
 * text that are more than a passage or two away (and white space runs of
 * at most ws_run bytes) are made unreadable around each call, so a chunker
 * that reads back to an earlier passage or ahead to the end of the text
 * crashes here. That and the O(1) passages a call covers make it linear,
 * without reading a clock. */
static void check_reads_near(const char *src, size_t len, size_t max, size_t ws_run)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t mapped = (len / page + 1) * page;
	/* /dev/zero rather than MAP_ANONYMOUS, which strict POSIX 2008 lacks. */
	int fd = open("/dev/zero", O_RDWR);
	if (fd < 0)
		skip();
	char *t = mmap(NULL, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	close(fd);
	if (t == MAP_FAILED)
		skip();
	memcpy(t, src, len);
	assert_int_equal(mprotect(t, mapped, PROT_NONE), 0);
	size_t pos = 0, n = 0, lo = 0, hi = 0;
	brain_span sp;
	for (;;) {
		/* the look backs take a few characters; ahead: white space, a
		 * passage, the character and closing marks after it, white space */
		size_t want_lo = pos > 64 ? (pos - 64) / page * page : 0;
		size_t want_hi = TEST_MIN(mapped, (pos + 2 * ws_run + max + 64) / page * page + page);
		if (want_lo != lo || want_hi != hi) {
			assert_int_equal(mprotect(t + lo, hi - lo, PROT_NONE), 0);
			assert_int_equal(mprotect(t + want_lo, want_hi - want_lo, PROT_READ), 0);
			lo = want_lo;
			hi = want_hi;
		}
		size_t before = pos;
		if (!brain__chunk_next(t, len, max, &pos, &sp))
			break;
		assert_true(sp.start >= before && pos > before && sp.len <= max);
		n++;
	}
	assert_int_equal(pos, len);
	assert_true(n > 0);
	munmap(t, mapped);
}

/* Megabytes of text: plain (its layout checked), and made to defeat a
 * chunker that reads back or ahead too far (checked against the reference,
 * and that every call reads only near its passage). No clock is read. */
static void test_chunk__large_texts(void **state)
{
	(void)state;
	test_rng r = {77};
	text t = {NULL, 0, 0};
	random_text(&r, &t, (size_t)10 << 20);
	/* first the reads: a chunker slower than linear fails here at once
	 * (random_text's runs of white space are at most 300 bytes) */
	check_reads_near(t.p, (size_t)2 << 20, 32, 300);
	check_reads_near(t.p, (size_t)2 << 20, 1000, 300);
	/* one pass of brain__chunk_next (brain_chunk would take two) */
	size_t n = 0, cap = 1024, pos = 0;
	brain_span *s = malloc(cap * sizeof *s);
	assert_non_null(s);
	while (brain__chunk_next(t.p, t.len, 1000, &pos, &s[n])) {
		if (++n == cap) {
			cap *= 2;
			s = realloc(s, cap * sizeof *s);
			assert_non_null(s);
		}
	}
	assert_true(n > 10000);
	check_layout(t.p, t.len, 1000, s, n);
	free(s);

	static const char *const units[] = {
		"a.",           /* "a.a.a.a." : the abbreviation's look back */
		"x",            /* one word */
		")",            /* closing marks */
		".)",
		"\xCC\x81",     /* combining marks */
		"e\xCC\x81",
		"Dr. ",         /* no sentence end ever */
		"\xE3\x80\x82", /* a sentence end at every character */
		"A. ",
		"No more. \n\n",
	};
	for (size_t k = 0; k < sizeof units / sizeof *units; k++) {
		repeated(&t, units[k], (size_t)256 << 10, ".) end");
		chunk_and_check(t.p, t.len, 32);
		chunk_and_check(t.p, t.len, 1000);
		repeated(&t, units[k], (size_t)1 << 20, ".) end");
		check_reads_near(t.p, t.len, 32, 8);
		check_reads_near(t.p, t.len, 1000, 8);
	}
	/* long runs of white space: crossed once to the next word */
	repeated(&t, " ", (size_t)1 << 20, ".) end");
	chunk_and_check(t.p, t.len, 32);
	t.len = 0;
	for (size_t k = 0; t.len < ((size_t)512 << 10); k++) {
		put_word(&r, &t, 30);
		for (size_t j = 0; j < 2000; j++)
			puts_(&t, k % 2 ? " " : "\n ");
	}
	chunk_and_check(t.p, t.len, 32);
	free(t.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk__sentences),
		cmocka_unit_test(test_chunk__paragraphs),
		cmocka_unit_test(test_chunk__cjk),
		cmocka_unit_test(test_chunk__long_words),
		cmocka_unit_test(test_chunk__next),
		cmocka_unit_test(test_chunk__errors),
		cmocka_unit_test(test_chunk__cap),
		cmocka_unit_test(test_chunk__default_size),
		cmocka_unit_test(test_chunk__random_texts),
		cmocka_unit_test(test_chunk__large_texts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

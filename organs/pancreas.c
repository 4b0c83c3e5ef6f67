/*
 * organs/pancreas.c - the Pancreas: text in. Strict UTF-8 validation, the
 * normalised search key of a text (NFKD, case folding, marks removed; see
 * organs/pancreas.h and tools/gen_unicode_tables.py), its words and their
 * character n-grams.
 *
 * This runs on every remember and every recall, so the common case is kept
 * cheap: ASCII is validated eight bytes at a time and analysed a run of
 * letters at a time without touching the Unicode tables; every other code
 * point costs one three-stage table lookup. Nothing is allocated per word:
 * the analysis's buffers grow by doubling and are reused by the next text.
 */
#include <stdio.h>
#include <string.h>

#include "base/utf8.h"
#include "organs/pancreas.h"
#include "organs/pancreas_tables.h"

/* ---- UTF-8 ------------------------------------------------------------- */

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Eight bytes that are all ASCII and none NUL: no high bit, and no zero
 * byte (the classic (w - 0x01..) & ~w test, exact when no high bit is
 * set). memcpy keeps the load free of alignment and aliasing trouble. */
static inline bool ascii8(const unsigned char *p)
{
	uint64_t w;
	memcpy(&w, p, sizeof w);
	return (((w - ONES) & ~w) | w) & HIGHS ? false : true;
}


int brain__utf8_check(const char *s, size_t len, size_t *bad_offset)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		while (len - i >= 16 && ascii8(u + i) && ascii8(u + i + 8))
			i += 16;
		if (len - i >= 8 && ascii8(u + i)) {
			i += 8;
			continue;
		}
		if (i >= len)
			break;
		unsigned c = u[i];
		if (c < 0x80) {
			if (c == 0)
				goto bad;
			i++;
			continue;
		}
		uint32_t cp = 0;
		size_t n = brain__utf8_decode(u + i, len - i, &cp);
		if (n == 0)
			goto bad;
		i += n;
	}
	return BRAIN_OK;
bad:
	if (bad_offset)
		*bad_offset = i;
	return BRAIN_EUTF8;
}

/* What is wrong with the bytes at u[off] (the offset brain__utf8_check
 * reported), in words for an error message. */
static void utf8_problem(const unsigned char *u, size_t len, size_t off, char *buf,
                         size_t size)
{
	unsigned c = u[off];
	if (c == 0) {
		snprintf(buf, size, "a NUL byte");
		return;
	}
	if (c < 0xC0) {
		snprintf(buf, size, "0x%02X is a continuation byte with no lead byte before it", c);
		return;
	}
	if (c < 0xC2) {
		snprintf(buf, size, "0x%02X could only start an overlong 2-byte form", c);
		return;
	}
	if (c > 0xF4) {
		snprintf(buf, size, "0x%02X never occurs in UTF-8", c);
		return;
	}
	size_t need = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (len - off >= 2) {
		unsigned c1 = u[off + 1];
		const char *what = NULL;
		if (c == 0xE0 && c1 >= 0x80 && c1 < 0xA0)
			what = "is an overlong 3-byte form";
		else if (c == 0xED && c1 >= 0xA0 && c1 < 0xC0)
			what = "encodes a UTF-16 surrogate (U+D800..U+DFFF)";
		else if (c == 0xF0 && c1 >= 0x80 && c1 < 0x90)
			what = "is an overlong 4-byte form";
		else if (c == 0xF4 && c1 >= 0x90 && c1 < 0xC0)
			what = "encodes a code point above U+10FFFF";
		if (what) {
			snprintf(buf, size, "0x%02X 0x%02X %s", c, c1, what);
			return;
		}
	}
	for (size_t k = 1; k < need; k++) {
		if (off + k >= len) {
			snprintf(buf, size, "0x%02X starts a %zu-byte sequence that ends early, at the "
			         "end of the text", c, need);
			return;
		}
		if ((u[off + k] & 0xC0) != 0x80) {
			snprintf(buf, size, "0x%02X starts a %zu-byte sequence that ends early: 0x%02X "
			         "at byte %zu is not a continuation byte", c, need, u[off + k], off + k);
			return;
		}
	}
	snprintf(buf, size, "an ill-formed sequence"); /* not reached for a real error */
}

int brain__text_check(const char *text, size_t max_bytes, const char *what, size_t *len)
{
	if (!what)
		what = "text";
	if (!text)
		return brain__err(BRAIN_ENULL, "%s is NULL", what);
	/* Never look further than one byte past the limit: the caller's
	 * string may be huge, or not terminated where the limit ends. */
	size_t n = max_bytes == SIZE_MAX ? strlen(text) : strnlen(text, max_bytes + 1);
	if (n > max_bytes)
		return brain__err(BRAIN_ETOOLONG, "%s is longer than the limit of %zu bytes", what,
		                  max_bytes);
	if (n == 0)
		return brain__err(BRAIN_EEMPTY, "%s is empty", what);
	size_t bad;
	if (brain__utf8_check(text, n, &bad) != BRAIN_OK) {
		char why[160];
		utf8_problem((const unsigned char *)text, n, bad, why, sizeof why);
		return brain__err(BRAIN_EUTF8, "%s is not valid UTF-8 at byte %zu (%s)", what, bad,
		                  why);
	}
	if (len)
		*len = n;
	return BRAIN_OK;
}

/* ---- the Unicode tables ------------------------------------------------ */

static inline unsigned uc_value(uint32_t cp)
{
	if (BRAIN_UNLIKELY(cp >= UC_LIMIT))
		return cp - 0xE0000u < 0x1000u ? (UC_MAPPED | UC_SEQ_EMPTY) : UC_SEP;
	unsigned group = uc_top[cp >> UC_TOP_SHIFT];
	unsigned block = uc_mid[group << UC_MID_SHIFT | (cp >> UC_LEAF_SHIFT & UC_MID_MASK)];
	return uc_leaf[block << UC_LEAF_SHIFT | (cp & UC_LEAF_MASK)];
}

/* The kana that `base` becomes with the sound mark `mark`, or 0. */
static uint32_t kana_compose(uint32_t base, uint32_t mark)
{
	/* every kana is in the basic plane; the key below has room for 16 bits */
	if (base > 0xFFFF || mark > 0xFFFF)
		return 0;
	size_t lo = 0, hi = UC_KANA_COUNT;
	uint32_t key = base << 16 | mark;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t k = (uint32_t)uc_kana[mid][0] << 16 | uc_kana[mid][1];
		if (k == key)
			return uc_kana[mid][2];
		if (k < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* Conjoining jamo and Hangul syllables (The Unicode Standard, section 3.12). */
#define JAMO_L0 0x1100u
#define JAMO_LN 19u
#define JAMO_V0 0x1161u
#define JAMO_T0 0x11A7u
#define SYLLABLE0 0xAC00u
#define SYLLABLE_N 11172u

/* ---- analysis ---------------------------------------------------------- */

/* The ASCII run loop tests "letter or digit" as class - 1 < 2, and
 * lowercases with | 0x20, which the generator checks leaves digits alone. */
_Static_assert(UC_WORD == 1 && UC_DIGIT == 2, "UC_WORD and UC_DIGIT must be 1 and 2");

/* Gram sizes are stored in a uint8_t. */
#define GRAM_MAX_N 255
/* Ring of code point offsets while a word's grams are made; holds more
 * than the GRAM_MAX_N + 1 offsets one start position needs. */
#define RING 512

enum { PEND_NONE, PEND_APOS, PEND_DOT };

/* The state of one analysis. Offsets, not pointers, into a->text: the
 * buffer moves when it grows. */
typedef struct scan {
	brain_analysis *a;
	int gmin, gmax;        /* gmax == 0: no grams */
	bool in_word;
	uint32_t wstart;       /* the current word: its first byte in a->text */
	uint32_t wcps;         /* and its length in code points */
	unsigned prev;         /* UC_WORD or UC_DIGIT: class of its last character */
	unsigned pending;      /* a joiner seen after the word, decided by the next character */
	unsigned char dot[2];  /* PEND_DOT: the separator's bytes */
	unsigned dot_len;
	uint32_t last_cp;      /* last character written, for compositions; 0 = none */
	uint32_t last_off;
	uint32_t apos_at;      /* where the word went on after a dropped apostrophe */
	bool apos;             /* ... if one was dropped in the current word */
} scan;



/* Room for `extra` more bytes of text and the final NUL. */
static inline int text_room(brain_analysis *a, size_t extra)
{
	if (BRAIN_LIKELY(a->text_cap - a->text_len > extra))
		return BRAIN_OK;
	/* Offsets into the text are 32-bit; a->text_len stays below
	 * UINT32_MAX, so `need` fits a size_t of any width. */
	if (extra >= UINT32_MAX - a->text_len)
		return brain__err(BRAIN_ETOOLONG, "analyze: the normalised text would pass 4 GiB, "
		                  "beyond its 32-bit offsets");
	size_t need = a->text_len + extra + 1;
	int rc = BRAIN_OK;
	char *p = brain__grow(a->text, &a->text_cap, need, 1, "analysis text", &rc);
	if (!p)
		return rc;
	a->text = p;
	return BRAIN_OK;
}

/* Number of grams of a word of L code points (see brain_gram). */
static inline uint64_t gram_count(uint64_t L, int gmin, int gmax)
{
	uint64_t total = 0;
	for (int n = gmin; n <= gmax && (uint64_t)n <= L + 2; n++)
		total += L + 3 - (uint64_t)n;
	return total;
}

static inline void put_gram(brain_gram *g, uint32_t off, uint32_t len, int n, bool bow,
                            bool eow)
{
	g->off = off;
	g->len = len;
	g->n = (uint8_t)n;
	g->flags = (uint8_t)((bow ? BRAIN_GRAM_BOW : 0) | (eow ? BRAIN_GRAM_EOW : 0));
}

/* The grams of the word [wstart, wend) of L code points. In the frame
 * "<" word ">" symbol 0 is '<', symbol i (1..L) code point i-1, symbol L+1
 * '>'; a gram is the symbols s..e, e = s + n - 1, and its real characters
 * are code points max(s,1)-1 .. min(e,L)-1, bytes B[max(s,1)-1] ..
 * B[min(e,L)] where B[k] is the offset of code point k (B[L] = wend). */
static int word_grams(scan *sc, uint32_t wstart, uint32_t wend, uint32_t L)
{
	brain_analysis *a = sc->a;
	int gmin = sc->gmin, gmax = sc->gmax;
	uint64_t count = gram_count(L, gmin, gmax);
	if (count == 0)
		return BRAIN_OK;
	if (count > SIZE_MAX - a->ngrams)
		return brain__oom(SIZE_MAX, "analysis grams");
	size_t need = a->ngrams + (size_t)count;
	if (need > a->grams_cap) {
		int rc = BRAIN_OK;
		brain_gram *p = brain__grow(a->grams, &a->grams_cap, need, sizeof *p, "analysis grams", &rc);
		if (!p)
			return rc;
		a->grams = p;
	}
	brain_gram *g = a->grams + a->ngrams;
	/* Symbol positions are 64-bit: L + 2 does not fit 32 bits for a word
	 * of 2^32 - 2 code points. */
	uint64_t last = (uint64_t)L + 1;
	if (wend - wstart == L) {
		/* ASCII (one byte per code point): B[k] = wstart + k. Start
		 * positions 1 .. inner_end - 1 have every size and no marker,
		 * and take the short way. */
		uint64_t inner_end = L + 2 > (uint64_t)gmax ? L + 2 - (uint64_t)gmax : 0;
		for (uint64_t s = 0; s <= last; s++) {
			if (s >= 1 && s < inner_end) {
				for (int n = gmin; n <= gmax; n++)
					put_gram(g++, (uint32_t)(wstart + s - 1), (uint32_t)n, n, false, false);
				continue;
			}
			uint64_t first = s ? s - 1 : 0;
			for (int n = gmin; n <= gmax; n++) {
				uint64_t e = s + (uint64_t)n - 1;
				if (e > last)
					break;
				uint64_t end = e < L ? e : L;
				put_gram(g++, (uint32_t)(wstart + first), (uint32_t)(end - first), n,
				         s == 0, e == last);
			}
		}
	} else {
		/* Walk the code points once, keeping the offsets a start
		 * position needs in a ring. */
		const unsigned char *t = (const unsigned char *)a->text;
		uint32_t ring[RING];
		uint64_t known = 0;
		uint32_t pos = wstart;
		ring[0] = wstart;
		for (uint64_t s = 0; s <= last; s++) {
			uint64_t first = s ? s - 1 : 0;
			uint64_t upto = s + (uint64_t)gmax - 1;
			if (upto > L)
				upto = L;
			while (known < upto) {
				unsigned c = t[pos];
				pos += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
				ring[++known % RING] = pos;
			}
			uint32_t off = ring[first % RING];
			for (int n = gmin; n <= gmax; n++) {
				uint64_t e = s + (uint64_t)n - 1;
				if (e > last)
					break;
				uint32_t end = ring[(e < L ? e : L) % RING];
				put_gram(g++, off, end - off, n, s == 0, e == last);
			}
		}
	}
	a->ngrams = need;
	return BRAIN_OK;
}

/* Close the current word: its span, its grams. A pending joiner is
 * dropped (it ended the text or was not followed by its kind). */
static int end_word(scan *sc)
{
	brain_analysis *a = sc->a;
	sc->in_word = false;
	sc->pending = PEND_NONE;
	sc->last_cp = 0;
	if (a->nwords == a->words_cap) {
		int rc = BRAIN_OK;
		brain_word_span *p = brain__grow(a->words, &a->words_cap, a->nwords + 1, sizeof *p,
		                     "analysis words", &rc);
		if (!p)
			return rc;
		a->words = p;
	}
	/* An English possessive is the word it is made from: "Tomasz's" is
	 * "tomasz" (while "don't" stays "dont"). */
	if (sc->apos && a->text_len == (size_t)sc->apos_at + 1 && a->text[sc->apos_at] == 's') {
		a->text_len--;
		sc->wcps--;
	}
	sc->apos = false;
	uint32_t wend = (uint32_t)a->text_len;
	a->words[a->nwords].off = sc->wstart;
	a->words[a->nwords].len = wend - sc->wstart;
	a->nwords++;
	if (sc->gmax)
		return word_grams(sc, sc->wstart, wend, sc->wcps);
	return BRAIN_OK;
}

/* A separator: ends the current word, and no later mark or jamo composes
 * with what came before it. */
#define END_WORD(sc)                                                            \
	do {                                                                        \
		(sc)->last_cp = 0;                                                      \
		if ((sc)->in_word) {                                                    \
			int rc_ = end_word(sc);                                             \
			if (rc_)                                                            \
				return rc_;                                                     \
		}                                                                       \
	} while (0)

/* Start a word, after a space if it is not the first, with room for
 * `extra` bytes. */
static inline int begin_word(scan *sc, size_t extra)
{
	brain_analysis *a = sc->a;
	int rc = text_room(a, extra + 1);
	if (rc)
		return rc;
	if (a->text_len)
		a->text[a->text_len++] = ' ';
	sc->in_word = true;
	sc->wstart = (uint32_t)a->text_len;
	sc->wcps = 0;
	sc->apos = false;
	sc->pending = PEND_NONE;
	sc->last_cp = 0;
	return BRAIN_OK;
}

/* Before a letter or digit of class cls: settle a pending joiner. It stays
 * out of the text (apostrophe) or goes in (a '.' or ',' between digits) if
 * its neighbours fit, else the word ends before this character. */
static inline int settle(scan *sc, unsigned cls)
{
	if (BRAIN_LIKELY(sc->pending == PEND_NONE))
		return BRAIN_OK;
	if (sc->pending == PEND_APOS && cls != UC_DIGIT) {
		sc->pending = PEND_NONE;
		sc->apos = true;
		sc->apos_at = (uint32_t)sc->a->text_len;
		return BRAIN_OK;
	}
	if (sc->pending == PEND_DOT && cls == UC_DIGIT) {
		brain_analysis *a = sc->a;
		int rc = text_room(a, sc->dot_len);
		if (rc)
			return rc;
		memcpy(a->text + a->text_len, sc->dot, sc->dot_len);
		a->text_len += sc->dot_len;
		sc->wcps++;
		sc->pending = PEND_NONE;
		return BRAIN_OK;
	}
	return end_word(sc);
}

/* Rewrite the 3-byte character at `off` (a jamo or kana being composed;
 * the result is 3 bytes as well). */
static inline void rewrite3(brain_analysis *a, uint32_t off, uint32_t cp)
{
	a->text[off] = (char)(0xE0 | cp >> 12);
	a->text[off + 1] = (char)(0x80 | (cp >> 6 & 0x3F));
	a->text[off + 2] = (char)(0x80 | (cp & 0x3F));
}

/* One code point of the normalised text (a key character: already folded),
 * its class and its UTF-8 bytes. */
static int put_cp(scan *sc, uint32_t cp, unsigned cls, const unsigned char *bytes, size_t n)
{
	brain_analysis *a = sc->a;
	int rc;
	switch (cls) {
	case UC_JAMO_V:
	case UC_JAMO_T:
		/* Letters that compose with the jamo or syllable before them,
		 * also across a dropped apostrophe, so that the result is the
		 * same when it is analysed again. */
		if ((rc = settle(sc, UC_WORD)))
			return rc;
		if (sc->in_word && cls == UC_JAMO_V && sc->last_cp - JAMO_L0 < JAMO_LN) {
			uint32_t syl = SYLLABLE0 + ((sc->last_cp - JAMO_L0) * 21 + (cp - JAMO_V0)) * 28;
			rewrite3(a, sc->last_off, syl);
			sc->last_cp = syl;
			return BRAIN_OK;
		}
		if (sc->in_word && cls == UC_JAMO_T && sc->last_cp - SYLLABLE0 < SYLLABLE_N &&
		    (sc->last_cp - SYLLABLE0) % 28 == 0) {
			rewrite3(a, sc->last_off, sc->last_cp + (cp - JAMO_T0));
			sc->last_cp = 0; /* LVT takes no more */
			return BRAIN_OK;
		}
		cls = UC_WORD;
		break;
	case UC_WORD:
	case UC_DIGIT:
		break;
	case UC_IDEO:
		/* A word of its own. */
		END_WORD(sc);
		if ((rc = begin_word(sc, n)))
			return rc;
		memcpy(a->text + a->text_len, bytes, n);
		a->text_len += n;
		sc->wcps = 1;
		if ((rc = end_word(sc)))
			return rc;
		sc->last_cp = cp; /* a kana may take a sound mark */
		sc->last_off = sc->wstart;
		return BRAIN_OK;
	case UC_VOICE:
		/* Composed with the kana just written, else dropped like any
		 * other nonspacing mark: without a trace, so that the jamo
		 * around it still compose as they will when the result is
		 * analysed again. */
		if (sc->last_cp) {
			uint32_t k = kana_compose(sc->last_cp, cp);
			if (k) {
				rewrite3(a, sc->last_off, k);
				sc->last_cp = k;
			}
		}
		return BRAIN_OK;
	case UC_APOS:
		if (sc->in_word && sc->pending == PEND_NONE && sc->prev == UC_WORD) {
			sc->pending = PEND_APOS; /* last_cp stays: see UC_JAMO_V */
			return BRAIN_OK;
		}
		END_WORD(sc);
		return BRAIN_OK;
	case UC_DOTCOMMA:
		if (sc->in_word && sc->pending == PEND_NONE && sc->prev == UC_DIGIT && n <= 2) {
			sc->pending = PEND_DOT;
			memcpy(sc->dot, bytes, n);
			sc->dot_len = (unsigned)n;
			sc->last_cp = 0;
			return BRAIN_OK;
		}
		END_WORD(sc);
		return BRAIN_OK;
	default:
		END_WORD(sc);
		return BRAIN_OK;
	}
	/* A letter or digit. */
	if ((rc = settle(sc, cls)))
		return rc;
	if (!sc->in_word) {
		if ((rc = begin_word(sc, n)))
			return rc;
	} else if ((rc = text_room(a, n))) {
		return rc;
	}
	sc->last_off = (uint32_t)a->text_len;
	sc->last_cp = cp;
	memcpy(a->text + a->text_len, bytes, n);
	a->text_len += n;
	sc->wcps++;
	sc->prev = cls;
	return BRAIN_OK;
}

/* A non-ASCII code point of the input: its key, character by character. */
static int put_key(scan *sc, uint32_t cp, const unsigned char *bytes, size_t n)
{
	unsigned v = uc_value(cp);
	if (BRAIN_LIKELY(!(v & UC_MAPPED)))
		return put_cp(sc, cp, v, bytes, n);
	unsigned k = v & UC_SEQ_MASK;
	const unsigned char *p = uc_pool + uc_seq_off[k];
	const unsigned char *end = uc_pool + uc_seq_off[k + 1];
	while (p < end) {
		uint32_t c = *p;
		size_t m = 1;
		unsigned cls;
		if (c < 0x80) {
			cls = uc_ascii_class[c];
		} else {
			m = brain__utf8_decode(p, (size_t)(end - p), &c);
			if (BRAIN_UNLIKELY(m == 0))
				return brain__err(BRAIN_EINTERNAL, "pancreas: bad key of U+%04X",
				                  (unsigned)cp);
			cls = uc_value(c); /* a key character is its own key */
		}
		int rc = put_cp(sc, c, cls, p, m);
		if (rc)
			return rc;
		p += m;
	}
	return BRAIN_OK;
}

static int analyze(scan *sc, const unsigned char *u, size_t len)
{
	brain_analysis *a = sc->a;
	size_t i = 0;
	int rc;
	while (i < len) {
		unsigned c = u[i];
		unsigned cls = uc_ascii_class[c];
		if (cls == UC_WORD || cls == UC_DIGIT) {
			/* A run of ASCII letters and digits, lowercased by setting
			 * bit 5 (which digits have already). */
			if ((rc = settle(sc, cls)))
				return rc;
			if (!sc->in_word) {
				if ((rc = begin_word(sc, len - i)))
					return rc;
			} else if ((rc = text_room(a, len - i))) {
				return rc;
			}
			char *dst = a->text + a->text_len;
			size_t j = i;
			do {
				*dst++ = (char)(u[j] | 0x20);
				j++;
			} while (j < len && uc_ascii_class[u[j]] - 1u < 2u);
			a->text_len += j - i;
			sc->wcps += (uint32_t)(j - i);
			sc->prev = uc_ascii_class[u[j - 1]];
			sc->last_cp = 0;
			i = j;
		} else if (cls == UC_SEP) {
			END_WORD(sc);
			i++;
			while (i < len && uc_ascii_class[u[i]] == UC_SEP)
				i++;
		} else if (cls != UC_NONASCII) {
			if ((rc = put_cp(sc, c, cls, u + i, 1)))
				return rc;
			i++;
		} else {
			uint32_t cp = 0;
			size_t n = brain__utf8_decode(u + i, len - i, &cp);
			if (BRAIN_UNLIKELY(n == 0)) {
				/* Not valid UTF-8 (the caller skipped the check):
				 * the byte separates words and is left out, so
				 * the normalised text stays valid UTF-8. */
				END_WORD(sc);
				i++;
				continue;
			}
			if ((rc = put_key(sc, cp, u + i, n)))
				return rc;
			i += n;
		}
	}
	END_WORD(sc);
	return BRAIN_OK;
}

int brain__analyze(const char *text, size_t len, int gram_min, int gram_max,
                   brain_analysis *out)
{
	if (!out)
		return brain__err(BRAIN_ENULL, "analyze: analysis is NULL");
	out->text_len = 0;
	out->nwords = 0;
	out->ngrams = 0;
	if (out->text)
		out->text[0] = '\0';
	if (!text && len)
		return brain__err(BRAIN_ENULL, "analyze: text is NULL");
	bool grams = gram_min >= 1 && gram_max >= gram_min;
	if (grams && gram_max > GRAM_MAX_N)
		return brain__err(BRAIN_EINVAL, "analyze: gram size %d is larger than %d", gram_max,
		                  GRAM_MAX_N);
	if (len >= UINT32_MAX)
		return brain__err(BRAIN_ETOOLONG, "analyze: text is %zu bytes, beyond the 32-bit "
		                  "offsets of an analysis", len);

	scan sc;
	memset(&sc, 0, sizeof sc);
	sc.a = out;
	sc.gmin = grams ? gram_min : 0;
	sc.gmax = grams ? gram_max : 0;
	/* Most texts come out no longer than they went in. */
	int rc = text_room(out, len);
	if (rc == BRAIN_OK)
		rc = analyze(&sc, (const unsigned char *)text, len);
	if (rc != BRAIN_OK) {
		out->text_len = 0;
		out->nwords = 0;
		out->ngrams = 0;
		if (out->text)
			out->text[0] = '\0';
		return rc;
	}
	out->text[out->text_len] = '\0';
	return BRAIN_OK;
}

/* ---- the organ --------------------------------------------------------- */

/* The Pancreas keeps no state: its work depends on the text alone, and the
 * limits come with each message. */
static int pancreas_create(const brain_env *env, brain_spine *spine,
                           const brain_organ_args *args, void **state)
{
	(void)env;
	(void)spine;
	(void)args;
	*state = NULL;
	return BRAIN_OK;
}

static void pancreas_destroy(void *state)
{
	(void)state;
}

static int on_TEXT_CHECK(void *unused, brain_msg_text_check *m)
{
	(void)unused;
	if (m->len == 0 || !m->text)
		return brain__text_check(m->text, m->max_bytes, m->what, &m->len);
	/* a length given: every byte of it is the text's (a NUL among them is
	 * invalid UTF-8 for the Pancreas, never an end) */
	const char *what = m->what ? m->what : "text";
	if (m->len > m->max_bytes)
		return brain__err(BRAIN_ETOOLONG, "%s is %zu bytes, longer than the limit of %zu",
		                  what, m->len, m->max_bytes);
	size_t bad;
	if (brain__utf8_check(m->text, m->len, &bad) != BRAIN_OK) {
		char why[160];
		utf8_problem((const unsigned char *)m->text, m->len, bad, why, sizeof why);
		return brain__err(BRAIN_EUTF8, "%s is not valid UTF-8 at byte %zu (%s)", what, bad,
		                  why);
	}
	return BRAIN_OK;
}

static int on_TEXT_ANALYZE(void *unused, brain_msg_text_analyze *m)
{
	(void)unused;
	return brain__analyze(m->text, m->len, m->gram_min, m->gram_max, m->out);
}

BRAIN_ORGAN_HANDLERS(PANCREAS, pancreas_handlers);

const brain_organ brain__organ_pancreas = {
	.name = "pancreas",
	.id = BRAIN_ORGAN_PANCREAS,
	.create = pancreas_create,
	.destroy = pancreas_destroy,
	.handlers = pancreas_handlers,
};

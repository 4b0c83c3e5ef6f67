/*
 * organs/cortex/wordpiece.c - the WordPiece tokenizer of BERT sentence
 * encoders (organs/cortex/wordpiece.h).
 *
 * The ids are those of Hugging Face transformers' BertTokenizer (the slow,
 * Python one, 4.3x and later), which tests/wordpiece_reference.py
 * re-implements for the tests. For a text it does, in order:
 *
 *  1. (uncased) str.lower() of each character but the special tokens as
 *     written ("[SEP]"), and a split of the text at those special tokens,
 *     each of which is its own id;
 *  2. cleaning: U+0000, U+FFFD and every character of a category C* but
 *     \t \n \r removed, white space (Zs, \t \n \r) made a space;
 *  3. a space on either side of each CJK ideograph (_is_chinese_char);
 *  4. NFC, then a split at white space (str.split(): U+2028 and U+2029
 *     too);
 *  5. (uncased) per word str.lower(), NFD and the Mn marks removed;
 *     (cased) a word that is exactly a special token's name is kept whole;
 *  6. a split before and after each punctuation character (ASCII 33-47,
 *     58-64, 91-96, 123-126 and P*);
 *  7. WordPiece: the longest piece of the vocabulary that starts the word,
 *     then the longest "##" piece that goes on from there, and so on; a
 *     word of more than 100 characters, or one the pieces do not cover,
 *     is one [UNK].
 *
 * Here it is one pass over the text, a code point at a time, with the
 * tables of wordpiece_tables.h (tools/gen_unicode_tables.py, which checks
 * what the shortcuts below assume for every code point):
 *
 *  - uncased: each code point's output of steps 1, 2, 3 and 5 is a table
 *    entry (lowercasing, decomposing and dropping marks one character at a
 *    time gives what the whole word's would, NFC included), except that
 *    NFD also puts the marks that survive (spacing marks with a combining
 *    class, such as Balinese's) in canonical order, which the word buffer
 *    does as they come;
 *  - cased: NFC runs on the text between two code points that nothing
 *    before them can combine with ("safe": a starter that is no second of
 *    any composition), so it needs no more than that span; Hangul is
 *    decomposed and composed by arithmetic;
 *  - WordPiece: the vocabulary is an open-addressing hash table over a
 *    hash that is extended a byte at a time, so the candidates of one
 *    start are hashed in one pass, longest last, and no candidate longer
 *    than the vocabulary's longest piece is tried: linear time for any
 *    text.
 *
 * Nothing is allocated per word: a word is gathered in a fixed buffer of
 * BRAIN_WP_MAX_WORD_CHARS characters (a longer one is [UNK] whatever it
 * holds), and the ids and the cased mode's span grow by doubling.
 *
 * Where this differs from transformers:
 *  - a special token that is not in the vocabulary (transformers would add
 *    it with a new id past the vocabulary) is plain text; only the five
 *    names of enum brain_wp_special are special;
 *  - Unicode 14 (Python 3.11's unicodedata): a character assigned later
 *    is unassigned here (category Cn, removed), as for transformers under
 *    Python 3.11;
 *  - BertTokenizer's options are those of BERT models: tokenize_chinese_chars
 *    and do_basic_tokenize on, strip_accents following do_lower_case, the
 *    special tokens named as in enum brain_wp_special;
 *  - GGUF: llama.cpp's conversion turns "##[x]" into "[x]", which is read
 *    back as "[x]" (a word's start): no BERT vocabulary has such a piece;
 *  - the fast tokenizer (tokenizers' BertNormalizer) applies no NFC: for
 *    cased models and text that is not in NFC, it differs from the slow
 *    one, and this follows the slow one. Lowercase mode is not affected
 *    (NFD follows).
 */
#include <string.h>

#include "base/json_lex.h"
#include "base/utf8.h"
#include "organs/cortex/wordpiece.h"
#include "organs/cortex/wordpiece_tables.h"

/* ---- the Unicode tables -------------------------------------------------- */

static inline const wp_record *record(uint32_t cp)
{
	if (BRAIN_UNLIKELY(cp >= WP_LIMIT))
		return &wp_records[WP_REC_DROP];
	unsigned group = wp_top[cp >> WP_TOP_SHIFT];
	unsigned block = wp_mid[group << WP_MID_SHIFT | (cp >> WP_LEAF_SHIFT & WP_MID_MASK)];
	return &wp_records[wp_leaf[block << WP_LEAF_SHIFT | (cp & WP_LEAF_MASK)]];
}

/* A sequence of the pool: its bytes, valid UTF-8 of code points that are
 * their own output (the generator checks both). */
static inline const unsigned char *seq(unsigned k, const unsigned char **end)
{
	*end = wp_pool + wp_seq_off[k + 1];
	return wp_pool + wp_seq_off[k];
}

/* Hangul syllables and conjoining jamo (The Unicode Standard, 3.12). */
#define HANGUL_S0 0xAC00u
#define HANGUL_SN 11172u
#define HANGUL_L0 0x1100u
#define HANGUL_LN 19u
#define HANGUL_V0 0x1161u
#define HANGUL_VN 21u
#define HANGUL_T0 0x11A7u /* one before the first trailing jamo */
#define HANGUL_TN 28u

/* The primary composite of a and b, or 0. */
static uint32_t compose(uint32_t a, uint32_t b)
{
	if (a - HANGUL_L0 < HANGUL_LN && b - HANGUL_V0 < HANGUL_VN)
		return HANGUL_S0 + ((a - HANGUL_L0) * HANGUL_VN + (b - HANGUL_V0)) * HANGUL_TN;
	if (a - HANGUL_S0 < HANGUL_SN && (a - HANGUL_S0) % HANGUL_TN == 0 &&
	    b - HANGUL_T0 - 1 < HANGUL_TN - 1)
		return a + (b - HANGUL_T0);
	uint64_t key = (uint64_t)a << 21 | b;
	size_t lo = 0, hi = WP_COMP_COUNT;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (wp_comp_key[mid] == key)
			return wp_comp[mid];
		if (wp_comp_key[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/* ---- the vocabulary ------------------------------------------------------ */

#define CONT 0x8000u /* in len[]: a continuation piece ("##x") */
#define NO_ID UINT32_MAX

static const char *const special_names[BRAIN_WP__SPECIALS] = {
	"[CLS]", "[SEP]", "[UNK]", "[PAD]", "[MASK]",
};

typedef struct cell {
	uint32_t tag; /* the hash's high half */
	uint32_t id;  /* NO_ID: empty */
} cell;

struct brain_wordpiece {
	size_t n;
	bool lowercase;
	uint32_t *off; /* n: each token's bytes in pool, without "##" or "▁" */
	uint16_t *len; /* n: their length, | CONT for a continuation piece */
	char *pool;
	cell *cells; /* a power of two of them, at most half full */
	size_t mask;
	uint64_t seed;
	size_t longest[2]; /* bytes of the longest word-start, continuation piece */
	int32_t special[BRAIN_WP__SPECIALS];
	bool any_special; /* one of them is in the vocabulary */
	size_t bytes;
};

/* The hash of a piece, extended a byte at a time (FNV-1a from a seed of
 * the tokenizer's own, finished by a mix), so that the candidates from one
 * start are hashed in one pass. */
#define FNV_PRIME 0x100000001b3ull

static inline uint64_t hash_begin(const brain_wordpiece *w, bool cont)
{
	return w->seed ^ (cont ? 0x9e3779b97f4a7c15ull : 0);
}

static inline uint64_t hash_byte(uint64_t h, unsigned char b)
{
	return (h ^ b) * FNV_PRIME;
}

static inline uint64_t hash_end(uint64_t h)
{
	return brain__mix64(h);
}

/* The id of the piece s[0..n) (a continuation piece if cont), h its
 * finished hash; -1 if the vocabulary has no such piece. */
static int32_t lookup(const brain_wordpiece *w, bool cont, const char *s, size_t n, uint64_t h)
{
	uint32_t tag = (uint32_t)(h >> 32);
	uint16_t want = (uint16_t)(n | (cont ? CONT : 0));
	size_t i = (size_t)h & w->mask;
	for (;;) {
		const cell *c = &w->cells[i];
		if (c->id == NO_ID)
			return -1;
		if (c->tag == tag && w->len[c->id] == want &&
		    memcmp(w->pool + w->off[c->id], s, n) == 0)
			return (int32_t)c->id;
		i = (i + 1) & w->mask;
	}
}

static uint64_t piece_hash(const brain_wordpiece *w, bool cont, const char *s, size_t n)
{
	uint64_t h = hash_begin(w, cont);
	for (size_t i = 0; i < n; i++)
		h = hash_byte(h, (unsigned char)s[i]);
	return hash_end(h);
}

void brain__wordpiece_free(brain_wordpiece *w)
{
	if (!w)
		return;
	brain__free(w->off);
	brain__free(w->len);
	brain__free(w->pool);
	brain__free(w->cells);
	brain__free(w);
}

/* A tokenizer for n tokens of pool_bytes bytes in all (checked). */
static int wp_new(size_t n, size_t pool_bytes, bool lowercase, brain_wordpiece **out)
{
	size_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	brain_wordpiece *w = brain__calloc(1, sizeof *w);
	if (!w)
		return brain__oom(sizeof *w, "wordpiece");
	w->n = n;
	w->lowercase = lowercase;
	w->mask = cap - 1;
	w->seed = brain__random64();
	w->off = brain__malloc_array(n, sizeof *w->off);
	w->len = brain__malloc_array(n, sizeof *w->len);
	w->pool = brain__malloc(pool_bytes ? pool_bytes : 1);
	w->cells = brain__malloc_array(cap, sizeof *w->cells);
	if (!w->off || !w->len || !w->pool || !w->cells) {
		brain__wordpiece_free(w);
		return brain__oom(n * (sizeof *w->off + sizeof *w->len) + pool_bytes +
		                  cap * sizeof(cell), "wordpiece vocabulary");
	}
	memset(w->cells, 0xFF, cap * sizeof *w->cells); /* every id NO_ID */
	w->bytes = sizeof *w + n * (sizeof *w->off + sizeof *w->len) + pool_bytes +
	           cap * sizeof *w->cells;
	*out = w;
	return BRAIN_OK;
}

/* Checks of one token (the i-th, s[0..n)) before anything is made. */
static int token_check(size_t i, const char *s, size_t n)
{
	if (n > BRAIN_WP_MAX_TOKEN_BYTES)
		return brain__err(BRAIN_ETOOLONG, "wordpiece: token %zu is %zu bytes, longer than the "
		                  "limit of %d", i, n, BRAIN_WP_MAX_TOKEN_BYTES);
	size_t bad;
	if (!brain__utf8_valid(s, n, &bad))
		return brain__err(BRAIN_EUTF8, "wordpiece: token %zu is not valid UTF-8 at byte %zu",
		                  i, bad);
	return BRAIN_OK;
}

static int count_check(size_t n, size_t pool_bytes)
{
	if (n == 0)
		return brain__err(BRAIN_EINVAL, "wordpiece: the vocabulary is empty");
	if (n > BRAIN_WP_MAX_TOKENS)
		return brain__err(BRAIN_ETOOLONG, "wordpiece: the vocabulary has %zu tokens, more than "
		                  "the limit of %u", n, BRAIN_WP_MAX_TOKENS);
	if (pool_bytes > UINT32_MAX)
		return brain__err(BRAIN_ETOOLONG, "wordpiece: the vocabulary's tokens are %zu bytes, "
		                  "more than 4 GiB", pool_bytes);
	return BRAIN_OK;
}

/* Token id, s[0..n) written in `style`: its piece into the pool at *at. */
static void token_put(brain_wordpiece *w, size_t id, const char *s, size_t n, int style,
                      size_t *at)
{
	bool cont;
	if (style == BRAIN_WP_HF) {
		cont = n >= 2 && s[0] == '#' && s[1] == '#';
		if (cont) {
			s += 2;
			n -= 2;
		}
	} else if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
		cont = false; /* a special token, as it is */
	} else if (n >= 3 && memcmp(s, "\xE2\x96\x81", 3) == 0) {
		cont = false; /* "▁x": x starts a word */
		s += 3;
		n -= 3;
	} else {
		cont = true; /* "x" is "##x" */
	}
	memcpy(w->pool + *at, s, n);
	w->off[id] = (uint32_t)*at;
	w->len[id] = (uint16_t)(n | (cont ? CONT : 0));
	*at += n;
	if (n > w->longest[cont])
		w->longest[cont] = n;
}

/* The hash table over the tokens; a later duplicate takes the place of an
 * earlier one. Then the special tokens, [UNK] required. */
static int wp_index(brain_wordpiece *w)
{
	for (size_t id = 0; id < w->n; id++) {
		bool cont = (w->len[id] & CONT) != 0;
		size_t n = w->len[id] & ~CONT;
		const char *s = w->pool + w->off[id];
		uint64_t h = piece_hash(w, cont, s, n);
		uint32_t tag = (uint32_t)(h >> 32);
		size_t i = (size_t)h & w->mask;
		for (;;) {
			cell *c = &w->cells[i];
			if (c->id == NO_ID) {
				c->tag = tag;
				c->id = (uint32_t)id;
				break;
			}
			if (c->tag == tag && w->len[c->id] == w->len[id] &&
			    memcmp(w->pool + w->off[c->id], s, n) == 0) {
				c->id = (uint32_t)id;
				break;
			}
			i = (i + 1) & w->mask;
		}
	}
	for (int k = 0; k < BRAIN_WP__SPECIALS; k++) {
		const char *name = special_names[k];
		size_t n = strlen(name);
		w->special[k] = lookup(w, false, name, n, piece_hash(w, false, name, n));
		if (w->special[k] >= 0)
			w->any_special = true;
	}
	if (w->special[BRAIN_WP_UNK] < 0)
		return brain__err(BRAIN_EINVAL, "wordpiece: the vocabulary has no [UNK]");
	return BRAIN_OK;
}

/* The end of the line that starts at s[i]: the index of its "\n", "\r" or
 * len; *next the start of the next line. */
static size_t line_end(const char *s, size_t len, size_t i, size_t *next)
{
	const char *nl = memchr(s + i, '\n', len - i);
	size_t e = nl ? (size_t)(nl - s) : len;
	const char *cr = memchr(s + i, '\r', e - i);
	if (cr) {
		e = (size_t)(cr - s);
		*next = e + 1 < len && s[e + 1] == '\n' ? e + 2 : e + 1;
		return e;
	}
	*next = e < len ? e + 1 : len;
	return e;
}

int brain__wordpiece_from_vocab_txt(const char *text, size_t len, bool lowercase,
                                    brain_wordpiece **out)
{
	if (out)
		*out = NULL;
	if (!out || (!text && len))
		return brain__err(BRAIN_ENULL, "wordpiece: %s is NULL", out ? "text" : "out");
	size_t bad;
	if (!brain__utf8_valid(text, len, &bad))
		return brain__err(BRAIN_EUTF8, "wordpiece: the vocabulary is not valid UTF-8 at byte "
		                  "%zu", bad);
	size_t n = 0, bytes = 0;
	for (size_t i = 0, next; i < len; i = next) {
		size_t e = line_end(text, len, i, &next);
		if (e - i > BRAIN_WP_MAX_TOKEN_BYTES)
			return brain__err(BRAIN_ETOOLONG, "wordpiece: token %zu (line %zu) is %zu bytes, "
			                  "longer than the limit of %d", n, n + 1, e - i,
			                  BRAIN_WP_MAX_TOKEN_BYTES);
		n++;
		bytes += e - i;
	}
	int rc = count_check(n, bytes);
	if (rc)
		return rc;
	brain_wordpiece *w;
	if ((rc = wp_new(n, bytes, lowercase, &w)))
		return rc;
	size_t at = 0, id = 0;
	for (size_t i = 0, next; i < len; i = next) {
		size_t e = line_end(text, len, i, &next);
		token_put(w, id++, text + i, e - i, BRAIN_WP_HF, &at);
	}
	if ((rc = wp_index(w))) {
		brain__wordpiece_free(w);
		return rc;
	}
	*out = w;
	return BRAIN_OK;
}

int brain__wordpiece_from_tokens(const char *const *tokens, const size_t *lens, size_t n,
                                 int style, bool lowercase, brain_wordpiece **out)
{
	if (out)
		*out = NULL;
	if (!out || (!tokens && n))
		return brain__err(BRAIN_ENULL, "wordpiece: %s is NULL", out ? "tokens" : "out");
	if (style != BRAIN_WP_HF && style != BRAIN_WP_GGUF)
		return brain__err(BRAIN_EINVAL, "wordpiece: unknown vocabulary style %d", style);
	int rc = count_check(n, 0);
	if (rc)
		return rc;
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		if (!tokens[i])
			return brain__err(BRAIN_ENULL, "wordpiece: token %zu is NULL", i);
		size_t m = lens ? lens[i] : strlen(tokens[i]);
		if ((rc = token_check(i, tokens[i], m)))
			return rc;
		bytes += m;
	}
	if ((rc = count_check(n, bytes)))
		return rc;
	brain_wordpiece *w;
	if ((rc = wp_new(n, bytes, lowercase, &w)))
		return rc;
	size_t at = 0;
	for (size_t i = 0; i < n; i++)
		token_put(w, i, tokens[i], lens ? lens[i] : strlen(tokens[i]), style, &at);
	if ((rc = wp_index(w))) {
		brain__wordpiece_free(w);
		return rc;
	}
	*out = w;
	return BRAIN_OK;
}

size_t brain__wordpiece_size(const brain_wordpiece *w)
{
	return w ? w->n : 0;
}

int32_t brain__wordpiece_special(const brain_wordpiece *w, int which)
{
	if (!w || which < 0 || which >= BRAIN_WP__SPECIALS)
		return -1;
	return w->special[which];
}

bool brain__wordpiece_lowercase(const brain_wordpiece *w)
{
	return w && w->lowercase;
}

size_t brain__wordpiece_bytes(const brain_wordpiece *w)
{
	return w ? w->bytes : 0;
}

/* ---- encoding ------------------------------------------------------------ */

#define WORD_MAX BRAIN_WP_MAX_WORD_CHARS
#define CP_MASK 0x1FFFFFu /* a code point with its combining class above it */
#define CCC_SHIFT 24

typedef struct enc {
	const brain_wordpiece *w;
	int32_t *ids;
	size_t n, cap;

	/* The word being gathered: its first WORD_MAX characters. */
	size_t chars;              /* characters so far (may pass WORD_MAX) */
	uint16_t at[WORD_MAX + 1]; /* where each starts in bytes */
	uint8_t ccc[WORD_MAX];     /* its combining class */
	char bytes[WORD_MAX * 4];

	/* Cased: the text since the last safe code point (before NFC), its
	 * decomposition, a scratch for putting long runs of marks in order. */
	uint32_t *seg, *dec, *scr;
	size_t seg_n, seg_cap, dec_cap, scr_cap;

	/* Cased: the white-space-delimited word so far, which is kept whole
	 * if it is a special token's name (never_split). */
	size_t tok_ids;  /* ids before it */
	size_t tok_len;  /* its bytes */
	char tok_head[8];
} enc;


#define GROW(e, field, capf, need, what)                                        \
	do {                                                                        \
		if ((need) > (e)->capf) {                                               \
			int rc_ = BRAIN_OK;                                                 \
			void *p_ = brain__grow((e)->field, &(e)->capf, (need), sizeof *(e)->field, \
			                (what), &rc_);                                      \
			if (!p_)                                                            \
				return rc_;                                                     \
			(e)->field = p_;                                                    \
		}                                                                       \
	} while (0)

static inline int put_id(enc *e, int32_t id)
{
	if (BRAIN_UNLIKELY(e->n == e->cap))
		GROW(e, ids, cap, e->n + 1, "wordpiece ids");
	e->ids[e->n++] = id;
	return BRAIN_OK;
}

/* Add a character of class ccc to the word; a mark with a combining class
 * goes before the marks of a higher class before it (canonical order,
 * stable). A character past WORD_MAX is only counted. */
static inline void word_put(enc *e, uint32_t cp, unsigned ccc)
{
	size_t k = e->chars++;
	if (k >= WORD_MAX)
		return;
	size_t b = e->at[k];
	e->at[k + 1] = (uint16_t)(b + brain__utf8_put(e->bytes + b, cp));
	e->ccc[k] = (uint8_t)ccc;
	while (BRAIN_UNLIKELY(ccc != 0) && k > 0 && e->ccc[k - 1] > ccc) {
		/* swap characters k - 1 and k */
		char tmp[4];
		size_t a0 = e->at[k - 1], a1 = e->at[k], a2 = e->at[k + 1];
		memcpy(tmp, e->bytes + a0, a1 - a0);
		memmove(e->bytes + a0, e->bytes + a1, a2 - a1);
		memcpy(e->bytes + a0 + (a2 - a1), tmp, a1 - a0);
		e->at[k] = (uint16_t)(a0 + (a2 - a1));
		e->ccc[k] = e->ccc[k - 1];
		e->ccc[k - 1] = (uint8_t)ccc;
		k--;
	}
}

/* The word's pieces: greedy, longest first. */
static int wordpiece(enc *e)
{
	const brain_wordpiece *w = e->w;
	size_t first = e->n, nch = e->chars;
	uint64_t hs[WORD_MAX];
	size_t start = 0;
	while (start < nch) {
		bool cont = start > 0;
		size_t longest = w->longest[cont], b0 = e->at[start], k = 0;
		uint64_t h = hash_begin(w, cont);
		for (size_t end = start + 1; end <= nch && e->at[end] - b0 <= longest; end++) {
			for (size_t b = e->at[end - 1]; b < e->at[end]; b++)
				h = hash_byte(h, (unsigned char)e->bytes[b]);
			hs[k++] = h;
		}
		int32_t id = -1;
		while (k > 0) {
			k--;
			id = lookup(w, cont, e->bytes + b0, e->at[start + k + 1] - b0, hash_end(hs[k]));
			if (id >= 0)
				break;
		}
		if (id < 0) {
			e->n = first;
			return put_id(e, w->special[BRAIN_WP_UNK]);
		}
		int rc = put_id(e, id);
		if (rc)
			return rc;
		start += k + 1;
	}
	return BRAIN_OK;
}

static int word_end(enc *e)
{
	if (e->chars == 0)
		return BRAIN_OK;
	int rc = e->chars > WORD_MAX ? put_id(e, e->w->special[BRAIN_WP_UNK]) : wordpiece(e);
	e->chars = 0;
	return rc;
}

/* A punctuation character: a word of its own. */
static int punct(enc *e, uint32_t cp)
{
	int rc = word_end(e);
	if (rc)
		return rc;
	word_put(e, cp, 0);
	return word_end(e);
}

/* ---- uncased ------------------------------------------------------------- */

/* One character of the output (its own output). */
static inline int lc_out(enc *e, uint32_t cp)
{
	const wp_record *r = record(cp);
	if (r->flags & WP_PUNCT)
		return punct(e, cp);
	word_put(e, cp, r->ccc);
	return BRAIN_OK;
}

/* A code point of the text (not ASCII), its record r. */
static int lc_char(enc *e, uint32_t cp, const wp_record *r)
{
	const unsigned char *p, *end;
	int rc;
	switch (r->flags & WP_CLASS_MASK) {
	case WP_DROP:
		return BRAIN_OK;
	case WP_SPACE:
		return word_end(e);
	case WP_CJK:
		if (r->flags & WP_LMAP) {
			p = seq(r->lseq, &end);
			(void)brain__utf8_decode(p, (size_t)(end - p), &cp);
		}
		return punct(e, cp);
	default:
		break;
	}
	if (cp - HANGUL_S0 < HANGUL_SN) {
		/* NFD: L V (T), letters of their own */
		uint32_t s = cp - HANGUL_S0;
		word_put(e, HANGUL_L0 + s / (HANGUL_VN * HANGUL_TN), 0);
		word_put(e, HANGUL_V0 + s % (HANGUL_VN * HANGUL_TN) / HANGUL_TN, 0);
		if (s % HANGUL_TN)
			word_put(e, HANGUL_T0 + s % HANGUL_TN, 0);
		return BRAIN_OK;
	}
	if (!(r->flags & WP_LMAP)) {
		if (r->flags & WP_PUNCT)
			return punct(e, cp);
		word_put(e, cp, r->ccc);
		return BRAIN_OK;
	}
	for (p = seq(r->lseq, &end); p < end;) {
		uint32_t c = *p;
		size_t m = 1;
		if (c >= 0x80 && (m = brain__utf8_decode(p, (size_t)(end - p), &c)) == 0)
			return brain__err(BRAIN_EINTERNAL, "wordpiece: bad mapping of U+%04X", (unsigned)cp);
		if ((rc = lc_out(e, c)))
			return rc;
		p += m;
	}
	return BRAIN_OK;
}

/* ---- cased: NFC ---------------------------------------------------------- */

/* One character of the NFC text. */
static int cs_out(enc *e, uint32_t cp)
{
	char u[4];
	size_t m = brain__utf8_put(u, cp);
	if (e->tok_len < sizeof e->tok_head)
		memcpy(e->tok_head + e->tok_len, u, BRAIN_MIN(m, sizeof e->tok_head - e->tok_len));
	e->tok_len += m;
	unsigned flags, ccc = 0;
	if (cp < 0x80) {
		flags = wp_ascii_flags[cp];
	} else {
		const wp_record *r = record(cp);
		flags = r->flags;
		ccc = r->ccc;
	}
	if (flags & WP_PUNCT)
		return punct(e, cp);
	word_put(e, cp, ccc);
	return BRAIN_OK;
}

static inline uint32_t packed(uint32_t cp)
{
	return cp | (uint32_t)record(cp)->ccc << CCC_SHIFT;
}

/* Put the run d[0..n) of marks in canonical order: stable by class. */
static int order_run(enc *e, uint32_t *d, size_t n)
{
	if (n <= 32) {
		for (size_t i = 1; i < n; i++) {
			uint32_t x = d[i];
			size_t j = i;
			for (; j > 0 && d[j - 1] >> CCC_SHIFT > x >> CCC_SHIFT; j--)
				d[j] = d[j - 1];
			d[j] = x;
		}
		return BRAIN_OK;
	}
	/* a long run (only a made-up text has one): counting sort */
	GROW(e, scr, scr_cap, n, "wordpiece marks");
	size_t count[257] = {0};
	for (size_t i = 0; i < n; i++)
		count[(d[i] >> CCC_SHIFT) + 1]++;
	for (size_t c = 1; c < 257; c++)
		count[c] += count[c - 1];
	for (size_t i = 0; i < n; i++)
		e->scr[count[d[i] >> CCC_SHIFT]++] = d[i];
	memcpy(d, e->scr, n * sizeof *d);
	return BRAIN_OK;
}

/* NFC of the span gathered since the last safe code point, and its
 * characters out. */
static int seg_flush(enc *e)
{
	size_t n = e->seg_n;
	if (n == 0)
		return BRAIN_OK;
	e->seg_n = 0;
	if (n == 1 && (e->seg[0] < 0x80 || !(record(e->seg[0])->flags & WP_DMAP)))
		return cs_out(e, e->seg[0]); /* a starter alone: its own NFC */
	GROW(e, dec, dec_cap, n * WP_MAX_DSEQ, "wordpiece text");
	int rc;
	/* canonical decomposition */
	uint32_t *d = e->dec;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t cp = e->seg[i];
		if (cp - HANGUL_S0 < HANGUL_SN) {
			uint32_t s = cp - HANGUL_S0;
			d[m++] = HANGUL_L0 + s / (HANGUL_VN * HANGUL_TN);
			d[m++] = HANGUL_V0 + s % (HANGUL_VN * HANGUL_TN) / HANGUL_TN;
			if (s % HANGUL_TN)
				d[m++] = HANGUL_T0 + s % HANGUL_TN;
			continue;
		}
		const wp_record *r = record(cp);
		if (!(r->flags & WP_DMAP)) {
			d[m++] = cp | (uint32_t)r->ccc << CCC_SHIFT;
			continue;
		}
		const unsigned char *p, *end;
		for (p = seq(r->dseq, &end); p < end;) {
			uint32_t c = *p;
			size_t k = 1;
			if (c >= 0x80 && (k = brain__utf8_decode(p, (size_t)(end - p), &c)) == 0)
				return brain__err(BRAIN_EINTERNAL, "wordpiece: bad decomposition of U+%04X",
				                  (unsigned)cp);
			d[m++] = packed(c);
			p += k;
		}
	}
	/* canonical order: each run of marks sorted by class */
	for (size_t i = 0; i < m;) {
		if (d[i] >> CCC_SHIFT == 0) {
			i++;
			continue;
		}
		size_t j = i;
		while (j < m && d[j] >> CCC_SHIFT != 0)
			j++;
		if (j - i > 1 && (rc = order_run(e, d + i, j - i)))
			return rc;
		i = j;
	}
	/* canonical composition: each character with the last starter, unless
	 * a character between them has a class of 0 or not below its own */
	size_t out = 0, starter = SIZE_MAX;
	int last = -1; /* the class of the last character kept after the starter,
	                * -1 if none: then even a starter may combine with it */
	for (size_t i = 0; i < m; i++) {
		uint32_t cp = d[i] & CP_MASK;
		int ccc = (int)(d[i] >> CCC_SHIFT);
		if (starter != SIZE_MAX && last < ccc && (record(cp)->flags & WP_SECOND)) {
			uint32_t c = compose(d[starter] & CP_MASK, cp);
			if (c) {
				d[starter] = c; /* a composite of a starter is a starter */
				continue;
			}
		}
		if (ccc == 0) {
			starter = out;
			last = -1;
		} else {
			last = ccc;
		}
		d[out++] = d[i];
	}
	for (size_t i = 0; i < out; i++)
		if ((rc = cs_out(e, d[i] & CP_MASK)))
			return rc;
	return BRAIN_OK;
}

/* The end of a white-space-delimited word: one that is exactly a special
 * token's name (after cleaning and NFC) is a single word, not split at
 * its brackets. */
static int tok_end(enc *e)
{
	int rc = seg_flush(e);
	if (!rc)
		rc = word_end(e);
	if (rc)
		return rc;
	if (e->tok_len >= 5 && e->tok_len <= 6 && e->tok_head[0] == '[') {
		for (int k = 0; k < BRAIN_WP__SPECIALS; k++) {
			const char *name = special_names[k];
			if (strlen(name) != e->tok_len || memcmp(name, e->tok_head, e->tok_len) != 0)
				continue;
			e->n = e->tok_ids;
			for (const char *s = name; *s; s++)
				word_put(e, (unsigned char)*s, 0);
			if ((rc = word_end(e)))
				return rc;
			break;
		}
	}
	e->tok_ids = e->n;
	e->tok_len = 0;
	return BRAIN_OK;
}

/* A code point of the text, its record r. */
static int cs_char(enc *e, uint32_t cp, const wp_record *r)
{
	int rc;
	switch (r->flags & WP_CLASS_MASK) {
	case WP_DROP:
		return BRAIN_OK;
	case WP_SPACE:
		return tok_end(e);
	case WP_CJK:
		if ((rc = tok_end(e)))
			return rc;
		if (r->flags & WP_DMAP) {
			const unsigned char *end, *p = seq(r->dseq, &end);
			(void)brain__utf8_decode(p, (size_t)(end - p), &cp);
		}
		if ((rc = punct(e, cp)))
			return rc;
		return tok_end(e);
	default:
		break;
	}
	if (!(r->flags & WP_UNSAFE) && (rc = seg_flush(e)))
		return rc;
	if (BRAIN_UNLIKELY(e->seg_n == e->seg_cap))
		GROW(e, seg, seg_cap, e->seg_n + 1, "wordpiece text");
	e->seg[e->seg_n++] = cp;
	return BRAIN_OK;
}

/* ---- the text ------------------------------------------------------------ */

/* The special token written at u[0..avail), if the vocabulary has it: its
 * length, and its id in *id; else 0. */
static size_t special_at(const brain_wordpiece *w, const unsigned char *u, size_t avail,
                         int32_t *id)
{
	for (int k = 0; k < BRAIN_WP__SPECIALS; k++) {
		size_t n = strlen(special_names[k]);
		if (w->special[k] >= 0 && avail >= n && memcmp(u, special_names[k], n) == 0) {
			*id = w->special[k];
			return n;
		}
	}
	return 0;
}

static int encode(enc *e, const unsigned char *u, size_t len)
{
	const brain_wordpiece *w = e->w;
	bool lower = w->lowercase;
	int rc = BRAIN_OK;
	size_t i = 0;
	while (i < len) {
		unsigned c = u[i];
		if (c == '[' && w->any_special) {
			int32_t id;
			size_t m = special_at(w, u + i, len - i, &id);
			if (m) {
				if ((rc = lower ? word_end(e) : tok_end(e)) || (rc = put_id(e, id)))
					return rc;
				e->tok_ids = e->n;
				i += m;
				continue;
			}
		}
		if (c < 0x80) {
			unsigned f = wp_ascii_flags[c];
			if (lower) {
				if (f & WP_PUNCT)
					rc = punct(e, c);
				else if ((f & WP_CLASS_MASK) == WP_KEEP)
					word_put(e, f & WP_LMAP ? c | 0x20 : c, 0);
				else if ((f & WP_CLASS_MASK) == WP_SPACE)
					rc = word_end(e);
			} else {
				if ((f & WP_CLASS_MASK) == WP_KEEP) {
					/* a safe starter: what came before is complete */
					if (e->seg_n && (rc = seg_flush(e)))
						return rc;
					e->seg[e->seg_n++] = c; /* room: seg_flush leaves some */
				} else if ((f & WP_CLASS_MASK) == WP_SPACE) {
					rc = tok_end(e);
				}
			}
			if (rc)
				return rc;
			i++;
			continue;
		}
		uint32_t cp = 0;
		size_t m = brain__utf8_decode(u + i, len - i, &cp);
		if (BRAIN_UNLIKELY(m == 0))
			return brain__err(BRAIN_EUTF8, "wordpiece: text is not valid UTF-8 at byte %zu", i);
		const wp_record *r = record(cp);
		if ((rc = lower ? lc_char(e, cp, r) : cs_char(e, cp, r)))
			return rc;
		i += m;
	}
	return lower ? word_end(e) : tok_end(e);
}

int brain__wordpiece_encode(const brain_wordpiece *w, const char *text, size_t len,
                            int32_t **ids, size_t *n)
{
	if (ids)
		*ids = NULL;
	if (n)
		*n = 0;
	if (!w || !ids || !n || (!text && len))
		return brain__err(BRAIN_ENULL, "wordpiece: %s is NULL",
		                  !w ? "tokenizer" : !ids ? "ids" : !n ? "n" : "text");
	enc e;
	memset(&e, 0, sizeof e);
	e.w = w;
	int rc = BRAIN_OK;
	if (!w->lowercase) {
		/* room for a code point after every seg_flush (encode's ASCII) */
		e.seg = brain__grow(NULL, &e.seg_cap, 16, sizeof *e.seg, "wordpiece text", &rc);
	}
	if (!rc)
		rc = encode(&e, (const unsigned char *)text, len);
	brain__free(e.seg);
	brain__free(e.dec);
	brain__free(e.scr);
	if (rc || e.n == 0) {
		brain__free(e.ids);
		return rc;
	}
	*ids = e.ids;
	*n = e.n;
	return BRAIN_OK;
}

/*
 * base/chunk.c - the sentence-aware chunker of braincore/document.h
 * (brain_chunk) and base/chunk.h (brain__chunk_next).
 *
 * A passage is built from its first byte that is not white space: whole
 * sentences are added while the passage still ends within max_bytes of
 * its start (the "stop"), and it ends early at a blank line once it is
 * half full. A first sentence that does not fit is cut: at the last white
 * space that fits, else at the last character boundary that fits (not
 * before a combining mark if another boundary is left). The rest of a cut
 * sentence starts the next passage like any sentence would.
 *
 * Sentence ends are a property of the whole text, whatever passage the
 * scan starts from: the look back of the abbreviation rule reads bytes
 * before the passage, and a passage cut inside a word may start on the
 * closing marks after a terminator, which is then scanned from.
 *
 * Linear time: the scan for a sentence end never reads a byte that is not
 * white space past the stop (a sentence reaching there does not fit), so
 * a call reads its passage, the sentence after it (read again as the next
 * call's first) and at most max_bytes more; a cut reads back at most
 * max_bytes, and two cuts in a row take at least about max_bytes of text.
 * The runs of white space a call crosses are crossed again at most once,
 * by the next call. The look backs are bounded (WORD_MAX, CLOSERS_BACK),
 * so a text such as "a.a.a.a." or ".))))" stays linear.
 */
#include <string.h>

#include "base/chunk.h"

/* ---- characters --------------------------------------------------------- */

/* The length of the white space character at u[i] (i < len), or 0: ASCII
 * space, \t, \n, \v, \f, \r, and U+00A0 and U+3000, which are white space
 * to a reader too. In valid UTF-8, 0xC2 and 0xE3 are only ever lead bytes,
 * so this may be asked at any byte. */
static size_t ws_len(const unsigned char *u, size_t len, size_t i)
{
	unsigned char c = u[i];
	if (c == ' ' || (c >= '\t' && c <= '\r'))
		return 1;
	if (c == 0xC2 && i + 1 < len && u[i + 1] == 0xA0)
		return 2;
	if (c == 0xE3 && i + 2 < len && u[i + 1] == 0x80 && u[i + 2] == 0x80)
		return 3;
	return 0;
}

/* The length of the white space character that ends right before u[i]. */
static size_t ws_len_before(const unsigned char *u, size_t i)
{
	if (i >= 1 && (u[i - 1] == ' ' || (u[i - 1] >= '\t' && u[i - 1] <= '\r')))
		return 1;
	if (i >= 2 && u[i - 2] == 0xC2 && u[i - 1] == 0xA0)
		return 2;
	if (i >= 3 && u[i - 3] == 0xE3 && u[i - 2] == 0x80 && u[i - 1] == 0x80)
		return 3;
	return 0;
}

static size_t skip_ws(const unsigned char *u, size_t len, size_t i)
{
	size_t w;
	while (i < len && (w = ws_len(u, len, i)) > 0)
		i += w;
	return i;
}

/* i moved back over white space, but not before `from`. */
static size_t trim_back(const unsigned char *u, size_t from, size_t i)
{
	size_t w;
	while (i > from && (w = ws_len_before(u, i)) > 0)
		i -= w;
	return i;
}

static size_t char_len(unsigned char lead)
{
	return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

/* The start of the character that ends right before u[i] (i > 0). */
static size_t prev_boundary(const unsigned char *u, size_t i)
{
	do
		i--;
	while (i > 0 && (u[i] & 0xC0) == 0x80);
	return i;
}

/* Does a combining mark (U+0300..U+036F: CC 80..CD AF) start at u[i]? A
 * cut before one would part it from the letter it belongs to. */
static bool combining_at(const unsigned char *u, size_t len, size_t i)
{
	return i + 1 < len && ((u[i] == 0xCC && u[i + 1] >= 0x80 && u[i + 1] <= 0xBF) ||
	                       (u[i] == 0xCD && u[i + 1] >= 0x80 && u[i + 1] <= 0xAF));
}

/* Does s[0..n) start at u[i]? */
static bool is_at(const unsigned char *u, size_t len, size_t i, const char *s, size_t n)
{
	return len - i >= n && memcmp(u + i, s, n) == 0;
}

enum term { T_NONE, T_DOT, T_MARK, T_IDEO };

/* What ends a sentence besides '.', '!' and '?'. The ideographic marks
 * need no white space after them: CJK text has none between sentences. */
static const struct {
	char s[4];
	enum term kind;
} terminators[] = {
	{"\u2026", T_MARK}, /* … */
	{"\u3002", T_IDEO}, /* 。 */
	{"\uFF01", T_IDEO}, /* ！ */
	{"\uFF1F", T_IDEO}, /* ？ */
};

/* The kind of terminator at u[i], and its length in *n. */
static enum term terminator_at(const unsigned char *u, size_t len, size_t i, size_t *n)
{
	unsigned char c = u[i];
	*n = 1;
	if (c == '.')
		return T_DOT;
	if (c == '!' || c == '?')
		return T_MARK;
	if (c != 0xE2 && c != 0xE3 && c != 0xEF) /* the lead bytes of the table's */
		return T_NONE;
	for (size_t k = 0; k < BRAIN_ARRAY_LEN(terminators); k++)
		if (is_at(u, len, i, terminators[k].s, 3)) {
			*n = 3;
			return terminators[k].kind;
		}
	return T_NONE;
}

/* The closing quotes and brackets that may follow a terminator and still
 * belong to its sentence: He said "stop." Then ... (besides ASCII's). */
static const struct {
	char s[4];
	size_t n;
} closers[] = {
	{"\u00BB", 2}, /* » */
	{"\u2019", 3}, /* ’ */
	{"\u201D", 3}, /* ” */
	{"\u203A", 3}, /* › */
	{"\u3009", 3}, /* 〉 */
	{"\u300B", 3}, /* 》 */
	{"\u300D", 3}, /* 」 */
	{"\u300F", 3}, /* 』 */
	{"\u3011", 3}, /* 】 */
	{"\uFF09", 3}, /* ） */
	{"\uFF3D", 3}, /* ］ */
	{"\uFF5D", 3}, /* ｝ */
};

/* The length of the closing mark at u[i] (i < len), or 0. */
static size_t closer_len(const unsigned char *u, size_t len, size_t i)
{
	unsigned char c = u[i];
	if (c == '"' || c == '\'' || c == ')' || c == ']' || c == '}')
		return 1;
	if (c != 0xC2 && c != 0xE2 && c != 0xE3 && c != 0xEF) /* the table's lead bytes */
		return 0;
	for (size_t k = 0; k < BRAIN_ARRAY_LEN(closers); k++)
		if (is_at(u, len, i, closers[k].s, closers[k].n))
			return closers[k].n;
	return 0;
}

/* The words whose '.' does not end a sentence, lower case, compared with
 * the run of ASCII letters and dots before the '.' ("e.g." is "e.g"). */
static const char *const abbreviations[] = {
	"mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc",
	"e.g", "i.e", "fig", "inc", "ltd", "approx", "cf", "al",
};
/* Longer than every word of the table: the look back stops there, so a
 * text such as "a.a.a.a." is not read back to its start at every '.'. */
#define WORD_MAX 8

static bool is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.';
}

/* Is the '.' at u[i] the dot of an initial ("J. Smith": a single capital
 * after the start or white space) or of an abbreviation? "No." is one
 * only before a number ("No. 5"): "the answer is no." ends a sentence. */
static bool is_abbreviation(const unsigned char *u, size_t len, size_t i)
{
	size_t w = i;
	while (w > 0 && i - w <= WORD_MAX && is_word_byte(u[w - 1]))
		w--;
	size_t n = i - w;
	if (n == 0 || n > WORD_MAX)
		return false;
	if (n == 1 && u[w] >= 'A' && u[w] <= 'Z')
		return w == 0 || ws_len_before(u, w) > 0;
	if (n == 2 && (u[w] | 0x20) == 'n' && (u[w + 1] | 0x20) == 'o') {
		size_t j = i + 1;
		while (j < len && (u[j] == ' ' || u[j] == '\t'))
			j++;
		return j < len && u[j] >= '0' && u[j] <= '9';
	}
	for (size_t k = 0; k < BRAIN_ARRAY_LEN(abbreviations); k++) {
		const char *a = abbreviations[k];
		if (strlen(a) != n)
			continue;
		size_t j = 0;
		/* plain ASCII folding: <ctype.h> would follow the locale */
		while (j < n && (u[w + j] | 0x20) == (unsigned char)a[j])
			j++;
		if (j == n)
			return true;
	}
	return false;
}

/* Does the terminator at u[i] (n bytes, of the kind) end a sentence? *end
 * is set either way: after the terminator and its closing marks, where the
 * sentence ends or the scan goes on. Closing marks are not followed past
 * `stop` (a sentence ending there would not fit anyway). */
static bool ends_at(const unsigned char *u, size_t len, size_t i, size_t n, enum term kind,
                    size_t stop, size_t *end)
{
	size_t j = i + n, c;
	while (j < len && j <= stop && (c = closer_len(u, len, j)) > 0)
		j += c;
	*end = j;
	if (kind == T_IDEO)
		return true;
	if (j < len && ws_len(u, len, j) == 0)
		return false;
	return kind != T_DOT || !is_abbreviation(u, len, i);
}

/* At most this many closing marks are looked back over by scan_start. */
#define CLOSERS_BACK 8

/* Where the scan for the sentence at u[s] starts: s, unless a cut inside a
 * word left u[s] among the closing marks after a terminator; then that
 * terminator, so that the sentence end after the marks is still seen. */
static size_t scan_start(const unsigned char *u, size_t len, size_t s)
{
	if (s == 0 || closer_len(u, len, s) == 0)
		return s;
	size_t t = s, n;
	for (int k = 0; k < CLOSERS_BACK && t > 0; k++) {
		size_t p = prev_boundary(u, t);
		if (terminator_at(u, len, p, &n) != T_NONE)
			return p;
		if (closer_len(u, len, p) == 0)
			return s;
		t = p;
	}
	return s;
}

/* ---- sentences ---------------------------------------------------------- */

typedef struct sentence {
	size_t end;  /* after its last byte that is not white space */
	size_t next; /* the start of the next one (len: none) */
	bool para;   /* a blank line comes between the two */
} sentence;

/* Fill out->next and out->para from the white space at u[i..). A blank
 * line is a newline, spaces, tabs or CRs, and a newline. */
static void gap(const unsigned char *u, size_t len, size_t i, sentence *out)
{
	bool line = false; /* after a newline and only spaces, tabs, CRs */
	out->para = false;
	size_t w;
	while (i < len && (w = ws_len(u, len, i)) > 0) {
		if (u[i] == '\n') {
			if (line)
				out->para = true;
			line = true;
		} else if (u[i] != ' ' && u[i] != '\t' && u[i] != '\r') {
			line = false;
		}
		i += w;
	}
	out->next = i;
}

/* The sentence that starts at u[s] (not white space), if it ends by `stop`
 * (its last byte that is not white space is before it): true and *out
 * filled. False if it does not fit: the scan has then read nothing past
 * stop but white space and at most one character and its closing marks. */
static bool next_sentence(const unsigned char *u, size_t len, size_t s, size_t stop, sentence *out)
{
	size_t i = scan_start(u, len, s);
	while (i < len) {
		size_t w = ws_len(u, len, i);
		if (w == 0 && i + char_len(u[i]) > stop)
			return false; /* a character that ends past stop */
		if (u[i] == '\n') {
			size_t k = i + 1;
			while (k < len && (u[k] == ' ' || u[k] == '\t' || u[k] == '\r'))
				k++;
			if (k < len && u[k] == '\n') {
				out->end = trim_back(u, s, i);
				gap(u, len, i, out);
				return true;
			}
			i = k; /* what was skipped is white space, and no terminator */
			continue;
		}
		if (w > 0) {
			i += w;
			continue;
		}
		size_t n, j;
		enum term kind = terminator_at(u, len, i, &n);
		if (kind == T_NONE) {
			i += char_len(u[i]);
			continue;
		}
		bool end = ends_at(u, len, i, n, kind, stop, &j);
		if (j > stop)
			return false;
		if (end) {
			out->end = j;
			gap(u, len, j, out);
			return true;
		}
		i = j;
	}
	out->end = trim_back(u, s, len);
	out->next = len;
	out->para = false;
	return true;
}

/* The end of the first piece of the sentence at u[s] that runs past limit
 * (< len): the last white space at or before limit, trimmed; else the last
 * character boundary at or before it that is not before a combining mark;
 * else the last boundary. Never s: s is not white space, and limit - s is
 * at least BRAIN_CHUNK_MIN, longer than any character. */
static size_t cut(const unsigned char *u, size_t len, size_t s, size_t limit)
{
	for (size_t q = limit; q > s; q--)
		if (ws_len(u, len, q) > 0)
			return trim_back(u, s, q);
	size_t c = s + brain__utf8_floor((const char *)u + s, limit - s);
	for (size_t b = c; b > s; b = prev_boundary(u, b))
		if (!combining_at(u, len, b))
			return b;
	return c;
}

bool brain__chunk_next(const char *text, size_t len, size_t max_bytes, size_t *pos,
                       brain_span *out)
{
	const unsigned char *u = (const unsigned char *)text;
	size_t start = skip_ws(u, len, *pos);
	if (start >= len) {
		*pos = len;
		return false;
	}
	size_t stop = len - start > max_bytes ? start + max_bytes : len;
	sentence st;
	if (!next_sentence(u, len, start, stop, &st)) {
		size_t end = cut(u, len, start, stop);
		out->start = start;
		out->len = end - start;
		*pos = end;
		return true;
	}
	size_t end = st.end, at = st.next;
	while (at < len && !(st.para && end - start >= max_bytes / 2)) {
		if (!next_sentence(u, len, at, stop, &st))
			break; /* at: the next passage starts with it */
		end = st.end;
		at = st.next;
	}
	out->start = start;
	out->len = end - start;
	*pos = at;
	return true;
}

BRAIN_EXPORT int brain_chunk(const char *text, size_t len, size_t max_bytes, brain_span *spans,
                             size_t cap, size_t *n)
{
	if (n)
		*n = 0;
	if (!text || !n)
		return brain__err(BRAIN_ENULL, "chunk: %s is NULL", text ? "n" : "text");
	if (!spans && cap > 0)
		return brain__err(BRAIN_ENULL, "chunk: spans is NULL and cap is %zu", cap);
	if (max_bytes == 0)
		max_bytes = BRAIN_CHUNK_DEFAULT;
	if (max_bytes < BRAIN_CHUNK_MIN || max_bytes > BRAIN_CHUNK_MAX)
		return brain__err(BRAIN_ERANGE, "chunk: max_bytes %zu is outside %u..%u", max_bytes,
		                  (unsigned)BRAIN_CHUNK_MIN, (unsigned)BRAIN_CHUNK_MAX);
	size_t bad = len;
	bool valid = brain__utf8_valid(text, len, &bad);
	/* the first bad byte, whichever kind comes first */
	const char *nul = memchr(text, '\0', bad);
	if (nul)
		return brain__err(BRAIN_EUTF8, "chunk: at byte %zu: expected text, found a NUL byte",
		                  (size_t)(nul - text));
	if (!valid)
		return brain__err(BRAIN_EUTF8, "chunk: at byte %zu: expected UTF-8, found the byte "
		                  "0x%02X", bad, (unsigned char)text[bad]);
	size_t count = 0, pos = 0;
	brain_span sp;
	while (brain__chunk_next(text, len, max_bytes, &pos, &sp)) {
		if (count < cap)
			spans[count] = sp;
		count++;
	}
	*n = count;
	if (count > cap)
		return brain__err(BRAIN_ERANGE, "chunk: the text has %zu passages, room for %zu", count,
		                  cap);
	return BRAIN_OK;
}

/*
 * base/json_lex.c - JSON's lexical pieces (see json_lex.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json_lex.h"

int brain__json_hex4(const char *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		uint32_t d;
		if (c >= '0' && c <= '9')
			d = (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (uint32_t)(c - 'A' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

size_t brain__utf8_put(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xC0 | cp >> 6);
		o[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xE0 | cp >> 12);
		o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		o[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	o[0] = (char)(0xF0 | cp >> 18);
	o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	o[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

int brain__json_int(const char *s, size_t len, int64_t *out)
{
	size_t i = 0;
	bool neg = len && s[0] == '-';
	if (neg)
		i++;
	/* the magnitude: at most 2^63 for a negative number */
	uint64_t limit = neg ? (uint64_t)1 << 63 : (uint64_t)INT64_MAX, v = 0;
	for (; i < len; i++) {
		uint64_t d = (uint64_t)(s[i] - '0');
		if (v > (limit - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = !neg ? (int64_t)v : v == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)v;
	return 0;
}

int brain__json_double(const char *s, size_t len, double *out)
{
	size_t i = 0;
	char small[128];
	size_t need = len + 32; /* the digits, a sign, 'e' and an exponent */
	char *buf = need <= sizeof small ? small : brain__malloc(need);
	if (!buf)
		return brain__oom(need, "a number");
	size_t k = 0;
	if (i < len && s[i] == '-')
		buf[k++] = s[i++];
	long long frac = 0;
	bool in_frac = false;
	for (; i < len && s[i] != 'e' && s[i] != 'E'; i++) {
		if (s[i] == '.') {
			in_frac = true;
			continue;
		}
		buf[k++] = s[i];
		frac += in_frac;
	}
	/* the exponent, saturated: past 10^9 the value is 0 or infinite
	 * anyway, since no token here holds a billion digits */
	long long e = 0;
	if (i < len) {
		i++;
		bool eneg = i < len && s[i] == '-';
		if (i < len && (s[i] == '-' || s[i] == '+'))
			i++;
		for (; i < len; i++)
			if (e < 1000000000)
				e = e * 10 + (s[i] - '0');
		if (eneg)
			e = -e;
	}
	snprintf(buf + k, need - k, "e%lld", e - frac);
	double d = strtod(buf, NULL);
	if (buf != small)
		brain__free(buf);
	if (!isfinite(d))
		return -1;
	*out = d;
	return 0;
}

void brain__json_put(brain_json_out *w, const void *s, size_t n)
{
	if (!w->cut && n < w->size - w->len) /* len < size while not cut */
		memcpy(w->buf + w->len, s, n);
	else
		w->cut = true;
	w->len += n;
}

void brain__json_put_string(brain_json_out *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	static const char plain[] = "\"\\\b\f\n\r\t", letter[] = "\"\\bfnrt";
	const unsigned char *u = (const unsigned char *)s;
	brain__json_put(w, "\"", 1);
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = u[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		brain__json_put(w, s + run, i - run);
		run = i + 1;
		char e[6] = {'\\', 0, 0, 0, 0, 0};
		size_t el = 2;
		const char *at = c ? memchr(plain, c, sizeof plain - 1) : NULL;
		if (at) {
			e[1] = letter[at - plain];
		} else {
			memcpy(e + 1, "u00", 3);
			e[4] = hex[c >> 4];
			e[5] = hex[c & 15];
			el = 6;
		}
		brain__json_put(w, e, el);
	}
	brain__json_put(w, s + run, n - run);
	brain__json_put(w, "\"", 1);
}

void brain__json_put_double(brain_json_out *w, double d)
{
	char out[64];
	int n = snprintf(out, sizeof out, "%.17g", d);
	size_t len = n > 0 && n < (int)sizeof out ? (size_t)n : 0;
	out[len] = '\0';
	/* all but the decimal point is sign, digits and 'e' */
	size_t at = strspn(out, "+-0123456789eE");
	if (at < len) {
		size_t dpl = strcspn(out + at, "+-0123456789eE");
		out[at] = '.';
		memmove(out + at + 1, out + at + dpl, len - at - dpl + 1);
		len -= dpl - 1;
	}
	if (!strpbrk(out, ".eE") && len + 2 < sizeof out) {
		memcpy(out + len, ".0", 3);
		len += 2;
	}
	brain__json_put(w, out, len);
}

size_t brain__json_end(brain_json_out *w)
{
	if (w->size == 0)
		return w->len;
	if (w->cut || w->len >= w->size)
		w->buf[0] = '\0';
	else
		w->buf[w->len] = '\0';
	return w->len;
}

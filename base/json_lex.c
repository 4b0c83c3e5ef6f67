/*
 * base/json_lex.c - JSON's lexical pieces (see json_lex.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

/*
 * base/utf8.h - decoding one UTF-8 character, for the text code that walks
 * characters (the Pancreas, the WordPiece tokenizer).
 */
#ifndef BRAIN_BASE_UTF8_H
#define BRAIN_BASE_UTF8_H

#include "base/base.h"

/* Length of the well-formed multi-byte character at p[0..avail), lead
 * byte >= 0x80, with its code point in *cp; 0 if it is ill-formed. The
 * ranges of the second byte are those of the Unicode Standard's table 3-7,
 * which excludes overlong forms, surrogates and code points past U+10FFFF. */
static inline size_t brain__utf8_decode(const unsigned char *p, size_t avail, uint32_t *cp)
{
	unsigned c = p[0];
	if (c < 0xC2)
		return 0; /* continuation byte, or 0xC0/0xC1 (overlong) */
	if (c < 0xE0) {
		if (avail < 2 || (p[1] & 0xC0) != 0x80)
			return 0;
		*cp = (uint32_t)(c & 0x1F) << 6 | (p[1] & 0x3F);
		return 2;
	}
	if (c < 0xF0) {
		unsigned lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
		if (avail < 3 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80)
			return 0;
		*cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
		return 3;
	}
	if (c < 0xF5) {
		unsigned lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
		if (avail < 4 || p[1] < lo || p[1] > hi || (p[2] & 0xC0) != 0x80 ||
		    (p[3] & 0xC0) != 0x80)
			return 0;
		*cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
		      (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
		return 4;
	}
	return 0; /* 0xF5..0xFF */
}

#endif /* BRAIN_BASE_UTF8_H */

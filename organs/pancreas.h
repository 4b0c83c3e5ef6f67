/*
 * organs/pancreas.h - text in: UTF-8 validation, normalisation, case
 * folding, word tokens and character n-grams.
 *
 * Other organs reach the Pancreas only through the Spine (BRAIN_MSG_TEXT_*
 * in spine/messages.h); the functions below are its implementation, exposed
 * for its unit tests and for the Spine's organ table.
 *
 * Normalisation (the "search key" of a text): every code point is replaced
 * by its compatibility decomposition (NFKD) with combining marks removed and
 * full Unicode case folding applied, so "Café", "CAFE", "cafe\u0301" and
 * "ｃａｆｅ" all become "cafe", and "Straße" becomes "strasse". Letters and
 * digits form words; everything else separates them, except an apostrophe
 * between two letters (dropped: "don't" -> "dont") and a '.' or ',' between
 * two digits (kept: "3.14"). Han, Hiragana and Katakana characters are each a
 * word of their own, as they are not separated by spaces. Tables come from
 * Unicode 14 (tools/gen_unicode_tables.py).
 */
#ifndef BRAIN_ORGANS_PANCREAS_H
#define BRAIN_ORGANS_PANCREAS_H

#include "base/base.h"
#include "spine/spine.h"
#include "base/analysis.h"

/* 0 if s[0..len) is valid UTF-8 (shortest forms only, no surrogates, at most
 * U+10FFFF, no NUL bytes), else BRAIN_EUTF8 with *bad_offset (if not NULL)
 * set to the offset of the first offending byte. Sets no error message. */
int brain__utf8_check(const char *s, size_t len, size_t *bad_offset);

/* Validate a caller's text: not NULL (BRAIN_ENULL), at most max_bytes bytes
 * (BRAIN_ETOOLONG, found with strnlen so a huge string is not scanned to its
 * end), not empty (BRAIN_EEMPTY), valid UTF-8 (BRAIN_EUTF8, the message
 * names the byte offset). `what` starts the message ("remember: text").
 * On success *len is the length in bytes. */
int brain__text_check(const char *text, size_t max_bytes, const char *what, size_t *len);

/* Normalise valid UTF-8 text[0..len) and split it into words and, if
 * gram_max >= gram_min >= 1, character n-grams with gram_min <= n <= gram_max.
 * Returns 0 or BRAIN_ENOMEM (the analysis is then empty but reusable).
 * A text with no letters or digits gives zero words; that is not an error
 * here. */
int brain__analyze(const char *text, size_t len, int gram_min, int gram_max,
                   brain_analysis *out);

extern const brain_organ brain__organ_pancreas;

#endif /* BRAIN_ORGANS_PANCREAS_H */

/*
 * tools/cli_json.c - the JSON writer of the braincore command-line tool
 * (see cli_json.h). Pretty-prints with two spaces per level, or writes
 * one line (compact).
 */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli_json.h"

void cli_json_init(cli_json *j)
{
	memset(j, 0, sizeof *j);
}

void cli_json_free(cli_json *j)
{
	free(j->data);
	memset(j, 0, sizeof *j);
}

void cli_json_reset(cli_json *j)
{
	char *data = j->data;
	size_t cap = j->cap;
	int compact = j->compact;
	memset(j, 0, sizeof *j);
	j->data = data;
	j->cap = cap;
	j->compact = compact;
	if (data)
		data[0] = '\0';
}

static void put(cli_json *j, const char *s, size_t n)
{
	if (j->failed)
		return;
	if (n > SIZE_MAX - 1 - j->len) {
		j->failed = 1;
		return;
	}
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		while (cap < j->len + n + 1) {
			if (cap > SIZE_MAX / 2) {
				cap = j->len + n + 1;
				break;
			}
			cap *= 2;
		}
		char *p = realloc(j->data, cap);
		if (!p) {
			j->failed = 1;
			return;
		}
		j->data = p;
		j->cap = cap;
	}
	memcpy(j->data + j->len, s, n);
	j->len += n;
	j->data[j->len] = '\0';
}

static void puts_(cli_json *j, const char *s)
{
	put(j, s, strlen(s));
}

static void newline(cli_json *j)
{
	if (j->compact)
		return;
	put(j, "\n", 1);
	for (int i = 0; i < j->depth; i++)
		put(j, "  ", 2);
}

/* Before any value or key: the comma and line break its container needs. */
static void before_value(cli_json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->depth == 0)
		return;
	if (j->count[j->depth - 1]++ > 0)
		put(j, ",", 1);
	newline(j);
}

static void begin(cli_json *j, const char *open)
{
	before_value(j);
	put(j, open, 1);
	if (j->depth >= CLI_JSON_MAX_DEPTH) {
		j->failed = 1;
		return;
	}
	j->count[j->depth++] = 0;
}

static void end(cli_json *j, const char *close)
{
	if (j->depth == 0) {
		j->failed = 1;
		return;
	}
	size_t n = j->count[--j->depth];
	if (n > 0)
		newline(j);
	put(j, close, 1);
}

void cli_json_begin_object(cli_json *j)
{
	begin(j, "{");
}

void cli_json_end_object(cli_json *j)
{
	end(j, "}");
}

void cli_json_begin_array(cli_json *j)
{
	begin(j, "[");
}

void cli_json_end_array(cli_json *j)
{
	end(j, "]");
}

size_t cli_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	size_t len;
	unsigned char lo = 0x80, hi = 0xBF;
	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xBF)
			return 0;
	return len;
}

static void escaped(cli_json *j, const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0; /* bytes [i - run, i) are waiting to be copied */
	put(j, "\"", 1);
	while (i < len) {
		unsigned char c = s[i];
		const char *esc = NULL;
		char buf[8];
		size_t seq = 1;
		if (c == '"') {
			esc = "\\\"";
		} else if (c == '\\') {
			esc = "\\\\";
		} else if (c == '\n') {
			esc = "\\n";
		} else if (c == '\r') {
			esc = "\\r";
		} else if (c == '\t') {
			esc = "\\t";
		} else if (c == '\b') {
			esc = "\\b";
		} else if (c == '\f') {
			esc = "\\f";
		} else if (c < 0x20 || c == 0x7F) {
			snprintf(buf, sizeof buf, "\\u%04x", (unsigned)c);
			esc = buf;
		} else if (c >= 0x80) {
			seq = cli_utf8_seq(s + i, len - i);
			if (seq == 0) {
				esc = "\\ufffd";
				seq = 1;
			}
		}
		if (esc) {
			put(j, (const char *)s + i - run, run);
			run = 0;
			puts_(j, esc);
			i += seq;
		} else {
			run += seq;
			i += seq;
		}
	}
	put(j, (const char *)s + i - run, run);
	put(j, "\"", 1);
}

void cli_json_key(cli_json *j, const char *key)
{
	before_value(j);
	escaped(j, key, strlen(key));
	put(j, ": ", j->compact ? 1 : 2);
	j->after_key = 1;
}

void cli_json_string(cli_json *j, const char *s)
{
	if (!s) {
		cli_json_null(j);
		return;
	}
	cli_json_string_n(j, s, strlen(s));
}

void cli_json_string_n(cli_json *j, const char *s, size_t len)
{
	before_value(j);
	escaped(j, s, len);
}

void cli_json_raw(cli_json *j, const char *json)
{
	before_value(j);
	puts_(j, json);
}

void cli_json_raw_n(cli_json *j, const char *json, size_t len)
{
	before_value(j);
	put(j, json, len);
}

void cli_json_uint(cli_json *j, uint64_t v)
{
	char buf[32];
	before_value(j);
	snprintf(buf, sizeof buf, "%" PRIu64, v);
	puts_(j, buf);
}

void cli_json_int(cli_json *j, int64_t v)
{
	char buf[32];
	before_value(j);
	snprintf(buf, sizeof buf, "%" PRId64, v);
	puts_(j, buf);
}

void cli_json_number(cli_json *j, double v, int digits)
{
	char buf[64];
	if (!isfinite(v)) {
		cli_json_null(j);
		return;
	}
	if (digits < 0)
		digits = 0;
	if (digits > 17)
		digits = 17;
	before_value(j);
	/* %f of a huge value is long but finite; 64 bytes hold any double
	 * below 1e40, and %g is used beyond that. */
	if (fabs(v) < 1e30)
		snprintf(buf, sizeof buf, "%.*f", digits, v);
	else
		snprintf(buf, sizeof buf, "%.17g", v);
	/* Trailing zeros say nothing: 0.500 is written 0.5, 1.000 is 1. */
	if (strchr(buf, '.') && !strchr(buf, 'e')) {
		size_t n = strlen(buf);
		while (buf[n - 1] == '0')
			buf[--n] = '\0';
		if (buf[n - 1] == '.')
			buf[--n] = '\0';
	}
	/* "-0" is valid JSON but looks odd: write 0 for it. */
	if (buf[0] == '-' && strspn(buf + 1, "0.") == strlen(buf + 1))
		memmove(buf, buf + 1, strlen(buf));
	puts_(j, buf);
}

void cli_json_float(cli_json *j, float v)
{
	char buf[32];
	if (!isfinite(v)) {
		cli_json_null(j);
		return;
	}
	/* 9 significant digits always read back to the same float */
	for (int digits = 6; digits <= 9; digits++) {
		snprintf(buf, sizeof buf, "%.*g", digits, (double)v);
		if (strtof(buf, NULL) == v)
			break;
	}
	before_value(j);
	puts_(j, buf);
}

void cli_json_bool(cli_json *j, int v)
{
	before_value(j);
	puts_(j, v ? "true" : "false");
}

void cli_json_null(cli_json *j)
{
	before_value(j);
	puts_(j, "null");
}

int cli_json_write(cli_json *j, FILE *f)
{
	if (j->failed || j->depth != 0 || !j->data)
		return -1;
	if (fwrite(j->data, 1, j->len, f) != j->len || fputc('\n', f) == EOF)
		return -1;
	return 0;
}

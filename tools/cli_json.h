/*
 * tools/cli_json.h - a small JSON writer for the braincore command-line tool.
 *
 * Builds one document in a growable buffer, so that nothing reaches stdout
 * unless the whole command succeeded. Strings are escaped for any input:
 * quotes, backslashes and control characters become escapes, and bytes that
 * are not valid UTF-8 become U+FFFD, so the output is always valid JSON.
 * Non-finite numbers are written as null. Pretty-printed by default;
 * compact (one line, for JSON Lines) when `compact` is set after
 * cli_json_init().
 */
#ifndef BRAINCORE_CLI_JSON_H
#define BRAINCORE_CLI_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CLI_JSON_MAX_DEPTH 32

typedef struct cli_json {
	char *data;
	size_t len, cap;
	int failed;                        /* out of memory or nesting too deep */
	int depth;
	size_t count[CLI_JSON_MAX_DEPTH];  /* members written at each depth */
	int after_key;                     /* a key was written, its value comes next */
	int compact;                       /* no line breaks or indentation */
} cli_json;

void cli_json_init(cli_json *j);
void cli_json_free(cli_json *j);
/* Empty the document for the next one, keeping the buffer and `compact`. */
void cli_json_reset(cli_json *j);

void cli_json_begin_object(cli_json *j);
void cli_json_end_object(cli_json *j);
void cli_json_begin_array(cli_json *j);
void cli_json_end_array(cli_json *j);

/* A member name inside an object; the value follows with any value call. */
void cli_json_key(cli_json *j, const char *key);

void cli_json_string(cli_json *j, const char *s);
void cli_json_string_n(cli_json *j, const char *s, size_t len);
void cli_json_uint(cli_json *j, uint64_t v);
void cli_json_int(cli_json *j, int64_t v);
/* A number with `digits` digits after the point; null if not finite. */
void cli_json_number(cli_json *j, double v, int digits);
/* A float in the fewest digits that read back (strtof) to the same float:
 * 0.5f is 0.5, 0.1f is 0.1; null if not finite. */
void cli_json_float(cli_json *j, float v);
void cli_json_bool(cli_json *j, int v);
void cli_json_null(cli_json *j);
/* A value that is a whole JSON document already (the library's metadata). */
void cli_json_raw(cli_json *j, const char *json);
/* The same for `len` bytes (a number as the input spelled it). */
void cli_json_raw_n(cli_json *j, const char *json, size_t len);

/* Write the document and a newline to f. Returns 0, or -1 if building the
 * document failed (out of memory) or writing failed. */
int cli_json_write(cli_json *j, FILE *f);

/* Length of the well-formed UTF-8 sequence at s (n >= 1 bytes left), or 0
 * if the bytes there are not one (overlong forms, surrogates and values
 * above U+10FFFF are not). */
size_t cli_utf8_seq(const unsigned char *s, size_t n);

#endif /* BRAINCORE_CLI_JSON_H */

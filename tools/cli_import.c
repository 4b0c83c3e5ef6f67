/*
 * tools/cli_import.c - `import`: memories from JSON Lines (cli_export.c
 * writes them).
 *
 * A line is one JSON object (cli_jread.c reads it strictly):
 *
 *   {"id":7,"text":"...","key":"user:1","importance":0.5,"created":1700000000000,
 *    "valid_from":1700000000000,"valid_until":1800000000000,
 *    "metadata":{"kind":"note"},"vector":[0.12,-0.03,...]}
 *
 * export writes every memory so (key, validity, metadata and vector only
 * where there are any; a memory without text always with its vector);
 * import reads it back: a text is remembered in one change with its
 * metadata and its vector as given (under its key with brain_upsert, else
 * brain_remember_full; its validity is a second change, brain_set_valid),
 * a row without text is a vector added under its id (brain_add_with).
 * "created" is the library's to set and "id" of a text the brain's to
 * give: import reads both and uses neither. Texts without key, vector or
 * validity go to brain_remember_batch, --batch at a time.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <braincore.h>

#include "cli.h"
#include "cli_jread.h"
#include "cli_json.h"
#include "cli_output.h"
#include "cli_progress.h"

#define DEFAULT_IMPORTANCE 0.5f
#define DEFAULT_BATCH 512
/* Skipped lines import's JSON summary names (it counts them all). */
#define MAX_SKIPPED_LISTED 1000

/* The fields of a line (bits, for duplicates). */
enum { F_TEXT = 1, F_KEY = 2, F_IMPORTANCE = 4, F_METADATA = 8, F_VECTOR = 16, F_ID = 32,
       F_CREATED = 64, F_VALID_FROM = 128, F_VALID_UNTIL = 256 };

static const struct {
	const char *name;
	unsigned bit;
} g_fields[] = {
	{"text", F_TEXT},         {"key", F_KEY},       {"importance", F_IMPORTANCE},
	{"metadata", F_METADATA}, {"vector", F_VECTOR}, {"id", F_ID},
	{"created", F_CREATED},   {"valid_from", F_VALID_FROM}, {"valid_until", F_VALID_UNTIL},
};

/* One line as read. Every pointer is owned (malloc) or NULL: none. */
typedef struct row {
	unsigned long line;
	char *text;
	size_t text_len;
	char *key;
	size_t key_len;
	int has_importance;
	float importance;
	char *meta; /* the metadata object as the line spelled it */
	float *vector;
	int has_id;
	brain_id id;
	int64_t valid_from, valid_until; /* BRAIN_TIME_NONE: none */
} row;

typedef struct importer {
	const cli *c;
	brain_t *b;
	const char *shown; /* the file's name for messages */
	uint32_t dims;
	float importance; /* of rows that give none */
	size_t batch_max;
	/* texts waiting for brain_remember_batch, all of one importance */
	char **texts, **metas;
	unsigned long *lines;
	brain_id *ids;
	size_t n;
	float batch_importance;
	/* the count so far */
	uint64_t rows, imported, skipped;
	unsigned long *skipped_lines;
	size_t nskipped_lines;
	/* what stopped the import */
	unsigned long stop_line;
	int stop_code;
	char stop_msg[1024];
	cli_progress progress;
	double build_secs; /* building the graph at the end */
} importer;

static void row_free(row *r)
{
	free(r->text);
	free(r->key);
	free(r->meta);
	free(r->vector);
	memset(r, 0, sizeof *r);
}

/* A line's own fault: with --skip-bad it is skipped. Others (the disk,
 * memory, the brain's limits) stop the import whatever the options. */
static int is_line_error(int code)
{
	switch (code) {
	case BRAIN_EUTF8:
	case BRAIN_EEMPTY:
	case BRAIN_ETOOLONG:
	case BRAIN_ERANGE:
	case BRAIN_EJSON:
	case BRAIN_ETYPE:
	case BRAIN_EDIM:
	case BRAIN_ENONFINITE:
	case BRAIN_EZEROVEC:
	case BRAIN_EEXISTS:
	case BRAIN_EINVAL:
		return 1;
	default:
		return 0;
	}
}

/* A bad line: reported; 0 if it is skipped and the import goes on, -1 if
 * it stops the import (`fatal`: whatever --skip-bad says). */
static int stop_or_skip(importer *im, unsigned long line, int code, const char *msg, int fatal)
{
	int skip = !fatal && im->c->skip_bad && is_line_error(code);
	if (!msg || !*msg)
		msg = brain_strerror(code);
	cli_progress_clear(&im->progress);
	fprintf(stderr, "braincore: %s:%lu: %s: %s%s\n", im->shown, line, brain_error_name(code),
	        msg, skip ? " (line skipped)" : "");
	if (!skip) {
		im->stop_line = line;
		im->stop_code = code;
		snprintf(im->stop_msg, sizeof im->stop_msg, "%s", msg);
		return -1;
	}
	im->skipped++;
	if (im->nskipped_lines < MAX_SKIPPED_LISTED)
		im->skipped_lines[im->nskipped_lines++] = line;
	return 0;
}

static int bad_line(importer *im, unsigned long line, int code, const char *msg)
{
	return stop_or_skip(im, line, code, msg, 0);
}

/* A refusal by the library for the line (`fatal`: stop whatever it is). */
static int refused_ex(importer *im, unsigned long line, int code, int fatal)
{
	char msg[1024];
	snprintf(msg, sizeof msg, "%s", brain_errmsg());
	return stop_or_skip(im, line, code, msg, fatal);
}

static int refused(importer *im, unsigned long line, int code)
{
	return refused_ex(im, line, code, 0);
}

static void batch_drop(importer *im, size_t from)
{
	for (size_t i = from; i < im->n; i++) {
		free(im->texts[i]);
		free(im->metas[i]);
	}
	im->n = 0;
}

/* Remember the texts waiting, in one batch; if the batch refuses one,
 * those it did not make one by one. 0, or -1: stop. */
static int flush(importer *im)
{
	if (im->n == 0)
		return 0;
	int any_meta = 0;
	for (size_t i = 0; i < im->n; i++) {
		im->ids[i] = BRAIN_ID_NONE;
		any_meta |= im->metas[i] != NULL;
	}
	int rc = brain_remember_batch(im->b, (const char *const *)im->texts, im->n,
	                              im->batch_importance,
	                              any_meta ? (const char *const *)im->metas : NULL, im->ids);
	if (rc == BRAIN_OK) {
		im->imported += im->n;
		batch_drop(im, 0);
		return 0;
	}
	/* the texts the batch made stay (a failure of the disk or memory
	 * midway); the rest one by one, so that a bad one is named (and the
	 * lines before it imported, as without batches) */
	size_t made = 0;
	while (made < im->n && im->ids[made] != BRAIN_ID_NONE)
		made++;
	im->imported += made;
	int stop = 0;
	for (size_t i = made; i < im->n && !stop; i++) {
		brain_id id;
		rc = brain_remember_n(im->b, im->texts[i], strlen(im->texts[i]), im->batch_importance,
		                      im->metas[i], &id);
		if (rc)
			stop = refused(im, im->lines[i], rc);
		else
			im->imported++;
	}
	batch_drop(im, 0);
	return stop;
}

/* x as a float; beyond the floats' range an infinity (a cast would be
 * undefined), which the library refuses as it refuses 1e999. */
static float to_float(double x)
{
	if (x > (double)FLT_MAX)
		return INFINITY;
	if (x < -(double)FLT_MAX)
		return -INFINITY;
	return (float)x;
}

/* The line being read is bad: the texts before it waiting in the batch
 * are remembered first (they come before it). 0 to go on, -1: stop. */
static int row_bad(importer *im, unsigned long line, int code, const char *msg)
{
	if (flush(im))
		return -1;
	return bad_line(im, line, code, msg);
}

/* Parse the members of the line's object into *r. 0, or -1 with a bad
 * line reported (its return in *verdict). */
static int read_row(importer *im, const cli_jdoc *d, row *r, int *verdict)
{
	char msg[256];
	int code = BRAIN_EJSON;
	unsigned seen = 0;
	r->valid_from = r->valid_until = BRAIN_TIME_NONE;
	if (d->nodes[0].type != CLI_J_OBJECT) {
		snprintf(msg, sizeof msg, "a line must be a JSON object {\"text\": ...}");
		goto bad;
	}
	for (size_t k = 1, m = 0; m < d->nodes[0].count; m++, k = d->nodes[k + 1].next) {
		size_t v = k + 1;
		unsigned bit = 0;
		const char *name = NULL;
		for (size_t f = 0; f < sizeof g_fields / sizeof g_fields[0]; f++)
			if (cli_jstring_is(d, k, g_fields[f].name)) {
				bit = g_fields[f].bit;
				name = g_fields[f].name;
			}
		if (!bit) {
			char *got = NULL;
			size_t len;
			if (cli_jstring(d, k, &got, &len))
				return *verdict = row_bad(im, r->line, BRAIN_ENOMEM, "out of memory"), -1;
			snprintf(msg, sizeof msg, "unknown field \"%.64s\" (a line has text, key, importance, "
			         "metadata, vector, id, created, valid_from, valid_until)", got);
			free(got);
			goto bad;
		}
		if (seen & bit) {
			snprintf(msg, sizeof msg, "\"%s\" is given twice", name);
			goto bad;
		}
		seen |= bit;
		cli_jtype t = d->nodes[v].type;
		if (t == CLI_J_NULL)
			continue; /* none */
		int ok = 1;
		switch (bit) {
		case F_TEXT:
		case F_KEY:
			ok = t == CLI_J_STRING;
			if (ok && cli_jstring(d, v, bit == F_TEXT ? &r->text : &r->key,
			                      bit == F_TEXT ? &r->text_len : &r->key_len))
				return *verdict = row_bad(im, r->line, BRAIN_ENOMEM, "out of memory"), -1;
			break;
		case F_IMPORTANCE: {
			double x = 0;
			ok = !cli_jdouble(d, v, &x);
			r->has_importance = 1;
			r->importance = to_float(x); /* the library checks [0, 1] */
			break;
		}
		case F_METADATA:
			ok = t == CLI_J_OBJECT;
			if (ok) {
				size_t len = d->nodes[v].end - d->nodes[v].start;
				r->meta = malloc(len + 1);
				if (!r->meta)
					return *verdict = row_bad(im, r->line, BRAIN_ENOMEM, "out of memory"), -1;
				memcpy(r->meta, d->text + d->nodes[v].start, len);
				r->meta[len] = '\0';
			}
			break;
		case F_VECTOR: {
			ok = t == CLI_J_ARRAY;
			if (!ok)
				break;
			if (d->nodes[v].count != im->dims) {
				snprintf(msg, sizeof msg, "the vector has %zu numbers; the brain's vectors have "
				         "%" PRIu32 " dimensions", d->nodes[v].count, im->dims);
				code = BRAIN_EDIM;
				goto bad;
			}
			r->vector = malloc((size_t)im->dims * sizeof *r->vector);
			if (!r->vector)
				return *verdict = row_bad(im, r->line, BRAIN_ENOMEM, "out of memory"), -1;
			size_t item = v + 1;
			for (uint32_t i = 0; i < im->dims && ok; i++, item = d->nodes[item].next) {
				double x = 0;
				ok = !cli_jdouble(d, item, &x);
				r->vector[i] = to_float(x); /* the library refuses what is not finite */
			}
			if (!ok) {
				snprintf(msg, sizeof msg, "\"vector\" must be an array of numbers");
				goto bad;
			}
			break;
		}
		case F_ID:
			r->has_id = 1;
			ok = !cli_juint64(d, v, &r->id) && r->id != BRAIN_ID_NONE;
			if (!ok) {
				snprintf(msg, sizeof msg, "\"id\" must be a whole number from 0 to 2^64 - 2");
				goto bad;
			}
			break;
		case F_CREATED:
			ok = t == CLI_J_NUMBER; /* the library sets it */
			break;
		case F_VALID_FROM:
		case F_VALID_UNTIL:
			ok = !cli_jint64(d, v, bit == F_VALID_FROM ? &r->valid_from : &r->valid_until);
			if (!ok) {
				snprintf(msg, sizeof msg, "\"%s\" must be a whole number of milliseconds since "
				         "the epoch", name);
				goto bad;
			}
			break;
		}
		if (!ok) {
			const char *want = bit == F_TEXT || bit == F_KEY ? "a string"
			                   : bit == F_METADATA           ? "an object"
			                   : bit == F_VECTOR             ? "an array of numbers"
			                                                 : "a number";
			snprintf(msg, sizeof msg, "\"%s\" must be %s (or null)", name, want);
			goto bad;
		}
	}
	return 0;
bad:
	*verdict = row_bad(im, r->line, code, msg);
	return -1;
}

/* Remember (or add) the row. 0, or -1: stop. */
static int apply_row(importer *im, row *r)
{
	brain_t *b = im->b;
	const char *nul = r->text ? memchr(r->text, '\0', r->text_len) : NULL;
	char msg[160];
	if (nul) {
		snprintf(msg, sizeof msg, "the text holds a NUL byte (\\u0000) at byte %zu",
		         (size_t)(nul - r->text));
		return row_bad(im, r->line, BRAIN_EUTF8, msg);
	}
	if (r->key && strlen(r->key) != r->key_len)
		return row_bad(im, r->line, BRAIN_EUTF8, "the key holds a NUL byte (\\u0000)");
	if (r->valid_from != BRAIN_TIME_NONE && r->valid_until != BRAIN_TIME_NONE &&
	    r->valid_from >= r->valid_until)
		return row_bad(im, r->line, BRAIN_ERANGE, "\"valid_from\" must come before "
		                "\"valid_until\"");
	float imp = r->has_importance ? r->importance : im->importance;
	int validity = r->valid_from != BRAIN_TIME_NONE || r->valid_until != BRAIN_TIME_NONE;
	brain_id id = BRAIN_ID_NONE;
	int rc;
	if (!r->text) {
		if (!r->vector || !r->has_id || r->key || r->has_importance)
			return row_bad(im, r->line, BRAIN_EJSON,
			                r->vector || r->has_id
			                    ? "a line without \"text\" is a vector: \"id\" and \"vector\" "
			                      "(and \"metadata\"), no \"key\" or \"importance\""
			                    : "a line needs \"text\" (or \"id\" and \"vector\")");
		if (flush(im))
			return -1;
		id = r->id;
		rc = brain_add_with(b, id, r->vector, r->meta);
	} else if (r->key) {
		if (flush(im))
			return -1;
		rc = brain_upsert(b, r->key, r->text, r->text_len, r->vector, imp, r->meta, &id);
	} else if (r->vector || validity) {
		if (flush(im))
			return -1;
		/* text, vector (or the embedder's) and metadata: one change */
		rc = brain_remember_full(b, r->text, r->text_len, r->vector, imp, r->meta, &id);
	} else {
		if (im->n > 0 && imp != im->batch_importance && flush(im))
			return -1;
		im->batch_importance = imp;
		im->texts[im->n] = r->text;
		im->metas[im->n] = r->meta;
		im->lines[im->n] = r->line;
		im->n++;
		r->text = r->meta = NULL; /* the batch's now */
		return im->n == im->batch_max ? flush(im) : 0;
	}
	if (rc)
		return refused(im, r->line, rc);
	im->imported++;
	if (validity) {
		rc = brain_set_valid(b, id, r->valid_from, r->valid_until);
		if (rc) {
			fprintf(stderr, "braincore: memory %" PRIu64 " was stored without its validity\n",
			        id);
			return refused_ex(im, r->line, rc, 1);
		}
	}
	return 0;
}

/* The longest line import reads: a text at the library's default limit
 * with every byte escaped (\u00XX, 6 bytes), metadata at its limit (64 KiB)
 * escaped the same way, a vector of dims numbers of up to 32 characters,
 * and room for the rest. A longer line is refused without holding it (a
 * line of gigabytes would otherwise be read whole and parsed). */
static size_t line_limit(uint32_t dims)
{
	return 6u * BRAIN_DEFAULT_MAX_TEXT_BYTES + 6u * 65536u + 32u * (size_t)dims + 65536u;
}

enum { LINE_EOF = 0, LINE_OK = 1, LINE_TOO_LONG = 2, LINE_READ_ERROR = 3, LINE_OUT_OF_MEMORY = 4 };

/* Read the next line of f (with its newline; NUL bytes kept, the parser
 * refuses them with their offset) into *buf, grown as needed up to max
 * bytes; *len its bytes. A line longer than max is read to its end and
 * dropped (LINE_TOO_LONG, *len all its bytes). */
static int read_line(FILE *f, char **buf, size_t *cap, size_t max, size_t *len)
{
	size_t n = 0, total = 0;
	int c, ret = LINE_OK;
	flockfile(f);
	while ((c = getc_unlocked(f)) != EOF) {
		total++;
		if (ret == LINE_OK && n == max)
			ret = LINE_TOO_LONG;
		if (ret == LINE_OK) {
			if (n + 1 > *cap) {
				size_t want = *cap ? *cap * 2 : 4096;
				char *grown = realloc(*buf, want);
				if (!grown) {
					ret = LINE_OUT_OF_MEMORY;
					break;
				}
				*buf = grown;
				*cap = want;
			}
			(*buf)[n++] = (char)c;
		}
		if (c == '\n')
			break;
	}
	int error = ferror(f);
	funlockfile(f);
	*len = ret == LINE_OK ? n : total;
	if (ret != LINE_OK)
		return ret;
	if (error)
		return LINE_READ_ERROR;
	return total ? LINE_OK : LINE_EOF;
}

/* One line of the file: blank lines are skipped. 0, or -1: stop. */
static int import_line(importer *im, cli_jdoc *d, char *line, size_t len, unsigned long lineno)
{
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) {
		line += 3; /* a byte order mark */
		len -= 3;
	}
	size_t blank = 0;
	while (blank < len && (line[blank] == ' ' || line[blank] == '\t'))
		blank++;
	if (blank == len)
		return 0;
	im->rows++;
	int rc = cli_jparse(d, line, len);
	if (rc == -2)
		return row_bad(im, lineno, BRAIN_ENOMEM, "out of memory");
	if (rc)
		return row_bad(im, lineno, d->bad_utf8 ? BRAIN_EUTF8 : BRAIN_EJSON, d->error);
	row r;
	memset(&r, 0, sizeof r);
	r.line = lineno;
	int verdict = 0;
	if (read_row(im, d, &r, &verdict) == 0)
		verdict = apply_row(im, &r);
	row_free(&r);
	return verdict;
}

static void import_summary_json(const importer *im, const char *file, double secs, int ok)
{
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "file");
	cli_json_string(&j, file);
	cli_json_key(&j, "ok");
	cli_json_bool(&j, ok);
	cli_json_key(&j, "lines");
	cli_json_uint(&j, im->rows);
	cli_json_key(&j, "imported");
	cli_json_uint(&j, im->imported);
	cli_json_key(&j, "skipped");
	cli_json_uint(&j, im->skipped);
	cli_json_key(&j, "skipped_lines");
	cli_json_begin_array(&j);
	for (size_t i = 0; i < im->nskipped_lines; i++)
		cli_json_uint(&j, im->skipped_lines[i]);
	cli_json_end_array(&j);
	cli_json_key(&j, "seconds");
	cli_json_number(&j, secs, 3);
	cli_json_key(&j, "graph_seconds");
	cli_json_number(&j, im->build_secs, 3);
	cli_json_key(&j, "error");
	if (im->stop_line || im->stop_code) {
		cli_json_begin_object(&j);
		cli_json_key(&j, "line");
		cli_json_uint(&j, im->stop_line);
		cli_json_key(&j, "code");
		cli_json_string(&j, brain_error_name(im->stop_code));
		cli_json_key(&j, "message");
		cli_json_string(&j, im->stop_msg);
		cli_json_end_object(&j);
	} else {
		cli_json_null(&j);
	}
	cli_json_end_object(&j);
	cli_finish_output(&j);
	cli_json_free(&j);
}

static int importer_init(importer *im, const cli *c, brain_t *b, const char *shown)
{
	memset(im, 0, sizeof *im);
	im->c = c;
	im->b = b;
	im->shown = shown;
	im->dims = brain_dimensions(b);
	im->importance = CLI_HAS(c, IMPORTANCE) ? c->importance : DEFAULT_IMPORTANCE;
	im->batch_max = CLI_HAS(c, BATCH) ? c->batch : DEFAULT_BATCH;
	im->texts = calloc(im->batch_max, sizeof *im->texts);
	im->metas = calloc(im->batch_max, sizeof *im->metas);
	im->lines = calloc(im->batch_max, sizeof *im->lines);
	im->ids = calloc(im->batch_max, sizeof *im->ids);
	im->skipped_lines = calloc(MAX_SKIPPED_LISTED, sizeof *im->skipped_lines);
	return im->texts && im->metas && im->lines && im->ids && im->skipped_lines ? 0 : -1;
}

static void importer_free(importer *im)
{
	batch_drop(im, 0);
	free(im->texts);
	free(im->metas);
	free(im->lines);
	free(im->ids);
	free(im->skipped_lines);
}

/* `import FILE|-`. */
int cli_cmd_import(const cli *c, brain_t *b)
{
	const char *path = c->args[0];
	const char *shown;
	FILE *f = cli_open_input(path, &shown);
	if (!f)
		return CLI_EXIT_REFUSED;
	int is_stdin = f == stdin;
	importer im;
	if (importer_init(&im, c, b, shown)) {
		importer_free(&im);
		cli_close_input(f);
		return cli_out_of_memory();
	}
	struct stat fst;
	uint64_t total =
		fstat(fileno(f), &fst) == 0 && S_ISREG(fst.st_mode) ? (uint64_t)fst.st_size : 0;
	cli_progress_start(&im.progress, total);
	cli_jdoc d;
	cli_jdoc_init(&d);
	char *line = NULL;
	size_t cap = 0, got = 0, max = line_limit(im.dims);
	unsigned long lineno = 0;
	uint64_t bytes = 0;
	int stop = 0, more;
	while (!stop && (more = read_line(f, &line, &cap, max, &got)) != 0) {
		bytes += (uint64_t)got;
		if (more == LINE_OUT_OF_MEMORY) {
			stop = cli_out_of_memory();
			break;
		}
		if (more == LINE_READ_ERROR)
			break;
		if (more == LINE_TOO_LONG) {
			char msg[128];
			snprintf(msg, sizeof msg, "the line is longer than %zu bytes (a text of the "
			         "library's longest, a vector and metadata fit in that)", max);
			im.rows++;
			stop = row_bad(&im, ++lineno, BRAIN_ETOOLONG, msg);
		} else {
			stop = import_line(&im, &d, line, got, ++lineno);
		}
		cli_progress_update(&im.progress, bytes, lineno);
	}
	int read_error = !stop && ferror(f);
	if (read_error)
		fprintf(stderr, "braincore: cannot read %s: %s\n", shown, strerror(errno));
	if (!stop)
		stop = flush(&im);
	double read_secs = cli_now() - im.progress.start;
	/* the vectors stored but not yet in the index's graph are put in now,
	 * so that the checkpoint at close holds them there for every reader */
	brain_stats st;
	int rc = brain_stats_init(&st, BRAIN_STATS_VERSION);
	if (!rc)
		rc = brain_get_stats(b, &st);
	if (!rc && st.index_pending > 0) {
		char note[96];
		snprintf(note, sizeof note, "building the index's graph of %" PRIu64 " new vectors...",
		         st.index_pending);
		cli_progress_note(&im.progress, note);
		rc = brain_tick(b);
	}
	const char *failed = rc ? "building the index" : NULL;
	/* what is reported imported is durable (import opens --sync normal) */
	if (!rc) {
		rc = brain_sync(b);
		failed = rc ? "making the import durable" : NULL;
	}
	cli_progress_clear(&im.progress);
	if (rc) {
		snprintf(im.stop_msg, sizeof im.stop_msg, "%s: %s", failed, brain_errmsg());
		im.stop_code = rc;
		cli_refused(rc, failed);
		stop = 1;
	}
	double secs = cli_now() - im.progress.start;
	im.build_secs = secs - read_secs;
	int ex = stop || read_error ? CLI_EXIT_REFUSED
	         : im.skipped       ? CLI_EXIT_SKIPPED
	                            : CLI_EXIT_OK;
	if (im.stop_line) {
		fprintf(stderr,
		        "braincore: the import stopped at line %lu; %" PRIu64 " %s from the lines "
		        "before it %s imported and stay%s\n",
		        im.stop_line, im.imported, im.imported == 1 ? "memory" : "memories",
		        im.imported == 1 ? "was" : "were", im.imported ? " in the brain" : "");
		if (is_line_error(im.stop_code) && !is_stdin)
			fprintf(stderr, "braincore: fix the line and import from it on: tail -n +%lu %s | "
			        "braincore --db %s import -\n", im.stop_line, path, c->db);
	}
	if (im.skipped)
		fprintf(stderr, "braincore: %" PRIu64 " bad %s skipped\n", im.skipped,
		        im.skipped == 1 ? "line was" : "lines were");
	if (c->json) {
		import_summary_json(&im, is_stdin ? "-" : path, secs, ex == CLI_EXIT_OK);
	} else if (!stop && !read_error) {
		printf("imported %" PRIu64 " %s from %s (%" PRIu64 " lines in %.2f s, %.0f lines/s",
		       im.imported, im.imported == 1 ? "memory" : "memories", shown, im.rows, read_secs,
		       read_secs > 0 ? (double)im.rows / read_secs : 0.0);
		if (im.skipped)
			printf("; %" PRIu64 " skipped", im.skipped);
		if (im.build_secs >= 0.05)
			printf("; the index's graph built in %.1f s", im.build_secs);
		fputs(")\n", stdout);
		fflush(stdout);
	}
	cli_jdoc_free(&d);
	free(line);
	importer_free(&im);
	cli_close_input(f);
	return ex;
}

/*
 * tools/cli_memories.c - commands on memories one by one: get, list,
 * forget, document, relate and neighbors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <braincore.h>

#include "cli.h"
#include "cli_json.h"
#include "cli_output.h"

#define DEFAULT_IMPORTANCE 0.5f
/* Memories brain_list hands over at a time. */
#define LIST_PAGE 1024

/* Entry i of r as a JSON object: everything a memory holds but its vector. */
static void memory_json(cli_json *j, const brain_results *r, size_t i)
{
	cli_json_begin_object(j);
	cli_json_key(j, "id");
	cli_json_uint(j, brain_results_id(r, i));
	cli_json_key(j, "text");
	cli_json_result_text(j, r, i);
	cli_json_key(j, "key");
	cli_json_string(j, brain_results_key(r, i));
	cli_json_key(j, "document");
	cli_json_string(j, brain_results_document(r, i));
	cli_json_key(j, "importance");
	cli_json_float(j, brain_results_importance(r, i));
	cli_json_key(j, "created");
	cli_json_int(j, brain_results_created(r, i));
	cli_json_key(j, "accessed");
	cli_json_int(j, brain_results_accessed(r, i));
	cli_json_key(j, "metadata");
	cli_json_raw(j, brain_results_metadata(r, i));
	cli_json_end_object(j);
}

/* Entry i of r for a human, a field a line. */
static void memory_print(const brain_results *r, size_t i)
{
	printf("#%" PRIu64 "\n", brain_results_id(r, i));
	fputs("  text        ", stdout);
	if (brain_results_text(r, i))
		cli_put_text(stdout, brain_results_text(r, i), brain_results_text_len(r, i));
	else
		fputs("(none: a vector)", stdout);
	fputc('\n', stdout);
	const char *key = brain_results_key(r, i), *doc = brain_results_document(r, i);
	if (key) {
		fputs("  key         ", stdout);
		cli_put_text(stdout, key, strlen(key));
		fputc('\n', stdout);
	}
	if (doc) {
		fputs("  document    ", stdout);
		cli_put_text(stdout, doc, strlen(doc));
		fputc('\n', stdout);
	}
	printf("  importance  %g\n", (double)brain_results_importance(r, i));
	fputs("  created     ", stdout);
	cli_put_time(stdout, brain_results_created(r, i));
	fputs("\n  accessed    ", stdout);
	cli_put_time(stdout, brain_results_accessed(r, i));
	fputs("\n  metadata    ", stdout);
	const char *meta = brain_results_metadata(r, i);
	cli_put_text(stdout, meta, strlen(meta));
	fputc('\n', stdout);
}

/* `get ID...`: every memory is looked up before anything is printed. */
int cli_cmd_get(const cli *c, brain_t *b)
{
	brain_results **found = calloc(c->nargs, sizeof *found);
	if (!found)
		return cli_out_of_memory();
	int ex = CLI_EXIT_OK;
	for (size_t i = 0; i < c->nargs && !ex; i++) {
		brain_id id;
		ex = cli_parse_id(c->args[i], &id);
		if (!ex) {
			int rc = brain_get(b, id, &found[i]);
			if (rc)
				ex = cli_refused(rc, c->args[i]);
		}
	}
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "memories");
	cli_json_begin_array(&j);
	for (size_t i = 0; i < c->nargs && !ex; i++) {
		if (c->json) {
			memory_json(&j, found[i], 0);
		} else {
			if (i)
				fputc('\n', stdout);
			memory_print(found[i], 0);
		}
	}
	for (size_t i = 0; i < c->nargs; i++)
		brain_results_free(found[i]);
	free(found);
	return cli_end_listing(&j, ex, c->json);
}

/* `list [--where F] [--after ID] [--limit N]`: pages of brain_list. */
int cli_cmd_list(const cli *c, brain_t *b)
{
	brain_filter *where = NULL;
	if (c->where) {
		int rc = brain_filter_parse(c->where, &where);
		if (rc)
			return cli_refused(rc, "--where");
	}
	uint64_t limit = CLI_HAS(c, LIMIT) ? c->limit : UINT64_MAX, shown = 0;
	brain_id after = CLI_HAS(c, AFTER) ? c->after : BRAIN_ID_NONE;
	int more = 0, ex = CLI_EXIT_OK;
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "memories");
	cli_json_begin_array(&j);
	for (;;) {
		/* one more than the limit leaves: whether there are more */
		uint64_t left = limit - shown;
		size_t want = left < LIST_PAGE ? (size_t)left + 1 : LIST_PAGE;
		brain_results *r = NULL;
		int rc = brain_list(b, where, after, want, &r);
		if (rc) {
			ex = cli_refused(rc, where ? "--where" : NULL);
			break;
		}
		size_t n = brain_results_count(r);
		int w = cli_id_width(r);
		for (size_t i = 0; i < n; i++) {
			if (shown == limit) {
				more = 1;
				break;
			}
			if (c->json) {
				memory_json(&j, r, i);
			} else {
				char idbuf[32];
				snprintf(idbuf, sizeof idbuf, "#%" PRIu64, brain_results_id(r, i));
				printf("%-*s  importance %.2f  ", w, idbuf,
				       (double)brain_results_importance(r, i));
				if (brain_results_text(r, i))
					cli_put_text(stdout, brain_results_text(r, i),
					             brain_results_text_len(r, i));
				else
					fputs("(a vector)", stdout);
				fputc('\n', stdout);
			}
			after = brain_results_id(r, i);
			shown++;
		}
		brain_results_free(r);
		if (more || n < want)
			break;
	}
	brain_filter_free(where);
	cli_json_end_array(&j);
	cli_json_key(&j, "count");
	cli_json_uint(&j, shown);
	/* where the next page starts (--after), when the limit left some */
	cli_json_key(&j, "next_after");
	if (more)
		cli_json_uint(&j, after);
	else
		cli_json_null(&j);
	cli_json_end_object(&j);
	if (!ex && !c->json && more)
		printf("(more: list --after %" PRIu64 ")\n", after);
	if (!ex)
		ex = cli_finish_output(c->json ? &j : NULL);
	cli_json_free(&j);
	return ex;
}

/* `forget --where FILTER`. */
static int forget_where(const cli *c, brain_t *b)
{
	brain_filter *where = NULL;
	int rc = brain_filter_parse(c->where, &where);
	if (rc)
		return cli_refused(rc, "--where");
	uint64_t n = 0;
	rc = brain_forget_where(b, where, &n);
	brain_filter_free(where);
	if (rc) {
		int ex = cli_refused(rc, NULL);
		fprintf(stderr, "braincore: %" PRIu64 " memories were forgotten before the error\n",
		        n);
		return ex;
	}
	if (!c->json) {
		printf("forgot %" PRIu64 " %s\n", n, n == 1 ? "memory" : "memories");
		return cli_finish_output(NULL);
	}
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "where");
	cli_json_string(&j, c->where);
	cli_json_key(&j, "forgotten");
	cli_json_uint(&j, n);
	cli_json_end_object(&j);
	int ex = cli_finish_output(&j);
	cli_json_free(&j);
	return ex;
}

/* `forget ID...`: all looked up first, so a missing id forgets none. */
int cli_cmd_forget(const cli *c, brain_t *b)
{
	if (c->where)
		return forget_where(c, b);
	brain_id *ids = calloc(c->nargs, sizeof *ids);
	if (!ids)
		return cli_out_of_memory();
	int ex = CLI_EXIT_OK;
	for (size_t i = 0; i < c->nargs && !ex; i++) {
		brain_results *r = NULL;
		ex = cli_parse_id(c->args[i], &ids[i]);
		if (ex)
			break;
		int rc = brain_get(b, ids[i], &r);
		brain_results_free(r);
		if (rc) {
			ex = cli_refused(rc, c->args[i]);
			fputs("braincore: nothing was forgotten\n", stderr);
		}
	}
	size_t done = 0;
	for (size_t i = 0; i < c->nargs && !ex; i++) {
		int rc = brain_forget(b, ids[i]);
		if (rc == BRAIN_ENOTFOUND) {
			/* the same id given twice: forgotten already */
			size_t k = 0;
			while (k < i && ids[k] != ids[i])
				k++;
			if (k < i)
				continue;
		}
		if (rc) {
			ex = cli_refused(rc, c->args[i]);
			fprintf(stderr, "braincore: %zu of the %zu memories were forgotten before the "
			        "error\n", done, c->nargs);
			break;
		}
		done++;
	}
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "forgotten");
	cli_json_uint(&j, done);
	cli_json_key(&j, "ids");
	cli_json_begin_array(&j);
	for (size_t i = 0; i < c->nargs && !ex; i++)
		cli_json_uint(&j, ids[i]);
	if (!ex && !c->json)
		printf("forgot %zu %s\n", done, done == 1 ? "memory" : "memories");
	free(ids);
	return cli_end_listing(&j, ex, c->json);
}

/* A whole file (or stdin) in memory, *len its bytes; NULL (said why) if
 * it cannot be read. */
static char *read_all(const char *path, size_t *len)
{
	const char *shown = path;
	FILE *f = cli_open_input(path, &shown);
	if (!f)
		return NULL;
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap);
	while (buf) {
		n += fread(buf + n, 1, cap - n, f);
		if (n < cap)
			break;
		char *more = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
		if (!more) {
			free(buf);
			buf = NULL;
			break;
		}
		buf = more;
		cap *= 2;
	}
	if (!buf)
		fprintf(stderr, "braincore: out of memory reading %s\n", shown);
	else if (ferror(f)) {
		fprintf(stderr, "braincore: cannot read %s: %s\n", shown, strerror(errno));
		free(buf);
		buf = NULL;
	}
	cli_close_input(f);
	*len = n;
	return buf;
}

int cli_cmd_document(const cli *c, brain_t *b)
{
	if (c->nargs != 2)
		return cli_usage_error("document needs KEY FILE", NULL);
	size_t len = 0;
	char *text = read_all(c->args[1], &len);
	if (!text)
		return CLI_EXIT_REFUSED;
	size_t parts = 0;
	float imp = CLI_HAS(c, IMPORTANCE) ? c->importance : DEFAULT_IMPORTANCE;
	int rc = brain_remember_document(b, c->args[0], text, len, imp, c->meta, c->size, &parts);
	free(text);
	if (rc)
		return cli_refused(rc, c->args[1]);
	if (!c->json) {
		printf("%zu passages\n", parts);
		return cli_finish_output(NULL);
	}
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "key");
	cli_json_string(&j, c->args[0]);
	cli_json_key(&j, "passages");
	cli_json_uint(&j, parts);
	cli_json_end_object(&j);
	int ex = cli_finish_output(&j);
	cli_json_free(&j);
	return ex;
}

int cli_cmd_relate(const cli *c, brain_t *b)
{
	brain_id from = BRAIN_ID_NONE, to = BRAIN_ID_NONE;
	if (c->nargs != 3)
		return cli_usage_error("relate needs FROM TO VERB", NULL);
	int ex = cli_parse_id(c->args[0], &from);
	if (!ex)
		ex = cli_parse_id(c->args[1], &to);
	if (!ex)
		ex = cli_load_memories(b, c);
	if (ex)
		return ex;
	float w = CLI_HAS(c, WEIGHT) ? c->weight : 1.0f;
	int rc = brain_relate(b, from, to, c->args[2], w);
	if (rc)
		return cli_refused(rc, NULL);
	if (!c->json) {
		printf("%" PRIu64 " -%s-> %" PRIu64 " (weight %g)\n", from, c->args[2], to, (double)w);
		return cli_finish_output(NULL);
	}
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "from");
	cli_json_uint(&j, from);
	cli_json_key(&j, "to");
	cli_json_uint(&j, to);
	cli_json_key(&j, "verb");
	cli_json_string(&j, c->args[2]);
	cli_json_key(&j, "weight");
	cli_json_number(&j, (double)w, 4);
	cli_json_end_object(&j);
	ex = cli_finish_output(&j);
	cli_json_free(&j);
	return ex;
}

int cli_cmd_neighbors(const cli *c, brain_t *b)
{
	brain_id id = BRAIN_ID_NONE;
	if (c->nargs != 1)
		return cli_usage_error("neighbors needs one memory ID", NULL);
	int ex = cli_parse_id(c->args[0], &id);
	if (!ex)
		ex = cli_load_memories(b, c);
	if (ex)
		return ex;
	brain_edges *e = NULL;
	int rc = brain_neighbors(b, id, c->verb, c->dir ? c->dir : BRAIN_DIR_BOTH, &e);
	if (rc)
		return cli_refused(rc, NULL);
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "id");
	cli_json_uint(&j, id);
	cli_json_key(&j, "relations");
	cli_json_begin_array(&j);
	for (size_t i = 0; i < brain_edges_count(e); i++) {
		if (c->json) {
			cli_json_begin_object(&j);
			cli_json_key(&j, "from");
			cli_json_uint(&j, brain_edges_from(e, i));
			cli_json_key(&j, "to");
			cli_json_uint(&j, brain_edges_to(e, i));
			cli_json_key(&j, "verb");
			cli_json_string(&j, brain_edges_verb(e, i));
			cli_json_key(&j, "weight");
			cli_json_number(&j, (double)brain_edges_weight(e, i), 4);
			cli_json_end_object(&j);
		} else {
			printf("%" PRIu64 " -%s-> %" PRIu64 " (weight %g)\n", brain_edges_from(e, i),
			       brain_edges_verb(e, i), brain_edges_to(e, i),
			       (double)brain_edges_weight(e, i));
		}
	}
	if (!c->json && brain_edges_count(e) == 0)
		printf("memory %" PRIu64 " has no relations%s%s\n", id, c->verb ? " by " : "",
		       c->verb ? c->verb : "");
	brain_edges_free(e);
	return cli_end_listing(&j, CLI_EXIT_OK, c->json);
}

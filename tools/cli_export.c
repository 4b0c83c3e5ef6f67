/*
 * tools/cli_export.c - `export`: every memory (or those a filter passes)
 * as JSON Lines, in the format `import` reads (cli_import.c): id, text,
 * key, importance, created, valid_from and valid_until, the caller's
 * metadata (the library's '@' fields left out: the key and validity have
 * fields of their own; a document's passage is exported as a plain
 * memory), and with --vectors each stored vector (a memory without text
 * always has its vector). Floats are written in the fewest digits that
 * read back to the same float.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <braincore.h>

#include "cli.h"
#include "cli_jread.h"
#include "cli_json.h"
#include "cli_output.h"

/* Memories brain_list hands export at a time. */
#define EXPORT_PAGE 4096

/* Value node i of d into j as it is; returns the node after it. */
static size_t copy_value(cli_json *j, const cli_jdoc *d, size_t i)
{
	const cli_jnode *n = &d->nodes[i];
	switch (n->type) {
	case CLI_J_NULL:
		cli_json_null(j);
		break;
	case CLI_J_TRUE:
	case CLI_J_FALSE:
		cli_json_bool(j, n->type == CLI_J_TRUE);
		break;
	case CLI_J_NUMBER:
		cli_json_raw_n(j, d->text + n->start, n->end - n->start);
		break;
	case CLI_J_STRING: {
		char *s;
		size_t len;
		if (cli_jstring(d, i, &s, &len)) {
			j->failed = 1;
			break;
		}
		cli_json_string_n(j, s, len);
		free(s);
		break;
	}
	case CLI_J_ARRAY: {
		cli_json_begin_array(j);
		size_t item = i + 1;
		for (size_t k = 0; k < n->count; k++)
			item = copy_value(j, d, item);
		cli_json_end_array(j);
		break;
	}
	case CLI_J_OBJECT: {
		cli_json_begin_object(j);
		size_t key = i + 1;
		for (size_t k = 0; k < n->count; k++) {
			char *s;
			size_t len;
			if (cli_jstring(d, key, &s, &len)) {
				j->failed = 1;
				break;
			}
			cli_json_key(j, s);
			free(s);
			key = copy_value(j, d, key + 1);
		}
		cli_json_end_object(j);
		break;
	}
	}
	return n->next;
}

/* The row of memory i of r into j: the caller's metadata without the
 * library's '@' fields (the key and validity have fields of their own). */
static int export_row(cli_json *j, cli_jdoc *d, brain_t *b, const brain_results *r, size_t i,
                      int vectors, float *vec)
{
	brain_id id = brain_results_id(r, i);
	const char *text = brain_results_text(r, i), *key = brain_results_key(r, i);
	const char *meta = brain_results_metadata(r, i);
	if (cli_jparse(d, meta, strlen(meta)) || d->nodes[0].type != CLI_J_OBJECT) {
		fprintf(stderr, "braincore: the metadata of memory %" PRIu64 " does not read back: %s\n",
		        id, d->error);
		return CLI_EXIT_REFUSED;
	}
	cli_json_begin_object(j);
	cli_json_key(j, "id");
	cli_json_uint(j, id);
	if (text) {
		cli_json_key(j, "text");
		cli_json_string_n(j, text, brain_results_text_len(r, i));
		if (key) {
			cli_json_key(j, "key");
			cli_json_string(j, key);
		}
		cli_json_key(j, "importance");
		cli_json_float(j, brain_results_importance(r, i));
	}
	cli_json_key(j, "created");
	cli_json_int(j, brain_results_created(r, i));
	size_t k = 1;
	for (size_t m = 0; m < d->nodes[0].count; m++, k = d->nodes[k + 1].next) {
		static const char *const validity[] = {"@valid_from", "@valid_until"};
		for (int v = 0; v < 2; v++) {
			if (cli_jstring_is(d, k, validity[v])) {
				cli_json_key(j, validity[v] + 1);
				copy_value(j, d, k + 1);
			}
		}
	}
	cli_json_key(j, "metadata");
	cli_json_begin_object(j);
	k = 1;
	for (size_t m = 0; m < d->nodes[0].count; m++, k = d->nodes[k + 1].next) {
		if (d->text[d->nodes[k].start + 1] == '@')
			continue; /* the library's */
		char *name;
		size_t len;
		if (cli_jstring(d, k, &name, &len))
			return cli_out_of_memory();
		cli_json_key(j, name);
		free(name);
		copy_value(j, d, k + 1);
	}
	cli_json_end_object(j);
	if (vectors || !text) {
		int rc = brain_get_vector(b, id, vec);
		if (rc)
			return cli_refused(rc, "reading a vector");
		cli_json_key(j, "vector");
		cli_json_begin_array(j);
		for (uint32_t x = 0; x < brain_dimensions(b); x++)
			cli_json_float(j, vec[x]);
		cli_json_end_array(j);
	}
	cli_json_end_object(j);
	return CLI_EXIT_OK;
}

/* Every memory (that where passes) to out, page by page. */
static int export_to(const cli *c, brain_t *b, const brain_filter *where, FILE *out,
                     uint64_t *count)
{
	cli_json j;
	cli_json_init(&j);
	j.compact = 1;
	cli_jdoc d;
	cli_jdoc_init(&d);
	float *vec = malloc((size_t)brain_dimensions(b) * sizeof *vec);
	int ex = vec ? CLI_EXIT_OK : cli_out_of_memory();
	brain_id after = BRAIN_ID_NONE;
	while (!ex) {
		brain_results *r = NULL;
		int rc = brain_list(b, where, after, EXPORT_PAGE, &r);
		if (rc) {
			ex = cli_refused(rc, where ? "--where" : NULL);
			break;
		}
		size_t n = brain_results_count(r);
		for (size_t i = 0; i < n && !ex; i++) {
			cli_json_reset(&j);
			ex = export_row(&j, &d, b, r, i, c->vectors, vec);
			if (!ex && cli_json_write(&j, out)) {
				fprintf(stderr, "braincore: cannot write the export: %s\n",
				        j.failed ? "out of memory" : strerror(errno));
				ex = CLI_EXIT_REFUSED;
			}
			if (!ex)
				++*count;
			after = brain_results_id(r, i);
		}
		brain_results_free(r);
		if (n < EXPORT_PAGE)
			break;
	}
	free(vec);
	cli_jdoc_free(&d);
	cli_json_free(&j);
	return ex;
}

/* fsync the directory holding path, so that the rename is durable. */
static int sync_dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[4096];
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else if ((size_t)(slash - path) < sizeof dir)
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	else
		return errno = ENAMETOOLONG, -1;
	int fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* `export [FILE|-]`: to stdout, or to FILE through a file beside it that
 * is renamed over FILE once whole and durable. */
int cli_cmd_export(const cli *c, brain_t *b)
{
	const char *path = c->nargs > 0 && strcmp(c->args[0], "-") != 0 ? c->args[0] : NULL;
	brain_filter *where = NULL;
	if (c->where) {
		int rc = brain_filter_parse(c->where, &where);
		if (rc)
			return cli_refused(rc, "--where");
	}
	uint64_t count = 0;
	int ex;
	if (!path) {
		ex = export_to(c, b, where, stdout, &count);
		if (!ex)
			ex = cli_finish_output(NULL);
		brain_filter_free(where);
		return ex;
	}
	size_t n = strlen(path) + 32;
	char *tmp = malloc(n);
	if (!tmp) {
		brain_filter_free(where);
		return cli_out_of_memory();
	}
	snprintf(tmp, n, "%s.tmp-%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!f) {
		fprintf(stderr, "braincore: cannot create %s: %s\n", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		ex = CLI_EXIT_REFUSED;
	} else {
		ex = export_to(c, b, where, f, &count);
		if (!ex && (fflush(f) || fsync(fileno(f)))) {
			fprintf(stderr, "braincore: cannot write %s: %s\n", tmp, strerror(errno));
			ex = CLI_EXIT_REFUSED;
		}
		if (fclose(f) && !ex) {
			fprintf(stderr, "braincore: cannot write %s: %s\n", tmp, strerror(errno));
			ex = CLI_EXIT_REFUSED;
		}
		if (!ex && rename(tmp, path)) {
			fprintf(stderr, "braincore: cannot rename %s to %s: %s\n", tmp, path,
			        strerror(errno));
			ex = CLI_EXIT_REFUSED;
		}
		if (ex)
			unlink(tmp);
		else if (sync_dir_of(path))
			fprintf(stderr, "braincore: warning: exported, but the directory of %s was not "
			        "synced: %s\n", path, strerror(errno));
	}
	free(tmp);
	brain_filter_free(where);
	if (ex)
		return ex;
	if (!c->json) {
		printf("exported %" PRIu64 " %s to ", count, count == 1 ? "memory" : "memories");
		cli_put_text(stdout, path, strlen(path));
		fputc('\n', stdout);
		return cli_finish_output(NULL);
	}
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "file");
	cli_json_string(&j, path);
	cli_json_key(&j, "exported");
	cli_json_uint(&j, count);
	cli_json_key(&j, "vectors");
	cli_json_bool(&j, c->vectors);
	cli_json_end_object(&j);
	ex = cli_finish_output(&j);
	cli_json_free(&j);
	return ex;
}

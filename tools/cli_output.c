/*
 * tools/cli_output.c - what the braincore command-line tool writes: error
 * messages, memories for humans, memories as JSON, and the reports of
 * `check` and `stats`.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <braincore.h>

#include "cli_json.h"
#include "cli_output.h"

/* Report a refusal by the library: "braincore: [where: ]NAME: message". */
int cli_refused(int code, const char *where)
{
	const char *msg = brain_errmsg();
	if (!msg || !*msg)
		msg = brain_strerror(code);
	if (where)
		fprintf(stderr, "braincore: %s: %s: %s\n", where, brain_error_name(code), msg);
	else
		fprintf(stderr, "braincore: %s: %s\n", brain_error_name(code), msg);
	return CLI_EXIT_REFUSED;
}

int cli_out_of_memory(void)
{
	fputs("braincore: out of memory\n", stderr);
	return CLI_EXIT_REFUSED;
}

/* Write text for a human: UTF-8 passes through, control characters are
 * shown as escapes so that a memory cannot move the cursor or ring bells. */
void cli_put_text(FILE *f, const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\n')
			fputs("\\n", f);
		else if (c == '\t')
			fputs("\\t", f);
		else if (c < 0x20 || c == 0x7F)
			fprintf(f, "\\x%02x", (unsigned)c);
		else
			fputc(c, f);
	}
}

/* Like cli_put_text(), but line breaks start a new line indented by `indent`. */
void cli_put_lines(FILE *f, const char *s, const char *indent)
{
	fputs(indent, f);
	while (*s) {
		size_t n = strcspn(s, "\n");
		cli_put_text(f, s, n);
		s += n;
		if (*s == '\n') {
			s++;
			fputc('\n', f);
			fputs(indent, f);
		}
	}
	fputc('\n', f);
}

static void result_json(cli_json *j, const brain_results *r, size_t i)
{
	cli_json_begin_object(j);
	cli_json_key(j, "id");
	cli_json_uint(j, brain_results_id(r, i));
	cli_json_key(j, "score");
	cli_json_number(j, (double)brain_results_score(r, i), 4);
	cli_json_key(j, "importance");
	cli_json_number(j, (double)brain_results_importance(r, i), 3);
	cli_json_key(j, "text");
	cli_json_result_text(j, r, i);
	cli_json_key(j, "metadata");
	cli_json_raw(j, brain_results_metadata(r, i));
	cli_json_end_object(j);
}

void cli_results_json(cli_json *j, const brain_results *r)
{
	cli_json_begin_array(j);
	for (size_t i = 0; i < brain_results_count(r); i++)
		result_json(j, r, i);
	cli_json_end_array(j);
}

/* Width of the widest "#id" in r, for aligned columns. */
int cli_id_width(const brain_results *r)
{
	int w = 2;
	for (size_t i = 0; i < brain_results_count(r); i++) {
		char buf[32];
		int n = snprintf(buf, sizeof buf, "#%" PRIu64, brain_results_id(r, i));
		if (n > w)
			w = n;
	}
	return w;
}

/* One line per memory: score, id, importance, text. */
void cli_print_memories(const brain_results *r, const char *indent)
{
	int w = cli_id_width(r);
	for (size_t i = 0; i < brain_results_count(r); i++) {
		char idbuf[32];
		snprintf(idbuf, sizeof idbuf, "#%" PRIu64, brain_results_id(r, i));
		printf("%s%6.3f  %-*s  importance %.2f  ", indent, (double)brain_results_score(r, i),
		       w, idbuf, (double)brain_results_importance(r, i));
		const char *t = brain_results_text(r, i);
		if (t)
			cli_put_text(stdout, t, brain_results_text_len(r, i));
		fputc('\n', stdout);
	}
}

/* "memories used: #3 (0.712), #7 (0.401)" or "memories used: none". */
void cli_print_used(const brain_results *r, const char *indent)
{
	size_t n = brain_results_count(r);
	printf("%smemories used: ", indent);
	if (n == 0)
		fputs("none", stdout);
	for (size_t i = 0; i < n; i++)
		printf("%s#%" PRIu64 " (%.3f)", i ? ", " : "", brain_results_id(r, i),
		       (double)brain_results_score(r, i));
	fputc('\n', stdout);
}

int cli_finish_output(cli_json *j)
{
	int ok = 1;
	if (j) {
		if (j->failed)
			return cli_out_of_memory();
		ok = cli_json_write(j, stdout) == 0;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		ok = 0;
	if (!ok) {
		fprintf(stderr, "braincore: cannot write the output: %s\n", strerror(errno));
		return CLI_EXIT_REFUSED;
	}
	return CLI_EXIT_OK;
}

int cli_end_listing(cli_json *j, int ex, int json)
{
	cli_json_end_array(j);
	cli_json_end_object(j);
	if (!ex)
		ex = cli_finish_output(json ? j : NULL);
	cli_json_free(j);
	return ex;
}

void cli_put_time(FILE *f, int64_t ms)
{
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	int frac = (int)(ms - (int64_t)secs * 1000);
	struct tm tm;
	char buf[64];
	if (!gmtime_r(&secs, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm)) {
		fprintf(f, "%" PRId64 " ms", ms);
		return;
	}
	fprintf(f, "%s.%03d UTC", buf, frac);
}

/* Write every parameter and its value as members of the current object. */
void cli_params_json(cli_json *j, brain_t *b)
{
	cli_json_begin_object(j);
	for (int p = 1; p <= CLI_PARAM_SCAN_LAST; p++) {
		const char *name = brain_param_name(p);
		int64_t v;
		if (name && brain_get_param(b, p, &v) == 0) {
			cli_json_key(j, name);
			cli_json_int(j, v);
		}
	}
	cli_json_end_object(j);
}

int64_t cli_get_param(brain_t *b, int p)
{
	int64_t v = 0;
	if (brain_get_param(b, p, &v))
		brain_param_bounds(p, NULL, NULL, &v);
	return v;
}

const char *cli_sync_name(int sync)
{
	switch (sync) {
	case BRAIN_SYNC_FULL:
		return "full";
	case BRAIN_SYNC_NORMAL:
		return "normal";
	case BRAIN_SYNC_OFF:
		return "off";
	default:
		return "unknown";
	}
}

void cli_check_report_members(cli_json *j, const brain_check_report *r)
{
	cli_json_key(j, "memories");
	cli_json_uint(j, r->memories);
	cli_json_key(j, "generation");
	cli_json_uint(j, r->generation);
	cli_json_key(j, "checkpoint_lsn");
	cli_json_uint(j, r->checkpoint_lsn);
	cli_json_key(j, "checkpoint_bytes");
	cli_json_uint(j, r->checkpoint_bytes);
	cli_json_key(j, "bytes_verified");
	cli_json_uint(j, r->bytes_verified);
	cli_json_key(j, "wal_records");
	cli_json_uint(j, r->wal_records);
	cli_json_key(j, "wal_bytes");
	cli_json_uint(j, r->wal_bytes);
	cli_json_key(j, "wal_torn_bytes");
	cli_json_uint(j, r->wal_torn_bytes);
}

void cli_print_check_report(const brain_check_report *r)
{
	printf("  memories          %" PRIu64 "\n", r->memories);
	printf("  generation        %" PRIu64 "\n", r->generation);
	printf("  checkpoint lsn    %" PRIu64 "\n", r->checkpoint_lsn);
	printf("  checkpoint bytes  %" PRIu64 "\n", r->checkpoint_bytes);
	printf("  bytes verified    %" PRIu64 "\n", r->bytes_verified);
	printf("  log records       %" PRIu64 "\n", r->wal_records);
	printf("  log bytes         %" PRIu64 "\n", r->wal_bytes);
	printf("  torn bytes        %" PRIu64 "%s\n", r->wal_torn_bytes,
	       r->wal_torn_bytes ? " (a last log record cut short by a crash; not damage: "
	                           "the next read-write open drops it)"
	                         : "");
}

void cli_stats_json(cli_json *j, const brain_stats *s)
{
	cli_json_begin_object(j);
	cli_json_key(j, "memories");
	cli_json_uint(j, s->memories);
	cli_json_key(j, "text_memories");
	cli_json_uint(j, s->text_memories);
	cli_json_key(j, "dimensions");
	cli_json_uint(j, s->dimensions);
	cli_json_key(j, "metric");
	cli_json_string(j, brain_metric_name(s->metric));
	cli_json_key(j, "sync");
	cli_json_string(j, cli_sync_name(s->sync));
	cli_json_key(j, "on_disk");
	cli_json_bool(j, s->on_disk);
	cli_json_key(j, "read_only");
	cli_json_bool(j, s->read_only);
	cli_json_key(j, "index_bytes");
	cli_json_uint(j, s->index_bytes);
	cli_json_key(j, "last_lsn");
	cli_json_uint(j, s->last_lsn);
	cli_json_key(j, "durable_lsn");
	cli_json_uint(j, s->durable_lsn);
	cli_json_key(j, "checkpoint_lsn");
	cli_json_uint(j, s->checkpoint_lsn);
	cli_json_key(j, "generation");
	cli_json_uint(j, s->generation);
	cli_json_key(j, "checkpoint_bytes");
	cli_json_uint(j, s->checkpoint_bytes);
	cli_json_key(j, "wal_bytes");
	cli_json_uint(j, s->wal_bytes);
	cli_json_key(j, "checkpoints");
	cli_json_uint(j, s->checkpoints);
	cli_json_key(j, "index_pending");
	cli_json_uint(j, s->index_pending);
	static const char *const heap_names[] = {"total", "peak", "records", "index", "embedder",
	                                         "log", "results", "other"};
	const uint64_t heap[] = {s->heap_bytes,          s->heap_peak_bytes,
	                         s->heap_records_bytes,  s->heap_index_bytes,
	                         s->heap_embedder_bytes, s->heap_log_bytes,
	                         s->heap_results_bytes,  s->heap_other_bytes};
	cli_json_key(j, "heap_bytes");
	cli_json_begin_object(j);
	for (size_t i = 0; i < sizeof heap / sizeof heap[0]; i++) {
		cli_json_key(j, heap_names[i]);
		cli_json_uint(j, heap[i]);
	}
	cli_json_end_object(j);
	cli_json_end_object(j);
}

void cli_print_stats(const brain_stats *s)
{
	printf("memories          %" PRIu64 " (%" PRIu64 " with text)\n", s->memories,
	       s->text_memories);
	printf("dimensions        %" PRIu32 "\n", s->dimensions);
	printf("metric            %s\n", brain_metric_name(s->metric));
	printf("sync              %s\n", cli_sync_name(s->sync));
	printf("on disk           %s\n", s->on_disk ? "yes" : "no");
	printf("read-only         %s\n", s->read_only ? "yes" : "no");
	printf("index bytes       %" PRIu64 "\n", s->index_bytes);
	printf("last lsn          %" PRIu64 "\n", s->last_lsn);
	printf("durable lsn       %" PRIu64 "\n", s->durable_lsn);
	printf("checkpoint lsn    %" PRIu64 "\n", s->checkpoint_lsn);
	printf("generation        %" PRIu64 "\n", s->generation);
	printf("checkpoint bytes  %" PRIu64 "\n", s->checkpoint_bytes);
	printf("log bytes         %" PRIu64 "\n", s->wal_bytes);
	printf("checkpoints       %" PRIu64 "\n", s->checkpoints);
	printf("graph backlog     %" PRIu64 " vectors not yet in the graph (searched exactly)\n",
	       s->index_pending);
	printf("heap bytes        %" PRIu64 " (peak %" PRIu64 "): records %" PRIu64 ", index %" PRIu64
	       ", embedder %" PRIu64 ", log %" PRIu64 ", results %" PRIu64 ", other %" PRIu64 "\n",
	       s->heap_bytes, s->heap_peak_bytes, s->heap_records_bytes, s->heap_index_bytes,
	       s->heap_embedder_bytes, s->heap_log_bytes, s->heap_results_bytes, s->heap_other_bytes);
}

/* The member "error": null when rc is 0, else {"code": "ENAME",
 * "message": msg (or brain_strerror)}. */
void cli_json_error_member(cli_json *j, int rc, const char *msg)
{
	cli_json_key(j, "error");
	if (!rc) {
		cli_json_null(j);
		return;
	}
	cli_json_begin_object(j);
	cli_json_key(j, "code");
	cli_json_string(j, brain_error_name(rc));
	cli_json_key(j, "message");
	cli_json_string(j, msg && *msg ? msg : brain_strerror(rc));
	cli_json_end_object(j);
}

/* FILE, or stdin for "-", to read: *shown is its name for messages
 * ("<stdin>"). NULL with the reason on stderr if it cannot be opened. */
FILE *cli_open_input(const char *path, const char **shown)
{
	if (strcmp(path, "-") == 0) {
		*shown = "<stdin>";
		return stdin;
	}
	*shown = path;
	FILE *f = fopen(path, "rb");
	if (!f)
		fprintf(stderr, "braincore: cannot open %s: %s\n", path, strerror(errno));
	return f;
}

/* Close what cli_open_input() opened (never stdin). */
void cli_close_input(FILE *f)
{
	if (f && f != stdin)
		fclose(f);
}

/* The member value of entry i's text: a string, or null for a memory
 * without text. */
void cli_json_result_text(cli_json *j, const brain_results *r, size_t i)
{
	if (brain_results_text(r, i))
		cli_json_string_n(j, brain_results_text(r, i), brain_results_text_len(r, i));
	else
		cli_json_null(j);
}

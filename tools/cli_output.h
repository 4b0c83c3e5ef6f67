/*
 * tools/cli_output.h - shared pieces of the braincore command-line tool:
 * exit codes, error messages, and output of memories, check reports and
 * brain statistics for humans and as JSON. Uses only the public API of the
 * library.
 */
#ifndef BRAINCORE_CLI_OUTPUT_H
#define BRAINCORE_CLI_OUTPUT_H

#include <stdint.h>
#include <stdio.h>

#include <braincore.h>

#include "cli_json.h"

/* Exit codes of the tool (import --skip-bad: CLI_EXIT_SKIPPED when it
 * skipped lines; repair has its own, cli_admin.c). */
enum { CLI_EXIT_OK = 0, CLI_EXIT_REFUSED = 1, CLI_EXIT_USAGE = 2, CLI_EXIT_SKIPPED = 3 };

/* Parameter numbers looked at when a name is looked up: the documented
 * families (1..99, 100..199, 200..299, 300.. for index backends) with room
 * to spare, so parameters added later work without changing the tool. */
#define CLI_PARAM_SCAN_LAST 9999

/* Report a refusal by the library on stderr as
 * "braincore: [where: ]NAME: message"; returns CLI_EXIT_REFUSED. */
int cli_refused(int code, const char *where);

/* Report that the tool itself ran out of memory; returns CLI_EXIT_REFUSED. */
int cli_out_of_memory(void);

/* Write text for a human: UTF-8 passes through, control characters are
 * shown as escapes (\n, \t, \x1b) so that a memory cannot move the cursor. */
void cli_put_text(FILE *f, const char *s, size_t len);

/* Like cli_put_text(), but each line of s on its own line after `indent`. */
void cli_put_lines(FILE *f, const char *s, const char *indent);

/* The entries of r as a JSON array of {id, score, importance, text}. */
void cli_results_json(cli_json *j, const brain_results *r);

/* The entries of r for a human, one per line after `indent`:
 * score, #id, importance, text. */
void cli_print_memories(const brain_results *r, const char *indent);

/* "memories used: #3 (0.712), #7 (0.401)" or "memories used: none". */
void cli_print_used(const brain_results *r, const char *indent);

/* Write the JSON document j (if not NULL) and flush stdout. Returns
 * CLI_EXIT_OK, or CLI_EXIT_REFUSED after a message if that failed. */
int cli_finish_output(cli_json *j);

/* Close a command's JSON document (an object around one array), print it
 * (or, without json, what was printed already) unless the command failed
 * (ex), and release it. Returns the exit code. */
int cli_end_listing(cli_json *j, int ex, int json);

/* A time in milliseconds since the epoch as "2024-05-01 12:00:00.000 UTC". */
void cli_put_time(FILE *f, int64_t ms);

/* Every parameter the library knows and its value in b, as a JSON object. */
void cli_params_json(cli_json *j, brain_t *b);

/* Value of parameter p in b (its default if b cannot say). */
int64_t cli_get_param(brain_t *b, int p);

/* Name of an enum brain_sync ("full", "normal", "off"); "unknown" for
 * other values (a metric's: brain_metric_name). */
const char *cli_sync_name(int sync);

/* The counters of a brain_check() report as members of the current JSON
 * object (memories, generation, checkpoint_lsn, ...). */
void cli_check_report_members(cli_json *j, const brain_check_report *r);

/* FILE, or stdin for "-", to read (*shown: its name for messages); NULL
 * with the reason on stderr. cli_close_input() closes it (never stdin). */
FILE *cli_open_input(const char *path, const char **shown);
void cli_close_input(FILE *f);

/* Entry i's text as a JSON value: a string, or null without text. */
void cli_json_result_text(cli_json *j, const brain_results *r, size_t i);

/* Width of the widest "#id" of r, for aligned columns. */
int cli_id_width(const brain_results *r);

/* The member "error": null when rc is 0, else {"code", "message"} (msg, or
 * brain_strerror(rc) when msg is NULL or empty). */
void cli_json_error_member(cli_json *j, int rc, const char *msg);

/* The counters of a brain_check() report for a human, one per line. */
void cli_print_check_report(const brain_check_report *r);

/* Every field of s as a JSON object. */
void cli_stats_json(cli_json *j, const brain_stats *s);

/* Every field of s for a human, one per line. */
void cli_print_stats(const brain_stats *s);

/* `braincore demo` on the open brain b: text, or one JSON document. */
int cli_demo(brain_t *b, int json);

/* `embed-check MODEL [STS_FILE]` (cli_embed.c): the model's size, speed
 * and, with an STS Benchmark file, its Spearman correlation; as one JSON
 * document with json. */
int cli_embed_check(const char *model, const char *sts_file, int json);

#endif /* BRAINCORE_CLI_OUTPUT_H */

/*
 * tools/cli_admin.c - commands on a brain's directory: check, stats,
 * backup and repair.
 *
 * repair's exit codes are its own: 0 the brain is intact (nothing done)
 * or was repaired without losing a record, 1 it was repaired and the log
 * records named were dropped (the changes they held are lost), 2 it
 * cannot be repaired (a damaged checkpoint image: restore a backup; the
 * brain open elsewhere; no brain there).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <braincore.h>

#include "cli.h"
#include "cli_json.h"
#include "cli_output.h"

enum { REPAIR_INTACT = 0, REPAIR_LOSSES = 1, REPAIR_CANNOT = 2 };

/* `check DIR`: brain_check() and its report. The JSON document is written
 * whatever the outcome, with "ok" and "error"; exit 1 unless intact. */
int cli_cmd_check(const cli *c, const char *dir)
{
	brain_check_report report;
	int rc = brain_check_report_init(&report, BRAIN_CHECK_REPORT_VERSION);
	if (rc)
		return cli_refused(rc, NULL);
	rc = brain_check(dir, NULL, &report);
	int ex = CLI_EXIT_OK;
	char msg[4096] = "";
	if (rc) {
		snprintf(msg, sizeof msg, "%s", brain_errmsg());
		ex = cli_refused(rc, NULL);
	}
	if (!c->json) {
		if (rc)
			return ex;
		fputs("intact: ", stdout);
		cli_put_text(stdout, dir, strlen(dir));
		fputc('\n', stdout);
		cli_print_check_report(&report);
		return cli_finish_output(NULL);
	}
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "path");
	cli_json_string(&j, dir);
	cli_json_key(&j, "ok");
	cli_json_bool(&j, rc == 0);
	cli_check_report_members(&j, &report);
	cli_json_error_member(&j, rc, msg);
	cli_json_end_object(&j);
	int out = cli_finish_output(&j);
	cli_json_free(&j);
	return ex ? ex : out;
}

/* `stats DIR`: open the brain read-only with its stored options and show
 * every counter of brain_get_stats(). */
int cli_cmd_stats(const cli *c, const char *dir)
{
	brain_options opts;
	int rc = brain_options_init(&opts, BRAIN_OPTIONS_VERSION);
	if (rc)
		return cli_refused(rc, NULL);
	opts.flags |= BRAIN_OPEN_READONLY | BRAIN_OPEN_STORED_OPTIONS;
	brain_t *b = NULL;
	rc = brain_open(dir, &opts, &b);
	if (rc)
		return cli_refused(rc, NULL);
	brain_stats st;
	int ex = CLI_EXIT_OK;
	rc = brain_stats_init(&st, BRAIN_STATS_VERSION);
	if (!rc)
		rc = brain_get_stats(b, &st);
	if (rc)
		ex = cli_refused(rc, NULL);
	int crc = brain_close(b);
	if (crc) {
		cli_refused(crc, "closing the brain");
		ex = CLI_EXIT_REFUSED;
	}
	if (ex)
		return ex;
	if (!c->json) {
		fputs("brain             ", stdout);
		cli_put_text(stdout, dir, strlen(dir));
		fputc('\n', stdout);
		cli_print_stats(&st);
		return cli_finish_output(NULL);
	}
	cli_json j;
	cli_json_init(&j);
	cli_stats_json(&j, &st);
	ex = cli_finish_output(&j);
	cli_json_free(&j);
	return ex;
}
/* Open the brain in dir read-only with its stored options. */
static int open_stored(const char *dir, brain_t **b)
{
	brain_options opts;
	int rc = brain_options_init(&opts, BRAIN_OPTIONS_VERSION);
	if (rc)
		return cli_refused(rc, NULL);
	opts.flags |= BRAIN_OPEN_READONLY | BRAIN_OPEN_STORED_OPTIONS;
	rc = brain_open(dir, &opts, b);
	return rc ? cli_refused(rc, NULL) : CLI_EXIT_OK;
}

/* `backup DIR DEST`: a consistent copy of the brain as it is now, a
 * brain of its own in DEST. */
int cli_cmd_backup(const cli *c, const char *dir)
{
	const char *dest = c->args[c->nargs - 1];
	if (!*dest)
		return cli_usage_error("the backup's directory name is empty", NULL);
	brain_t *b = NULL;
	int ex = open_stored(dir, &b);
	if (ex)
		return ex;
	uint64_t n = brain_count(b);
	int rc = brain_backup(b, dest);
	if (rc)
		ex = cli_refused(rc, dest);
	int crc = brain_close(b);
	if (crc && !ex)
		ex = cli_refused(crc, "closing the brain");
	if (ex)
		return ex;
	if (!c->json) {
		printf("backed up %" PRIu64 " %s to ", n, n == 1 ? "memory" : "memories");
		cli_put_text(stdout, dest, strlen(dest));
		fputc('\n', stdout);
		return cli_finish_output(NULL);
	}
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "path");
	cli_json_string(&j, dir);
	cli_json_key(&j, "backup");
	cli_json_string(&j, dest);
	cli_json_key(&j, "memories");
	cli_json_uint(&j, n);
	cli_json_end_object(&j);
	ex = cli_finish_output(&j);
	cli_json_free(&j);
	return ex;
}

/* repair's outcome as a JSON document. */
static int repair_json(const char *dir, const char *outcome, int repaired,
                       const brain_check_report *report, int rc, const char *msg)
{
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "path");
	cli_json_string(&j, dir);
	cli_json_key(&j, "outcome");
	cli_json_string(&j, outcome);
	cli_json_key(&j, "repaired");
	cli_json_bool(&j, repaired);
	cli_json_key(&j, "dropped_records");
	cli_json_uint(&j, report->dropped_records);
	cli_check_report_members(&j, report);
	cli_json_error_member(&j, rc, msg);
	cli_json_end_object(&j);
	int ex = cli_finish_output(&j);
	cli_json_free(&j);
	return ex;
}

/* `repair DIR`: check first (read-only); only a damaged brain is
 * repaired. */
int cli_cmd_repair(const cli *c, const char *dir)
{
	brain_check_report report;
	char msg[4096] = "";
	int rc = brain_check_report_init(&report, BRAIN_CHECK_REPORT_VERSION);
	if (rc) {
		cli_refused(rc, NULL);
		return REPAIR_CANNOT;
	}
	rc = brain_check(dir, NULL, &report);
	if (rc == BRAIN_OK) {
		int ex = REPAIR_INTACT;
		if (c->json) {
			ex = repair_json(dir, "intact", 0, &report, 0, "");
		} else {
			fputs("intact: ", stdout);
			cli_put_text(stdout, dir, strlen(dir));
			fputs(" (nothing to repair)\n", stdout);
			ex = cli_finish_output(NULL);
		}
		return ex ? REPAIR_CANNOT : REPAIR_INTACT;
	}
	if (rc == BRAIN_ECORRUPT) {
		snprintf(msg, sizeof msg, "%s", brain_errmsg());
		fprintf(stderr, "braincore: damaged: %s\n", msg);
		brain_check_report_init(&report, BRAIN_CHECK_REPORT_VERSION);
		rc = brain_repair(dir, NULL, &report);
	}
	if (rc) {
		snprintf(msg, sizeof msg, "%s", *brain_errmsg() ? brain_errmsg() : brain_strerror(rc));
		cli_refused(rc, "cannot repair");
		if (rc == BRAIN_ECORRUPT)
			fputs("braincore: the checkpoint image is damaged; restore the brain from a "
			      "backup\n", stderr);
		if (c->json)
			repair_json(dir, "cannot", 0, &report, rc, msg);
		return REPAIR_CANNOT;
	}
	int lost = report.dropped_records > 0;
	if (!lost)
		fprintf(stderr, "braincore: repaired: no log record was lost\n");
	else
		fprintf(stderr, "braincore: repaired with losses: %" PRIu64 " log %s dropped "
		        "(the changes %s held are lost)\n", report.dropped_records,
		        report.dropped_records == 1 ? "record" : "records",
		        report.dropped_records == 1 ? "it" : "they");
	int ex;
	if (c->json) {
		ex = repair_json(dir, lost ? "repaired_with_losses" : "repaired", 1, &report, 0, "");
	} else {
		fputs(lost ? "repaired with losses: " : "repaired: ", stdout);
		cli_put_text(stdout, dir, strlen(dir));
		printf(": %" PRIu64 " log %s dropped; it holds %" PRIu64 " %s (generation %" PRIu64
		       ")\n", report.dropped_records, report.dropped_records == 1 ? "record" : "records",
		       report.memories, report.memories == 1 ? "memory" : "memories",
		       report.generation);
		ex = cli_finish_output(NULL);
	}
	if (ex)
		return REPAIR_CANNOT;
	return lost ? REPAIR_LOSSES : REPAIR_INTACT;
}

/*
 * tools/cli.h - the command line of the braincore tool as parsed, and the
 * commands that live outside braincore.c. Uses only the public API.
 */
#ifndef BRAINCORE_CLI_H
#define BRAINCORE_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <braincore.h>

/*
 * The one list of options: X(ID, long name, short name or 0, takes a value).
 * It makes the option table (cli_args.c) and the bits of cli.seen, which
 * the command table (braincore.c) checks against the options each command
 * takes.
 */
#define CLI_OPTION_LIST(X)                   \
	X(JSON, "json", 0, 0)                    \
	X(DIMENSIONS, "dimensions", 0, 1)        \
	X(PARAM, "param", 0, 1)                  \
	X(HELP, "help", 'h', 0)                  \
	X(VERSION, "version", 0, 0)              \
	X(IMPORTANCE, "importance", 0, 1)        \
	X(MEMORIES, "memories", 'm', 1)          \
	X(K, "k", 'k', 1)                        \
	X(DB, "db", 0, 1)                        \
	X(SYNC, "sync", 0, 1)                    \
	X(READ_ONLY, "read-only", 0, 0)          \
	X(META, "meta", 0, 1)                    \
	X(WHERE, "where", 0, 1)                  \
	X(WEIGHT, "weight", 0, 1)                \
	X(VERB, "verb", 0, 1)                    \
	X(DIR, "dir", 0, 1)                      \
	X(MODE, "mode", 0, 1)                    \
	X(KEY, "key", 0, 1)                      \
	X(SIZE, "size", 0, 1)                    \
	X(MODEL, "model", 0, 1)                  \
	X(BATCH, "batch", 0, 1)                  \
	X(SKIP_BAD, "skip-bad", 0, 0)            \
	X(VECTORS, "vectors", 0, 0)              \
	X(AFTER, "after", 0, 1)                  \
	X(LIMIT, "limit", 0, 1)                  \
	X(QUERIES, "queries", 0, 1)

enum cli_opt {
#define CLI__OPT_ENUM(id, name, short_name, has_arg) CLI_OPT_##id,
	CLI_OPTION_LIST(CLI__OPT_ENUM)
#undef CLI__OPT_ENUM
	CLI_OPT__COUNT
};

/* The bit of an option in cli.seen and in a command's mask. */
#define CLI_BIT(id) (UINT64_C(1) << CLI_OPT_##id)

typedef struct param_set {
	int param;
	int64_t value;
} param_set;

typedef struct cli {
	const char *command;
	uint64_t seen; /* CLI_BIT of every option given */
	int json;
	int help, version;
	uint32_t dimensions;
	param_set *params;
	size_t nparams;
	const char **files; /* -m FILE */
	size_t nfiles;
	float importance;
	size_t k;
	const char *meta;  /* --meta JSON */
	const char *key;   /* --key K */
	size_t size;       /* --size N (document) */
	const char *where; /* --where FILTER */
	float weight;      /* --weight W */
	const char *verb;  /* --verb V */
	int dir;           /* --dir: enum brain_direction, 0 if not given */
	int mode;          /* --mode: enum brain_recall_kind */
	const char *db;    /* --db DIR, or NULL for an in-memory brain */
	const char *model; /* --model PATH */
	int sync;
	int read_only;
	size_t batch;      /* --batch N (import) */
	int skip_bad;      /* --skip-bad (import) */
	int vectors;       /* --vectors (export) */
	brain_id after;    /* --after ID (list) */
	uint64_t limit;    /* --limit N (list) */
	size_t queries;    /* --queries N (bench) */
	const char **args;
	size_t nargs;
} cli;

/* Whether option `id` was given. */
#define CLI_HAS(c, id) (((c)->seen & CLI_BIT(id)) != 0)

/* cli_args.c */

/* Fill c from argv. The arrays in c must hold argc entries each. Returns
 * CLI_EXIT_OK or CLI_EXIT_USAGE (said why). */
int cli_parse_args(cli *c, int argc, char **argv);

/* "--where", "-k": an option as the user spells it, for messages. */
const char *cli_option_spelling(int opt);

/* "braincore: WHAT 'ARG'" and a hint on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *what, const char *arg);

/* A memory id (a whole number, not BRAIN_ID_NONE) into *id; a usage
 * error otherwise. */
int cli_parse_id(const char *s, brain_id *id);

/* An importance: a decimal number in [0, 1]. 0 or -1. */
int cli_parse_importance(const char *s, float *out);

/* braincore.c */

/* Open the brain of c: in memory, or with --db the one in c->db (read-only
 * if c->read_only or `read_only`; then it must exist), with c's
 * parameters set. Returns CLI_EXIT_OK or CLI_EXIT_REFUSED (said why). */
int cli_open_brain(const cli *c, int read_only, brain_t **out);

/* Remember the lines of every -m file of c (reported line by line). */
int cli_load_memories(brain_t *b, const cli *c);

/* cli_memories.c: get, list, forget, document, relate, neighbors */
int cli_cmd_get(const cli *c, brain_t *b);
int cli_cmd_list(const cli *c, brain_t *b);
int cli_cmd_forget(const cli *c, brain_t *b);
int cli_cmd_document(const cli *c, brain_t *b);
int cli_cmd_relate(const cli *c, brain_t *b);
int cli_cmd_neighbors(const cli *c, brain_t *b);

/* cli_admin.c: commands on a brain's directory */
int cli_cmd_check(const cli *c, const char *dir);
int cli_cmd_stats(const cli *c, const char *dir);
int cli_cmd_backup(const cli *c, const char *dir);
int cli_cmd_repair(const cli *c, const char *dir);

/* cli_import.c, cli_export.c: JSON Lines in and out */
int cli_cmd_import(const cli *c, brain_t *b);
int cli_cmd_export(const cli *c, brain_t *b);

/* cli_bench.c */
int cli_cmd_bench(const cli *c, brain_t *b);

#endif /* BRAINCORE_CLI_H */

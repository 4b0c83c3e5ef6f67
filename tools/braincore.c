/*
 * tools/braincore.c - the braincore command-line tool: its help, its
 * command table and main; remember, recall, think and demo.
 *
 *     braincore [options] demo
 *     braincore [options] remember [--importance X] [--key K] [-m FILE] TEXT...
 *     braincore [options] recall [-k N] [--where F] [-m FILE] QUERY...
 *     braincore [options] think [-m FILE] INPUT...
 *     braincore --db DIR get|list|forget|import|export|bench ...
 *     braincore [--json] check|stats|repair DIR, backup DIR DEST
 *     braincore embed-check MODEL [STS_FILE]
 *
 * remember, recall and think work on an in-memory brain that lives for
 * that one command, or with --db DIR on the on-disk brain in DIR (created
 * if missing; an existing one is opened with its own stored options unless
 * --dimensions is given). Commands that only read (get, list, export,
 * bench) open it read-only. check verifies a brain on disk without
 * changing it; stats opens one read-only and shows its counters. The tool
 * is a consumer of the library: it uses only the public API in include/.
 * Exit codes: 0 success, 1 the library refused something (or a file could
 * not be read, or check found damage), 2 usage error; import --skip-bad 3
 * when it skipped lines; repair its own (cli_admin.c). The manual is
 * tools/braincore.1.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <braincore.h>

#include "cli.h"
#include "cli_json.h"
#include "cli_output.h"

#define DEFAULT_IMPORTANCE 0.5f
#define DEFAULT_RECALL_K 5
/* Most refused lines of a memories file reported one by one. */
#define MAX_LINE_REPORTS 20

/* The help, in parts: C11 compilers need not take a literal over 4095 bytes. */
static const char *const usage_text =
	"Usage: braincore [options] COMMAND [ARGS...]\n"
	"\n"
	"An embedded AI memory on the command line. remember, recall and think work\n"
	"on an in-memory brain that lives for that one command, or with --db DIR on\n"
	"a brain kept on disk in DIR. The manual: man braincore.\n"
	"\n"
	"Commands:\n"
	"  demo                      remember a built-in corpus, then recall and think over it\n"
	"  remember [--importance X] [--meta JSON] [--key K] [-m FILE] TEXT...\n"
	"                            remember each TEXT (and each line of FILE); print the ids\n"
	"  recall [-k N] [--where FILTER] [--mode M] [-m FILE] QUERY...\n"
	"                            print the N (default 5) best memories for each QUERY\n"
	"  think [-m FILE] INPUT...  think over each INPUT in turn (follow-ups work); print\n"
	"                            the answers\n"
	"  document [--size N] KEY FILE\n"
	"                            remember FILE ('-': stdin) as the document KEY: cut into\n"
	"                            passages of whole sentences up to N bytes (default\n"
	"                            1000), each a memory; a document KEY had is replaced\n"
	"  relate [--weight W] FROM TO VERB\n"
	"                            relate memory FROM to memory TO by VERB (weight W,\n"
	"                            default 1); relating again sets the weight\n"
	"  neighbors [--verb V] [--dir out|in|both] ID\n"
	"                            print the relations of memory ID (default: both ways)\n"
	"  get ID...                 show memories: text, key, importance, times, metadata\n"
	"  list [--where FILTER] [--after ID] [--limit N]\n"
	"                            list the memories (those FILTER passes) in id order,\n"
	"                            from the first id above ID, at most N\n"
	"  forget ID...              forget these memories for good (all are looked up\n"
	"                            first: a missing one forgets none)\n"
	"  forget --where FILTER     forget every memory FILTER passes\n";

static const char *const usage_text2 =
	"  import [--batch N] [--skip-bad] [--importance X] FILE|-\n"
	"                            remember each line of FILE ('-': stdin), a JSON object\n"
	"                            {\"text\", \"key\", \"importance\", \"metadata\", \"vector\",\n"
	"                            \"id\", \"valid_from\", \"valid_until\"} as export writes\n"
	"                            it, N texts at a time (default 512). A bad line stops\n"
	"                            the import with its number; the lines before it stay\n"
	"                            imported. --skip-bad: report it, go on, exit 3 at the\n"
	"                            end. A progress bar on stderr when it is a terminal.\n"
	"  export [--where FILTER] [--vectors] [FILE|-]\n"
	"                            write every memory (those FILTER passes) as JSON Lines\n"
	"                            import reads back, to FILE (written whole or not at\n"
	"                            all) or stdout; --vectors adds each stored vector\n"
	"  bench [--queries N] [-k K]\n"
	"                            measure recall on this brain, opened read-only: N\n"
	"                            (default 200) of its texts as queries, latency p50,\n"
	"                            p90, p99, max and recall@K (default 10) against an\n"
	"                            exact scan, for HNSW_EF_SEARCH 16 to 256\n"
	"  check DIR                 verify every byte of the on-disk brain in DIR without\n"
	"                            changing it; exit 1 if it is damaged\n"
	"  stats DIR                 open the brain in DIR read-only and show its counters\n"
	"  backup DIR DEST           copy the brain in DIR as it is now to the new brain\n"
	"                            DEST (a directory that holds no brain)\n"
	"  repair DIR                salvage a brain whose log is damaged: keep the records\n"
	"                            before the damage, drop the rest (exit 0 intact or\n"
	"                            nothing lost, 1 records lost, 2 it cannot be repaired)\n"
	"  embed-check MODEL [STS_FILE]\n"
	"                            load a sentence-encoder model (.gguf file or Hugging\n"
	"                            Face directory), show its size and speed and, with an\n"
	"                            STS Benchmark file, its Spearman correlation\n"
	"\n"
	"get, list, forget, import, export and bench need --db DIR; check, stats,\n"
	"backup and repair take DIR or --db DIR.\n"
	"\n";

static const char *const usage_options =
	"Options (anywhere on the line; '--' ends them):\n"
	"  -m, --memories FILE       remember FILE's lines first, one memory per line; '-' is\n"
	"                            stdin. A line may start with an importance in [0, 1] and\n"
	"                            a TAB. Blank lines are skipped. May be repeated.\n"
	"  --importance X            importance in [0, 1] of TEXTs, of file lines and of\n"
	"                            import rows that give none (default 0.5)\n"
	"  -k, --k N                 number of memories recall shows (default 5); bench: the\n"
	"                            K of recall@K (default 10)\n"
	"  --key K                   remember one TEXT under the key K: the memory K had\n"
	"                            is replaced (its id kept), else a new one holds K\n"
	"  --meta JSON               metadata of each TEXT remember stores, a JSON object:\n"
	"                            '{\"kind\":\"note\",\"ts\":1700000000,\"tags\":[\"billing\"]}'\n"
	"  --mode M                  how recall ranks: semantic (default: by meaning),\n"
	"                            keyword (BM25 over the words; \"quoted phrases\" must\n"
	"                            appear as such) or hybrid (both, by reciprocal rank)\n"
	"  --where FILTER            recall, list, export or forget only memories whose\n"
	"                            metadata passes FILTER: 'kind = \"note\" AND ts >=\n"
	"                            1700000000 AND tags CONTAINS \"billing\"' (operators\n"
	"                            = != < <= > >= IN CONTAINS EXISTS AND OR NOT,\n"
	"                            parentheses; include/braincore/filter.h)\n"
	"  --batch N                 import: texts remembered per batch, made durable\n"
	"                            together (1 to 1048576, default 512)\n"
	"  --skip-bad                import: report bad lines and go on (exit 3 at the end)\n"
	"  --vectors                 export: each memory's stored vector too\n"
	"  --after ID                list: start after memory ID\n"
	"  --limit N                 list: at most N memories\n"
	"  --queries N               bench: how many of the brain's texts to ask (default 200)\n"
	"  --json                    write one JSON document instead of text\n";

static const char *const usage_options2 =
	"  --model PATH              embed with this BERT sentence encoder (a .gguf file or a\n"
	"                            Hugging Face directory; docs/embedder.md) instead of\n"
	"                            the built-in embedder; the brain takes its dimensions\n"
	"  --dimensions N            vector dimensions of the brain (default 384; with --db,\n"
	"                            an existing brain keeps its own unless this is given,\n"
	"                            and then it must match)\n"
	"  --db DIR                  keep the brain on disk in directory DIR (created if\n"
	"                            missing) instead of in memory: what remember stores\n"
	"                            stays for later commands\n"
	"  --sync MODE               full (default), normal or off: when a change to a --db\n"
	"                            brain is safe from a crash or power loss\n"
	"                            (docs/durability.md)\n"
	"  --read-only               open the --db brain for reading only (recall, think;\n"
	"                            get, list, export and bench always do)\n"
	"  --param NAME=VALUE        set a run-time parameter (see below); may be repeated\n"
	"  -h, --help                show this help\n"
	"  --version                 show the library version\n"
	"\n"
	"Exit status: 0 success, 1 the library refused something, a file could not be\n"
	"read or check found damage, 2 usage error; 3 import --skip-bad skipped lines;\n"
	"repair: 0 intact or nothing lost, 1 records lost, 2 it cannot repair.\n";

/* One memory remembered by `remember`, for its output. */
typedef struct remembered {
	brain_id id;
	const char *source; /* file name, or NULL for a TEXT argument */
	unsigned long line;
} remembered;

typedef struct remembered_list {
	remembered *v;
	size_t len, cap;
} remembered_list;

static void print_help(void)
{
	fputs(usage_text, stdout);
	fputs(usage_text2, stdout);
	fputs(usage_options, stdout);
	fputs(usage_options2, stdout);
	fputs("\nParameters (--param NAME=VALUE; fractions in thousandths):\n", stdout);
	for (int p = 1; p <= CLI_PARAM_SCAN_LAST; p++) {
		const char *name = brain_param_name(p);
		int64_t min, max, def;
		if (!name || brain_param_bounds(p, &min, &max, &def))
			continue;
		printf("  %-26s %" PRId64 "..%" PRId64 ", default %" PRId64 "\n", name, min, max,
		       def);
	}
}

/* ------------------------------------------------------------------------ */
/* The brain                                                                */
/* ------------------------------------------------------------------------ */

/* Open the brain of c: in memory, or with --db the one in c->db. An
 * existing on-disk brain is opened with its stored options (so that
 * --dimensions need not be repeated), a missing one is created (unless
 * read-only); with --dimensions the library checks it against the brain on
 * disk. */
int cli_open_brain(const cli *c, int read_only, brain_t **out)
{
	read_only = read_only || c->read_only;
	brain_options opts;
	int rc = brain_options_init(&opts, BRAIN_OPTIONS_VERSION);
	if (rc)
		return cli_refused(rc, NULL);
	if (c->model) {
		opts.embedder = BRAIN_EMBEDDER_MODEL;
		opts.model_path = c->model;
		opts.dimensions = 0; /* the model's */
	}
	if (CLI_HAS(c, DIMENSIONS))
		opts.dimensions = c->dimensions;
	if (!c->db) {
		rc = brain_open(NULL, &opts, out);
	} else {
		opts.sync = CLI_HAS(c, SYNC) ? c->sync : BRAIN_SYNC_FULL;
		if (read_only)
			opts.flags |= BRAIN_OPEN_READONLY;
		if (CLI_HAS(c, DIMENSIONS)) {
			rc = brain_open(c->db, &opts, out);
		} else {
			brain_options stored = opts;
			stored.flags |= BRAIN_OPEN_STORED_OPTIONS;
			rc = brain_open(c->db, &stored, out);
			if (rc == BRAIN_ENOTFOUND && !read_only)
				rc = brain_open(c->db, &opts, out); /* a new brain */
		}
	}
	if (rc) {
		cli_refused(rc, NULL);
		if (rc == BRAIN_EMISMATCH && CLI_HAS(c, DIMENSIONS))
			fprintf(stderr,
			        "braincore: note: leave out --dimensions to use the brain in %s "
			        "with its own dimensions\n",
			        c->db);
		return CLI_EXIT_REFUSED;
	}
	for (size_t i = 0; i < c->nparams; i++) {
		rc = brain_set_param(*out, c->params[i].param, c->params[i].value);
		if (rc) {
			int ex = cli_refused(rc, "--param");
			rc = brain_close(*out);
			if (rc)
				cli_refused(rc, "closing the brain");
			*out = NULL;
			return ex;
		}
	}
	return CLI_EXIT_OK;
}

static int list_push(remembered_list *l, brain_id id, const char *source, unsigned long line)
{
	if (!l)
		return 0;
	if (l->len == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		remembered *v = realloc(l->v, cap * sizeof *v);
		if (!v)
			return -1;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->len].id = id;
	l->v[l->len].source = source;
	l->v[l->len].line = line;
	l->len++;
	return 0;
}

/* Remember the lines of one file. Refused lines are reported as
 * "file:line: NAME: message" and counted in *bad; reading stops only at the
 * end of the file (or on out of memory). */
static int load_file(brain_t *b, const char *path, float importance, remembered_list *list,
                     unsigned long *bad)
{
	const char *shown;
	FILE *f = cli_open_input(path, &shown);
	if (!f)
		return CLI_EXIT_REFUSED;
	char *line = NULL;
	size_t cap = 0;
	ssize_t got;
	unsigned long lineno = 0;
	int ex = CLI_EXIT_OK;
	while ((got = getline(&line, &cap, f)) >= 0) {
		size_t len = (size_t)got;
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		char *text = line;
		if (lineno == 1 && len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
			text += 3; /* a byte order mark */
			len -= 3;
		}
		if (strspn(text, " \t") == len)
			continue; /* empty or blank */
		if (strlen(text) != len) {
			if (++*bad <= MAX_LINE_REPORTS)
				fprintf(stderr, "braincore: %s:%lu: the line contains a NUL byte\n", shown,
				        lineno);
			continue;
		}
		float imp = importance;
		char *tab = strchr(text, '\t');
		if (tab && tab > text && (size_t)(tab - text) == strspn(text, "0123456789.")) {
			*tab = '\0';
			if (cli_parse_importance(text, &imp)) {
				if (++*bad <= MAX_LINE_REPORTS)
					fprintf(stderr,
					        "braincore: %s:%lu: importance %s is not a number in [0, 1]\n",
					        shown, lineno, text);
				continue;
			}
			text = tab + 1;
		}
		brain_id id = BRAIN_ID_NONE;
		int rc = brain_remember_ex(b, text, NULL, imp, &id);
		if (rc) {
			if (++*bad <= MAX_LINE_REPORTS) {
				char loc[4096];
				snprintf(loc, sizeof loc, "%s:%lu", shown, lineno);
				cli_refused(rc, loc);
			}
			if (rc == BRAIN_ENOMEM) {
				ex = CLI_EXIT_REFUSED;
				break;
			}
			continue;
		}
		if (list_push(list, id, path, lineno)) {
			ex = cli_out_of_memory();
			break;
		}
	}
	if (ex == CLI_EXIT_OK && ferror(f)) {
		fprintf(stderr, "braincore: cannot read %s: %s\n", shown, strerror(errno));
		ex = CLI_EXIT_REFUSED;
	}
	free(line);
	if (f == stdin)
		clearerr(stdin); /* a second "-m -" reads on */
	cli_close_input(f);
	return ex;
}

/* Remember the lines of every -m file. */
static int load_memories(brain_t *b, const cli *c, remembered_list *list)
{
	float imp = CLI_HAS(c, IMPORTANCE) ? c->importance : DEFAULT_IMPORTANCE;
	unsigned long bad = 0;
	for (size_t i = 0; i < c->nfiles; i++) {
		int ex = load_file(b, c->files[i], imp, list, &bad);
		if (ex)
			return ex;
	}
	if (bad > MAX_LINE_REPORTS)
		fprintf(stderr, "braincore: %lu more refused lines not shown\n",
		        bad - MAX_LINE_REPORTS);
	if (bad) {
		fprintf(stderr, "braincore: %lu %s refused\n", bad,
		        bad == 1 ? "line was" : "lines were");
		return CLI_EXIT_REFUSED;
	}
	return CLI_EXIT_OK;
}
int cli_load_memories(brain_t *b, const cli *c)
{
	return load_memories(b, c, NULL);
}

/* ------------------------------------------------------------------------ */
/* Commands                                                                 */
/* ------------------------------------------------------------------------ */

static int cmd_remember(const cli *c, brain_t *b)
{
	remembered_list list = {NULL, 0, 0};
	float imp = CLI_HAS(c, IMPORTANCE) ? c->importance : DEFAULT_IMPORTANCE;
	int ex = load_memories(b, c, &list);
	for (size_t i = 0; ex == CLI_EXIT_OK && i < c->nargs; i++) {
		brain_id id = BRAIN_ID_NONE;
		int rc = c->key ? brain_upsert(b, c->key, c->args[i], strlen(c->args[i]), NULL, imp,
		                               c->meta, &id)
		                : brain_remember_with(b, c->args[i], imp, c->meta, &id);
		if (rc)
			ex = cli_refused(rc, NULL);
		else if (list_push(&list, id, NULL, 0))
			ex = cli_out_of_memory();
	}
	if (ex) {
		free(list.v);
		return ex;
	}
	if (!c->json) {
		for (size_t i = 0; i < list.len; i++)
			printf("%" PRIu64 "\n", list.v[i].id);
		free(list.v);
		return cli_finish_output(NULL);
	}
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "count");
	cli_json_uint(&j, list.len);
	cli_json_key(&j, "remembered");
	cli_json_begin_array(&j);
	for (size_t i = 0; i < list.len; i++) {
		brain_results *r = NULL;
		cli_json_begin_object(&j);
		cli_json_key(&j, "id");
		cli_json_uint(&j, list.v[i].id);
		if (list.v[i].source) {
			cli_json_key(&j, "file");
			cli_json_string(&j, list.v[i].source);
			cli_json_key(&j, "line");
			cli_json_uint(&j, list.v[i].line);
		}
		int rc = brain_get(b, list.v[i].id, &r);
		if (rc) {
			ex = cli_refused(rc, NULL);
			cli_json_end_object(&j);
			break;
		}
		cli_json_key(&j, "importance");
		cli_json_number(&j, (double)brain_results_importance(r, 0), 3);
		cli_json_key(&j, "text");
		cli_json_string_n(&j, brain_results_text(r, 0), brain_results_text_len(r, 0));
		cli_json_key(&j, "metadata");
		cli_json_raw(&j, brain_results_metadata(r, 0));
		brain_results_free(r);
		cli_json_end_object(&j);
	}
	free(list.v);
	return cli_end_listing(&j, ex, true);
}

static int cmd_recall(const cli *c, brain_t *b)
{
	size_t k = CLI_HAS(c, K) ? c->k : DEFAULT_RECALL_K;
	int ex = load_memories(b, c, NULL);
	if (ex)
		return ex;
	if (!c->json && brain_count(b) == 0) {
		if (c->db)
			fprintf(stderr,
			        "braincore: note: the brain in %s is empty; give it memories with "
			        "remember --db or -m FILE\n",
			        c->db);
		else
			fputs("braincore: note: the brain is empty; give it memories with -m FILE\n",
			      stderr);
	}
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "memories");
	cli_json_uint(&j, brain_count(b));
	cli_json_key(&j, "k");
	cli_json_uint(&j, k);
	cli_json_key(&j, "queries");
	cli_json_begin_array(&j);
	brain_filter *where = NULL;
	if (c->where) {
		int rc = brain_filter_parse(c->where, &where);
		if (rc) {
			cli_json_free(&j);
			return cli_refused(rc, "--where");
		}
	}
	for (size_t i = 0; i < c->nargs; i++) {
		brain_results *r = NULL;
		int rc = brain_recall_mode(b, c->args[i], k, CLI_HAS(c, MODE) ? c->mode : BRAIN_SEMANTIC,
		                           where, &r);
		if (rc) {
			ex = cli_refused(rc, NULL);
			break;
		}
		if (c->json) {
			cli_json_begin_object(&j);
			cli_json_key(&j, "query");
			cli_json_string(&j, c->args[i]);
			cli_json_key(&j, "results");
			cli_results_json(&j, r);
			cli_json_end_object(&j);
		} else {
			if (c->nargs > 1) {
				printf("%s? ", i ? "\n" : "");
				cli_put_text(stdout, c->args[i], strlen(c->args[i]));
				fputc('\n', stdout);
			}
			if (brain_results_count(r) == 0)
				printf("no memory matches (RECALL_MIN_SCORE is %" PRId64 ")\n",
				       cli_get_param(b, BRAIN_PARAM_RECALL_MIN_SCORE));
			cli_print_memories(r, "");
		}
		brain_results_free(r);
	}
	brain_filter_free(where);
	return cli_end_listing(&j, ex, c->json);
}

static int cmd_think(const cli *c, brain_t *b)
{
	int ex = load_memories(b, c, NULL);
	if (ex)
		return ex;
	cli_json j;
	cli_json_init(&j);
	cli_json_begin_object(&j);
	cli_json_key(&j, "memories");
	cli_json_uint(&j, brain_count(b));
	cli_json_key(&j, "thoughts");
	cli_json_begin_array(&j);
	for (size_t i = 0; i < c->nargs; i++) {
		brain_results *r = NULL;
		int rc = brain_think_ex(b, c->args[i], &r);
		if (rc) {
			ex = cli_refused(rc, NULL);
			break;
		}
		const char *answer = brain_results_answer(r);
		if (c->json) {
			cli_json_begin_object(&j);
			cli_json_key(&j, "input");
			cli_json_string(&j, c->args[i]);
			cli_json_key(&j, "answer");
			cli_json_string(&j, answer ? answer : "");
			cli_json_key(&j, "memories");
			cli_results_json(&j, r);
			cli_json_end_object(&j);
		} else {
			if (c->nargs > 1) {
				printf("%s> ", i ? "\n" : "");
				cli_put_text(stdout, c->args[i], strlen(c->args[i]));
				fputc('\n', stdout);
			}
			cli_put_lines(stdout, answer ? answer : "", "");
			cli_print_used(r, "");
		}
		brain_results_free(r);
	}
	return cli_end_listing(&j, ex, c->json);
}

static int cmd_demo(const cli *c, brain_t *b)
{
	return cli_demo(b, c->json);
}

/* ------------------------------------------------------------------------ */
/* The commands                                                             */
/* ------------------------------------------------------------------------ */

enum {
	CMD_CHANGES = 1,  /* changes the brain: not --read-only */
	CMD_READS = 2,    /* only reads: opens the brain read-only (it must exist) */
	CMD_NEEDS_DB = 4, /* an on-disk brain: an in-memory one would be empty */
	CMD_BULK = 8      /* --sync normal unless given: it syncs once it is done */
};

/* Options of a brain kept on disk, and of one only read. */
#define OPTS_BRAIN                                                                             \
	(CLI_BIT(DB) | CLI_BIT(SYNC) | CLI_BIT(READ_ONLY) | CLI_BIT(PARAM) | CLI_BIT(DIMENSIONS) | \
	 CLI_BIT(MODEL))
#define OPTS_READ \
	(CLI_BIT(DB) | CLI_BIT(READ_ONLY) | CLI_BIT(PARAM) | CLI_BIT(DIMENSIONS) | CLI_BIT(MODEL))

typedef struct command {
	const char *name;
	const char *synopsis;                     /* its arguments, for usage errors */
	int (*on_brain)(const cli *, brain_t *);  /* on the brain of --db, or in memory */
	int (*on_dir)(const cli *, const char *); /* on the directory DIR (or --db DIR) */
	uint64_t options;                         /* the options it takes besides --json */
	unsigned flags;
	size_t min_args, max_args;                /* after DIR for on_dir */
} command;

#define MANY SIZE_MAX

static const command g_commands[] = {
	{"demo", "demo", cmd_demo, NULL, CLI_BIT(DIMENSIONS) | CLI_BIT(PARAM) | CLI_BIT(MODEL), 0,
	 0, 0},
	{"remember", "remember [--importance X] [--meta JSON] [--key K] [-m FILE] TEXT...",
	 cmd_remember, NULL,
	 OPTS_BRAIN | CLI_BIT(IMPORTANCE) | CLI_BIT(MEMORIES) | CLI_BIT(META) | CLI_BIT(KEY),
	 CMD_CHANGES, 0, MANY},
	{"recall", "recall [-k N] [--where FILTER] [--mode M] [-m FILE] QUERY...", cmd_recall, NULL,
	 OPTS_BRAIN | CLI_BIT(MEMORIES) | CLI_BIT(K) | CLI_BIT(WHERE) | CLI_BIT(MODE), 0, 1, MANY},
	{"think", "think [-m FILE] INPUT...", cmd_think, NULL, OPTS_BRAIN | CLI_BIT(MEMORIES), 0, 1,
	 MANY},
	{"document", "document [--size N] KEY FILE", cli_cmd_document, NULL,
	 OPTS_BRAIN | CLI_BIT(IMPORTANCE) | CLI_BIT(META) | CLI_BIT(SIZE), CMD_CHANGES, 2, 2},
	{"relate", "relate [--weight W] FROM TO VERB", cli_cmd_relate, NULL,
	 OPTS_BRAIN | CLI_BIT(MEMORIES) | CLI_BIT(WEIGHT), CMD_CHANGES, 3, 3},
	{"neighbors", "neighbors [--verb V] [--dir out|in|both] ID", cli_cmd_neighbors, NULL,
	 OPTS_BRAIN | CLI_BIT(MEMORIES) | CLI_BIT(VERB) | CLI_BIT(DIR), 0, 1, 1},
	{"get", "get ID...", cli_cmd_get, NULL, OPTS_READ, CMD_READS | CMD_NEEDS_DB, 1, MANY},
	{"list", "list [--where FILTER] [--after ID] [--limit N]", cli_cmd_list, NULL,
	 OPTS_READ | CLI_BIT(WHERE) | CLI_BIT(AFTER) | CLI_BIT(LIMIT), CMD_READS | CMD_NEEDS_DB, 0,
	 0},
	{"forget", "forget ID... | forget --where FILTER", cli_cmd_forget, NULL,
	 OPTS_BRAIN | CLI_BIT(WHERE), CMD_CHANGES | CMD_NEEDS_DB, 0, MANY},
	{"import", "import [--batch N] [--skip-bad] [--importance X] FILE|-", cli_cmd_import, NULL,
	 OPTS_BRAIN | CLI_BIT(IMPORTANCE) | CLI_BIT(BATCH) | CLI_BIT(SKIP_BAD),
	 CMD_CHANGES | CMD_NEEDS_DB | CMD_BULK, 1, 1},
	{"export", "export [--where FILTER] [--vectors] [FILE|-]", cli_cmd_export, NULL,
	 OPTS_READ | CLI_BIT(WHERE) | CLI_BIT(VECTORS), CMD_READS | CMD_NEEDS_DB, 0, 1},
	{"bench", "bench [--queries N] [-k K]", cli_cmd_bench, NULL,
	 OPTS_READ | CLI_BIT(K) | CLI_BIT(QUERIES), CMD_READS | CMD_NEEDS_DB, 0, 0},
	{"check", "check DIR", NULL, cli_cmd_check, CLI_BIT(DB), 0, 0, 0},
	{"stats", "stats DIR", NULL, cli_cmd_stats, CLI_BIT(DB), 0, 0, 0},
	{"backup", "backup DIR DEST", NULL, cli_cmd_backup, CLI_BIT(DB), 0, 1, 1},
	{"repair", "repair DIR", NULL, cli_cmd_repair, CLI_BIT(DB), 0, 0, 0},
	{"embed-check", "embed-check MODEL [STS_FILE]", NULL, NULL, 0, 0, 1, 2},
};

/* A usage error: the command's synopsis after what was wrong. */
static int misused(const command *cmd, const char *what)
{
	fprintf(stderr, "braincore: %s\n", what);
	fprintf(stderr, "Usage: braincore [options] %s\n", cmd->synopsis);
	fputs("Try 'braincore --help'.\n", stderr);
	return CLI_EXIT_USAGE;
}

/* Options and argument counts the command does not take: a usage error. */
static int check_usage(const cli *c, const command *cmd)
{
	char what[160];
	uint64_t stray = c->seen & ~(cmd->options | CLI_BIT(JSON));
	for (int o = 0; o < CLI_OPT__COUNT; o++) {
		if (stray & (UINT64_C(1) << o)) {
			snprintf(what, sizeof what, "%s is not an option of %s", cli_option_spelling(o),
			         cmd->name);
			return misused(cmd, what);
		}
	}
	size_t nargs = c->nargs;
	if (cmd->on_dir) {
		if (!c->db && nargs == 0) {
			snprintf(what, sizeof what, "%s needs the brain's directory (DIR or --db DIR)",
			         cmd->name);
			return misused(cmd, what);
		}
		if (!c->db)
			nargs--; /* DIR */
		if (!c->db && !*c->args[0]) {
			snprintf(what, sizeof what, "the directory name is empty for %s", cmd->name);
			return misused(cmd, what);
		}
	}
	if (nargs < cmd->min_args || nargs > cmd->max_args) {
		if (cmd->on_dir && c->db && nargs > cmd->max_args)
			snprintf(what, sizeof what, "give the brain's directory once (DIR or --db DIR); "
			         "unexpected '%s'", c->args[c->nargs - 1]);
		else if (nargs < cmd->min_args)
			snprintf(what, sizeof what, "%s needs %s more argument%s", cmd->name,
			         cmd->min_args - nargs == 1 ? "one" : "more",
			         cmd->min_args - nargs == 1 ? "" : "s");
		else
			snprintf(what, sizeof what, "%s takes %s; unexpected '%s'", cmd->name,
			         cmd->max_args == 0 ? "no arguments" : "fewer arguments",
			         c->args[c->nargs - 1]);
		return misused(cmd, what);
	}
	if (!c->db && (cmd->flags & CMD_NEEDS_DB)) {
		snprintf(what, sizeof what, "%s works on a brain on disk: give --db DIR", cmd->name);
		return misused(cmd, what);
	}
	if (!c->db && CLI_HAS(c, SYNC))
		return misused(cmd, "--sync is for a brain on disk; it needs --db DIR");
	if (!c->db && c->read_only)
		return misused(cmd, "--read-only is for a brain on disk; it needs --db DIR");
	if ((cmd->flags & CMD_CHANGES) && c->read_only) {
		snprintf(what, sizeof what, "%s changes the brain; it cannot be --read-only", cmd->name);
		return misused(cmd, what);
	}
	return CLI_EXIT_OK;
}

/* What a command's arguments must be beyond their count. */
static int check_args(const cli *c, const command *cmd)
{
	if (cmd->on_brain == cmd_remember) {
		if (c->nargs == 0 && c->nfiles == 0)
			return misused(cmd, "remember needs TEXT or -m FILE");
		if (c->key && (c->nargs != 1 || c->nfiles > 0))
			return misused(cmd, "--key names one memory: give one TEXT (and no -m)");
	}
	if (cmd->on_brain == cli_cmd_forget && (c->nargs > 0) == (c->where != NULL))
		return misused(cmd, "forget needs IDs or --where FILTER (one of them)");
	return CLI_EXIT_OK;
}

static int run(cli *c)
{
	const command *cmd = NULL;
	for (size_t i = 0; i < sizeof g_commands / sizeof g_commands[0]; i++)
		if (strcmp(c->command, g_commands[i].name) == 0)
			cmd = &g_commands[i];
	if (!cmd)
		return cli_usage_error("unknown command", c->command);
	int ex = check_usage(c, cmd);
	if (!ex)
		ex = check_args(c, cmd);
	if (ex)
		return ex;
	if (cmd->on_dir)
		return cmd->on_dir(c, c->db ? c->db : c->args[0]);
	if (!cmd->on_brain)
		return cli_embed_check(c->args[0], c->nargs > 1 ? c->args[1] : NULL, c->json);

	cli bulk;
	if ((cmd->flags & CMD_BULK) && !CLI_HAS(c, SYNC)) {
		bulk = *c;
		bulk.sync = BRAIN_SYNC_NORMAL;
		bulk.seen |= CLI_BIT(SYNC);
		c = &bulk;
	}
	brain_t *b = NULL;
	ex = cli_open_brain(c, (cmd->flags & CMD_READS) != 0, &b);
	if (ex)
		return ex;
	ex = cmd->on_brain(c, b);
	/* An on-disk brain writes its last checkpoint here: a failure is the
	 * command's failure, though every change made is still in the log. */
	int rc = brain_close(b);
	if (rc) {
		cli_refused(rc, "closing the brain");
		ex = CLI_EXIT_REFUSED;
	}
	return ex;
}

int main(int argc, char **argv)
{
	cli c;
	int ex;
	memset(&c, 0, sizeof c);
	size_t n = argc > 0 ? (size_t)argc : 1;
	c.params = calloc(n, sizeof *c.params);
	c.files = calloc(n, sizeof *c.files);
	c.args = calloc(n, sizeof *c.args);
	if (!c.params || !c.files || !c.args) {
		ex = cli_out_of_memory();
		goto out;
	}
	ex = cli_parse_args(&c, argc, argv);
	if (ex)
		goto out;
	if (c.help) {
		print_help();
		ex = cli_finish_output(NULL);
	} else if (c.version) {
		printf("braincore %s\n", brain_version_string());
		ex = cli_finish_output(NULL);
	} else if (!c.command) {
		ex = cli_usage_error("no command given (see 'braincore --help')", NULL);
	} else {
		ex = run(&c);
	}
out:
	free(c.params);
	free(c.files);
	free(c.args);
	return ex;
}

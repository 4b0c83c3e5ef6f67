/*
 * tools/braincore.c - the braincore command-line tool.
 *
 *     braincore [options] demo
 *     braincore [options] remember [--importance X] [-m FILE] TEXT...
 *     braincore [options] recall [-k N] [-m FILE] QUERY...
 *     braincore [options] think [-m FILE] INPUT...
 *     braincore [--json] check DIR
 *     braincore [--json] stats DIR
 *     braincore embed-check MODEL [STS_FILE]
 *
 * remember, recall and think work on an in-memory brain that lives for
 * that one command, or with --db DIR on the on-disk brain in DIR (created
 * if missing; an existing one is opened with its own stored options unless
 * --dimensions is given). check verifies a brain on disk without changing
 * it; stats opens one read-only and shows its counters. The tool is a
 * consumer of the library: it uses only the public API in include/. Exit
 * codes: 0 success, 1 the library refused something (or a file could not
 * be read, or check found damage), 2 usage error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <braincore.h>

#include "cli_json.h"
#include "cli_output.h"

#define DEFAULT_IMPORTANCE 0.5f
#define DEFAULT_RECALL_K 5
/* Most refused lines of a memories file reported one by one. */
#define MAX_LINE_REPORTS 20

static const char *const usage_text =
	"Usage: braincore [options] COMMAND [ARGS...]\n"
	"\n"
	"An embedded AI memory on the command line. remember, recall and think work\n"
	"on an in-memory brain that lives for that one command, or with --db DIR on\n"
	"a brain kept on disk in DIR.\n"
	"\n"
	"Commands:\n"
	"  demo                      remember a built-in corpus, then recall and think over it\n"
	"  remember [--importance X] [--meta JSON] [-m FILE] TEXT...\n"
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
	"  check DIR                 verify every byte of the on-disk brain in DIR without\n"
	"                            changing it; exit 1 if it is damaged\n"
	"  stats DIR                 open the brain in DIR read-only and show its counters\n"
	"  embed-check MODEL [STS_FILE]\n"
	"                            load a sentence-encoder model (.gguf file or Hugging\n"
	"                            Face directory), show its size and speed and, with an\n"
	"                            STS Benchmark file, its Spearman correlation\n"
	"\n";

/* in two parts: C11 compilers need not take a longer literal */
static const char *const usage_options =
	"Options (anywhere on the line; '--' ends them):\n"
	"  -m, --memories FILE       remember FILE's lines first, one memory per line; '-' is\n"
	"                            stdin. A line may start with an importance in [0, 1] and\n"
	"                            a TAB. Blank lines are skipped. May be repeated.\n"
	"  --importance X            importance in [0, 1] of TEXTs and of file lines that give\n"
	"                            none (default 0.5)\n"
	"  -k N                      number of memories recall shows (default 5)\n"
	"  --key K                   remember one TEXT under the key K: the memory K had\n"
	"                            is replaced (its id kept), else a new one holds K\n"
	"  --meta JSON               metadata of each TEXT remember stores, a JSON object:\n"
	"                            '{\"kind\":\"note\",\"ts\":1700000000,\"tags\":[\"billing\"]}'\n"
	"  --mode M                  how recall ranks: semantic (default: by meaning),\n"
	"                            keyword (BM25 over the words; \"quoted phrases\" must\n"
	"                            appear as such) or hybrid (both, by reciprocal rank)\n"
	"  --where FILTER            recall only memories whose metadata passes FILTER:\n"
	"                            'kind = \"note\" AND ts >= 1700000000 AND tags CONTAINS\n"
	"                            \"billing\"' (operators = != < <= > >= IN CONTAINS EXISTS\n"
	"                            AND OR NOT, parentheses; include/braincore/filter.h)\n"
	"  --json                    write one JSON document instead of text\n"
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
	"  --read-only               open the --db brain for reading only (recall, think)\n"
	"  --param NAME=VALUE        set a run-time parameter (see below); may be repeated\n"
	"  -h, --help                show this help\n"
	"  --version                 show the library version\n"
	"\n"
	"Exit status: 0 success, 1 the library refused something, a file could not be\n"
	"read or check found damage, 2 usage error.\n";

typedef struct param_set {
	int param;
	int64_t value;
} param_set;

typedef struct cli {
	const char *command;
	int json;
	int help, version;
	int have_dimensions;
	uint32_t dimensions;
	param_set *params;
	size_t nparams;
	const char **files;
	size_t nfiles;
	int have_importance;
	float importance;
	int have_k;
	size_t k;
	const char *meta;  /* --meta JSON */
	const char *key;   /* --key K */
	size_t size;       /* --size N (document), 0 if not given */
	const char *where; /* --where FILTER */
	int have_weight;
	float weight;      /* --weight W */
	const char *verb;  /* --verb V */
	int dir;           /* --dir: enum brain_direction, 0 if not given */
	int have_mode;
	int mode;          /* --mode: enum brain_recall_kind */
	const char *db; /* --db DIR, or NULL for an in-memory brain */
	const char *model; /* --model PATH */
	int have_sync;
	int sync;
	int read_only;
	const char **args;
	size_t nargs;
} cli;

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

/* ------------------------------------------------------------------------ */
/* Messages                                                                 */
/* ------------------------------------------------------------------------ */

static int usage_error(const char *what, const char *arg)
{
	if (arg)
		fprintf(stderr, "braincore: %s '%s'\n", what, arg);
	else
		fprintf(stderr, "braincore: %s\n", what);
	fputs("Try 'braincore --help'.\n", stderr);
	return CLI_EXIT_USAGE;
}

/* ------------------------------------------------------------------------ */
/* Parsing numbers and names                                                */
/* ------------------------------------------------------------------------ */

static int parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		unsigned d = (unsigned)(*s - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

static int parse_i64(const char *s, int64_t *out)
{
	int neg = 0;
	uint64_t u;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	if (parse_u64(s, &u))
		return -1;
	if (neg) {
		if (u > (uint64_t)INT64_MAX + 1)
			return -1;
		*out = u == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
	} else {
		if (u > (uint64_t)INT64_MAX)
			return -1;
		*out = (int64_t)u;
	}
	return 0;
}

/* An importance: a decimal number in [0, 1]. 0 or -1. */
static int parse_importance(const char *s, float *out)
{
	char *end;
	if (!*s || strspn(s, "0123456789.") != strlen(s))
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (*end || errno || !(v >= 0.0 && v <= 1.0))
		return -1;
	*out = (float)v;
	return 0;
}

static int ascii_upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* Case-insensitive comparison of s[0..n) with the NUL-terminated name. */
static int name_equals(const char *s, size_t n, const char *name)
{
	size_t i;
	for (i = 0; i < n; i++)
		if (!name[i] || ascii_upper((unsigned char)s[i]) != ascii_upper((unsigned char)name[i]))
			return 0;
	return name[i] == '\0';
}

/* The number of the parameter called name[0..n) (case does not matter, the
 * BRAIN_PARAM_ prefix is optional), or 0 if the library knows none. */
static int find_param(const char *name, size_t n)
{
	static const char prefix[] = "BRAIN_PARAM_";
	if (n > sizeof prefix - 1 && name_equals(name, sizeof prefix - 1, prefix)) {
		name += sizeof prefix - 1;
		n -= sizeof prefix - 1;
	}
	for (int p = 1; p <= CLI_PARAM_SCAN_LAST; p++) {
		const char *pn = brain_param_name(p);
		if (pn && name_equals(name, n, pn))
			return p;
	}
	return 0;
}

static void print_help(void)
{
	fputs(usage_text, stdout);
	fputs(usage_options, stdout);
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
/* Command line                                                             */
/* ------------------------------------------------------------------------ */

enum opt_id { OPT_JSON, OPT_DIMENSIONS, OPT_PARAM, OPT_HELP, OPT_VERSION, OPT_IMPORTANCE,
	      OPT_MEMORIES, OPT_K, OPT_DB, OPT_SYNC, OPT_READ_ONLY,
	      OPT_META, OPT_WHERE, OPT_WEIGHT, OPT_VERB, OPT_DIR, OPT_MODE, OPT_KEY, OPT_SIZE,
	      OPT_MODEL };

typedef struct opt_def {
	const char *long_name; /* without "--", or NULL */
	char short_name;       /* or 0 */
	int has_arg;
	enum opt_id id;
} opt_def;

static const opt_def g_opts[] = {
	{"json", 0, 0, OPT_JSON},
	{"dimensions", 0, 1, OPT_DIMENSIONS},
	{"param", 0, 1, OPT_PARAM},
	{"help", 'h', 0, OPT_HELP},
	{"version", 0, 0, OPT_VERSION},
	{"importance", 0, 1, OPT_IMPORTANCE},
	{"memories", 'm', 1, OPT_MEMORIES},
	{NULL, 'k', 1, OPT_K},
	{"db", 0, 1, OPT_DB},
	{"sync", 0, 1, OPT_SYNC},
	{"read-only", 0, 0, OPT_READ_ONLY},
	{"meta", 0, 1, OPT_META},
	{"where", 0, 1, OPT_WHERE},
	{"weight", 0, 1, OPT_WEIGHT},
	{"verb", 0, 1, OPT_VERB},
	{"dir", 0, 1, OPT_DIR},
	{"mode", 0, 1, OPT_MODE},
	{"key", 0, 1, OPT_KEY},
	{"size", 0, 1, OPT_SIZE},
	{"model", 0, 1, OPT_MODEL},
};

static int apply_option(cli *c, enum opt_id id, const char *spelled, const char *val)
{
	uint64_t u;
	switch (id) {
	case OPT_JSON:
		c->json = 1;
		break;
	case OPT_HELP:
		c->help = 1;
		break;
	case OPT_VERSION:
		c->version = 1;
		break;
	case OPT_DIMENSIONS:
		if (parse_u64(val, &u) || u == 0 || u > UINT32_MAX)
			return usage_error("--dimensions needs a positive whole number, not", val);
		c->have_dimensions = 1;
		c->dimensions = (uint32_t)u;
		break;
	case OPT_PARAM: {
		const char *eq = strchr(val, '=');
		if (!eq || eq == val)
			return usage_error("--param needs NAME=VALUE, not", val);
		int p = find_param(val, (size_t)(eq - val));
		if (!p)
			return usage_error("unknown parameter (see 'braincore --help') in", val);
		int64_t v;
		if (parse_i64(eq + 1, &v))
			return usage_error("--param value must be a whole number (fractions are in "
			                   "thousandths), not",
			                   val);
		c->params[c->nparams].param = p;
		c->params[c->nparams].value = v;
		c->nparams++;
		break;
	}
	case OPT_IMPORTANCE:
		if (parse_importance(val, &c->importance))
			return usage_error("--importance needs a number in [0, 1], not", val);
		c->have_importance = 1;
		break;
	case OPT_MEMORIES:
		if (!*val)
			return usage_error("the file name is empty in", spelled);
		c->files[c->nfiles++] = val;
		break;
	case OPT_KEY:
		c->key = val;
		break;
	case OPT_MODEL:
		if (!*val)
			return usage_error("the model path is empty in", spelled);
		c->model = val;
		break;
	case OPT_SIZE:
		if (parse_u64(val, &u) || u == 0 || u > SIZE_MAX)
			return usage_error("--size needs a positive whole number of bytes, not", val);
		c->size = (size_t)u;
		break;
	case OPT_K:
		if (parse_u64(val, &u) || u == 0 || u > SIZE_MAX)
			return usage_error("-k needs a positive whole number, not", val);
		c->have_k = 1;
		c->k = (size_t)u;
		break;
	case OPT_DB:
		if (!*val)
			return usage_error("the directory name is empty in", spelled);
		c->db = val;
		break;
	case OPT_SYNC:
		if (name_equals(val, strlen(val), "full"))
			c->sync = BRAIN_SYNC_FULL;
		else if (name_equals(val, strlen(val), "normal"))
			c->sync = BRAIN_SYNC_NORMAL;
		else if (name_equals(val, strlen(val), "off"))
			c->sync = BRAIN_SYNC_OFF;
		else
			return usage_error("--sync needs full, normal or off, not", val);
		c->have_sync = 1;
		break;
	case OPT_READ_ONLY:
		c->read_only = 1;
		break;
	case OPT_META:
		c->meta = val;
		break;
	case OPT_WHERE:
		c->where = val;
		break;
	case OPT_WEIGHT: {
		char *end = NULL;
		double w = strtod(val, &end);
		if (!*val || *end || !(w - w == 0.0))
			return usage_error("--weight needs a finite number, not", val);
		c->weight = (float)w;
		c->have_weight = 1;
		break;
	}
	case OPT_VERB:
		c->verb = val;
		break;
	case OPT_MODE:
		if (name_equals(val, strlen(val), "semantic"))
			c->mode = BRAIN_SEMANTIC;
		else if (name_equals(val, strlen(val), "keyword"))
			c->mode = BRAIN_KEYWORD;
		else if (name_equals(val, strlen(val), "hybrid"))
			c->mode = BRAIN_HYBRID;
		else
			return usage_error("--mode needs semantic, keyword or hybrid, not", val);
		c->have_mode = 1;
		break;
	case OPT_DIR:
		if (name_equals(val, strlen(val), "out"))
			c->dir = BRAIN_DIR_OUT;
		else if (name_equals(val, strlen(val), "in"))
			c->dir = BRAIN_DIR_IN;
		else if (name_equals(val, strlen(val), "both"))
			c->dir = BRAIN_DIR_BOTH;
		else
			return usage_error("--dir needs out, in or both, not", val);
		break;
	}
	return CLI_EXIT_OK;
}

/* Fill c from argv. The arrays in c must hold argc entries each. */
static int parse_args(cli *c, int argc, char **argv)
{
	int only_args = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const opt_def *def = NULL;
		const char *val = NULL;
		if (only_args || a[0] != '-' || a[1] == '\0') {
			if (!c->command)
				c->command = a;
			else
				c->args[c->nargs++] = a;
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_args = 1;
			continue;
		}
		if (a[1] == '-') {
			const char *name = a + 2;
			size_t n = strcspn(name, "=");
			for (size_t d = 0; d < sizeof g_opts / sizeof g_opts[0]; d++)
				if (g_opts[d].long_name && strlen(g_opts[d].long_name) == n &&
				    strncmp(g_opts[d].long_name, name, n) == 0)
					def = &g_opts[d];
			if (!def)
				return usage_error("unknown option", a);
			if (name[n] == '=') {
				if (!def->has_arg)
					return usage_error("option takes no value:", a);
				val = name + n + 1;
			}
		} else {
			for (size_t d = 0; d < sizeof g_opts / sizeof g_opts[0]; d++)
				if (g_opts[d].short_name && g_opts[d].short_name == a[1])
					def = &g_opts[d];
			if (!def)
				return usage_error("unknown option", a);
			if (a[2] != '\0') {
				if (!def->has_arg)
					return usage_error("unknown option", a);
				val = a + 2;
			}
		}
		if (def->has_arg && !val) {
			if (i + 1 >= argc)
				return usage_error("option needs a value:", a);
			val = argv[++i];
		}
		int rc = apply_option(c, def->id, a, val);
		if (rc)
			return rc;
	}
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* The brain                                                                */
/* ------------------------------------------------------------------------ */

/* Open the brain of c: in memory, or with --db the one in c->db. An
 * existing on-disk brain is opened with its stored options (so that
 * --dimensions need not be repeated), a missing one is created; with
 * --dimensions the library checks it against the brain on disk. */
static int open_brain(const cli *c, brain_t **out)
{
	brain_options opts;
	int rc = brain_options_init(&opts, BRAIN_OPTIONS_VERSION);
	if (rc)
		return cli_refused(rc, NULL);
	if (c->model) {
		opts.embedder = BRAIN_EMBEDDER_MODEL;
		opts.model_path = c->model;
		opts.dimensions = 0; /* the model's */
	}
	if (c->have_dimensions)
		opts.dimensions = c->dimensions;
	if (!c->db) {
		rc = brain_open(NULL, &opts, out);
	} else {
		opts.sync = c->have_sync ? c->sync : BRAIN_SYNC_FULL;
		if (c->read_only)
			opts.flags |= BRAIN_OPEN_READONLY;
		if (c->have_dimensions) {
			rc = brain_open(c->db, &opts, out);
		} else {
			brain_options stored = opts;
			stored.flags |= BRAIN_OPEN_STORED_OPTIONS;
			rc = brain_open(c->db, &stored, out);
			if (rc == BRAIN_ENOTFOUND && !c->read_only)
				rc = brain_open(c->db, &opts, out); /* a new brain */
		}
	}
	if (rc) {
		cli_refused(rc, NULL);
		if (rc == BRAIN_EMISMATCH && c->have_dimensions)
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
	int is_stdin = strcmp(path, "-") == 0;
	const char *shown = is_stdin ? "<stdin>" : path;
	FILE *f = is_stdin ? stdin : fopen(path, "r");
	if (!f) {
		fprintf(stderr, "braincore: cannot open %s: %s\n", path, strerror(errno));
		return CLI_EXIT_REFUSED;
	}
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
			if (parse_importance(text, &imp)) {
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
	if (!is_stdin)
		fclose(f);
	else
		clearerr(stdin);
	return ex;
}

/* Remember the lines of every -m file. */
static int load_memories(brain_t *b, const cli *c, remembered_list *list)
{
	float imp = c->have_importance ? c->importance : DEFAULT_IMPORTANCE;
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

/* ------------------------------------------------------------------------ */
/* Commands                                                                 */
/* ------------------------------------------------------------------------ */

/* Close a command's JSON document (an object around one array), print it
 * (or, without json, what was printed already) unless the command failed,
 * and release it. Returns the exit code. */
static int end_listing(cli_json *j, int ex, bool json)
{
	cli_json_end_array(j);
	cli_json_end_object(j);
	if (!ex)
		ex = cli_finish_output(json ? j : NULL);
	cli_json_free(j);
	return ex;
}

static int cmd_remember(const cli *c, brain_t *b)
{
	remembered_list list = {NULL, 0, 0};
	float imp = c->have_importance ? c->importance : DEFAULT_IMPORTANCE;
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
	return end_listing(&j, ex, true);
}

static int cmd_recall(const cli *c, brain_t *b)
{
	size_t k = c->have_k ? c->k : DEFAULT_RECALL_K;
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
		int rc = brain_recall_mode(b, c->args[i], k, c->have_mode ? c->mode : BRAIN_SEMANTIC,
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
	return end_listing(&j, ex, c->json);
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
	return end_listing(&j, ex, c->json);
}

static int parse_id(const char *s, brain_id *id)
{
	uint64_t u;
	if (parse_u64(s, &u) || u == BRAIN_ID_NONE)
		return usage_error("a memory id is a whole number, not", s);
	*id = u;
	return CLI_EXIT_OK;
}

/* A whole file (or stdin) in memory, *len its bytes; NULL (said why) if
 * it cannot be read. */
static char *read_all(const char *path, size_t *len)
{
	bool is_stdin = strcmp(path, "-") == 0;
	FILE *f = is_stdin ? stdin : fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "braincore: cannot open %s: %s\n", path, strerror(errno));
		return NULL;
	}
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
		fprintf(stderr, "braincore: out of memory reading %s\n", path);
	else if (ferror(f)) {
		fprintf(stderr, "braincore: cannot read %s: %s\n", path, strerror(errno));
		free(buf);
		buf = NULL;
	}
	if (!is_stdin)
		fclose(f);
	*len = n;
	return buf;
}

static int cmd_document(const cli *c, brain_t *b)
{
	if (c->nargs != 2)
		return usage_error("document needs KEY FILE", NULL);
	size_t len = 0;
	char *text = read_all(c->args[1], &len);
	if (!text)
		return CLI_EXIT_REFUSED;
	size_t parts = 0;
	float imp = c->have_importance ? c->importance : DEFAULT_IMPORTANCE;
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

static int cmd_relate(const cli *c, brain_t *b)
{
	brain_id from = BRAIN_ID_NONE, to = BRAIN_ID_NONE;
	if (c->nargs != 3)
		return usage_error("relate needs FROM TO VERB", NULL);
	int ex = parse_id(c->args[0], &from);
	if (!ex)
		ex = parse_id(c->args[1], &to);
	if (!ex)
		ex = load_memories(b, c, NULL);
	if (ex)
		return ex;
	float w = c->have_weight ? c->weight : 1.0f;
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

static int cmd_neighbors(const cli *c, brain_t *b)
{
	brain_id id = BRAIN_ID_NONE;
	if (c->nargs != 1)
		return usage_error("neighbors needs one memory ID", NULL);
	int ex = parse_id(c->args[0], &id);
	if (!ex)
		ex = load_memories(b, c, NULL);
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
	return end_listing(&j, CLI_EXIT_OK, c->json);
}

static int cmd_demo(const cli *c, brain_t *b)
{
	return cli_demo(b, c->json);
}

/* `check DIR`: brain_check() and its report. The JSON document is written
 * whatever the outcome, with "ok" and "error"; exit 1 unless intact. */
static int cmd_check(const cli *c, const char *dir)
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
	cli_json_key(&j, "error");
	if (rc) {
		cli_json_begin_object(&j);
		cli_json_key(&j, "code");
		cli_json_string(&j, brain_error_name(rc));
		cli_json_key(&j, "message");
		cli_json_string(&j, *msg ? msg : brain_strerror(rc));
		cli_json_end_object(&j);
	} else {
		cli_json_null(&j);
	}
	cli_json_end_object(&j);
	int out = cli_finish_output(&j);
	cli_json_free(&j);
	return ex ? ex : out;
}

/* `stats DIR`: open the brain read-only with its stored options and show
 * every counter of brain_get_stats(). */
static int cmd_stats(const cli *c, const char *dir)
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

/* ------------------------------------------------------------------------ */
/* main                                                                     */
/* ------------------------------------------------------------------------ */

/* check and stats: DIR as their one argument, or --db DIR. */
static int run_on_dir(const cli *c, int (*fn)(const cli *, const char *))
{
	const char *dir = c->db;
	if (c->nargs > 1 || (c->nargs == 1 && c->db))
		return usage_error("give the brain's directory once; unexpected",
		                   c->args[c->nargs - 1]);
	if (c->nargs == 1)
		dir = c->args[0];
	if (!dir)
		return usage_error("this command needs the brain's directory:", c->command);
	if (!*dir)
		return usage_error("the directory name is empty for", c->command);
	if (c->nfiles > 0)
		return usage_error("-m is not an option of", c->command);
	if (c->have_importance)
		return usage_error("--importance is an option of remember, not of", c->command);
	if (c->have_k)
		return usage_error("-k is an option of recall, not of", c->command);
	if (c->meta || c->where || c->have_weight || c->verb || c->dir || c->have_mode || c->key ||
	    c->size)
		return usage_error("that option is not one of", c->command);
	if (c->have_dimensions)
		return usage_error("the brain's own options are used; --dimensions is not an "
		                   "option of",
		                   c->command);
	if (c->have_sync)
		return usage_error("--sync is not an option of", c->command);
	if (c->nparams > 0)
		return usage_error("--param is not an option of", c->command);
	return fn(c, dir);
}

static int run(cli *c)
{
	int (*fn)(const cli *, brain_t *) = NULL;
	int takes_args = 1;
	if (strcmp(c->command, "check") == 0)
		return run_on_dir(c, cmd_check);
	if (strcmp(c->command, "stats") == 0)
		return run_on_dir(c, cmd_stats);
	if (strcmp(c->command, "embed-check") == 0) {
		if (c->nargs < 1 || c->nargs > 2)
			return usage_error("embed-check needs MODEL [STS_FILE]", NULL);
		if (c->db || c->model || c->nfiles || c->json || c->have_dimensions || c->nparams)
			return usage_error("embed-check takes no options; unexpected option for",
			                   c->command);
		return cli_embed_check(c->args[0], c->nargs > 1 ? c->args[1] : NULL);
	}
	if (strcmp(c->command, "demo") == 0) {
		fn = cmd_demo;
		takes_args = 0;
	} else if (strcmp(c->command, "remember") == 0) {
		fn = cmd_remember;
	} else if (strcmp(c->command, "recall") == 0) {
		fn = cmd_recall;
	} else if (strcmp(c->command, "think") == 0) {
		fn = cmd_think;
	} else if (strcmp(c->command, "relate") == 0) {
		fn = cmd_relate;
	} else if (strcmp(c->command, "document") == 0) {
		fn = cmd_document;
	} else if (strcmp(c->command, "neighbors") == 0) {
		fn = cmd_neighbors;
	} else {
		return usage_error("unknown command", c->command);
	}
	if (!takes_args && c->nargs > 0)
		return usage_error("demo takes no arguments; unexpected", c->args[0]);
	if (fn == cmd_demo && c->nfiles > 0)
		return usage_error("demo uses its own corpus; it takes no", "-m");
	if (fn != cmd_remember && fn != cmd_document && c->have_importance)
		return usage_error("--importance is an option of remember, not of", c->command);
	if (fn != cmd_recall && c->have_k)
		return usage_error("-k is an option of recall, not of", c->command);
	if (fn != cmd_remember && fn != cmd_document && c->meta)
		return usage_error("--meta is an option of remember, not of", c->command);
	if (fn != cmd_remember && c->key)
		return usage_error("--key is an option of remember, not of", c->command);
	if (fn == cmd_remember && c->key && (c->nargs != 1 || c->nfiles > 0))
		return usage_error("--key names one memory: give one TEXT (and no -m)", NULL);
	if (fn != cmd_document && c->size)
		return usage_error("--size is an option of document, not of", c->command);
	if (fn == cmd_document && c->read_only)
		return usage_error("document changes the brain; it cannot be", "--read-only");
	if (fn != cmd_recall && c->where)
		return usage_error("--where is an option of recall, not of", c->command);
	if (fn != cmd_recall && c->have_mode)
		return usage_error("--mode is an option of recall, not of", c->command);
	if (fn != cmd_relate && c->have_weight)
		return usage_error("--weight is an option of relate, not of", c->command);
	if (fn != cmd_neighbors && (c->verb || c->dir))
		return usage_error(c->verb ? "--verb is an option of neighbors, not of"
		                           : "--dir is an option of neighbors, not of", c->command);
	if (fn == cmd_relate && c->read_only)
		return usage_error("relate changes the brain; it cannot be", "--read-only");
	if (fn == cmd_remember && c->nargs == 0 && c->nfiles == 0)
		return usage_error("remember needs TEXT or -m FILE", NULL);
	if (fn == cmd_recall && c->nargs == 0)
		return usage_error("recall needs a QUERY", NULL);
	if (fn == cmd_think && c->nargs == 0)
		return usage_error("think needs an INPUT", NULL);
	if (fn == cmd_demo && c->db)
		return usage_error("demo uses its own in-memory brain; it takes no", "--db");
	if (!c->db && c->have_sync)
		return usage_error("--sync is for a brain on disk; it needs", "--db DIR");
	if (!c->db && c->read_only)
		return usage_error("--read-only is for a brain on disk; it needs", "--db DIR");
	if (fn == cmd_remember && c->read_only)
		return usage_error("remember changes the brain; it cannot be", "--read-only");

	brain_t *b = NULL;
	int ex = open_brain(c, &b);
	if (ex)
		return ex;
	ex = fn(c, b);
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
	ex = parse_args(&c, argc, argv);
	if (ex)
		goto out;
	if (c.help) {
		print_help();
		ex = cli_finish_output(NULL);
	} else if (c.version) {
		printf("braincore %s\n", brain_version_string());
		ex = cli_finish_output(NULL);
	} else if (!c.command) {
		ex = usage_error("no command given (demo, remember, recall, think, document, relate, neighbors, check, stats or embed-check)", NULL);
	} else {
		ex = run(&c);
	}
out:
	free(c.params);
	free(c.files);
	free(c.args);
	return ex;
}

/*
 * tools/cli_args.c - the command line of the braincore tool: the option
 * table (from CLI_OPTION_LIST), the values each option takes, and usage
 * errors. Which command takes which option is braincore.c's table.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <braincore.h>

#include "cli.h"
#include "cli_output.h"

typedef struct opt_def {
	const char *long_name; /* without "--" */
	char short_name;       /* or 0 */
	int has_arg;
	enum cli_opt id;
} opt_def;

static const opt_def g_opts[] = {
#define CLI__OPT_DEF(id, name, short_name, has_arg) {name, short_name, has_arg, CLI_OPT_##id},
	CLI_OPTION_LIST(CLI__OPT_DEF)
#undef CLI__OPT_DEF
};

const char *cli_option_spelling(int opt)
{
	static char buf[CLI_OPT__COUNT][32];
	if (opt < 0 || opt >= CLI_OPT__COUNT)
		return "?";
	const opt_def *d = &g_opts[opt];
	if (!buf[opt][0]) {
		if (strlen(d->long_name) == 1)
			snprintf(buf[opt], sizeof buf[opt], "-%s", d->long_name);
		else
			snprintf(buf[opt], sizeof buf[opt], "--%s", d->long_name);
	}
	return buf[opt];
}

int cli_usage_error(const char *what, const char *arg)
{
	if (arg)
		fprintf(stderr, "braincore: %s '%s'\n", what, arg);
	else
		fprintf(stderr, "braincore: %s\n", what);
	fputs("Try 'braincore --help'.\n", stderr);
	return CLI_EXIT_USAGE;
}

/* ------------------------------------------------------------------------ */
/* Numbers and names                                                        */
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

int cli_parse_importance(const char *s, float *out)
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

int cli_parse_id(const char *s, brain_id *id)
{
	uint64_t u;
	if (parse_u64(s, &u) || u == BRAIN_ID_NONE)
		return cli_usage_error("a memory id is a whole number, not", s);
	*id = u;
	return CLI_EXIT_OK;
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

static int is_word(const char *val, const char *word)
{
	return name_equals(val, strlen(val), word);
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

/* A positive whole number up to max into *out; a usage error naming the
 * option otherwise. */
static int positive(const char *val, uint64_t max, enum cli_opt id, uint64_t *out)
{
	if (parse_u64(val, out) || *out == 0 || *out > max) {
		char what[96];
		if (max <= (UINT64_C(1) << 24))
			snprintf(what, sizeof what, "%s needs a whole number from 1 to %llu, not",
			         cli_option_spelling(id), (unsigned long long)max);
		else
			snprintf(what, sizeof what, "%s needs a positive whole number, not",
			         cli_option_spelling(id));
		return cli_usage_error(what, val);
	}
	return CLI_EXIT_OK;
}

/* ------------------------------------------------------------------------ */
/* Options                                                                  */
/* ------------------------------------------------------------------------ */

static int apply_param(cli *c, const char *val)
{
	const char *eq = strchr(val, '=');
	if (!eq || eq == val)
		return cli_usage_error("--param needs NAME=VALUE, not", val);
	int p = find_param(val, (size_t)(eq - val));
	if (!p)
		return cli_usage_error("unknown parameter (see 'braincore --help') in", val);
	int64_t v;
	if (parse_i64(eq + 1, &v))
		return cli_usage_error("--param value must be a whole number (fractions are in "
		                       "thousandths), not",
		                       val);
	c->params[c->nparams].param = p;
	c->params[c->nparams].value = v;
	c->nparams++;
	return CLI_EXIT_OK;
}

static int apply_option(cli *c, enum cli_opt id, const char *spelled, const char *val)
{
	uint64_t u = 0;
	int ex = CLI_EXIT_OK;
	c->seen |= UINT64_C(1) << id;
	switch (id) {
	case CLI_OPT_JSON:
		c->json = 1;
		break;
	case CLI_OPT_HELP:
		c->help = 1;
		break;
	case CLI_OPT_VERSION:
		c->version = 1;
		break;
	case CLI_OPT_DIMENSIONS:
		if (!(ex = positive(val, UINT32_MAX, id, &u)))
			c->dimensions = (uint32_t)u;
		break;
	case CLI_OPT_PARAM:
		return apply_param(c, val);
	case CLI_OPT_IMPORTANCE:
		if (cli_parse_importance(val, &c->importance))
			return cli_usage_error("--importance needs a number in [0, 1], not", val);
		break;
	case CLI_OPT_MEMORIES:
		if (!*val)
			return cli_usage_error("the file name is empty in", spelled);
		c->files[c->nfiles++] = val;
		break;
	case CLI_OPT_KEY:
		c->key = val;
		break;
	case CLI_OPT_MODEL:
		if (!*val)
			return cli_usage_error("the model path is empty in", spelled);
		c->model = val;
		break;
	case CLI_OPT_SIZE:
		if (!(ex = positive(val, SIZE_MAX, id, &u)))
			c->size = (size_t)u;
		break;
	case CLI_OPT_K:
		/* a million: more than any recall shows, and bench's k times its
		 * queries (at most 2^24) stays far from overflowing */
		if (!(ex = positive(val, 1000000, id, &u)))
			c->k = (size_t)u;
		break;
	case CLI_OPT_BATCH:
		if (!(ex = positive(val, 1u << 20, id, &u)))
			c->batch = (size_t)u;
		break;
	case CLI_OPT_LIMIT:
		ex = positive(val, UINT64_MAX, id, &c->limit);
		break;
	case CLI_OPT_QUERIES:
		if (!(ex = positive(val, 1u << 24, id, &u)))
			c->queries = (size_t)u;
		break;
	case CLI_OPT_AFTER:
		return cli_parse_id(val, &c->after);
	case CLI_OPT_SKIP_BAD:
		c->skip_bad = 1;
		break;
	case CLI_OPT_VECTORS:
		c->vectors = 1;
		break;
	case CLI_OPT_DB:
		if (!*val)
			return cli_usage_error("the directory name is empty in", spelled);
		c->db = val;
		break;
	case CLI_OPT_SYNC:
		if (is_word(val, "full"))
			c->sync = BRAIN_SYNC_FULL;
		else if (is_word(val, "normal"))
			c->sync = BRAIN_SYNC_NORMAL;
		else if (is_word(val, "off"))
			c->sync = BRAIN_SYNC_OFF;
		else
			return cli_usage_error("--sync needs full, normal or off, not", val);
		break;
	case CLI_OPT_READ_ONLY:
		c->read_only = 1;
		break;
	case CLI_OPT_META:
		c->meta = val;
		break;
	case CLI_OPT_WHERE:
		c->where = val;
		break;
	case CLI_OPT_WEIGHT: {
		char *end = NULL;
		double w = strtod(val, &end);
		if (!*val || *end || !(w - w == 0.0))
			return cli_usage_error("--weight needs a finite number, not", val);
		c->weight = (float)w;
		break;
	}
	case CLI_OPT_VERB:
		c->verb = val;
		break;
	case CLI_OPT_MODE:
		if (is_word(val, "semantic"))
			c->mode = BRAIN_SEMANTIC;
		else if (is_word(val, "keyword"))
			c->mode = BRAIN_KEYWORD;
		else if (is_word(val, "hybrid"))
			c->mode = BRAIN_HYBRID;
		else
			return cli_usage_error("--mode needs semantic, keyword or hybrid, not", val);
		break;
	case CLI_OPT_DIR:
		if (is_word(val, "out"))
			c->dir = BRAIN_DIR_OUT;
		else if (is_word(val, "in"))
			c->dir = BRAIN_DIR_IN;
		else if (is_word(val, "both"))
			c->dir = BRAIN_DIR_BOTH;
		else
			return cli_usage_error("--dir needs out, in or both, not", val);
		break;
	case CLI_OPT__COUNT:
		break;
	}
	return ex;
}

int cli_parse_args(cli *c, int argc, char **argv)
{
	int only_args = 0;
	const size_t nopts = sizeof g_opts / sizeof g_opts[0];
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
			for (size_t d = 0; d < nopts; d++)
				if (strlen(g_opts[d].long_name) == n &&
				    strncmp(g_opts[d].long_name, name, n) == 0)
					def = &g_opts[d];
			if (!def)
				return cli_usage_error("unknown option", a);
			if (name[n] == '=') {
				if (!def->has_arg)
					return cli_usage_error("option takes no value:", a);
				val = name + n + 1;
			}
		} else {
			for (size_t d = 0; d < nopts; d++)
				if (g_opts[d].short_name && g_opts[d].short_name == a[1])
					def = &g_opts[d];
			if (!def)
				return cli_usage_error("unknown option", a);
			if (a[2] != '\0') {
				if (!def->has_arg)
					return cli_usage_error("unknown option", a);
				val = a + 2;
			}
		}
		if (def->has_arg && !val) {
			if (i + 1 >= argc)
				return cli_usage_error("option needs a value:", a);
			val = argv[++i];
		}
		int rc = apply_option(c, def->id, a, val);
		if (rc)
			return rc;
	}
	return CLI_EXIT_OK;
}

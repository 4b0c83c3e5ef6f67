/*
 * tests/test_options.c - brain_options, brain_open and parameters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "braincore.h"
#include "braincore/sys/index.h"
#include "braincore/sys/io.h"

static void test_options__init_defaults(void **state)
{
	(void)state;
	brain_options o;
	memset(&o, 0xAB, sizeof o);
	assert_int_equal(brain_options_init(&o, BRAIN_OPTIONS_VERSION), 0);
	assert_int_equal(o.version, BRAIN_OPTIONS_VERSION);
	assert_int_equal(o.dimensions, 384);
	assert_int_equal(o.metric, BRAIN_METRIC_COSINE);
	assert_int_equal(o.index, BRAIN_INDEX_AUTO);
	assert_int_equal(o.embedder, BRAIN_EMBEDDER_BUILTIN);
	assert_int_equal(o.max_text_bytes, BRAIN_DEFAULT_MAX_TEXT_BYTES);
	assert_null(o.index_name);

	assert_int_equal(brain_options_init(NULL, BRAIN_OPTIONS_VERSION), BRAIN_ENULL);
	assert_int_equal(brain_options_init(&o, 0), BRAIN_EVERSION);
	assert_int_equal(brain_options_init(&o, BRAIN_OPTIONS_VERSION + 1), BRAIN_EVERSION);
	assert_non_null(strstr(brain_errmsg(), "version"));
}

static int open_with(brain_options *o)
{
	brain_t *b = (brain_t *)0x1;
	int rc = brain_open(NULL, o, &b);
	if (rc == 0)
		brain_close(b);
	else
		assert_null(b);
	return rc;
}

static void test_options__open_checks_every_field(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.metric = 7;
	assert_int_equal(open_with(&o), BRAIN_EINVAL);
	assert_non_null(strstr(brain_errmsg(), "metric 7"));

	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.index = 99;
	assert_int_equal(open_with(&o), BRAIN_EINVAL);

	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.embedder = -1;
	assert_int_equal(open_with(&o), BRAIN_EINVAL);

	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = BRAIN_MAX_DIMENSIONS + 1;
	assert_int_equal(open_with(&o), BRAIN_ERANGE);
	assert_non_null(strstr(brain_errmsg(), "dimensions"));

	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.max_text_bytes = BRAIN_MAX_TEXT_BYTES_LIMIT + 1;
	assert_int_equal(open_with(&o), BRAIN_ERANGE);

	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.max_memories = BRAIN_MAX_MEMORIES_LIMIT + 1;
	assert_int_equal(open_with(&o), BRAIN_ERANGE);

	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.version = 0;
	assert_int_equal(open_with(&o), BRAIN_EVERSION);

	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.index_name = "no-such-backend";
	assert_int_equal(open_with(&o), BRAIN_EINVAL);
	assert_non_null(strstr(brain_errmsg(), "no-such-backend"));

	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.index_name = "flat";
	o.index = BRAIN_INDEX_FLAT;
	o.metric = BRAIN_METRIC_L2;
	o.dimensions = 3;
	assert_int_equal(open_with(&o), 0);

	assert_int_equal(brain_open(NULL, NULL, NULL), BRAIN_ENULL);
	brain_t *b = NULL;
	assert_int_equal(brain_open("", NULL, &b), BRAIN_EINVAL);
	assert_null(b);

	/* version 2 fields */
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.sync = 3;
	assert_int_equal(open_with(&o), BRAIN_EINVAL);
	assert_non_null(strstr(brain_errmsg(), "sync"));
	o.sync = BRAIN_SYNC_OFF;
	o.flags = 1u << 7;
	assert_int_equal(open_with(&o), BRAIN_EINVAL);
	assert_non_null(strstr(brain_errmsg(), "flags"));
	o.flags = 0;
	brain_io io = {0};
	io.version = 99;
	o.io = &io;
	assert_int_equal(open_with(&o), BRAIN_EVERSION);
	/* a version 1 struct is read without the version 2 fields */
	brain_options_init(&o, 1);
	o.sync = 77; /* beyond a version 1 struct: never read */
	assert_int_equal(open_with(&o), 0);
	/* version 4: the model embedder needs its path, and the path that
	 * embedder */
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.embedder = BRAIN_EMBEDDER_MODEL;
	assert_int_equal(open_with(&o), BRAIN_EINVAL);
	assert_non_null(strstr(brain_errmsg(), "model_path"));
	o.model_path = "";
	assert_int_equal(open_with(&o), BRAIN_EINVAL);
	o.model_path = "/nonexistent/model.gguf";
	assert_int_equal(open_with(&o), BRAIN_ENOTFOUND);
	assert_non_null(strstr(brain_errmsg(), "/nonexistent/model.gguf"));
	o.model_path = "/";
	assert_int_not_equal(open_with(&o), 0); /* a directory without config.json */
	assert_non_null(strstr(brain_errmsg(), "config.json"));
	o.embedder = BRAIN_EMBEDDER_BUILTIN;
	assert_int_equal(open_with(&o), BRAIN_EINVAL);
	assert_non_null(strstr(brain_errmsg(), "model_path is set"));
	o.embedder = 3;
	o.model_path = NULL;
	assert_int_equal(open_with(&o), BRAIN_EINVAL);
	/* a version 3 struct is read without model_path */
	brain_options_init(&o, 3);
	o.model_path = "/never/read"; /* beyond a version 3 struct */
	assert_int_equal(open_with(&o), 0);
}

static void test_options__zero_means_default(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.dimensions = 0;
	o.max_text_bytes = 0;
	o.max_memories = 0;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	assert_int_equal(brain_dimensions(b), 384);
	brain_close(b);
	assert_int_equal(brain_dimensions(NULL), 0);
	assert_int_equal(brain_count(NULL), 0);
	assert_int_equal(brain_close(NULL), 0);
	brain_destroy(NULL);
}

static void test_options__limits_are_enforced(void **state)
{
	(void)state;
	brain_options o;
	brain_options_init(&o, BRAIN_OPTIONS_VERSION);
	o.max_text_bytes = 10;
	o.max_memories = 2;
	brain_t *b = NULL;
	assert_int_equal(brain_open(NULL, &o, &b), 0);
	assert_int_equal(brain_remember(b, "0123456789", 0.5f), 0);
	assert_int_equal(brain_remember(b, "0123456789a", 0.5f), BRAIN_ETOOLONG);
	assert_int_equal(brain_remember(b, "short one", 0.5f), 0);
	assert_int_equal(brain_remember(b, "third", 0.5f), BRAIN_EFULL);
	assert_int_equal(brain_count(b), 2);
	brain_close(b);
}

static void test_options__params(void **state)
{
	(void)state;
	int64_t min, max, def, v;
	assert_int_equal(brain_param_bounds(BRAIN_PARAM_THINK_MAX_MEMORIES, &min, &max, &def), 0);
	assert_true(min <= def && def <= max);
	assert_int_equal(brain_param_bounds(12345, &min, &max, &def), BRAIN_EPARAM);
	assert_int_equal(brain_param_bounds(BRAIN_PARAM_RECALL_MIN_SCORE, NULL, NULL, NULL), 0);
	assert_string_equal(brain_param_name(BRAIN_PARAM_THINK_MIN_SCORE), "THINK_MIN_SCORE");
	assert_null(brain_param_name(0));

	brain_t *b = brain_create();
	assert_int_equal(brain_get_param(b, BRAIN_PARAM_THINK_MAX_MEMORIES, &v), 0);
	assert_int_equal(v, def);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_THINK_MAX_MEMORIES, max + 1), BRAIN_ERANGE);
	assert_non_null(strstr(brain_errmsg(), "THINK_MAX_MEMORIES"));
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_THINK_MAX_MEMORIES, min - 1), BRAIN_ERANGE);
	assert_int_equal(brain_set_param(b, BRAIN_PARAM_THINK_MAX_MEMORIES, 7), 0);
	assert_int_equal(brain_get_param(b, BRAIN_PARAM_THINK_MAX_MEMORIES, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(brain_set_param(b, 4242, 1), BRAIN_EPARAM);
	assert_int_equal(brain_get_param(b, 4242, &v), BRAIN_EPARAM);
	assert_int_equal(brain_set_param(NULL, BRAIN_PARAM_THINK_MAX_MEMORIES, 1), BRAIN_ENULL);
	assert_int_equal(brain_get_param(b, BRAIN_PARAM_THINK_MAX_MEMORIES, NULL), BRAIN_ENULL);

	brain_destroy(b);

	/* every listed parameter has sane bounds, a name and its default */
	b = brain_create();
	static const int all[] = {
#define X(name, number, lo, hi, d) number,
		BRAIN_PARAM_LIST(X)
#undef X
	};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
		assert_int_equal(brain_param_bounds(all[i], &min, &max, &def), 0);
		assert_true(min <= def && def <= max);
		assert_non_null(brain_param_name(all[i]));
		assert_int_equal(brain_get_param(b, all[i], &v), 0);
		assert_int_equal(v, def);
	}
	brain_destroy(b);
}

/* brain_metric_name: every metric by its name, never NULL. */
static void test_options__metric_names(void **state)
{
	(void)state;
	assert_string_equal(brain_metric_name(BRAIN_METRIC_COSINE), "cosine");
	assert_string_equal(brain_metric_name(BRAIN_METRIC_L2), "l2");
	assert_string_equal(brain_metric_name(BRAIN_METRIC_IP), "ip");
	assert_string_equal(brain_metric_name(-1), "unknown");
	assert_string_equal(brain_metric_name(99), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options__init_defaults),
		cmocka_unit_test(test_options__open_checks_every_field),
		cmocka_unit_test(test_options__zero_means_default),
		cmocka_unit_test(test_options__metric_names),
		cmocka_unit_test(test_options__limits_are_enforced),
		cmocka_unit_test(test_options__params),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

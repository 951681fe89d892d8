/* test_config — configuration tables from the environment, and host:port parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "ff_config.h"

static const char *const *fake_env;

static const char *fake_getenv(const char *name)
{
	for (size_t i = 0; fake_env && fake_env[i]; i += 2)
		if (!strcmp(fake_env[i], name))
			return fake_env[i + 1];
	return NULL;
}

static const char *url;
static long conc;
static int flag;
static const struct ff_config_entry table[] = {
    {"T_URL", FF_CFG_STR, "amqp://default", 0, 0, &url, "a url"},
    {"T_CONC", FF_CFG_INT, "2", 1, 64, &conc, "concurrency"},
    {"T_FLAG", FF_CFG_BOOL, "false", 0, 0, &flag, "a flag"},
};

static int load(const char *const *env, struct ff_err *err)
{
	fake_env = env;
	return ff_config_load(table, 3, fake_getenv, err);
}

static void defaults_apply(void **state)
{
	(void)state;
	struct ff_err err;
	assert_int_equal(load(NULL, &err), 0);
	assert_string_equal(url, "amqp://default");
	assert_int_equal(conc, 2);
	assert_int_equal(flag, 0);
}

static void values_parse(void **state)
{
	(void)state;
	struct ff_err err;
	const char *env[] = {"T_URL", "amqp://x", "T_CONC", "64", "T_FLAG", "yes", NULL};
	assert_int_equal(load(env, &err), 0);
	assert_string_equal(url, "amqp://x");
	assert_int_equal(conc, 64);
	assert_int_equal(flag, 1);
}

static void empty_means_default(void **state)
{
	(void)state;
	struct ff_err err;
	const char *env[] = {"T_CONC", "", NULL};
	assert_int_equal(load(env, &err), 0);
	assert_int_equal(conc, 2);
}

static void bad_values_name_the_variable(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
	    {"T_CONC", "0"},   {"T_CONC", "65"},    {"T_CONC", "2x"},
	    {"T_CONC", "abc"}, {"T_FLAG", "maybe"}, {"T_CONC", "99999999999999999999"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ff_err err = {0};
		const char *env[] = {cases[i][0], cases[i][1], NULL};
		assert_int_equal(load(env, &err), FF_EINVAL);
		assert_string_equal(err.field, cases[i][0]);
		assert_non_null(strstr(err.msg, cases[i][0]));
	}
}

static void hostport(void **state)
{
	(void)state;
	char host[64];
	int port;
	struct ff_err err;
	assert_int_equal(ff_config_split_hostport("0.0.0.0:8000", host, sizeof(host), &port, &err),
			 0);
	assert_string_equal(host, "0.0.0.0");
	assert_int_equal(port, 8000);
	assert_int_equal(ff_config_split_hostport("[::1]:9", host, sizeof(host), &port, &err), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(ff_config_split_hostport(":80", host, sizeof(host), &port, &err), 0);
	assert_string_equal(host, "");
	assert_int_equal(ff_config_split_hostport("host", host, sizeof(host), &port, &err),
			 FF_EINVAL);
	assert_int_equal(ff_config_split_hostport("h:0", host, sizeof(host), &port, &err),
			 FF_EINVAL);
	assert_int_equal(ff_config_split_hostport("h:65536", host, sizeof(host), &port, &err),
			 FF_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(defaults_apply),
	    cmocka_unit_test(values_parse),
	    cmocka_unit_test(empty_means_default),
	    cmocka_unit_test(bad_values_name_the_variable),
	    cmocka_unit_test(hostport),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

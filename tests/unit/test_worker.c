/* test_worker — the worker's pure decisions: retry backoff, CPU limit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "exec.h"

static void backoff_doubles_and_caps(void **state)
{
	(void)state;
	assert_int_equal(exec_backoff_s(5, 1), 5);
	assert_int_equal(exec_backoff_s(5, 2), 10);
	assert_int_equal(exec_backoff_s(5, 3), 20);
	assert_int_equal(exec_backoff_s(1, 4), 8);
	assert_int_equal(exec_backoff_s(0, 5), 0);
	assert_int_equal(exec_backoff_s(3000, 2), 3600); /* at most an hour */
	assert_int_equal(exec_backoff_s(1, 20), 3600);	 /* no overflow on long runs */
	assert_int_equal(exec_backoff_s(3600, 1), 3600);
}

static void cpu_limit_capped_by_host(void **state)
{
	(void)state;
	assert_true(exec_nano_cpus(0.5, 2) == 500000000LL);
	assert_true(exec_nano_cpus(2.0, 2) == 2000000000LL);
	assert_true(exec_nano_cpus(4.0, 2) == 2000000000LL); /* the engine refuses more */
	assert_true(exec_nano_cpus(1.5, -1) == 1500000000LL); /* host count unknown */
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(backoff_doubles_and_caps),
					   cmocka_unit_test(cpu_limit_capped_by_host)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_worker — the worker's pure decisions: retry backoff. */
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

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(backoff_doubles_and_caps)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

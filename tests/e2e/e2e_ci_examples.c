/* e2e_ci_examples — the shell steps of examples/ci/github-actions.yml and gitlab-ci.yml run
 * against a real platform (a controller and a worker serving the built-in workflows), as
 * their CI services would run them: tests/e2e/ci_examples.py says what each must do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "itest.h"

static void ci_examples_run(void **state)
{
	(void)state;
	struct itest t;
	char path[4096];
	itest_setup_workflows(&t, "ci_examples");
	setenv("FF_URL", t.base_url, 1);
	setenv("FF_API_KEY", ITEST_API_KEY, 1);
	unsetenv("FF_PROFILE");
	snprintf(path, sizeof(path), "%s:%s", E2E_FF_DIR, getenv("PATH"));
	setenv("PATH", path, 1);
	char *argv[] = {"/usr/bin/python3", ITEST_REPO "/tests/e2e/ci_examples.py",
			ITEST_REPO "/examples", ITEST_REPO "/tests/data/sarif-schema-2.1.0.json",
			NULL};
	assert_int_equal(itest_run_cmd(argv), 0);
	itest_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(ci_examples_run)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* e2e_mcp — `ff mcp` against a real platform (a controller and a worker serving the
 * built-in workflows), driven by the official MCP TypeScript SDK: tests/e2e/mcp_test.sh and
 * mcp_client.mjs say what it must do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "itest.h"

static void mcp_sdk_client(void **state)
{
	(void)state;
	struct itest t;
	itest_setup_workflows(&t, "mcp");
	setenv("FF_URL", t.base_url, 1);
	setenv("FF_API_KEY", ITEST_API_KEY, 1);
	unsetenv("FF_PROFILE");
	char *argv[] = {"/bin/bash", ITEST_REPO "/tests/e2e/mcp_test.sh", E2E_FF, NULL};
	int rc = itest_run_cmd(argv);
	itest_teardown(&t);
	if (rc == 77)
		skip();
	assert_int_equal(rc, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(mcp_sdk_client)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* e2e_cli — the system driven the way a user drives it: the `ff` client scans a directory
 * through a real controller and worker, and its output and exit codes are what a CI
 * pipeline would act on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "itest.h"

static struct itest T;

static int setup(void **state)
{
	(void)state;
	itest_setup(&T, "e2e");
	itest_start_controller(&T, NULL);
	itest_start_worker(&T, NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	itest_teardown(&T);
	return 0;
}

/* Runs `ff <args>` against url; returns its exit code, output in out. */
static int ff_at(const char *url, const char *args, char *out, size_t outlen)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "FF_URL=%s FF_API_KEY=%s %s %s 2>&1", url, ITEST_API_KEY, E2E_FF,
		 args);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs `ff <args>` against the test controller. */
static int ff(const char *args, char *out, size_t outlen)
{
	return ff_at(T.base_url, args, out, outlen);
}

static void scan_prints_findings(void **state)
{
	(void)state;
	char out[8192];
	int rc = ff("scan test-ok " E2E_SAMPLE " -p greeting=ciao", out, sizeof(out));
	if (rc != 0)
		fail_msg("ff scan exited %d:\n%s", rc, out);
	assert_non_null(strstr(out, "T001"));
	assert_non_null(strstr(out, "greeting ciao"));
	assert_non_null(strstr(out, "2 findings: 1 error, 0 warning, 1 note, 0 none"));
	/* --fail-on makes findings fail a pipeline */
	rc = ff("scan test-ok " E2E_SAMPLE " --fail-on error", out, sizeof(out));
	assert_int_equal(rc, 3);
}

/* ff keys: create prints the key once on stdout, the key works with its scope only, list
 * shows it without the secret, revoke ends it. */
static void keys_round_trip(void **state)
{
	(void)state;
	char out[8192], key[128], id[40], args[256], cmd[1024];
	assert_int_equal(ff("keys create e2e-reader read", out, sizeof(out)), 0);
	const char *shown = strstr(out, "ff_"); /* stdout; stderr says which key it is */
	assert_non_null(shown);
	assert_int_equal(sscanf(shown, "%127s", key), 1);
	const char *created = strstr(out, "key ");
	assert_non_null(created);
	assert_int_equal(sscanf(created, "key %36s", id), 1);
	/* the new key reads, but may not submit */
	snprintf(cmd, sizeof(cmd), "FF_URL=%s FF_API_KEY=%s %s workflows >/dev/null 2>&1",
		 T.base_url, key, E2E_FF);
	assert_int_equal(system(cmd), 0);
	snprintf(cmd, sizeof(cmd),
		 "FF_URL=%s FF_API_KEY=%s %s scan test-ok %s 2>&1 | grep -q submit", T.base_url,
		 key, E2E_FF, E2E_SAMPLE);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(ff("keys list", out, sizeof(out)), 0);
	assert_non_null(strstr(out, "e2e-reader"));
	assert_null(strstr(out, key));
	snprintf(args, sizeof(args), "keys revoke %s", id);
	assert_int_equal(ff(args, out, sizeof(out)), 0);
	assert_int_equal(ff(args, out, sizeof(out)), 1); /* not found the second time */
	assert_int_equal(ff("keys rotate", out, sizeof(out)), 2);
}

static void failed_run_fails_the_command(void **state)
{
	(void)state;
	char out[8192];
	int rc = ff("scan test-fail " E2E_SAMPLE " -p code=9", out, sizeof(out));
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "workflow exited with code 9"));
}

static void bad_input_is_explained(void **state)
{
	(void)state;
	char out[8192];
	int rc = ff("scan test-ok " E2E_SAMPLE " -p depth=99", out, sizeof(out));
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "parameters.depth"));
	rc = ff("scan no-such-workflow " E2E_SAMPLE, out, sizeof(out));
	assert_int_equal(rc, 1);
	assert_non_null(strstr(out, "unknown workflow"));
	rc = ff("frobnicate", out, sizeof(out));
	assert_int_equal(rc, 2);
}

static void ready_tells_whether_the_api_can_serve(void **state)
{
	(void)state;
	char out[8192];
	int rc = ff("ready", out, sizeof(out));
	if (rc != 0)
		fail_msg("ff ready exited %d:\n%s", rc, out);
	assert_non_null(strstr(out, "\"postgresql\":\"ok\""));
	/* nothing listens on port 1: not ready, and it says where it looked */
	assert_int_equal(ff_at("http://127.0.0.1:1", "ready", out, sizeof(out)), 1);
	assert_non_null(strstr(out, "127.0.0.1:1"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(scan_prints_findings),
	    cmocka_unit_test(failed_run_fails_the_command),
	    cmocka_unit_test(keys_round_trip),
	    cmocka_unit_test(bad_input_is_explained),
	    cmocka_unit_test(ready_tells_whether_the_api_can_serve),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

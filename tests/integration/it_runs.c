/* it_runs — the core path end to end: upload, submit, a worker runs the container, results
 * land in PostgreSQL and are served by the API; and each way a run can end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "itest.h"

static struct itest T;
static char target[65];

static int setup(void **state)
{
	(void)state;
	itest_setup(&T, "runs");
	itest_start_controller(&T, NULL);
	const char *env[] = {"FF_WORKER_CONCURRENCY=2", NULL};
	itest_start_worker(&T, env);
	const char *files[] = {"src/main.c", "int main(void) { return 0; }\n", "README", "hi\n",
			       NULL};
	itest_upload(&T, files, target);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	itest_teardown(&T);
	return 0;
}

static char *run_body(const char *workflow, const char *params)
{
	static char body[512];
	snprintf(body, sizeof(body), "{\"workflow\":\"%s\",\"target\":\"%s\",\"parameters\":%s}",
		 workflow, target, params ? params : "{}");
	return body;
}

static const char *str(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItem(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* GET /api/v1/runs/<id><suffix>, expecting status. */
static void get_json(const char *id, const char *suffix, struct itest_resp *r, long status)
{
	char path[256];
	snprintf(path, sizeof(path), "/api/v1/runs/%s%s", id, suffix);
	assert_int_equal(itest_http(&T, "GET", path, NULL, NULL, 0, 1, r), 0);
	assert_int_equal(r->status, status);
}

static void happy_path(void **state)
{
	(void)state;
	char id[37];
	struct itest_resp r;
	assert_int_equal(itest_submit(&T, run_body("test-ok", "{\"greeting\":\"bonjour\"}"), id),
			 202);
	cJSON *run = itest_wait_terminal(&T, id, 60000);
	assert_string_equal(str(run, "state"), "succeeded");
	assert_int_equal(cJSON_GetObjectItem(run, "exit_code")->valueint, 0);
	assert_int_equal(cJSON_GetObjectItem(run, "progress")->valueint, 100);
	assert_int_equal(cJSON_GetObjectItem(run, "attempt")->valueint, 1);
	assert_non_null(str(run, "worker"));
	assert_non_null(str(run, "started_at"));
	assert_non_null(str(run, "finished_at"));
	const cJSON *summary = cJSON_GetObjectItem(run, "findings_summary");
	assert_int_equal(cJSON_GetObjectItem(summary, "total")->valueint, 2);
	assert_int_equal(cJSON_GetObjectItem(summary, "error")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(summary, "note")->valueint, 1);
	const cJSON *params = cJSON_GetObjectItem(run, "parameters");
	assert_string_equal(str(params, "greeting"), "bonjour");
	assert_int_equal(cJSON_GetObjectItem(params, "depth")->valueint, 3); /* default */
	cJSON_Delete(run);

	get_json(id, "/findings", &r, 200);
	const cJSON *f = cJSON_GetObjectItem(r.json, "findings");
	assert_int_equal(cJSON_GetArraySize(f), 2);
	const cJSON *f0 = cJSON_GetArrayItem(f, 0);
	assert_string_equal(str(f0, "rule_id"), "T001");
	assert_string_equal(str(f0, "level"), "error");
	assert_string_equal(str(f0, "path"), "README");
	assert_int_equal(cJSON_GetObjectItem(f0, "start_line")->valueint, 1);
	assert_string_equal(str(f0, "fingerprint"), "fp-README");
	assert_non_null(strstr(str(f0, "message"), "greeting bonjour"));
	itest_resp_release(&r);

	get_json(id, "/findings?level=note", &r, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "findings")), 1);
	itest_resp_release(&r);

	get_json(id, "/sarif", &r, 200);
	assert_string_equal(str(r.json, "version"), "2.1.0");
	itest_resp_release(&r);

	get_json(id, "/logs", &r, 200);
	assert_non_null(strstr(r.body, "scanning 2 files"));
	assert_non_null(strstr(r.body, "warning line on stderr"));
	itest_resp_release(&r);

	get_json(id, "/artifacts", &r, 200);
	const cJSON *arts = cJSON_GetObjectItem(r.json, "artifacts");
	assert_int_equal(cJSON_GetArraySize(arts), 1);
	assert_string_equal(str(cJSON_GetArrayItem(arts, 0), "name"), "files.txt");
	itest_resp_release(&r);

	get_json(id, "/artifacts/files.txt", &r, 200);
	assert_string_equal(r.body, "/target/README\n/target/src/main.c\n");
	itest_resp_release(&r);

	get_json(id, "/events", &r, 200);
	const cJSON *ev = cJSON_GetObjectItem(r.json, "events");
	assert_int_equal(cJSON_GetArraySize(ev), 4);
	assert_string_equal(str(cJSON_GetArrayItem(ev, 0), "state"), "queued");
	assert_string_equal(str(cJSON_GetArrayItem(ev, 1), "state"), "running");
	assert_string_equal(str(cJSON_GetArrayItem(ev, 2), "message"), "container started");
	assert_string_equal(str(cJSON_GetArrayItem(ev, 3), "state"), "succeeded");
	/* the worker writes "container started" with the run's end; it keeps its time */
	const char *started = str(cJSON_GetArrayItem(ev, 1), "ts"),
		   *container = str(cJSON_GetArrayItem(ev, 2), "ts"),
		   *ended = str(cJSON_GetArrayItem(ev, 3), "ts");
	assert_true(strcmp(started, container) <= 0 && strcmp(container, ended) < 0);
	itest_resp_release(&r);

	/* exactly one result row, and the containers and volumes are gone */
	assert_int_equal(
	    itest_sql_long(&T, "SELECT count(*) FROM run_results WHERE run_id = $1", id), 1);
	assert_int_equal(itest_sql_long(&T, "SELECT count(*) FROM findings WHERE run_id = $1", id),
			 2);
}

static void expect_failure(const char *workflow, const char *params, const char *state,
			   const char *error_part)
{
	char id[37];
	assert_int_equal(itest_submit(&T, run_body(workflow, params), id), 202);
	cJSON *run = itest_wait_terminal(&T, id, 60000);
	assert_string_equal(str(run, "state"), state);
	assert_non_null(str(run, "error"));
	if (!strstr(str(run, "error"), error_part))
		fail_msg("error '%s' does not mention '%s'", str(run, "error"), error_part);
	cJSON_Delete(run);
}

static void nonzero_exit(void **state)
{
	(void)state;
	expect_failure("test-fail", "{\"code\":7}", "failed", "exited with code 7");
}

static void timeout(void **state)
{
	(void)state;
	expect_failure("test-sleep", "{\"seconds\":600}", "timed_out", "timed out after 3 s");
}

static void missing_image(void **state)
{
	(void)state;
	expect_failure("test-noimage", NULL, "failed", "fuzzforge/does-not-exist:0");
}

static void no_sarif(void **state)
{
	(void)state;
	expect_failure("test-nosarif", NULL, "failed", "no /results/results.sarif");
}

/* Concurrency 2: two runs submitted together are in their containers at the same time. */
static void two_in_parallel_on_one_worker(void **state)
{
	(void)state;
	char a[37], b[37], both[80];
	assert_int_equal(itest_submit(&T, run_body("test-sleep", "{\"seconds\":2}"), a), 202);
	assert_int_equal(itest_submit(&T, run_body("test-sleep", "{\"seconds\":2}"), b), 202);
	cJSON_Delete(itest_wait_terminal(&T, a, 60000));
	cJSON_Delete(itest_wait_terminal(&T, b, 60000));
	snprintf(both, sizeof(both), "%s,%s", a, b);
	/* both succeeded, and each started before the other finished */
	assert_int_equal(
	    itest_sql_long(&T,
			   "WITH ids AS (SELECT string_to_array($1, ',')::uuid[] AS v) "
			   "SELECT count(*) FROM runs x, runs y, ids "
			   "WHERE x.id = v[1] AND y.id = v[2] AND x.state = 'succeeded' "
			   "AND y.state = 'succeeded' AND x.started_at < y.finished_at "
			   "AND y.started_at < x.finished_at",
			   both),
	    1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(happy_path), cmocka_unit_test(nonzero_exit),
	    cmocka_unit_test(timeout),	  cmocka_unit_test(missing_image),
	    cmocka_unit_test(no_sarif),	  cmocka_unit_test(two_in_parallel_on_one_worker),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

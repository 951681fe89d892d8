/* it_results_validation — what a workflow writes is made storable before the result
 * transaction, against the real services: an artifact name that is not UTF-8, a startLine
 * past an int and finding paths outside the target end in a run that succeeds on its first
 * attempt, with the names made valid, the line clamped and the paths refused (marked); an
 * artifact in a subfolder downloads, its slash raw or %2F. And a result the database still
 * refuses for its data is recorded at once, logs kept, failed and dead-lettered (store.h),
 * not left to lease expiries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "it_reliability.h"
#include "itest.h"
#include "store.h"

static void download_is(struct itest *t, const char *id, const char *name, const char *want)
{
	char path[256];
	struct itest_resp r;
	snprintf(path, sizeof(path), "/api/v1/runs/%s/artifacts/%s", id, name);
	itest_get_ok(t, path, &r);
	if (r.len != strlen(want) || memcmp(r.body, want, r.len) != 0)
		fail_msg("%s: got %.*s", name, (int)r.len, r.body);
	itest_resp_release(&r);
}

static void hostile_case(struct itest *t, const char *target, const char *way)
{
	char id[37], body[256], events[4096];
	snprintf(body, sizeof(body), "{\"workflow\":\"test-results-hostile\",\"target\":\"%s\"}",
		 target);
	assert_int_equal(itest_submit(t, body, id), 202);
	cJSON *run = itest_wait_terminal(t, id, 300000);
	rel_sql_text(t,
		     "SELECT string_agg(message, ' | ' ORDER BY id) FROM run_events WHERE "
		     "run_id = $1",
		     id, events, sizeof(events));
	if (strcmp(itest_str(run, "state"), "succeeded") != 0)
		fail_msg("%s: %s (%s): %s", way, itest_str(run, "state"),
			 itest_str(run, "error") ? itest_str(run, "error") : "", events);
	cJSON_Delete(run);
	/* the first attempt's result, stored: no lease expired, nothing retried */
	assert_int_equal(itest_sql_long(t, "SELECT attempt FROM runs WHERE id = $1", id), 1);
	assert_null(strstr(events, "lost its worker"));
	assert_non_null(strstr(events, "2 findings point outside the target"));

	/* the line clamped to what an int holds; "./src/../src/a.c" normalised */
	assert_int_equal(itest_sql_long(t,
					"SELECT count(*) FROM findings WHERE run_id = $1 AND "
					"rule_id = 'far' AND path = 'src/a.c' AND start_line = "
					"2147483647 AND end_line = 2147483647",
					id),
			 1);
	/* outside the target: kept as findings, never as paths */
	assert_int_equal(
	    itest_sql_long(t,
			   "SELECT count(*) FROM findings WHERE run_id = $1 AND "
			   "rule_id IN ('up', 'abs') AND path IS NULL AND message LIKE "
			   "'(path outside the target, not kept: %'",
			   id),
	    2);
	assert_int_equal(itest_sql_long(t,
					"SELECT count(*) FROM findings WHERE run_id = $1 AND "
					"(path LIKE '%etc%' OR path LIKE '/%' OR path LIKE '%..%')",
					id),
			 0);
	assert_int_equal(itest_sql_long(t,
					"SELECT count(*) FROM findings WHERE run_id = $1 AND "
					"rule_id = 'ok' AND path = 'src/b.c'",
					id),
			 1);

	/* the name made valid (U+FFFD for the 0xff byte), the subfolder's path kept */
	assert_int_equal(itest_sql_long(t,
					"SELECT count(*) FROM artifacts WHERE run_id = $1 AND name "
					"IN ('bad' || U&'\\FFFD' || '.txt', 'sub/x.txt')",
					id),
			 2);
	download_is(t, id, "sub/x.txt", "sub\n");
	download_is(t, id, "sub%2Fx.txt", "sub\n");
	download_is(t, id, "sub%2fx.txt", "sub\n");
	download_is(t, id, "bad%EF%BF%BD.txt", "bad\n");

	/* the listing names what downloads */
	struct itest_resp r;
	char path[128];
	snprintf(path, sizeof(path), "/api/v1/runs/%s/artifacts/sub", id);
	assert_int_equal(itest_http(t, "GET", path, NULL, NULL, 0, 1, &r), 0);
	assert_int_equal(r.status, 404);
	itest_resp_release(&r);
}

static void hostile_results_stored_first_time(void **state)
{
	(void)state;
	struct itest t;
	char target[65];
	static const char *const ways[] = {"FF_RESULTS_DIRECT=auto", "FF_RESULTS_DIRECT=off"};
	itest_setup(&t, "results_valid");
	itest_start_controller(&t, NULL);
	const char *files[] = {"src/a.c", "int a;\n", "src/b.c", "int b;\n", NULL};
	itest_upload(&t, files, target);
	for (size_t i = 0; i < 2; i++) {
		const char *env[] = {ways[i], NULL};
		pid_t w = itest_start_worker(&t, env);
		hostile_case(&t, target, ways[i]);
		assert_int_equal(itest_stop(&t, w, SIGTERM, 30000), 0);
	}
	itest_teardown(&t);
}

/* The fallback behind the validation: the store itself, given a finding no int column
 * holds (as if the normaliser had let it through), on a run this test holds as its worker. */
static void unstorable_result_dead_lettered(void **state)
{
	(void)state;
	struct itest t;
	char target[65], id[37], body[256], text[256];
	struct ff_err err;
	struct ff_db *db = NULL;
	itest_setup(&t, "results_unstorable");
	itest_start_controller(&t, NULL); /* no worker: the run stays queued for this test */
	const char *files[] = {"a.c", "int a;\n", NULL};
	itest_upload(&t, files, target);
	snprintf(body, sizeof(body), "{\"workflow\":\"test-noop\",\"target\":\"%s\"}", target);
	assert_int_equal(itest_submit(&t, body, id), 202);
	assert_int_equal(ff_db_connect(t.db_url, &db, &err), 0);
	const struct ff_run_ref ref = {id, 1, "it-store"};
	assert_int_equal(ff_run_start(db, &ref, 300, NULL, &err), 1);

	struct output out;
	output_init(&out, 1 << 20, NULL, NULL, NULL);
	output_feed(&out, 1, "the workflow's logs\n", 20);
	struct results res = {.sarif = strdup("{\"version\":\"2.1.0\",\"runs\":[]}")};
	res.sarif_len = strlen(res.sarif);
	struct ff_finding f = {.rule_id = "r",
			       .level = "warning",
			       .message = "m",
			       .start_line = 3000000000L,
			       .end_line = 3000000000L,
			       .fingerprint = "fp"};
	struct ff_findings findings = {.items = &f, .n = 1, .count_by_level = {0, 1, 0, 0}};
	const struct outcome ok = {.transition = FF_RUN_FINISH, .state = FF_RUN_SUCCEEDED};
	const struct store_attempt a = {
	    .ref = &ref, .o = &ok, .exit_code = 0, .out = &out, .res = &res, .findings = &findings};
	struct outcome recorded;
	assert_int_equal(store_attempt_end(db, &a, 30000, &recorded, &err), 0);
	assert_int_equal(recorded.transition, FF_RUN_DEAD_LETTER);
	assert_int_equal(recorded.state, FF_RUN_FAILED);

	rel_sql_text(&t, "SELECT state || ' ' || error FROM runs WHERE id = $1", id, text,
		     sizeof(text));
	if (strncmp(text, "failed result not storable: ", 28) != 0 || !strstr(text, "out of range"))
		fail_msg("run: %s", text);
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM dead_letters WHERE run_id = $1", id), 1);
	/* the logs kept; the result's parts not */
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM run_results WHERE run_id = $1 AND "
					"logs = convert_to(E'the workflow''s logs\\n', 'UTF8') AND "
					"sarif IS NULL",
					id),
			 1);
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM findings WHERE run_id = $1", id),
			 0);
	assert_int_equal(itest_sql_long(&t, "SELECT attempt FROM runs WHERE id = $1", id), 1);

	/* the controller serves the logs of the failed run */
	struct itest_resp r;
	char path[128];
	snprintf(path, sizeof(path), "/api/v1/runs/%s/logs", id);
	itest_get_ok(&t, path, &r);
	assert_non_null(strstr(r.body, "the workflow's logs"));
	itest_resp_release(&r);

	free(res.sarif);
	output_release(&out);
	ff_db_free(db);
	itest_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(hostile_results_stored_first_time),
	    cmocka_unit_test(unstorable_result_dead_lettered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

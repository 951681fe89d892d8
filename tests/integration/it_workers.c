/* it_workers — horizontal scaling: two workers consuming one queue share its runs, and each
 * run is executed and recorded exactly once; within one worker, the next run starts while
 * the last one's result is still being recorded, and never while its container runs. */
#include "it_reliability.h"

static void two_workers_share_a_queue(void **state)
{
	(void)state;
	struct itest t;
	char target[65], ids[6][37], body[256];
	itest_setup(&t, "workers");
	itest_start_controller(&t, NULL);
	const char *w1[] = {"FF_WORKER_CONCURRENCY=1", "FF_WORKER_ID=worker-one", NULL};
	const char *w2[] = {"FF_WORKER_CONCURRENCY=1", "FF_WORKER_ID=worker-two", NULL};
	itest_start_worker(&t, w1);
	itest_start_worker(&t, w2);
	const char *files[] = {"x.txt", "x\n", NULL};
	itest_upload(&t, files, target);
	snprintf(body, sizeof(body),
		 "{\"workflow\":\"test-sleep\",\"target\":\"%s\",\"parameters\":{\"seconds\":1}}",
		 target);
	for (int i = 0; i < 6; i++)
		assert_int_equal(itest_submit(&t, body, ids[i]), 202);
	for (int i = 0; i < 6; i++) {
		cJSON *run = itest_wait_terminal(&t, ids[i], 120000);
		assert_string_equal(cJSON_GetObjectItem(run, "state")->valuestring, "succeeded");
		cJSON_Delete(run);
	}
	/* with prefetch 1 each, the broker hands the second message to the other worker */
	assert_int_equal(itest_sql_long(&t, "SELECT count(DISTINCT worker) FROM runs", NULL), 2);
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM run_results", NULL), 6);
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM run_events WHERE state = 'succeeded'", NULL),
	    6);
	itest_teardown(&t);
}

/* One container at a time: a run of 250 MB of artifacts, whose recording takes seconds, then
 * a quick one. The quick one starts (started_at) before the big one is recorded
 * (finished_at), on the spare executor; the engine never runs the two containers at once. */
static void next_run_starts_while_the_last_records(void **state)
{
	(void)state;
	struct itest t;
	char target[65], big[37], quick[37], body[256];
	itest_setup(&t, "workers_spare");
	itest_start_controller(&t, NULL);
	const char *w[] = {"FF_WORKER_CONCURRENCY=1", "FF_WORKER_ID=worker-spare", NULL};
	itest_start_worker(&t, w);
	const char *files[] = {"x.txt", "x\n", NULL};
	itest_upload(&t, files, target);
	snprintf(body, sizeof(body), "{\"workflow\":\"test-results-big\",\"target\":\"%s\"}",
		 target);
	assert_int_equal(itest_submit(&t, body, big), 202);
	itest_wait_state(&t, big, "running", 60000);
	snprintf(body, sizeof(body), "{\"workflow\":\"test-noop\",\"target\":\"%s\"}", target);
	assert_int_equal(itest_submit(&t, body, quick), 202);
	long most = 0;
	int64_t deadline = itest_now_ms() + 120000;
	while (itest_sql_long(&t,
			      "SELECT count(*) FROM runs WHERE state NOT IN " REL_TERMINAL_STATES,
			      NULL) > 0) {
		long running = rel_shell_lines("docker ps -q --filter label=fuzzforge.worker="
					       "worker-spare --filter status=running");
		most = running > most ? running : most;
		if (itest_now_ms() > deadline)
			fail_msg("the two runs did not end within 120 s");
		itest_pause_ms(REL_POLL_MS);
	}
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM runs WHERE state = 'succeeded'", NULL), 2);
	assert_true(most <= 1);
	/* the test's database holds these two runs only */
	if (itest_sql_long(
		&t,
		"SELECT (started_at < (SELECT finished_at FROM runs WHERE id <> $1))::int "
		"FROM runs WHERE id = $1",
		quick) != 1)
		fail_msg("the quick run started only after the big one was recorded");
	itest_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(two_workers_share_a_queue),
	    cmocka_unit_test(next_run_starts_while_the_last_records)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

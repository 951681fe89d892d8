/* it_workers — horizontal scaling: two workers consuming one queue share its runs, and each
 * run is executed and recorded exactly once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "itest.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(two_workers_share_a_queue)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

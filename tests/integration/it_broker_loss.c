/* it_broker_loss — the broker loses the jobs of runs PostgreSQL holds (its node went with
 * its disk; here its queue is purged, which looks the same from outside): the controller's
 * broker audit (FF_BROKER_AUDIT_S) sees the queue hold fewer jobs than runs wait for, and
 * the outbox publishes them again. Every run then ends once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "itest.h"

#define RUNS 6

static void lost_jobs_are_republished(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[160], ids[RUNS][37];
	itest_setup(&t, "broker_loss");
	const char *env[] = {"FF_BROKER_AUDIT_S=2", NULL};
	itest_start_controller(&t, env);
	const char *files[] = {"a.txt", "lost\n", NULL};
	itest_upload(&t, files, target);
	snprintf(body, sizeof(body), "{\"workflow\":\"test-noop\",\"target\":\"%s\"}", target);
	for (int i = 0; i < RUNS; i++)
		assert_int_equal(itest_submit(&t, body, ids[i]), 202);
	/* confirmed before each 202; marked published just after */
	int64_t marked_by = itest_now_ms() + 10000;
	while (itest_sql_long(&t, ITEST_SQL_PUBLISHED_RUNS, NULL) != RUNS) {
		if (itest_now_ms() > marked_by)
			fail_msg("the %d runs not all marked published within 10 s", RUNS);
		itest_pause_ms(20);
	}

	/* while the queue holds them, the audit leaves them alone */
	char log[256];
	snprintf(log, sizeof(log), "%s/broker_loss-controller-0.log", ITEST_LOG_DIR);
	int64_t deadline = itest_now_ms() + 30000;
	for (;;) {
		if (itest_file_lines(log, "holds 6 jobs for 6 waiting runs"))
			break;
		if (itest_now_ms() > deadline)
			fail_msg("no broker audit of the 6 waiting runs within 30 s");
		itest_pause_ms(100);
	}
	assert_int_equal(itest_sql_long(&t, ITEST_SQL_PUBLISHED_RUNS, NULL), RUNS);

	/* the broker loses them: no worker has consumed any */
	const char *vhost = strrchr(t.amqp_url, '/') + 1;
	char *purge[] = {"/usr/sbin/rabbitmqctl", "-q", "purge_queue", "-p", (char *)vhost,
			 "ff.jobs.default",	  NULL};
	assert_int_equal(itest_run_cmd(purge), 0);
	printf("broker_loss: %d jobs purged from ff.jobs.default in vhost %s\n", RUNS, vhost);

	itest_start_worker(&t, NULL);
	for (int i = 0; i < RUNS; i++) {
		cJSON *run = itest_wait_terminal(&t, ids[i], 60000);
		assert_string_equal(itest_str(run, "state"), "succeeded");
		cJSON_Delete(run);
	}
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM run_events WHERE state = 'succeeded'", NULL),
	    RUNS);
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM run_results", NULL), RUNS);
	itest_teardown(&t);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	const struct CMUnitTest tests[] = {cmocka_unit_test(lost_jobs_are_republished)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

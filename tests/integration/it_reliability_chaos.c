/* it_reliability_chaos — the services restarting under load: RabbitMQ stopped and started
 * during a stream of submissions, PostgreSQL restarted while runs execute. Every accepted
 * run must reach a terminal state exactly once. These restart the machine's shared broker
 * and database, so the teardown brings them back even when a test fails. */
#include "it_reliability.h"

#define MAX_SUBMITS	 400
#define STREAM_GAP_POLLS 3 /* between two submits of the stream */

static const char *const target_files[] = {"lib/b.c", "int b;\n", NULL};

struct stream {
	struct itest *t;
	const char *body;
	long accepted, refused, other;
};

/* One submit; a refusal (no answer, or 503) is allowed during an outage, nothing else. */
static void submit_one(struct stream *s)
{
	struct itest_resp r;
	assert_true(s->accepted + s->refused < MAX_SUBMITS);
	int rc = itest_http(s->t, "POST", "/api/v1/runs", "application/json", s->body,
			    strlen(s->body), 1, &r);
	if (rc == 0 && r.status == 202)
		s->accepted++;
	else if (rc < 0 || r.status == 503)
		s->refused++;
	else
		fail_msg("submit answered %ld: %s", r.status, r.body ? r.body : "");
	itest_resp_release(&r);
}

/* Submits while a shell command runs (at least min submits), a few per second: a client's
 * stream, not a flood. */
static void submit_during(struct stream *s, const char *cmd, int min)
{
	pid_t pid = rel_spawn_shell(cmd);
	int status = -1, n = 0;
	assert_true(pid > 0);
	while (!rel_reaped(pid, &status) || n < min) {
		submit_one(s);
		n++;
		for (int i = 0; i < STREAM_GAP_POLLS; i++)
			itest_pause_ms(REL_POLL_MS);
	}
	assert_int_equal(status, 0);
}

/* Every run terminal and succeeded, each with one result and one terminal event. */
static void assert_all_once(struct itest *t, long accepted)
{
	assert_int_equal(itest_sql_long(t, "SELECT count(*) FROM runs", NULL), accepted);
	rel_wait_sql(t, "SELECT count(*) FROM runs WHERE state NOT IN " REL_TERMINAL_STATES, NULL,
		     0, 180000);
	assert_int_equal(
	    itest_sql_long(t, "SELECT count(*) FROM runs WHERE state = 'succeeded'", NULL),
	    accepted);
	assert_int_equal(itest_sql_long(t, "SELECT count(*) FROM run_results", NULL), accepted);
	assert_int_equal(
	    itest_sql_long(t,
			   "SELECT count(*) FROM runs r WHERE (SELECT count(*) FROM "
			   "run_events e WHERE e.run_id = r.id AND e.state IN " REL_TERMINAL_STATES
			   ") <> 1",
			   NULL),
	    0);
	assert_int_equal(itest_sql_long(t,
					"SELECT count(*) FROM runs r WHERE (SELECT count(*) FROM "
					"run_results x WHERE x.run_id = r.id) <> 1",
					NULL),
			 0);
}

/* 2: stop_app / start_app while submitting: submits during the outage are accepted into the
 * outbox and published when the broker is back; confirms lost in the restart make duplicate
 * messages, which the workers' guarded start turns into no-ops. */
static void broker_restart_under_submissions(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256];
	itest_setup(&t, "rel_broker");
	itest_start_controller(&t, NULL);
	const char *w[] = {"FF_WORKER_CONCURRENCY=2", NULL};
	itest_start_worker(&t, w);
	itest_start_worker(&t, w);
	itest_upload(&t, target_files, target);
	struct stream s = {&t, rel_body(body, sizeof(body), "test-noop", target, NULL, 0), 0, 0, 0};

	for (int i = 0; i < 5; i++)
		submit_one(&s);
	submit_during(&s, "rabbitmqctl -q stop_app >/dev/null", 1);
	long before = s.accepted;
	for (int i = 0; i < 10; i++)
		submit_one(&s); /* the broker is down now: the database is enough */
	assert_int_equal(s.accepted - before, 10);
	submit_during(&s, "rabbitmqctl -q start_app >/dev/null", 1);
	for (int i = 0; i < 5; i++)
		submit_one(&s);
	print_message("broker restart: %ld submits accepted, %ld refused\n", s.accepted, s.refused);
	assert_true(s.accepted >= 20);
	assert_all_once(&t, s.accepted);
	itest_teardown(&t);
}

#define PG_CTL "pg_ctlcluster --skip-systemctl-redirect 15 main "

/* 3: PostgreSQL restarts while containers run: workers keep their runs (the lease is long
 * enough), record the results once the database is back, and queued runs start then. Then
 * a longer outage that spans the end of two runs: their workers hold the results and keep
 * trying until the database is back. */
static void database_restart_while_running(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], ids[8][37];
	struct itest_resp r;
	itest_setup(&t, "rel_pg");
	itest_start_controller(&t, NULL);
	const char *w[] = {"FF_WORKER_CONCURRENCY=2", NULL};
	itest_start_worker(&t, w);
	itest_start_worker(&t, w);
	itest_upload(&t, target_files, target);
	rel_body(body, sizeof(body), "test-long", target, "{\"seconds\":4}", 0);
	for (int i = 0; i < 6; i++)
		assert_int_equal(itest_submit(&t, body, ids[i]), 202);
	rel_wait_sql(&t,
		     "SELECT (count(*) >= 2)::int FROM runs r WHERE state = 'running' AND EXISTS "
		     "(SELECT 1 FROM run_events e WHERE e.run_id = r.id AND "
		     "e.message = 'container started')",
		     NULL, 1, 60000);

	/* Readiness during a restart is looked at, not required: it can be quicker than a
	 * poll. */
	pid_t pid = rel_spawn_shell(PG_CTL "restart");
	int status = -1, saw_503 = 0;
	while (!rel_reaped(pid, &status)) {
		if (itest_http(&t, "GET", "/readyz", NULL, NULL, 0, 0, &r) == 0 && r.status == 503)
			saw_503 = 1;
		itest_resp_release(&r);
		itest_pause_ms(REL_POLL_MS);
	}
	assert_int_equal(status, 0);
	print_message("postgresql restart: /readyz %s 503 during the outage\n",
		      saw_503 ? "answered" : "never answered");
	for (int i = 0; i < 6; i++)
		rel_wait_terminal_sql(&t, ids[i], 120000);
	assert_all_once(&t, 6);

	rel_body(body, sizeof(body), "test-long", target, "{\"seconds\":2}", 0);
	for (int i = 6; i < 8; i++) {
		assert_int_equal(itest_submit(&t, body, ids[i]), 202);
		rel_wait_container_started(&t, ids[i], 60000);
	}
	assert_int_equal(system(PG_CTL "stop"), 0);
	/* /readyz answers from the health thread's last check (once a second): it turns 503
	 * within a few checks */
	int64_t unready_by = itest_now_ms() + 10000;
	for (;;) {
		assert_int_equal(itest_http(&t, "GET", "/readyz", NULL, NULL, 0, 0, &r), 0);
		long st = r.status;
		itest_resp_release(&r);
		if (st == 503)
			break;
		if (itest_now_ms() > unready_by)
			fail_msg("/readyz still %ld 10 s after postgresql stopped", st);
		itest_pause_ms(REL_POLL_MS);
	}
	/* Containers gone while the database is down: the workers hold the results now. */
	rel_wait_no_leftovers(ids[6], 60000, "the database outage");
	rel_wait_no_leftovers(ids[7], 60000, "the database outage");
	assert_int_equal(system(PG_CTL "start"), 0);
	for (int i = 6; i < 8; i++)
		rel_wait_terminal_sql(&t, ids[i], 120000);
	assert_all_once(&t, 8);
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM runs WHERE finished_at > "
					"pg_postmaster_start_time()",
					NULL),
			 2);
	itest_teardown(&t);
}

/* 3b: the database is away for longer than the lease while a run ends: the worker gives up
 * recording its result, and the run must not stay `running` on that (live) worker forever.
 * The controller is stopped during the outage so that its lease reaper cannot act before the
 * worker's heartbeat is back: only runs still executing may have their lease renewed. */
static void database_outage_longer_than_lease(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], id[37], cmd[512];
	itest_setup(&t, "rel_pglong");
	const char *lease[] = {"FF_LEASE_S=3", NULL};
	pid_t ctl = itest_start_controller(&t, lease);
	itest_start_worker(&t, lease);
	itest_upload(&t, target_files, target);
	rel_body(body, sizeof(body), "test-long", target, "{\"seconds\":2}", 0);
	assert_int_equal(itest_submit(&t, body, id), 202);
	rel_wait_container_started(&t, id, 60000);
	assert_int_equal(itest_stop(&t, ctl, SIGTERM, 30000), 0);
	assert_int_equal(system(PG_CTL "stop"), 0);
	/* the container ends, the worker retries its result for a lease, then gives up */
	snprintf(cmd, sizeof(cmd), "grep -h 'result not recorded:' %s/rel_pglong-worker-*.log",
		 ITEST_LOG_DIR);
	int64_t deadline = itest_now_ms() + 60000;
	while (rel_shell_lines(cmd) < 1) {
		if (itest_now_ms() > deadline)
			fail_msg("the worker did not give up recording within 60 s");
		itest_pause_ms(REL_POLL_MS);
	}
	assert_int_equal(system(PG_CTL "start"), 0);
	rel_wait_sql(
	    &t, "SELECT count(*) FROM workers WHERE last_heartbeat > pg_postmaster_start_time()",
	    NULL, 1, 30000);
	itest_start_controller(&t, lease);
	rel_wait_terminal_sql(&t, id, 60000);
	char text[128];
	rel_sql_text(&t,
		     "SELECT state || ' ' || attempt || ' ' || lease_losses FROM runs "
		     "WHERE id = $1",
		     id, text, sizeof(text));
	assert_string_equal(text, "succeeded 1 1");
	rel_assert_succeeded_once(&t, id);
	itest_teardown(&t);
}

/* Whatever happened, leave the broker and the database running for everyone else. */
static int restore_services(void **state)
{
	(void)state;
	if (rel_broker("start_app") < 0)
		print_error("rabbitmqctl start_app failed\n");
	if (system("pg_isready -q -h 127.0.0.1 || " PG_CTL "start") != 0)
		print_error("postgresql is not running\n");
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(broker_restart_under_submissions, restore_services),
	    cmocka_unit_test_teardown(database_restart_while_running, restore_services),
	    cmocka_unit_test_teardown(database_outage_longer_than_lease, restore_services),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

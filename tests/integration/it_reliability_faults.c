/* it_reliability_faults — processes dying: a worker killed mid-run (its lease expires and
 * another worker runs the attempt again, cleaning up what the dead one left), a controller
 * dying between committing a run and publishing it (the outbox publishes it), a worker
 * draining on SIGTERM (finishing short runs, handing long ones back), and the worker
 * registry the API shows. End states are read from PostgreSQL. */
#include "it_reliability.h"

#define LEASE_ENV "FF_LEASE_S=3"

static const char *const target_files[] = {"src/a.c", "int a;\n", NULL};

/* The worker's entry in GET /api/v1/workers (caller deletes the returned list), or NULL. */
static cJSON *find_worker(struct itest *t, const char *id, cJSON **list)
{
	*list = NULL;
	if (rel_call(t, "GET", "/api/v1/workers", list) != 200)
		return NULL;
	cJSON *w;
	cJSON_ArrayForEach(w, cJSON_GetObjectItem(*list, "workers"))
	{
		const cJSON *wid = cJSON_GetObjectItem(w, "id");
		if (cJSON_IsString(wid) && !strcmp(wid->valuestring, id))
			return w;
	}
	return NULL;
}

/* Waits until the API lists the worker in state, with a heartbeat timestamp. */
static void wait_worker_state(struct itest *t, const char *id, const char *state, int timeout_ms)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	for (;;) {
		cJSON *list;
		const cJSON *w = find_worker(t, id, &list);
		const cJSON *st = cJSON_GetObjectItem(w, "state");
		const cJSON *hb = cJSON_GetObjectItem(w, "last_heartbeat");
		int match = cJSON_IsString(st) && !strcmp(st->valuestring, state);
		if (match) {
			assert_true(cJSON_IsString(hb) && strlen(hb->valuestring) >= 20);
			assert_string_equal(cJSON_GetObjectItem(w, "pool")->valuestring, "default");
			assert_true(cJSON_IsArray(cJSON_GetObjectItem(w, "running_runs")));
		}
		cJSON_Delete(list);
		if (match)
			return;
		if (itest_now_ms() > deadline)
			fail_msg("worker %s not %s within %d ms", id, state, timeout_ms);
		itest_pause_ms(REL_POLL_MS);
	}
}

/* 1 and 11: kill -9 a worker while its container runs. The lease (3 s) expires, the reaper
 * requeues the run without counting the attempt, and the second worker runs it: same
 * attempt number, so the same container name, and the dead worker's container and volumes
 * are removed before the new ones are made. */
static void worker_killed_mid_run(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], id[37], worker[64];
	itest_setup(&t, "rel_kill");
	const char *cenv[] = {LEASE_ENV, NULL};
	itest_start_controller(&t, cenv);
	const char *wa[] = {LEASE_ENV, "FF_WORKER_CONCURRENCY=1", "FF_WORKER_ID=rel-kill-a", NULL};
	const char *wb[] = {LEASE_ENV, "FF_WORKER_CONCURRENCY=1", "FF_WORKER_ID=rel-kill-b", NULL};
	pid_t a = itest_start_worker(&t, wa);
	itest_upload(&t, target_files, target);
	rel_body(body, sizeof(body), "test-long", target, "{\"seconds\":6}", 0);
	assert_int_equal(itest_submit(&t, body, id), 202);
	rel_wait_container_started(&t, id, 60000);
	rel_sql_text(&t, "SELECT worker FROM runs WHERE id = $1", id, worker, sizeof(worker));
	assert_string_equal(worker, "rel-kill-a");
	assert_true(rel_docker_leftovers(id) > 0); /* the dead worker will leave these */

	itest_start_worker(&t, wb);
	wait_worker_state(&t, "rel-kill-a", "active", 10000);
	wait_worker_state(&t, "rel-kill-b", "active", 10000);
	assert_int_equal(itest_stop(&t, a, SIGKILL, 10000), 128);

	cJSON *run = itest_wait_terminal(&t, id, 90000);
	cJSON_Delete(run);
	rel_sql_text(&t,
		     "SELECT state || ' ' || worker || ' ' || attempt || ' ' || lease_losses "
		     "FROM runs WHERE id = $1",
		     id, body, sizeof(body));
	assert_string_equal(body, "succeeded rel-kill-b 1 1");
	rel_assert_succeeded_once(&t, id);
	/* both starts are attempt 1: the lost one was not counted */
	assert_int_equal(
	    itest_sql_long(&t,
			   "SELECT count(*) FROM run_events WHERE run_id = $1 AND "
			   "state = 'running' AND attempt = 1 AND message LIKE 'started on %'",
			   id),
	    2);
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM run_events WHERE run_id = $1 AND "
					"state = 'queued' AND message = 'lease expired on worker "
					"rel-kill-a: requeued'",
					id),
			 1);
	/* the new attempt removed the leftovers by name, then its own containers */
	rel_wait_no_leftovers(id, 30000, "the second attempt");

	/* 11: the registry: the silent worker is lost, the other one active */
	wait_worker_state(&t, "rel-kill-a", "lost", 30000);
	wait_worker_state(&t, "rel-kill-b", "active", 10000);
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM workers", NULL), 2);
	itest_teardown(&t);
}

/* 4: the controller exits after committing the run, before publishing it; the next
 * controller's dispatcher finds the unpublished run and publishes it. */
static void controller_dies_between_commit_and_publish(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], id[40];
	struct itest_resp r;
	itest_setup(&t, "rel_commit");
	const char *faulty[] = {"FF_FAULT_EXIT_AFTER_COMMIT=1", NULL};
	pid_t c1 = itest_start_controller(&t, faulty);
	itest_start_worker(&t, NULL);
	itest_upload(&t, target_files, target);
	rel_body(body, sizeof(body), "test-noop", target, NULL, 0);
	/* the connection closes without an answer */
	assert_int_equal(
	    itest_http(&t, "POST", "/api/v1/runs", "application/json", body, strlen(body), 1, &r),
	    -1);
	itest_resp_release(&r);
	assert_int_equal(itest_stop(&t, c1, SIGKILL, 10000), 70);
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM runs", NULL), 1);
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM runs r JOIN run_outbox o "
					"ON o.run_id = r.id AND o.attempt = 1 "
					"WHERE r.state = 'queued'",
					NULL),
			 1);
	rel_sql_text(&t, "SELECT id FROM runs", NULL, id, sizeof(id));

	itest_start_controller(&t, NULL);
	rel_wait_terminal_sql(&t, id, 60000);
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM runs", NULL), 1);
	assert_int_equal(
	    itest_sql_long(&t,
			   "SELECT count(*) FROM runs WHERE id = $1 AND state = 'succeeded' "
			   "AND attempt = 1 AND NOT EXISTS (SELECT 1 FROM run_outbox "
			   "WHERE run_id = $1)",
			   id),
	    1);
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM run_results WHERE run_id = $1", id), 1);
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM run_events WHERE run_id = $1 AND "
					"state = 'running' AND message LIKE 'started on %'",
					id),
			 1);
	itest_teardown(&t);
}

/* 10 and 11: SIGTERM drains. A run that ends within FF_WORKER_DRAIN_S is finished and
 * recorded by the draining worker, which then exits 0; a longer one is handed back (queued,
 * attempt not counted) and completes on the next worker. */
static void drain_on_sigterm(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], id1[37], id2[37], text[128];
	itest_setup(&t, "rel_drain");
	itest_start_controller(&t, NULL);
	itest_upload(&t, target_files, target);

	const char *w1[] = {"FF_WORKER_DRAIN_S=60", "FF_WORKER_ID=rel-drain-1", NULL};
	pid_t p1 = itest_start_worker(&t, w1);
	rel_body(body, sizeof(body), "test-long", target, "{\"seconds\":3}", 0);
	assert_int_equal(itest_submit(&t, body, id1), 202);
	rel_wait_container_started(&t, id1, 60000);
	assert_int_equal(itest_stop(&t, p1, SIGTERM, 60000), 0);
	rel_sql_text(&t, "SELECT state || ' ' || worker || ' ' || attempt FROM runs WHERE id = $1",
		     id1, text, sizeof(text));
	assert_string_equal(text, "succeeded rel-drain-1 1");
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM run_results WHERE run_id = $1", id1), 1);
	wait_worker_state(&t, "rel-drain-1", "stopped", 5000);

	const char *w2[] = {"FF_WORKER_DRAIN_S=1", "FF_WORKER_ID=rel-drain-2", NULL};
	pid_t p2 = itest_start_worker(&t, w2);
	rel_body(body, sizeof(body), "test-long", target, "{\"seconds\":12}", 0);
	assert_int_equal(itest_submit(&t, body, id2), 202);
	rel_wait_container_started(&t, id2, 60000);
	assert_int_equal(itest_stop(&t, p2, SIGTERM, 30000), 0);
	rel_sql_text(&t,
		     "SELECT state || ' ' || attempt || ' ' || coalesce(worker, '-') FROM runs "
		     "WHERE id = $1",
		     id2, text, sizeof(text));
	assert_string_equal(text, "queued 0 -");
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM run_events WHERE run_id = $1 AND "
					"state = 'queued' AND message = 'handed back by worker "
					"rel-drain-2: draining'",
					id2),
			 1);
	assert_int_equal(rel_docker_leftovers(id2), 0); /* its container was killed and removed */
	wait_worker_state(&t, "rel-drain-2", "stopped", 5000);

	const char *w3[] = {"FF_WORKER_ID=rel-drain-3", NULL};
	itest_start_worker(&t, w3);
	rel_wait_terminal_sql(&t, id2, 60000);
	rel_sql_text(&t, "SELECT state || ' ' || worker || ' ' || attempt FROM runs WHERE id = $1",
		     id2, text, sizeof(text));
	assert_string_equal(text, "succeeded rel-drain-3 1");
	rel_assert_succeeded_once(&t, id2);
	wait_worker_state(&t, "rel-drain-3", "active", 5000);
	itest_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(worker_killed_mid_run),
	    cmocka_unit_test(controller_dies_between_commit_and_publish),
	    cmocka_unit_test(drain_on_sigterm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

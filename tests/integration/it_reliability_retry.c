/* it_reliability_retry — what happens to one run by policy or by request: retries with
 * backoff up to the dead-letter queue and back, a poison message, cancel and retry,
 * priorities, idempotent submits. End states are read from PostgreSQL; the broker's
 * dead-letter queue is looked at with rabbitmq-c directly. */
#include <amqp.h>
#include <amqp_tcp_socket.h>

#include "it_reliability.h"

static const char *const target_files[] = {"c/d.c", "int d;\n", NULL};

/* --- the broker, seen from outside ---------------------------------------------------- */

/* A channel on the test's vhost, or fails the test. */
static amqp_connection_state_t broker_open(struct itest *t)
{
	struct amqp_connection_info info;
	char url[256];
	snprintf(url, sizeof(url), "%s", t->amqp_url);
	assert_int_equal(amqp_parse_url(url, &info), AMQP_STATUS_OK);
	amqp_connection_state_t c = amqp_new_connection();
	amqp_socket_t *s = amqp_tcp_socket_new(c);
	assert_non_null(s);
	assert_int_equal(amqp_socket_open(s, info.host, info.port), AMQP_STATUS_OK);
	amqp_rpc_reply_t r = amqp_login(c, info.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
					info.user, info.password);
	assert_int_equal(r.reply_type, AMQP_RESPONSE_NORMAL);
	amqp_channel_open(c, 1);
	assert_int_equal(amqp_get_rpc_reply(c).reply_type, AMQP_RESPONSE_NORMAL);
	return c;
}

static void broker_close(amqp_connection_state_t c)
{
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
}

/* Messages ready in a queue and its consumers (passive declare). -1 when the queue does not
 * exist (yet). */
static int queue_info(struct itest *t, const char *queue, long *messages, long *consumers)
{
	amqp_connection_state_t c = broker_open(t);
	amqp_queue_declare_ok_t *ok =
	    amqp_queue_declare(c, 1, amqp_cstring_bytes(queue), 1, 0, 0, 0, amqp_empty_table);
	if (!ok) {
		/* the broker closed the channel (404): acknowledge, then leave */
		amqp_channel_close_ok_t close_ok = {0};
		amqp_send_method(c, 1, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
		amqp_connection_close(c, AMQP_REPLY_SUCCESS);
		amqp_destroy_connection(c);
		return -1;
	}
	*messages = (long)ok->message_count;
	*consumers = (long)ok->consumer_count;
	broker_close(c);
	return 0;
}

static long queue_depth(struct itest *t, const char *queue)
{
	long n, consumers;
	if (queue_info(t, queue, &n, &consumers) < 0)
		fail_msg("queue %s not declared", queue);
	return n;
}

static void wait_queue_depth(struct itest *t, const char *queue, long want, int timeout_ms)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	long n;
	while ((n = queue_depth(t, queue)) != want) {
		if (itest_now_ms() > deadline)
			fail_msg("queue %s holds %ld, not %ld, after %d ms", queue, n, want,
				 timeout_ms);
		itest_pause_ms(REL_POLL_MS);
	}
}

/* Waits until someone consumes the queue (so it exists and is bound). */
static void wait_consumer(struct itest *t, const char *queue, int timeout_ms)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	long n, consumers = 0;
	while (queue_info(t, queue, &n, &consumers) < 0 || consumers < 1) {
		if (itest_now_ms() > deadline)
			fail_msg("nobody consumes %s after %d ms", queue, timeout_ms);
		itest_pause_ms(REL_POLL_MS);
	}
}

/* Publishes body to ff.jobs with routing key pool, persistent, confirmed by the broker. */
static void publish_raw(struct itest *t, const char *pool, const char *body)
{
	amqp_connection_state_t c = broker_open(t);
	amqp_confirm_select(c, 1);
	assert_int_equal(amqp_get_rpc_reply(c).reply_type, AMQP_RESPONSE_NORMAL);
	amqp_basic_properties_t props = {
	    ._flags = AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_CONTENT_TYPE_FLAG,
	    .delivery_mode = 2,
	    .content_type = amqp_cstring_bytes("application/json"),
	};
	assert_int_equal(amqp_basic_publish(c, 1, amqp_cstring_bytes("ff.jobs"),
					    amqp_cstring_bytes(pool), 1, 0, &props,
					    amqp_cstring_bytes(body)),
			 AMQP_STATUS_OK);
	/* mandatory: an unroutable message would come back as basic.return before the ack */
	struct timeval tv = {10, 0};
	amqp_frame_t f;
	assert_int_equal(amqp_simple_wait_frame_noblock(c, &f, &tv), AMQP_STATUS_OK);
	assert_int_equal(f.frame_type, AMQP_FRAME_METHOD);
	assert_int_equal(f.payload.method.id, AMQP_BASIC_ACK_METHOD);
	broker_close(c);
}

static void expect_text(struct itest *t, const char *sql, const char *id, const char *want)
{
	char v[512];
	rel_sql_text(t, sql, id, v, sizeof(v));
	assert_string_equal(v, want);
}

#define STARTS                                                                                     \
	"SELECT coalesce(string_agg(attempt::text, ',' ORDER BY id), '') FROM run_events "         \
	"WHERE run_id = $1 AND state = 'running' AND message LIKE 'started on %'"

/* Milliseconds from the failure of attempt n to the start of attempt n + 1. */
#define GAP_MS(n)                                                                                  \
	"SELECT (extract(epoch FROM (SELECT ts FROM run_events WHERE run_id = $1 AND "             \
	"state = 'running' AND attempt = " #n " + 1 AND message LIKE 'started on %') - "           \
	"(SELECT ts FROM run_events WHERE run_id = $1 AND state = 'retrying' AND "                 \
	"attempt = " #n ")) * 1000)::bigint"

/* The dead letter of run id as the API lists it, or NULL (list deleted by the caller). */
static const cJSON *listed_dead_letter(struct itest *t, const char *id, cJSON **list)
{
	assert_int_equal(rel_call(t, "GET", "/api/v1/dead-letters", list), 200);
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(*list, "dead_letters"))
	{
		if (!strcmp(cJSON_GetObjectItem(d, "run_id")->valuestring, id))
			return d;
	}
	return NULL;
}

/* 5: a workflow that always fails: 3 attempts with backoff, dead-lettered, requeued from the
 * API (3 more attempts), dead again, then deleted. */
static void retries_then_dead_letter(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], id[37], path[128];
	cJSON *list;
	itest_setup(&t, "rel_retry");
	itest_start_controller(&t, NULL);
	itest_start_worker(&t, NULL);
	itest_upload(&t, target_files, target);
	assert_int_equal(
	    itest_submit(&t, rel_body(body, sizeof(body), "test-flaky", target, NULL, 0), id), 202);
	rel_wait_terminal_sql(&t, id, 90000);
	expect_text(&t, "SELECT state || ' ' || attempt FROM runs WHERE id = $1", id, "failed 3");
	expect_text(&t, STARTS, id, "1,2,3");
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM run_events WHERE run_id = $1 AND "
					"state = 'retrying'",
					id),
			 2);
	/* the delay queues' TTLs are lower bounds: backoff_s * 2^(attempt-1) */
	assert_true(itest_sql_long(&t, GAP_MS(1), id) >= 1000);
	assert_true(itest_sql_long(&t, GAP_MS(2), id) >= 2000);
	expect_text(&t, "SELECT attempts || ' ' || last_error FROM dead_letters WHERE run_id = $1",
		    id, "3 workflow exited with code 3");
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM run_results WHERE run_id = $1", id), 1);
	wait_queue_depth(&t, "ff.dead", 1, 10000);

	const cJSON *d = listed_dead_letter(&t, id, &list);
	assert_non_null(d);
	assert_int_equal(cJSON_GetObjectItem(d, "attempts")->valueint, 3);
	assert_string_equal(cJSON_GetObjectItem(d, "workflow")->valuestring, "test-flaky");
	cJSON_Delete(list);

	snprintf(path, sizeof(path), "/api/v1/dead-letters/%s/requeue", id);
	assert_int_equal(rel_call(&t, "POST", path, NULL), 202);
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM dead_letters", NULL), 0);
	assert_int_equal(rel_call(&t, "POST", path, NULL), 409); /* no longer dead */
	rel_wait_sql(&t, "SELECT count(*) FROM runs WHERE id = $1 AND state = 'failed'", id, 1,
		     120000);
	expect_text(&t, "SELECT state || ' ' || attempt FROM runs WHERE id = $1", id, "failed 6");
	expect_text(&t, STARTS, id, "1,2,3,4,5,6");
	expect_text(&t, "SELECT attempts::text FROM dead_letters WHERE run_id = $1", id, "6");
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM run_results WHERE run_id = $1", id), 1);
	wait_queue_depth(&t, "ff.dead", 2, 10000);

	snprintf(path, sizeof(path), "/api/v1/dead-letters/%s", id);
	assert_int_equal(rel_call(&t, "DELETE", path, NULL), 204);
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM dead_letters", NULL), 0);
	assert_null(listed_dead_letter(&t, id, &list));
	cJSON_Delete(list);
	assert_int_equal(rel_call(&t, "DELETE", path, NULL), 404);
	expect_text(&t, "SELECT state FROM runs WHERE id = $1", id, "failed");
	itest_teardown(&t);
}

/* 5b: retry.on_timeout. test-timeout-retry (3 s timeout, 2 attempts, on_timeout) times out,
 * is retried once with backoff, times out again and ends like a failed run past its budget:
 * the last attempt's state (timed_out), dead-lettered with the timeout as last error.
 * test-sleep (no on_timeout) times out once and is not retried. */
static void timeout_retried_by_policy(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], retried[37], once[37];
	itest_setup(&t, "rel_timeout");
	itest_start_controller(&t, NULL);
	itest_start_worker(&t, NULL);
	itest_upload(&t, target_files, target);
	rel_body(body, sizeof(body), "test-timeout-retry", target, "{\"seconds\":600}", 0);
	assert_int_equal(itest_submit(&t, body, retried), 202);
	rel_body(body, sizeof(body), "test-sleep", target, "{\"seconds\":600}", 0);
	assert_int_equal(itest_submit(&t, body, once), 202);
	rel_wait_terminal_sql(&t, retried, 90000);
	rel_wait_terminal_sql(&t, once, 90000);

	expect_text(&t, "SELECT state || ' ' || attempt || ' ' || error FROM runs WHERE id = $1",
		    retried, "timed_out 2 timed out after 3 s");
	expect_text(&t, STARTS, retried, "1,2");
	/* exactly one retrying event, between the two starts */
	expect_text(&t,
		    "SELECT string_agg(state || ' ' || attempt, ',' ORDER BY id) FROM run_events "
		    "WHERE run_id = $1 AND (state IN ('retrying', 'timed_out') OR "
		    "(state = 'running' AND message LIKE 'started on %'))",
		    retried, "running 1,retrying 1,running 2,timed_out 2");
	expect_text(&t, "SELECT message FROM run_events WHERE run_id = $1 AND state = 'retrying'",
		    retried, "attempt 1 failed: timed out after 3 s; next attempt in 1 s");
	assert_true(itest_sql_long(&t, GAP_MS(1), retried) >= 1000);
	expect_text(&t, "SELECT attempts || ' ' || last_error FROM dead_letters WHERE run_id = $1",
		    retried, "2 timed out after 3 s");
	wait_queue_depth(&t, "ff.dead", 1, 10000);

	expect_text(&t, "SELECT state || ' ' || attempt || ' ' || error FROM runs WHERE id = $1",
		    once, "timed_out 1 timed out after 3 s");
	expect_text(&t, STARTS, once, "1");
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM run_events WHERE run_id = $1 AND "
					"state = 'retrying'",
					once),
			 0);
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM dead_letters WHERE run_id = $1", once), 0);
	itest_teardown(&t);
}

/* 6: a message that is not a job goes to ff.dead, and the worker goes on working. */
static void poison_message(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], id[37];
	itest_setup(&t, "rel_poison");
	itest_start_controller(&t, NULL);
	pid_t w = itest_start_worker(&t, NULL);
	itest_upload(&t, target_files, target);
	wait_consumer(&t, "ff.jobs.default", 30000);
	assert_int_equal(queue_depth(&t, "ff.dead"), 0);
	publish_raw(&t, "default", "not json");
	wait_queue_depth(&t, "ff.dead", 1, 30000);
	assert_int_equal(queue_depth(&t, "ff.jobs.default"), 0);
	assert_int_equal(waitpid(w, NULL, WNOHANG), 0); /* still running */

	assert_int_equal(
	    itest_submit(&t, rel_body(body, sizeof(body), "test-noop", target, NULL, 0), id), 202);
	cJSON_Delete(itest_wait_terminal(&t, id, 60000));
	expect_text(&t, "SELECT state FROM runs WHERE id = $1", id, "succeeded");
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM runs", NULL), 1);
	assert_int_equal(queue_depth(&t, "ff.dead"), 1);
	itest_teardown(&t);
}

/* The run's stored job with one field replaced, as a forger with the broker's password
 * would write it: a well-formed job that decodes. Caller frees. */
static char *forged_job(struct itest *t, const char *id, const char *field, cJSON *value)
{
	char stored[4096];
	rel_sql_text(t, "SELECT job::text FROM runs WHERE id = $1", id, stored, sizeof(stored));
	cJSON *job = cJSON_Parse(stored);
	assert_non_null(job);
	assert_true(cJSON_ReplaceItemInObjectCaseSensitive(job, field, value));
	char *text = cJSON_PrintUnformatted(job);
	cJSON_Delete(job);
	return text;
}

/* 6b: a broker message is a pointer, not an instruction. Messages that name a queued run but
 * carry another command or network, or name no run at all, are refused and dead-lettered;
 * the run runs what the controller stored; a manifest's host networking is refused unless
 * the worker's operator allows it. */
static void forged_jobs(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], id[37], hostnet[37], other[37], v[512];
	itest_setup(&t, "rel_forged");
	itest_start_controller(&t, NULL);
	itest_upload(&t, target_files, target);
	assert_int_equal(
	    itest_submit(&t, rel_body(body, sizeof(body), "test-noop", target, NULL, 0), id), 202);
	/* Published before any worker: the forged messages queue behind the genuine one. */
	cJSON *cmd = cJSON_CreateArray();
	cJSON_AddItemToArray(cmd, cJSON_CreateString("/bin/sh"));
	cJSON_AddItemToArray(cmd, cJSON_CreateString("-c"));
	cJSON_AddItemToArray(cmd, cJSON_CreateString("echo forged-command-ran"));
	char *forged_cmd = forged_job(&t, id, "command", cmd);
	char *forged_net = forged_job(&t, id, "network", cJSON_CreateString("host"));
	snprintf(other, sizeof(other), "00000000-0000-4000-8000-000000000001");
	char *no_run = forged_job(&t, id, "run_id", cJSON_CreateString(other));
	wait_queue_depth(&t, "ff.jobs.default", 1, 30000);
	publish_raw(&t, "default", forged_cmd);
	publish_raw(&t, "default", forged_net);
	publish_raw(&t, "default", no_run);
	free(forged_cmd);
	free(forged_net);
	free(no_run);

	const char *w[] = {"FF_WORKER_CONCURRENCY=1", NULL};
	pid_t worker = itest_start_worker(&t, w);
	cJSON_Delete(itest_wait_terminal(&t, id, 60000));
	expect_text(&t, "SELECT state FROM runs WHERE id = $1", id, "succeeded");
	wait_queue_depth(&t, "ff.dead", 3, 30000);
	assert_int_equal(queue_depth(&t, "ff.jobs.default"), 0);
	expect_text(&t, STARTS, id, "1");
	rel_sql_text(&t, "SELECT convert_from(logs, 'UTF8') FROM run_results WHERE run_id = $1", id,
		     v, sizeof(v));
	assert_null(strstr(v, "forged-command-ran"));
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM runs", NULL), 1);

	/* Host networking, as the manifest asks: failed for good, dead-lettered, with why. */
	assert_int_equal(itest_submit(&t,
				      rel_body(body, sizeof(body), "test-hostnet", target, NULL, 0),
				      hostnet),
			 202);
	cJSON_Delete(itest_wait_terminal(&t, hostnet, 60000));
	expect_text(&t, "SELECT state || ' ' || attempt || ' ' || error FROM runs WHERE id = $1",
		    hostnet,
		    "failed 1 network 'host' is not allowed on this worker "
		    "(FF_WORKER_ALLOW_NETWORKS=none)");
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM dead_letters WHERE run_id = $1", hostnet), 1);
	assert_int_equal(rel_docker_leftovers(hostnet), 0);

	/* A worker whose operator allows it runs the same job. */
	assert_int_equal(itest_stop(&t, worker, SIGTERM, 30000), 0);
	const char *allow[] = {"FF_WORKER_ALLOW_NETWORKS=none,host", NULL};
	itest_start_worker(&t, allow);
	assert_int_equal(itest_submit(&t, body, hostnet), 202);
	cJSON_Delete(itest_wait_terminal(&t, hostnet, 60000));
	expect_text(&t, "SELECT state FROM runs WHERE id = $1", hostnet, "succeeded");
	itest_teardown(&t);
}

/* 7: cancel while queued, while running, when finished; retry of a failed run. */
static void cancel_and_retry(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], queued[37], sentinel[37], running[37], failed[37];
	itest_setup(&t, "rel_cancel");
	itest_start_controller(&t, NULL);
	itest_upload(&t, target_files, target);

	/* queued, no worker yet: the job message is in the queue */
	assert_int_equal(
	    itest_submit(&t, rel_body(body, sizeof(body), "test-noop", target, NULL, 0), queued),
	    202);
	assert_int_equal(rel_run_action(&t, queued, "cancel"), 202);
	expect_text(&t, "SELECT state FROM runs WHERE id = $1", queued, "cancelled");
	/* its job was confirmed before the 202 (the published mark may come after) */
	assert_int_equal(queue_depth(&t, "ff.jobs.default"), 1);
	assert_int_equal(rel_run_action(&t, queued, "cancel"), 409);
	/* One executor takes messages in queue order: once the run submitted after the
	 * cancelled one has succeeded, the cancelled one's message has been seen and skipped. */
	const char *w[] = {"FF_WORKER_CONCURRENCY=1", NULL};
	itest_start_worker(&t, w);
	assert_int_equal(itest_submit(&t, body, sentinel), 202);
	cJSON_Delete(itest_wait_terminal(&t, sentinel, 60000));
	expect_text(&t, "SELECT state FROM runs WHERE id = $1", sentinel, "succeeded");
	expect_text(&t, "SELECT state FROM runs WHERE id = $1", queued, "cancelled");
	expect_text(&t, STARTS, queued, "");
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM run_results WHERE run_id = $1", queued), 0);
	assert_int_equal(rel_run_action(&t, sentinel, "cancel"), 409);

	/* running: the worker's heartbeat kills the container; nothing is recorded */
	rel_body(body, sizeof(body), "test-long", target, "{\"seconds\":600}", 0);
	assert_int_equal(itest_submit(&t, body, running), 202);
	rel_wait_container_started(&t, running, 60000);
	assert_int_equal(rel_run_action(&t, running, "cancel"), 202);
	rel_wait_no_leftovers(running, 30000, "the cancelled run");
	/* the executor is free again (concurrency 1): the next run completes */
	rel_body(body, sizeof(body), "test-noop", target, NULL, 0);
	assert_int_equal(itest_submit(&t, body, sentinel), 202);
	cJSON_Delete(itest_wait_terminal(&t, sentinel, 60000));
	expect_text(&t, "SELECT state || ' ' || (finished_at IS NOT NULL) FROM runs WHERE id = $1",
		    running, "cancelled true");
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM run_results WHERE run_id = $1", running), 0);
	assert_int_equal(
	    itest_sql_long(&t,
			   "SELECT count(*) FROM run_events WHERE run_id = $1 AND state IN "
			   "('succeeded', 'failed', 'timed_out')",
			   running),
	    0);
	expect_text(&t, "SELECT message FROM run_events WHERE run_id = $1 AND state = 'cancelled'",
		    running, "cancelled while running");

	/* retry: a failed run gets a new attempt; the cancelled queued one finally runs */
	rel_body(body, sizeof(body), "test-fail", target, NULL, 0);
	assert_int_equal(itest_submit(&t, body, failed), 202);
	rel_wait_terminal_sql(&t, failed, 60000);
	expect_text(&t, "SELECT state || ' ' || attempt FROM runs WHERE id = $1", failed,
		    "failed 1");
	assert_int_equal(rel_run_action(&t, failed, "retry"), 202);
	rel_wait_sql(&t,
		     "SELECT count(*) FROM runs WHERE id = $1 AND state = 'failed' AND attempt = 2",
		     failed, 1, 60000);
	expect_text(&t, STARTS, failed, "1,2");
	assert_int_equal(
	    itest_sql_long(&t, "SELECT count(*) FROM run_results WHERE run_id = $1", failed), 1);
	assert_int_equal(rel_run_action(&t, queued, "retry"), 202);
	rel_wait_terminal_sql(&t, queued, 60000);
	expect_text(&t, "SELECT state || ' ' || attempt FROM runs WHERE id = $1", queued,
		    "succeeded 1");
	expect_text(&t, STARTS, queued, "1");
	itest_teardown(&t);
}

/* 8: with the only executor busy, a priority 9 run submitted after three priority 0 runs
 * starts before all of them. */
static void priority_order(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], busy[37], low[3][37], high[37];
	itest_setup(&t, "rel_prio");
	itest_start_controller(&t, NULL);
	const char *w[] = {"FF_WORKER_CONCURRENCY=1", NULL};
	itest_start_worker(&t, w);
	itest_upload(&t, target_files, target);
	assert_int_equal(
	    itest_submit(
		&t, rel_body(body, sizeof(body), "test-long", target, "{\"seconds\":5}", 0), busy),
	    202);
	rel_wait_container_started(&t, busy, 60000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(
		    itest_submit(&t, rel_body(body, sizeof(body), "test-noop", target, NULL, 0),
				 low[i]),
		    202);
	assert_int_equal(
	    itest_submit(&t, rel_body(body, sizeof(body), "test-noop", target, NULL, 9), high),
	    202);
	/* all four were waiting behind the busy run */
	assert_int_equal(
	    itest_sql_long(&t,
			   "SELECT count(*) FROM runs WHERE workflow = 'test-noop' AND "
			   "state = 'queued'",
			   NULL),
	    4);
	rel_wait_sql(&t, "SELECT count(*) FROM runs WHERE state <> 'succeeded'", NULL, 0, 90000);
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM runs l, runs h WHERE h.id = $1 AND "
					"l.priority = 0 AND l.workflow = 'test-noop' AND "
					"h.started_at < l.started_at",
					high),
			 3);
	itest_teardown(&t);
}

/* 9: Idempotency-Key: the same key and body give the same run, another body a conflict. */
static void idempotency_keys(void **state)
{
	(void)state;
	struct itest t;
	char target[65], body[256], other[256], id1[37], id2[37], id3[37], key[300];
	itest_setup(&t, "rel_idem");
	itest_start_controller(&t, NULL);
	itest_upload(&t, target_files, target);
	rel_body(body, sizeof(body), "test-noop", target, NULL, 0);
	rel_body(other, sizeof(other), "test-noop", target, NULL, 5);
	assert_int_equal(itest_submit_idempotent(&t, "ci-build-42", body, id1), 202);
	assert_int_equal(itest_submit_idempotent(&t, "ci-build-42", body, id2), 202);
	assert_string_equal(id1, id2);
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM runs", NULL), 1);
	assert_int_equal(itest_submit_idempotent(&t, "ci-build-42", other, id3), 409);
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM runs", NULL), 1);
	/* another key is another run, even with the same body */
	assert_int_equal(itest_submit_idempotent(&t, "ci-build-43", body, id3), 202);
	assert_string_not_equal(id1, id3);
	memset(key, 'k', 256);
	key[256] = '\0';
	assert_int_equal(itest_submit_idempotent(&t, key, body, id2), 400);
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM runs", NULL), 2);
	assert_int_equal(itest_sql_long(&t, "SELECT count(*) FROM runs WHERE idempotency_key = $1",
					"ci-build-42"),
			 1);
	itest_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(retries_then_dead_letter), cmocka_unit_test(timeout_retried_by_policy),
	    cmocka_unit_test(poison_message),		cmocka_unit_test(forged_jobs),
	    cmocka_unit_test(cancel_and_retry),		cmocka_unit_test(priority_order),
	    cmocka_unit_test(idempotency_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

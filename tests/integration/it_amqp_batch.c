/* it_amqp_batch — ff_amqp_publish_batch against the real RabbitMQ, in the test's own vhost:
 * batches of 1, 100 and 1000 are all acked and all land in their queues (1000 brings
 * multiple acks); the messages keep their priority, message id and body; a batch may span
 * pools; a queue that refuses publishes (a reject-publish length policy) gives nacks, which
 * come back as ok[i] = 0 with the call still 0; a bad message id fails before anything is
 * sent; after the broker drops the connection a batch fails with FF_EUNAVAIL and every ok[i]
 * is 0; a new pool's queue is a classic queue of version 2, and a queue an older FuzzForge
 * declared without that argument is used as it is. A consumer's wait for its next delivery
 * (ff_amqp_next) ends when its wake fd is readable, still takes deliveries, and keeps a
 * connection with heartbeats up while it waits in short steps. What landed is read on a
 * connection of the test's own (rabbitmq-c directly). */
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cmocka.h>

#include "ff_amqp.h"
#include "itest.h"

#define RABBITMQCTL "/usr/sbin/rabbitmqctl"
#define MAX_BATCH   1000
#define PROPS_BATCH 30

static struct itest T;
static char vhost[96];

/* --- the test's own view of the broker --------------------------------------------------- */

static void check_reply(amqp_rpc_reply_t r, const char *what)
{
	if (r.reply_type != AMQP_RESPONSE_NORMAL)
		fail_msg("rabbitmq: %s failed (reply type %d)", what, (int)r.reply_type);
}

static amqp_connection_state_t raw_connect(void)
{
	char url[256];
	struct amqp_connection_info ci;
	snprintf(url, sizeof(url), "%s", T.amqp_url);
	assert_int_equal(amqp_parse_url(url, &ci), AMQP_STATUS_OK);
	amqp_connection_state_t c = amqp_new_connection();
	amqp_socket_t *sock = amqp_tcp_socket_new(c);
	assert_non_null(sock);
	assert_int_equal(amqp_socket_open(sock, ci.host, ci.port), AMQP_STATUS_OK);
	check_reply(
	    amqp_login(c, ci.vhost, 0, 131072, 0, AMQP_SASL_METHOD_PLAIN, ci.user, ci.password),
	    "login");
	amqp_channel_open(c, 1);
	check_reply(amqp_get_rpc_reply(c), "channel.open");
	return c;
}

static void raw_close(amqp_connection_state_t c)
{
	amqp_channel_close(c, 1, AMQP_REPLY_SUCCESS);
	amqp_connection_close(c, AMQP_REPLY_SUCCESS);
	amqp_destroy_connection(c);
}

/* Messages ready in ff.jobs.<pool>, by a passive declare. */
static long queue_count(const char *pool)
{
	char queue[128];
	snprintf(queue, sizeof(queue), FF_AMQP_JOBS_EXCHANGE ".%s", pool);
	amqp_connection_state_t c = raw_connect();
	amqp_queue_declare_ok_t *ok =
	    amqp_queue_declare(c, 1, amqp_cstring_bytes(queue), 1, 0, 0, 0, amqp_empty_table);
	check_reply(amqp_get_rpc_reply(c), "passive queue.declare");
	long n = (long)ok->message_count;
	raw_close(c);
	return n;
}

static struct ff_amqp *connect_or_fail(void)
{
	struct ff_amqp *a = NULL;
	struct ff_err err;
	if (ff_amqp_connect(T.amqp_url, 0, &a, &err) < 0)
		fail_msg("rabbitmq: %s", err.msg);
	return a;
}

/* --- batches ----------------------------------------------------------------------------- */

struct batch {
	struct ff_amqp_msg msgs[MAX_BATCH];
	char ids[MAX_BATCH][48];
	char bodies[MAX_BATCH][48];
	int ok[MAX_BATCH];
};

static struct batch B;

/* n messages to pool (to pools[i % 2] when pool2 is not NULL): message i has priority
 * i % 10, id "<tag>-<i>" and body {"i":<i>}. ok[] is filled with a value no call leaves. */
static void make_batch(size_t n, const char *tag, const char *pool, const char *pool2)
{
	for (size_t i = 0; i < n; i++) {
		snprintf(B.ids[i], sizeof(B.ids[i]), "%s-%zu", tag, i);
		int len = snprintf(B.bodies[i], sizeof(B.bodies[i]), "{\"i\":%zu}", i);
		B.msgs[i] = (struct ff_amqp_msg){
		    .pool = pool2 && i % 2 ? pool2 : pool,
		    .body = B.bodies[i],
		    .len = (size_t)len,
		    .priority = (int)(i % 10),
		    .message_id = B.ids[i],
		};
		B.ok[i] = 7;
	}
}

static void assert_all_ok(size_t n, int want)
{
	for (size_t i = 0; i < n; i++)
		if (B.ok[i] != want)
			fail_msg("ok[%zu] is %d, not %d", i, B.ok[i], want);
}

static void batches_of_1_100_1000_all_land(void **state)
{
	(void)state;
	static const size_t sizes[] = {1, 100, 1000};
	struct ff_amqp *a = connect_or_fail();
	struct ff_err err;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		char pool[32];
		size_t n = sizes[k];
		snprintf(pool, sizeof(pool), "size%zu", n);
		make_batch(n, pool, pool, NULL);
		int rc = ff_amqp_publish_batch(a, B.msgs, n, B.ok, &err);
		if (rc != 0)
			fail_msg("batch of %zu: %d %s", n, rc, err.msg);
		assert_all_ok(n, 1);
		assert_int_equal(queue_count(pool), (long)n);
	}
	/* A single publish after the batches still finds its own confirm. */
	assert_int_equal(ff_amqp_publish(a, "size1", "{}", 2, 0, "after", &err), 0);
	assert_int_equal(queue_count("size1"), 2);
	ff_amqp_free(a);
}

static void messages_keep_priority_id_and_body(void **state)
{
	(void)state;
	const size_t n = PROPS_BATCH;
	struct ff_amqp *a = connect_or_fail();
	struct ff_err err;
	make_batch(n, "props", "props", NULL);
	assert_int_equal(ff_amqp_publish_batch(a, B.msgs, n, B.ok, &err), 0);
	assert_all_ok(n, 1);
	ff_amqp_free(a);

	amqp_connection_state_t c = raw_connect();
	int seen[PROPS_BATCH] = {0};
	int last_priority = FF_AMQP_MAX_PRIORITY;
	for (size_t got = 0; got < n; got++) {
		amqp_basic_get(c, 1, amqp_cstring_bytes(FF_AMQP_JOBS_EXCHANGE ".props"), 1);
		amqp_rpc_reply_t r = amqp_get_rpc_reply(c);
		check_reply(r, "basic.get");
		assert_int_equal(r.reply.id, AMQP_BASIC_GET_OK_METHOD);
		amqp_message_t m;
		check_reply(amqp_read_message(c, 1, &m, 0), "read message");
		assert_true(m.properties._flags & AMQP_BASIC_MESSAGE_ID_FLAG);
		assert_true(m.properties._flags & AMQP_BASIC_PRIORITY_FLAG);
		char id[64];
		snprintf(id, sizeof(id), "%.*s", (int)m.properties.message_id.len,
			 (const char *)m.properties.message_id.bytes);
		size_t i = n;
		assert_int_equal(sscanf(id, "props-%zu", &i), 1);
		assert_true(i < n);
		assert_false(seen[i]);
		seen[i] = 1;
		assert_int_equal(m.properties.priority, i % 10);
		assert_int_equal(m.properties.delivery_mode, AMQP_DELIVERY_PERSISTENT);
		assert_int_equal(m.body.len, B.msgs[i].len);
		assert_memory_equal(m.body.bytes, B.bodies[i], m.body.len);
		/* A priority queue hands out the highest priority first. */
		assert_true(m.properties.priority <= last_priority);
		last_priority = m.properties.priority;
		amqp_destroy_message(&m);
	}
	raw_close(c);
}

static void batch_spans_pools(void **state)
{
	(void)state;
	const size_t n = 100;
	struct ff_amqp *a = connect_or_fail();
	struct ff_err err;
	make_batch(n, "span", "span-a", "span-b");
	assert_int_equal(ff_amqp_publish_batch(a, B.msgs, n, B.ok, &err), 0);
	assert_all_ok(n, 1);
	assert_int_equal(queue_count("span-a"), 50);
	assert_int_equal(queue_count("span-b"), 50);
	ff_amqp_free(a);
}

/* x-queue-version of ff.jobs.<pool>, as rabbitmqctl lists the queue's arguments ("" when
 * it has none). */
static void queue_version(const char *pool, char *out, size_t len)
{
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 RABBITMQCTL " -q list_queues -p '%s' name arguments --no-table-headers | "
			     "awk '$1 == \"ff.jobs.%s\"' | grep -o 'x-queue-version\",[0-9]*' | "
			     "cut -d, -f2",
		 vhost, pool);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	if (!fgets(out, (int)len, f))
		out[0] = '\0';
	out[strcspn(out, "\n")] = '\0';
	pclose(f);
}

/* A new pool's queue is a classic queue of version 2; one an older FuzzForge declared (no
 * x-queue-version) is refused that declare by the broker, and used as it is: the channel
 * comes back with confirms on, and a batch after it lands, every message confirmed. */
static void queue_version_2_and_older_queues(void **state)
{
	(void)state;
	char v[16];
	struct ff_amqp *a = connect_or_fail();
	struct ff_err err;
	assert_int_equal(ff_amqp_declare_pool(a, "fresh", &err), 0);
	queue_version("fresh", v, sizeof(v));
	assert_string_equal(v, "2");

	amqp_connection_state_t c = raw_connect();
	amqp_table_entry_t old_args[2] = {
	    {.key = amqp_cstring_bytes("x-max-priority"),
	     .value = {.kind = AMQP_FIELD_KIND_I32, .value.i32 = FF_AMQP_MAX_PRIORITY}},
	    {.key = amqp_cstring_bytes("x-dead-letter-exchange"),
	     .value = {.kind = AMQP_FIELD_KIND_UTF8,
		       .value.bytes = amqp_cstring_bytes(FF_AMQP_DEAD_EXCHANGE)}},
	};
	amqp_queue_declare(c, 1, amqp_cstring_bytes(FF_AMQP_JOBS_EXCHANGE ".older"), 0, 1, 0, 0,
			   (amqp_table_t){.num_entries = 2, .entries = old_args});
	check_reply(amqp_get_rpc_reply(c), "queue.declare as an older version");
	raw_close(c);

	make_batch(PROPS_BATCH, "older", "older", NULL);
	int rc = ff_amqp_publish_batch(a, B.msgs, PROPS_BATCH, B.ok, &err);
	if (rc != 0)
		fail_msg("batch to a queue of an older version: %d %s", rc, err.msg);
	assert_all_ok(PROPS_BATCH, 1);
	assert_int_equal(queue_count("older"), PROPS_BATCH);
	queue_version("older", v, sizeof(v));
	assert_string_equal(v, "");
	uint32_t ready = 0; /* the broker audit's declare: this connection remembers the queue */
	assert_int_equal(ff_amqp_pool_ready(a, "older", &ready, &err), 0);
	assert_int_equal(ready, PROPS_BATCH);
	/* and the pool declared before the channel was opened again still takes messages */
	assert_int_equal(ff_amqp_publish(a, "fresh", "{}", 2, 0, "after-reopen", &err), 0);
	assert_int_equal(queue_count("fresh"), 1);
	ff_amqp_free(a);
}

/* A queue that holds 5 and refuses what comes after: the broker nacks those publishes. */
static void nacks_are_ok_0(void **state)
{
	(void)state;
	const size_t n = 12;
	char *const policy[] = {RABBITMQCTL,
				"-q",
				"set_policy",
				"-p",
				vhost,
				"--apply-to",
				"queues",
				"itest-hold-5",
				"^ff\\.jobs\\.hold5$",
				"{\"max-length\":5,\"overflow\":\"reject-publish\"}",
				NULL};
	assert_int_equal(itest_run_cmd(policy), 0);
	struct ff_amqp *a = connect_or_fail();
	struct ff_err err;
	make_batch(n, "hold5", "hold5", NULL);
	int rc = ff_amqp_publish_batch(a, B.msgs, n, B.ok, &err);
	if (rc != 0)
		fail_msg("batch with nacks: %d %s", rc, err.msg);
	for (size_t i = 0; i < n; i++)
		if (B.ok[i] != (i < 5))
			fail_msg("ok[%zu] is %d", i, B.ok[i]);
	assert_int_equal(queue_count("hold5"), 5);
	/* The single publish reports its nack as before. */
	assert_int_equal(ff_amqp_publish(a, "hold5", "{}", 2, 0, "one-more", &err), FF_EUNAVAIL);
	assert_non_null(strstr(err.msg, "refused"));
	ff_amqp_free(a);
}

static void long_message_id_fails_before_sending(void **state)
{
	(void)state;
	char long_id[300];
	struct ff_amqp *a = connect_or_fail();
	struct ff_err err;
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	make_batch(3, "badid", "badid", NULL);
	B.msgs[2].message_id = long_id;
	assert_int_equal(ff_amqp_publish_batch(a, B.msgs, 3, B.ok, &err), FF_EINVAL);
	assert_all_ok(3, 0);
	/* Nothing was sent (the pool was not even declared), and the connection goes on. */
	make_batch(3, "badid", "badid", NULL);
	assert_int_equal(ff_amqp_publish_batch(a, B.msgs, 3, B.ok, &err), 0);
	assert_all_ok(3, 1);
	assert_int_equal(queue_count("badid"), 3);
	ff_amqp_free(a);
}

/* The broker closes the test vhost's connections (only this one is open): it sends
 * connection.close, from then on ignores all but the client's close-ok, and holds the
 * socket up to 30 s for it. */
static void broker_drops_connection(void)
{
	char cmd[256], out[256] = "";
	snprintf(cmd, sizeof(cmd),
		 RABBITMQCTL " -q close_all_connections --vhost %s 'it_amqp_batch drop' 2>&1",
		 vhost);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t len = fread(out, 1, sizeof(out) - 1, p);
	out[len] = '\0';
	int status = pclose(p);
	if (status != 0 || !strstr(out, "Closed 1 connection"))
		fail_msg("rabbitmqctl close_all_connections: %s", out);
}

static void batch_after_connection_drop_fails(void **state)
{
	(void)state;
	const size_t n = 100;
	struct ff_amqp *a = connect_or_fail();
	struct ff_err err;
	make_batch(n, "drop", "drop", NULL);
	assert_int_equal(ff_amqp_publish_batch(a, B.msgs, n, B.ok, &err), 0);
	broker_drops_connection();
	make_batch(n, "drop", "drop", NULL);
	assert_int_equal(ff_amqp_publish_batch(a, B.msgs, n, B.ok, &err), FF_EUNAVAIL);
	assert_all_ok(n, 0);
	ff_amqp_free(a);
	/* Only the first batch landed. */
	assert_int_equal(queue_count("drop"), (long)n);
}

static int setup(void **state)
{
	(void)state;
	itest_setup(&T, "amqp_batch");
	const char *slash = strrchr(T.amqp_url, '/');
	assert_non_null(slash);
	snprintf(vhost, sizeof(vhost), "%s", slash + 1);
	return 0;
}

/* --- waiting for a delivery -------------------------------------------------------------- */

static void next_wakes_delivers_and_keeps_heartbeats(void **state)
{
	(void)state;
	struct ff_amqp *pub = connect_or_fail(), *con = NULL;
	struct ff_amqp_delivery d = {0};
	struct ff_err err;
	if (ff_amqp_connect(T.amqp_url, 1, &con, &err) < 0) /* heartbeats every second */
		fail_msg("rabbitmq: %s", err.msg);
	int wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	assert_true(wake >= 0);
	assert_int_equal(ff_amqp_consume(con, "wake", 1, &err), 0);

	/* woken: back long before the 20 s asked for, with nothing */
	assert_int_equal(write(wake, &(uint64_t){1}, sizeof(uint64_t)), sizeof(uint64_t));
	int64_t t0 = itest_now_ms();
	assert_int_equal(ff_amqp_next(con, 20000, wake, &d, &err), FF_ETIMEOUT);
	assert_true(itest_now_ms() - t0 < 10000);
	assert_int_equal(read(wake, &(uint64_t){0}, sizeof(uint64_t)), sizeof(uint64_t));

	/* 4 s of short waits with nothing sent: the connection, with heartbeats every second,
	 * stays up (the broker closes one whose peer is silent for two) */
	for (int64_t until = itest_now_ms() + 4000; itest_now_ms() < until;)
		assert_int_equal(ff_amqp_next(con, 100, wake, &d, &err), FF_ETIMEOUT);

	/* a delivery still comes through the wait */
	assert_int_equal(ff_amqp_publish(pub, "wake", "{}", 2, 0, "w-1", &err), 0);
	int rc;
	int64_t deadline = itest_now_ms() + 10000;
	while ((rc = ff_amqp_next(con, 100, wake, &d, &err)) == FF_ETIMEOUT &&
	       itest_now_ms() < deadline)
		;
	if (rc != 0)
		fail_msg("no delivery: %d %s", rc, err.msg);
	assert_int_equal(d.len, 2);
	assert_memory_equal(d.body, "{}", 2);
	assert_int_equal(ff_amqp_ack(con, d.tag, &err), 0);
	ff_amqp_delivery_release(&d);
	close(wake);
	ff_amqp_free(con);
	ff_amqp_free(pub);
}

static int teardown(void **state)
{
	(void)state;
	itest_teardown(&T);
	return 0;
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* as in ff-controller: a write to a dropped broker is an error */
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(batches_of_1_100_1000_all_land),
	    cmocka_unit_test(messages_keep_priority_id_and_body),
	    cmocka_unit_test(batch_spans_pools),
	    cmocka_unit_test(nacks_are_ok_0),
	    cmocka_unit_test(queue_version_2_and_older_queues),
	    cmocka_unit_test(long_message_id_fails_before_sending),
	    cmocka_unit_test(batch_after_connection_drop_fails),
	    cmocka_unit_test(next_wakes_delivers_and_keeps_heartbeats),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

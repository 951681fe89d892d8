/* it_metrics — GET /metrics on the controller and on a worker's FF_METRICS_LISTEN after a
 * real run: both replies pass `promtool check metrics` (Debian's prometheus package) and
 * hold what the run did: the submit counted by route and status, the run by state, the
 * worker's attempt by workflow and outcome with its duration, its Engine calls by call, its
 * slots all free again, the result cache's hit. Anything but GET /metrics on the worker's
 * listener is 404. A backlog deeper than the worker's slots is taken without a delivery
 * handed back unstarted (its consumer is allowed no more unacked messages than it has free
 * slots). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "it_reliability.h"

/* The whole reply to "GET path" on 127.0.0.1:port (the connection closes at its end). */
static char *fetch(int port, const char *path)
{
	int s = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port),
				.sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	if (connect(s, (struct sockaddr *)&a, sizeof(a)) < 0)
		fail_msg("connect to %d: %s", port, strerror(errno));
	char req[256];
	int n = snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " ITEST_API_KEY
			 "\r\nConnection: close\r\n\r\n",
			 path);
	assert_int_equal(write(s, req, (size_t)n), n);
	size_t len = 0, cap = 1 << 16;
	char *out = malloc(cap);
	for (ssize_t got; (got = read(s, out + len, cap - len - 1)) > 0;) {
		len += (size_t)got;
		if (cap - len < 4096)
			out = realloc(out, cap *= 2);
	}
	out[len] = '\0';
	close(s);
	return out;
}

/* The body of a 200 reply, checked by promtool; the caller frees the reply. */
static const char *checked_body(const char *reply, const char *what)
{
	if (strncmp(reply, "HTTP/1.1 200", 12))
		fail_msg("%s: %.80s", what, reply);
	assert_non_null(strstr(reply, "Content-Type: text/plain; version=0.0.4"));
	const char *body = strstr(reply, "\r\n\r\n");
	assert_non_null(body);
	body += 4;
	FILE *p = popen("promtool check metrics", "w");
	assert_non_null(p);
	fputs(body, p);
	int st = pclose(p);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("%s: promtool check metrics said no (status %d)", what, st);
	return body;
}

static void expect(const char *body, const char *line)
{
	if (!strstr(body, line)) {
		fprintf(stderr, "%s", body);
		fail_msg("no '%s' in the reply above", line);
	}
}

/* The value of the sample whose line starts with name_labels (its name and labels, then a
 * space). */
static double value_of(const char *body, const char *name_labels)
{
	char line[256];
	snprintf(line, sizeof(line), "\n%s", name_labels);
	expect(body, line);
	return strtod(strstr(body, line) + strlen(line), NULL);
}

/* The worker's reply to GET /metrics once all its slots are free (it counts an attempt once
 * it has settled it), within 10 s; the caller frees it. */
static char *worker_idle_metrics(int wport)
{
	char *reply;
	int64_t deadline = itest_now_ms() + 10000;
	while (!(reply = fetch(wport, "/metrics")) ||
	       !strstr(reply, "fuzzforge_worker_slots{state=\"busy\"} 0\n")) {
		if (itest_now_ms() > deadline)
			fail_msg("the worker's slots never came free:\n%s", reply);
		free(reply);
		itest_pause_ms(50);
	}
	return reply;
}

static void metrics(void **state)
{
	(void)state;
	struct itest t;
	char target[65], id[37], body[256], env_listen[64], path[128];
	int wport = itest_free_port();
	snprintf(env_listen, sizeof(env_listen), "FF_METRICS_LISTEN=127.0.0.1:%d", wport);
	const char *wenv[] = {env_listen, NULL};
	itest_setup(&t, "metrics");
	itest_start_controller(&t, NULL);
	itest_start_worker(&t, wenv);
	const char *files[] = {"a.txt", "x\n", NULL};
	itest_upload(&t, files, target);
	assert_int_equal(
	    itest_submit(&t, rel_body(body, sizeof(body), "test-noop", target, NULL, 0), id), 202);
	cJSON_Delete(itest_wait_terminal(&t, id, 60000));
	snprintf(path, sizeof(path), "/api/v1/runs/%s", id);
	for (int i = 0; i < 2; i++) /* the second read is the cache's */
		free(fetch(t.port, path));

	char *reply = fetch(t.port, "/metrics");
	const char *m = checked_body(reply, "controller");
	expect(m, "fuzzforge_http_requests_total{route=\"/api/v1/runs\",method=\"POST\","
		  "status=\"202\"} 1\n");
	expect(m, "fuzzforge_http_request_duration_seconds_bucket{route=\"/api/v1/runs/{id}\","
		  "method=\"GET\",le=\"+Inf\"}");
	expect(m, "fuzzforge_runs{state=\"succeeded\"} 1\n");
	expect(m, "fuzzforge_queue_jobs 0\n");
	/* at least the second of the two reads (the wait's last read may have been kept) */
	assert_true(value_of(m, "fuzzforge_cache_hits_total ") >= 1);
	expect(m, "process_open_fds ");
	free(reply);

	/* the worker counts the attempt once it settled: wait for it */
	reply = worker_idle_metrics(wport);
	m = checked_body(reply, "worker");
	expect(m, "fuzzforge_worker_runs_total{workflow=\"test-noop\",outcome=\"done\"} 1\n");
	expect(m, "fuzzforge_run_duration_seconds_count{workflow=\"test-noop\"} 1\n");
	expect(m, "fuzzforge_engine_call_duration_seconds_count{call=\"POST /containers/create\"}");
	expect(m, "fuzzforge_engine_call_duration_seconds_count{call=\"POST "
		  "/containers/{id}/wait\"}");
	expect(m, "fuzzforge_worker_slots{state=\"free\"} ");
	expect(m, "fuzzforge_broker_connections_total ");
	free(reply);
	reply = fetch(wport, "/other");
	assert_int_equal(strncmp(reply, "HTTP/1.1 404", 12), 0);
	free(reply);
	itest_teardown(&t);
}

/* Two slots and a backlog: a run sleeping 2 s holds one while five quick runs go through
 * the other, one after another. Each time that one frees, the worker takes one more job, and
 * no job is sent to it only to be handed back (with the consumer allowed 2 unacked
 * messages, each free slot was sent 2). */
static void backlog_without_returns(void **state)
{
	(void)state;
	struct itest t;
	char target[65], ids[6][37], body[256], env_listen[64];
	int wport = itest_free_port();
	snprintf(env_listen, sizeof(env_listen), "FF_METRICS_LISTEN=127.0.0.1:%d", wport);
	const char *wenv[] = {env_listen, "FF_WORKER_CONCURRENCY=2", NULL};
	itest_setup(&t, "metrics_backlog");
	itest_start_controller(&t, NULL);
	const char *files[] = {"a.txt", "x\n", NULL};
	itest_upload(&t, files, target);
	/* queued before the worker is there, in this order (one priority: first in, first out) */
	assert_int_equal(
	    itest_submit(&t,
			 rel_body(body, sizeof(body), "test-sleep", target, "{\"seconds\":2}", 0),
			 ids[0]),
	    202);
	for (int i = 1; i < 6; i++)
		assert_int_equal(
		    itest_submit(&t, rel_body(body, sizeof(body), "test-noop", target, NULL, 0),
				 ids[i]),
		    202);
	itest_start_worker(&t, wenv);
	for (int i = 0; i < 6; i++)
		cJSON_Delete(itest_wait_terminal(&t, ids[i], 120000));
	char *reply = worker_idle_metrics(wport);
	const char *m = checked_body(reply, "worker");
	expect(m, "fuzzforge_worker_runs_total{workflow=\"test-noop\",outcome=\"done\"} 5\n");
	assert_int_equal(value_of(m, "fuzzforge_worker_deliveries_returned_total "), 0);
	free(reply);
	itest_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(metrics),
					   cmocka_unit_test(backlog_without_returns)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

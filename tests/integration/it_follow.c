/* it_follow — a run's live output against the real system: GET …/logs?follow=1 streams the
 * container's output while it runs and ends when the run does; GET …/events?follow=1 streams
 * its states and progress as Server-Sent Events and ends with `end`; many followers at once
 * leave the API answering; Last-Event-ID resumes; bad requests are refused before a stream
 * begins; a finished run's results carry ETags and answer If-None-Match with 304. The
 * test-ticker workflow prints "tick N" every half second. */
#include "it_reliability.h"

#define FOLLOWERS 40

/* Opens a raw connection and asks for path with the key (and extra header lines). */
static void follow_open(struct itest *t, struct itest_conn *c, const char *path, const char *extra)
{
	char req[512];
	snprintf(req, sizeof(req),
		 "GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " ITEST_API_KEY "\r\n%s\r\n",
		 path, extra ? extra : "");
	itest_conn_open(t, c);
	assert_int_equal(itest_conn_send(c, req, strlen(req)), 0);
}

/* Whether needle arrived on c within timeout_ms. */
static int wait_for(struct itest_conn *c, const char *needle, int timeout_ms)
{
	int64_t deadline = itest_now_ms() + timeout_ms;
	while (!(c->len && memmem(c->in, c->len, needle, strlen(needle)))) {
		if (c->closed || itest_now_ms() > deadline)
			return 0;
		itest_conn_wait_input(c, 200);
	}
	return 1;
}

/* The chunked body that arrived on c, decoded; fails unless it is well formed and (when
 * complete) ends with the last chunk. Caller frees. */
static char *dechunk(const struct itest_conn *c, int complete, size_t *len)
{
	const char *p = memmem(c->in, c->len, "\r\n\r\n", 4), *end = c->in + c->len;
	assert_non_null(p);
	assert_non_null(memmem(c->in, (size_t)(p - c->in), "Transfer-Encoding: chunked", 26));
	p += 4;
	char *out = malloc(c->len + 1);
	size_t n = 0;
	for (;;) {
		char *num_end;
		unsigned long size = strtoul(p, &num_end, 16);
		if (num_end == p || num_end + 2 > end) {
			assert_false(complete); /* cut short */
			break;
		}
		assert_memory_equal(num_end, "\r\n", 2);
		p = num_end + 2;
		if (size == 0)
			break;
		assert_true(p + size + 2 <= end);
		memcpy(out + n, p, size);
		n += size;
		p += size + 2;
	}
	out[n] = '\0';
	*len = n;
	return out;
}

/* POST /api/v1/runs/{id}/<action> (cancel, retry), which must be accepted. */
static void run_action(struct itest *t, const char *id, const char *action)
{
	char path[128];
	struct itest_resp r;
	snprintf(path, sizeof(path), "/api/v1/runs/%s/%s", id, action);
	itest_http(t, "POST", path, NULL, NULL, 0, 1, &r);
	assert_int_equal(r.status, 202);
	itest_resp_release(&r);
}

/* Submits test-ticker printing for seconds; its run id into id. */
static void submit_ticker(struct itest *t, const char *target, int seconds, char id[37])
{
	char body[256], params[32];
	snprintf(params, sizeof(params), "{\"seconds\":%d}", seconds);
	assert_int_equal(
	    itest_submit(t, rel_body(body, sizeof(body), "test-ticker", target, params, 0), id),
	    202);
}

/* The logs of a running run arrive while it runs; the stream ends once it is cancelled. */
static void logs_stream_while_running(struct itest *t, const char *target)
{
	char id[37], path[128];
	submit_ticker(t, target, 120, id);
	struct itest_conn c;
	snprintf(path, sizeof(path), "/api/v1/runs/%s/logs?follow=1", id);
	follow_open(t, &c, path, NULL);
	assert_true(wait_for(&c, "tick 2\n", 60000));
	assert_non_null(memmem(c.in, c.len, "Content-Type: text/plain", 24));
	/* the run is still going: this came live, not from the stored log */
	snprintf(path, sizeof(path), "/api/v1/runs/%s", id);
	struct itest_resp r;
	itest_get_ok(t, path, &r);
	assert_string_equal(itest_str(r.json, "state"), "running");
	itest_resp_release(&r);

	/* many more followers of the same run: each gets the output, the API still answers */
	struct itest_conn more[FOLLOWERS];
	snprintf(path, sizeof(path), "/api/v1/runs/%s/logs?follow=1", id);
	for (int i = 0; i < FOLLOWERS; i++)
		follow_open(t, &more[i], path, NULL);
	struct itest_prober probe;
	itest_prober_start(t, &probe, 20);
	for (int i = 0; i < FOLLOWERS; i++)
		assert_true(wait_for(&more[i], "tick 1\n", 30000));
	itest_get_ok(t, "/api/v1/runs?limit=5", &r);
	itest_resp_release(&r);
	itest_prober_stop(&probe);
	printf("it_follow: %d followers: /healthz answered %d probes, %d failed, worst %.1f ms\n",
	       FOLLOWERS + 1, probe.n, probe.failed, probe.worst_ms);
	assert_int_equal(probe.failed, 0);
	itest_prober_release(&probe);

	run_action(t, id, "cancel");
	assert_int_equal(itest_conn_wait_closed(&c, 30000, NULL), 1);
	size_t len;
	char *logs = dechunk(&c, 1, &len);
	assert_non_null(strstr(logs, "tick 1\ntick 2\n"));
	free(logs);
	for (int i = 0; i < FOLLOWERS; i++) {
		assert_int_equal(itest_conn_wait_closed(&more[i], 30000, NULL), 1);
		free(dechunk(&more[i], 1, &len));
		itest_conn_close(&more[i]);
	}
	itest_conn_close(&c);
}

/* The events of a run followed from its start: every state, progress, then `end`. */
static void events_stream_to_the_end(struct itest *t, const char *target, char id[37])
{
	char path[128];
	submit_ticker(t, target, 3, id);
	struct itest_conn c;
	snprintf(path, sizeof(path), "/api/v1/runs/%s/events?follow=1", id);
	follow_open(t, &c, path, NULL);
	assert_int_equal(itest_conn_wait_closed(&c, 90000, NULL), 1);
	size_t len;
	char *sse = dechunk(&c, 1, &len);
	assert_non_null(memmem(c.in, c.len, "Content-Type: text/event-stream", 31));
	const char *queued = strstr(sse, "\"state\":\"queued\""),
		   *running = strstr(sse, "\"state\":\"running\""),
		   *progress = strstr(sse, "event: progress\ndata: {\"progress\":"),
		   *succeeded = strstr(sse, "\"state\":\"succeeded\""),
		   *end = strstr(sse, "event: end\ndata: {\"state\":\"succeeded\"}\n\n");
	assert_non_null(queued);
	assert_non_null(running);
	assert_non_null(progress);
	assert_non_null(succeeded);
	assert_non_null(end);
	assert_true(queued < running && running < succeeded && succeeded < end);
	assert_string_equal(end + strlen("event: end\ndata: {\"state\":\"succeeded\"}\n\n"), "");
	free(sse);
	itest_conn_close(&c);
}

/* A finished run: its whole stored log, then the end; Last-Event-ID skips what was seen. */
static void finished_run(struct itest *t, const char *id)
{
	char path[128];
	struct itest_conn c;
	struct itest_resp whole;
	snprintf(path, sizeof(path), "/api/v1/runs/%s/logs", id);
	itest_get_ok(t, path, &whole);
	snprintf(path, sizeof(path), "/api/v1/runs/%s/logs?follow=1", id);
	follow_open(t, &c, path, NULL);
	assert_int_equal(itest_conn_wait_closed(&c, 30000, NULL), 1);
	size_t len;
	char *logs = dechunk(&c, 1, &len);
	assert_int_equal(len, whole.len);
	assert_memory_equal(logs, whole.body, len);
	assert_non_null(strstr(logs, "ticker done after"));
	free(logs);
	itest_resp_release(&whole);
	itest_conn_close(&c);

	long second = itest_sql_long(t,
				     "SELECT id FROM run_events WHERE run_id = $1 ORDER BY id "
				     "OFFSET 1 LIMIT 1",
				     id);
	char hdr[64], first_id[32];
	snprintf(hdr, sizeof(hdr), "Last-Event-ID: %ld\r\n", second);
	snprintf(first_id, sizeof(first_id), "id: %ld\n", second + 1);
	snprintf(path, sizeof(path), "/api/v1/runs/%s/events?follow=1", id);
	follow_open(t, &c, path, hdr);
	assert_int_equal(itest_conn_wait_closed(&c, 30000, NULL), 1);
	char *sse = dechunk(&c, 1, &len);
	const char *first = strstr(sse, "id: ");
	assert_non_null(first);
	long got = strtol(first + 4, NULL, 10);
	assert_true(got > second);
	assert_null(strstr(sse, "\"state\":\"queued\""));
	assert_non_null(strstr(sse, "event: end\n"));
	free(sse);
	itest_conn_close(&c);
}

/* One GET on a raw connection with extra header lines; the response into *r. */
static void get_raw(struct itest *t, const char *path, const char *extra, struct itest_raw_resp *r)
{
	struct itest_conn c;
	follow_open(t, &c, path, extra);
	assert_int_equal(itest_conn_read_resp(&c, 10000, r), 0);
	itest_conn_close(&c);
}

/* A finished run's results carry a strong ETag (the same on every GET) and are kept with
 * Cache-Control: no-cache; If-None-Match with it gets 304 with no body and no length, with
 * another tag or * mismatched the 200 again. The second read on comes from the result
 * cache, the same bytes. */
static void etags(struct itest *t, const char *id)
{
	static const char *const routes[] = {"", "/sarif", "/logs", "/findings", "/events"};
	for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		char path[160], tag[80], again[80], hdr[120], cc[40], cl[16];
		struct itest_raw_resp a, b, c;
		snprintf(path, sizeof(path), "/api/v1/runs/%s%s", id, routes[i]);
		get_raw(t, path, NULL, &a);
		assert_int_equal(a.status, 200);
		assert_non_null(itest_raw_header(&a, "ETag", tag, sizeof(tag)));
		assert_true(tag[0] == '"' && strlen(tag) == 34);
		assert_string_equal(itest_raw_header(&a, "Cache-Control", cc, sizeof(cc)),
				    "no-cache");
		get_raw(t, path, NULL, &b);
		assert_string_equal(itest_raw_header(&b, "ETag", again, sizeof(again)), tag);
		assert_string_equal(itest_raw_header(&b, "X-FF-Cache", hdr, sizeof(hdr)), "hit");
		assert_int_equal(b.body_len, a.body_len);
		assert_memory_equal(b.body, a.body, a.body_len);
		snprintf(hdr, sizeof(hdr), "If-None-Match: \"other\", %s\r\n", tag);
		get_raw(t, path, hdr, &c);
		assert_int_equal(c.status, 304);
		assert_int_equal(c.body_len, 0);
		assert_null(itest_raw_header(&c, "Content-Length", cl, sizeof(cl)));
		assert_string_equal(itest_raw_header(&c, "ETag", again, sizeof(again)), tag);
		assert_string_equal(itest_raw_header(&c, "X-FF-Cache", hdr, sizeof(hdr)), "hit");
		itest_raw_resp_release(&a);
		itest_raw_resp_release(&b);
		itest_raw_resp_release(&c);
		get_raw(t, path, "If-None-Match: \"0123\"\r\n", &a);
		assert_int_equal(a.status, 200);
		itest_raw_resp_release(&a);
	}
}

/* The GET of run id, its X-FF-Cache into cache ("" for none); the caller frees the body. */
static cJSON *get_run_cached(struct itest *t, const char *id, char cache[16])
{
	char path[160];
	struct itest_raw_resp r;
	snprintf(path, sizeof(path), "/api/v1/runs/%s", id);
	get_raw(t, path, NULL, &r);
	assert_int_equal(r.status, 200);
	if (!itest_raw_header(&r, "X-FF-Cache", cache, 16))
		cache[0] = '\0';
	cJSON *o = cJSON_Parse(r.body);
	assert_non_null(o);
	itest_raw_resp_release(&r);
	return o;
}

/* A kept reply goes when its run changes: changed in the database by anyone (the trigger's
 * notification reaches the cache), or requeued through this controller (at once, so the
 * client that retried sees the queued run on its next read). A run still going is not
 * kept. */
static void cache_follows_changes(struct itest *t, const char *id)
{
	char cache[16];
	cJSON *o = get_run_cached(t, id, cache);
	assert_string_equal(cache, "hit");
	cJSON_Delete(o);
	assert_int_equal(
	    itest_sql_long(t,
			   "WITH u AS (UPDATE runs SET progress_text = 'changed elsewhere' "
			   "WHERE id = $1 RETURNING 1) SELECT count(*) FROM u",
			   id),
	    1);
	int64_t deadline = itest_now_ms() + 10000;
	for (;;) {
		o = get_run_cached(t, id, cache);
		const char *text = itest_str(o, "progress_text");
		int changed = text && !strcmp(text, "changed elsewhere");
		cJSON_Delete(o);
		if (changed)
			break;
		if (itest_now_ms() > deadline)
			fail_msg("the kept reply of run %s outlived its change", id);
		itest_pause_ms(20);
	}
	run_action(t, id, "retry");
	o = get_run_cached(t, id, cache);
	assert_string_not_equal(itest_str(o, "state"), "succeeded");
	assert_string_equal(cache, "");
	cJSON_Delete(o);
}

static void refusals(struct itest *t, const char *id)
{
	char path[160];
	struct itest_resp r;
	itest_http(t, "GET", "/api/v1/runs/00000000-0000-4000-8000-000000000000/logs?follow=1",
		   NULL, NULL, 0, 1, &r);
	assert_int_equal(r.status, 404);
	itest_resp_release(&r);
	snprintf(path, sizeof(path), "/api/v1/runs/%s/events?follow=maybe", id);
	itest_http(t, "GET", path, NULL, NULL, 0, 1, &r);
	assert_int_equal(r.status, 422);
	itest_resp_release(&r);
	snprintf(path, sizeof(path), "/api/v1/runs/%s/logs?follow=1", id);
	itest_http(t, "GET", path, NULL, NULL, 0, 0, &r);
	assert_int_equal(r.status, 401);
	itest_resp_release(&r);
}

/* One run is followed across the processes by its run_id: the controller's line answering
 * its submit has the request's id and the run's, the worker's lines the run's. */
static void logs_join_up(struct itest *t, const char *id)
{
	char path[512], want[80];
	snprintf(want, sizeof(want), "\"run_id\":\"%s\"", id);
	snprintf(path, sizeof(path), "%s/%s-controller-0.log", ITEST_LOG_DIR, t->name);
	char *log = itest_read_file(path);
	const char *line = NULL;
	for (const char *at = strstr(log, want); at && !line; at = strstr(at + 1, want)) {
		const char *bol = at, *eol = strchr(at, '\n');
		while (bol > log && bol[-1] != '\n')
			bol--;
		size_t n = (size_t)((eol ? eol : at + strlen(at)) - bol);
		if (memmem(bol, n, "POST /api/v1/runs 202", 21) &&
		    memmem(bol, n, "\"request_id\":\"", 14))
			line = bol;
	}
	if (!line)
		fail_msg("no controller line with the submit's request id and run %s", id);
	free(log);
	snprintf(path, sizeof(path), "%s/%s-worker-1.log", ITEST_LOG_DIR, t->name);
	log = itest_read_file(path);
	assert_non_null(strstr(log, want));
	free(log);
}

static void follow(void **state)
{
	(void)state;
	struct itest t;
	char target[65], done[37];
	itest_setup(&t, "follow");
	itest_start_controller(&t, NULL);
	itest_start_worker(&t, NULL);
	const char *files[] = {"a.txt", "x\n", NULL};
	itest_upload(&t, files, target);
	logs_stream_while_running(&t, target);
	events_stream_to_the_end(&t, target, done);
	finished_run(&t, done);
	refusals(&t, done);
	etags(&t, done);
	logs_join_up(&t, done);
	cache_follows_changes(&t, done);
	itest_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(follow)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

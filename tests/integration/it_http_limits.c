/* it_http_limits — the controller's HTTP layer against hostile and careless clients, spoken
 * by hand over raw sockets: the connection cap, the head and body deadlines, the idle
 * timeout, requests refused on their head (before any body byte is read), pipelining,
 * Expect: 100-continue, and uploads that stream (a 256 MiB tar, a pax decompression bomb,
 * unauthenticated floods) with the controller's memory and /healthz watched meanwhile.
 * See docs/controller-http.md. Each test starts a controller with the settings it needs. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "itest.h"

#define AUTH	  "Authorization: Bearer " ITEST_API_KEY "\r\n"
#define MIB	  (1024 * 1024)
#define REPLY_MS  3000 /* how long a reply the server owes at once may take */
#define BIG_BODY  (100 * MIB)
#define FLOOD_LEN (200ull * MIB)

static struct itest t;
static pid_t controller;

/* The settings every test runs with, then the test's own (later ones win). */
static void start(const char *const *extra)
{
	const char *env[16] = {"FF_HTTP_HEADER_TIMEOUT_MS=500",
			       "FF_HTTP_BODY_WINDOW_MS=1000",
			       "FF_HTTP_MIN_BODY_BPS=1000",
			       "FF_HTTP_MAX_CONNECTIONS=8",
			       "FF_MAX_TARGET_MB=2",
			       "FF_MAX_JSON_KB=16",
			       "FF_LOG_LEVEL=info"};
	size_t n = 7;
	for (size_t i = 0; extra && extra[i]; i++)
		env[n++] = extra[i];
	env[n] = NULL;
	controller = itest_start_controller(&t, env);
	itest_http_close(&t); /* its readiness probe's connection would count against the cap */
}

static int stop_controller(void **state)
{
	(void)state;
	if (controller > 0 && itest_stop(&t, controller, SIGTERM, 15000) < 0)
		itest_stop(&t, controller, SIGKILL, 10000);
	controller = 0;
	return 0;
}

static void sendf(struct itest_conn *c, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(buf));
	assert_int_equal(itest_conn_send(c, buf, (size_t)n), 0);
}

/* Reads a response within ms, or fails naming what was asked. */
static void expect_resp(struct itest_conn *c, int ms, struct itest_raw_resp *r, const char *what)
{
	if (itest_conn_read_resp(c, ms, r) < 0)
		fail_msg("%s: no complete response within %d ms (%s; got %zu bytes: %.200s)", what,
			 ms, c->closed ? "closed" : "open", c->len, c->len ? c->in : "");
}

/* Fails unless header name of r is present and equal to want. */
static void expect_header(const struct itest_raw_resp *r, const char *name, const char *want)
{
	char v[256];
	if (!itest_raw_header(r, name, v, sizeof(v)))
		fail_msg("no %s header in:\n%s", name, r->head);
	if (strcasecmp(v, want) != 0)
		fail_msg("%s: '%s', expected '%s' in:\n%s", name, v, want, r->head);
}

static int says_close(const struct itest_raw_resp *r)
{
	char v[64];
	return itest_raw_header(r, "Connection", v, sizeof(v)) && strcasecmp(v, "close") == 0;
}

/* A refusal ends the connection: Connection: close, then the server's end of it. */
static void expect_closed_after(struct itest_conn *c, const struct itest_raw_resp *r,
				const char *what)
{
	if (!says_close(r))
		fail_msg("%s: no Connection: close in:\n%s", what, r->head);
	if (!itest_conn_wait_closed(c, REPLY_MS, NULL))
		fail_msg("%s: the server did not close within %d ms", what, REPLY_MS);
}

/* A JSON error body: {"error": {...}} or {"error": "..."} with something in it. */
static void expect_json_error(const struct itest_raw_resp *r)
{
	cJSON *j = cJSON_ParseWithLength(r->body, r->body_len);
	if (!j || !cJSON_GetObjectItem(j, "error"))
		fail_msg("not a JSON error: %.300s", r->body);
	cJSON_Delete(j);
}

/* GET /healthz on c; fails unless 200 and the connection kept. */
static void healthz_ok(struct itest_conn *c, const char *what)
{
	struct itest_raw_resp r;
	sendf(c, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_resp(c, REPLY_MS, &r, what);
	if (r.status != 200 || says_close(&r))
		fail_msg("%s: %d\n%s", what, r.status, r.head);
	itest_raw_resp_release(&r);
}

/* ---- the connection cap ---- */

static void test_max_connections(void **state)
{
	(void)state;
	struct itest_conn held[8], over;
	struct itest_raw_resp r;
	start(NULL);
	for (int i = 0; i < 8; i++) {
		itest_conn_open(&t, &held[i]);
		healthz_ok(&held[i], "a connection under the cap");
	}
	itest_conn_open(&t, &over);
	expect_resp(&over, REPLY_MS, &r, "the ninth connection");
	assert_int_equal(r.status, 503);
	expect_json_error(&r);
	expect_closed_after(&over, &r, "the ninth connection");
	itest_raw_resp_release(&r);
	itest_conn_close(&over);

	/* A slot freed is a slot taken again (once the server has seen the close). */
	itest_conn_close(&held[0]);
	int64_t deadline = itest_now_ms() + 5000;
	for (;;) {
		struct itest_conn c;
		itest_conn_open(&t, &c);
		sendf(&c, "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
		expect_resp(&c, REPLY_MS, &r, "after a close");
		int status = r.status;
		itest_raw_resp_release(&r);
		itest_conn_close(&c);
		if (status == 200)
			break;
		assert_int_equal(status, 503);
		if (itest_now_ms() > deadline)
			fail_msg("a freed connection slot was not reusable within 5 s");
		itest_pause_ms(20);
	}
	for (int i = 1; i < 8; i++)
		itest_conn_close(&held[i]);
}

/* ---- deadlines ---- */

static void test_header_timeout(void **state)
{
	(void)state;
	struct itest_conn c;
	struct itest_raw_resp r;
	start(NULL);

	/* Nothing at all after the accept. */
	int64_t t0 = itest_now_ms();
	itest_conn_open(&t, &c);
	expect_resp(&c, REPLY_MS, &r, "a silent connection");
	int64_t took = itest_now_ms() - t0;
	assert_int_equal(r.status, 408);
	expect_json_error(&r);
	expect_closed_after(&c, &r, "a silent connection");
	if (took < 400)
		fail_msg("408 after %lld ms, before the 500 ms head timeout", (long long)took);
	itest_raw_resp_release(&r);
	itest_conn_close(&c);

	/* A head begun and never finished. */
	itest_conn_open(&t, &c);
	sendf(&c, "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Never: ");
	expect_resp(&c, REPLY_MS, &r, "an unfinished head");
	assert_int_equal(r.status, 408);
	expect_closed_after(&c, &r, "an unfinished head");
	itest_raw_resp_release(&r);
	itest_conn_close(&c);

	/* Between requests the head timer waits for the next request's first byte. */
	itest_conn_open(&t, &c);
	healthz_ok(&c, "the first request");
	size_t got;
	if (itest_conn_wait_closed(&c, 800, &got) || got)
		fail_msg("a kept-open connection was cut before its idle timeout (%zu bytes)", got);
	healthz_ok(&c, "a request 800 ms after the previous one");
	itest_conn_close(&c);
}

#define SLOWLORIS 6

static void test_slowloris(void **state)
{
	(void)state;
	struct itest_conn c[SLOWLORIS];
	int cut[SLOWLORIS] = {0}, ncut = 0;
	start(NULL);
	for (int i = 0; i < SLOWLORIS; i++) {
		itest_conn_open(&t, &c[i]);
		sendf(&c[i], "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Slow: ");
	}
	/* One more header byte each every 100 ms, for as long as the server lets them. */
	int64_t deadline = itest_now_ms() + 5000;
	while (ncut < SLOWLORIS && itest_now_ms() < deadline) {
		for (int i = 0; i < SLOWLORIS; i++) {
			if (cut[i])
				continue;
			if (!c[i].len && !c[i].closed && itest_conn_send(&c[i], "a", 1) < 0)
				c[i].closed = 1;
			if (itest_conn_wait_input(&c[i], 100 / SLOWLORIS) || c[i].closed) {
				struct itest_raw_resp r;
				expect_resp(&c[i], REPLY_MS, &r, "a slowloris connection");
				assert_int_equal(r.status, 408);
				expect_closed_after(&c[i], &r, "a slowloris connection");
				itest_raw_resp_release(&r);
				cut[i] = 1;
				ncut++;
			}
		}
	}
	if (ncut < SLOWLORIS)
		fail_msg("%d of %d dribbling connections were not cut within 5 s", SLOWLORIS - ncut,
			 SLOWLORIS);
	for (int i = 0; i < SLOWLORIS; i++)
		itest_conn_close(&c[i]);
	struct itest_conn ok;
	itest_conn_open(&t, &ok);
	healthz_ok(&ok, "after the slowloris");
	itest_conn_close(&ok);
}

static void test_idle_timeout(void **state)
{
	(void)state;
	const char *env[] = {"FF_HTTP_IDLE_TIMEOUT_S=1", NULL};
	struct itest_conn c;
	size_t got;
	start(env);
	itest_conn_open(&t, &c);
	healthz_ok(&c, "the request before idling");
	int64_t t0 = itest_now_ms();
	if (!itest_conn_wait_closed(&c, 5000, &got))
		fail_msg("a kept-open connection with no request was not closed within 5 s");
	int64_t took = itest_now_ms() - t0;
	if (got)
		fail_msg("the idle close was not silent: %.200s", c.in);
	if (took < 900)
		fail_msg("closed after %lld ms idle, before the 1 s idle timeout", (long long)took);
	itest_conn_close(&c);
}

/* A body sent a byte every 200 ms (5 B/s against 1000 B/s over 1 s windows) is cut. */
static void slow_body(const char *head, size_t len, const char *what)
{
	struct itest_conn c;
	struct itest_raw_resp r;
	char *body = malloc(len);
	assert_non_null(body);
	memset(body, ' ', len);
	itest_conn_open(&t, &c);
	sendf(&c, "%sContent-Length: %zu\r\n\r\n", head, len);
	int64_t t0 = itest_now_ms();
	size_t sent = itest_conn_send_slowly(&c, body, len, 1, 200);
	expect_resp(&c, REPLY_MS, &r, what);
	if (r.status != 408)
		fail_msg("%s: %d after %zu of %zu bytes: %s", what, r.status, sent, len, r.body);
	if (itest_now_ms() - t0 > 5000)
		fail_msg("%s: cut only after %lld ms", what, (long long)(itest_now_ms() - t0));
	expect_json_error(&r);
	expect_closed_after(&c, &r, what);
	itest_raw_resp_release(&r);
	itest_conn_close(&c);
	free(body);
}

static void test_slow_body(void **state)
{
	(void)state;
	start(NULL);
	slow_body("POST /api/v1/runs HTTP/1.1\r\nHost: t\r\n" AUTH
		  "Content-Type: application/json\r\n",
		  400, "a slow JSON body");
	slow_body("POST /api/v1/targets HTTP/1.1\r\nHost: t\r\n" AUTH
		  "Content-Type: application/x-tar\r\n",
		  10240, "a slow upload");
}

/* ---- requests judged on their head ---- */

struct refusal {
	const char *head; /* request line and headers, without Content-Length */
	unsigned long long length;
	int status;
	const char *header, *value; /* one header the reply must carry, or NULL */
};

static const struct refusal refusals[] = {
    {"POST /api/v1/targets HTTP/1.1\r\nContent-Type: application/x-tar\r\n", BIG_BODY, 401,
     "WWW-Authenticate", "Bearer"},
    {"POST /api/v1/targets HTTP/1.1\r\nAuthorization: Bearer wrong\r\n"
     "Content-Type: application/x-tar\r\n",
     BIG_BODY, 401, "WWW-Authenticate", "Bearer"},
    {"POST /api/v1/runs HTTP/1.1\r\nContent-Type: application/json\r\n", 1000, 401,
     "WWW-Authenticate", "Bearer"},
    {"POST /api/v1/nowhere HTTP/1.1\r\n" AUTH "Content-Type: application/json\r\n", 1000, 404, NULL,
     NULL},
    {"DELETE /api/v1/runs HTTP/1.1\r\n" AUTH "Content-Type: application/json\r\n", 1000, 405,
     "Allow", "GET, POST"},
    {"POST /api/v1/runs HTTP/1.1\r\n" AUTH "Content-Type: application/json\r\n", 16 * 1024 + 1, 413,
     NULL, NULL},
    {"POST /api/v1/targets HTTP/1.1\r\n" AUTH "Content-Type: application/x-tar\r\n", 2 * MIB + 1,
     413, NULL, NULL},
    {"POST /api/v1/targets HTTP/1.1\r\n" AUTH "Content-Type: application/gzip\r\n", BIG_BODY, 413,
     NULL, NULL},
    {"POST /api/v1/runs HTTP/1.1\r\n" AUTH "Content-Type: text/plain\r\n", 10, 415, NULL, NULL},
    {"POST /api/v1/runs HTTP/1.1\r\n" AUTH, 10, 415, NULL, NULL},
    {"POST /api/v1/targets HTTP/1.1\r\n" AUTH "Content-Type: application/json\r\n", 10, 415, NULL,
     NULL},
};

static void test_refused_on_head(void **state)
{
	(void)state;
	start(NULL);
	for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
		const struct refusal *f = &refusals[i];
		struct itest_conn c;
		struct itest_raw_resp r;
		char what[160];
		snprintf(what, sizeof(what), "refusal %zu (%.*s)", i, (int)strcspn(f->head, "\r"),
			 f->head);
		itest_conn_open(&t, &c);
		/* The head only: the answer may not wait for a body byte. */
		sendf(&c, "%sHost: t\r\nContent-Length: %llu\r\n\r\n", f->head, f->length);
		expect_resp(&c, REPLY_MS, &r, what);
		if (r.status != f->status)
			fail_msg("%s: %d, expected %d: %s", what, r.status, f->status, r.body);
		if (f->header)
			expect_header(&r, f->header, f->value);
		expect_json_error(&r);
		expect_closed_after(&c, &r, what);
		itest_raw_resp_release(&r);
		itest_conn_close(&c);
	}
}

/* Refusals with no body keep the connection; it serves the next request. */
static void test_bodyless_refusals_keep_alive(void **state)
{
	(void)state;
	struct itest_conn c;
	struct itest_raw_resp r;
	start(NULL);
	itest_conn_open(&t, &c);
	sendf(&c, "GET /nowhere HTTP/1.1\r\nHost: t\r\n" AUTH "\r\n");
	expect_resp(&c, REPLY_MS, &r, "GET /nowhere");
	assert_int_equal(r.status, 404);
	assert_false(says_close(&r));
	itest_raw_resp_release(&r);
	sendf(&c, "DELETE /api/v1/runs HTTP/1.1\r\nHost: t\r\n" AUTH "\r\n");
	expect_resp(&c, REPLY_MS, &r, "DELETE /api/v1/runs");
	assert_int_equal(r.status, 405);
	expect_header(&r, "Allow", "GET, POST");
	assert_false(says_close(&r));
	itest_raw_resp_release(&r);
	sendf(&c, "GET /api/v1/runs HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_resp(&c, REPLY_MS, &r, "GET /api/v1/runs without a key");
	assert_int_equal(r.status, 401);
	expect_header(&r, "WWW-Authenticate", "Bearer");
	assert_false(says_close(&r));
	itest_raw_resp_release(&r);
	healthz_ok(&c, "after three bodyless refusals");
	itest_conn_close(&c);
}

static void test_head_limits(void **state)
{
	(void)state;
	struct itest_conn c;
	struct itest_raw_resp r;
	size_t big = 70 * 1024, plen = 1100;
	char *pad = malloc(big + 1);
	assert_non_null(pad);
	memset(pad, 'a', big);
	pad[big] = '\0';
	start(NULL);

	itest_conn_open(&t, &c);
	sendf(&c, "GET /healthz HTTP/1.1\r\nHost: t\r\n");
	assert_int_equal(itest_conn_send(&c, "X-Big: ", 7), 0);
	int sent = itest_conn_send(&c, pad, big); /* the server may answer and shut first */
	if (sent == 0)
		sent = itest_conn_send(&c, "\r\n\r\n", 4);
	expect_resp(&c, REPLY_MS, &r, "a 70 KiB head");
	assert_int_equal(r.status, 431);
	expect_closed_after(&c, &r, "a 70 KiB head");
	itest_raw_resp_release(&r);
	itest_conn_close(&c);

	/* A path over 1 KiB on a bodyless request: refused, the connection kept. */
	itest_conn_open(&t, &c);
	pad[plen] = '\0';
	sendf(&c, "GET /%s HTTP/1.1\r\nHost: t\r\n\r\n", pad);
	expect_resp(&c, REPLY_MS, &r, "a 1100-byte path");
	assert_int_equal(r.status, 414);
	expect_json_error(&r);
	itest_raw_resp_release(&r);
	healthz_ok(&c, "after a 414");
	itest_conn_close(&c);

	/* A URL past what the server keeps (8 KiB): 414 too, and the connection ends. */
	static const char url_tail[] = " HTTP/1.1\r\nHost: t\r\n\r\n";
	itest_conn_open(&t, &c);
	pad[plen] = 'a';
	assert_int_equal(itest_conn_send(&c, "GET /", 5), 0);
	if (itest_conn_send(&c, pad, 9000) == 0)
		itest_conn_send(&c, url_tail, sizeof url_tail - 1);
	expect_resp(&c, REPLY_MS, &r, "a 9000-byte URL");
	assert_int_equal(r.status, 414);
	expect_closed_after(&c, &r, "a 9000-byte URL");
	itest_raw_resp_release(&r);
	itest_conn_close(&c);
	free(pad);
}

static void test_pipelining(void **state)
{
	(void)state;
	static const char reqs[] =
	    "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-Id: p1\r\n\r\n"
	    "GET /nowhere HTTP/1.1\r\nHost: t\r\nX-Request-Id: p2\r\n\r\n"
	    "GET /api/v1/runs?limit=1 HTTP/1.1\r\nHost: t\r\n" AUTH "X-Request-Id: p3\r\n\r\n"
	    "GET /api/v1/workflows HTTP/1.1\r\nHost: t\r\n" AUTH "X-Request-Id: p4\r\n\r\n"
	    "GET /healthz HTTP/1.1\r\nHost: t\r\nX-Request-Id: p5\r\n\r\n";
	static const int want[] = {200, 404, 200, 200, 200};
	struct itest_conn c;
	start(NULL);
	itest_conn_open(&t, &c);
	assert_int_equal(itest_conn_send(&c, reqs, sizeof(reqs) - 1), 0);
	for (int i = 0; i < 5; i++) {
		struct itest_raw_resp r;
		char id[16], got[64];
		snprintf(id, sizeof(id), "p%d", i + 1);
		expect_resp(&c, REPLY_MS, &r, id);
		if (!itest_raw_header(&r, "X-Request-Id", got, sizeof(got)) || strcmp(got, id))
			fail_msg("response %d is not %s's:\n%s", i + 1, id, r.head);
		assert_int_equal(r.status, want[i]);
		itest_raw_resp_release(&r);
	}
	itest_conn_close(&c);
}

static void test_expect_continue(void **state)
{
	(void)state;
	const char *files[] = {"expect.txt", "continue\n", NULL};
	struct itest_conn c;
	struct itest_raw_resp r;
	size_t len;
	char *tar = itest_tar(files, 0, &len);
	start(NULL);

	/* A head that passes: 100 Continue before any body byte, then the upload's answer. */
	itest_conn_open(&t, &c);
	sendf(&c,
	      "POST /api/v1/targets HTTP/1.1\r\nHost: t\r\n" AUTH
	      "Content-Type: application/x-tar\r\nContent-Length: %zu\r\n"
	      "Expect: 100-continue\r\n\r\n",
	      len);
	expect_resp(&c, REPLY_MS, &r, "an upload expecting 100-continue");
	assert_int_equal(r.status, 100);
	itest_raw_resp_release(&r);
	assert_int_equal(itest_conn_send(&c, tar, len), 0);
	expect_resp(&c, 30000, &r, "the upload after 100 Continue");
	if (r.status != 201)
		fail_msg("upload after 100 Continue: %d %s", r.status, r.body);
	itest_raw_resp_release(&r);
	itest_conn_close(&c);

	/* A head that does not: never 100, the refusal at once. */
	itest_conn_open(&t, &c);
	sendf(&c,
	      "POST /api/v1/targets HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-tar\r\n"
	      "Content-Length: %d\r\nExpect: 100-continue\r\n\r\n",
	      BIG_BODY);
	expect_resp(&c, REPLY_MS, &r, "an unauthenticated upload expecting 100-continue");
	if (r.status != 401)
		fail_msg("an unauthenticated upload with Expect got %d first:\n%s", r.status,
			 r.head);
	expect_header(&r, "WWW-Authenticate", "Bearer");
	expect_closed_after(&c, &r, "an unauthenticated upload with Expect");
	itest_raw_resp_release(&r);
	itest_conn_close(&c);
	free(tar);
}

/* ---- bodies cut as they come ---- */

/* A chunked body: the pieces of another body fn, each framed as a chunk, then the last. */
struct chunker {
	itest_body_fn fn;
	void *ctx;
	int done;
};

static size_t chunked(void *ctx, char *buf, size_t cap)
{
	struct chunker *k = ctx;
	if (k->done)
		return 0;
	size_t n = k->fn(k->ctx, buf + 16, cap - 32);
	if (!n) {
		k->done = 1;
		memcpy(buf, "0\r\n\r\n", 5);
		return 5;
	}
	char head[16];
	int h = snprintf(head, sizeof(head), "%zx\r\n", n);
	memmove(buf + h, buf + 16, n);
	memcpy(buf, head, (size_t)h);
	memcpy(buf + h + n, "\r\n", 2);
	return (size_t)h + n + 2;
}

/* The same character, over and over, up to len bytes. */
struct filler {
	uint64_t left;
	char byte;
};

static size_t fill(void *ctx, char *buf, size_t cap)
{
	struct filler *f = ctx;
	size_t n = f->left < cap ? (size_t)f->left : cap;
	memset(buf, f->byte, n);
	f->left -= n;
	return n;
}

static void test_chunked_over_limit(void **state)
{
	(void)state;
	struct itest_conn c;
	struct itest_raw_resp r;
	start(NULL);

	/* A valid tar (one 8 MiB file) chunked to a 2 MiB limit. */
	struct itest_tar_gen g = {.nfiles = 1, .file_bytes = 8 * MIB};
	struct chunker k = {itest_tar_gen, &g, 0};
	itest_conn_open(&t, &c);
	sendf(&c, "POST /api/v1/targets HTTP/1.1\r\nHost: t\r\n" AUTH
		  "Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n");
	uint64_t sent = itest_conn_send_body(&c, chunked, &k, 30000);
	expect_resp(&c, 10000, &r, "a chunked upload past the limit");
	if (r.status != 413)
		fail_msg("a chunked 8 MiB upload (limit 2 MiB): %d %s", r.status, r.body);
	expect_closed_after(&c, &r, "a chunked upload past the limit");
	itest_raw_resp_release(&r);
	itest_conn_close(&c);
	print_message("chunked upload: %llu bytes sent before the close\n",
		      (unsigned long long)sent);
	itest_tar_gen_sha256(&g, (char[65]){0});

	/* A chunked JSON body past FF_MAX_JSON_KB. */
	struct filler f = {64 * 1024, ' '};
	struct chunker kj = {fill, &f, 0};
	itest_conn_open(&t, &c);
	sendf(&c, "POST /api/v1/runs HTTP/1.1\r\nHost: t\r\n" AUTH
		  "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n");
	itest_conn_send_body(&c, chunked, &kj, 30000);
	expect_resp(&c, 10000, &r, "a chunked JSON body past the limit");
	if (r.status != 413)
		fail_msg("a chunked 64 KiB JSON body (limit 16 KiB): %d %s", r.status, r.body);
	expect_closed_after(&c, &r, "a chunked JSON body past the limit");
	itest_raw_resp_release(&r);
	itest_conn_close(&c);
}

/* ---- streaming uploads, memory and /healthz ---- */

/* Fails unless every /healthz probe was answered 200 within its 1 s deadline. */
static void expect_probes_ok(struct itest_prober *p, const char *what)
{
	if (p->failed || !p->n)
		fail_msg("%s: %d /healthz probes unanswered within 1 s (of %d; worst %.0f ms)",
			 what, p->failed, p->failed + p->n, p->worst_ms);
}

static void test_upload_256mib(void **state)
{
	(void)state;
	const char *env[] = {"FF_MAX_TARGET_MB=300", NULL};
	const char *files[] = {"warm.txt", "up\n", NULL};
	/* 4 members of 64 MiB less a block, and the end blocks: 256 MiB less 1 KiB. */
	struct itest_tar_gen g = {.nfiles = 4, .file_bytes = 64 * MIB - 1024};
	struct itest_prober p;
	struct itest_conn c;
	struct itest_raw_resp r;
	char warm[65], want[65];
	start(env);
	itest_upload(&t, files, warm); /* the upload path's first use is not what is measured */
	itest_http_close(&t);
	long idle = itest_proc_kib(controller, "VmRSS");
	assert_true(idle > 0);
	assert_int_equal(itest_proc_reset_hwm(controller), 0);

	itest_prober_start(&t, &p, 50);
	itest_conn_open(&t, &c);
	uint64_t size = itest_tar_gen_size(&g);
	sendf(&c,
	      "POST /api/v1/targets HTTP/1.1\r\nHost: t\r\n" AUTH
	      "Content-Type: application/x-tar\r\nContent-Length: %llu\r\n\r\n",
	      (unsigned long long)size);
	uint64_t sent = itest_conn_send_body(&c, itest_tar_gen, &g, 120000);
	int got = itest_conn_read_resp(&c, 120000, &r);
	long hwm = itest_proc_kib(controller, "VmHWM");
	itest_prober_stop(&p);
	itest_tar_gen_sha256(&g, want);
	if (got < 0)
		fail_msg("no answer to the 256 MiB upload (%llu of %llu bytes sent)",
			 (unsigned long long)sent, (unsigned long long)size);
	if (r.status != 201)
		fail_msg("256 MiB upload: %d %s", r.status, r.body);
	cJSON *j = cJSON_ParseWithLength(r.body, r.body_len);
	if (!itest_str(j, "sha256") || strcmp(itest_str(j, "sha256"), want) != 0)
		fail_msg("256 MiB upload: sha256 %s, the test made %s",
			 itest_str(j, "sha256") ? itest_str(j, "sha256") : "(none)", want);
	cJSON_Delete(j);
	itest_raw_resp_release(&r);
	itest_conn_close(&c);
	print_message("256 MiB upload: VmRSS idle %ld KiB, VmHWM during %ld KiB; %d probes, "
		      "worst %.1f ms\n",
		      idle, hwm, p.n, p.worst_ms);
	expect_probes_ok(&p, "during a 256 MiB upload");
	itest_prober_release(&p);
	if (ITEST_BOUNDS_MEMORY && hwm - idle > 48 * 1024)
		fail_msg("controller VmHWM %ld KiB during a 256 MiB upload: idle %ld KiB + %ld KiB "
			 "(at most 48 MiB more)",
			 hwm, idle, hwm - idle);
}

/* A body fn over bytes in memory. */
struct membody {
	const char *p;
	size_t left;
};

static size_t from_mem(void *ctx, char *buf, size_t cap)
{
	struct membody *m = ctx;
	size_t n = m->left < cap ? m->left : cap;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return n;
}

static void test_pax_bomb(void **state)
{
	(void)state;
	const char *env[] = {"FF_MAX_TARGET_MB=16", NULL};
	struct itest_prober p;
	struct itest_conn c;
	struct itest_raw_resp r;
	size_t len;
	uint64_t inflated;
	char *bomb = itest_pax_bomb(5 * MIB, &len, &inflated);
	start(env);
	itest_prober_start(&t, &p, 50);
	itest_conn_open(&t, &c);
	sendf(&c,
	      "POST /api/v1/targets HTTP/1.1\r\nHost: t\r\n" AUTH
	      "Content-Type: application/gzip\r\nContent-Length: %zu\r\n\r\n",
	      len);
	int64_t t0 = itest_now_ms();
	struct membody m = {bomb, len};
	uint64_t sent = itest_conn_send_body(&c, from_mem, &m, 120000);
	int got = itest_conn_read_resp(&c, 120000, &r);
	int64_t took = itest_now_ms() - t0;
	itest_prober_stop(&p);
	if (got < 0)
		fail_msg("no answer to the pax bomb (%llu of %zu bytes sent)",
			 (unsigned long long)sent, len);
	print_message("pax bomb of %zu bytes (inflating to %llu): %d after %lld ms (%s); %d "
		      "probes, worst %.1f ms\n",
		      len, (unsigned long long)inflated, r.status, (long long)took, r.body, p.n,
		      p.worst_ms);
	if (r.status != 413 && r.status != 422)
		fail_msg("pax bomb: %d %s (expected 413 or 422)", r.status, r.body);
	itest_raw_resp_release(&r);
	itest_conn_close(&c);
	free(bomb);
	expect_probes_ok(&p, "during the pax bomb");
	itest_prober_release(&p);
}

/* One unauthenticated 200 MB upload, written as fast as the server takes it. */
struct flood {
	struct itest_conn c;
	struct filler f;
	uint64_t sent;
};

static void *flood_main(void *arg)
{
	struct flood *fl = arg;
	fl->sent = itest_conn_send_body(&fl->c, fill, &fl->f, 60000);
	return NULL;
}

static void test_unauthenticated_floods(void **state)
{
	(void)state;
	const char *env[] = {"FF_MAX_TARGET_MB=300", NULL};
	struct flood fl[4];
	pthread_t th[4];
	start(env);
	long idle = itest_proc_kib(controller, "VmRSS");
	assert_true(idle > 0);
	assert_int_equal(itest_proc_reset_hwm(controller), 0);
	for (int i = 0; i < 4; i++) {
		fl[i].f = (struct filler){FLOOD_LEN, 0};
		itest_conn_open(&t, &fl[i].c);
		sendf(&fl[i].c,
		      "POST /api/v1/targets HTTP/1.1\r\nHost: t\r\nContent-Type: "
		      "application/x-tar\r\n"
		      "Content-Length: %llu\r\n\r\n",
		      FLOOD_LEN);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, flood_main, &fl[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	long hwm = itest_proc_kib(controller, "VmHWM");
	for (int i = 0; i < 4; i++) {
		struct itest_raw_resp r;
		if (!fl[i].c.broken)
			fail_msg("flood %d: the server never closed (%llu bytes taken)", i,
				 (unsigned long long)fl[i].sent);
		expect_resp(&fl[i].c, 0, &r, "an unauthenticated flood");
		if (r.status != 401)
			fail_msg("flood %d: %d %s", i, r.status, r.body);
		expect_header(&r, "WWW-Authenticate", "Bearer");
		print_message("flood %d: 401, %llu bytes written before the close\n", i,
			      (unsigned long long)fl[i].sent);
		itest_raw_resp_release(&r);
		itest_conn_close(&fl[i].c);
	}
	if (hwm - idle > 16 * 1024)
		fail_msg("controller VmHWM %ld KiB during 4 unauthenticated floods: idle %ld KiB + "
			 "%ld KiB (at most 16 MiB more)",
			 hwm, idle, hwm - idle);
	struct itest_conn ok;
	itest_conn_open(&t, &ok);
	healthz_ok(&ok, "after the floods");
	itest_conn_close(&ok);
}

static int group_setup(void **state)
{
	(void)state;
	return itest_setup(&t, "http_limits");
}

static int group_teardown(void **state)
{
	(void)state;
	itest_teardown(&t);
	return 0;
}

/* ---- CORS ---- */

/* FF_CORS_ORIGINS: a preflight from a listed origin is answered without a key, with what the
 * path allows; the reply to the request itself (errors too) names the origin; an origin not
 * listed gets no CORS header (and 403 on its preflight); credentials are never allowed. */
static void test_cors(void **state)
{
	(void)state;
	struct itest_conn c;
	struct itest_raw_resp r;
	char v[256];
	const char *env[] = {"FF_CORS_ORIGINS=https://ui.example,https://ci.example", NULL};
	start(env);
	itest_conn_open(&t, &c);
	sendf(&c, "OPTIONS /api/v1/runs HTTP/1.1\r\nHost: t\r\nOrigin: https://ci.example\r\n"
		  "Access-Control-Request-Method: POST\r\n"
		  "Access-Control-Request-Headers: authorization, content-type\r\n\r\n");
	expect_resp(&c, REPLY_MS, &r, "preflight");
	assert_int_equal(r.status, 204);
	expect_header(&r, "Access-Control-Allow-Origin", "https://ci.example");
	expect_header(&r, "Access-Control-Allow-Methods", "GET, POST");
	assert_non_null(itest_raw_header(&r, "Access-Control-Allow-Headers", v, sizeof(v)));
	assert_non_null(strstr(v, "Authorization"));
	expect_header(&r, "Vary", "Origin");
	assert_null(itest_raw_header(&r, "Access-Control-Allow-Credentials", v, sizeof(v)));
	itest_raw_resp_release(&r);
	/* the request itself, refused for its key: the browser may still read why */
	sendf(&c, "GET /api/v1/runs HTTP/1.1\r\nHost: t\r\nOrigin: https://ui.example\r\n\r\n");
	expect_resp(&c, REPLY_MS, &r, "GET from an allowed origin");
	assert_int_equal(r.status, 401);
	expect_header(&r, "Access-Control-Allow-Origin", "https://ui.example");
	assert_non_null(itest_raw_header(&r, "Access-Control-Expose-Headers", v, sizeof(v)));
	assert_non_null(strstr(v, "X-Request-Id"));
	itest_raw_resp_release(&r);
	sendf(&c, "GET /api/v1/workflows HTTP/1.1\r\nHost: t\r\nOrigin: https://ui.example\r\n" AUTH
		  "\r\n");
	expect_resp(&c, REPLY_MS, &r, "GET with a key from an allowed origin");
	assert_int_equal(r.status, 200);
	expect_header(&r, "Access-Control-Allow-Origin", "https://ui.example");
	itest_raw_resp_release(&r);
	/* an origin not listed (a prefix of one is not it) */
	sendf(&c, "OPTIONS /api/v1/runs HTTP/1.1\r\nHost: t\r\nOrigin: https://ui.example.evil\r\n"
		  "Access-Control-Request-Method: GET\r\n\r\n");
	expect_resp(&c, REPLY_MS, &r, "preflight from another origin");
	assert_int_equal(r.status, 403);
	assert_null(itest_raw_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	itest_raw_resp_release(&r);
	sendf(&c,
	      "GET /api/v1/workflows HTTP/1.1\r\nHost: t\r\nOrigin: https://evil.example\r\n" AUTH
	      "\r\n");
	expect_resp(&c, REPLY_MS, &r, "GET from another origin");
	assert_int_equal(r.status, 200);
	assert_null(itest_raw_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	itest_raw_resp_release(&r);
	/* a plain OPTIONS says what the path allows; an unknown path is still 404 */
	sendf(&c, "OPTIONS /api/v1/keys HTTP/1.1\r\nHost: t\r\n\r\n");
	expect_resp(&c, REPLY_MS, &r, "plain OPTIONS");
	assert_int_equal(r.status, 204);
	expect_header(&r, "Allow", "GET, POST");
	itest_raw_resp_release(&r);
	sendf(&c, "OPTIONS /nowhere HTTP/1.1\r\nHost: t\r\nOrigin: https://ui.example\r\n"
		  "Access-Control-Request-Method: GET\r\n\r\n");
	expect_resp(&c, REPLY_MS, &r, "preflight of no route");
	assert_int_equal(r.status, 404);
	itest_raw_resp_release(&r);
	itest_conn_close(&c);
	stop_controller(NULL);

	/* "*": any origin, and still never credentials */
	const char *any[] = {"FF_CORS_ORIGINS=*", NULL};
	start(any);
	itest_conn_open(&t, &c);
	sendf(&c, "GET /healthz HTTP/1.1\r\nHost: t\r\nOrigin: https://anything.example\r\n\r\n");
	expect_resp(&c, REPLY_MS, &r, "GET with any origin allowed");
	expect_header(&r, "Access-Control-Allow-Origin", "*");
	assert_null(itest_raw_header(&r, "Access-Control-Allow-Credentials", v, sizeof(v)));
	itest_raw_resp_release(&r);
	itest_conn_close(&c);
	/* and none by default */
	stop_controller(NULL);
	start(NULL);
	itest_conn_open(&t, &c);
	sendf(&c, "GET /healthz HTTP/1.1\r\nHost: t\r\nOrigin: https://ui.example\r\n\r\n");
	expect_resp(&c, REPLY_MS, &r, "GET with no origins allowed");
	assert_null(itest_raw_header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	itest_raw_resp_release(&r);
	itest_conn_close(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_max_connections, stop_controller),
	    cmocka_unit_test_teardown(test_header_timeout, stop_controller),
	    cmocka_unit_test_teardown(test_slowloris, stop_controller),
	    cmocka_unit_test_teardown(test_idle_timeout, stop_controller),
	    cmocka_unit_test_teardown(test_slow_body, stop_controller),
	    cmocka_unit_test_teardown(test_refused_on_head, stop_controller),
	    cmocka_unit_test_teardown(test_bodyless_refusals_keep_alive, stop_controller),
	    cmocka_unit_test_teardown(test_cors, stop_controller),
	    cmocka_unit_test_teardown(test_head_limits, stop_controller),
	    cmocka_unit_test_teardown(test_pipelining, stop_controller),
	    cmocka_unit_test_teardown(test_expect_continue, stop_controller),
	    cmocka_unit_test_teardown(test_chunked_over_limit, stop_controller),
	    cmocka_unit_test_teardown(test_unauthenticated_floods, stop_controller),
	    cmocka_unit_test_teardown(test_pax_bomb, stop_controller),
	    cmocka_unit_test_teardown(test_upload_256mib, stop_controller),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

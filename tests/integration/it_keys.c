/* it_keys — API keys with scopes and rate limits, and the audit log, against the real
 * controller and database: FF_API_KEY is the bootstrap admin key, created keys are shown
 * once and stored as digests, a key without a route's scope gets 403 naming it, a revoked
 * key stops working on every controller, a key past its rate gets 429 with Retry-After and
 * RateLimit-* headers, and every answered request lands in the audit log. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "itest.h"

/* One request with key as the bearer token (NULL: none) over a raw connection, so that
 * the reply's headers can be read. */
static void keyed(struct itest *t, const char *method, const char *path, const char *key,
		  const char *json, struct itest_raw_resp *r)
{
	struct itest_conn c;
	char req[2048];
	int n = snprintf(req, sizeof(req),
			 "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n%s%s%s"
			 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
			 method, path, key ? "Authorization: Bearer " : "", key ? key : "",
			 key ? "\r\n" : "", json ? strlen(json) : 0, json ? json : "");
	assert_true(n > 0 && (size_t)n < sizeof(req));
	itest_conn_open(t, &c);
	assert_int_equal(itest_conn_send(&c, req, (size_t)n), 0);
	if (itest_conn_read_resp(&c, 10000, r) < 0)
		fail_msg("%s %s: no reply", method, path);
	itest_conn_close(&c);
}

static int status_of(struct itest *t, const char *method, const char *path, const char *key,
		     const char *json)
{
	struct itest_raw_resp r;
	keyed(t, method, path, key, json, &r);
	int st = r.status;
	itest_raw_resp_release(&r);
	return st;
}

/* Creates a key with the bootstrap key; its secret into key, its id into id. */
static void create_key(struct itest *t, const char *json, char key[64], char id[37])
{
	struct itest_raw_resp r;
	keyed(t, "POST", "/api/v1/keys", ITEST_API_KEY, json, &r);
	if (r.status != 201)
		fail_msg("create key %s: %d %s", json, r.status, r.body);
	cJSON *o = cJSON_Parse(r.body);
	const cJSON *k = cJSON_GetObjectItem(o, "key"), *i = cJSON_GetObjectItem(o, "id");
	assert_true(cJSON_IsString(k) && cJSON_IsString(i));
	assert_int_equal(strncmp(k->valuestring, "ff_", 3), 0);
	snprintf(key, 64, "%s", k->valuestring);
	snprintf(id, 37, "%s", i->valuestring);
	cJSON_Delete(o);
	itest_raw_resp_release(&r);
}

static void expect_forbidden(struct itest *t, const char *method, const char *path, const char *key,
			     const char *json, const char *scope)
{
	struct itest_raw_resp r;
	char want[64];
	keyed(t, method, path, key, json, &r);
	if (r.status != 403)
		fail_msg("%s %s: %d, not 403: %s", method, path, r.status, r.body);
	snprintf(want, sizeof(want), "lacks the '%s' scope", scope);
	assert_non_null(strstr(r.body, want));
	itest_raw_resp_release(&r);
}

static void scopes_and_storage(void **state)
{
	(void)state;
	struct itest t;
	char reader[64], rid[37], submitter[64], sid[37], admin[64], aid[37], v[256];
	itest_setup(&t, "keys_scopes");
	itest_start_controller(&t, NULL);
	create_key(&t, "{\"name\":\"ci reader\",\"scopes\":[\"read\"]}", reader, rid);
	create_key(&t, "{\"name\":\"ci\",\"scopes\":[\"submit\"]}", submitter, sid);
	create_key(&t, "{\"name\":\"ops\",\"scopes\":[\"admin\"],\"rate_per_s\":7}", admin, aid);

	/* only the digest is stored: 64 hex digits, never the key (which starts "ff_") */
	assert_int_equal(itest_sql_long(&t,
					"SELECT count(*) FROM api_keys "
					"WHERE key_sha256 !~ '^[0-9a-f]{64}$' OR key_sha256 = $1",
					reader),
			 0);
	assert_int_equal(itest_sql_long(&t, "SELECT rate_per_s FROM api_keys WHERE id = $1", aid),
			 7);

	/* read: every GET, nothing else */
	assert_int_equal(status_of(&t, "GET", "/api/v1/workflows", reader, NULL), 200);
	expect_forbidden(&t, "POST", "/api/v1/runs", reader, "{}", "submit");
	expect_forbidden(&t, "GET", "/api/v1/keys", reader, NULL, "admin");
	/* submit: writes, not reads */
	assert_int_equal(status_of(&t, "POST", "/api/v1/runs", submitter, "{}"), 422);
	expect_forbidden(&t, "GET", "/api/v1/runs", submitter, NULL, "read");
	expect_forbidden(&t, "POST", "/api/v1/keys", submitter, "{}", "admin");
	/* admin implies both */
	assert_int_equal(status_of(&t, "GET", "/api/v1/runs", admin, NULL), 200);
	assert_int_equal(status_of(&t, "POST", "/api/v1/runs", admin, "{}"), 422);
	/* unknown keys and none */
	assert_int_equal(status_of(&t, "GET", "/api/v1/runs", "ff_0000", NULL), 401);
	assert_int_equal(status_of(&t, "GET", "/api/v1/runs", NULL, NULL), 401);

	/* the list never shows a secret, and says when each key was last used */
	struct itest_raw_resp r;
	keyed(&t, "GET", "/api/v1/keys", admin, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_null(strstr(r.body, reader));
	assert_null(strstr(r.body, "\"key\""));
	assert_non_null(strstr(r.body, "\"name\":\"ci reader\""));
	itest_raw_resp_release(&r);
	int64_t deadline = itest_now_ms() + 10000;
	while (itest_sql_long(&t,
			      "SELECT count(*) FROM api_keys WHERE id = $1 AND last_used_at "
			      "IS NOT NULL",
			      rid) != 1) {
		if (itest_now_ms() > deadline)
			fail_msg("last_used_at of the reader key not recorded in 10 s");
		itest_pause_ms(100);
	}

	/* refusals at creation name the field */
	static const struct {
		const char *body, *field;
	} bad[] = {
	    {"{\"name\":\"x\",\"scopes\":[\"root\"]}", "scopes"},
	    {"{\"name\":\"x\",\"scopes\":[]}", "scopes"},
	    {"{\"name\":\"\",\"scopes\":[\"read\"]}", "name"},
	    {"{\"scopes\":[\"read\"]}", "name"},
	    {"{\"name\":\"x\",\"scopes\":[\"read\"],\"rate_per_s\":0}", "rate_per_s"},
	    {"{\"name\":\"x\",\"scopes\":[\"read\"],\"owner\":1}", "owner"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		keyed(&t, "POST", "/api/v1/keys", ITEST_API_KEY, bad[i].body, &r);
		if (r.status != 422)
			fail_msg("%s: %d %s", bad[i].body, r.status, r.body);
		snprintf(v, sizeof(v), "\"field\":\"%s\"", bad[i].field);
		assert_non_null(strstr(r.body, v));
		itest_raw_resp_release(&r);
	}
	itest_teardown(&t);
}

/* The scope a route needs, by the rule main.c's table follows: the keys, the audit log
 * and dead-letter actions are admin's; other GETs read; other writes submit. */
static const char *scope_for(const char *method, const char *path)
{
	if (!strncmp(path, "/api/v1/keys", 12) || !strncmp(path, "/api/v1/audit", 13) ||
	    (!strncmp(path, "/api/v1/dead-letters/", 21) && strcmp(method, "GET")))
		return "admin";
	return strcmp(method, "GET") ? "submit" : "read";
}

/* Every route of proto/openapi.json: without a key 401, with a key lacking its scope 403
 * naming the scope, with one that has it neither; only the probes need no key. */
static void every_route_needs_its_scope(void **state)
{
	(void)state;
	struct itest t;
	char reader[64], submitter[64], id[37];
	itest_setup(&t, "keys_routes");
	itest_start_controller(&t, NULL);
	create_key(&t, "{\"name\":\"r\",\"scopes\":[\"read\"]}", reader, id);
	create_key(&t, "{\"name\":\"s\",\"scopes\":[\"submit\"]}", submitter, id);
	char *text = itest_read_file(ITEST_REPO "/proto/openapi.json");
	cJSON *api = cJSON_Parse(text);
	free(text);
	assert_non_null(api);
	int checked = 0;
	const cJSON *path;
	cJSON_ArrayForEach(path, cJSON_GetObjectItem(api, "paths"))
	{
		/* a concrete path: each {param} a well-formed value */
		char concrete[256];
		size_t off = 0;
		for (const char *p = path->string; *p && off < sizeof(concrete);) {
			const char *open = strchr(p, '{');
			int lit = open ? (int)(open - p) : (int)strlen(p);
			off += (size_t)snprintf(concrete + off, sizeof(concrete) - off, "%.*s", lit,
						p);
			if (!open)
				break;
			const char *value =
			    strstr(open, "{sha256}") == open
				? "0000000000000000000000000000000000000000000000000000000000000000"
				: "00000000-0000-4000-8000-000000000000";
			off +=
			    (size_t)snprintf(concrete + off, sizeof(concrete) - off, "%s", value);
			p = strchr(open, '}') + 1;
		}
		assert_true(off < sizeof(concrete));
		const cJSON *op;
		cJSON_ArrayForEach(op, path)
		{
			char method[8];
			snprintf(method, sizeof(method), "%s", op->string);
			for (char *c = method; *c; c++)
				*c = (char)(*c - 32 * (*c >= 'a' && *c <= 'z'));
			const char *body = strcmp(method, "POST") ? NULL : "{}";
			int none = status_of(&t, method, concrete, NULL, body);
			const cJSON *sec = cJSON_GetObjectItem(op, "security");
			if (cJSON_IsArray(sec) && cJSON_GetArraySize(sec) == 0) {
				/* documented as needing no key: the probes, the document */
				assert_int_equal(none, 200);
				continue;
			}
			if (none != 401)
				fail_msg("%s %s without a key: %d", method, concrete, none);
			const char *scope = scope_for(method, path->string);
			const char *lacking = !strcmp(scope, "read") ? submitter : reader;
			expect_forbidden(&t, method, concrete, lacking, body, scope);
			if (strcmp(scope, "admin")) {
				const char *having = !strcmp(scope, "read") ? reader : submitter;
				int st = status_of(&t, method, concrete, having, body);
				if (st == 401 || st == 403)
					fail_msg("%s %s with the %s scope: %d", method, concrete,
						 scope, st);
			}
			checked++;
		}
	}
	assert_true(checked >= 20);
	cJSON_Delete(api);
	itest_teardown(&t);
}

/* A key revoked through one controller stops working on another within its next re-read
 * (KEYS_EVERY_MS); the bootstrap key cannot be revoked, and a short one is refused. */
static void revoke_everywhere(void **state)
{
	(void)state;
	struct itest t;
	char key[64], id[37], path[128];
	itest_setup(&t, "keys_revoke");
	int first = t.port, second = itest_free_port();
	itest_start_controller(&t, NULL);
	itest_use_port(&t, second);
	itest_start_controller(&t, NULL);
	itest_use_port(&t, first);
	create_key(&t, "{\"name\":\"short-lived\",\"scopes\":[\"read\"]}", key, id);
	/* the other controller learns of it on its next pass */
	itest_use_port(&t, second);
	int64_t deadline = itest_now_ms() + 10000;
	while (status_of(&t, "GET", "/api/v1/workflows", key, NULL) != 200) {
		if (itest_now_ms() > deadline)
			fail_msg("a new key not accepted by a second controller in 10 s");
		itest_pause_ms(50);
	}
	itest_use_port(&t, first);
	snprintf(path, sizeof(path), "/api/v1/keys/%s", id);
	assert_int_equal(status_of(&t, "DELETE", path, ITEST_API_KEY, NULL), 204);
	assert_int_equal(status_of(&t, "DELETE", path, ITEST_API_KEY, NULL), 404);
	itest_use_port(&t, second);
	deadline = itest_now_ms() + 10000;
	while (status_of(&t, "GET", "/api/v1/workflows", key, NULL) != 401) {
		if (itest_now_ms() > deadline)
			fail_msg("a revoked key still accepted by a second controller after 10 s");
		itest_pause_ms(50);
	}
	assert_int_equal(
	    itest_sql_long(&t,
			   "SELECT count(*) FROM api_keys WHERE id = $1 AND revoked_at "
			   "IS NOT NULL",
			   id),
	    1);
	assert_int_equal(status_of(&t, "DELETE", "/api/v1/keys/bootstrap", ITEST_API_KEY, NULL),
			 404);
	assert_int_equal(status_of(&t, "GET", "/api/v1/workflows", ITEST_API_KEY, NULL), 200);

	/* FF_API_KEY is required, and must not be guessable by its length */
	itest_use_port(&t, itest_free_port());
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "FF_API_KEY=short DATABASE_URL='%s' %s >/dev/null 2>&1; test $? -eq 2", t.db_url,
		 ITEST_CONTROLLER);
	assert_int_equal(system(cmd), 0);
	itest_teardown(&t);
}

/* A token bucket per key: the burst passes, the next is 429 with Retry-After, and a key's
 * own rate_per_s replaces FF_RATE_PER_S; buckets of different keys are apart. */
static void rate_limits(void **state)
{
	(void)state;
	struct itest t;
	char key[64], h[32];
	itest_setup(&t, "keys_rate");
	const char *env[] = {"FF_RATE_PER_S=1", "FF_RATE_BURST=3", NULL};
	itest_start_controller(&t, env);
	struct itest_raw_resp r;
	int ok = 0;
	/* the bucket holds 3; the harness's own readiness check took one or two of them */
	for (int i = 0; i < 5; i++) {
		keyed(&t, "GET", "/api/v1/workflows", ITEST_API_KEY, NULL, &r);
		if (r.status == 429)
			break;
		assert_int_equal(r.status, 200);
		assert_non_null(itest_raw_header(&r, "RateLimit-Limit", h, sizeof(h)));
		assert_string_equal(h, "3");
		itest_raw_resp_release(&r);
		ok++;
	}
	assert_int_equal(r.status, 429);
	assert_true(ok >= 1 && ok <= 3);
	assert_non_null(itest_raw_header(&r, "Retry-After", h, sizeof(h)));
	assert_true(atoi(h) >= 1);
	assert_non_null(itest_raw_header(&r, "RateLimit-Remaining", h, sizeof(h)));
	assert_string_equal(h, "0");
	assert_non_null(strstr(r.body, "\"rate_limited\""));
	itest_raw_resp_release(&r);
	/* the probes need no key and are never limited */
	for (int i = 0; i < 10; i++)
		assert_int_equal(status_of(&t, "GET", "/healthz", NULL, NULL), 200);

	/* the bucket refills at its rate: a request passes again within a few seconds */
	int64_t deadline = itest_now_ms() + 10000;
	while (status_of(&t, "GET", "/api/v1/workflows", ITEST_API_KEY, NULL) != 200) {
		if (itest_now_ms() > deadline)
			fail_msg("the bucket did not refill in 10 s at 1/s");
		itest_pause_ms(200);
	}
	/* another key has its own bucket and its own rate (the bootstrap key may have to wait
	 * for a token to create it) */
	int64_t until = itest_now_ms() + 10000;
	for (;;) {
		keyed(&t, "POST", "/api/v1/keys", ITEST_API_KEY,
		      "{\"name\":\"fast\",\"scopes\":[\"read\"],\"rate_per_s\":1000}", &r);
		if (r.status != 429)
			break;
		itest_raw_resp_release(&r);
		if (itest_now_ms() > until)
			fail_msg("bootstrap key still limited after 10 s");
		itest_pause_ms(200);
	}
	assert_int_equal(r.status, 201);
	cJSON *o = cJSON_Parse(r.body);
	snprintf(key, sizeof(key), "%s", cJSON_GetObjectItem(o, "key")->valuestring);
	cJSON_Delete(o);
	itest_raw_resp_release(&r);
	int passed = 0;
	for (int i = 0; i < 3; i++)
		passed += status_of(&t, "GET", "/api/v1/workflows", key, NULL) == 200;
	assert_int_equal(passed, 3);
	itest_teardown(&t);
}

/* Every request the API answers is in the audit log, with its key, route template, status,
 * request id, sizes, duration and client; GET /api/v1/audit filters and pages it (admin
 * only); rows past FF_AUDIT_DAYS are deleted. */
static void audit_log(void **state)
{
	(void)state;
	struct itest t;
	char key[64], id[37], path[256];
	itest_setup(&t, "keys_audit");
	const char *env[] = {"FF_AUDIT_DAYS=1", NULL};
	pid_t ctl = itest_start_controller(&t, env);
	/* an entry from before the retention: the first pass deletes it */
	assert_int_equal(
	    itest_sql_long(&t,
			   "WITH i AS (INSERT INTO audit_log (at, method, status, "
			   "request_id, bytes_in, bytes_out, duration_ms) VALUES (now() - "
			   "interval '3 days', 'GET', 200, 'old', 0, 0, 0) RETURNING 1) "
			   "SELECT count(*) FROM i",
			   NULL),
	    1);
	assert_int_equal(itest_stop(&t, ctl, SIGTERM, 30000), 0);
	itest_start_controller(&t, env);
	create_key(&t, "{\"name\":\"auditor-test\",\"scopes\":[\"read\"]}", key, id);
	struct itest_conn c;
	struct itest_raw_resp r;
	static const char req[] = "GET /api/v1/runs/00000000-0000-4000-8000-000000000000 "
				  "HTTP/1.1\r\nHost: x\r\nX-Request-Id: audit-probe-1\r\n"
				  "Authorization: Bearer %s\r\nConnection: close\r\n\r\n";
	char buf[512];
	int n = snprintf(buf, sizeof(buf), req, key);
	itest_conn_open(&t, &c);
	assert_int_equal(itest_conn_send(&c, buf, (size_t)n), 0);
	assert_int_equal(itest_conn_read_resp(&c, 10000, &r), 0);
	assert_int_equal(r.status, 404);
	itest_raw_resp_release(&r);
	itest_conn_close(&c);
	assert_int_equal(status_of(&t, "GET", "/api/v1/runs", "ff_not_a_key", NULL), 401);
	assert_int_equal(status_of(&t, "GET", "/nowhere", NULL, NULL), 404);

	/* written in the background, soon */
	int64_t deadline = itest_now_ms() + 10000;
	while (itest_sql_long(&t, "SELECT count(*) FROM audit_log WHERE request_id = $1",
			      "audit-probe-1") != 1) {
		if (itest_now_ms() > deadline)
			fail_msg("the request is not in the audit log after 10 s");
		itest_pause_ms(50);
	}
	char want[512];
	snprintf(want, sizeof(want), "%s GET /api/v1/runs/{id} 404 127.0.0.1 true true true", id);
	char got[512] = "";
	PGresult *res = PQexecParams(
	    t.pg,
	    "SELECT key_id || ' ' || method || ' ' || route || ' ' || status || ' ' || client || "
	    "' ' || (bytes_in > 100) || ' ' || (bytes_out > 50) || ' ' || (duration_ms >= 0 AND "
	    "at > now() - interval '1 minute') FROM audit_log WHERE request_id = 'audit-probe-1'",
	    0, NULL, NULL, NULL, NULL, 0);
	assert_int_equal(PQntuples(res), 1);
	snprintf(got, sizeof(got), "%s", PQgetvalue(res, 0, 0));
	PQclear(res);
	assert_string_equal(got, want);
	deadline = itest_now_ms() + 10000;
	while (itest_sql_long(&t,
			      "SELECT count(*) FROM audit_log WHERE key_id IS NULL AND "
			      "((status = 401 AND route = '/api/v1/runs') OR (status = 404 AND "
			      "route IS NULL))",
			      NULL) != 2 ||
	       itest_sql_long(&t, "SELECT count(*) FROM audit_log WHERE request_id = 'old'",
			      NULL) != 0) {
		if (itest_now_ms() > deadline)
			fail_msg(
			    "refused requests not logged, or the old entry not pruned, in 10 s");
		itest_pause_ms(50);
	}

	/* the API: admin only, filtered, paged */
	expect_forbidden(&t, "GET", "/api/v1/audit", key, NULL, "admin");
	deadline = itest_now_ms() + 10000;
	while (itest_sql_long(&t, "SELECT count(*) FROM audit_log WHERE key_id = $1", id) != 2) {
		if (itest_now_ms() > deadline)
			fail_msg("the 403 is not in the audit log after 10 s");
		itest_pause_ms(50);
	}
	snprintf(path, sizeof(path), "/api/v1/audit?key=%s", id);
	keyed(&t, "GET", path, ITEST_API_KEY, NULL, &r);
	assert_int_equal(r.status, 200);
	cJSON *o = cJSON_Parse(r.body);
	const cJSON *entries = cJSON_GetObjectItem(o, "entries"), *e;
	assert_int_equal(cJSON_GetArraySize(entries), 2); /* the 403 and the 404 */
	cJSON_ArrayForEach(e, entries)
	    assert_string_equal(cJSON_GetObjectItem(e, "key_id")->valuestring, id);
	cJSON_Delete(o);
	itest_raw_resp_release(&r);
	keyed(&t, "GET", "/api/v1/audit?status=401&since=2000-01-01T00:00:00Z", ITEST_API_KEY, NULL,
	      &r);
	o = cJSON_Parse(r.body);
	entries = cJSON_GetObjectItem(o, "entries");
	assert_int_equal(cJSON_GetArraySize(entries), 1);
	cJSON_Delete(o);
	itest_raw_resp_release(&r);
	/* a page of one, then the next by its cursor, never the same entry twice */
	keyed(&t, "GET", "/api/v1/audit?limit=1", ITEST_API_KEY, NULL, &r);
	o = cJSON_Parse(r.body);
	const cJSON *next = cJSON_GetObjectItem(o, "next_cursor");
	assert_true(cJSON_IsString(next));
	long first =
	    (long)cJSON_GetArrayItem(cJSON_GetObjectItem(o, "entries"), 0)->child->valuedouble;
	snprintf(path, sizeof(path), "/api/v1/audit?limit=1&cursor=%s", next->valuestring);
	cJSON_Delete(o);
	itest_raw_resp_release(&r);
	keyed(&t, "GET", path, ITEST_API_KEY, NULL, &r);
	o = cJSON_Parse(r.body);
	long second =
	    (long)cJSON_GetArrayItem(cJSON_GetObjectItem(o, "entries"), 0)->child->valuedouble;
	assert_true(second < first);
	cJSON_Delete(o);
	itest_raw_resp_release(&r);
	assert_int_equal(
	    status_of(&t, "GET", "/api/v1/audit?since=yesterdayish", ITEST_API_KEY, NULL), 422);
	assert_int_equal(status_of(&t, "GET", "/api/v1/audit?status=42", ITEST_API_KEY, NULL), 422);
	assert_int_equal(status_of(&t, "GET", "/api/v1/audit?cursor=x1", ITEST_API_KEY, NULL), 422);
	itest_teardown(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(scopes_and_storage), cmocka_unit_test(every_route_needs_its_scope),
	    cmocka_unit_test(revoke_everywhere),  cmocka_unit_test(rate_limits),
	    cmocka_unit_test(audit_log),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

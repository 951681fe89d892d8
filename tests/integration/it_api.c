/* it_api — the REST API's contract without a worker: auth, health, workflows, target upload
 * and its refusals, submit validation (strict JSON, utf-8), query and path refusals, reads,
 * listing with a cursor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ff_util.h"
#include "itest.h"

static struct itest T;
static char target[65];

static int setup(void **state)
{
	(void)state;
	itest_setup(&T, "api");
	itest_start_controller(&T, NULL);
	const char *files[] = {"a.c", "int x;\n", NULL};
	itest_upload(&T, files, target);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	itest_teardown(&T);
	return 0;
}

static const char *err_code(const struct itest_resp *r)
{
	const cJSON *e = cJSON_GetObjectItem(r->json, "error");
	const cJSON *c = cJSON_GetObjectItem(e, "code");
	return cJSON_IsString(c) ? c->valuestring : "";
}

static const char *err_field(const struct itest_resp *r)
{
	const cJSON *f = cJSON_GetObjectItem(cJSON_GetObjectItem(r->json, "error"), "field");
	return cJSON_IsString(f) ? f->valuestring : "";
}

static void call(const char *method, const char *path, int auth, long status, struct itest_resp *r)
{
	assert_int_equal(itest_http(&T, method, path, NULL, NULL, 0, auth, r), 0);
	if (r->status != status)
		fail_msg("%s %s: %ld, expected %ld: %s", method, path, r->status, status,
			 r->body ? r->body : "");
}

static void auth_required(void **state)
{
	(void)state;
	struct itest_resp r;
	call("GET", "/api/v1/workflows", 0, 401, &r);
	assert_string_equal(err_code(&r), "unauthorized");
	assert_true(cJSON_IsString(cJSON_GetObjectItem(r.json, "request_id")));
	itest_resp_release(&r);
	call("GET", "/api/v1/workflows", 2, 401, &r);
	itest_resp_release(&r);
	/* health routes need no key */
	assert_int_equal(itest_http(&T, "GET", "/healthz", NULL, NULL, 0, 0, &r), 0);
	assert_int_equal(r.status, 200);
	itest_resp_release(&r);
	call("GET", "/readyz", 0, 200, &r);
	assert_string_equal(cJSON_GetObjectItem(r.json, "status")->valuestring, "ready");
	itest_resp_release(&r);
	call("GET", "/nope", 1, 404, &r);
	itest_resp_release(&r);
	call("DELETE", "/api/v1/workflows", 1, 405, &r);
	itest_resp_release(&r);
}

static void workflows(void **state)
{
	(void)state;
	struct itest_resp r;
	call("GET", "/api/v1/workflows", 1, 200, &r);
	const cJSON *list = cJSON_GetObjectItem(r.json, "workflows");
	assert_true(cJSON_GetArraySize(list) >= 5);
	int found = 0;
	for (const cJSON *w = list->child; w; w = w->next)
		found += !strcmp(cJSON_GetObjectItem(w, "name")->valuestring, "test-ok");
	assert_int_equal(found, 1);
	itest_resp_release(&r);
	call("GET", "/api/v1/workflows/test-ok", 1, 200, &r);
	assert_string_equal(cJSON_GetObjectItem(r.json, "version")->valuestring, "1.0.0");
	itest_resp_release(&r);
	call("GET", "/api/v1/workflows/nope", 1, 404, &r);
	itest_resp_release(&r);
}

static void upload_is_content_addressed(void **state)
{
	(void)state;
	char again[65];
	const char *files[] = {"a.c", "int x;\n", NULL};
	itest_upload(&T, files, again);
	assert_string_equal(again, target);
	assert_int_equal(itest_sql_long(&T, "SELECT count(*) FROM targets", NULL), 1);
	/* the same tree as plain tar: other bytes, another digest, also fine */
	size_t len;
	void *tar = itest_tar(files, 0, &len);
	struct itest_resp r;
	assert_int_equal(
	    itest_http(&T, "POST", "/api/v1/targets", "application/x-tar", tar, len, 1, &r), 0);
	assert_int_equal(r.status, 201);
	itest_resp_release(&r);
	free(tar);
}

static void upload_refusals(void **state)
{
	(void)state;
	struct itest_resp r;
	const char *escape[] = {"../evil", "x", NULL};
	size_t len;
	void *tar = itest_tar(escape, 0, &len);
	assert_int_equal(
	    itest_http(&T, "POST", "/api/v1/targets", "application/x-tar", tar, len, 1, &r), 0);
	assert_int_equal(r.status, 422);
	assert_string_equal(err_code(&r), "validation_failed");
	itest_resp_release(&r);
	free(tar);

	const char *abs[] = {"/etc/passwd", "x", NULL};
	tar = itest_tar(abs, 1, &len);
	assert_int_equal(
	    itest_http(&T, "POST", "/api/v1/targets", "application/gzip", tar, len, 1, &r), 0);
	assert_int_equal(r.status, 422);
	itest_resp_release(&r);
	free(tar);

	assert_int_equal(itest_http(&T, "POST", "/api/v1/targets", "application/gzip",
				    "not a tar at all", 16, 1, &r),
			 0);
	assert_int_equal(r.status, 422);
	itest_resp_release(&r);

	assert_int_equal(itest_http(&T, "POST", "/api/v1/targets", "text/plain", "x", 1, 1, &r), 0);
	assert_int_equal(r.status, 415);
	itest_resp_release(&r);
	assert_int_equal(itest_sql_long(&T, "SELECT count(*) FROM targets", NULL), 2);
}

static void submit_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *body; /* TARGET stands for the uploaded target's digest */
		long status;
		const char *field;
	} cases[] = {
	    {"{\"workflow\":\"nope\",\"target\":\"TARGET\"}", 422, "workflow"},
	    {"{\"target\":\"TARGET\"}", 422, "workflow"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"0123456789\"}", 422, "target"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\",\"priority\":10}", 422, "priority"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\",\"priority\":1.5}", 422, "priority"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\",\"labels\":{\"k\":1}}", 422,
	     "labels"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\",\"extra\":1}", 422, "extra"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\",\"parameters\":{\"depth\":\"x\"}}",
	     422, "parameters.depth"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\",\"parameters\":{\"depth\":11}}", 422,
	     "parameters.depth"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\",\"parameters\":{\"mode\":\"slow\"}}",
	     422, "parameters.mode"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\",\"parameters\":{\"nope\":1}}", 422,
	     "parameters.nope"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\",\"parameters\":[]}", 400, ""},
	    /* strict JSON: a key twice, bytes after the value */
	    {"{\"workflow\":\"test-ok\",\"workflow\":\"x\",\"target\":\"TARGET\"}", 400,
	     "workflow"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\"} {}", 400, ""},
	    /* strings that are not utf-8 (the database would refuse them with a 500): 422 naming
	     * where; a bad key is shown with '?' */
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\",\"labels\":{\"k\":\"\xff\"}}", 422,
	     "labels.k"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\",\"labels\":{\"\xfe\":\"v\"}}", 422,
	     "labels.?"},
	    {"{\"workflow\":\"test-\xc3ok\",\"target\":\"TARGET\"}", 422, "workflow"},
	    {"{\"workflow\":\"test-ok\",\"target\":\"TARGET\",\"parameters\":{\"mode\":"
	     "\"\xed\xa0\x80\"}}",
	     422, "parameters.mode"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char body[512];
		struct itest_resp r;
		const char *at = strstr(cases[i].body, "TARGET");
		if (at)
			snprintf(body, sizeof(body), "%.*s%s%s", (int)(at - cases[i].body),
				 cases[i].body, target, at + 6);
		else
			snprintf(body, sizeof(body), "%s", cases[i].body);
		assert_int_equal(itest_http(&T, "POST", "/api/v1/runs", "application/json", body,
					    strlen(body), 1, &r),
				 0);
		if (r.status != cases[i].status && !(cases[i].status == 400 && r.status == 422))
			fail_msg("%s: %ld %s", body, r.status, r.body);
		if (*cases[i].field)
			assert_string_equal(err_field(&r), cases[i].field);
		assert_true(ff_utf8_valid(r.body, r.len)); /* nothing echoed breaks the reply */
		itest_resp_release(&r);
	}
	/* a JSON body sent as text/plain */
	struct itest_resp tr;
	char json[256];
	snprintf(json, sizeof(json), "{\"workflow\":\"test-ok\",\"target\":\"%s\"}", target);
	assert_int_equal(
	    itest_http(&T, "POST", "/api/v1/runs", "text/plain", json, strlen(json), 1, &tr), 0);
	assert_int_equal(tr.status, 415);
	assert_string_equal(err_field(&tr), "Content-Type");
	itest_resp_release(&tr);
	/* an Idempotency-Key that is not utf-8 */
	char idem_id[37];
	assert_int_equal(itest_submit_idempotent(&T, "key-\xff", json, idem_id), 422);
	/* a well-formed target nobody uploaded */
	char body[256], id[37];
	snprintf(body, sizeof(body), "{\"workflow\":\"test-ok\",\"target\":\"%064d\"}", 0);
	assert_int_equal(itest_submit(&T, body, id), 422);
	struct itest_resp r;
	assert_int_equal(
	    itest_http(&T, "POST", "/api/v1/runs", "application/json", "{nope", 5, 1, &r), 0);
	assert_int_equal(r.status, 400);
	itest_resp_release(&r);
	assert_int_equal(itest_sql_long(&T, "SELECT count(*) FROM runs", NULL), 0);
}

static void reads_and_listing(void **state)
{
	(void)state;
	char ids[5][37], body[256], path[512];
	struct itest_resp r;
	snprintf(body, sizeof(body),
		 "{\"workflow\":\"test-ok\",\"target\":\"%s\",\"priority\":3,\"labels\":{\"ci\":"
		 "\"yes\"}}",
		 target);
	for (int i = 0; i < 5; i++)
		assert_int_equal(itest_submit(&T, body, ids[i]), 202);
	snprintf(path, sizeof(path), "/api/v1/runs/%s", ids[0]);
	call("GET", path, 1, 200, &r);
	assert_string_equal(cJSON_GetObjectItem(r.json, "state")->valuestring, "queued");
	assert_int_equal(cJSON_GetObjectItem(r.json, "priority")->valueint, 3);
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(r.json, "labels"), "ci")->valuestring, "yes");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(r.json, "started_at")));
	itest_resp_release(&r);

	call("GET", "/api/v1/runs/00000000-0000-4000-8000-000000000000", 1, 404, &r);
	itest_resp_release(&r);
	call("GET", "/api/v1/runs/not-a-uuid", 1, 404, &r);
	itest_resp_release(&r);

	/* pages of 2, newest first, covering all 5 exactly once */
	char cursor[128] = "";
	int seen = 0;
	for (int page = 0; page < 3; page++) {
		snprintf(path, sizeof(path), "/api/v1/runs?limit=2&workflow=test-ok%s%s",
			 *cursor ? "&cursor=" : "", cursor);
		call("GET", path, 1, 200, &r);
		const cJSON *runs = cJSON_GetObjectItem(r.json, "runs");
		for (const cJSON *x = runs->child; x; x = x->next, seen++)
			assert_string_equal(cJSON_GetObjectItem(x, "id")->valuestring,
					    ids[4 - seen]);
		const cJSON *next = cJSON_GetObjectItem(r.json, "next_cursor");
		if (page < 2)
			snprintf(cursor, sizeof(cursor), "%s", next->valuestring);
		else
			assert_true(cJSON_IsNull(next));
		itest_resp_release(&r);
	}
	assert_int_equal(seen, 5);
	call("GET", "/api/v1/runs?state=bogus", 1, 422, &r);
	itest_resp_release(&r);
	call("GET", "/api/v1/runs?limit=0", 1, 422, &r);
	itest_resp_release(&r);
	call("GET", "/api/v1/runs?cursor=garbage", 1, 422, &r);
	itest_resp_release(&r);

	snprintf(path, sizeof(path), "/api/v1/runs/%s/events", ids[0]);
	call("GET", path, 1, 200, &r);
	const cJSON *ev = cJSON_GetObjectItem(r.json, "events");
	assert_int_equal(cJSON_GetArraySize(ev), 1);
	assert_string_equal(cJSON_GetObjectItem(ev->child, "state")->valuestring, "queued");
	itest_resp_release(&r);
	snprintf(path, sizeof(path), "/api/v1/runs/%s/sarif", ids[0]);
	call("GET", path, 1, 404, &r);
	itest_resp_release(&r);
}

/* Query parameters and path segments are judged before the handler: a parameter the route
 * does not take, or one given twice, is 400 (a misspelt filter must not match everything);
 * a value that is not utf-8 is 422 naming it; every reply is valid utf-8 JSON. */
static void query_and_path_refusals(void **state)
{
	(void)state;
	static const struct {
		const char *method, *path;
		long status;
		const char *field;
	} cases[] = {
	    {"GET", "/api/v1/runs?label=x", 422, "label"},
	    {"GET", "/api/v1/runs?labels=x=y", 400, "labels"},
	    {"GET", "/api/v1/runs?limit=1&limit=2", 400, "limit"},
	    {"GET", "/api/v1/runs?state=%ff", 422, "state"},
	    {"GET", "/api/v1/runs?workflow=a%c3", 422, "workflow"},
	    {"GET", "/api/v1/runs/00000000-0000-4000-8000-000000000000?verbose=1", 400, "verbose"},
	    {"GET", "/api/v1/runs/%ff", 422, "id"},
	    {"GET", "/api/v1/runs/00000000-0000-4000-8000-000000000000/artifacts/a%ffb", 422,
	     "name"},
	    {"GET", "/api/v1/runs/00000000-0000-4000-8000-000000000000/findings?sort=x", 400,
	     "sort"},
	    {"GET", "/api/v1/no%ffsuch", 404, ""},
	    {"GET", "/api/v1/runs?limit=2", 200, ""},
	    {"GET", "/api/v1/runs?", 200, ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct itest_resp r;
		call(cases[i].method, cases[i].path, 1, cases[i].status, &r);
		assert_non_null(r.json);
		assert_true(ff_utf8_valid(r.body, r.len));
		if (*cases[i].field)
			assert_string_equal(err_field(&r), cases[i].field);
		itest_resp_release(&r);
	}
	/* the key is judged first: an unknown parameter from a client without one is 401 */
	struct itest_resp r;
	call("GET", "/api/v1/runs?labels=x", 0, 401, &r);
	itest_resp_release(&r);
}

/* ?label=k=v, repeatable: the runs whose labels hold every pair given. */
static void label_filter(void **state)
{
	(void)state;
	char body[512], a[37], b[37];
	snprintf(body, sizeof(body),
		 "{\"workflow\":\"test-ok\",\"target\":\"%s\",\"labels\":{\"team\":"
		 "\"blue\",\"ci\":\"nightly\"}}",
		 target);
	assert_int_equal(itest_submit(&T, body, a), 202);
	snprintf(body, sizeof(body),
		 "{\"workflow\":\"test-ok\",\"target\":\"%s\",\"labels\":{\"team\":"
		 "\"blue\",\"ci\":\"pr=42\"}}",
		 target);
	assert_int_equal(itest_submit(&T, body, b), 202);
	static const struct {
		const char *query;
		int n;
	} cases[] = {
	    {"label=team=blue", 2},  {"label=team=blue&label=ci=nightly", 1},
	    {"label=ci=pr%3D42", 1}, /* the value is what follows the first '=' */
	    {"label=team=red", 0},   {"label=team=blue&label=team=red", 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[256];
		struct itest_resp r;
		snprintf(path, sizeof(path), "/api/v1/runs?limit=50&%s", cases[i].query);
		call("GET", path, 1, 200, &r);
		int n = cJSON_GetArraySize(cJSON_GetObjectItem(r.json, "runs"));
		if (n != cases[i].n)
			fail_msg("%s: %d runs, expected %d", cases[i].query, n, cases[i].n);
		itest_resp_release(&r);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(auth_required),
	    cmocka_unit_test(workflows),
	    cmocka_unit_test(upload_is_content_addressed),
	    cmocka_unit_test(upload_refusals),
	    cmocka_unit_test(submit_refusals),
	    cmocka_unit_test(reads_and_listing),
	    cmocka_unit_test(query_and_path_refusals),
	    cmocka_unit_test(label_filter),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

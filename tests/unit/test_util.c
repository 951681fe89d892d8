/* test_util — ids and digests, lists, utf-8 repair, the HTTP route matcher and status
 * mapping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ff_util.h"
#include "http.h"

static void uuids(void **state)
{
	(void)state;
	char a[37], b[37];
	ff_uuid_new(a);
	ff_uuid_new(b);
	assert_true(ff_uuid_valid(a));
	assert_string_not_equal(a, b);
	assert_true(ff_uuid_valid("0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f"));
	assert_false(ff_uuid_valid("0B9C2B0E-1D1A-4C55-9D59-1A2B3C4D5E6F")); /* not canonical */
	assert_false(ff_uuid_valid("0b9c2b0e1d1a4c559d591a2b3c4d5e6f"));
	assert_false(ff_uuid_valid("0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f0"));
	assert_false(ff_uuid_valid("0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6"));
	assert_false(ff_uuid_valid("../../etc/passwd"));
	assert_false(ff_uuid_valid(""));
	assert_false(ff_uuid_valid(NULL));
}

static void sha256(void **state)
{
	(void)state;
	char h[65];
	ff_sha256_hex("abc", 3, h);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(ff_sha256_hex_valid(h));
	h[3] = 'G';
	assert_false(ff_sha256_hex_valid(h));
	assert_false(ff_sha256_hex_valid("abc"));
	assert_false(ff_sha256_hex_valid(
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0"));
}

/* The published FNV-1a 64 vectors: names made from it (a kept volume's) stay the same. */
static void fnv1a64(void **state)
{
	(void)state;
	assert_true(ff_fnv1a64("") == 0xcbf29ce484222325ULL);
	assert_true(ff_fnv1a64("a") == 0xaf63dc4c8601ec8cULL);
	assert_true(ff_fnv1a64("foobar") == 0x85944171f73967e8ULL);
}

static void lists(void **state)
{
	(void)state;
	assert_true(ff_list_has("none", ',', "none"));
	assert_false(ff_list_has("none", ',', "host"));
	assert_true(ff_list_has("none,bridge,host", ',', "host"));
	assert_true(ff_list_has("bridge,none", ',', "none"));
	assert_false(ff_list_has("nonehost", ',', "none"));
	assert_false(ff_list_has("hos,bridge", ',', "host"));
	assert_false(ff_list_has("", ',', "none"));
	assert_false(ff_list_has(NULL, ' ', "limit"));
	assert_true(ff_list_has("state workflow limit", ' ', "limit"));
	assert_false(ff_list_has("state workflow limit", ' ', "work"));
}

static void utf8_sanitize(void **state)
{
	(void)state;
	char ok[] = "h\xc3\xa9llo \xe2\x82\xac", bad[] = "a\xff"
							 "b\xc3"
							 "c\xed\xa0\x80"
							 "d\xe2\x82";
	assert_string_equal(ff_utf8_sanitize(ok), "h\xc3\xa9llo \xe2\x82\xac");
	/* a stray byte, a cut sequence, a surrogate, a sequence cut by the end */
	assert_string_equal(ff_utf8_sanitize(bad), "a?b?c???d??");
	assert_true(ff_utf8_valid(bad, strlen(bad)));
}

static void routes(void **state)
{
	(void)state;
	static const struct {
		const char *pattern, *path;
		int match;
		const char *p0, *p1;
	} cases[] = {
	    {"/api/v1/runs", "/api/v1/runs", 1, NULL, NULL},
	    {"/api/v1/runs", "/api/v1/runs/", 0, NULL, NULL},
	    {"/api/v1/runs/{id}", "/api/v1/runs/abc", 1, "abc", NULL},
	    {"/api/v1/runs/{id}", "/api/v1/runs/", 0, NULL, NULL},
	    {"/api/v1/runs/{id}", "/api/v1/runs/abc/events", 0, NULL, NULL},
	    {"/api/v1/runs/{id}/events", "/api/v1/runs/abc/events", 1, "abc", NULL},
	    {"/api/v1/runs/{id}/artifacts/{name}", "/api/v1/runs/r1/artifacts/a.txt", 1, "r1",
	     "a.txt"},
	    {"/api/v1/runs/{id}/artifacts/{name}", "/api/v1/runs/r1/artifacts", 0, NULL, NULL},
	    /* {x*}: the rest of the path, an artifact in a subfolder */
	    {"/api/v1/runs/{id}/artifacts/{name*}", "/api/v1/runs/r1/artifacts/sub/x.txt", 1, "r1",
	     "sub/x.txt"},
	    {"/api/v1/runs/{id}/artifacts/{name*}", "/api/v1/runs/r1/artifacts/a.txt", 1, "r1",
	     "a.txt"},
	    {"/api/v1/runs/{id}/artifacts/{name*}", "/api/v1/runs/r1/artifacts/", 0, NULL, NULL},
	    {"/api/v1/runs/{id}/artifacts/{name*}", "/api/v1/runs/r1/artifacts", 0, NULL, NULL},
	    {"/api/v1/runs/{id}/artifacts/{name*}", "/api/v1/runs/r1/x/sub/x.txt", 0, NULL, NULL},
	    /* {x*} only as the last segment; elsewhere it is one segment like {x} */
	    {"/a/{x*}/b", "/a/1/2/b", 0, NULL, NULL},
	    {"/a/{x*}/b", "/a/1/b", 1, "1", NULL},
	    {"/healthz", "/healthzz", 0, NULL, NULL},
	    {"/healthz", "/", 0, NULL, NULL},
	    {"/healthz", "", 0, NULL, NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[128];
		const char *params[HTTP_MAX_PARAMS] = {0};
		snprintf(path, sizeof(path), "%s", cases[i].path);
		int m = http_route_match(cases[i].pattern, path, params);
		assert_int_equal(m, cases[i].match);
		if (m && cases[i].p0)
			assert_string_equal(params[0], cases[i].p0);
		if (m && cases[i].p1)
			assert_string_equal(params[1], cases[i].p1);
	}
}

static void statuses(void **state)
{
	(void)state;
	assert_int_equal(http_status_for(FF_EINVAL), 400);
	assert_int_equal(http_status_for(FF_EAUTH), 401);
	assert_int_equal(http_status_for(FF_ENOTFOUND), 404);
	assert_int_equal(http_status_for(FF_ECONFLICT), 409);
	assert_int_equal(http_status_for(FF_ETOOBIG), 413);
	assert_int_equal(http_status_for(FF_EVALIDATE), 422);
	assert_int_equal(http_status_for(FF_EUNAVAIL), 503);
	assert_int_equal(http_status_for(FF_EINTERNAL), 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(uuids),	cmocka_unit_test(sha256),	 cmocka_unit_test(lists),
	    cmocka_unit_test(fnv1a64),	cmocka_unit_test(utf8_sanitize), cmocka_unit_test(routes),
	    cmocka_unit_test(statuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_manifest — workflow manifests, parameter validation and the catalogue.
 *
 * Table-driven from tests/data/manifests/: each .json of valid/ must parse; each of invalid/ is
 * {"expect_field": "...", "expect_code": "...", "manifest": {...}} (or "manifest_text" for
 * input that is not JSON, or whose numbers cJSON's printer would round); each of params/ is
 * {"manifest": {...}, "cases": [{"params": ..., "expect": {...}} or {"params": ..., "expect_field":
 * "...", "expect_code": "..."}]}, where a case without "params" validates NULL (no parameters
 * given).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ff_catalog.h"
#include "ff_manifest.h"
#include "ff_params.h"
#include "ff_util.h"

#define MAX_FILES 256

static const char *data_dir(void)
{
	const char *d = getenv("FF_TEST_DATA");
	assert_non_null(d);
	return d;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	char *buf = malloc(FF_MANIFEST_MAX_BYTES + 1);
	assert_non_null(buf);
	size_t n = fread(buf, 1, FF_MANIFEST_MAX_BYTES, f);
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static cJSON *load_json(const char *path)
{
	char *text = slurp(path, NULL);
	cJSON *j = cJSON_Parse(text);
	if (!j)
		fail_msg("%s is not json", path);
	free(text);
	return j;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.json files of tests/data/manifests/<sub>, sorted; returns how many. */
static size_t list_json(const char *sub, char *names[MAX_FILES])
{
	char dir[PATH_MAX];
	size_t n = 0;
	snprintf(dir, sizeof(dir), "%s/manifests/%s", data_dir(), sub);
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *e; (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		assert_true(n < MAX_FILES);
		names[n] = malloc(strlen(dir) + len + 2);
		assert_non_null(names[n]);
		snprintf(names[n], strlen(dir) + len + 2, "%s/%s", dir, e->d_name);
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	return n;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
}

static struct ff_manifest *parse_ok(const char *text)
{
	struct ff_manifest *m = NULL;
	struct ff_err err = {0};
	if (ff_manifest_parse(text, strlen(text), &m, &err) < 0)
		fail_msg("parse failed: %s (field %s)", err.msg, err.field);
	assert_non_null(m);
	return m;
}

/* A message follows the conventions: non-empty, no trailing period. */
static void assert_message(const struct ff_err *err)
{
	size_t n = strlen(err->msg);
	assert_true(n > 0);
	assert_true(err->msg[n - 1] != '.');
}

/* ---- table-driven ---- */

static void valid_manifests(void **state)
{
	(void)state;
	char *names[MAX_FILES];
	size_t n = list_json("valid", names);
	assert_true(n >= 5);
	for (size_t i = 0; i < n; i++) {
		struct ff_manifest *m = NULL, *again = NULL;
		struct ff_err err = {0};
		if (ff_manifest_load_file(names[i], &m, &err) < 0)
			fail_msg("%s: %s (field %s)", names[i], err.msg, err.field);
		assert_string_equal(m->path, names[i]);
		/* What the API shows parses back to the same manifest. */
		cJSON *j = ff_manifest_to_json(m);
		assert_non_null(j);
		char *text = cJSON_PrintUnformatted(j);
		assert_int_equal(ff_manifest_parse(text, strlen(text), &again, &err), 0);
		cJSON *j2 = ff_manifest_to_json(again);
		if (!cJSON_Compare(j, j2, 1))
			fail_msg("%s: to_json does not round-trip", names[i]);
		/* The defaults of every parameter validate, unless one is required. */
		cJSON *out = NULL;
		const cJSON *req = cJSON_GetObjectItem(m->parameters, "required");
		if (cJSON_GetArraySize(req) == 0) {
			if (ff_params_validate(m->parameters, NULL, &out, &err) < 0)
				fail_msg("%s: defaults refused: %s", names[i], err.msg);
			cJSON_Delete(out);
		}
		cJSON_Delete(j);
		cJSON_Delete(j2);
		free(text);
		ff_manifest_free(m);
		ff_manifest_free(again);
	}
	free_names(names, n);
}

static void invalid_manifests(void **state)
{
	(void)state;
	char *names[MAX_FILES];
	size_t n = list_json("invalid", names);
	assert_true(n >= 50);
	for (size_t i = 0; i < n; i++) {
		cJSON *c = load_json(names[i]);
		const char *field = cJSON_GetStringValue(cJSON_GetObjectItem(c, "expect_field"));
		const char *code = cJSON_GetStringValue(cJSON_GetObjectItem(c, "expect_code"));
		const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(c, "manifest_text"));
		char *printed = NULL;
		assert_non_null(field);
		assert_non_null(code);
		if (!text) {
			const cJSON *mj = cJSON_GetObjectItem(c, "manifest");
			assert_non_null(mj);
			text = printed = cJSON_PrintUnformatted(mj);
		}
		struct ff_manifest *m = NULL;
		struct ff_err err = {0};
		int rc = ff_manifest_parse(text, strlen(text), &m, &err);
		if (rc == 0)
			fail_msg("%s: accepted", names[i]);
		assert_null(m);
		assert_int_equal(rc, err.code);
		if (strcmp(err.field, field) != 0 || strcmp(ff_err_name(rc), code) != 0)
			fail_msg("%s: got %s field '%s' (%s), expected %s field '%s'", names[i],
				 ff_err_name(rc), err.field, err.msg, code, field);
		assert_message(&err);
		free(printed);
		cJSON_Delete(c);
	}
	free_names(names, n);
}

static void param_tables(void **state)
{
	(void)state;
	char *names[MAX_FILES];
	size_t n = list_json("params", names), ncases = 0;
	assert_true(n >= 1);
	for (size_t i = 0; i < n; i++) {
		cJSON *t = load_json(names[i]);
		char *text = cJSON_PrintUnformatted(cJSON_GetObjectItem(t, "manifest"));
		struct ff_manifest *m = parse_ok(text);
		int k = 0;
		for (const cJSON *c = cJSON_GetObjectItem(t, "cases")->child; c; c = c->next, k++) {
			const cJSON *params = cJSON_GetObjectItem(c, "params");
			const cJSON *expect = cJSON_GetObjectItem(c, "expect");
			const char *field =
			    cJSON_GetStringValue(cJSON_GetObjectItem(c, "expect_field"));
			const char *code =
			    cJSON_GetStringValue(cJSON_GetObjectItem(c, "expect_code"));
			cJSON *out = NULL;
			struct ff_err err = {0};
			int rc = ff_params_validate(m->parameters, params, &out, &err);
			if (expect) {
				if (rc < 0)
					fail_msg("%s case %d: refused: %s", names[i], k, err.msg);
				if (!cJSON_Compare(out, expect, 1)) {
					char *got = cJSON_PrintUnformatted(out);
					fail_msg("%s case %d: got %s", names[i], k, got);
				}
			} else {
				assert_non_null(field);
				assert_non_null(code);
				if (rc == 0)
					fail_msg("%s case %d: accepted", names[i], k);
				assert_null(out);
				if (strcmp(err.field, field) != 0 ||
				    strcmp(ff_err_name(rc), code) != 0)
					fail_msg("%s case %d: got %s field '%s' (%s)", names[i], k,
						 ff_err_name(rc), err.field, err.msg);
				assert_message(&err);
			}
			cJSON_Delete(out);
			ncases++;
		}
		ff_manifest_free(m);
		free(text);
		cJSON_Delete(t);
	}
	assert_true(ncases >= 30);
	free_names(names, n);
}

/* ---- specific behaviour ---- */

static void defaults_and_normalisation(void **state)
{
	(void)state;
	struct ff_manifest *m = parse_ok("{\"name\":\"a\",\"version\":\"1\",\"image\":\"x\"}");
	assert_string_equal(m->name, "a");
	assert_string_equal(m->description, "");
	assert_int_equal(m->ncommand, 0);
	assert_int_equal(m->memory_mb, 512);
	assert_true(m->cpus == 1.0);
	assert_int_equal(m->pids, 256);
	assert_int_equal(m->timeout_s, 600);
	assert_int_equal(m->max_attempts, 1);
	assert_int_equal(m->backoff_s, 5);
	assert_false(m->retry_on_timeout);
	assert_string_equal(m->pool, "default");
	assert_string_equal(m->network, "none");
	assert_null(m->path);
	cJSON *want = cJSON_Parse("{\"type\":\"object\",\"additionalProperties\":false,"
				  "\"properties\":{},\"required\":[]}");
	assert_true(cJSON_Compare(m->parameters, want, 1));
	cJSON_Delete(want);
	ff_manifest_free(m);

	/* Shorthand properties gain the object schema around them; a partial resources
	 * object keeps the other defaults. */
	m = parse_ok("{\"name\":\"b\",\"version\":\"2\",\"image\":\"x\",\"command\":[\"a\",\"\"],"
		     "\"parameters\":{\"properties\":{\"n\":{\"type\":\"integer\",\"default\":2,"
		     "\"description\":\"d\"}}},\"resources\":{\"cpus\":0.5},\"retry\":"
		     "{\"max_attempts\":3}}");
	assert_int_equal(m->ncommand, 2);
	assert_string_equal(m->command[1], "");
	assert_true(m->cpus == 0.5);
	assert_int_equal(m->memory_mb, 512);
	assert_int_equal(m->max_attempts, 3);
	assert_int_equal(m->backoff_s, 5);
	want = cJSON_Parse("{\"type\":\"object\",\"additionalProperties\":false,\"properties\":"
			   "{\"n\":{\"type\":\"integer\",\"description\":\"d\",\"default\":2}},"
			   "\"required\":[]}");
	assert_true(cJSON_Compare(m->parameters, want, 1));
	cJSON_Delete(want);

	/* The API's view has exactly the fields openapi.json's Workflow lists. */
	static const char *const keys[] = {"name",    "version",    "description", "image",
					   "command", "parameters", "resources",   "retry",
					   "pool",    "network"};
	cJSON *j = ff_manifest_to_json(m);
	assert_int_equal(cJSON_GetArraySize(j), 10);
	for (size_t i = 0; i < 10; i++)
		assert_non_null(cJSON_GetObjectItemCaseSensitive(j, keys[i]));
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "resources"), "memory_mb")->valueint, 512);
	assert_int_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "retry"), "max_attempts")->valueint, 3);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "retry")), 3);
	assert_true(
	    cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "retry"), "on_timeout")));
	cJSON_Delete(j);
	assert_null(ff_manifest_to_json(NULL));
	ff_manifest_free(m);
	ff_manifest_free(NULL);
}

/* retry.on_timeout: absent is false; true and false are taken as given; anything else,
 * even what a lenient reader would call true, is refused naming the field. */
static void retry_on_timeout(void **state)
{
	(void)state;
	static const char head[] = "{\"name\":\"a\",\"version\":\"1\",\"image\":\"x\",\"retry\":";
	static const struct {
		const char *retry;
		int want; /* 0 or 1, or -1: refused */
	} cases[] = {
	    {"{}", 0},
	    {"{\"max_attempts\":2}", 0},
	    {"{\"on_timeout\":false}", 0},
	    {"{\"on_timeout\":true}", 1},
	    {"{\"max_attempts\":2,\"backoff_s\":1,\"on_timeout\":true}", 1},
	    {"{\"on_timeout\":1}", -1},
	    {"{\"on_timeout\":0}", -1},
	    {"{\"on_timeout\":\"true\"}", -1},
	    {"{\"on_timeout\":null}", -1},
	    {"{\"on_timeout\":[true]}", -1},
	    {"{\"on_timeout\":{}}", -1},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		struct ff_manifest *m = NULL;
		struct ff_err err = {0};
		snprintf(text, sizeof(text), "%s%s}", head, cases[i].retry);
		int rc = ff_manifest_parse(text, strlen(text), &m, &err);
		if (cases[i].want < 0) {
			if (rc == 0)
				fail_msg("%s: accepted", cases[i].retry);
			assert_int_equal(rc, FF_EVALIDATE);
			assert_string_equal(err.field, "retry.on_timeout");
			assert_non_null(strstr(err.msg, "retry.on_timeout"));
			assert_message(&err);
			assert_null(m);
			continue;
		}
		if (rc < 0)
			fail_msg("%s: %s (field %s)", cases[i].retry, err.msg, err.field);
		assert_int_equal(m->retry_on_timeout, cases[i].want);
		/* The API shows it, as a boolean, and what it shows parses back the same. */
		cJSON *j = ff_manifest_to_json(m);
		const cJSON *ot =
		    cJSON_GetObjectItem(cJSON_GetObjectItem(j, "retry"), "on_timeout");
		assert_true(cJSON_IsBool(ot));
		assert_int_equal(cJSON_IsTrue(ot), cases[i].want);
		char *printed = cJSON_PrintUnformatted(j);
		struct ff_manifest *again = parse_ok(printed);
		assert_int_equal(again->retry_on_timeout, cases[i].want);
		free(printed);
		cJSON_Delete(j);
		ff_manifest_free(again);
		ff_manifest_free(m);
	}
}

static void raw_input_refusals(void **state)
{
	(void)state;
	struct ff_manifest *m = NULL;
	struct ff_err err;
	static const char ok[] = "{\"name\":\"a\",\"version\":\"1\",\"image\":\"x\"}";

	/* Exactly len bytes are read: no terminator needed, none looked for. */
	char *exact = malloc(sizeof(ok) - 1);
	assert_non_null(exact);
	memcpy(exact, ok, sizeof(ok) - 1);
	assert_int_equal(ff_manifest_parse(exact, sizeof(ok) - 1, &m, &err), 0);
	ff_manifest_free(m);
	m = NULL;
	/* ... and a length short of the whole text is a truncated manifest. */
	assert_int_equal(ff_manifest_parse(exact, sizeof(ok) - 2, &m, &err), FF_EINVAL);
	free(exact);

	char nul[sizeof(ok) + 8];
	memcpy(nul, ok, sizeof(ok));
	memcpy(nul + sizeof(ok), "garbage", 8);
	assert_int_equal(ff_manifest_parse(nul, sizeof(nul), &m, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "nul"));
	assert_int_equal(ff_manifest_parse(NULL, 0, &m, &err), FF_EINVAL);
	assert_int_equal(ff_manifest_parse("", 0, &m, &err), FF_EINVAL);

	static const char bad_utf8[] =
	    "{\"name\":\"a\",\"version\":\"1\",\"image\":\"x\",\"description\":\"\xc3\x28\"}";
	assert_int_equal(ff_manifest_parse(bad_utf8, strlen(bad_utf8), &m, &err), FF_EVALIDATE);
	assert_string_equal(err.field, "description");
	static const char bad_cmd[] =
	    "{\"name\":\"a\",\"version\":\"1\",\"image\":\"x\",\"command\":[\"\xff\"]}";
	assert_int_equal(ff_manifest_parse(bad_cmd, strlen(bad_cmd), &m, &err), FF_EVALIDATE);
	assert_string_equal(err.field, "command");

	size_t big = FF_MANIFEST_MAX_BYTES + 1;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, ' ', big);
	assert_int_equal(ff_manifest_parse(huge, big, &m, &err), FF_ETOOBIG);
	free(huge);
	assert_null(m);
}

static void validate_refusals(void **state)
{
	(void)state;
	struct ff_err err;
	cJSON *out = NULL;
	struct ff_manifest *m =
	    parse_ok("{\"name\":\"a\",\"version\":\"1\",\"image\":\"x\",\"parameters\":"
		     "{\"properties\":{\"s\":{\"type\":\"string\"},\"i\":{\"type\":"
		     "\"integer\"}}}}");
	/* cJSON keeps both of a duplicated key; which one counts would be a guess. */
	cJSON *dup = cJSON_Parse("{\"s\":\"a\",\"s\":\"b\"}");
	assert_int_equal(ff_params_validate(m->parameters, dup, &out, &err), FF_EVALIDATE);
	assert_string_equal(err.field, "parameters.s");
	cJSON_Delete(dup);

	/* Without maxLength a string is still capped, and must be UTF-8. */
	cJSON *p = cJSON_CreateObject();
	char *longs = malloc(FF_MANIFEST_STRING_MAX + 2);
	assert_non_null(longs);
	memset(longs, 'x', FF_MANIFEST_STRING_MAX + 1);
	longs[FF_MANIFEST_STRING_MAX + 1] = '\0';
	cJSON_AddStringToObject(p, "s", longs);
	assert_int_equal(ff_params_validate(m->parameters, p, &out, &err), FF_EVALIDATE);
	assert_string_equal(err.field, "parameters.s");
	longs[FF_MANIFEST_STRING_MAX] = '\0';
	cJSON_ReplaceItemInObject(p, "s", cJSON_CreateString(longs));
	assert_int_equal(ff_params_validate(m->parameters, p, &out, &err), 0);
	cJSON_Delete(out);
	out = NULL;
	cJSON_ReplaceItemInObject(p, "s", cJSON_CreateString("\xed\xa0\x80")); /* a surrogate */
	assert_int_equal(ff_params_validate(m->parameters, p, &out, &err), FF_EVALIDATE);
	free(longs);
	cJSON_Delete(p);

	/* Integers beyond 2^53 are not exact as doubles: refused. */
	p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "i", 9007199254740992.0 * 4);
	assert_int_equal(ff_params_validate(m->parameters, p, &out, &err), FF_EVALIDATE);
	assert_string_equal(err.field, "parameters.i");
	cJSON_ReplaceItemInObject(p, "i", cJSON_CreateNumber(-9007199254740991.0));
	assert_int_equal(ff_params_validate(m->parameters, p, &out, &err), 0);
	cJSON_Delete(out);
	cJSON_Delete(p);

	/* Optional parameters without a default stay absent. */
	out = NULL;
	assert_int_equal(ff_params_validate(m->parameters, NULL, &out, &err), 0);
	assert_int_equal(cJSON_GetArraySize(out), 0);
	cJSON_Delete(out);
	assert_int_equal(ff_params_validate(NULL, NULL, &out, &err), FF_EINVAL);
	ff_manifest_free(m);
}

static void predicates(void **state)
{
	(void)state;
	assert_true(ff_manifest_name_valid("a"));
	assert_true(ff_manifest_name_valid("0x.y_z-1"));
	assert_false(ff_manifest_name_valid(""));
	assert_false(ff_manifest_name_valid(".a"));
	assert_false(ff_manifest_name_valid("_a"));
	assert_false(ff_manifest_name_valid("a/b"));
	assert_false(ff_manifest_name_valid("aB"));
	assert_false(ff_manifest_name_valid(NULL));
	char s[80];
	memset(s, 'a', sizeof(s));
	s[64] = '\0';
	assert_true(ff_manifest_name_valid(s));
	assert_true(ff_manifest_param_name_valid(s));
	s[64] = 'a';
	s[65] = '\0';
	assert_false(ff_manifest_name_valid(s));
	assert_false(ff_manifest_param_name_valid(s));
	assert_true(ff_manifest_param_name_valid("a_1"));
	assert_false(ff_manifest_param_name_valid("1a"));
	assert_false(ff_manifest_param_name_valid("_a"));
	assert_false(ff_manifest_param_name_valid("a.b"));
	assert_true(ff_manifest_pool_valid("gpu-1_x"));
	assert_true(ff_manifest_pool_valid("-"));
	assert_false(ff_manifest_pool_valid(""));
	assert_false(ff_manifest_pool_valid("a.b"));
	assert_false(ff_manifest_pool_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")); /* 33 */
	assert_true(ff_manifest_pool_valid("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));   /* 32 */
	assert_true(ff_manifest_network_valid("none"));
	assert_true(ff_manifest_network_valid("bridge"));
	assert_true(ff_manifest_network_valid("host"));
	assert_false(ff_manifest_network_valid("None"));
	assert_false(ff_manifest_network_valid("container:x"));
	assert_false(ff_manifest_network_valid(NULL));
	assert_true(ff_manifest_version_valid("1.0.0-rc.1+build"));
	assert_false(ff_manifest_version_valid("-1"));
	assert_true(ff_manifest_image_valid("registry.local:5000/ff/x@sha256:abc"));
	assert_false(ff_manifest_image_valid("x y"));
	assert_false(ff_manifest_image_valid("/x"));
	assert_false(ff_manifest_image_valid("x&y"));

	static const struct {
		const char *s;
		int ok;
	} utf8[] = {
	    {"plain", 1},	 {"\xc3\xa9", 1},
	    {"\xe2\x82\xac", 1}, {"\xf0\x9f\x94\x91", 1},
	    {"\xc3", 0},	 {"\xc3\x28", 0},
	    {"\xc0\xaf", 0},	 {"\xe0\x80\xaf", 0},	  /* overlong */
	    {"\xed\xa0\x80", 0}, {"\xf4\x90\x80\x80", 0}, /* surrogate, > U+10FFFF */
	    {"\xff", 0},	 {"\x80", 0},
	};
	for (size_t i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++)
		if (ff_utf8_valid(utf8[i].s, strlen(utf8[i].s)) != (bool)utf8[i].ok)
			fail_msg("utf8 case %zu", i);
	assert_false(ff_utf8_valid("a\0b", 3));
}

/* ---- files and the catalogue ---- */

/* A temporary tree for catalogue tests, removed at the end. */
struct tree {
	char root[64];
	char paths[32][PATH_MAX];
	size_t n; /* paths to remove, in reverse */
};

static void tree_add(struct tree *t, const char *rel)
{
	char p[PATH_MAX];
	assert_true(t->n < 32);
	snprintf(p, sizeof(p), "%s/%s", t->root, rel);
	memcpy(t->paths[t->n], p, sizeof(p));
}

static void tree_mkdir(struct tree *t, const char *rel)
{
	tree_add(t, rel);
	assert_int_equal(mkdir(t->paths[t->n], 0755), 0);
	t->n++;
}

static void tree_write(struct tree *t, const char *rel, const char *text)
{
	tree_add(t, rel);
	FILE *f = fopen(t->paths[t->n], "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	t->n++;
}

static void tree_unlink(struct tree *t, const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", t->root, rel);
	assert_int_equal(unlink(p), 0);
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->paths[i], p))
			t->paths[i][0] = '\0';
}

static void tree_remove(struct tree *t)
{
	while (t->n--) {
		if (t->paths[t->n][0] && remove(t->paths[t->n]) != 0)
			fail_msg("cannot remove %s: %s", t->paths[t->n], strerror(errno));
	}
	assert_int_equal(rmdir(t->root), 0);
}

static char *manifest_text(const char *name)
{
	static char buf[256];
	snprintf(buf, sizeof(buf), "{\"name\":\"%s\",\"version\":\"1\",\"image\":\"img/%s\"}", name,
		 name);
	return buf;
}

static void load_file_errors(void **state)
{
	(void)state;
	struct ff_manifest *m = NULL;
	struct ff_err err;
	assert_int_equal(ff_manifest_load_file("/nonexistent/workflow.json", &m, &err),
			 FF_ENOTFOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/workflow.json"));
	assert_int_equal(ff_manifest_load_file("/tmp", &m, &err), FF_EINVAL);
	assert_int_equal(ff_manifest_load_file(NULL, &m, &err), FF_EINVAL);
	assert_null(m);
}

static void catalog_tree(void **state)
{
	(void)state;
	struct tree t = {.n = 0};
	struct ff_catalog *c = NULL;
	struct ff_err err = {0};
	char dirs[512];

	snprintf(t.root, sizeof(t.root), "/tmp/ff-test-catalog-XXXXXX");
	assert_non_null(mkdtemp(t.root));
	tree_mkdir(&t, "a");
	tree_mkdir(&t, "b");
	tree_mkdir(&t, "a/zeta");
	tree_write(&t, "a/zeta/workflow.json", manifest_text("zeta"));
	tree_mkdir(&t, "a/alpha");
	tree_write(&t, "a/alpha/workflow.json", manifest_text("alpha"));
	tree_mkdir(&t, "a/no-manifest"); /* skipped */
	tree_write(&t, "a/no-manifest/README", "x");
	tree_write(&t, "a/file.json", "not a directory"); /* skipped */
	tree_mkdir(&t, "a/.hidden");			  /* skipped, broken or not */
	tree_write(&t, "a/.hidden/workflow.json", "{");
	tree_mkdir(&t, "b/mid");
	tree_write(&t, "b/mid/workflow.json", manifest_text("mid"));

	/* Empty components are ignored. */
	snprintf(dirs, sizeof(dirs), ":%s/a::%s/b:", t.root, t.root);
	if (ff_catalog_load(dirs, &c, &err) < 0)
		fail_msg("load: %s", err.msg);
	assert_int_equal(ff_catalog_count(c), 3);
	assert_string_equal(ff_catalog_at(c, 0)->name, "alpha");
	assert_string_equal(ff_catalog_at(c, 1)->name, "mid");
	assert_string_equal(ff_catalog_at(c, 2)->name, "zeta");
	assert_null(ff_catalog_at(c, 3));
	assert_non_null(strstr(ff_catalog_at(c, 1)->path, "/b/mid/workflow.json"));
	assert_ptr_equal(ff_catalog_find(c, "zeta"), ff_catalog_at(c, 2));
	assert_ptr_equal(ff_catalog_find(c, "alpha"), ff_catalog_at(c, 0));
	assert_null(ff_catalog_find(c, "nope"));
	assert_null(ff_catalog_find(c, "aaa"));
	assert_null(ff_catalog_find(c, "zzz"));
	assert_null(ff_catalog_find(c, NULL));
	ff_catalog_free(c);
	c = NULL;

	/* Only an empty list: an empty catalogue. */
	assert_int_equal(ff_catalog_load("::", &c, &err), 0);
	assert_int_equal(ff_catalog_count(c), 0);
	assert_null(ff_catalog_find(c, "alpha"));
	ff_catalog_free(c);
	c = NULL;

	/* A missing directory fails the load. */
	snprintf(dirs, sizeof(dirs), "%s/a:%s/missing", t.root, t.root);
	assert_int_equal(ff_catalog_load(dirs, &c, &err), FF_ENOTFOUND);
	assert_non_null(strstr(err.msg, "/missing"));
	assert_null(c);

	/* One name in two directories: refused, naming both files. */
	tree_mkdir(&t, "b/zeta2");
	tree_write(&t, "b/zeta2/workflow.json", manifest_text("zeta"));
	snprintf(dirs, sizeof(dirs), "%s/a:%s/b", t.root, t.root);
	assert_int_equal(ff_catalog_load(dirs, &c, &err), FF_ECONFLICT);
	assert_non_null(strstr(err.msg, "/a/zeta/workflow.json"));
	assert_non_null(strstr(err.msg, "/b/zeta2/workflow.json"));
	assert_null(c);
	/* ... and one directory listed twice is the same thing. */
	snprintf(dirs, sizeof(dirs), "%s/a:%s/a", t.root, t.root);
	assert_int_equal(ff_catalog_load(dirs, &c, &err), FF_ECONFLICT);
	tree_unlink(&t, "b/zeta2/workflow.json");

	/* A broken manifest fails the load, naming the file and the field. */
	tree_mkdir(&t, "b/broken");
	tree_write(&t, "b/broken/workflow.json",
		   "{\"name\":\"broken\",\"version\":\"1\",\"image\":\"x\",\"resources\":"
		   "{\"memory_mb\":1}}");
	snprintf(dirs, sizeof(dirs), "%s/a:%s/b", t.root, t.root);
	assert_int_equal(ff_catalog_load(dirs, &c, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "/b/broken/workflow.json"));
	assert_string_equal(err.field, "resources.memory_mb");
	assert_null(c);
	tree_unlink(&t, "b/broken/workflow.json");
	tree_write(&t, "b/broken/workflow.json", "{\"name\":");
	assert_int_equal(ff_catalog_load(dirs, &c, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "/b/broken/workflow.json"));
	assert_null(c);

	assert_int_equal(ff_catalog_load(NULL, &c, &err), FF_EINVAL);
	assert_int_equal(ff_catalog_count(NULL), 0);
	assert_null(ff_catalog_at(NULL, 0));
	ff_catalog_free(NULL);
	tree_remove(&t);
}

/* Image pins: listed images get their digest, others and already pinned ones stay; a bad
 * line is refused with its number. */
static void catalog_pins(void **state)
{
	(void)state;
	struct tree t = {.n = 0};
	struct ff_catalog *c = NULL;
	struct ff_err err = {0};
	char dir[128], pins[128];
	size_t pinned = 99;
	const char *d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
	snprintf(t.root, sizeof(t.root), "/tmp/ff-test-pins-XXXXXX");
	assert_non_null(mkdtemp(t.root));
	tree_mkdir(&t, "a");
	tree_write(&t, "a/workflow.json", manifest_text("a"));
	tree_mkdir(&t, "b");
	tree_write(&t, "b/workflow.json", manifest_text("b"));
	tree_mkdir(&t, "c");
	tree_write(&t, "c/workflow.json",
		   "{\"name\":\"c\",\"version\":\"1\",\"image\":\"img/c@sha256:"
		   "2222222222222222222222222222222222222222222222222222222222222222\"}");
	char text[512];
	snprintf(text, sizeof(text), "# pins\n\nimg/a %s\nimg/c %s\nimg/elsewhere %s\n", d1, d1,
		 d1);
	tree_write(&t, "pins", text);
	tree_write(&t, "bad", "img/a sha256:12\n");
	snprintf(dir, sizeof(dir), "%s", t.root);
	assert_int_equal(ff_catalog_load(dir, &c, &err), 0);
	snprintf(pins, sizeof(pins), "%s/pins", t.root);
	assert_int_equal(ff_catalog_pin(c, pins, &pinned, &err), 0);
	assert_int_equal(pinned, 1);
	char want[128];
	snprintf(want, sizeof(want), "img/a@%s", d1);
	assert_string_equal(ff_catalog_find(c, "a")->image, want);
	assert_string_equal(ff_catalog_find(c, "b")->image, "img/b");
	assert_non_null(strstr(ff_catalog_find(c, "c")->image, "@sha256:2222"));
	snprintf(pins, sizeof(pins), "%s/bad", t.root);
	assert_int_equal(ff_catalog_pin(c, pins, NULL, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "bad:1"));
	snprintf(pins, sizeof(pins), "%s/none", t.root);
	assert_int_equal(ff_catalog_pin(c, pins, NULL, &err), FF_ENOTFOUND);
	ff_catalog_free(c);
	tree_remove(&t);
}

/* The test workflows the integration tests run load, and behave as they expect. */
static void catalog_test_workflows(void **state)
{
	(void)state;
	char dirs[PATH_MAX];
	struct ff_catalog *c = NULL;
	struct ff_err err = {0};
	snprintf(dirs, sizeof(dirs), "%s/../workflows", data_dir());
	if (ff_catalog_load(dirs, &c, &err) < 0)
		fail_msg("%s", err.msg);
	assert_true(ff_catalog_count(c) >= 5);
	for (size_t i = 1; i < ff_catalog_count(c); i++)
		assert_true(strcmp(ff_catalog_at(c, i - 1)->name, ff_catalog_at(c, i)->name) < 0);
	const struct ff_manifest *m = ff_catalog_find(c, "test-ok");
	assert_non_null(m);
	assert_int_equal(m->memory_mb, 64);
	cJSON *p = cJSON_Parse("{\"greeting\":\"bonjour\"}");
	cJSON *out = NULL;
	assert_int_equal(ff_params_validate(m->parameters, p, &out, &err), 0);
	assert_string_equal(cJSON_GetObjectItem(out, "greeting")->valuestring, "bonjour");
	assert_int_equal(cJSON_GetObjectItem(out, "depth")->valueint, 3);
	assert_string_equal(cJSON_GetObjectItem(out, "mode")->valuestring, "fast");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(out, "verbose")));
	cJSON_Delete(out);
	cJSON_Delete(p);
	/* it_reliability_retry: one retried on timeout, one not */
	m = ff_catalog_find(c, "test-timeout-retry");
	assert_non_null(m);
	assert_true(m->retry_on_timeout);
	assert_int_equal(m->max_attempts, 2);
	assert_int_equal(m->timeout_s, 3);
	assert_false(ff_catalog_find(c, "test-sleep")->retry_on_timeout);
	ff_catalog_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(valid_manifests),	      cmocka_unit_test(invalid_manifests),
	    cmocka_unit_test(param_tables),	      cmocka_unit_test(defaults_and_normalisation),
	    cmocka_unit_test(retry_on_timeout),	      cmocka_unit_test(raw_input_refusals),
	    cmocka_unit_test(validate_refusals),      cmocka_unit_test(predicates),
	    cmocka_unit_test(load_file_errors),	      cmocka_unit_test(catalog_tree),
	    cmocka_unit_test(catalog_test_workflows), cmocka_unit_test(catalog_pins),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

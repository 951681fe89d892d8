/* test_sarif — SARIF normalisation: table-driven from tests/data/sarif/<name>.sarif, each with
 * the findings it must give in <name>.expect.json; then fingerprint stability, the findings
 * cap, and hostile strings (bad UTF-8, huge descriptions). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>

#include "ff_sarif.h"

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;
	assert_non_null(f);
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 4096;
			buf = realloc(buf, cap + 1);
			assert_non_null(buf);
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r > 0);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static char *data_path(const char *name)
{
	const char *dir = getenv("FF_TEST_DATA");
	char *p = NULL;
	assert_non_null(dir);
	assert_true(asprintf(&p, "%s/sarif/%s", dir, name) > 0);
	return p;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_one(const char *name)
{
	size_t len, elen;
	char *path = data_path(name);
	char *log = slurp(path, &len);
	size_t base = strlen(name) - strlen(".sarif");
	char *epath = NULL;
	assert_true(
	    asprintf(&epath, "%.*s.expect.json", (int)(strlen(path) - strlen(".sarif")), path) > 0);
	char *etext = slurp(epath, &elen);
	cJSON *exp = cJSON_Parse(etext);
	assert_non_null(exp);

	struct ff_findings f = {0};
	struct ff_err err = {0};
	const cJSON *mx = cJSON_GetObjectItem(exp, "max_findings");
	int rc = ff_sarif_normalise(log, len, mx ? (size_t)mx->valuedouble : 0, &f, &err);
	print_message("%-24.*s rc=%d %s n=%zu\n", (int)base, name, rc, err.msg, f.n);

	const cJSON *e_err = cJSON_GetObjectItem(exp, "error");
	if (e_err) {
		assert_int_not_equal(rc, 0);
		assert_string_equal(ff_err_name(rc), e_err->valuestring);
		assert_true(err.msg[0] != '\0');
		assert_int_equal(f.n, 0);
		assert_null(f.items);
		goto out;
	}
	assert_int_equal(rc, 0);
	static const char *const levels[] = {"error", "warning", "note", "none"};
	const cJSON *counts = cJSON_GetObjectItem(exp, "counts");
	for (int i = 0; i < 4; i++)
		assert_int_equal(f.count_by_level[i],
				 cJSON_GetObjectItem(counts, levels[i])->valueint);
	const cJSON *items = cJSON_GetObjectItem(exp, "findings");
	assert_int_equal(f.n, cJSON_GetArraySize(items));
	size_t i = 0;
	const cJSON *x;
	cJSON_ArrayForEach(x, items)
	{
		const struct ff_finding *g = &f.items[i++];
		const cJSON *p = cJSON_GetObjectItem(x, "path");
		assert_string_equal(g->rule_id, cJSON_GetObjectItem(x, "rule_id")->valuestring);
		assert_string_equal(g->level, cJSON_GetObjectItem(x, "level")->valuestring);
		assert_string_equal(g->message, cJSON_GetObjectItem(x, "message")->valuestring);
		if (cJSON_IsNull(p))
			assert_null(g->path);
		else
			assert_string_equal(g->path, p->valuestring);
		assert_int_equal(g->start_line, cJSON_GetObjectItem(x, "start_line")->valueint);
		assert_int_equal(g->end_line, cJSON_GetObjectItem(x, "end_line")->valueint);
		assert_string_equal(g->fingerprint,
				    cJSON_GetObjectItem(x, "fingerprint")->valuestring);
	}
out:
	ff_findings_release(&f);
	cJSON_Delete(exp);
	free(etext);
	free(epath);
	free(log);
	free(path);
}

static void table(void **state)
{
	(void)state;
	char *dir = data_path("");
	DIR *d = opendir(dir);
	struct dirent *de;
	char *names[64];
	size_t n = 0;
	assert_non_null(d);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (l > 6 && strcmp(de->d_name + l - 6, ".sarif") == 0) {
			assert_true(n < 64);
			names[n++] = strdup(de->d_name);
		}
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_str);
	assert_true(n >= 13); /* the table is really there */
	for (size_t i = 0; i < n; i++) {
		check_one(names[i]);
		free(names[i]);
	}
	free(dir);
}

static void fingerprints_stable(void **state)
{
	(void)state;
	size_t len;
	char *path = data_path("bandit.sarif");
	char *log = slurp(path, &len);
	struct ff_findings a = {0}, b = {0};
	struct ff_err err;
	assert_int_equal(ff_sarif_normalise(log, len, 0, &a, &err), 0);
	assert_int_equal(ff_sarif_normalise(log, len, 0, &b, &err), 0);
	assert_int_equal(a.n, 3);
	assert_int_equal(b.n, 3);
	for (size_t i = 0; i < a.n; i++) {
		assert_string_equal(a.items[i].fingerprint, b.items[i].fingerprint);
		assert_int_equal(strlen(a.items[i].fingerprint), 64);
		for (size_t j = 0; j < i; j++) /* same rule and message, other lines */
			assert_string_not_equal(a.items[i].fingerprint, a.items[j].fingerprint);
	}
	ff_findings_release(&a);
	ff_findings_release(&b);
	free(log);
	free(path);
}

static void cap(void **state)
{
	(void)state;
	size_t len;
	char *path = data_path("default_levels.sarif");
	char *log = slurp(path, &len);
	struct ff_findings all = {0}, few = {0};
	struct ff_err err;
	assert_int_equal(ff_sarif_normalise(log, len, 0, &all, &err), 0);
	assert_int_equal(ff_sarif_normalise(log, len, 3, &few, &err), 0);
	assert_int_equal(all.n, 9);
	assert_int_equal(few.n, 3);
	size_t total = 0;
	for (int i = 0; i < 4; i++) {
		assert_int_equal(few.count_by_level[i], all.count_by_level[i]);
		total += few.count_by_level[i];
	}
	assert_int_equal(total, 9);
	for (size_t i = 0; i < few.n; i++) {
		assert_string_equal(few.items[i].rule_id, all.items[i].rule_id);
		assert_string_equal(few.items[i].fingerprint, all.items[i].fingerprint);
	}
	ff_findings_release(&all);
	ff_findings_release(&few);
	/* release is idempotent and NULL-safe */
	ff_findings_release(&all);
	ff_findings_release(NULL);
	free(log);
	free(path);
}

static void hostile_strings(void **state)
{
	(void)state;
	struct ff_findings f = {0};
	struct ff_err err;
	/* a byte that is not UTF-8, an overlong '/', a lone surrogate (raw bytes in the JSON) */
	static const char bad[] =
	    "{\"version\":\"2.1.0\",\"runs\":[{\"results\":[{\"ruleId\":\"r\\u00e9\xff\","
	    "\"message\":{\"text\":\"a\xc0\xaf"
	    "b\xed\xa0\x80"
	    "c\"},\"locations\":[{"
	    "\"physicalLocation\":{\"artifactLocation\":{\"uri\":\"x%FF.c\"}}}]}]}]}";
	assert_int_equal(ff_sarif_normalise(bad, strlen(bad), 0, &f, &err), 0);
	assert_int_equal(f.n, 1);
	assert_string_equal(f.items[0].rule_id, "r\xc3\xa9\xef\xbf\xbd");
	assert_string_equal(f.items[0].message, "a\xef\xbf\xbd\xef\xbf\xbd"
						"b\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
						"c");
	assert_string_equal(f.items[0].path, "x\xef\xbf\xbd.c");
	ff_findings_release(&f);

	/* one long description behind many results: every message is bounded */
	size_t big = 1 << 20, nres = 200;
	char *log = malloc(big + nres * 32 + 256);
	size_t n =
	    (size_t)sprintf(log, "{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":"
				 "{\"rules\":[{\"id\":\"R\",\"shortDescription\":{\"text\":\"");
	memset(log + n, 'x', big);
	n += big;
	n += (size_t)sprintf(log + n, "\"}}]}},\"results\":[");
	for (size_t i = 0; i < nres; i++)
		n += (size_t)sprintf(log + n, "%s{\"ruleIndex\":0}", i ? "," : "");
	n += (size_t)sprintf(log + n, "]}]}");
	assert_int_equal(ff_sarif_normalise(log, n, 0, &f, &err), 0);
	assert_int_equal(f.n, nres);
	assert_true(strlen(f.items[0].message) <= 16384);
	assert_true(strlen(f.items[0].message) > 1000);
	assert_string_equal(f.items[nres - 1].rule_id, "R");
	ff_findings_release(&f);
	free(log);

	/* len is respected: nothing past it is read */
	static const char twice[] = "{\"version\":\"2.1.0\",\"runs\":[]}GARBAGE";
	assert_int_equal(ff_sarif_normalise(twice, strlen(twice) - 7, 0, &f, &err), 0);
	assert_int_equal(ff_sarif_normalise(twice, strlen(twice), 0, &f, &err), FF_EVALIDATE);
	assert_int_equal(ff_sarif_normalise(twice, 10, 0, &f, &err), FF_EVALIDATE);
	assert_int_equal(ff_sarif_normalise("", 0, 0, &f, &err), FF_EVALIDATE);
	assert_int_equal(ff_sarif_normalise(NULL, 0, 0, &f, &err), FF_EVALIDATE);
	/* version present but not a string */
	static const char num[] = "{\"version\":2.1,\"runs\":[]}";
	assert_int_equal(ff_sarif_normalise(num, strlen(num), 0, &f, &err), FF_EVALIDATE);
	assert_string_equal(err.field, "version");
}

/* One result with this location, normalised; the caller releases f. */
static void one_location(const char *uri, const char *region, struct ff_findings *f)
{
	struct ff_err err;
	char log[1024];
	int n = snprintf(log, sizeof(log),
			 "{\"version\":\"2.1.0\",\"runs\":[{\"results\":[{\"ruleId\":\"r\","
			 "\"message\":{\"text\":\"m\"},\"locations\":[{\"physicalLocation\":{"
			 "\"artifactLocation\":{\"uri\":\"%s\"},\"region\":%s}}]}]}]}",
			 uri, region);
	assert_true(n > 0 && (size_t)n < sizeof(log));
	assert_int_equal(ff_sarif_normalise(log, (size_t)n, 0, f, &err), 0);
	assert_int_equal(f->n, 1);
}

/* Paths are normalised and confined to the target: one that is absolute elsewhere or climbs
 * out is not kept as a path (the finding is, marked); lines fit the int columns. */
static void paths_confined(void **state)
{
	(void)state;
	static const struct {
		const char *uri, *path; /* NULL: outside the target */
	} cases[] = {
	    {"src/a.c", "src/a.c"},
	    {"./src/./a.c", "src/a.c"},
	    {"src//a.c", "src/a.c"},
	    {"src/lib/../a.c", "src/a.c"},
	    {"file:///target/src/../a.c", "a.c"},
	    {"/target/./x/y/..", "x"},
	    {"a/..", ""}, /* the target itself: no path */
	    {"../../../etc/shadow", NULL},
	    {"src/../../x", NULL},
	    {"%2e%2e/%2e%2e/etc/passwd", NULL},
	    {"a%2F..%2F..%2Fb", NULL},
	    {"/etc/passwd", NULL},
	    {"file:///etc/passwd", NULL},
	    {"file://host/etc/passwd", NULL},
	    {"/target/../etc/passwd", NULL},
	    {"/targetx/a.c", NULL},
	    {"..x/a.c", "..x/a.c"}, /* a name that starts with dots is no ".." */
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ff_findings f = {0};
		one_location(cases[i].uri, "{}", &f);
		const struct ff_finding *x = &f.items[0];
		if (!cases[i].path) {
			assert_null(x->path);
			assert_int_equal(f.paths_outside, 1);
			char want[300];
			snprintf(want, sizeof(want), "(path outside the target, not kept: %s) m",
				 cases[i].uri);
			assert_string_equal(x->message, want);
		} else {
			if (*cases[i].path)
				assert_string_equal(x->path, cases[i].path);
			else
				assert_null(x->path);
			assert_int_equal(f.paths_outside, 0);
			assert_string_equal(x->message, "m");
		}
		ff_findings_release(&f);
	}

	static const struct {
		const char *region;
		long start, end;
	} lines[] = {
	    {"{\"startLine\":3000000000}", 2147483647, 2147483647},
	    {"{\"startLine\":1e300,\"endLine\":1e301}", 2147483647, 2147483647},
	    {"{\"startLine\":2147483647}", 2147483647, 2147483647},
	    {"{\"startLine\":7,\"endLine\":99999999999}", 7, 2147483647},
	    {"{\"startLine\":0}", 0, 0},
	    {"{\"startLine\":-3000000000}", 0, 0},
	    {"{\"startLine\":12,\"endLine\":3}", 12, 12},
	};
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		struct ff_findings f = {0};
		one_location("a.c", lines[i].region, &f);
		assert_int_equal(f.items[0].start_line, lines[i].start);
		assert_int_equal(f.items[0].end_line, lines[i].end);
		ff_findings_release(&f);
	}

	/* a \u0000 escape never puts a NUL inside a kept string */
	struct ff_findings f = {0};
	one_location("a\\u0000/../../../etc/x", "{}", &f);
	assert_string_equal(f.items[0].path, "a");
	ff_findings_release(&f);

	/* A path longer than 4096 bytes is not kept: cut there, "aaa/..b" would be "aaa/.." (a
	 * reproducer from fuzz_sarif: corpus/sarif/long_path.json). */
	static const char *const longs[] = {"/..b", "/.x", "/x"};
	for (size_t i = 0; i < sizeof(longs) / sizeof(longs[0]); i++) {
		char uri[4200], log[4600];
		struct ff_err err;
		memset(uri, 'a', 4093);
		snprintf(uri + 4093, sizeof(uri) - 4093, "%s", longs[i]);
		int n = snprintf(log, sizeof(log),
				 "{\"version\":\"2.1.0\",\"runs\":[{\"results\":[{\"ruleId\":"
				 "\"r\",\"locations\":[{\"physicalLocation\":{\"artifactLocation\":"
				 "{\"uri\":\"%s\"}}}]}]}]}",
				 uri);
		assert_int_equal(ff_sarif_normalise(log, (size_t)n, 0, &f, &err), 0);
		if (strlen(uri) > 4096)
			assert_null(f.items[0].path);
		else
			assert_string_equal(f.items[0].path, uri);
		assert_int_equal(f.paths_outside, 0);
		ff_findings_release(&f);
	}
}

/* The pre-scan: counts every value, keys and containers included, and the depth; strings
 * with escapes and brackets inside do not confuse it. */
static void prescan_limits(void **state)
{
	(void)state;
	struct ff_err err;
	const char *log =
	    "{\"version\": \"2.1.0\", \"runs\": [1, -2.5e3, true, null, \"a\\\"]{\"]}";
	/* object, 2 keys, "2.1.0", array, 5 elements: 10 values, depth 2 */
	assert_int_equal(ff_sarif_prescan(log, strlen(log), 10, 2, &err), 0);
	assert_int_equal(ff_sarif_prescan(log, strlen(log), 9, 2, &err), FF_ETOOBIG);
	assert_non_null(strstr(err.msg, "more than 9 JSON values"));
	assert_non_null(strstr(err.msg, "FF_SARIF_MAX_VALUES"));
	assert_int_equal(ff_sarif_prescan(log, strlen(log), 10, 1, &err), FF_ETOOBIG);
	assert_non_null(strstr(err.msg, "FF_SARIF_MAX_DEPTH"));

	/* a big flat array: refused by count, without allocating */
	size_t n = 2000001;
	char *big = malloc(n * 2 + 2);
	big[0] = '[';
	for (size_t i = 0; i < n; i++) {
		big[1 + 2 * i] = '0';
		big[2 + 2 * i] = i + 1 < n ? ',' : ']';
	}
	big[n * 2 + 1] = '\0';
	assert_int_equal(ff_sarif_prescan(big, strlen(big), 0, 0, &err), FF_ETOOBIG);
	assert_int_equal(ff_sarif_prescan(big, strlen(big), n + 1, 0, &err), 0);
	free(big);

	/* deep nesting */
	char deep[200];
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	assert_int_equal(ff_sarif_prescan(deep, 200, 0, 0, &err), FF_ETOOBIG);
	assert_int_equal(ff_sarif_prescan(deep, 200, 0, 100, &err), 0);
}

static void level_index(void **state)
{
	(void)state;
	assert_int_equal(ff_sarif_level_index("error"), 0);
	assert_int_equal(ff_sarif_level_index("warning"), 1);
	assert_int_equal(ff_sarif_level_index("note"), 2);
	assert_int_equal(ff_sarif_level_index("none"), 3);
	assert_int_equal(ff_sarif_level_index("Error"), -1);
	assert_int_equal(ff_sarif_level_index("info"), -1);
	assert_int_equal(ff_sarif_level_index(""), -1);
	assert_int_equal(ff_sarif_level_index(NULL), -1);
}

/* The reason a workflow gives for failing: an error notification of an invocation that did
 * not succeed, and only that. */
static void failure_text(void **state)
{
	(void)state;
	char out[64];
	const char failed[] = "{\"runs\": [{\"invocations\": [{\"executionSuccessful\": false, "
			      "\"toolExecutionNotifications\": [{\"level\": \"note\", \"message\": "
			      "{\"text\": \"n\"}}, {\"level\": \"error\", \"message\": {\"text\": "
			      "\"no fuzz harness found\"}}]}]}]}";
	const char ok[] = "{\"runs\": [{\"invocations\": [{\"executionSuccessful\": true, "
			  "\"toolExecutionNotifications\": [{\"level\": \"error\", \"message\": "
			  "{\"text\": \"x\"}}]}]}]}";
	assert_true(ff_sarif_failure_text(failed, strlen(failed), out, sizeof(out)));
	assert_string_equal(out, "no fuzz harness found");
	assert_false(ff_sarif_failure_text(ok, strlen(ok), out, sizeof(out)));
	assert_false(ff_sarif_failure_text("{", 1, out, sizeof(out)));
}

/* Every run gets the platform's automationDetails.id, a workflow's own replaced. */
static void automation_id(void **state)
{
	(void)state;
	struct ff_err err;
	char *out;
	size_t len;
	const char in[] = "{\"runs\": [{\"automationDetails\": {\"id\": \"mine\"}}, {}]}";
	assert_int_equal(ff_sarif_set_automation_id(in, strlen(in), "w/a=1/", &out, &len, &err), 0);
	assert_string_equal(out, "{\"runs\":[{\"automationDetails\":{\"id\":\"w/a=1/\"}},"
				 "{\"automationDetails\":{\"id\":\"w/a=1/\"}}]}");
	assert_int_equal(len, strlen(out));
	free(out);
	assert_int_not_equal(ff_sarif_set_automation_id("{", 1, "w//", &out, &len, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(table),
	    cmocka_unit_test(fingerprints_stable),
	    cmocka_unit_test(cap),
	    cmocka_unit_test(hostile_strings),
	    cmocka_unit_test(level_index),
	    cmocka_unit_test(prescan_limits),
	    cmocka_unit_test(paths_confined),
	    cmocka_unit_test(failure_text),
	    cmocka_unit_test(automation_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_job — the job message: ff_job_new from a manifest, encode/decode round trips, every
 * class of poison message the strict decoder must refuse, and the container environment. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ff_job.h"
#include "ff_params.h"

#define RUN_ID "0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f"
#define TARGET "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"

static const char manifest_json[] =
    "{\"name\":\"secret-detection\",\"version\":\"1.2.3\",\"image\":\"fuzzforge/sd:1\","
    "\"command\":[\"/usr/bin/scan\",\"--json\",\"\"],"
    "\"parameters\":{\"properties\":{"
    "\"min_entropy\":{\"type\":\"number\",\"default\":3.5},"
    "\"depth\":{\"type\":\"integer\",\"default\":3},"
    "\"mode\":{\"type\":\"string\",\"default\":\"fast\"},"
    "\"verbose\":{\"type\":\"boolean\",\"default\":true}}},"
    "\"resources\":{\"memory_mb\":1024,\"cpus\":0.1,\"pids\":128,\"timeout_s\":900},"
    "\"retry\":{\"max_attempts\":3,\"backoff_s\":7},\"pool\":\"gpu_1\",\"network\":\"bridge\"}";

static struct ff_manifest *manifest(void)
{
	struct ff_manifest *m = NULL;
	struct ff_err err;
	if (ff_manifest_parse(manifest_json, strlen(manifest_json), &m, &err) < 0)
		fail_msg("manifest: %s", err.msg);
	return m;
}

/* A job built the way the controller builds one: validated parameters, defaults filled. */
static struct ff_job *sample_job(void)
{
	struct ff_manifest *m = manifest();
	struct ff_err err;
	cJSON *given = cJSON_Parse("{\"mode\":\"deep \\\"quoted\\\"\\n\\u00e9\",\"depth\":-7}");
	cJSON *params = NULL;
	assert_int_equal(ff_params_validate(m->parameters, given, &params, &err), 0);
	struct ff_job *j = ff_job_new(m, RUN_ID, TARGET, params);
	assert_non_null(j);
	cJSON_Delete(given);
	cJSON_Delete(params);
	ff_manifest_free(m);
	return j;
}

static char *sample_text(size_t *len)
{
	struct ff_job *j = sample_job();
	char *text = ff_job_encode(j, len);
	assert_non_null(text);
	ff_job_free(j);
	return text;
}

static void assert_jobs_equal(const struct ff_job *a, const struct ff_job *b)
{
	assert_string_equal(a->run_id, b->run_id);
	assert_int_equal(a->attempt, b->attempt);
	assert_int_equal(a->max_attempts, b->max_attempts);
	assert_int_equal(a->backoff_s, b->backoff_s);
	assert_int_equal(a->retry_on_timeout, b->retry_on_timeout);
	assert_string_equal(a->workflow, b->workflow);
	assert_string_equal(a->workflow_version, b->workflow_version);
	assert_string_equal(a->image, b->image);
	assert_int_equal(a->ncommand, b->ncommand);
	for (size_t i = 0; i < a->ncommand; i++)
		assert_string_equal(a->command[i], b->command[i]);
	assert_true(cJSON_Compare(a->parameters, b->parameters, 1));
	/* cJSON_Compare allows a tolerance on numbers; the message must not. */
	for (const cJSON *p = a->parameters->child; p; p = p->next)
		if (cJSON_IsNumber(p))
			assert_true(p->valuedouble ==
				    cJSON_GetObjectItemCaseSensitive(b->parameters, p->string)
					->valuedouble);
	assert_string_equal(a->target, b->target);
	assert_string_equal(a->pool, b->pool);
	assert_string_equal(a->network, b->network);
	assert_int_equal(a->memory_mb, b->memory_mb);
	assert_true(a->cpus == b->cpus);
	assert_int_equal(a->pids, b->pids);
	assert_int_equal(a->timeout_s, b->timeout_s);
}

static void new_from_manifest(void **state)
{
	(void)state;
	struct ff_job *j = sample_job();
	assert_string_equal(j->run_id, RUN_ID);
	assert_int_equal(j->attempt, 1);
	assert_int_equal(j->max_attempts, 3);
	assert_int_equal(j->backoff_s, 7);
	assert_false(j->retry_on_timeout);
	assert_string_equal(j->workflow, "secret-detection");
	assert_string_equal(j->workflow_version, "1.2.3");
	assert_string_equal(j->image, "fuzzforge/sd:1");
	assert_int_equal(j->ncommand, 3);
	assert_string_equal(j->command[1], "--json");
	assert_string_equal(j->command[2], "");
	assert_int_equal(cJSON_GetArraySize(j->parameters), 4);
	assert_int_equal(cJSON_GetObjectItem(j->parameters, "depth")->valueint, -7);
	assert_string_equal(j->target, TARGET);
	assert_string_equal(j->pool, "gpu_1");
	assert_string_equal(j->network, "bridge");
	assert_int_equal(j->memory_mb, 1024);
	assert_true(j->cpus == 0.1);
	assert_int_equal(j->pids, 128);
	assert_int_equal(j->timeout_s, 900);
	ff_job_free(j);
	ff_job_free(NULL);

	/* Nothing undecodable is built. */
	struct ff_manifest *m = manifest();
	cJSON *arr = cJSON_CreateArray();
	assert_null(ff_job_new(NULL, RUN_ID, TARGET, NULL));
	assert_null(ff_job_new(m, "0B9C2B0E-1D1A-4C55-9D59-1A2B3C4D5E6F", TARGET, NULL));
	assert_null(ff_job_new(m, NULL, TARGET, NULL));
	assert_null(ff_job_new(m, RUN_ID, "abc", NULL));
	assert_null(ff_job_new(m, RUN_ID, TARGET, arr));
	j = ff_job_new(m, RUN_ID, TARGET, NULL); /* no parameters: an empty object */
	assert_non_null(j);
	assert_true(cJSON_IsObject(j->parameters));
	assert_int_equal(cJSON_GetArraySize(j->parameters), 0);
	ff_job_free(j);
	cJSON_Delete(arr);
	ff_manifest_free(m);
}

static void round_trip(void **state)
{
	(void)state;
	struct ff_job *a = sample_job(), *b = NULL;
	struct ff_err err = {0};
	size_t len = 0, len2 = 0;
	a->attempt = 3; /* a retry's message */
	/* Numbers cJSON's printer would round: they must cross the queue exactly. */
	cJSON_AddNumberToObject(a->parameters, "big", 9007199254740991.0);
	cJSON_AddNumberToObject(a->parameters, "sum", 0.1 + 0.2);
	cJSON_AddNumberToObject(a->parameters, "tiny", -4.9406564584124654e-324);
	a->cpus = 0.1 + 0.2;
	char *text = ff_job_encode(a, &len);
	assert_non_null(text);
	assert_int_equal(len, strlen(text));
	/* The decoder reads exactly len bytes from a buffer without a terminator. */
	char *exact = malloc(len);
	assert_non_null(exact);
	memcpy(exact, text, len);
	if (ff_job_decode(exact, len, &b, &err) < 0)
		fail_msg("decode: %s (%s) in %s", err.msg, err.field, text);
	assert_jobs_equal(a, b);
	char *text2 = ff_job_encode(b, &len2);
	assert_int_equal(len, len2);
	assert_memory_equal(text, text2, len);
	/* The wire format the worker and the DB's job column expect: without retry_on_timeout,
	 * version 1, which workers from before version 2 still read. */
	cJSON *o = cJSON_Parse(text);
	assert_int_equal(cJSON_GetObjectItem(o, "v")->valueint, 1);
	assert_int_equal(cJSON_GetArraySize(o), 14);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(o, "resources")), 4);
	cJSON_Delete(o);
	free(exact);
	free(text);
	free(text2);
	ff_job_free(a);
	ff_job_free(b);

	/* No command, no parameters, extreme bounds. */
	struct ff_manifest *m = NULL;
	static const char edge[] =
	    "{\"name\":\"e\",\"version\":\"1\",\"image\":\"x\",\"resources\":{\"memory_mb\":"
	    "65536,\"cpus\":64,\"pids\":16,\"timeout_s\":604800},\"retry\":{\"max_attempts\":"
	    "20,\"backoff_s\":0}}";
	assert_int_equal(ff_manifest_parse(edge, strlen(edge), &m, &err), 0);
	a = ff_job_new(m, RUN_ID, TARGET, NULL);
	a->attempt = 20;
	text = ff_job_encode(a, NULL);
	assert_non_null(text);
	assert_int_equal(ff_job_decode(text, strlen(text), &b, &err), 0);
	assert_jobs_equal(a, b);
	assert_int_equal(b->ncommand, 0);
	assert_null(b->command);
	free(text);
	ff_job_free(a);
	ff_job_free(b);
	ff_manifest_free(m);
	assert_null(ff_job_encode(NULL, &len));
}

/* text with "v" set to version and, unless value is NULL, the top-level field name added
 * with the JSON text value. Caller frees. */
static char *with_field(const char *text, int version, const char *name, const char *value)
{
	cJSON *o = cJSON_Parse(text);
	cJSON_ReplaceItemInObjectCaseSensitive(o, "v", cJSON_CreateNumber(version));
	if (value)
		cJSON_AddItemToObject(o, name, cJSON_Parse(value));
	char *out = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return out;
}

/* retry_on_timeout: from the manifest into the job, version 2 on the wire when true, version
 * 1 (no field) when false; both versions decode, each strictly. */
static void retry_on_timeout(void **state)
{
	(void)state;
	static const char mj[] = "{\"name\":\"t\",\"version\":\"1\",\"image\":\"x\","
				 "\"retry\":{\"max_attempts\":2,\"on_timeout\":true}}";
	struct ff_manifest *m = NULL;
	struct ff_job *a = NULL, *b = NULL;
	struct ff_err err = {0};
	size_t len = 0;
	assert_int_equal(ff_manifest_parse(mj, strlen(mj), &m, &err), 0);
	a = ff_job_new(m, RUN_ID, TARGET, NULL);
	assert_non_null(a);
	assert_true(a->retry_on_timeout);
	ff_manifest_free(m);

	/* with the field: version 2, and back */
	char *text = ff_job_encode(a, &len);
	assert_non_null(text);
	cJSON *o = cJSON_Parse(text);
	assert_int_equal(cJSON_GetObjectItem(o, "v")->valueint, FF_JOB_VERSION);
	assert_int_equal(cJSON_GetObjectItem(o, "v")->valueint, 2);
	assert_int_equal(cJSON_GetArraySize(o), 15);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "retry_on_timeout")));
	cJSON_Delete(o);
	if (ff_job_decode(text, len, &b, &err) < 0)
		fail_msg("decode: %s (%s) in %s", err.msg, err.field, text);
	assert_jobs_equal(a, b);
	assert_true(b->retry_on_timeout);
	char *text2 = ff_job_encode(b, NULL);
	assert_string_equal(text, text2);
	free(text2);
	ff_job_free(b);
	b = NULL;

	/* without it: version 1, decoded as false */
	a->retry_on_timeout = false;
	char *v1 = ff_job_encode(a, NULL);
	o = cJSON_Parse(v1);
	assert_int_equal(cJSON_GetObjectItem(o, "v")->valueint, 1);
	assert_null(cJSON_GetObjectItem(o, "retry_on_timeout"));
	cJSON_Delete(o);
	assert_int_equal(ff_job_decode(v1, strlen(v1), &b, &err), 0);
	assert_false(b->retry_on_timeout);
	assert_jobs_equal(a, b);
	ff_job_free(b);
	b = NULL;

	/* version 2 saying false is a job like the version 1 one */
	char *t = with_field(v1, 2, "retry_on_timeout", "false");
	assert_int_equal(ff_job_decode(t, strlen(t), &b, &err), 0);
	assert_false(b->retry_on_timeout);
	ff_job_free(b);
	b = NULL;
	free(t);

	/* strictly: version 2 needs the field as a boolean, version 1 must not have it */
	static const struct {
		int v;
		const char *value;
	} bad[] = {
	    {2, NULL},	   {2, "1"},  {2, "0"},	   {2, "\"true\""}, {2, "null"},
	    {2, "[true]"}, {2, "{}"}, {1, "true"}, {1, "false"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		t = with_field(v1, bad[i].v, "retry_on_timeout", bad[i].value);
		if (ff_job_decode(t, strlen(t), &b, &err) == 0)
			fail_msg("accepted %s", t);
		assert_null(b);
		assert_int_equal(err.code, FF_EINVAL);
		assert_string_equal(err.field, "retry_on_timeout");
		free(t);
	}
	free(v1);
	free(text);
	ff_job_free(a);
}

/* Every strict prefix of a valid message is refused, as is one byte too many of garbage. */
static void truncated(void **state)
{
	(void)state;
	size_t len;
	char *text = sample_text(&len);
	struct ff_job *j = NULL;
	struct ff_err err;
	for (size_t n = 0; n < len; n++) {
		char *p = malloc(n + 1);
		assert_non_null(p);
		memcpy(p, text, n);
		if (ff_job_decode(p, n, &j, &err) == 0)
			fail_msg("prefix of %zu bytes accepted", n);
		assert_int_equal(err.code, FF_EINVAL);
		free(p);
	}
	assert_null(j);
	/* Trailing whitespace is fine, anything else after the object is not. */
	char *more = malloc(len + 2);
	assert_non_null(more);
	memcpy(more, text, len);
	memcpy(more + len, " \n", 2);
	assert_int_equal(ff_job_decode(more, len + 2, &j, &err), 0);
	ff_job_free(j);
	j = NULL;
	more[len + 1] = '}';
	assert_int_equal(ff_job_decode(more, len + 2, &j, &err), FF_EINVAL);
	more[len] = '\0'; /* a NUL inside the message, garbage after it */
	assert_int_equal(ff_job_decode(more, len + 2, &j, &err), FF_EINVAL);
	assert_null(j);
	free(more);
	free(text);
}

static void not_a_job(void **state)
{
	(void)state;
	static const char *const texts[] = {
	    "",
	    " ",
	    "null",
	    "[]",
	    "1",
	    "\"v\"",
	    "{}",
	    "{\"v\":1}",
	    "[{\"v\":1}]",
	    "{\"v\":1,}",
	    "{\"v\" 1}",
	    "\xff\xfe{}",
	    "{\"v\":1} {\"v\":1}",
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		struct ff_job *j = NULL;
		struct ff_err err = {0};
		if (ff_job_decode(texts[i], strlen(texts[i]), &j, &err) == 0)
			fail_msg("accepted '%s'", texts[i]);
		assert_null(j);
		assert_int_equal(err.code, FF_EINVAL);
		assert_true(strlen(err.msg) > 0);
	}
	struct ff_job *j = NULL;
	struct ff_err err;
	assert_int_equal(ff_job_decode(NULL, 0, &j, &err), FF_EINVAL);

	/* Past the size cap, before any parsing. */
	size_t big = FF_MANIFEST_MAX_BYTES + 1;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, ' ', big);
	assert_int_equal(ff_job_decode(huge, big, &j, &err), FF_ETOOBIG);
	free(huge);

	/* Deep nesting is refused by the parser, not by the stack. */
	size_t depth = 100000;
	char *deep = malloc(2 * depth);
	assert_non_null(deep);
	memset(deep, '[', depth);
	memset(deep + depth, ']', depth);
	assert_int_equal(ff_job_decode(deep, 2 * depth, &j, &err), FF_EINVAL);
	free(deep);
	assert_null(j);
}

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

/* JSON text: a string of n copies of c; an array of n strings "x"; an object of n
 * parameters. */
static char *json_string(char c, size_t n)
{
	char *s = repeat(c, n + 2);
	s[0] = s[n + 1] = '"';
	return s;
}

static char *json_array(size_t n)
{
	char *s = malloc(4 * n + 3);
	assert_non_null(s);
	size_t off = 0;
	s[off++] = '[';
	for (size_t i = 0; i < n; i++) {
		if (i)
			s[off++] = ',';
		memcpy(s + off, "\"x\"", 3);
		off += 3;
	}
	s[off++] = ']';
	s[off] = '\0';
	return s;
}

static char *json_params(size_t n)
{
	size_t cap = 16 * n + 3;
	char *s = malloc(cap);
	assert_non_null(s);
	size_t off = 0;
	s[off++] = '{';
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, cap - off, "%s\"p%zu\":1", i ? "," : "", i);
	snprintf(s + off, cap - off, "}");
	return s;
}

/* Decodes the sample message with path (a top-level key, or "resources.<key>") set to the
 * JSON text value, or removed when value is NULL; expects a refusal naming field. */
static void expect_refusal(const char *path, const char *value, const char *field)
{
	size_t len;
	char *text = sample_text(&len);
	cJSON *o = cJSON_Parse(text);
	cJSON *parent = o;
	const char *key = path;
	const char *dot = strchr(path, '.');
	if (dot) {
		char first[32];
		snprintf(first, sizeof(first), "%.*s", (int)(dot - path), path);
		parent = cJSON_GetObjectItem(o, first);
		key = dot + 1;
	}
	if (value) {
		cJSON *v = cJSON_Parse(value);
		if (!v)
			fail_msg("bad test value %s", value);
		if (cJSON_GetObjectItem(parent, key))
			cJSON_ReplaceItemInObjectCaseSensitive(parent, key, v);
		else
			cJSON_AddItemToObject(parent, key, v);
	} else {
		cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
	}
	char *bad = cJSON_PrintUnformatted(o);
	struct ff_job *j = NULL;
	struct ff_err err = {0};
	int rc = ff_job_decode(bad, strlen(bad), &j, &err);
	if (rc == 0)
		fail_msg("%s = %.80s: accepted", path, value ? value : "(removed)");
	assert_null(j);
	if (strcmp(err.field, field) != 0)
		fail_msg("%s = %.80s: field '%s' (%s), expected '%s'", path,
			 value ? value : "(removed)", err.field, err.msg, field);
	assert_int_equal(rc, FF_EINVAL);
	free(bad);
	free(text);
	cJSON_Delete(o);
}

static void refusals(void **state)
{
	(void)state;
	static const struct {
		const char *path, *value, *field;
	} cases[] = {
	    /* the version */
	    {"v", NULL, "v"},
	    {"v", "3", "v"},
	    {"v", "2.5", "v"},
	    {"v", "0", "v"},
	    {"v", "1.5", "v"},
	    {"v", "\"1\"", "v"},
	    {"v", "null", "v"},
	    /* unknown and missing fields */
	    {"extra", "1", "extra"},
	    {"run_id", NULL, "run_id"},
	    {"target", NULL, "target"},
	    {"command", NULL, "command"},
	    {"parameters", NULL, "parameters"},
	    {"resources", NULL, "resources"},
	    {"resources.cpus", NULL, "resources.cpus"},
	    {"resources.disk_mb", "1", "resources.disk_mb"},
	    /* uuid */
	    {"run_id", "\"0B9C2B0E-1D1A-4C55-9D59-1A2B3C4D5E6F\"", "run_id"},
	    {"run_id", "\"0b9c2b0e1d1a4c559d591a2b3c4d5e6f\"", "run_id"},
	    {"run_id", "\"0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6f0\"", "run_id"},
	    {"run_id", "\"0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6\"", "run_id"},
	    {"run_id", "\"0b9c2b0e-1d1a-4c55-9d59-1a2b3c4d5e6g\"", "run_id"},
	    {"run_id", "\"../../etc/passwd\"", "run_id"},
	    {"run_id", "\"\"", "run_id"},
	    {"run_id", "42", "run_id"},
	    /* hex */
	    {"target", "\"BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD\"",
	     "target"},
	    {"target", "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a\"",
	     "target"},
	    {"target", "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0\"",
	     "target"},
	    {"target", "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag\"",
	     "target"},
	    {"target", "[]", "target"},
	    /* integers and their ranges */
	    {"attempt", "0", "attempt"},
	    {"attempt", "-1", "attempt"},
	    {"attempt", "4", "attempt"}, /* past max_attempts (3) */
	    {"attempt", "1.5", "attempt"},
	    {"attempt", "\"1\"", "attempt"},
	    {"attempt", "true", "attempt"},
	    {"attempt", "1e300", "attempt"},
	    {"attempt", "-1e300", "attempt"},
	    {"max_attempts", "0", "max_attempts"},
	    {"max_attempts", "21", "max_attempts"},
	    {"backoff_s", "-1", "backoff_s"},
	    {"backoff_s", "3601", "backoff_s"},
	    {"backoff_s", "null", "backoff_s"},
	    {"resources.memory_mb", "15", "resources.memory_mb"},
	    {"resources.memory_mb", "65537", "resources.memory_mb"},
	    {"resources.memory_mb", "512.5", "resources.memory_mb"},
	    {"resources.memory_mb", "\"512\"", "resources.memory_mb"},
	    {"resources.memory_mb", "9.3e18", "resources.memory_mb"},
	    {"resources.cpus", "0.05", "resources.cpus"},
	    {"resources.cpus", "64.01", "resources.cpus"},
	    {"resources.cpus", "\"1\"", "resources.cpus"},
	    {"resources.pids", "15", "resources.pids"},
	    {"resources.pids", "65537", "resources.pids"},
	    {"resources.timeout_s", "0", "resources.timeout_s"},
	    {"resources.timeout_s", "604801", "resources.timeout_s"},
	    {"resources", "[]", "resources"},
	    /* strings */
	    {"workflow", "\"Secret\"", "workflow"},
	    {"workflow", "\"\"", "workflow"},
	    {"workflow", "\"../x\"", "workflow"},
	    {"workflow", "7", "workflow"},
	    {"workflow_version", "\"\"", "workflow_version"},
	    {"workflow_version", "\"1 0\"", "workflow_version"},
	    {"image", "\"\"", "image"},
	    {"image", "\"a b\"", "image"},
	    {"image", "\"x?fromImage=y\"", "image"},
	    {"image", "[\"x\"]", "image"},
	    {"pool", "\"\"", "pool"},
	    {"pool", "\"Default\"", "pool"},
	    {"pool", "\"ff.jobs.x\"", "pool"},
	    {"network", "\"overlay\"", "network"},
	    {"network", "\"container:abc\"", "network"},
	    {"network", "null", "network"},
	    /* command */
	    {"command", "\"/bin/sh -c x\"", "command"},
	    {"command", "[1]", "command"},
	    {"command", "[null]", "command"},
	    {"command", "[[\"x\"]]", "command"},
	    {"command", "{}", "command"},
	    /* parameters */
	    {"parameters", "[]", "parameters"},
	    {"parameters", "\"x\"", "parameters"},
	    {"parameters", "null", "parameters"},
	    {"parameters", "{\"a\":{\"b\":1}}", "parameters.a"},
	    {"parameters", "{\"a\":[1]}", "parameters.a"},
	    {"parameters", "{\"a\":null}", "parameters.a"},
	    {"parameters", "{\"A\":1}", "parameters.A"},
	    {"parameters", "{\"a b\":1}", "parameters.a b"},
	    {"parameters", "{\"1a\":1}", "parameters.1a"},
	    {"parameters", "{\"\":1}", "parameters."},
	    {"parameters", "{\"a\":1e999}", "parameters.a"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_refusal(cases[i].path, cases[i].value, cases[i].field);
}

static void huge_values(void **state)
{
	(void)state;
	char *s;
	expect_refusal("workflow", s = json_string('a', 65), "workflow");
	free(s);
	expect_refusal("workflow_version", s = json_string('1', 65), "workflow_version");
	free(s);
	expect_refusal("image", s = json_string('i', FF_MANIFEST_IMAGE_MAX + 1), "image");
	free(s);
	expect_refusal("pool", s = json_string('p', 33), "pool");
	free(s);
	expect_refusal("command", s = json_array(FF_MANIFEST_COMMAND_MAX + 1), "command");
	free(s);
	char *entry = json_string('c', FF_MANIFEST_STRING_MAX + 1);
	size_t n = strlen(entry) + 3;
	s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, "[%s]", entry);
	expect_refusal("command", s, "command");
	free(s);
	n = strlen(entry) + 8;
	s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, "{\"a\":%s}", entry);
	expect_refusal("parameters", s, "parameters.a");
	free(s);
	free(entry);
	/* A long unknown name is cut to fit err->field (63 characters). */
	char *name = repeat('a', 65);
	char want[64];
	n = strlen(name) + 8;
	s = malloc(n);
	assert_non_null(s);
	snprintf(s, n, "{\"%s\":1}", name);
	snprintf(want, sizeof(want), "parameters.%s", name);
	expect_refusal("parameters", s, want);
	free(s);
	free(name);
	expect_refusal("parameters", s = json_params(FF_MANIFEST_PARAMS_MAX + 1), "parameters");
	free(s);

	/* At the limits, the same values pass. */
	struct ff_job *j = sample_job(), *back = NULL;
	struct ff_err err;
	free(j->image);
	j->image = repeat('i', FF_MANIFEST_IMAGE_MAX);
	cJSON_DeleteItemFromObject(j->parameters, "mode");
	char *big = repeat('v', FF_MANIFEST_STRING_MAX);
	cJSON_AddStringToObject(j->parameters, "mode", big);
	free(big);
	char *text = ff_job_encode(j, NULL);
	if (ff_job_decode(text, strlen(text), &back, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(strlen(back->image), FF_MANIFEST_IMAGE_MAX);
	free(text);
	ff_job_free(back);
	ff_job_free(j);
}

/* Byte-level poison that cJSON's tree cannot express: duplicated keys, bad UTF-8. */
static void raw_poison(void **state)
{
	(void)state;
	size_t len;
	char *text = sample_text(&len);
	char buf[4096];
	struct ff_job *j = NULL;
	struct ff_err err;
	assert_true(len + 64 < sizeof(buf));

	/* {"pool":"x", + the rest: "pool" given twice. */
	snprintf(buf, sizeof(buf), "{\"pool\":\"other\",%s", text + 1);
	assert_int_equal(ff_job_decode(buf, strlen(buf), &j, &err), FF_EINVAL);
	assert_string_equal(err.field, "pool");
	snprintf(buf, sizeof(buf), "{\"v\":1,%s", text + 1);
	assert_int_equal(ff_job_decode(buf, strlen(buf), &j, &err), FF_EINVAL);
	assert_string_equal(err.field, "v");

	/* Keys are case-sensitive: "V" is an unknown field. */
	snprintf(buf, sizeof(buf), "{\"V\":1,%s", text + 1);
	assert_int_equal(ff_job_decode(buf, strlen(buf), &j, &err), FF_EINVAL);
	assert_string_equal(err.field, "V");

	/* A duplicated parameter. */
	char *p = strstr(text, "\"parameters\":{");
	assert_non_null(p);
	size_t at = (size_t)(p - text) + strlen("\"parameters\":{");
	snprintf(buf, sizeof(buf), "%.*s\"depth\":1,%s", (int)at, text, text + at);
	assert_int_equal(ff_job_decode(buf, strlen(buf), &j, &err), FF_EINVAL);
	assert_string_equal(err.field, "parameters.depth");

	/* Invalid UTF-8 in a parameter and in a command entry. */
	snprintf(buf, sizeof(buf), "%.*s\"bad\":\"\xc0\xaf\",%s", (int)at, text, text + at);
	assert_int_equal(ff_job_decode(buf, strlen(buf), &j, &err), FF_EINVAL);
	assert_string_equal(err.field, "parameters.bad");
	p = strstr(text, "\"command\":[");
	assert_non_null(p);
	at = (size_t)(p - text) + strlen("\"command\":[");
	snprintf(buf, sizeof(buf), "%.*s\"\xed\xa0\x80\",%s", (int)at, text, text + at);
	assert_int_equal(ff_job_decode(buf, strlen(buf), &j, &err), FF_EINVAL);
	assert_string_equal(err.field, "command");
	assert_null(j);
	free(text);
}

static const char *env_get(char **env, const char *name)
{
	size_t n = strlen(name);
	for (; *env; env++)
		if (!strncmp(*env, name, n) && (*env)[n] == '=')
			return *env + n + 1;
	return NULL;
}

static void environment(void **state)
{
	(void)state;
	struct ff_job *j = sample_job();
	cJSON_AddNumberToObject(j->parameters, "big_int", 9007199254740991.0);
	cJSON_AddNumberToObject(j->parameters, "tenth", 0.1);
	cJSON_AddNumberToObject(j->parameters, "third", 1.0 / 3.0);
	cJSON_AddFalseToObject(j->parameters, "quiet");
	cJSON_AddStringToObject(j->parameters, "with_eq", "a=b");
	char **env = ff_job_env(j);
	assert_non_null(env);
	size_t n = 0;
	while (env[n])
		n++;
	assert_int_equal(n, 2 + 4 + 5);
	assert_string_equal(env_get(env, "FF_RUN_ID"), RUN_ID);
	assert_string_equal(env_get(env, "FF_TIMEOUT_S"), "900");
	assert_string_equal(env_get(env, "FF_PARAM_MIN_ENTROPY"), "3.5");
	assert_string_equal(env_get(env, "FF_PARAM_DEPTH"), "-7");
	assert_string_equal(env_get(env, "FF_PARAM_MODE"), "deep \"quoted\"\n\xc3\xa9");
	assert_string_equal(env_get(env, "FF_PARAM_VERBOSE"), "true");
	assert_string_equal(env_get(env, "FF_PARAM_QUIET"), "false");
	assert_string_equal(env_get(env, "FF_PARAM_BIG_INT"), "9007199254740991");
	assert_string_equal(env_get(env, "FF_PARAM_TENTH"), "0.1");
	assert_string_equal(env_get(env, "FF_PARAM_WITH_EQ"), "a=b");
	assert_true(strtod(env_get(env, "FF_PARAM_THIRD"), NULL) == 1.0 / 3.0);
	assert_null(env_get(env, "FF_PARAM_depth"));
	ff_job_env_free(env);
	ff_job_env_free(NULL);
	assert_null(ff_job_env(NULL));

	/* A decoded job gives the same environment as the one encoded. */
	struct ff_job *back = NULL;
	struct ff_err err;
	char *text = ff_job_encode(j, NULL);
	assert_int_equal(ff_job_decode(text, strlen(text), &back, &err), 0);
	char **a = ff_job_env(j), **b = ff_job_env(back);
	for (n = 0; a[n] || b[n]; n++) {
		assert_non_null(a[n]);
		assert_non_null(b[n]);
		assert_string_equal(a[n], b[n]);
	}
	ff_job_env_free(a);
	ff_job_env_free(b);
	free(text);
	ff_job_free(back);
	ff_job_free(j);
}

/* What a worker compares a message with: the run's stored job, field by field. */
static void differs(void **state)
{
	(void)state;
	struct ff_job *a = sample_job(), *b = NULL;
	struct ff_err err;
	size_t len;
	char *text = ff_job_encode(a, &len);
	assert_int_equal(ff_job_decode(text, len, &b, &err), 0);
	free(text);
	assert_null(ff_job_differs(a, b));
	/* which attempt is not what runs */
	b->attempt = 3;
	b->max_attempts = 9;
	assert_null(ff_job_differs(a, b));
	/* parameters in another order (PostgreSQL's jsonb reorders keys) are the same */
	cJSON *reordered = cJSON_CreateObject();
	for (const cJSON *p = a->parameters->child; p; p = p->next)
		cJSON_AddItemReferenceToObject(reordered, p->string, (cJSON *)p);
	cJSON *last = cJSON_DetachItemViaPointer(reordered, reordered->child);
	cJSON_AddItemToObject(reordered, last->string, last);
	cJSON *saved = b->parameters;
	b->parameters = reordered;
	assert_null(ff_job_differs(a, b));
	b->parameters = saved;
	cJSON_Delete(reordered);

	free(b->image);
	b->image = strdup("attacker/image:1");
	assert_string_equal(ff_job_differs(a, b), "image");
	free(b->image);
	b->image = strdup(a->image);
	free(b->command[0]);
	b->command[0] = strdup("sh");
	assert_string_equal(ff_job_differs(a, b), "command");
	free(b->command[0]);
	b->command[0] = strdup(a->command[0]);
	b->ncommand--;
	assert_string_equal(ff_job_differs(a, b), "command");
	b->ncommand++;
	free(b->network);
	b->network = strdup("host");
	assert_string_equal(ff_job_differs(a, b), "network");
	free(b->network);
	b->network = strdup(a->network);
	cJSON_GetObjectItem(b->parameters, "depth")->valuedouble += 1e-9;
	assert_string_equal(ff_job_differs(a, b), "parameters");
	cJSON_GetObjectItem(b->parameters, "depth")->valuedouble -= 1e-9;
	assert_null(ff_job_differs(a, b));
	cJSON_AddStringToObject(b->parameters, "extra", "x");
	assert_string_equal(ff_job_differs(a, b), "parameters");
	cJSON_DeleteItemFromObject(b->parameters, "extra");
	b->cpus += 1e-12;
	assert_string_equal(ff_job_differs(a, b), "resources.cpus");
	b->cpus = a->cpus;
	b->timeout_s++;
	assert_string_equal(ff_job_differs(a, b), "resources.timeout_s");
	b->timeout_s--;
	b->target[0] = b->target[0] == 'a' ? 'b' : 'a';
	assert_string_equal(ff_job_differs(a, b), "target");
	ff_job_free(a);
	ff_job_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(new_from_manifest), cmocka_unit_test(round_trip),
	    cmocka_unit_test(truncated),	 cmocka_unit_test(not_a_job),
	    cmocka_unit_test(refusals),		 cmocka_unit_test(huge_values),
	    cmocka_unit_test(raw_poison),	 cmocka_unit_test(environment),
	    cmocka_unit_test(retry_on_timeout),	 cmocka_unit_test(differs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

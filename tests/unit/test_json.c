/* test_json — the strict JSON layer: what ff_json_parse refuses (trailing bytes, duplicate
 * keys at any depth, NUL bytes, the cap, deep nesting) and each typed getter's bounds, codes
 * and field paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ff_json.h"

/* Parses text (its strlen) with opts; returns the code, and deletes any tree. */
static int parse_code(const char *text, const struct ff_json_opts *opts, struct ff_err *err)
{
	cJSON *j = NULL;
	int rc = ff_json_parse(text, strlen(text), opts, &j, err);
	if (rc == 0)
		assert_non_null(j);
	else
		assert_null(j);
	cJSON_Delete(j);
	return rc;
}

static void trailing_bytes(void **state)
{
	(void)state;
	struct ff_err err;
	assert_int_equal(parse_code("{}", NULL, &err), 0);
	assert_int_equal(parse_code(" {\"a\":1} \t\r\n", NULL, &err), 0);
	assert_int_equal(parse_code("[1,2]", NULL, &err), 0);
	assert_int_equal(parse_code("7", NULL, &err), 0);
	assert_int_equal(parse_code("{}x", NULL, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "after the json value (at byte 2)"));
	assert_int_equal(parse_code("{} {}", NULL, &err), FF_EINVAL);
	assert_int_equal(parse_code("{}\f", NULL, &err), FF_EINVAL); /* not JSON whitespace */
	assert_int_equal(parse_code("1 2", NULL, &err), FF_EINVAL);
	/* not JSON at all: the offset is given */
	assert_int_equal(parse_code("{\"a\":}", NULL, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "not valid json (near byte"));
	assert_int_equal(parse_code("", NULL, &err), FF_EINVAL);
	assert_int_equal(parse_code("   ", NULL, &err), FF_EINVAL);

	/* len is respected: nothing past it is read */
	static const char twice[] = "{\"a\":1}GARBAGE";
	cJSON *j = NULL;
	assert_int_equal(ff_json_parse(twice, 7, NULL, &j, &err), 0);
	cJSON_Delete(j);
	j = NULL;
	assert_int_equal(ff_json_parse(twice, 5, NULL, &j, &err), FF_EINVAL);
	assert_int_equal(ff_json_parse(NULL, 0, NULL, &j, &err), FF_EINVAL);
	assert_null(j);
}

static void nul_bytes(void **state)
{
	(void)state;
	struct ff_err err;
	cJSON *j = NULL;
	static const char nul[] = "{\"a\":\"x\0y\"}";
	assert_int_equal(ff_json_parse(nul, sizeof(nul) - 1, NULL, &j, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "nul"));
	static const char after[] = "{}\0";
	assert_int_equal(ff_json_parse(after, sizeof(after), NULL, &j, &err), FF_EINVAL);
	assert_null(j);
}

static void duplicate_keys(void **state)
{
	(void)state;
	struct ff_err err;
	assert_int_equal(parse_code("{\"a\":1,\"b\":2,\"a\":3}", NULL, &err), FF_EINVAL);
	assert_string_equal(err.field, "a");
	assert_non_null(strstr(err.msg, "'a' twice"));
	/* at depth, through objects and arrays */
	assert_int_equal(
	    parse_code("{\"x\":{\"y\":[1,{\"k\":1},{\"c\":1,\"d\":[],\"c\":2}]}}", NULL, &err),
	    FF_EINVAL);
	assert_string_equal(err.field, "x.y[2].c");
	assert_int_equal(parse_code("[{}, [{\"q\":1,\"q\":1}]]", NULL, &err), FF_EINVAL);
	assert_string_equal(err.field, "[1][0].q");
	/* the first duplicate in document order, and keys are case-sensitive */
	assert_int_equal(parse_code("{\"b\":1,\"a\":1,\"A\":1,\"a\":2,\"b\":2}", NULL, &err),
			 FF_EINVAL);
	assert_string_equal(err.field, "a");
	assert_int_equal(parse_code("{\"a\":1,\"A\":2,\"aa\":3}", NULL, &err), 0);
	/* the same key in sibling objects is no duplicate */
	assert_int_equal(parse_code("[{\"a\":1},{\"a\":2}]", NULL, &err), 0);
	/* dup_code, when given, is the code for duplicates only */
	struct ff_json_opts o = {.what = "manifest", .dup_code = FF_EVALIDATE};
	assert_int_equal(parse_code("{\"a\":1,\"a\":1}", &o, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "manifest"));
	assert_int_equal(parse_code("{", &o, &err), FF_EINVAL);
	o.code = FF_EVALIDATE;
	o.dup_code = 0;
	assert_int_equal(parse_code("{\"a\":1,\"a\":1}", &o, &err), FF_EVALIDATE);
}

/* With utf8_code, a string or key that is not utf-8 is refused with that code, named by
 * its path; without it, the parse lets it through (a getter or the SARIF repair sees it). */
static void not_utf8(void **state)
{
	(void)state;
	struct ff_err err;
	struct ff_json_opts o = {.what = "the body", .utf8_code = FF_EVALIDATE};
	assert_int_equal(parse_code("{\"a\":\"\xff\"}", NULL, &err), 0);
	assert_int_equal(parse_code("{\"a\":\"\xff\"}", &o, &err), FF_EVALIDATE);
	assert_string_equal(err.field, "a");
	assert_non_null(strstr(err.msg, "the body: a is not valid utf-8"));
	assert_int_equal(parse_code("{\"x\":{\"y\":[\"ok\",\"\xed\xa0\x80\"]}}", &o, &err),
			 FF_EVALIDATE);
	assert_string_equal(err.field, "x.y[1]");
	/* a bad key is named with '?' for its bad bytes */
	assert_int_equal(parse_code("{\"ok\":1,\"k\xc3\":1}", &o, &err), FF_EVALIDATE);
	assert_string_equal(err.field, "k?");
	assert_int_equal(parse_code("\"\xc0\xaf\"", &o, &err), FF_EVALIDATE);
	assert_string_equal(err.field, "");
	/* escapes and well-formed multibyte text are utf-8 */
	assert_int_equal(parse_code("{\"\xc3\xa9\":\"\\u00e9 \xe2\x82\xac\"}", &o, &err), 0);
}

/* An object of n distinct keys, and one more repeating key k when dup >= 0. */
static char *many_keys(size_t n, long dup)
{
	size_t cap = 24 * (n + 2);
	char *s = malloc(cap);
	assert_non_null(s);
	size_t off = 0;
	s[off++] = '{';
	for (size_t i = 0; i < n; i++)
		off += (size_t)snprintf(s + off, cap - off, "%s\"k%zu\":%zu", i ? "," : "", i, i);
	if (dup >= 0)
		off += (size_t)snprintf(s + off, cap - off, ",\"k%ld\":0", dup);
	snprintf(s + off, cap - off, "}");
	return s;
}

static void very_many_keys(void **state)
{
	(void)state;
	struct ff_err err;
	char *s = many_keys(200000, -1);
	assert_int_equal(parse_code(s, NULL, &err), 0);
	free(s);
	s = many_keys(200000, 123456);
	assert_int_equal(parse_code(s, NULL, &err), FF_EINVAL);
	assert_string_equal(err.field, "k123456");
	free(s);
}

static char *nested(size_t depth, const char *open, const char *inner, const char *close)
{
	size_t cap = depth * (strlen(open) + strlen(close)) + strlen(inner) + 1;
	char *s = malloc(cap);
	assert_non_null(s);
	s[0] = '\0';
	for (size_t i = 0; i < depth; i++)
		strcat(s, open);
	strcat(s, inner);
	for (size_t i = 0; i < depth; i++)
		strcat(s, close);
	return s;
}

static void deep_nesting(void **state)
{
	(void)state;
	struct ff_err err;
	char *s = nested(900, "[", "1", "]");
	assert_int_equal(parse_code(s, NULL, &err), 0);
	free(s);
	/* past cJSON's nesting limit */
	s = nested(5000, "[", "1", "]");
	assert_int_equal(parse_code(s, NULL, &err), FF_EINVAL);
	free(s);
	/* a duplicate at depth: the path is cut to fit, never overflows */
	s = nested(600, "{\"abcdefgh\":", "{\"z\":1,\"z\":2}", "}");
	assert_int_equal(parse_code(s, NULL, &err), FF_EINVAL);
	assert_true(strlen(err.field) < sizeof(err.field));
	assert_memory_equal(err.field, "abcdefgh.abcdefgh.", 18);
	free(s);
}

static void cap_and_object(void **state)
{
	(void)state;
	struct ff_err err;
	struct ff_json_opts o = {.what = "job message", .max_bytes = 8, .object = true};
	assert_int_equal(parse_code("{\"a\":1}", &o, &err), 0);
	assert_int_equal(parse_code("{\"ab\":12}", &o, &err), FF_ETOOBIG);
	assert_non_null(strstr(err.msg, "job message is larger than 8 bytes"));
	assert_int_equal(parse_code("[1]", &o, &err), FF_EINVAL);
	assert_string_equal(err.field, "");
	assert_non_null(strstr(err.msg, "must be a json object"));
}

static cJSON *obj(const char *text)
{
	cJSON *j = NULL;
	struct ff_err err;
	if (ff_json_parse(text, strlen(text), NULL, &j, &err) < 0)
		fail_msg("%s: %s", text, err.msg);
	return j;
}

static void check_keys(void **state)
{
	(void)state;
	static const char *const keys[] = {"a", "b", "c"};
	struct ff_err err;
	cJSON *o = obj("{\"a\":1,\"c\":2}");
	assert_int_equal(ff_json_check_keys(o, "r.", keys, 3, 1, 0, &err), 0);
	assert_int_equal(ff_json_check_keys(o, "r.", keys, 3, 2, 0, &err), FF_EINVAL);
	assert_string_equal(err.field, "r.b");
	assert_non_null(strstr(err.msg, "missing"));
	assert_int_equal(ff_json_check_keys(o, "", keys, 2, 0, FF_JSON_VALIDATE, &err),
			 FF_EVALIDATE);
	assert_string_equal(err.field, "c");
	assert_non_null(strstr(err.msg, "unknown field 'c'"));
	assert_int_equal(ff_json_check_keys(NULL, "", keys, 3, 0, 0, &err), 0);
	cJSON_Delete(o);
	/* a tree built by hand may still hold a key twice */
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "a", 1);
	cJSON_AddNumberToObject(o, "a", 2);
	assert_int_equal(ff_json_check_keys(o, "", keys, 3, 0, 0, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "twice"));
	cJSON_Delete(o);
}

static void numbers(void **state)
{
	(void)state;
	struct ff_err err;
	long l = 42;
	double d = 0.5;
	cJSON *o = obj("{\"i\":7,\"f\":1.5,\"big\":1e300,\"nbig\":-1e300,\"s\":\"1\",\"t\":true,"
		       "\"lo\":-3,\"hi\":10}");
	assert_int_equal(ff_json_get_long(o, "r.", "i", 0, 0, 10, &l, &err), 0);
	assert_int_equal(l, 7);
	assert_int_equal(ff_json_get_long(o, "r.", "lo", 0, -3, 10, &l, &err), 0);
	assert_int_equal(l, -3);
	assert_int_equal(ff_json_get_long(o, "r.", "hi", 0, -3, 10, &l, &err), 0);
	assert_int_equal(ff_json_get_long(o, "r.", "hi", 0, 0, 9, &l, &err), FF_EINVAL);
	assert_string_equal(err.field, "r.hi");
	assert_non_null(strstr(err.msg, "r.hi must be from 0 to 9"));
	assert_int_equal(ff_json_get_long(o, "r.", "lo", FF_JSON_VALIDATE, -2, 9, &l, &err),
			 FF_EVALIDATE);
	static const char *const bad[] = {"f", "big", "nbig", "s", "t"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		l = 42;
		assert_int_equal(ff_json_get_long(o, "", bad[i], 0, -1000, 1000, &l, &err),
				 FF_EINVAL);
		assert_string_equal(err.field, bad[i]);
		assert_int_equal(l, 42);
	}
	/* absent: kept, unless required */
	l = 42;
	assert_int_equal(ff_json_get_long(o, "", "none", 0, 0, 1, &l, &err), 0);
	assert_int_equal(l, 42);
	assert_int_equal(ff_json_get_long(o, "", "none", FF_JSON_REQUIRED, 0, 1, &l, &err),
			 FF_EINVAL);
	assert_non_null(strstr(err.msg, "none is required"));
	assert_int_equal(ff_json_get_long(NULL, "", "none", 0, 0, 1, &l, &err), 0);

	assert_int_equal(ff_json_get_number(o, "", "f", 0, 0.1, 64, &d, &err), 0);
	assert_true(d == 1.5);
	assert_int_equal(ff_json_get_number(o, "", "f", FF_JSON_INTEGER, 0, 64, &d, &err),
			 FF_EINVAL);
	assert_non_null(strstr(err.msg, "an integer"));
	assert_int_equal(ff_json_get_number(o, "", "i", FF_JSON_INTEGER, 0, 64, &d, &err), 0);
	assert_true(d == 7);
	assert_int_equal(ff_json_get_number(o, "", "f", 0, 1.6, 64, &d, &err), FF_EINVAL);
	assert_int_equal(ff_json_get_number(o, "", "s", 0, 0, 64, &d, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "must be a number"));
	cJSON_Delete(o);
}

static void booleans(void **state)
{
	(void)state;
	struct ff_err err;
	bool b = false;
	cJSON *o = obj("{\"t\":true,\"f\":false,\"one\":1,\"s\":\"true\",\"n\":null}");
	assert_int_equal(ff_json_get_bool(o, "", "t", 0, &b, &err), 0);
	assert_true(b);
	assert_int_equal(ff_json_get_bool(o, "", "f", 0, &b, &err), 0);
	assert_false(b);
	static const char *const bad[] = {"one", "s", "n"};
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(ff_json_get_bool(o, "retry.", bad[i], FF_JSON_VALIDATE, &b, &err),
				 FF_EVALIDATE);
		assert_non_null(strstr(err.field, bad[i]));
		assert_non_null(strstr(err.msg, "true or false"));
	}
	cJSON_Delete(o);
}

static bool no_x(const char *s)
{
	return !strchr(s, 'x');
}

static void strings(void **state)
{
	(void)state;
	struct ff_err err;
	char *s = strdup("default");
	assert_non_null(s);
	cJSON *o = obj("{\"ok\":\"h\\u00e9llo\",\"long\":\"abcdefghi\",\"x\":\"axb\",\"n\":5,"
		       "\"bad\":\"\xc3\x28\",\"sur\":\"\xed\xa0\x80\"}");
	assert_int_equal(ff_json_get_string(o, "", "none", 0, 8, NULL, NULL, &s, &err), 0);
	assert_string_equal(s, "default");
	assert_int_equal(ff_json_get_string(o, "", "ok", 0, 6, no_x, "without x", &s, &err), 0);
	assert_string_equal(s, "h\xc3\xa9llo");
	assert_int_equal(ff_json_get_string(o, "", "ok", 0, 5, NULL, NULL, &s, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "longer than 5 bytes"));
	assert_int_equal(ff_json_get_string(o, "p.", "x", 0, 8, no_x, "without x", &s, &err),
			 FF_EINVAL);
	assert_string_equal(err.field, "p.x");
	assert_non_null(strstr(err.msg, "p.x must be without x"));
	assert_int_equal(ff_json_get_string(o, "", "x", 0, 8, no_x, NULL, &s, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "malformed"));
	assert_int_equal(ff_json_get_string(o, "", "n", 0, 8, NULL, NULL, &s, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "must be a string"));
	assert_int_equal(ff_json_get_string(o, "", "bad", 0, 8, NULL, NULL, &s, &err), FF_EINVAL);
	assert_non_null(strstr(err.msg, "utf-8"));
	assert_int_equal(ff_json_get_string(o, "", "sur", 0, 8, NULL, NULL, &s, &err), FF_EINVAL);
	assert_int_equal(
	    ff_json_get_string(o, "", "none", FF_JSON_REQUIRED, 8, NULL, NULL, &s, &err),
	    FF_EINVAL);
	assert_string_equal(s, "h\xc3\xa9llo"); /* untouched by every failure */
	free(s);
	assert_true(ff_json_string_ok(cJSON_GetObjectItem(o, "long"), 9));
	assert_false(ff_json_string_ok(cJSON_GetObjectItem(o, "long"), 8));
	assert_false(ff_json_string_ok(cJSON_GetObjectItem(o, "n"), 8));
	assert_false(ff_json_string_ok(NULL, 8));
	cJSON_Delete(o);
}

static void string_arrays(void **state)
{
	(void)state;
	struct ff_err err;
	char **v = NULL;
	size_t n = 99;
	cJSON *o = obj("{\"ok\":[\"a\",\"\",\"c\"],\"empty\":[],\"num\":[1],\"str\":\"a\","
		       "\"long\":[\"abcd\"],\"bad\":[\"\xc0\xaf\"]}");
	assert_int_equal(ff_json_get_strings(o, "", "ok", 0, 3, 4, &v, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(v[0], "a");
	assert_string_equal(v[1], "");
	assert_string_equal(v[2], "c");
	ff_json_strings_free(v, n);
	v = NULL;
	assert_int_equal(ff_json_get_strings(o, "", "empty", 0, 3, 4, &v, &n, &err), 0);
	assert_null(v);
	assert_int_equal(n, 0);
	n = 99;
	assert_int_equal(ff_json_get_strings(o, "", "none", 0, 3, 4, &v, &n, &err), 0);
	assert_int_equal(n, 99);
	assert_int_equal(ff_json_get_strings(o, "", "ok", FF_JSON_VALIDATE, 2, 4, &v, &n, &err),
			 FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "more than 2 entries"));
	static const char *const bad[] = {"num", "str", "long", "bad"};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ff_json_get_strings(o, "c.", bad[i], 0, 3, 3, &v, &n, &err),
				 FF_EINVAL);
		assert_non_null(strstr(err.field, bad[i]));
		assert_null(v);
	}
	assert_int_equal(ff_json_get_strings(o, "", "none", FF_JSON_REQUIRED, 3, 3, &v, &n, &err),
			 FF_EINVAL);
	ff_json_strings_free(NULL, 0);
	cJSON_Delete(o);
}

static void add_copy(void **state)
{
	(void)state;
	cJSON *o = cJSON_CreateObject();
	cJSON *v = obj("{\"a\":[1,2]}");
	assert_int_equal(ff_json_add_copy(o, "k", v), 0);
	assert_true(cJSON_Compare(cJSON_GetObjectItem(o, "k"), v, 1));
	cJSON_Delete(v);
	cJSON_Delete(o);
}

/* Written strings read back as what was written, through the strict parser, and a cap is
 * an error. */
static void append_string(void **state)
{
	(void)state;
	const char in[] = "a\"b\\c\n\t\r\x01\x1f\x7f\xc3\xa9/";
	struct ff_buf b;
	cJSON *j = NULL;
	struct ff_err err;
	ff_buf_init(&b, SIZE_MAX);
	assert_int_equal(ff_json_append_string(&b, in, sizeof(in) - 1), 0);
	assert_string_equal(ff_buf_str(&b), "\"a\\\"b\\\\c\\n\\t\\r\\u0001\\u001f\x7f\xc3\xa9/\"");
	assert_int_equal(ff_json_parse(b.data, b.len, NULL, &j, &err), 0);
	assert_true(cJSON_IsString(j));
	assert_string_equal(j->valuestring, in);
	cJSON_Delete(j);
	ff_buf_release(&b);
	assert_int_equal(ff_json_append_string(&b, "", 0), 0);
	assert_string_equal(ff_buf_str(&b), "\"\"");
	ff_buf_release(&b);
	ff_buf_init(&b, 4);
	assert_int_equal(ff_json_append_string(&b, "abcd", 4), FF_ETOOBIG);
	ff_buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(trailing_bytes), cmocka_unit_test(nul_bytes),
	    cmocka_unit_test(duplicate_keys), cmocka_unit_test(very_many_keys),
	    cmocka_unit_test(deep_nesting),   cmocka_unit_test(cap_and_object),
	    cmocka_unit_test(check_keys),     cmocka_unit_test(numbers),
	    cmocka_unit_test(booleans),	      cmocka_unit_test(strings),
	    cmocka_unit_test(string_arrays),  cmocka_unit_test(add_copy),
	    cmocka_unit_test(append_string),  cmocka_unit_test(not_utf8),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* test_routes — the controller's route table and proto/openapi.json describe the same API:
 * every route is documented with its method, every documented operation is a route, the
 * probes and the document are the only routes without a key, and the document the
 * controller serves is the file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api.h"
#include "ff_buf.h"
#include "http.h"

extern const unsigned char api_openapi_json[];
extern const size_t api_openapi_json_len;

static char *openapi_text(size_t *len)
{
	char path[512];
	const char *data = getenv("FF_TEST_DATA");
	assert_non_null(data);
	snprintf(path, sizeof(path), "%s/../../proto/openapi.json", data);
	char *text = NULL;
	struct ff_err err;
	if (ff_file_read(path, 1 << 24, &text, len, &err) < 0)
		fail_msg("%s: %s", path, err.msg);
	return text;
}

/* The document's spelling of a route's pattern: a {name*} tail is {name}. */
static void doc_path(const char *pattern, char *out, size_t n)
{
	size_t o = 0;
	for (const char *p = pattern; *p && o + 1 < n; p++)
		if (!(*p == '*' && p[1] == '}'))
			out[o++] = *p;
	out[o] = '\0';
}

static const char *method_key(enum ff_http_method m)
{
	return m == HTTP_M_GET ? "get" : m == HTTP_M_POST ? "post" : "delete";
}

static void table_and_document_agree(void **state)
{
	(void)state;
	size_t len;
	char *text = openapi_text(&len);
	cJSON *doc = cJSON_ParseWithLength(text, len);
	assert_non_null(doc);
	const cJSON *paths = cJSON_GetObjectItemCaseSensitive(doc, "paths");
	size_t documented = 0;
	for (size_t i = 0; i < api_nroutes; i++) {
		char p[256];
		doc_path(api_routes[i].pattern, p, sizeof(p));
		const cJSON *op = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(paths, p), method_key(api_routes[i].method));
		if (!op)
			fail_msg("route %s %s is not in openapi.json",
				 method_key(api_routes[i].method), p);
		/* a public route says so with an empty security list */
		const cJSON *sec = cJSON_GetObjectItemCaseSensitive(op, "security");
		bool open = cJSON_IsArray(sec) && cJSON_GetArraySize(sec) == 0;
		if (api_routes[i].access == HTTP_PUBLIC && !open)
			fail_msg("%s needs no key but openapi.json does not say so", p);
		if (api_routes[i].access != HTTP_PUBLIC && open)
			fail_msg("%s needs a key but openapi.json says it does not", p);
		assert_non_null(cJSON_GetObjectItemCaseSensitive(op, "operationId"));
	}
	const cJSON *path, *op;
	cJSON_ArrayForEach(path, paths) cJSON_ArrayForEach(op, path)
	{
		bool found = false;
		for (size_t i = 0; i < api_nroutes && !found; i++) {
			char p[256];
			doc_path(api_routes[i].pattern, p, sizeof(p));
			found = !strcmp(p, path->string) &&
				!strcmp(method_key(api_routes[i].method), op->string);
		}
		if (!found)
			fail_msg("openapi.json documents %s %s, which is no route", op->string,
				 path->string);
		documented++;
	}
	assert_int_equal(documented, api_nroutes);
	/* what the controller serves is the file, byte for byte */
	assert_int_equal(api_openapi_json_len, len);
	assert_memory_equal(api_openapi_json, text, len);
	cJSON_Delete(doc);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(table_and_document_agree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

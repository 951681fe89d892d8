/* fuzz_manifest — libFuzzer harness for ff_manifest_parse. A manifest that parses must
 * validate an empty parameter object without crashing (refusing is fine: a parameter may be
 * required), and its API view must parse back to the same view. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_manifest.h"
#include "ff_params.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_manifest: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ff_manifest *m = NULL, *again = NULL;
	struct ff_err err;
	if (ff_manifest_parse((const char *)data, size, &m, &err) < 0)
		return 0;
	cJSON *params = cJSON_CreateObject(), *out = NULL;
	check(params != NULL, "out of memory");
	if (ff_params_validate(m->parameters, params, &out, &err) == 0)
		check(cJSON_IsObject(out), "validated parameters are not an object");
	else
		check(err.code == FF_EVALIDATE && out == NULL, "unexpected refusal");
	cJSON_Delete(out);
	cJSON_Delete(params);

	cJSON *view = ff_manifest_to_json(m);
	check(view != NULL, "to_json failed");
	char *text = cJSON_PrintUnformatted(view);
	check(text != NULL, "print failed");
	check(ff_manifest_parse(text, strlen(text), &again, &err) == 0, "view does not parse");
	cJSON *view2 = ff_manifest_to_json(again);
	check(cJSON_Compare(view, view2, 1), "view changes on reparse");
	cJSON_Delete(view);
	cJSON_Delete(view2);
	free(text);
	ff_manifest_free(again);
	ff_manifest_free(m);
	return 0;
}

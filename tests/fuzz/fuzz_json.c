/* fuzz_json — libFuzzer harness for ff_json_parse, the strict parse every untrusted JSON
 * document goes through. A document it accepts must print to text it accepts again, giving
 * an equal tree (non-finite numbers, which cJSON prints as null, aside); and the printed text
 * must itself re-print to the same bytes. A document with a key given twice must never be
 * accepted, which the harness checks on the tree it got. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_json: %s\n", what);
		abort();
	}
}

/* False if any number in v is not finite (cJSON prints those as null). */
static int all_finite(const cJSON *v)
{
	if (cJSON_IsNumber(v))
		return isfinite(v->valuedouble);
	for (const cJSON *c = v->child; c; c = c->next)
		if (!all_finite(c))
			return 0;
	return 1;
}

/* No object in v holds a key twice. Quadratic, for the harness only. */
static int no_duplicates(const cJSON *v)
{
	for (const cJSON *c = v->child; c; c = c->next) {
		if (cJSON_IsObject(v))
			for (const cJSON *d = v->child; d != c; d = d->next)
				if (!strcmp(c->string, d->string))
					return 0;
		if (!no_duplicates(c))
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *a = NULL, *b = NULL, *c = NULL;
	struct ff_err err;
	if (ff_json_parse((const char *)data, size, NULL, &a, &err) < 0) {
		check(err.msg[0] != '\0', "a refusal without a message");
		return 0;
	}
	check(no_duplicates(a), "a key given twice was accepted");
	char *ta = cJSON_PrintUnformatted(a);
	check(ta != NULL, "print failed");
	check(ff_json_parse(ta, strlen(ta), NULL, &b, &err) == 0, "the printed text is refused");
	if (all_finite(a))
		check(cJSON_Compare(a, b, 1), "the printed text parses to another tree");
	char *tb = cJSON_PrintUnformatted(b);
	check(tb != NULL, "second print failed");
	check(ff_json_parse(tb, strlen(tb), NULL, &c, &err) == 0, "the reprint is refused");
	char *tc = cJSON_PrintUnformatted(c);
	check(tc && !strcmp(tb, tc), "printing is not stable");
	free(ta);
	free(tb);
	free(tc);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	return 0;
}

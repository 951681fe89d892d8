/* fuzz_job — libFuzzer harness for ff_job_decode, the parser that faces poison messages.
 * A message that decodes must re-encode to text that decodes again and re-encodes to the
 * same bytes: the controller's encoding is what the worker reads back. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_job.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_job: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ff_job *a = NULL, *b = NULL;
	struct ff_err err;
	size_t la = 0, lb = 0;
	if (ff_job_decode((const char *)data, size, &a, &err) < 0)
		return 0;
	char *ta = ff_job_encode(a, &la);
	check(ta != NULL, "encode failed");
	check(ff_job_decode(ta, la, &b, &err) == 0, "re-encoding does not decode");
	char *tb = ff_job_encode(b, &lb);
	check(tb != NULL, "second encode failed");
	check(la == lb && memcmp(ta, tb, la) == 0, "re-encoding differs");
	char **env = ff_job_env(b);
	check(env != NULL, "no environment");
	ff_job_env_free(env);
	free(ta);
	free(tb);
	ff_job_free(a);
	ff_job_free(b);
	return 0;
}

/* fuzz_secrets — the secret scanner's rules and decoders (ss_rules.c, ss_decode.c) on
 * arbitrary file contents: every rule, every decoder and rescan, the literal joiner and the
 * SSE2 byte loop, which reads 16 bytes at a time and must never read past the buffer (the
 * input is copied into a buffer of exactly its size, so ASan sees any overread).
 *
 * Beyond memory errors and leaks it asserts what the SARIF writer relies on: findings in file
 * order, each on a line the file has, with 1 <= start column <= end column, a known rule and
 * level, a message and preview that are NUL-terminated within their arrays and a snippet
 * that is valid to print. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ss_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "fuzz_secrets: %s\n", what);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	check(buf != NULL, "out of memory");
	memcpy(buf, data, size);
	long lines = 1;
	for (size_t i = 0; i < size; i++)
		lines += buf[i] == '\n';

	const struct ss_match_opts opts = {.min_entropy = 3.5};
	struct ss_findings out = {0};
	struct ff_err err = {0};
	check(ss_scan_buffer(&opts, "fuzz/input.txt", buf, size, &out, &err) == 0, err.msg);
	long last = 0;
	for (size_t i = 0; i < out.n; i++) {
		const struct ss_finding *f = &out.items[i];
		check(f->rule >= 0 && f->rule < SS_RULE_COUNT, "a finding of no rule");
		check(f->line >= 1 && f->line <= lines, "a finding on a line the file lacks");
		check(f->line >= last, "findings out of file order");
		last = f->line;
		check(f->start_col >= 1 && f->start_col <= f->end_col, "columns out of order");
		check(memchr(f->message, '\0', sizeof(f->message)) != NULL, "a message not ended");
		check(memchr(f->preview, '\0', sizeof(f->preview)) != NULL, "a preview not ended");
		check(f->level && (!strcmp(f->level, "note") || !strcmp(f->level, "warning") ||
				   !strcmp(f->level, "error")),
		      "a finding of no level");
		check(f->snippet == NULL || strlen(f->snippet) < 64 * 1024, "a snippet too long");
	}
	ss_findings_release(&out);
	free(buf);
	return 0;
}

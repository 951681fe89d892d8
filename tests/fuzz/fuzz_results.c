/* fuzz_results — a workflow's /results as the worker reads it back: the input is the tar
 * the engine's archive endpoint would send, walked by results_collect_tar (artifact names,
 * the SARIF log's cap, the spool), and the SARIF log it kept then goes through what the
 * worker does before storing (ff_sarif_prescan, ff_sarif_normalise).
 *
 * Beyond memory errors it asserts what is stored: each artifact name non-empty, valid UTF-8
 * without NUL, at most RESULTS_ARTIFACT_NAME_MAX bytes as read (3 times that once made
 * valid), confined (not absolute, no "." or ".." segment); the artifacts lie one after
 * another in the spool, within max_bytes; the SARIF log within sarif_max; the notes for the
 * run's history valid UTF-8; a failure says why; and every finding passes findings_check.h
 * (strings valid UTF-8, paths confined, lines within int range). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "findings_check.h"
#include "results.h"

#define MAX_BYTES (256u * 1024)
#define SARIF_MAX (64u * 1024)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok, const char *what, const char *s)
{
	if (!ok)
		findings_fail("fuzz_results", what, s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct results_limits lim = {.max_bytes = MAX_BYTES, .sarif_max = SARIF_MAX};
	struct results r;
	struct ff_err err = {0};
	int fd = memfd_create("fuzz_results", MFD_CLOEXEC);
	check(fd >= 0 && (size_t)write(fd, data, size) == size && lseek(fd, 0, SEEK_SET) == 0,
	      "cannot stage the input", NULL);
	int rc = results_collect_tar(fd, &lim, &r, &err);
	close(fd);
	check(rc == 0 || err.msg[0], "a failure without a reason", NULL);
	check(text_ok(r.skipped) && text_ok(r.sarif_error), "a note that is not UTF-8", r.skipped);

	uint64_t off = 0;
	for (size_t i = 0; i < r.nartifacts; i++) {
		const struct artifact *a = &r.artifacts[i];
		check(text_ok(a->name) && strlen(a->name) <= 3 * RESULTS_ARTIFACT_NAME_MAX,
		      "an artifact name that is not UTF-8 or too long", a->name);
		check(path_confined(a->name), "an artifact name not confined", a->name);
		check(a->off == off, "artifacts not one after another in the spool", a->name);
		off += a->size;
	}
	check(off <= MAX_BYTES && off == r.spool.len, "the artifacts are not the spool", NULL);

	if (r.sarif) {
		check(r.have_sarif && r.sarif_len <= SARIF_MAX, "a SARIF log over its cap", NULL);
		struct ff_findings f = {0};
		struct ff_err serr = {0};
		if (ff_sarif_prescan(r.sarif, r.sarif_len, 0, 0, &serr) == 0 &&
		    ff_sarif_normalise(r.sarif, r.sarif_len, 0, &f, &serr) == 0)
			findings_check("fuzz_results", &f, 100000);
		ff_findings_release(&f);
	}
	results_release(&r);
	return 0;
}

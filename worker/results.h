/* results — what a workflow left in /results, read back through the Engine's archive
 * endpoint: the SARIF log (/results/results.sarif) and the files under /results/artifacts/,
 * within one size limit for the whole tree. */
#ifndef RESULTS_H
#define RESULTS_H

#include <stddef.h>

#include "docker.h"

#define RESULTS_ARTIFACT_NAME_MAX 255

struct artifact {
	char *name; /* the path under /results/artifacts/ */
	void *data;
	size_t size;
};

struct results {
	char *sarif; /* NUL-terminated, sarif_len bytes; NULL when the workflow wrote none */
	size_t sarif_len;
	struct artifact *artifacts;
	size_t nartifacts, artifacts_cap;
};

/* Reads /results of the stopped container into r (zeroed first); FF_ETOOBIG past
 * max_bytes. r is the caller's to release, whatever the outcome. */
int results_collect(struct docker *d, const char *container, size_t max_bytes, struct results *r,
		    struct ff_err *err);
void results_release(struct results *r);

#endif

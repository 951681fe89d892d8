/* store — the worker's database steps around an attempt: the target it runs on, and the
 * attempt's end recorded in one transaction (logs, SARIF, findings, artifacts and the
 * lifecycle transition), guarded on the attempt still holding the run. */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>

#include "ff_db.h"
#include "ff_run.h"
#include "ff_sarif.h"
#include "outcome.h"
#include "output.h"
#include "results.h"

/* The target's stored tar; *buf is malloc'd (caller frees). FF_ENOTFOUND if not stored. */
int store_load_target(struct ff_db *db, const char *sha256, void **buf, size_t *len,
		      struct ff_err *err);

/* What an attempt leaves behind for the database. findings: the SARIF log's, NULL when it
 * had none or an invalid one. */
struct store_attempt {
	const struct ff_run_ref *ref;
	const struct outcome *o; /* FF_RUN_FINISH, FF_RUN_RETRY or FF_RUN_DEAD_LETTER */
	int exit_code;
	const struct output *out;
	const struct results *res;
	const struct ff_findings *findings;
};

/* Records the attempt's end. A retried attempt keeps its logs; findings and artifacts are
 * the last attempt's only. Retries while the database is unreachable, for up to
 * retry_for_ms (the lease gives that long before another worker would take the run).
 * 0 when recorded; FF_ECONFLICT when the run had moved on (cancelled, or taken by another
 * attempt), which records nothing. */
int store_attempt_end(struct ff_db *db, const struct store_attempt *a, long retry_for_ms,
		      struct ff_err *err);

#endif

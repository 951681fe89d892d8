/* store — the worker's database steps around an attempt: the target it runs on, and the
 * attempt's end recorded in one transaction (logs, SARIF, findings, artifacts and the
 * lifecycle transition), guarded on the attempt still holding the run. */
#ifndef STORE_H
#define STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ff_db.h"
#include "ff_run.h"
#include "ff_sarif.h"
#include "outcome.h"
#include "output.h"
#include "results.h"

/* The target's stored tar, read as a stream: store_target_open begins a read-only
 * transaction and opens the target's large object (FF_ENOTFOUND if not stored);
 * store_target_read is an ff_archive_read_fn over it (chunks of 256 KiB; a row written
 * before migration 004 comes as its bytea, whole); store_target_close ends the transaction.
 * The db connection is the stream's until then. */
struct store_target {
	struct ff_db *db;
	int fd;
	bool in_txn;
	void *buf;
	PGresult *legacy;
	bool legacy_done;
};
int store_target_open(struct ff_db *db, const char *sha256, struct store_target *t,
		      struct ff_err *err);
long store_target_read(void *ctx, const void **buf, struct ff_err *err);
void store_target_close(struct store_target *t); /* safe after a failed open */

/* The job a message points at: the one the controller validated and stored with the run.
 * A broker message is a pointer (run id and attempt), not an instruction: anyone who can
 * publish to the broker can write one. On success out->job is the stored job with the
 * message's attempt and the run's max_attempts, and out->automation_id the run's SARIF
 * automationDetails.id, "<workflow>/<labels>/": its labels as k=v sorted by key in byte
 * order, comma-separated ("secret-detection/branch=main,ci=github/"; no labels:
 * "secret-detection//"), so every run of one workflow in one pipeline has the same id.
 * The caller owns both (ff_job_free, free). FF_ENOTFOUND: no such run; FF_ECONFLICT: the
 * message disagrees with the stored job (err names the field); FF_EINVAL: the stored job
 * does not decode; other codes: the database is away. */
struct store_trusted {
	struct ff_job *job;
	char *automation_id;
};
int store_job_trusted(struct ff_db *db, const struct ff_job *msg, struct store_trusted *out,
		      struct ff_err *err);

/* An event of the attempt held back for a later write (exec.c's note_later): its message
 * and when it happened (ff_now_ms). */
struct store_note {
	char message[320];
	int64_t at_ms;
};

/* How long ago the note happened, for ff_run_note's age_ms. */
long store_note_age_ms(const struct store_note *n);

/* What an attempt leaves behind for the database. findings: the SARIF log's, NULL when it
 * had none or an invalid one. res: NULL keeps no SARIF log and no artifacts. */
struct store_attempt {
	const struct ff_run_ref *ref;
	const struct outcome *o; /* FF_RUN_FINISH, FF_RUN_RETRY or FF_RUN_DEAD_LETTER */
	int exit_code;
	const struct output *out;
	const struct results *res;
	const struct ff_findings *findings;
	/* Written in the same transaction, before the attempt's last event. */
	const struct store_note *notes;
	int nnotes;
	/* Called, when set, each time a try finds the database away (before any pause for it):
	 * what the caller would rather not hold while it waits (the worker's containers). */
	void (*on_unavailable)(void *ctx);
	void *ctx;
};

/* Records the attempt's end. A retried attempt keeps its logs; findings and artifacts are
 * the last attempt's only. Retries while the database is unreachable, for up to
 * retry_for_ms (the lease gives that long before another worker would take the run).
 * When the database refuses the result for its data instead (ff_db_failed_on_data: what the
 * workflow wrote got past the validation in results and ff_sarif and still does not fit the
 * schema), nothing is retried: the attempt is recorded again at once with its logs but no
 * SARIF log, findings or artifacts, failed and dead-lettered (outcome_unstorable), and the
 * reason is logged. Letting the lease expire instead would lose the logs and take three
 * expiries to end the run. *recorded gets the outcome recorded: *a->o, or that one.
 * 0 when recorded; FF_ECONFLICT when the run had moved on (cancelled, or taken by another
 * attempt), which records nothing. */
int store_attempt_end(struct ff_db *db, const struct store_attempt *a, long retry_for_ms,
		      struct outcome *recorded, struct ff_err *err);

#endif

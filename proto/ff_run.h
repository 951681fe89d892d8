/* ff_run — the run lifecycle performed against PostgreSQL: one function per transition of
 * ff_run_state.h's table. Each is one statement — a guarded UPDATE (`state = ANY(<the
 * table's from-set>)`, plus the attempt and worker where an attempt holds the run) with the
 * run's event appended in the same statement — so a duplicate delivery, a late worker or
 * two controllers at once can never move a run twice. It runs inside the caller's
 * transaction when one is open (the worker stores results and ends the attempt in one).
 *
 * Returns: 1 when the run moved; 0 when the guard refused (the run is in another state, or
 * no longer this attempt's); a negative FF_E* code with err when the database failed.
 * Functions with a `view` take an SQL select list over the moved row, aliased r (for
 * instance the API's columns of a run), and return its columns first in each row of *out
 * (caller PQclear()s).
 * Everything else that reads or writes a run's state or lease is here too, so that state
 * names reach SQL only from the table.
 */
#ifndef FF_RUN_H
#define FF_RUN_H

#include <libpq-fe.h>

#include "ff_db.h"
#include "ff_run_state.h"

/* A run as one attempt holds it: the guard of every transition out of running. */
struct ff_run_ref {
	const char *id;
	int attempt;
	const char *worker;
};

struct ff_run_submission {
	const char *id, *workflow, *workflow_version, *target, *pool;
	const char *parameters, *labels, *job; /* JSON text */
	int priority, max_attempts;
	const char *idempotency_key, *request_sha256; /* NULL for none */
};

/* submit: inserts the run, queued, with its first event, if its target is stored. 1 with
 * *out = one row of view; 0 when no such target; FF_ECONFLICT when the idempotency key is
 * already taken. */
int ff_run_submit(struct ff_db *db, const struct ff_run_submission *s, const char *view,
		  PGresult **out, struct ff_err *err);
/* submit of n runs in one statement: *out gets a row (view, then the run's id as text) for
 * each run inserted, in the order given; a run whose target is not stored has none. Returns
 * the rows' count, or FF_ECONFLICT for all when one idempotency key is already taken (each
 * can then be submitted alone to find which). */
int ff_run_submit_many(struct ff_db *db, const struct ff_run_submission *const *subs, int n,
		       const char *view, PGresult **out, struct ff_err *err);

/* start: queued or retrying -> running for ref (the attempt must be the next one), with a
 * lease of lease_s. A retry that came due also gets its queued step in the history. *again
 * (may be NULL) says whether this attempt was started before, by a worker that handed it
 * back or lost its lease without the attempt counting: that worker's containers and
 * volumes for it may still exist. */
int ff_run_start(struct ff_db *db, const struct ff_run_ref *ref, long lease_s, bool *again,
		 struct ff_err *err);

/* How an attempt ended, for finish, retry and dead_letter. */
struct ff_run_result {
	enum ff_run_state state;      /* the transition's to-state */
	const char *error;	      /* NULL for none */
	int exit_code;		      /* -1: the container never exited */
	const char *findings_summary; /* JSON text or NULL */
};
/* finish: running -> succeeded or timed_out. */
int ff_run_finish(struct ff_db *db, const struct ff_run_ref *ref, const struct ff_run_result *res,
		  struct ff_err *err);
/* retry: running -> retrying; the next attempt is due in delay_s and its job goes to the
 * outbox until its publish is confirmed. */
int ff_run_retry(struct ff_db *db, const struct ff_run_ref *ref, const struct ff_run_result *res,
		 long delay_s, struct ff_err *err);
/* dead_letter: running -> failed or timed_out past the budget, with its dead_letters row. */
int ff_run_dead_letter(struct ff_db *db, const struct ff_run_ref *ref,
		       const struct ff_run_result *res, struct ff_err *err);

/* hand_back: running -> queued without counting the attempt (a draining worker, or one
 * whose engine is gone before the container ran); the event says "handed back by worker
 * <worker>: <why>". */
int ff_run_hand_back(struct ff_db *db, const struct ff_run_ref *ref, const char *why,
		     struct ff_err *err);

/* cancel and requeue, by run id. *out is one row: view of the moved run (NULLs when it did
 * not move), then the state the run was in (its last column). FF_ENOTFOUND when there is no
 * run id. */
int ff_run_cancel(struct ff_db *db, const char *id, const char *view, PGresult **out,
		  struct ff_err *err);
/* requeue: a terminal run -> queued with `budget` more attempts, its results dropped. With
 * dead_letters_only, only a dead-lettered run (refused otherwise). */
int ff_run_requeue(struct ff_db *db, const char *id, int budget, const char *message,
		   bool dead_letters_only, const char *view, PGresult **out, struct ff_err *err);

/* lease_expiry: every running run whose lease ran out goes back to queued without counting
 * the attempt, or to failed on its max_losses-th loss. Rows claimed with SKIP LOCKED, so
 * several controllers may reap at once. *out: the run ids moved (caller PQclear()s). */
int ff_run_expire_leases(struct ff_db *db, int max_losses, PGresult **out, struct ff_err *err);

/* The outbox (table run_outbox) holds every job the broker has not confirmed: (run_id,
 * attempt), the job that starts that attempt, and gen, how many times it was put there
 * again while there. A statement that makes a run's next job due puts it there in its own
 * transaction: FF_RUN_TO_OUTBOX takes the rows of its CTE r (id, current attempt, and
 * next_due: whether the run now waits for its next attempt's job). */
#define FF_RUN_TO_OUTBOX                                                                           \
	"INSERT INTO run_outbox (run_id, attempt) SELECT id, attempt + 1 FROM r WHERE next_due "   \
	"ON CONFLICT (run_id, attempt) DO UPDATE SET gen = run_outbox.gen + 1"

/* The broker confirmed the job for job_attempt, published when its outbox row was at gen:
 * out of the outbox, unless it was put there again since (a hand-back of the attempt that
 * job started, say, before this confirm was recorded: the job was consumed, another one is
 * needed). 0 or an FF_E* code. */
int ff_run_mark_published(struct ff_db *db, const char *id, int job_attempt, int gen,
			  struct ff_err *err);
/* The same for many runs' jobs at gen 0 (the submits', published after the statement that
 * put them there): ids is a PostgreSQL array literal, "{id,id,...}". */
int ff_run_mark_published_many(struct ff_db *db, const char *ids, int job_attempt,
			       struct ff_err *err);

/* Drops the outbox rows of runs that have moved on: jobs whose confirm was never recorded (a
 * database error, a crash just after the confirm) or jobs of runs cancelled before their
 * publish. They are never published (the sweep and the audit look only for the job of a
 * run's next attempt), so this only keeps the table small. The number dropped, or an FF_E*
 * code. */
int ff_run_outbox_prune(struct ff_db *db, struct ff_err *err);

/* Within running, no transition: live progress, an event in the history, lease renewal
 * for the runs a worker's executors hold (ids: a uuid[] literal). 0 or an FF_E* code. */
int ff_run_progress(struct ff_db *db, const char *id, int pct, const char *text,
		    struct ff_err *err);
/* The note happened age_ms ago: one held back for a later write keeps its time. */
int ff_run_note(struct ff_db *db, const struct ff_run_ref *ref, const char *message, long age_ms,
		struct ff_err *err);
/* A piece of the attempt's output as it runs: bytes [at, at + len) of its log (migration
 * 009), for the followers of its logs. */
int ff_run_log_piece(struct ff_db *db, const struct ff_run_ref *ref, size_t at, const char *data,
		     size_t len, struct ff_err *err);
int ff_run_renew_leases(struct ff_db *db, const char *worker, const char *ids, long lease_s,
			struct ff_err *err);
/* Of the runs in ids (a uuid[] literal), those cancelled: *out has their ids. */
int ff_run_cancelled_among(struct ff_db *db, const char *ids, PGresult **out, struct ff_err *err);

#endif

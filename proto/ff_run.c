/* ff_run — the lifecycle's transitions as guarded statements; see ff_run.h.
 *
 * State names never appear in this SQL: each statement takes them as parameters from the
 * transition table (the guard's from-set as a text[], the to-state as text), so the table is
 * what the database enforces, and tests/integration/it_lifecycle.c checks it is. */
#include "ff_run.h"
#include "ff_buf.h"
#include "ff_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STATES_MAX 96 /* "{queued,running,...}" of every state fits */

static const char *name(enum ff_run_state s)
{
	return ff_run_state_name(s);
}

static const char *from_set(enum ff_run_transition t, char buf[STATES_MAX])
{
	return ff_run_states_array(ff_run_transitions[t].from, buf, STATES_MAX);
}

/* 1 when the statement returned a row (the run moved), 0 when not; clears res. */
static int moved(PGresult *res, struct ff_err *err)
{
	if (!res)
		return err->code;
	int n = PQntuples(res);
	PQclear(res);
	return n > 0;
}

/* prefix, then view (or "1"), then suffix, as a new string; NULL on no memory. */
static char *with_view(const char *prefix, const char *view, const char *suffix, struct ff_err *err)
{
	char *sql;
	if (asprintf(&sql, "%s%s%s", prefix, view ? view : "1", suffix) < 0) {
		ff_err_set(err, FF_ENOMEM, "out of memory");
		return NULL;
	}
	return sql;
}

/* Appends vals[0..n) to b as a PostgreSQL array literal ({"a","b",NULL}). */
static int array_literal(struct ff_buf *b, const char *const *vals, int n)
{
	int rc = ff_buf_append(b, "{", 1);
	for (int i = 0; i < n && rc == 0; i++) {
		if (i)
			rc = ff_buf_append(b, ",", 1);
		if (!vals[i]) {
			rc = rc ? rc : ff_buf_append(b, "NULL", 4);
			continue;
		}
		rc = rc ? rc : ff_buf_append(b, "\"", 1);
		/* Runs of plain characters, a backslash before each quote and backslash. */
		for (const char *c = vals[i]; *c && rc == 0;) {
			size_t plain = strcspn(c, "\"\\");
			rc = ff_buf_append(b, c, plain);
			c += plain;
			if (*c && rc == 0 && (rc = ff_buf_append(b, "\\", 1)) == 0)
				rc = ff_buf_append(b, c++, 1);
		}
		rc = rc ? rc : ff_buf_append(b, "\"", 1);
	}
	return rc ? rc : ff_buf_append(b, "}", 1);
}

#define SUBMIT_COLUMNS 12

/* Column k of submission s, as text (NULL for SQL NULL); num holds formatted numbers. */
static const char *submit_column(const struct ff_run_submission *s, int k, char num[2][16])
{
	switch (k) {
	case 0: return s->id;
	case 1: return s->workflow;
	case 2: return s->workflow_version;
	case 3: return s->target;
	case 4: return s->parameters;
	case 5: snprintf(num[0], 16, "%d", s->priority); return num[0];
	case 6: return s->labels ? s->labels : "{}";
	case 7: return s->pool;
	case 8: return s->job;
	case 9: snprintf(num[1], 16, "%d", s->max_attempts); return num[1];
	case 10: return s->idempotency_key;
	default: return s->idempotency_key ? s->request_sha256 : NULL;
	}
}

int ff_run_submit_many(struct ff_db *db, const struct ff_run_submission *const *subs, int n,
		       const char *view, PGresult **out, struct ff_err *err)
{
	struct ff_buf cols[SUBMIT_COLUMNS];
	const char *p[SUBMIT_COLUMNS + 1];
	const char **vals = calloc((size_t)n + 1, sizeof(*vals));
	char(*nums)[2][16] = calloc((size_t)n + 1, sizeof(*nums));
	int rc = vals && nums ? 0 : FF_ENOMEM;
	for (int k = 0; k < SUBMIT_COLUMNS; k++) {
		ff_buf_init(&cols[k], SIZE_MAX);
		for (int i = 0; i < n && rc == 0; i++)
			vals[i] = submit_column(subs[i], k, nums[i]);
		rc = rc ? rc : array_literal(&cols[k], vals, n);
		p[k] = ff_buf_str(&cols[k]);
	}
	p[SUBMIT_COLUMNS] = name(FF_RUN_QUEUED);
	/* One statement for all: the rows in the order given, each only if its target is
	 * stored, each with its first event and its job in the outbox (no conflict possible:
	 * the run is new). */
	char *sql =
	    rc ? NULL
	       : with_view(
		     "WITH v AS (SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], "
		     "  $4::text[], $5::jsonb[], $6::smallint[], $7::jsonb[], $8::text[], "
		     "  $9::jsonb[], $10::int[], $11::text[], $12::text[]) WITH ORDINALITY "
		     "  AS v(id, workflow, workflow_version, target, parameters, priority, "
		     "  labels, pool, job, max_attempts, idempotency_key, request_sha256, "
		     "  ord)), "
		     "r AS (INSERT INTO runs (id, workflow, workflow_version, target, "
		     "  parameters, priority, labels, pool, job, state, max_attempts, "
		     "  idempotency_key, request_sha256) "
		     "  SELECT id, workflow, workflow_version, target, parameters, priority, "
		     "  labels, pool, job, $13, max_attempts, idempotency_key, request_sha256 "
		     "  FROM v WHERE EXISTS (SELECT 1 FROM targets t WHERE t.sha256 = "
		     "  v.target) ORDER BY ord RETURNING *), "
		     "e AS (INSERT INTO run_events (run_id, state, attempt, message) "
		     "  SELECT id, state, 0, 'submitted' FROM r), "
		     "o AS (INSERT INTO run_outbox (run_id, attempt) SELECT id, 1 FROM r) "
		     "SELECT ",
		     view, ", r.id::text FROM r", err);
	if (rc)
		ff_err_set(err, FF_ENOMEM, "out of memory");
	PGresult *res = sql ? ff_db_query(db, sql, SUBMIT_COLUMNS + 1, p, err) : NULL;
	if (!res)
		rc = err->code;
	free(sql);
	free(vals);
	free(nums);
	for (int k = 0; k < SUBMIT_COLUMNS; k++)
		ff_buf_release(&cols[k]);
	if (!res)
		return rc;
	*out = res;
	return PQntuples(res);
}

int ff_run_submit(struct ff_db *db, const struct ff_run_submission *s, const char *view,
		  PGresult **out, struct ff_err *err)
{
	PGresult *res = NULL;
	int rc = ff_run_submit_many(db, &s, 1, view, &res, err);
	if (rc == 1)
		*out = res;
	else
		PQclear(res);
	return rc;
}

int ff_run_start(struct ff_db *db, const struct ff_run_ref *ref, long lease_s, bool *again,
		 struct ff_err *err)
{
	char attempt[16], lease[24], from[STATES_MAX];
	snprintf(attempt, sizeof(attempt), "%d", ref->attempt);
	snprintf(lease, sizeof(lease), "%ld", lease_s);
	const char *p[] = {ref->id,
			   attempt,
			   ref->worker,
			   lease,
			   name(FF_RUN_RUNNING),
			   from_set(FF_RUN_START, from),
			   name(FF_RUN_QUEUED),
			   name(FF_RUN_RETRYING)};
	/* One statement: all its parts see the rows as they were before, so prev is the state
	 * the run leaves and "again" does not see the event inserted here. Events are inserted
	 * in order (a retry's queued step first). */
	PGresult *res = ff_db_query(
	    db,
	    "WITH prev AS (SELECT state FROM runs WHERE id = $1), "
	    "r AS (UPDATE runs SET state = $5, attempt = $2::int, worker = $3, "
	    "  started_at = clock_timestamp(), progress = 0, progress_text = NULL, "
	    "  next_attempt_at = NULL, lease_until = clock_timestamp() + $4::int * "
	    "  interval '1 second' WHERE id = $1 AND state = ANY($6::text[]) "
	    "  AND attempt = $2::int - 1 RETURNING id, attempt), "
	    "e AS (INSERT INTO run_events (run_id, state, attempt, message) "
	    "  SELECT id, st, att, msg FROM ("
	    "    SELECT 1 AS o, r.id, $7 AS st, r.attempt - 1 AS att, 'retry due' AS msg "
	    "    FROM r, prev WHERE prev.state = $8 "
	    "    UNION ALL SELECT 2, r.id, $5, r.attempt, 'started on ' || $3 FROM r) x "
	    "  ORDER BY o) "
	    "SELECT EXISTS (SELECT 1 FROM run_events WHERE run_id = $1 AND attempt = $2::int "
	    "  AND state = $5) FROM r",
	    8, p, err);
	if (again)
		*again = res && PQntuples(res) == 1 && strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	return moved(res, err);
}

/* finish, retry and dead_letter: the attempt's end, guarded on it still holding the run. */
static int end_attempt(struct ff_db *db, enum ff_run_transition t, const struct ff_run_ref *ref,
		       const struct ff_run_result *res, long delay_s, struct ff_err *err)
{
	char attempt[16], exit_code[16], delay[24], from[STATES_MAX];
	if (!(ff_run_transitions[t].to & FF_RUN_BIT(res->state)))
		return ff_err_set(err, FF_EINTERNAL, "%s cannot end in %s",
				  ff_run_transitions[t].name, name(res->state));
	snprintf(attempt, sizeof(attempt), "%d", ref->attempt);
	snprintf(exit_code, sizeof(exit_code), "%d", res->exit_code);
	snprintf(delay, sizeof(delay), "%ld", delay_s);
	int retrying = t == FF_RUN_RETRY;
	const char *p[] = {ref->id,
			   name(res->state),
			   res->error,
			   res->exit_code >= 0 ? exit_code : NULL,
			   res->findings_summary,
			   attempt,
			   ref->worker,
			   delay,
			   retrying ? "true" : "false",
			   res->state == FF_RUN_SUCCEEDED ? "true" : "false",
			   from_set(t, from),
			   t == FF_RUN_DEAD_LETTER ? "true" : "false"};
	return moved(
	    ff_db_query(db,
			"WITH r AS (UPDATE runs SET state = $2, error = $3, exit_code = $4::int, "
			"  findings_summary = $5::jsonb, lease_until = NULL, "
			"  finished_at = CASE WHEN $9::bool THEN NULL ELSE clock_timestamp() END, "
			"  next_attempt_at = CASE WHEN $9::bool THEN clock_timestamp() + "
			"    $8::int * interval '1 second' END, "
			"  progress = CASE WHEN $10::bool THEN 100 ELSE progress END "
			"  WHERE id = $1 AND state = ANY($11::text[]) AND attempt = $6::int "
			"  AND worker = $7 RETURNING id, attempt, $9::bool AS next_due), "
			"d AS (INSERT INTO dead_letters (run_id, attempts, last_error) "
			"  SELECT id, attempt, $3 FROM r WHERE $12::bool "
			"  ON CONFLICT (run_id) DO UPDATE SET attempts = EXCLUDED.attempts, "
			"  last_error = EXCLUDED.last_error, at = clock_timestamp()), "
			"o AS (" FF_RUN_TO_OUTBOX ") "
			"INSERT INTO run_events (run_id, state, attempt, message) "
			"SELECT id, $2, attempt, CASE WHEN $9::bool THEN 'attempt ' || attempt || "
			"  ' failed: ' || $3 || '; next attempt in ' || $8 || ' s' ELSE $3 END "
			"FROM r RETURNING run_id",
			12, p, err),
	    err);
}

int ff_run_finish(struct ff_db *db, const struct ff_run_ref *ref, const struct ff_run_result *res,
		  struct ff_err *err)
{
	return end_attempt(db, FF_RUN_FINISH, ref, res, 0, err);
}

int ff_run_retry(struct ff_db *db, const struct ff_run_ref *ref, const struct ff_run_result *res,
		 long delay_s, struct ff_err *err)
{
	return end_attempt(db, FF_RUN_RETRY, ref, res, delay_s, err);
}

int ff_run_dead_letter(struct ff_db *db, const struct ff_run_ref *ref,
		       const struct ff_run_result *res, struct ff_err *err)
{
	return end_attempt(db, FF_RUN_DEAD_LETTER, ref, res, 0, err);
}

int ff_run_hand_back(struct ff_db *db, const struct ff_run_ref *ref, const char *why,
		     struct ff_err *err)
{
	char attempt[16], from[STATES_MAX];
	snprintf(attempt, sizeof(attempt), "%d", ref->attempt);
	const char *p[] = {
	    ref->id, attempt, ref->worker, name(FF_RUN_QUEUED), from_set(FF_RUN_HAND_BACK, from),
	    why};
	return moved(
	    ff_db_query(db,
			"WITH r AS (UPDATE runs SET state = $4, attempt = attempt - 1, "
			"  worker = NULL, lease_until = NULL, started_at = NULL, "
			"  next_attempt_at = clock_timestamp() "
			"  WHERE id = $1 AND state = ANY($5::text[]) AND attempt = $2::int "
			"  AND worker = $3 RETURNING id, attempt, true AS next_due), "
			"o AS (" FF_RUN_TO_OUTBOX ") "
			"INSERT INTO run_events (run_id, state, attempt, message) "
			"SELECT id, $4, attempt, 'handed back by worker ' || $3 || ': ' || $6 "
			"FROM r RETURNING run_id",
			6, p, err),
	    err);
}

/* cancel and requeue: *out is one row (view's columns, whether the run moved, the state it
 * was in); see ff_run.h. */
static int by_id(struct ff_db *db, const char *sql_prefix, const char *view, int n,
		 const char *const *p, PGresult **out, struct ff_err *err)
{
	char *sql = with_view(sql_prefix, view,
			      ", r.id IS NOT NULL, s.state FROM (SELECT state FROM runs "
			      "WHERE id = $1) s LEFT JOIN r ON true",
			      err);
	if (!sql)
		return err->code;
	PGresult *res = ff_db_query(db, sql, n, p, err);
	free(sql);
	if (!res)
		return err->code;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return ff_err_set(err, FF_ENOTFOUND, "no run %s", p[0]);
	}
	*out = res;
	return *PQgetvalue(res, 0, PQnfields(res) - 2) == 't';
}

int ff_run_cancel(struct ff_db *db, const char *id, const char *view, PGresult **out,
		  struct ff_err *err)
{
	char from[STATES_MAX];
	const char *p[] = {id, name(FF_RUN_CANCELLED), from_set(FF_RUN_CANCEL, from)};
	return by_id(db,
		     "WITH prev AS (SELECT id, state FROM runs WHERE id = $1), "
		     "r AS (UPDATE runs SET state = $2, error = 'cancelled by request', "
		     "  finished_at = clock_timestamp(), lease_until = NULL FROM prev "
		     "  WHERE runs.id = prev.id AND runs.state = ANY($3::text[]) "
		     "  RETURNING runs.*, prev.state AS was), "
		     "e AS (INSERT INTO run_events (run_id, state, attempt, message) "
		     "  SELECT id, state, attempt, 'cancelled while ' || was FROM r) "
		     "SELECT ",
		     view, 3, p, out, err);
}

int ff_run_requeue(struct ff_db *db, const char *id, int budget, const char *message,
		   bool dead_letters_only, const char *view, PGresult **out, struct ff_err *err)
{
	char b[16], from[STATES_MAX];
	snprintf(b, sizeof(b), "%d", budget);
	const char *p[] = {id,
			   b,
			   message,
			   dead_letters_only ? "true" : "false",
			   name(FF_RUN_QUEUED),
			   from_set(FF_RUN_REQUEUE, from)};
	return by_id(
	    db,
	    "WITH r AS (UPDATE runs SET state = $5, max_attempts = attempt + $2::int, "
	    "  error = NULL, exit_code = NULL, started_at = NULL, finished_at = NULL, "
	    "  worker = NULL, progress = 0, progress_text = NULL, findings_summary = NULL, "
	    "  next_attempt_at = clock_timestamp(), lease_losses = 0 "
	    "  WHERE id = $1 AND state = ANY($6::text[]) "
	    "  AND (NOT $4::bool OR EXISTS (SELECT 1 FROM dead_letters d "
	    "  WHERE d.run_id = $1)) RETURNING *, true AS next_due), "
	    "d1 AS (DELETE FROM findings WHERE run_id IN (SELECT id FROM r)), "
	    "d2 AS (DELETE FROM artifacts WHERE run_id IN (SELECT id FROM r)), "
	    "d3 AS (DELETE FROM run_results WHERE run_id IN (SELECT id FROM r)), "
	    "d4 AS (DELETE FROM dead_letters WHERE run_id IN (SELECT id FROM r)), "
	    "o AS (" FF_RUN_TO_OUTBOX "), "
	    "e AS (INSERT INTO run_events (run_id, state, attempt, message) "
	    "  SELECT id, state, attempt, $3 FROM r) "
	    "SELECT ",
	    view, 6, p, out, err);
}

int ff_run_expire_leases(struct ff_db *db, int max_losses, PGresult **out, struct ff_err *err)
{
	char max[16];
	snprintf(max, sizeof(max), "%d", max_losses);
	const char *p[] = {max, name(FF_RUN_RUNNING), name(FF_RUN_FAILED), name(FF_RUN_QUEUED)};
	PGresult *res = ff_db_query(
	    db,
	    "WITH lost AS (SELECT id, worker, lease_losses FROM runs WHERE state = $2 "
	    "  AND lease_until < clock_timestamp() FOR UPDATE SKIP LOCKED), "
	    "r AS (UPDATE runs SET "
	    "  state = CASE WHEN lost.lease_losses + 1 >= $1::int THEN $3 ELSE $4 END, "
	    "  error = CASE WHEN lost.lease_losses + 1 >= $1::int THEN 'lost its worker ' || "
	    "    $1 || ' times' END, "
	    "  finished_at = CASE WHEN lost.lease_losses + 1 >= $1::int THEN clock_timestamp() "
	    "END, "
	    "  attempt = CASE WHEN lost.lease_losses + 1 >= $1::int THEN runs.attempt "
	    "    ELSE runs.attempt - 1 END, "
	    "  worker = NULL, lease_until = NULL, "
	    "  next_attempt_at = clock_timestamp(), lease_losses = lost.lease_losses + 1 "
	    "  FROM lost WHERE runs.id = lost.id RETURNING runs.id, runs.state, runs.attempt, "
	    "  runs.error, lost.worker, runs.state = $4 AS next_due), "
	    /* given up: a dead letter like any run that failed past its budget */
	    "d AS (INSERT INTO dead_letters (run_id, attempts, last_error) "
	    "  SELECT id, attempt, error FROM r WHERE state = $3 "
	    "  ON CONFLICT (run_id) DO UPDATE SET attempts = EXCLUDED.attempts, "
	    "  last_error = EXCLUDED.last_error, at = clock_timestamp()), "
	    "o AS (" FF_RUN_TO_OUTBOX ") "
	    "INSERT INTO run_events (run_id, state, attempt, message) "
	    "SELECT id, state, attempt, 'lease expired on worker ' || coalesce(worker, '?') || "
	    "  CASE WHEN state = $4 THEN ': requeued' ELSE ': giving up' END FROM r "
	    "RETURNING run_id",
	    4, p, err);
	if (!res)
		return err->code;
	*out = res;
	return PQntuples(res) > 0;
}

static int mark_published(struct ff_db *db, const char *ids, int job_attempt, int gen,
			  struct ff_err *err)
{
	char attempt[16], g[16];
	snprintf(attempt, sizeof(attempt), "%d", job_attempt);
	snprintf(g, sizeof(g), "%d", gen);
	const char *p[] = {ids, attempt, g};
	return ff_db_exec(db,
			  "DELETE FROM run_outbox WHERE run_id = ANY($1::uuid[]) "
			  "AND attempt = $2::int AND gen = $3::int",
			  3, p, err);
}

int ff_run_mark_published(struct ff_db *db, const char *id, int job_attempt, int gen,
			  struct ff_err *err)
{
	char ids[FF_UUID_LEN + 3];
	snprintf(ids, sizeof(ids), "{%s}", id);
	return mark_published(db, ids, job_attempt, gen, err);
}

int ff_run_mark_published_many(struct ff_db *db, const char *ids, int job_attempt,
			       struct ff_err *err)
{
	return mark_published(db, ids, job_attempt, 0, err);
}

int ff_run_outbox_prune(struct ff_db *db, struct ff_err *err)
{
	char waiting[STATES_MAX];
	const char *p[] = {ff_run_states_array(FF_RUN_WAITING, waiting, STATES_MAX)};
	/* The run's row is locked: a statement that puts the run's job back in the outbox (a
	 * hand-back) then either waits for this delete or is seen by it. */
	PGresult *res =
	    ff_db_query(db,
			"WITH stale AS (SELECT o.run_id, o.attempt FROM run_outbox o "
			"  JOIN runs r ON r.id = o.run_id WHERE o.attempt <> r.attempt + 1 "
			"  OR NOT r.state = ANY($1::text[]) FOR UPDATE OF r SKIP LOCKED) "
			"DELETE FROM run_outbox o USING stale "
			"WHERE o.run_id = stale.run_id AND o.attempt = stale.attempt RETURNING 1",
			1, p, err);
	if (!res)
		return err->code;
	int n = PQntuples(res);
	PQclear(res);
	return n;
}

int ff_run_progress(struct ff_db *db, const char *id, int pct, const char *text, struct ff_err *err)
{
	char p1[16];
	snprintf(p1, sizeof(p1), "%d", pct);
	const char *p[] = {id, p1, text, name(FF_RUN_RUNNING)};
	return ff_db_exec(db,
			  "UPDATE runs SET progress = $2, progress_text = $3 "
			  "WHERE id = $1 AND state = $4",
			  4, p, err);
}

int ff_run_note(struct ff_db *db, const struct ff_run_ref *ref, const char *message, long age_ms,
		struct ff_err *err)
{
	char attempt[16], age[24];
	snprintf(attempt, sizeof(attempt), "%d", ref->attempt);
	snprintf(age, sizeof(age), "%ld", age_ms > 0 ? age_ms : 0);
	const char *p[] = {ref->id, attempt, message, name(FF_RUN_RUNNING), age};
	/* dated by the database's clock, less an age measured on the writer's: a note written
	 * late keeps its time, and no clock skew between hosts reorders a run's history */
	return ff_db_exec(db,
			  "INSERT INTO run_events (run_id, state, attempt, message, ts) "
			  "VALUES ($1, $4, $2::int, $3, "
			  "clock_timestamp() - $5::bigint * interval '1 millisecond')",
			  5, p, err);
}

int ff_run_log_piece(struct ff_db *db, const struct ff_run_ref *ref, size_t at, const char *data,
		     size_t len, struct ff_err *err)
{
	char attempt[16], at_s[24];
	snprintf(attempt, sizeof(attempt), "%d", ref->attempt);
	snprintf(at_s, sizeof(at_s), "%zu", at);
	const char *p[] = {ref->id, attempt, at_s, data};
	const int lens[] = {0, 0, 0, (int)len}, fmts[] = {0, 0, 0, 1};
	PGresult *res =
	    ff_db_query_bin(db,
			    "INSERT INTO run_log_chunks (run_id, attempt, at, data) "
			    "VALUES ($1, $2::int, $3::bigint, $4) ON CONFLICT DO NOTHING",
			    4, p, lens, fmts, 0, err);
	if (!res)
		return err->code;
	PQclear(res);
	return 0;
}

int ff_run_renew_leases(struct ff_db *db, const char *worker, const char *ids, long lease_s,
			struct ff_err *err)
{
	char lease[24];
	snprintf(lease, sizeof(lease), "%ld", lease_s);
	const char *p[] = {worker, lease, ids, name(FF_RUN_RUNNING)};
	return ff_db_exec(db,
			  "UPDATE runs SET lease_until = clock_timestamp() + $2::int * "
			  "interval '1 second' WHERE worker = $1 AND state = $4 "
			  "AND id = ANY($3::uuid[])",
			  4, p, err);
}

int ff_run_cancelled_among(struct ff_db *db, const char *ids, PGresult **out, struct ff_err *err)
{
	const char *p[] = {ids, name(FF_RUN_CANCELLED)};
	PGresult *res = ff_db_query(
	    db, "SELECT id FROM runs WHERE id = ANY($1::uuid[]) AND state = $2", 2, p, err);
	if (!res)
		return err->code;
	*out = res;
	return 0;
}

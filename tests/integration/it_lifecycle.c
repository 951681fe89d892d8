/* it_lifecycle — the run lifecycle (proto/ff_run.c) against the real PostgreSQL: for every
 * transition of the table and every state a run can be in, the transition's statement moves
 * the run exactly when the table allows it, to a state the table allows, with one event in
 * its history; refused, it changes nothing. Then the guards that go beyond the state: the
 * attempt and the worker that hold a run, the target a submit names, the idempotency key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ff_run.h"
#include "itest.h"

#define TARGET	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define WORKER	  "w1"
#define JOB	  "{\"v\": 1}"
#define VIEW	  "r.state"
#define FIRST_RUN "00000000-0000-4000-8000-00000000aaaa" /* submit_and_publish's */

static struct itest T;
static struct ff_db *db;
static int seq;

static void sql(const char *q, int n, const char *const *p)
{
	struct ff_err err;
	if (ff_db_exec(db, q, n, p, &err) < 0)
		fail_msg("%s: %s", q, err.msg);
}

/* A run in state s at attempt 1, held by WORKER with a lease that has run out. */
static void seed(char id[37], enum ff_run_state s)
{
	snprintf(id, 37, "00000000-0000-4000-8000-%012d", ++seq);
	const char *p[] = {id, ff_run_state_name(s), TARGET};
	sql("INSERT INTO runs (id, workflow, workflow_version, target, parameters, pool, job, "
	    "state, attempt, max_attempts, worker, lease_until) VALUES ($1, 'wf', '1', $3, '{}', "
	    "'default', '{}', $2, 1, 3, 'w1', now() - interval '1 minute')",
	    3, p);
}

static int state_of(const char *id)
{
	struct ff_err err;
	const char *p[] = {id};
	PGresult *res = ff_db_query(db, "SELECT state FROM runs WHERE id = $1", 1, p, &err);
	assert_non_null(res);
	int s = ff_run_state_parse(PQgetvalue(res, 0, 0));
	PQclear(res);
	return s;
}

static long events(const char *id, enum ff_run_state s)
{
	char q[160];
	snprintf(q, sizeof(q), "SELECT count(*) FROM run_events WHERE run_id = $1 AND state = '%s'",
		 ff_run_state_name(s));
	return itest_sql_long(&T, q, id);
}

/* How many jobs for the run's next attempt the outbox holds. */
static long next_job_in_outbox(const char *id)
{
	return itest_sql_long(&T,
			      "SELECT count(*) FROM run_outbox o JOIN runs r ON r.id = o.run_id "
			      "AND o.attempt = r.attempt + 1 WHERE r.id = $1",
			      id);
}

/* Performs transition t on run id; returns what the function returned. */
static int perform(enum ff_run_transition t, const char *id)
{
	struct ff_err err = {0};
	struct ff_run_ref ref = {id, 1, WORKER};
	struct ff_run_result res = {.exit_code = 0};
	PGresult *out = NULL;
	int rc;
	switch (t) {
	case FF_RUN_START:
		ref.attempt = 2; /* the next attempt after the seeded one */
		rc = ff_run_start(db, &ref, 30, NULL, &err);
		break;
	case FF_RUN_FINISH:
		res.state = FF_RUN_SUCCEEDED;
		rc = ff_run_finish(db, &ref, &res, &err);
		break;
	case FF_RUN_RETRY:
		res.state = FF_RUN_RETRYING;
		res.error = "exit 1";
		rc = ff_run_retry(db, &ref, &res, 5, &err);
		break;
	case FF_RUN_DEAD_LETTER:
		res.state = FF_RUN_FAILED;
		res.error = "exit 1";
		rc = ff_run_dead_letter(db, &ref, &res, &err);
		break;
	case FF_RUN_CANCEL: rc = ff_run_cancel(db, id, VIEW, &out, &err); break;
	case FF_RUN_REQUEUE:
		rc = ff_run_requeue(db, id, 3, "again", false, VIEW, &out, &err);
		break;
	case FF_RUN_HAND_BACK: rc = ff_run_hand_back(db, &ref, "draining", &err); break;
	case FF_RUN_LEASE_EXPIRY:
		/* it reaps every expired lease: did it reap this run's? */
		rc = ff_run_expire_leases(db, 3, &out, &err);
		if (rc > 0) {
			rc = 0;
			for (int i = 0; i < PQntuples(out); i++)
				rc |= !strcmp(PQgetvalue(out, i, 0), id);
		}
		break;
	default: fail_msg("transition %d has no case", t); return -1;
	}
	if (rc < 0)
		fail_msg("%s: %s", ff_run_transitions[t].name, err.msg);
	PQclear(out);
	return rc;
}

static void every_transition_from_every_state(void **state)
{
	(void)state;
	for (int t = FF_RUN_START; t < FF_RUN_NTRANSITIONS; t++) {
		const struct ff_run_transition_def *d = &ff_run_transitions[t];
		for (int s = 0; s < FF_RUN_NSTATES; s++) {
			char id[37];
			seed(id, (enum ff_run_state)s);
			long before = itest_sql_long(&T,
						     "SELECT count(*) FROM run_events "
						     "WHERE run_id = $1",
						     id);
			int rc = perform((enum ff_run_transition)t, id);
			int now = state_of(id);
			long after = itest_sql_long(&T,
						    "SELECT count(*) FROM run_events "
						    "WHERE run_id = $1",
						    id);
			bool allowed = d->from & FF_RUN_BIT(s);
			print_message("%s from %s: rc %d, now %s\n", d->name,
				      ff_run_state_name((enum ff_run_state)s), rc,
				      ff_run_state_name((enum ff_run_state)now));
			assert_int_equal(rc, allowed);
			if (allowed) {
				assert_true(ff_run_transition_allowed((enum ff_run_transition)t,
								      (enum ff_run_state)s,
								      (enum ff_run_state)now));
				assert_int_equal(events(id, (enum ff_run_state)now), 1);
				/* start from retrying also records the retry's queued step */
				assert_int_equal(after - before,
						 t == FF_RUN_START && s == FF_RUN_RETRYING ? 2 : 1);
				/* a run left waiting has its next job in the outbox, in the
				 * same transaction */
				assert_int_equal(next_job_in_outbox(id),
						 (FF_RUN_WAITING & FF_RUN_BIT(now)) != 0);
			} else {
				assert_int_equal(now, s);
				assert_int_equal(after, before);
			}
		}
	}
}

/* The transitions out of running hold only for the attempt and worker that hold the run. */
static void attempt_and_worker_guards(void **state)
{
	(void)state;
	struct ff_err err;
	char id[37];
	seed(id, FF_RUN_RUNNING);
	struct ff_run_ref other_worker = {id, 1, "w2"}, old_attempt = {id, 0, WORKER};
	struct ff_run_result res = {.state = FF_RUN_SUCCEEDED, .exit_code = 0};
	assert_int_equal(ff_run_finish(db, &other_worker, &res, &err), 0);
	assert_int_equal(ff_run_finish(db, &old_attempt, &res, &err), 0);
	assert_int_equal(ff_run_hand_back(db, &other_worker, "draining", &err), 0);
	assert_int_equal(state_of(id), FF_RUN_RUNNING);
	/* an end the transition cannot have is refused before the database sees it */
	res.state = FF_RUN_CANCELLED;
	struct ff_run_ref ours = {id, 1, WORKER};
	assert_true(ff_run_finish(db, &ours, &res, &err) < 0);
	/* a start must be for the next attempt: a duplicate delivery of the current one fails */
	char q[37];
	seed(q, FF_RUN_QUEUED);
	struct ff_run_ref same = {q, 1, WORKER};
	bool again = true;
	assert_int_equal(ff_run_start(db, &same, 30, &again, &err), 0);
	same.attempt = 2;
	assert_int_equal(ff_run_start(db, &same, 30, &again, &err), 1);
	assert_false(again); /* a first start: nothing of it can be left on an engine */
	assert_int_equal(ff_run_start(db, &same, 30, NULL, &err), 0); /* the duplicate */
	/* handed back, the same attempt starts again, and may find what the first start left */
	assert_int_equal(ff_run_hand_back(db, &same, "draining", &err), 1);
	assert_int_equal(ff_run_start(db, &same, 30, &again, &err), 1);
	assert_true(again);
	/* dead-lettering writes the dead_letters row with the attempt and error */
	seed(id, FF_RUN_RUNNING);
	res = (struct ff_run_result){.state = FF_RUN_TIMED_OUT, .error = "slow", .exit_code = -1};
	struct ff_run_ref held = {id, 1, WORKER};
	assert_int_equal(ff_run_dead_letter(db, &held, &res, &err), 1);
	assert_int_equal(itest_sql_long(&T,
					"SELECT count(*) FROM dead_letters WHERE run_id = $1 "
					"AND last_error = 'slow' AND attempts = 1",
					id),
			 1);
	/* requeue of only dead letters refuses a finished run that is not one */
	char fin[37];
	PGresult *out = NULL;
	seed(fin, FF_RUN_SUCCEEDED);
	assert_int_equal(ff_run_requeue(db, fin, 3, "x", true, VIEW, &out, &err), 0);
	PQclear(out);
	assert_int_equal(ff_run_requeue(db, id, 3, "x", true, VIEW, &out, &err), 1);
	assert_string_equal(PQgetvalue(out, 0, 0), ff_run_state_name(FF_RUN_QUEUED));
	PQclear(out);
	assert_int_equal(
	    itest_sql_long(&T, "SELECT count(*) FROM dead_letters WHERE run_id = $1", id), 0);
	/* no such run */
	assert_int_equal(
	    ff_run_cancel(db, "00000000-0000-4000-8000-ffffffffffff", VIEW, &out, &err),
	    FF_ENOTFOUND);
}

/* Past the losses, a lease expiry fails the run instead of requeueing it. */
static void lease_losses(void **state)
{
	(void)state;
	struct ff_err err;
	char id[37];
	PGresult *out = NULL;
	seed(id, FF_RUN_RUNNING);
	const char *p[] = {id};
	sql("UPDATE runs SET lease_losses = 2 WHERE id = $1", 1, p);
	assert_int_equal(ff_run_expire_leases(db, 3, &out, &err), 1);
	PQclear(out);
	assert_int_equal(state_of(id), FF_RUN_FAILED);
	assert_int_equal(itest_sql_long(&T,
					"SELECT count(*) FROM runs WHERE id = $1 AND "
					"error = 'lost its worker 3 times'",
					id),
			 1);
	/* failed past its budget, like any other: a dead letter, which the API lists */
	assert_int_equal(itest_sql_long(&T,
					"SELECT count(*) FROM dead_letters WHERE run_id = $1 AND "
					"last_error = 'lost its worker 3 times'",
					id),
			 1);
	/* a loss within the budget is no dead letter */
	seed(id, FF_RUN_RUNNING);
	assert_int_equal(ff_run_expire_leases(db, 3, &out, &err), 1);
	PQclear(out);
	assert_int_equal(state_of(id), FF_RUN_QUEUED);
	assert_int_equal(
	    itest_sql_long(&T, "SELECT count(*) FROM dead_letters WHERE run_id = $1", id), 0);
}

static void submit_and_publish(void **state)
{
	(void)state;
	struct ff_err err;
	PGresult *out = NULL;
	struct ff_run_submission s = {.id = FIRST_RUN,
				      .workflow = "wf",
				      .workflow_version = "1",
				      .target = TARGET,
				      .pool = "default",
				      .parameters = "{}",
				      .job = JOB,
				      .priority = 0,
				      .max_attempts = 3,
				      .idempotency_key = "k1",
				      .request_sha256 = "x"};
	assert_int_equal(ff_run_submit(db, &s, VIEW, &out, &err), 1);
	assert_string_equal(PQgetvalue(out, 0, 0), ff_run_state_name(FF_RUN_QUEUED));
	PQclear(out);
	assert_int_equal(events(s.id, FF_RUN_QUEUED), 1);
	/* the same idempotency key again is a conflict; a target never uploaded is refused */
	s.id = "00000000-0000-4000-8000-00000000aaab";
	assert_int_equal(ff_run_submit(db, &s, VIEW, &out, &err), FF_ECONFLICT);
	s.idempotency_key = NULL;
	s.target = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
	assert_int_equal(ff_run_submit(db, &s, VIEW, &out, &err), 0);
	/* the outbox: the submit put attempt 1's job there; its confirm takes it out, another
	 * attempt's confirm leaves it */
	const char *id = FIRST_RUN;
	const char *in_outbox = "SELECT count(*) FROM run_outbox WHERE run_id = $1 AND attempt = 1";
	assert_int_equal(itest_sql_long(&T, in_outbox, id), 1);
	assert_int_equal(ff_run_mark_published_many(db, "{" FIRST_RUN "}", 2, &err), 0);
	assert_int_equal(itest_sql_long(&T, in_outbox, id), 1);
	/* the job is consumed and the attempt handed back before its confirm is recorded:
	 * attempt 1 needs a job again, so that confirm leaves the row, and the sweep's confirm
	 * of the job it publishes again takes it out */
	struct ff_run_ref ref = {id, 1, WORKER};
	assert_int_equal(ff_run_start(db, &ref, 30, NULL, &err), 1);
	assert_int_equal(ff_run_hand_back(db, &ref, "draining", &err), 1);
	assert_int_equal(ff_run_mark_published_many(db, "{" FIRST_RUN "}", 1, &err), 0);
	assert_int_equal(itest_sql_long(&T, in_outbox, id), 1);
	assert_int_equal(ff_run_mark_published(db, id, 1, 1, &err), 0);
	assert_int_equal(itest_sql_long(&T, in_outbox, id), 0);
}

/* The prune drops the jobs of runs that moved on (another attempt, a run no longer waiting)
 * and keeps the job of a waiting run's next attempt, even one not due yet. */
static void outbox_prune(void **state)
{
	(void)state;
	struct ff_err err;
	char waiting[37], running[37], cancelled[37];
	seed(waiting, FF_RUN_RETRYING);
	seed(running, FF_RUN_RUNNING);
	seed(cancelled, FF_RUN_CANCELLED);
	const char *p[] = {waiting, running, cancelled};
	sql("DELETE FROM run_outbox", 0, NULL); /* what the tests before left */
	sql("UPDATE runs SET next_attempt_at = now() + interval '1 hour' WHERE id = $1", 1, p);
	/* seeded at attempt 1: the waiting run's next job is 2; the running run's job 1 was
	 * the one it started with; the cancelled run's job 2 was never published */
	sql("INSERT INTO run_outbox (run_id, attempt) VALUES ($1, 2), ($2, 1), ($3, 2)", 3, p);
	assert_int_equal(ff_run_outbox_prune(db, &err), 2);
	assert_int_equal(
	    itest_sql_long(&T, "SELECT count(*) FROM run_outbox WHERE run_id = $1", waiting), 1);
	assert_int_equal(
	    itest_sql_long(&T, "SELECT count(*) FROM run_outbox WHERE run_id <> $1", waiting), 0);
	assert_int_equal(ff_run_outbox_prune(db, &err), 0);
}

/* A note is an event of the running state with no transition; one written late (held back
 * by the worker for its next write) is dated when it happened, by the database's clock. */
static void note_keeps_its_time(void **state)
{
	(void)state;
	struct ff_err err;
	char id[37];
	seed(id, FF_RUN_RUNNING);
	const struct ff_run_ref ref = {id, 1, WORKER};
	assert_int_equal(ff_run_note(db, &ref, "now", 0, &err), 0);
	assert_int_equal(ff_run_note(db, &ref, "a minute ago", 60000, &err), 0);
	assert_int_equal(state_of(id), FF_RUN_RUNNING);
	assert_int_equal(itest_sql_long(&T,
					"SELECT count(*) FROM run_events WHERE run_id = $1 AND "
					"state = 'running' AND attempt = 1",
					id),
			 2);
	/* in the history's order (by id) as written; their times a minute apart */
	long apart_s = itest_sql_long(
	    &T,
	    "SELECT round(extract(epoch FROM max(ts) FILTER (WHERE message = 'now') - "
	    "max(ts) FILTER (WHERE message = 'a minute ago'))) FROM run_events WHERE run_id = $1",
	    id);
	assert_int_equal(apart_s, 60);
	assert_int_equal(
	    itest_sql_long(&T,
			   "SELECT ((array_agg(message ORDER BY id))[2] = 'a minute ago')::int "
			   "FROM run_events WHERE run_id = $1",
			   id),
	    1);
}

/* Many submits in one statement: rows come back in the order given, a run whose target was
 * never uploaded has none, and text needing array-literal escapes arrives intact. */
static void submit_many(void **state)
{
	(void)state;
	struct ff_err err;
	PGresult *out = NULL;
	struct ff_run_submission a = {.id = "00000000-0000-4000-8000-00000000bb01",
				      .workflow = "wf",
				      .workflow_version = "1",
				      .target = TARGET,
				      .pool = "default",
				      .parameters = "{\"q\": \"a \\\"b\\\" c\\\\d\"}",
				      .labels = "{\"k\": \"NULL\"}",
				      .job = JOB,
				      .priority = 3,
				      .max_attempts = 2};
	struct ff_run_submission b = a, c = a;
	b.id = "00000000-0000-4000-8000-00000000bb02";
	b.target = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc";
	c.id = "00000000-0000-4000-8000-00000000bb03";
	c.labels = NULL;
	const struct ff_run_submission *subs[] = {&c, &b, &a};
	assert_int_equal(ff_run_submit_many(db, subs, 3, "r.state", &out, &err), 2);
	assert_string_equal(PQgetvalue(out, 0, 1), c.id);
	assert_string_equal(PQgetvalue(out, 1, 1), a.id);
	PQclear(out);
	const char *p[] = {a.id};
	assert_int_equal(
	    itest_sql_long(&T,
			   "SELECT count(*) FROM runs WHERE id = $1 AND parameters->>'q' "
			   "= 'a \"b\" c\\d' AND labels->>'k' = 'NULL' AND priority = 3",
			   p[0]),
	    1);
	assert_int_equal(events(c.id, FF_RUN_QUEUED), 1);
	assert_int_equal(itest_sql_long(&T, "SELECT count(*) FROM runs WHERE id = $1", b.id), 0);
}

static int setup(void **state)
{
	(void)state;
	struct ff_err err;
	itest_setup(&T, "lifecycle");
	if (ff_db_connect(T.db_url, &db, &err) < 0 || ff_db_migrate(db, &err) < 0)
		fail_msg("postgresql: %s", err.msg);
	const char *p[] = {TARGET};
	sql("INSERT INTO targets (sha256, size, content) VALUES ($1, 0, '')", 1, p);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	ff_db_free(db);
	itest_teardown(&T);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(every_transition_from_every_state),
	    cmocka_unit_test(attempt_and_worker_guards),
	    cmocka_unit_test(lease_losses),
	    cmocka_unit_test(submit_and_publish),
	    cmocka_unit_test(outbox_prune),
	    cmocka_unit_test(note_keeps_its_time),
	    cmocka_unit_test(submit_many),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}

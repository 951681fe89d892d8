/* outbox — publishing runs' jobs until the broker confirms them; see outbox.h. */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "ff_job.h"
#include "ff_log.h"
#include "ff_run.h"

#define SWEEP_BATCH "100"
/* A run just submitted gets this long for its own request to publish it. */
#define SUBMIT_GRACE "2 seconds"

/* Row i of the outbox query made the run's next attempt: its job message (malloc'd). */
static char *next_job(PGresult *res, int i, size_t *len, struct ff_err *err)
{
	int attempt = (int)strtol(PQgetvalue(res, i, 2), NULL, 10) + 1;
	int max_attempts = (int)strtol(PQgetvalue(res, i, 3), NULL, 10);
	struct ff_job *job = NULL;
	const char *stored = PQgetvalue(res, i, 1);
	if (ff_job_decode(stored, strlen(stored), &job, err) < 0)
		return NULL;
	char *body = ff_job_encode_attempt(job, attempt,
					   max_attempts > attempt ? max_attempts : attempt, len);
	if (!body)
		ff_err_set(err, FF_ENOMEM, "out of memory");
	ff_job_free(job);
	return body;
}

/* Publishes the rows' jobs with one wait for their confirms, and marks each one confirmed
 * (each for its own attempt) in the sweep's transaction. */
static void publish_rows(struct app *app, PGresult *res)
{
	int n = PQntuples(res), m = 0;
	struct ff_amqp_msg *msgs = calloc((size_t)n + 1, sizeof(*msgs));
	char **bodies = calloc((size_t)n + 1, sizeof(*bodies));
	int *ok = calloc((size_t)n + 1, sizeof(*ok)), *row = calloc((size_t)n + 1, sizeof(*row));
	struct ff_err err;
	if (!msgs || !bodies || !ok || !row)
		goto out;
	for (int i = 0; i < n; i++) {
		size_t len = 0;
		if (!(bodies[m] = next_job(res, i, &len, &err))) {
			ff_run_warn(PQgetvalue(res, i, 0), "outbox: not published (%s)", err.msg);
			continue;
		}
		msgs[m] =
		    (struct ff_amqp_msg){.pool = PQgetvalue(res, i, 5),
					 .body = bodies[m],
					 .len = len,
					 .priority = (int)strtol(PQgetvalue(res, i, 4), NULL, 10),
					 .message_id = PQgetvalue(res, i, 0)};
		row[m++] = i;
	}
	struct ff_amqp *amqp = m ? app_amqp(app, &err) : NULL;
	if (m && (!amqp || ff_amqp_publish_batch(amqp, msgs, (size_t)m, ok, &err) < 0)) {
		ff_warn("outbox: %d runs not published yet (%s)", m, err.msg);
		if (amqp)
			app_amqp_reset(app);
	}
	for (int k = 0; k < m; k++) {
		const char *id = PQgetvalue(res, row[k], 0);
		int attempt = (int)strtol(PQgetvalue(res, row[k], 2), NULL, 10) + 1;
		if (!ok[k])
			continue;
		/* Not marked (the database just failed): the sweep publishes it again, harmlessly.
		 */
		int gen = (int)strtol(PQgetvalue(res, row[k], 6), NULL, 10);
		if (ff_run_mark_published(app->db, id, attempt, gen, &err) < 0)
			ff_run_warn(id, "outbox: published, not marked (%s)", err.msg);
		else
			ff_run_info(id, "published from the outbox");
	}
out:
	for (int k = 0; bodies && k < m; k++)
		free(bodies[k]);
	free(bodies);
	free(msgs);
	free(ok);
	free(row);
}

/* Publishes what is due in the outbox (only run_id's row, when not NULL). */
static void publish_due(struct app *app, const char *run_id)
{
	struct ff_err err;
	char waiting[96];
	const char *p[] = {ff_run_states_array(FF_RUN_WAITING, waiting, sizeof(waiting)),
			   ff_run_state_name(FF_RUN_RETRYING), run_id};
	if (ff_db_begin(app->db, &err) < 0)
		return;
	/* The outbox rows are locked, not the runs: a worker starting a run already published
	 * does not wait for this transaction. */
	PGresult *res = ff_db_query(
	    app->db,
	    "SELECT r.id, r.job::text, r.attempt, r.max_attempts, r.priority, r.pool, o.gen "
	    "FROM run_outbox o JOIN runs r ON r.id = o.run_id AND o.attempt = r.attempt + 1 "
	    "WHERE r.state = ANY($1::text[]) AND ($3::uuid IS NULL OR o.run_id = $3::uuid) "
	    "AND coalesce(r.next_attempt_at, r.created_at) + CASE WHEN r.next_attempt_at IS "
	    "  NULL OR r.state = $2 THEN interval '" SUBMIT_GRACE "' ELSE interval '0' END "
	    "  <= clock_timestamp() "
	    "ORDER BY r.priority DESC, r.created_at LIMIT " SWEEP_BATCH " FOR UPDATE OF o SKIP "
	    "LOCKED",
	    3, p, &err);
	if (!res) {
		ff_db_rollback(app->db);
		return;
	}
	publish_rows(app, res);
	PQclear(res);
	if (ff_db_commit(app->db, &err) < 0)
		ff_db_rollback(app->db);
}

/* A run the audit may judge: published, still waiting ($1: those states), for longer than
 * $2. */
#define AUDIT_STALE                                                                                \
	"NOT EXISTS (SELECT 1 FROM run_outbox o WHERE o.run_id = runs.id AND "                     \
	"  o.attempt = runs.attempt + 1) AND "                                                     \
	"state = ANY($1::text[]) AND "                                                             \
	"coalesce(next_attempt_at, created_at) < clock_timestamp() - $2::interval"

void outbox_audit(struct app *app)
{
	struct ff_err err;
	char waiting[96], age[32];
	snprintf(age, sizeof(age), "%ld seconds", app->cfg.broker_audit_s);
	const char *p[] = {ff_run_states_array(FF_RUN_WAITING, waiting, sizeof(waiting)), age,
			   NULL};
	PGresult *res = ff_db_query(
	    app->db, "SELECT pool, count(*) FROM runs WHERE " AUDIT_STALE " GROUP BY pool", 2, p,
	    &err);
	struct ff_amqp *amqp = res && PQntuples(res) ? app_amqp(app, &err) : NULL;
	for (int i = 0; amqp && i < PQntuples(res); i++) {
		const char *pool = PQgetvalue(res, i, 0);
		long waiting_runs = strtol(PQgetvalue(res, i, 1), NULL, 10);
		uint32_t ready = 0;
		if (ff_amqp_pool_ready(amqp, pool, &ready, &err) < 0) {
			app_amqp_reset(app);
			break;
		}
		if ((long)ready >= waiting_runs) {
			ff_debug(
			    "broker audit: queue ff.jobs.%s holds %u jobs for %ld waiting runs",
			    pool, ready, waiting_runs);
			continue;
		}
		p[2] = pool;
		PGresult *moved =
		    ff_db_query(app->db,
				"WITH r AS (UPDATE runs SET next_attempt_at = clock_timestamp() "
				"  WHERE pool = $3 AND " AUDIT_STALE
				" RETURNING id, attempt, true AS next_due) " FF_RUN_TO_OUTBOX
				" RETURNING run_id",
				3, p, &err);
		ff_warn(
		    "broker audit: queue ff.jobs.%s holds %u jobs, %ld runs have waited for one "
		    "over %ld s: %d republished",
		    pool, ready, waiting_runs, app->cfg.broker_audit_s,
		    moved ? PQntuples(moved) : 0);
		PQclear(moved);
	}
	PQclear(res);
}

void outbox_publish_run(struct app *app, const char *run_id)
{
	publish_due(app, run_id);
}

void outbox_sweep(struct app *app)
{
	publish_due(app, NULL);
}

void outbox_prune(struct app *app)
{
	struct ff_err err;
	int dropped = ff_run_outbox_prune(app->db, &err);
	if (dropped < 0)
		ff_warn("outbox: stale jobs not dropped (%s)", err.msg);
	else if (dropped)
		ff_info("outbox: %d jobs of runs that had moved on dropped", dropped);
}

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

int outbox_publish(struct app *app, const char *run_id, const char *pool, int priority,
		   const char *body, size_t len, int job_attempt, struct ff_err *err)
{
	struct ff_amqp *amqp = app_amqp(app, err);
	if (!amqp)
		return err->code;
	int rc = ff_amqp_publish(amqp, pool, body, len, priority, run_id, err);
	if (rc < 0) {
		app_amqp_reset(app);
		return rc;
	}
	struct ff_err ignored;
	/* Not marked (the database just failed): the sweep publishes it again, harmlessly. */
	ff_run_mark_published(app->db, run_id, job_attempt, &ignored);
	return 0;
}

/* Row i of the outbox query: the stored job, made the run's next attempt, published. */
static int publish_row(struct app *app, PGresult *res, int i, struct ff_err *err)
{
	const char *id = PQgetvalue(res, i, 0);
	int attempt = (int)strtol(PQgetvalue(res, i, 2), NULL, 10) + 1;
	int max_attempts = (int)strtol(PQgetvalue(res, i, 3), NULL, 10);
	int priority = (int)strtol(PQgetvalue(res, i, 4), NULL, 10);
	struct ff_job *job = NULL;
	const char *stored = PQgetvalue(res, i, 1);
	int rc = ff_job_decode(stored, strlen(stored), &job, err);
	if (rc < 0)
		return rc;
	size_t len = 0;
	char *body = ff_job_encode_attempt(job, attempt,
					   max_attempts > attempt ? max_attempts : attempt, &len);
	rc = body
		 ? outbox_publish(app, id, PQgetvalue(res, i, 5), priority, body, len, attempt, err)
		 : ff_err_set(err, FF_ENOMEM, "out of memory");
	free(body);
	ff_job_free(job);
	return rc;
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
	PGresult *res = ff_db_query(
	    app->db,
	    "SELECT id, job::text, attempt, max_attempts, priority, pool FROM runs "
	    "WHERE NOT published AND state = ANY($1::text[]) "
	    "AND ($3::uuid IS NULL OR id = $3::uuid) "
	    "AND coalesce(next_attempt_at, created_at) + CASE WHEN next_attempt_at IS NULL "
	    "  OR state = $2 THEN interval '" SUBMIT_GRACE "' ELSE interval '0' END "
	    "  <= clock_timestamp() "
	    "ORDER BY priority DESC, created_at LIMIT " SWEEP_BATCH " FOR UPDATE SKIP LOCKED",
	    3, p, &err);
	if (!res) {
		ff_db_rollback(app->db);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++) {
		if (publish_row(app, res, i, &err) < 0) {
			ff_run_warn(PQgetvalue(res, i, 0), "outbox: not published yet (%s)",
				    err.msg);
			if (err.code == FF_EUNAVAIL || !app->amqp)
				break; /* the broker is away: the next sweep tries again */
			continue;
		}
		ff_run_info(PQgetvalue(res, i, 0), "published from the outbox");
	}
	PQclear(res);
	if (ff_db_commit(app->db, &err) < 0)
		ff_db_rollback(app->db);
}

void outbox_publish_run(struct app *app, const char *run_id)
{
	publish_due(app, run_id);
}

void outbox_sweep(struct app *app)
{
	publish_due(app, NULL);
}

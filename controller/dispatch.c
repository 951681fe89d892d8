/* dispatch — lease reaper and outbox publisher; see dispatch.h. */
#include "dispatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "ff_log.h"

#define DISPATCH_BATCH	"100"

static void reap_expired_leases(struct app *app)
{
	struct ff_err err;
	char lease[16], max[16];
	snprintf(lease, sizeof(lease), "%ld", app->cfg.lease_s);
	snprintf(max, sizeof(max), "%d", DISPATCH_MAX_LEASE_LOSSES);
	const char *p[] = {max};
	PGresult *res = ff_db_query(
		app->db,
		"WITH lost AS (SELECT id, worker, lease_losses FROM runs WHERE state = 'running' "
		"  AND lease_until < clock_timestamp() FOR UPDATE SKIP LOCKED), "
		"r AS (UPDATE runs SET "
		"  state = CASE WHEN lost.lease_losses + 1 >= $1::int THEN 'failed' ELSE 'queued' END, "
		"  error = CASE WHEN lost.lease_losses + 1 >= $1::int THEN 'lost its worker ' || "
		"    $1 || ' times' END, "
		"  finished_at = CASE WHEN lost.lease_losses + 1 >= $1::int THEN clock_timestamp() END, "
		"  attempt = CASE WHEN lost.lease_losses + 1 >= $1::int THEN runs.attempt "
		"    ELSE runs.attempt - 1 END, "
		"  worker = NULL, lease_until = NULL, published = false, "
		"  next_attempt_at = clock_timestamp(), lease_losses = lost.lease_losses + 1 "
		"  FROM lost WHERE runs.id = lost.id RETURNING runs.id, runs.state, runs.attempt, "
		"  lost.worker) "
		"INSERT INTO run_events (run_id, state, attempt, message) "
		"SELECT id, state, attempt, 'lease expired on worker ' || coalesce(worker, '?') || "
		"  CASE WHEN state = 'queued' THEN ': requeued' ELSE ': giving up' END FROM r "
		"RETURNING run_id",
		1, p, &err);
	if (!res) {
		ff_warn("lease reaper: %s", err.msg);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++)
		ff_run_warn(PQgetvalue(res, i, 0), "lease expired: its worker is gone");
	PQclear(res);
	const char *pl[] = {lease};
	ff_db_exec(app->db,
		   "UPDATE workers SET state = 'lost' WHERE state IN ('active', 'draining') AND "
		   "last_heartbeat < now() - $1::int * interval '1 second'",
		   1, pl, &err);
}

/* Publishes due, unpublished runs. A run just submitted gets a moment for its own request to
 * publish it; anything else due is published at once. A duplicate publish is harmless: the
 * worker's guarded start runs each attempt once. */
static void publish_due(struct app *app)
{
	struct ff_err err;
	if (ff_db_begin(app->db, &err) < 0)
		return;
	PGresult *res = ff_db_query(
		app->db,
		"SELECT id, (jsonb_set(jsonb_set(job, '{attempt}', to_jsonb(attempt + 1)), "
		"  '{max_attempts}', to_jsonb(greatest(max_attempts, attempt + 1))))::text, "
		"  priority, pool FROM runs WHERE NOT published AND state IN ('queued', 'retrying') "
		"  AND coalesce(next_attempt_at, created_at) + CASE WHEN next_attempt_at IS NULL "
		"  OR state = 'retrying' THEN interval '2 seconds' ELSE interval '0' END "
		"  <= clock_timestamp() "
		"ORDER BY priority DESC, created_at LIMIT " DISPATCH_BATCH " FOR UPDATE SKIP LOCKED",
		0, NULL, &err);
	if (!res) {
		ff_db_rollback(app->db);
		return;
	}
	struct ff_amqp *amqp = PQntuples(res) ? app_amqp(app, &err) : NULL;
	for (int i = 0; amqp && i < PQntuples(res); i++) {
		const char *id = PQgetvalue(res, i, 0), *job = PQgetvalue(res, i, 1);
		int priority = (int)strtol(PQgetvalue(res, i, 2), NULL, 10);
		if (ff_amqp_publish(amqp, PQgetvalue(res, i, 3), job, strlen(job), priority, id,
				    &err) < 0) {
			ff_warn("dispatcher: broker unavailable (%s)", err.msg);
			app_amqp_reset(app);
			break;
		}
		const char *p[] = {id};
		if (ff_db_exec(app->db, "UPDATE runs SET published = true WHERE id = $1", 1, p,
			       &err) < 0)
			break;
		ff_run_info(id, "dispatched");
	}
	PQclear(res);
	if (ff_db_commit(app->db, &err) < 0)
		ff_db_rollback(app->db);
}

void dispatch_tick(struct app *app)
{
	reap_expired_leases(app);
	publish_due(app);
}

/* reaper — expired leases and lost workers; see reaper.h. */
#include "reaper.h"

#include <stdio.h>

#include "app.h"
#include "ff_log.h"
#include "ff_run.h"

void reaper_tick(struct app *app)
{
	struct ff_err err;
	PGresult *res = NULL;
	if (ff_run_expire_leases(app->db, REAPER_MAX_LEASE_LOSSES, &res, &err) < 0) {
		ff_warn("lease reaper: %s", err.msg);
		return;
	}
	for (int i = 0; i < PQntuples(res); i++)
		ff_run_warn(PQgetvalue(res, i, 0), "lease expired: its worker is gone");
	PQclear(res);
	char lease[16];
	snprintf(lease, sizeof(lease), "%ld", app->cfg.lease_s);
	const char *p[] = {lease};
	if (ff_db_exec(
		app->db,
		"UPDATE workers SET state = 'lost' WHERE state IN ('active', 'draining') AND "
		"last_heartbeat < now() - $1::int * interval '1 second'",
		1, p, &err) < 0)
		ff_warn("lost workers not marked: %s", err.msg);
}

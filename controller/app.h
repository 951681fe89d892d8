/* app — the controller's process-wide state. What handlers share is set at start and only
 * read afterwards (the catalogue, the settings); the database connection
 * `db` and the broker connection `amqp` belong to the committer's thread alone (the
 * migrations use db before it starts); each database thread has a connection of its own. */
#ifndef APP_H
#define APP_H

#include <event2/event.h>
#include <stddef.h>

#include "ff_amqp.h"
#include "ff_db.h"
#include "health.h"
#include "keys.h"
#include "ff_catalog.h"

struct app_config {
	const char *listen;
	const char *database_url;
	const char *amqp_url;
	const char *workflows_dir;
	const char *api_key;
	long db_wait_s;
	long lease_s;
	int fault_exit_after_commit; /* tests: die between commit and publish */
	long broker_audit_s;	     /* FF_BROKER_AUDIT_S: see outbox_audit; 0: off */
};

struct app {
	struct app_config cfg;
	struct event_base *base;
	struct ff_db *db;
	struct ff_amqp *amqp; /* NULL while the broker is unreachable; reconnected on use */
	struct ff_catalog *catalog;
	struct health *health;	     /* readiness, checked off the event loop */
	struct committer *committer; /* submits, the reaper, the outbox */
	struct keys *keys;	     /* API keys and their rate limits, re-read every second */
	struct follow *follow;	     /* the streams of runs' live logs and events */
	struct cache *cache;	     /* finished runs' replies (NULL: FF_CACHE_MB=0) */
	struct metrics *metrics;     /* what GET /metrics reports */
};

/* app.c: the app's connections. */

/* Connects to PostgreSQL, waiting up to cfg.db_wait_s for it, and applies migrations. */
int app_connect_db(struct app *app, struct ff_err *err);
/* The broker connection, (re)connecting if needed; NULL with err when unreachable. */
struct ff_amqp *app_amqp(struct app *app, struct ff_err *err);
/* Drops a broken broker connection so the next app_amqp() reconnects. */
void app_amqp_reset(struct app *app);

#endif

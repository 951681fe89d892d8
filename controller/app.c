/* app — the controller's connections to PostgreSQL and RabbitMQ; see app.h. */
#include "app.h"

#include <unistd.h>

#include "ff_log.h"
#include "ff_util.h"

#define AMQP_HEARTBEAT_S 60

struct ff_amqp *app_amqp(struct app *app, struct ff_err *err)
{
	if (!app->amqp && ff_amqp_connect(app->cfg.amqp_url, AMQP_HEARTBEAT_S, &app->amqp, err) < 0)
		app->amqp = NULL;
	return app->amqp;
}

void app_amqp_reset(struct app *app)
{
	ff_amqp_free(app->amqp);
	app->amqp = NULL;
}

int app_connect_db(struct app *app, struct ff_err *err)
{
	int64_t deadline = ff_now_ms() + app->cfg.db_wait_s * 1000;
	int rc = ff_db_connect(app->cfg.database_url, &app->db, err);
	while (rc == FF_EUNAVAIL && ff_now_ms() < deadline) {
		ff_warn("waiting for postgresql: %s", err->msg);
		sleep(1);
		rc = ff_db_ping(app->db, err);
	}
	if (rc == 0 && (rc = ff_db_migrate(app->db, err)) > 0)
		ff_info("applied %d database migrations", rc);
	return rc < 0 ? rc : 0;
}

/* health — liveness (the process answers) and readiness (its dependencies answer). */
#include "api.h"
#include "app.h"

void api_healthz(struct http_req *r)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	http_reply_json_text(r, 200, ok, sizeof(ok) - 1);
}

void api_readyz(struct http_req *r)
{
	struct ff_err dberr = {0}, mqerr = {0};
	int db_ok = ff_db_ping(r->app->db, &dberr) == 0;
	struct ff_amqp *a = app_amqp(r->app, &mqerr);
	int mq_ok = a && ff_amqp_service(a, &mqerr) == 0;
	if (a && !mq_ok)
		app_amqp_reset(r->app);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", db_ok && mq_ok ? "ready" : "unavailable");
	cJSON_AddStringToObject(o, "postgresql", db_ok ? "ok" : dberr.msg);
	cJSON_AddStringToObject(o, "rabbitmq", mq_ok ? "ok" : mqerr.msg);
	http_reply_json(r, db_ok && mq_ok ? 200 : 503, o);
	cJSON_Delete(o);
}

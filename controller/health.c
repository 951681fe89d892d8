/* health — liveness (the process answers) and readiness (its dependencies answer, as the
 * health thread last saw them); see health.h. */
#include "health.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "app.h"
#include "ff_amqp.h"
#include "ff_db.h"
#include "ff_util.h"

#define AMQP_HEARTBEAT_S 30
#define MSG_MAX		 512 /* struct ff_err's message fits */

struct health {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	char *database_url, *amqp_url;
	/* under lock: the last check */
	bool checked, db_ok, mq_ok;
	char db_msg[MSG_MAX], mq_msg[MSG_MAX];
};

static void check(struct health *h, struct ff_db *db, struct ff_amqp **amqp)
{
	struct ff_err dberr = {0}, mqerr = {0};
	bool db_ok = ff_db_ping(db, &dberr) == 0;
	if (!*amqp && ff_amqp_connect(h->amqp_url, AMQP_HEARTBEAT_S, amqp, &mqerr) < 0)
		*amqp = NULL;
	bool mq_ok = *amqp && ff_amqp_service(*amqp, &mqerr) == 0;
	if (*amqp && !mq_ok) {
		ff_amqp_free(*amqp);
		*amqp = NULL;
	}
	pthread_mutex_lock(&h->lock);
	h->checked = true;
	h->db_ok = db_ok;
	h->mq_ok = mq_ok;
	snprintf(h->db_msg, sizeof(h->db_msg), "%s", db_ok ? "ok" : dberr.msg);
	snprintf(h->mq_msg, sizeof(h->mq_msg), "%s", mq_ok ? "ok" : mqerr.msg);
	pthread_mutex_unlock(&h->lock);
}

static void *health_main(void *arg)
{
	struct health *h = arg;
	struct ff_db *db = NULL;
	struct ff_amqp *amqp = NULL;
	struct ff_err err;
	ff_db_connect(h->database_url, &db, &err); /* a server down now is retried by the ping */
	pthread_mutex_lock(&h->lock);
	while (!h->stopping) {
		pthread_mutex_unlock(&h->lock);
		check(h, db, &amqp);
		struct timespec until;
		ff_deadline_in(&until, HEALTH_EVERY_MS);
		pthread_mutex_lock(&h->lock);
		if (!h->stopping)
			pthread_cond_timedwait(&h->wake, &h->lock, &until);
	}
	pthread_mutex_unlock(&h->lock);
	ff_amqp_free(amqp);
	ff_db_free(db);
	return NULL;
}

static void health_free(struct health *h)
{
	free(h->database_url);
	free(h->amqp_url);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->wake);
	free(h);
}

int health_start(const char *database_url, const char *amqp_url, struct health **out,
		 struct ff_err *err)
{
	struct health *h = calloc(1, sizeof(*h));
	if (!h)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->wake, NULL);
	snprintf(h->db_msg, sizeof(h->db_msg), "not checked yet");
	snprintf(h->mq_msg, sizeof(h->mq_msg), "not checked yet");
	h->database_url = strdup(database_url);
	h->amqp_url = strdup(amqp_url);
	if (!h->database_url || !h->amqp_url) {
		health_free(h);
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	if (pthread_create(&h->thread, NULL, health_main, h) != 0) {
		health_free(h);
		return ff_err_set(err, FF_EINTERNAL, "cannot start the health thread");
	}
	*out = h;
	return 0;
}

void health_stop(struct health *h)
{
	if (!h)
		return;
	pthread_mutex_lock(&h->lock);
	h->stopping = true;
	pthread_cond_signal(&h->wake);
	pthread_mutex_unlock(&h->lock);
	pthread_join(h->thread, NULL);
	health_free(h);
}

bool health_get(struct health *h, char *db_msg, char *mq_msg, size_t len)
{
	pthread_mutex_lock(&h->lock);
	bool ready = h->checked && h->db_ok && h->mq_ok;
	snprintf(db_msg, len, "%s", h->db_msg);
	snprintf(mq_msg, len, "%s", h->mq_msg);
	pthread_mutex_unlock(&h->lock);
	return ready;
}

void api_healthz(struct http_req *r)
{
	static const char ok[] = "{\"status\":\"ok\"}";
	http_reply_json_text(r, 200, ok, sizeof(ok) - 1);
}

void api_readyz(struct http_req *r)
{
	char db_msg[MSG_MAX], mq_msg[MSG_MAX];
	bool ready = health_get(r->app->health, db_msg, mq_msg, sizeof(db_msg));
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", ready ? "ready" : "unavailable");
	cJSON_AddStringToObject(o, "postgresql", db_msg);
	cJSON_AddStringToObject(o, "rabbitmq", mq_msg);
	http_reply_json(r, ready ? 200 : 503, o);
	cJSON_Delete(o);
}

/* health — the controller's readiness, kept current by a thread of its own: every
 * HEALTH_EVERY_MS it pings PostgreSQL and services a broker connection (reconnecting when
 * needed) on connections only it uses, so `/readyz` answers from memory and never waits on
 * the network inside the event loop. */
#ifndef HEALTH_H
#define HEALTH_H

#include <stdbool.h>
#include <stddef.h>

#include "ff_err.h"

#define HEALTH_EVERY_MS 1000

struct health;

/* Starts checking database_url and amqp_url; the first check runs at once. Caller stops it
 * with health_stop() (NULL-safe), which joins the thread and frees everything. */
int health_start(const char *database_url, const char *amqp_url, struct health **out,
		 struct ff_err *err);
void health_stop(struct health *h);

/* The last check: true when both answered; db_msg / mq_msg get "ok" or the failure (each
 * at least 512 bytes). Before the first check completes: not ready, "not checked yet". */
bool health_get(struct health *h, char *db_msg, char *mq_msg, size_t len);

#endif

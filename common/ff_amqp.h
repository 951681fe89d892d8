/* ff_amqp — one AMQP 0-9-1 connection (rabbitmq-c) with one channel, and the platform's
 * topology:
 *   exchange ff.jobs (direct)  --pool-->  queue ff.jobs.<pool>  (priority 0-9, dead letters
 *                                                                 to ff.dead)
 *   exchange ff.dead (fanout)  ------->  queue ff.dead
 *   queue ff.retry.<pool>.<N>s (TTL N s) --expired--> exchange ff.jobs (delayed retries)
 * A struct ff_amqp belongs to one thread (rabbitmq-c connections are not thread-safe).
 * There is no automatic recovery: after any FF_EUNAVAIL, free it and connect again.
 * Waiting for a publish confirm reads and drops every other frame, so a connection that
 * consumes must not also publish: give the publisher a connection of its own. */
#ifndef FF_AMQP_H
#define FF_AMQP_H

#include <stddef.h>
#include <stdint.h>

#include "ff_err.h"

#define FF_AMQP_JOBS_EXCHANGE "ff.jobs"
#define FF_AMQP_DEAD_EXCHANGE "ff.dead"
#define FF_AMQP_DEAD_QUEUE    "ff.dead"
#define FF_AMQP_MAX_PRIORITY  9
#define FF_AMQP_RETRY_PREFIX  "ff.retry."

struct ff_amqp;

/* Connects to url (amqp://user:pass@host:port/vhost), opens channel 1 and declares the
 * shared part of the topology. heartbeat_s 0 disables heartbeats. Caller frees. */
int ff_amqp_connect(const char *url, int heartbeat_s, struct ff_amqp **out, struct ff_err *err);
void ff_amqp_free(struct ff_amqp *a); /* NULL-safe */

/* Declares queue ff.jobs.<pool> and its binding (idempotent; remembered per connection). */
int ff_amqp_declare_pool(struct ff_amqp *a, const char *pool, struct ff_err *err);
/* How many jobs ff.jobs.<pool> holds ready (declaring it if the broker lost it): what the
 * outbox's audit compares with the runs PostgreSQL says are waiting. */
int ff_amqp_pool_ready(struct ff_amqp *a, const char *pool, uint32_t *ready, struct ff_err *err);

/* Publishes a persistent message to ff.jobs with routing key pool and waits for the broker's
 * confirm. 0 once confirmed; FF_EUNAVAIL on a nack or a broken connection. */
int ff_amqp_publish(struct ff_amqp *a, const char *pool, const void *body, size_t len, int priority,
		    const char *message_id, struct ff_err *err);

/* One job message of a batch, as ff_amqp_publish takes it. The pointers are borrowed for the
 * call. */
struct ff_amqp_msg {
	const char *pool; /* routing key in ff.jobs: lands in queue ff.jobs.<pool> */
	const void *body;
	size_t len;
	int priority;		/* 0 to FF_AMQP_MAX_PRIORITY */
	const char *message_id; /* the run id; at most 255 bytes, NULL for none */
};

/* Publishes msgs[0..n) as ff_amqp_publish does (declaring their pools first), all of them
 * before waiting, then waits once for the broker's confirms of the whole batch: one confirm
 * wait for n messages instead of n. ok (n ints, the caller's) gets ok[i] = 1 when message i
 * was acked, 0 when it was nacked or never confirmed.
 * 0 once every message is acked or nacked (some may be 0: look at ok). FF_EUNAVAIL when the
 * connection or channel failed, or 10 s passed without a confirm: the messages not yet
 * acked are 0 (some may have reached the queue all the same) and, as after any
 * FF_EUNAVAIL, the connection is to be freed. FF_EINVAL, with nothing published, when a
 * message id is over 255 bytes. */
int ff_amqp_publish_batch(struct ff_amqp *a, const struct ff_amqp_msg *msgs, size_t n, int *ok,
			  struct ff_err *err);

/* Publishes to any exchange (the dead-letter one, "" for a queue by name), confirmed. */
int ff_amqp_publish_to(struct ff_amqp *a, const char *exchange, const char *routing_key,
		       const void *body, size_t len, int priority, const char *message_id,
		       struct ff_err *err);
/* Publishes so that the message reaches ff.jobs.<pool> after delay_s seconds, through the
 * delay queue ff.retry.<pool>.<delay_s>s (TTL, then dead-lettered to ff.jobs). */
int ff_amqp_publish_delayed(struct ff_amqp *a, const char *pool, long delay_s, const void *body,
			    size_t len, int priority, const char *message_id, struct ff_err *err);

/* Lets the library send and read heartbeats on an otherwise idle connection. */
int ff_amqp_service(struct ff_amqp *a, struct ff_err *err);

/* Starts consuming ff.jobs.<pool> with manual acks and the given prefetch. */
int ff_amqp_consume(struct ff_amqp *a, const char *pool, int prefetch, struct ff_err *err);
/* Stops the consumer (deliveries already received stay ours to ack). */
int ff_amqp_cancel(struct ff_amqp *a, struct ff_err *err);

struct ff_amqp_delivery {
	uint64_t tag;
	int redelivered;
	void *body; /* malloc'd copy, owned by the delivery */
	size_t len;
};
void ff_amqp_delivery_release(struct ff_amqp_delivery *d);

/* Waits up to timeout_ms for the next delivery, or until wake_fd (-1: none) is readable
 * (it is left for the caller to drain). 0 with *d filled, FF_ETIMEOUT when none came (or the
 * wait was woken), FF_EUNAVAIL when the connection or channel is gone. */
int ff_amqp_next(struct ff_amqp *a, int timeout_ms, int wake_fd, struct ff_amqp_delivery *d,
		 struct ff_err *err);

int ff_amqp_ack(struct ff_amqp *a, uint64_t tag, struct ff_err *err);
/* requeue 0: the message is dead-lettered to ff.dead. */
int ff_amqp_nack(struct ff_amqp *a, uint64_t tag, int requeue, struct ff_err *err);

#endif

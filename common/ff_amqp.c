/* ff_amqp — RabbitMQ connection, topology, confirmed publishing and consuming;
 * see ff_amqp.h. */
#include "ff_amqp.h"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "ff_util.h"
#include "ff_metrics.h"

#define MAX_POOLS 32
/* How long a publish waits for the broker's next confirm. */
#define CONFIRM_TIMEOUT_MS 10000

struct ff_amqp {
	amqp_connection_state_t conn;
	int channel_open;
	uint64_t publish_seq; /* delivery tag of the last publish, for confirms */
	int prefetch;	      /* the channel's basic.qos for new consumers; 0: none sent */
	char consumer_tag[64];
	struct pools {
		char *name[MAX_POOLS];
		size_t n;
	} declared, older; /* pools declared on this connection; those an older version made */
};

static int reply_error(amqp_rpc_reply_t r, const char *what, struct ff_err *err)
{
	switch (r.reply_type) {
	case AMQP_RESPONSE_NORMAL: return 0;
	case AMQP_RESPONSE_LIBRARY_EXCEPTION:
		return ff_err_set(err, FF_EUNAVAIL, "rabbitmq: %s: %s", what,
				  amqp_error_string2(r.library_error));
	case AMQP_RESPONSE_SERVER_EXCEPTION:
		if (r.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
			amqp_channel_close_t *c = r.reply.decoded;
			return ff_err_set(err, FF_EUNAVAIL, "rabbitmq: %s: channel closed: %.*s",
					  what, (int)c->reply_text.len,
					  (const char *)c->reply_text.bytes);
		}
		if (r.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
			amqp_connection_close_t *c = r.reply.decoded;
			return ff_err_set(err, FF_EUNAVAIL, "rabbitmq: %s: connection closed: %.*s",
					  what, (int)c->reply_text.len,
					  (const char *)c->reply_text.bytes);
		}
		return ff_err_set(err, FF_EUNAVAIL, "rabbitmq: %s: server exception", what);
	default: return ff_err_set(err, FF_EUNAVAIL, "rabbitmq: %s: no reply", what);
	}
}

static int status_error(int status, const char *what, struct ff_err *err)
{
	if (status == AMQP_STATUS_OK)
		return 0;
	return ff_err_set(err, FF_EUNAVAIL, "rabbitmq: %s: %s", what, amqp_error_string2(status));
}

static int declare_exchange(struct ff_amqp *a, const char *name, const char *type,
			    struct ff_err *err)
{
	amqp_exchange_declare(a->conn, 1, amqp_cstring_bytes(name), amqp_cstring_bytes(type), 0, 1,
			      0, 0, amqp_empty_table);
	return reply_error(amqp_get_rpc_reply(a->conn), "exchange.declare", err);
}

static bool refused_as_inequivalent(amqp_rpc_reply_t r)
{
	return r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION &&
	       r.reply.id == AMQP_CHANNEL_CLOSE_METHOD &&
	       ((amqp_channel_close_t *)r.reply.decoded)->reply_code == AMQP_PRECONDITION_FAILED;
}

/* Declares queue name bound to exchange under key; *ready (may be NULL) gets the messages it
 * holds ready for a consumer (not those delivered and not yet acked). FF_ECONFLICT: the
 * queue exists with other arguments (the broker then closes the channel). */
static int declare_queue(struct ff_amqp *a, const char *name, amqp_table_t args,
			 const char *exchange, const char *key, uint32_t *ready, struct ff_err *err)
{
	amqp_queue_declare_ok_t *ok =
	    amqp_queue_declare(a->conn, 1, amqp_cstring_bytes(name), 0, 1, 0, 0, args);
	amqp_rpc_reply_t r = amqp_get_rpc_reply(a->conn);
	int rc = reply_error(r, "queue.declare", err);
	if (rc < 0 && refused_as_inequivalent(r))
		rc = err->code = FF_ECONFLICT; /* the message stays reply_error's */
	if (rc < 0)
		return rc;
	if (ready)
		*ready = ok ? ok->message_count : 0;
	amqp_queue_bind(a->conn, 1, amqp_cstring_bytes(name), amqp_cstring_bytes(exchange),
			amqp_cstring_bytes(key), amqp_empty_table);
	return reply_error(amqp_get_rpc_reply(a->conn), "queue.bind", err);
}

/* Channel 1 with publisher confirms on; a new channel's delivery tags start at 1. */
static int open_channel(struct ff_amqp *a, struct ff_err *err)
{
	amqp_channel_open(a->conn, 1);
	int rc = reply_error(amqp_get_rpc_reply(a->conn), "channel.open", err);
	if (rc < 0)
		return rc;
	a->channel_open = 1;
	a->publish_seq = 0;
	a->prefetch = 0;
	amqp_confirm_select(a->conn, 1);
	return reply_error(amqp_get_rpc_reply(a->conn), "confirm.select", err);
}

int ff_amqp_connect(const char *url, int heartbeat_s, struct ff_amqp **out, struct ff_err *err)
{
	struct amqp_connection_info info;
	struct timeval tv = {5, 0};
	int rc;
	char *copy = strdup(url);
	struct ff_amqp *a = calloc(1, sizeof(*a));
	if (!copy || !a) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out_free;
	}
	amqp_default_connection_info(&info);
	if (amqp_parse_url(copy, &info) != AMQP_STATUS_OK) {
		rc = ff_err_set(err, FF_EINVAL, "AMQP_URL is not an amqp:// url");
		goto out_free;
	}
	/* rabbitmq-c reads "amqp://host/" as the empty vhost; users mean the default one. */
	if (!info.vhost || !*info.vhost)
		info.vhost = "/";
	a->conn = amqp_new_connection();
	amqp_socket_t *sock = amqp_tcp_socket_new(a->conn);
	if (!sock) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out_free;
	}
	rc =
	    status_error(amqp_socket_open_noblock(sock, info.host, info.port, &tv), "connect", err);
	if (rc < 0)
		goto out_free;
	rc = reply_error(amqp_login(a->conn, info.vhost, 0, 131072, heartbeat_s,
				    AMQP_SASL_METHOD_PLAIN, info.user, info.password),
			 "login", err);
	if (rc < 0)
		goto out_free;
	if ((rc = open_channel(a, err)) < 0 ||
	    (rc = declare_exchange(a, FF_AMQP_JOBS_EXCHANGE, "direct", err)) < 0 ||
	    (rc = declare_exchange(a, FF_AMQP_DEAD_EXCHANGE, "fanout", err)) < 0 ||
	    (rc = declare_queue(a, FF_AMQP_DEAD_QUEUE, amqp_empty_table, FF_AMQP_DEAD_EXCHANGE, "",
				NULL, err)) < 0)
		goto out_free;
	free(copy);
	*out = a;
	atomic_fetch_add(&ff_metrics_amqp_connects, 1);
	return 0;
out_free:
	free(copy);
	ff_amqp_free(a);
	return rc;
}

void ff_amqp_free(struct ff_amqp *a)
{
	if (!a)
		return;
	if (a->conn) {
		if (a->channel_open)
			amqp_channel_close(a->conn, 1, AMQP_REPLY_SUCCESS);
		amqp_connection_close(a->conn, AMQP_REPLY_SUCCESS);
		amqp_destroy_connection(a->conn);
	}
	for (size_t i = 0; i < a->declared.n; i++)
		free(a->declared.name[i]);
	for (size_t i = 0; i < a->older.n; i++)
		free(a->older.name[i]);
	free(a);
}

static bool pools_has(const struct pools *p, const char *pool)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->name[i], pool) == 0)
			return true;
	return false;
}

/* Without memory (or room) the pool is simply not remembered: the next call declares again. */
static void pools_add(struct pools *p, const char *pool)
{
	char *copy = p->n < MAX_POOLS ? strdup(pool) : NULL;
	if (copy)
		p->name[p->n++] = copy;
}

/* The broker closed channel 1 over a refused declare: acknowledged, and opened again. */
static int reopen_channel(struct ff_amqp *a, struct ff_err *err)
{
	amqp_channel_close_ok_t close_ok = {0};
	int rc = amqp_send_method(a->conn, 1, AMQP_CHANNEL_CLOSE_OK_METHOD, &close_ok);
	if ((rc = status_error(rc, "channel.close-ok", err)) < 0)
		return rc;
	a->channel_open = 0;
	return open_channel(a, err);
}

/* Declares ff.jobs.<pool> and its binding; *ready (may be NULL) as declare_queue's.
 * A new queue is a classic queue of version 2: with 16 clients submitting, its confirms
 * came in 1.5 ms against version 1's 2.8 (bench_api; README § Farm, Broker). A queue an
 * older FuzzForge declared has no x-queue-version, and the broker refuses to declare it
 * with another one: it is then used as it is (a queue-version policy converts it). */
static int declare_jobs_queue(struct ff_amqp *a, const char *pool, uint32_t *ready,
			      struct ff_err *err)
{
	char queue[128];
	snprintf(queue, sizeof(queue), FF_AMQP_JOBS_EXCHANGE ".%s", pool);
	amqp_table_entry_t entries[3] = {
	    {.key = amqp_cstring_bytes("x-max-priority"),
	     .value = {.kind = AMQP_FIELD_KIND_I32, .value.i32 = FF_AMQP_MAX_PRIORITY}},
	    {.key = amqp_cstring_bytes("x-dead-letter-exchange"),
	     .value = {.kind = AMQP_FIELD_KIND_UTF8,
		       .value.bytes = amqp_cstring_bytes(FF_AMQP_DEAD_EXCHANGE)}},
	    {.key = amqp_cstring_bytes("x-queue-version"),
	     .value = {.kind = AMQP_FIELD_KIND_I32, .value.i32 = 2}},
	};
	bool older = pools_has(&a->older, pool);
	amqp_table_t args = {.num_entries = older ? 2 : 3, .entries = entries};
	int rc = declare_queue(a, queue, args, FF_AMQP_JOBS_EXCHANGE, pool, ready, err);
	if (rc != FF_ECONFLICT || older)
		return rc;
	if ((rc = reopen_channel(a, err)) < 0)
		return rc;
	pools_add(&a->older, pool); /* the audit's declares of it skip the refusal */
	args.num_entries = 2;	    /* as declared before x-queue-version */
	return declare_queue(a, queue, args, FF_AMQP_JOBS_EXCHANGE, pool, ready, err);
}

int ff_amqp_pool_ready(struct ff_amqp *a, const char *pool, uint32_t *ready, struct ff_err *err)
{
	return declare_jobs_queue(a, pool, ready, err);
}

int ff_amqp_declare_pool(struct ff_amqp *a, const char *pool, struct ff_err *err)
{
	if (pools_has(&a->declared, pool))
		return 0;
	int rc = declare_jobs_queue(a, pool, NULL, err);
	if (rc == 0) /* the next declare of this pool skips the round trip */
		pools_add(&a->declared, pool);
	return rc;
}

/* A message id is a shortstr: a longer one would fail to encode after the publish method
 * was sent, leaving the connection in the middle of a message. */
static int check_message_id(const char *message_id, struct ff_err *err)
{
	if (message_id && strlen(message_id) > 255)
		return ff_err_set(err, FF_EINVAL, "message id over 255 bytes");
	return 0;
}

/* A message's AMQP properties: one home for every publish here. */
static amqp_basic_properties_t message_properties(int priority, const char *message_id)
{
	amqp_basic_properties_t p = {
	    ._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG |
		      AMQP_BASIC_PRIORITY_FLAG,
	    .content_type = amqp_cstring_bytes("application/json"),
	    .delivery_mode = AMQP_DELIVERY_PERSISTENT,
	    .priority = (uint8_t)priority,
	};
	if (message_id) {
		p._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
		p.message_id = amqp_cstring_bytes(message_id);
	}
	return p;
}

/* Sends one message (not mandatory: the caller declared where it goes); its delivery tag is
 * the new a->publish_seq. */
static int send_message(struct ff_amqp *a, const char *exchange, const char *routing_key,
			const amqp_basic_properties_t *props, const void *body, size_t len,
			struct ff_err *err)
{
	amqp_bytes_t b = {.len = len, .bytes = (void *)body};
	int st = amqp_basic_publish(a->conn, 1, amqp_cstring_bytes(exchange),
				    amqp_cstring_bytes(routing_key), 0, 0, props, b);
	if (st != AMQP_STATUS_OK)
		return status_error(st, "publish", err);
	a->publish_seq++;
	return 0;
}

/* A confirm of delivery tag `tag` (every pending one up to it when `multiple`) as `value`,
 * for the batch whose n messages have tags first, first + 1, …; ok[i] < 0 is pending and
 * ok[*low] the first pending one. Tags of earlier calls are ignored. Returns how many it
 * settled. */
static size_t settle(int *ok, size_t n, uint64_t first, uint64_t tag, int multiple, int value,
		     size_t *low)
{
	size_t settled = 0;
	if (tag < first || (!multiple && tag - first >= n))
		return 0;
	uint64_t last = tag - first < n ? tag - first : n - 1;
	for (uint64_t i = multiple ? *low : last; i <= last; i++)
		if (ok[i] < 0) {
			ok[i] = value;
			settled++;
		}
	while (*low < n && ok[*low] >= 0)
		(*low)++;
	return settled;
}

/* Reads frames until the broker has acked or nacked each of the n delivery tags from first
 * on, or CONFIRM_TIMEOUT_MS pass without a confirm of one of them. ok[i]: 1 acked, 0
 * otherwise. */
static int wait_confirms(struct ff_amqp *a, uint64_t first, size_t n, int *ok, struct ff_err *err)
{
	size_t pending = n, low = 0;
	int64_t deadline = ff_now_ms() + CONFIRM_TIMEOUT_MS;
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		ok[i] = -1;
	while (pending > 0) {
		int64_t left = deadline - ff_now_ms();
		if (left <= 0) {
			rc = status_error(AMQP_STATUS_TIMEOUT, "waiting for publish confirm", err);
			break;
		}
		struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
		amqp_frame_t f;
		amqp_maybe_release_buffers(a->conn);
		int st = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
		if (st != AMQP_STATUS_OK) {
			rc = status_error(st, "waiting for publish confirm", err);
			break;
		}
		if (f.frame_type != AMQP_FRAME_METHOD)
			continue;
		size_t settled = 0;
		if (f.payload.method.id == AMQP_BASIC_ACK_METHOD) {
			amqp_basic_ack_t *ack = f.payload.method.decoded;
			settled = settle(ok, n, first, ack->delivery_tag, ack->multiple, 1, &low);
		} else if (f.payload.method.id == AMQP_BASIC_NACK_METHOD) {
			amqp_basic_nack_t *nack = f.payload.method.decoded;
			settled = settle(ok, n, first, nack->delivery_tag, nack->multiple, 0, &low);
		} else if (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
			   f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD) {
			a->channel_open = 0;
			rc = ff_err_set(err, FF_EUNAVAIL, "rabbitmq closed the channel");
			break;
		}
		if (settled) {
			pending -= settled;
			deadline = ff_now_ms() + CONFIRM_TIMEOUT_MS;
		}
	}
	for (size_t i = 0; i < n; i++)
		if (ok[i] < 0)
			ok[i] = 0;
	return rc;
}

int ff_amqp_publish_to(struct ff_amqp *a, const char *exchange, const char *routing_key,
		       const void *body, size_t len, int priority, const char *message_id,
		       struct ff_err *err)
{
	int ok = 0;
	int rc = check_message_id(message_id, err);
	if (rc < 0)
		return rc;
	amqp_basic_properties_t props = message_properties(priority, message_id);
	rc = send_message(a, exchange, routing_key, &props, body, len, err);
	if (rc == 0)
		rc = wait_confirms(a, a->publish_seq, 1, &ok, err);
	if (rc == 0 && !ok)
		rc = ff_err_set(err, FF_EUNAVAIL, "rabbitmq refused the message");
	return rc;
}

int ff_amqp_publish_batch(struct ff_amqp *a, const struct ff_amqp_msg *msgs, size_t n, int *ok,
			  struct ff_err *err)
{
	int rc = 0;
	for (size_t i = 0; i < n; i++)
		ok[i] = 0;
	/* What can fail before a message is sent is done first, for the whole batch. */
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = check_message_id(msgs[i].message_id, err);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = ff_amqp_declare_pool(a, msgs[i].pool, err);
	if (rc < 0 || n == 0)
		return rc;
	uint64_t first = a->publish_seq + 1;
	for (size_t i = 0; i < n; i++) {
		amqp_basic_properties_t props =
		    message_properties(msgs[i].priority, msgs[i].message_id);
		rc = send_message(a, FF_AMQP_JOBS_EXCHANGE, msgs[i].pool, &props, msgs[i].body,
				  msgs[i].len, err);
		if (rc < 0)
			return rc;
	}
	return wait_confirms(a, first, n, ok, err);
}

int ff_amqp_publish(struct ff_amqp *a, const char *pool, const void *body, size_t len, int priority,
		    const char *message_id, struct ff_err *err)
{
	const struct ff_amqp_msg msg = {pool, body, len, priority, message_id};
	int ok = 0;
	int rc = ff_amqp_publish_batch(a, &msg, 1, &ok, err);
	if (rc == 0 && !ok)
		rc = ff_err_set(err, FF_EUNAVAIL, "rabbitmq refused the message");
	return rc;
}

/* One delay queue per (pool, delay): every message in it has the same TTL, so they expire
 * in order at its head and dead-letter back to ff.jobs with the pool's routing key. The
 * queue deletes itself an hour after its last use. */
int ff_amqp_publish_delayed(struct ff_amqp *a, const char *pool, long delay_s, const void *body,
			    size_t len, int priority, const char *message_id, struct ff_err *err)
{
	char queue[160];
	if (delay_s <= 0)
		return ff_amqp_publish(a, pool, body, len, priority, message_id, err);
	int rc = ff_amqp_declare_pool(a, pool, err);
	if (rc < 0)
		return rc;
	snprintf(queue, sizeof(queue), FF_AMQP_RETRY_PREFIX "%s.%lds", pool, delay_s);
	amqp_table_entry_t entries[4] = {
	    {.key = amqp_cstring_bytes("x-message-ttl"),
	     .value = {.kind = AMQP_FIELD_KIND_I64, .value.i64 = delay_s * 1000}},
	    {.key = amqp_cstring_bytes("x-dead-letter-exchange"),
	     .value = {.kind = AMQP_FIELD_KIND_UTF8,
		       .value.bytes = amqp_cstring_bytes(FF_AMQP_JOBS_EXCHANGE)}},
	    {.key = amqp_cstring_bytes("x-dead-letter-routing-key"),
	     .value = {.kind = AMQP_FIELD_KIND_UTF8, .value.bytes = amqp_cstring_bytes(pool)}},
	    {.key = amqp_cstring_bytes("x-expires"),
	     .value = {.kind = AMQP_FIELD_KIND_I64, .value.i64 = (delay_s + 3600) * 1000}},
	};
	amqp_table_t args = {.num_entries = 4, .entries = entries};
	amqp_queue_declare(a->conn, 1, amqp_cstring_bytes(queue), 0, 1, 0, 0, args);
	rc = reply_error(amqp_get_rpc_reply(a->conn), "queue.declare", err);
	if (rc < 0)
		return rc;
	return ff_amqp_publish_to(a, "", queue, body, len, priority, message_id, err);
}

int ff_amqp_service(struct ff_amqp *a, struct ff_err *err)
{
	struct timeval tv = {0, 0};
	amqp_frame_t f;
	int st = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
	if (st == AMQP_STATUS_TIMEOUT || st == AMQP_STATUS_OK) {
		if (st == AMQP_STATUS_OK && f.frame_type == AMQP_FRAME_METHOD &&
		    (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
		     f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD))
			return ff_err_set(err, FF_EUNAVAIL, "rabbitmq closed the connection");
		return 0;
	}
	return status_error(st, "heartbeat", err);
}

int ff_amqp_consume(struct ff_amqp *a, const char *pool, int prefetch, struct ff_err *err)
{
	char queue[128];
	int rc = ff_amqp_declare_pool(a, pool, err);
	if (rc < 0)
		return rc;
	/* A worker consumes again each time an executor frees, mostly with the same prefetch:
	 * the channel keeps it for new consumers, so it is sent only when it changes. */
	if (prefetch != a->prefetch) {
		amqp_basic_qos(a->conn, 1, 0, (uint16_t)prefetch, 0);
		rc = reply_error(amqp_get_rpc_reply(a->conn), "basic.qos", err);
		if (rc < 0)
			return rc;
		a->prefetch = prefetch;
	}
	snprintf(queue, sizeof(queue), FF_AMQP_JOBS_EXCHANGE ".%s", pool);
	amqp_basic_consume_ok_t *ok = amqp_basic_consume(
	    a->conn, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
	rc = reply_error(amqp_get_rpc_reply(a->conn), "basic.consume", err);
	if (rc < 0)
		return rc;
	snprintf(a->consumer_tag, sizeof(a->consumer_tag), "%.*s", (int)ok->consumer_tag.len,
		 (const char *)ok->consumer_tag.bytes);
	return 0;
}

int ff_amqp_cancel(struct ff_amqp *a, struct ff_err *err)
{
	if (!a->consumer_tag[0])
		return 0;
	amqp_basic_cancel(a->conn, 1, amqp_cstring_bytes(a->consumer_tag));
	a->consumer_tag[0] = '\0';
	return reply_error(amqp_get_rpc_reply(a->conn), "basic.cancel", err);
}

void ff_amqp_delivery_release(struct ff_amqp_delivery *d)
{
	free(d->body);
	memset(d, 0, sizeof(*d));
}

int ff_amqp_next(struct ff_amqp *a, int timeout_ms, int wake_fd, struct ff_amqp_delivery *d,
		 struct ff_err *err)
{
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	amqp_envelope_t env;
	amqp_maybe_release_buffers(a->conn);
	if (wake_fd >= 0 && !amqp_frames_enqueued(a->conn) && !amqp_data_in_buffer(a->conn)) {
		struct pollfd p[2] = {{.fd = amqp_get_sockfd(a->conn), .events = POLLIN},
				      {.fd = wake_fd, .events = POLLIN}};
		/* Woken, or nothing came: the library is still entered, without waiting, so
		 * that it sends and checks heartbeats as in any wait. */
		if (poll(p, 2, timeout_ms) <= 0 || !p[0].revents)
			tv = (struct timeval){0, 0};
	}
	amqp_rpc_reply_t r = amqp_consume_message(a->conn, &env, &tv, 0);
	if (r.reply_type == AMQP_RESPONSE_NORMAL) {
		d->tag = env.delivery_tag;
		d->redelivered = env.redelivered;
		d->len = env.message.body.len;
		d->body = malloc(d->len ? d->len : 1);
		if (d->body)
			memcpy(d->body, env.message.body.bytes, d->len);
		amqp_destroy_envelope(&env);
		return d->body ? 0 : ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_TIMEOUT)
		return FF_ETIMEOUT;
	if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
	    r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
		/* Another frame than a delivery: a confirm, a cancel, or a close. */
		amqp_frame_t f;
		int st = amqp_simple_wait_frame_noblock(a->conn, &f, &tv);
		if (st == AMQP_STATUS_TIMEOUT)
			return FF_ETIMEOUT;
		if (st != AMQP_STATUS_OK)
			return status_error(st, "consume", err);
		if (f.frame_type == AMQP_FRAME_METHOD &&
		    (f.payload.method.id == AMQP_CHANNEL_CLOSE_METHOD ||
		     f.payload.method.id == AMQP_CONNECTION_CLOSE_METHOD ||
		     f.payload.method.id == AMQP_BASIC_CANCEL_METHOD))
			return ff_err_set(err, FF_EUNAVAIL, "rabbitmq closed the consumer");
		return FF_ETIMEOUT;
	}
	return reply_error(r, "consume", err);
}

int ff_amqp_ack(struct ff_amqp *a, uint64_t tag, struct ff_err *err)
{
	return status_error(amqp_basic_ack(a->conn, 1, tag, 0), "ack", err);
}

int ff_amqp_nack(struct ff_amqp *a, uint64_t tag, int requeue, struct ff_err *err)
{
	return status_error(amqp_basic_nack(a->conn, 1, tag, 0, requeue), "nack", err);
}

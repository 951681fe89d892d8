/* cache — finished runs' replies in memory; see cache.h. */
#include "cache.h"

#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include "ff_db.h"
#include "ff_log.h"
#include "ff_util.h"

#define NBUCKETS     16384 /* a power of two */
#define RECONNECT_MS 1000
/* What an entry costs beyond its bytes: the struct, the allocator's headers. */
#define ENTRY_OVERHEAD 160

struct entry {
	TAILQ_ENTRY(entry) lru; /* most recently used first */
	struct entry *next;	/* in its bucket */
	uint32_t hash;
	char run_id[FF_UUID_LEN + 1];
	char tag[HTTP_ETAG_SIZE];
	const char *type; /* the handlers' reply types are string literals */
	char *key, *body;
	size_t len;
	char *headers; /* the handler's reply headers: name\0value\0 ..., headers_len bytes */
	size_t headers_len;
	size_t cost;
};

struct cache {
	pthread_mutex_t mu;
	struct entry *buckets[NBUCKETS];
	TAILQ_HEAD(entry_lru_head, entry) lru;
	size_t bytes, max_bytes;
	uint64_t entries, hits, misses;
	uint64_t gen;  /* bumped by every drop: a reply read before it is not kept */
	bool online;   /* the listener is connected: nothing is kept or answered otherwise */
	bool stopping; /* under mu */
	int wake[2];   /* a pipe: cache_stop wakes the listener's poll */
	char *database_url;
	pthread_t thread;
	bool started;
};

static uint32_t hash_key(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The request's key: its decoded path, and its raw query if it has one. */
static char *request_key(const struct http_req *r)
{
	size_t p = strlen(r->path), q = r->query_str ? strlen(r->query_str) : 0;
	char *k = malloc(p + q + 2);
	if (!k)
		return NULL;
	memcpy(k, r->path, p);
	k[p] = '\0';
	if (r->query_str) {
		k[p] = '?';
		memcpy(k + p + 1, r->query_str, q + 1);
	}
	return k;
}

static struct entry **find(struct cache *c, const char *key, uint32_t h)
{
	struct entry **e = &c->buckets[h & (NBUCKETS - 1)];
	while (*e && ((*e)->hash != h || strcmp((*e)->key, key)))
		e = &(*e)->next;
	return e;
}

static void entry_free(struct entry *e)
{
	free(e->key);
	free(e->body);
	free(e->headers);
	free(e);
}

/* Under mu. */
static void evict(struct cache *c, struct entry *e)
{
	struct entry **at = find(c, e->key, e->hash);
	*at = e->next;
	TAILQ_REMOVE(&c->lru, e, lru);
	c->bytes -= e->cost;
	c->entries--;
	entry_free(e);
}

/* Under mu: every entry (run_id NULL) or those of one run. */
static void drop(struct cache *c, const char *run_id)
{
	struct entry *e, *next;
	c->gen++;
	/* A walk over everything: drops are rare (a requeue), lookups are what is fast. */
	for (e = TAILQ_FIRST(&c->lru); e; e = next) {
		next = TAILQ_NEXT(e, lru);
		if (!run_id || !strcmp(e->run_id, run_id))
			evict(c, e);
	}
}

bool cache_reply(struct cache *c, struct http_req *r)
{
	if (!c || r->method != HTTP_M_GET)
		return false;
	char *key = request_key(r);
	if (!key)
		return false;
	uint32_t h = hash_key(key);
	char tag[HTTP_ETAG_SIZE];
	const char *type = NULL;
	char *body = NULL, *headers = NULL;
	size_t len = 0, headers_len = 0;
	pthread_mutex_lock(&c->mu);
	struct entry *e = c->online ? *find(c, key, h) : NULL;
	if (e) {
		TAILQ_REMOVE(&c->lru, e, lru);
		TAILQ_INSERT_HEAD(&c->lru, e, lru);
		len = e->len;
		headers_len = e->headers_len;
		body = malloc(len ? len : 1);
		type = e->type;
		headers = malloc(headers_len ? headers_len : 1);
		if (body && headers) {
			memcpy(body, e->body, len);
			memcpy(headers, e->headers, headers_len);
			memcpy(tag, e->tag, sizeof(tag));
			c->hits++;
		} else {
			e = NULL;
		}
	}
	pthread_mutex_unlock(&c->mu);
	free(key);
	if (!e) {
		free(body);
		free(headers);
		return false;
	}
	http_reply_take(r, 200, type, body, len);
	for (size_t at = 0; at < headers_len;) {
		const char *name = headers + at, *value = name + strlen(name) + 1;
		http_add_header(r, name, value);
		at = (size_t)(value + strlen(value) + 1 - headers);
	}
	free(headers);
	http_add_header(r, "X-FF-Cache", "hit");
	http_etag_set(r, tag);
	return true;
}

struct cache_ticket cache_begin(struct cache *c, struct http_req *r)
{
	struct cache_ticket t = {false, 0};
	/* a comparison with a baseline changes with the baseline, which is another run; a
	 * followed run's reply is a stream, never kept: neither costs a state query */
	if (!c || !r->params[0] || !ff_uuid_valid(r->params[0]) || http_query(r, "baseline") ||
	    http_query(r, "follow"))
		return t;
	pthread_mutex_lock(&c->mu);
	bool online = c->online;
	t.gen = c->gen;
	pthread_mutex_unlock(&c->mu);
	if (!online)
		return t;
	struct ff_err err;
	const char *p[] = {r->params[0]};
	PGresult *res = ff_db_query(r->db,
				    "SELECT state IN ('succeeded', 'failed', 'timed_out') "
				    "FROM runs WHERE id = $1",
				    1, p, &err);
	t.keep = res && PQntuples(res) == 1 && *PQgetvalue(res, 0, 0) == 't';
	PQclear(res);
	return t;
}

/* The handler's reply headers as name\0value\0 ...; false on no memory. */
static bool pack_headers(struct http_req *r, struct entry *e)
{
	struct evkeyval *h;
	size_t n = 0;
	TAILQ_FOREACH(h, &r->reply_headers, next)
	n += strlen(h->key) + strlen(h->value) + 2;
	if (!(e->headers = malloc(n ? n : 1)))
		return false;
	TAILQ_FOREACH(h, &r->reply_headers, next)
	{
		size_t k = strlen(h->key) + 1, v = strlen(h->value) + 1;
		memcpy(e->headers + e->headers_len, h->key, k);
		memcpy(e->headers + e->headers_len + k, h->value, v);
		e->headers_len += k + v;
	}
	return true;
}

void cache_put(struct cache *c, struct http_req *r, const char *tag, struct cache_ticket t)
{
	if (!c || !t.keep || r->status != 200 || r->reply_fd >= 0 || r->stream_ops)
		return;
	struct entry *e = calloc(1, sizeof(*e));
	size_t len = r->reply_len;
	if (!e || !(e->key = request_key(r)) || !(e->body = malloc(len ? len : 1)) ||
	    !pack_headers(r, e)) {
		if (e)
			entry_free(e);
		return;
	}
	memcpy(e->body, r->reply, len);
	e->type = r->reply_type ? r->reply_type : "application/json";
	e->len = len;
	e->hash = hash_key(e->key);
	snprintf(e->run_id, sizeof(e->run_id), "%s", r->params[0]);
	snprintf(e->tag, sizeof(e->tag), "%s", tag);
	e->cost = len + e->headers_len + strlen(e->key) + ENTRY_OVERHEAD;
	http_add_header(r, "X-FF-Cache", "miss");

	pthread_mutex_lock(&c->mu);
	c->misses++;
	if (!c->online || c->gen != t.gen || e->cost > c->max_bytes / 4) {
		pthread_mutex_unlock(&c->mu);
		return entry_free(e); /* changed meanwhile, or too big to be worth a quarter */
	}
	struct entry **at = find(c, e->key, e->hash);
	if (*at) /* another thread kept the same reply first */
		evict(c, *at);
	at = &c->buckets[e->hash & (NBUCKETS - 1)];
	e->next = *at;
	*at = e;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->bytes += e->cost;
	c->entries++;
	while (c->bytes > c->max_bytes)
		evict(c, TAILQ_LAST(&c->lru, entry_lru_head));
	pthread_mutex_unlock(&c->mu);
}

void cache_drop_run(struct cache *c, const char *run_id)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	drop(c, run_id);
	pthread_mutex_unlock(&c->mu);
}

struct cache_stats cache_stats(struct cache *c)
{
	struct cache_stats s = {0};
	if (!c)
		return s;
	pthread_mutex_lock(&c->mu);
	s = (struct cache_stats){c->hits, c->misses, c->entries, c->bytes};
	pthread_mutex_unlock(&c->mu);
	return s;
}

static void set_online(struct cache *c, bool online)
{
	pthread_mutex_lock(&c->mu);
	drop(c, NULL); /* coming up: what was kept while a notification could be missed goes */
	c->online = online;
	pthread_mutex_unlock(&c->mu);
}

static PGconn *listen_connect(struct cache *c)
{
	PGconn *pg = PQconnectdb(c->database_url);
	PGresult *res = PQstatus(pg) == CONNECTION_OK ? PQexec(pg, "LISTEN " CACHE_CHANNEL) : NULL;
	bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok) {
		ff_warn("result cache: off until PostgreSQL answers: %s", PQerrorMessage(pg));
		PQfinish(pg);
		return NULL;
	}
	set_online(c, true);
	return pg;
}

static bool stopping(struct cache *c)
{
	pthread_mutex_lock(&c->mu);
	bool s = c->stopping;
	pthread_mutex_unlock(&c->mu);
	return s;
}

static void *listen_main(void *arg)
{
	struct cache *c = arg;
	PGconn *pg = NULL;
	while (!stopping(c)) {
		if (!pg && !(pg = listen_connect(c))) {
			poll(&(struct pollfd){.fd = c->wake[0], .events = POLLIN}, 1, RECONNECT_MS);
			continue;
		}
		struct pollfd fds[] = {{.fd = PQsocket(pg), .events = POLLIN},
				       {.fd = c->wake[0], .events = POLLIN}};
		if (poll(fds, 2, -1) < 0 || !fds[0].revents)
			continue;
		if (!PQconsumeInput(pg)) {
			ff_warn("result cache: off until PostgreSQL answers: %s",
				PQerrorMessage(pg));
			set_online(c, false);
			PQfinish(pg);
			pg = NULL;
			continue;
		}
		PGnotify *n;
		while ((n = PQnotifies(pg))) {
			cache_drop_run(c, n->extra);
			PQfreemem(n);
		}
	}
	PQfinish(pg);
	return NULL;
}

int cache_start(const char *database_url, size_t max_bytes, struct cache **out, struct ff_err *err)
{
	*out = NULL;
	if (max_bytes == 0)
		return 0;
	struct cache *c = calloc(1, sizeof(*c));
	if (!c || !(c->database_url = strdup(database_url))) {
		free(c);
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	c->wake[0] = c->wake[1] = -1;
	pthread_mutex_init(&c->mu, NULL);
	TAILQ_INIT(&c->lru);
	c->max_bytes = max_bytes;
	if (pipe(c->wake) < 0 || pthread_create(&c->thread, NULL, listen_main, c) != 0) {
		cache_stop(c);
		return ff_err_set(err, FF_EINTERNAL, "cannot start the result cache's listener");
	}
	c->started = true;
	*out = c;
	return 0;
}

void cache_stop(struct cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_mutex_unlock(&c->mu);
	if (c->started) {
		(void)!write(c->wake[1], "x", 1);
		pthread_join(c->thread, NULL);
	}
	drop(c, NULL);
	if (c->wake[0] >= 0) {
		close(c->wake[0]);
		close(c->wake[1]);
	}
	pthread_mutex_destroy(&c->mu);
	free(c->database_url);
	free(c);
}

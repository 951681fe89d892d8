/* pool — database threads; see pool.h. */
#include "pool.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "app.h"
#include "cache.h"
#include "ff_db.h"
#include "ff_log.h"
#include "http.h"

/* Handler threads' stacks: the deepest a handler goes is libpq and cJSON. */
#define POOL_STACK (256 * 1024)

struct job {
	struct http_req *r;
	struct job *next;
};

struct pool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *head, *tail;
	bool stopping;
	const char *url;
	int n, cap; /* threads started, of cap */
	pthread_t *threads;
	struct ff_db **dbs;
};

static void run_handler(struct http_req *r, struct ff_db *db)
{
	bool deferred = false;
	r->db = db;
	r->deferred = &deferred;
	struct cache *cache = r->route->where == HTTP_CACHED && r->app ? r->app->cache : NULL;
	struct cache_ticket ticket = cache_begin(cache, r);
	r->route->handler(r);
	/* Deferred, r is another thread's now and may be answered and freed already: not a
	 * byte of it is read or written here again. */
	if (deferred)
		return;
	r->db = NULL;
	r->deferred = NULL;
	char tag[HTTP_ETAG_SIZE];
	if (http_etag_of(r, tag)) { /* here, off the loop: it hashes the reply */
		cache_put(cache, r, tag, ticket);
		http_etag_set(r, tag);
	}
	http_complete(r);
}

void pool_run_here(struct http_req *r)
{
	run_handler(r, NULL);
}

struct worker_arg {
	struct pool *p;
	int i;
};

static void *worker_main(void *arg)
{
	struct pool *p = ((struct worker_arg *)arg)->p;
	struct ff_db *db = p->dbs[((struct worker_arg *)arg)->i];
	free(arg);
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (!p->head && !p->stopping)
			pthread_cond_wait(&p->cv, &p->mu);
		struct job *j = p->head;
		if (j && !(p->head = j->next))
			p->tail = NULL;
		pthread_mutex_unlock(&p->mu);
		if (!j)
			return NULL; /* stopping, and nothing left */
		run_handler(j->r, db);
		free(j);
	}
}

static int spawn(void *(*fn)(void *), void *arg, bool detached, pthread_t *out)
{
	pthread_attr_t attr;
	pthread_t t;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, POOL_STACK);
	if (detached)
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(out ? out : &t, &attr, fn, arg);
	pthread_attr_destroy(&attr);
	return rc;
}

int pool_start(const char *database_url, int n, struct pool **out, struct ff_err *err)
{
	struct pool *p = calloc(1, sizeof(*p));
	if (!p || !(p->threads = calloc((size_t)n, sizeof(*p->threads))) ||
	    !(p->dbs = calloc((size_t)n, sizeof(*p->dbs)))) {
		if (p)
			free(p->threads);
		free(p);
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->url = database_url;
	p->cap = n;
	for (int i = 0; i < n; i++) {
		struct worker_arg *a = malloc(sizeof(*a));
		int rc = ff_db_connect(database_url, &p->dbs[i], err);
		if (rc < 0 || !a) {
			free(a);
			pool_stop(p);
			return rc < 0 ? rc : ff_err_set(err, FF_ENOMEM, "out of memory");
		}
		*a = (struct worker_arg){p, i};
		if (spawn(worker_main, a, false, &p->threads[i]) != 0) {
			free(a);
			pool_stop(p);
			return ff_err_set(err, FF_ENOMEM, "cannot start a database thread");
		}
		p->n++;
	}
	*out = p;
	return 0;
}

void pool_push(struct pool *p, struct http_req *r)
{
	struct job *j = malloc(sizeof(*j));
	if (!j) {
		http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
		http_complete(r);
		return;
	}
	*j = (struct job){.r = r};
	pthread_mutex_lock(&p->mu);
	if (p->tail)
		p->tail->next = j;
	else
		p->head = j;
	p->tail = j;
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

struct stream_arg {
	struct http_req *r;
	const char *url;
};

/* The connection is made here, off the loop: a few milliseconds beside an upload. */
static void *stream_main(void *arg)
{
	struct stream_arg a = *(struct stream_arg *)arg;
	struct ff_db *db = NULL;
	struct ff_err err;
	free(arg);
	if (ff_db_connect(a.url, &db, &err) < 0) {
		http_reply_error(a.r, &err);
		http_complete(a.r);
	} else {
		run_handler(a.r, db);
	}
	ff_db_free(db);
	return NULL;
}

int pool_spawn(struct pool *p, struct http_req *r, struct ff_err *err)
{
	struct stream_arg *a = malloc(sizeof(*a));
	if (!a)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	*a = (struct stream_arg){r, p->url};
	if (spawn(stream_main, a, true, NULL) != 0) {
		free(a);
		return ff_err_set(err, FF_EUNAVAIL, "cannot start an upload thread");
	}
	return 0;
}

void pool_stop(struct pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (int i = 0; i < p->n; i++)
		pthread_join(p->threads[i], NULL);
	for (int i = 0; i < p->cap; i++)
		ff_db_free(p->dbs[i]);
	free(p->dbs);
	free(p->threads);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

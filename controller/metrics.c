/* metrics — the controller's /metrics; see metrics.h. */
#include "metrics.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cache.h"
#include "ff_db.h"
#include "ff_metrics.h"
#include "ff_run_state.h"

/* The statuses the API answers with; any other is counted as "other". */
static const int statuses[] = {200, 201, 202, 204, 304, 400, 401, 403, 404, 405,
			       408, 409, 413, 415, 422, 429, 431, 500, 503};
#define NSTATUS (sizeof(statuses) / sizeof(statuses[0]) + 1)

struct route_metrics {
	atomic_uint_fast64_t by_status[NSTATUS];
	struct ff_histogram latency;
};

struct metrics {
	const struct http_route *routes;
	size_t nroutes;
	struct route_metrics *per_route; /* nroutes + 1: the last is "no route" */
};

int metrics_new(const struct http_route *routes, size_t nroutes, struct metrics **out,
		struct ff_err *err)
{
	struct metrics *m = calloc(1, sizeof(*m));
	if (!m || !(m->per_route = calloc(nroutes + 1, sizeof(*m->per_route)))) {
		free(m);
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	m->routes = routes;
	m->nroutes = nroutes;
	*out = m;
	return 0;
}

void metrics_free(struct metrics *m)
{
	if (m)
		free(m->per_route);
	free(m);
}

void metrics_request(struct metrics *m, const struct http_route *route, int status, double seconds)
{
	if (!m)
		return;
	size_t i = route ? (size_t)(route - m->routes) : m->nroutes, s = 0;
	while (s < NSTATUS - 1 && statuses[s] != status)
		s++;
	struct route_metrics *rm = &m->per_route[i <= m->nroutes ? i : m->nroutes];
	atomic_fetch_add_explicit(&rm->by_status[s], 1, memory_order_relaxed);
	ff_histogram_observe(&rm->latency, seconds);
}

static void route_labels(const struct metrics *m, size_t i, char *out, size_t size)
{
	out[0] = '\0';
	ff_metrics_label(out, size, "route", i < m->nroutes ? m->routes[i].pattern : "none");
	ff_metrics_label(out, size, "method",
			 i < m->nroutes ? http_method_name(m->routes[i].method) : "any");
}

static void put_http(struct ff_buf *b, const struct metrics *m)
{
	char labels[256], status[8];
	ff_metrics_family(b, "fuzzforge_http_requests_total", "counter",
			  "Requests answered, by route pattern, method and status.");
	for (size_t i = 0; i <= m->nroutes; i++)
		for (size_t s = 0; s < NSTATUS; s++) {
			uint_fast64_t n = atomic_load(&m->per_route[i].by_status[s]);
			if (!n)
				continue;
			route_labels(m, i, labels, sizeof(labels));
			if (s < NSTATUS - 1)
				snprintf(status, sizeof(status), "%d", statuses[s]);
			ff_metrics_label(labels, sizeof(labels), "status",
					 s < NSTATUS - 1 ? status : "other");
			ff_metrics_sample(b, "fuzzforge_http_requests_total", labels, (double)n);
		}
	ff_metrics_family(b, "fuzzforge_http_request_duration_seconds", "histogram",
			  "Time from a request's first byte to its reply, by route.");
	for (size_t i = 0; i <= m->nroutes; i++) {
		route_labels(m, i, labels, sizeof(labels));
		ff_metrics_histogram(b, "fuzzforge_http_request_duration_seconds", labels,
				     &m->per_route[i].latency);
	}
}

static void put_cache(struct ff_buf *b, struct cache *c)
{
	struct cache_stats s = cache_stats(c);
	ff_metrics_family(b, "fuzzforge_cache_hits_total", "counter",
			  "Finished runs' replies answered from the result cache.");
	ff_metrics_sample(b, "fuzzforge_cache_hits_total", NULL, (double)s.hits);
	ff_metrics_family(b, "fuzzforge_cache_misses_total", "counter",
			  "Finished runs' replies read from PostgreSQL and kept.");
	ff_metrics_sample(b, "fuzzforge_cache_misses_total", NULL, (double)s.misses);
	ff_metrics_family(b, "fuzzforge_cache_bytes", "gauge",
			  "Bytes the result cache holds (of FF_CACHE_MB).");
	ff_metrics_sample(b, "fuzzforge_cache_bytes", NULL, (double)s.bytes);
}

/* Runs by state and the queue, from PostgreSQL; 0 when it does not answer. */
static int put_runs(struct ff_buf *b, struct ff_db *db, struct ff_err *err)
{
	PGresult *res =
	    ff_db_query(db, "SELECT state, count(*) FROM runs GROUP BY state", 0, NULL, err);
	if (!res)
		return -1;
	char labels[64];
	ff_metrics_family(b, "fuzzforge_runs", "gauge", "Runs, by state.");
	for (int s = 0; s < FF_RUN_NSTATES; s++) {
		const char *name = ff_run_state_name((enum ff_run_state)s);
		double n = 0;
		for (int i = 0; i < PQntuples(res); i++)
			if (!strcmp(PQgetvalue(res, i, 0), name))
				n = strtod(PQgetvalue(res, i, 1), NULL);
		labels[0] = '\0';
		ff_metrics_label(labels, sizeof(labels), "state", name);
		ff_metrics_sample(b, "fuzzforge_runs", labels, n);
	}
	PQclear(res);
	res = ff_db_query(db,
			  "SELECT count(*), COALESCE(EXTRACT(epoch FROM clock_timestamp() - "
			  "min(created_at)), 0) FROM runs WHERE state IN ('queued', 'retrying')",
			  0, NULL, err);
	if (!res)
		return -1;
	ff_metrics_family(b, "fuzzforge_queue_jobs", "gauge",
			  "Runs waiting for a worker (queued or retrying).");
	ff_metrics_sample(b, "fuzzforge_queue_jobs", NULL, strtod(PQgetvalue(res, 0, 0), NULL));
	ff_metrics_family(b, "fuzzforge_queue_oldest_job_age_seconds", "gauge",
			  "Age of the oldest run waiting for a worker.");
	ff_metrics_sample(b, "fuzzforge_queue_oldest_job_age_seconds", NULL,
			  strtod(PQgetvalue(res, 0, 1), NULL));
	PQclear(res);
	return 0;
}

void api_metrics(struct http_req *r)
{
	struct ff_err err;
	struct ff_buf b;
	ff_buf_init(&b, SIZE_MAX);
	if (put_runs(&b, r->db, &err) < 0) {
		ff_buf_release(&b);
		return http_reply_error(r, &err);
	}
	put_http(&b, r->app->metrics);
	put_cache(&b, r->app->cache);
	ff_metrics_connections(&b);
	ff_metrics_process(&b);
	size_t len;
	char *text = ff_buf_take(&b, &len);
	ff_buf_release(&b);
	if (!text)
		return http_reply_fail(r, FF_ENOMEM, NULL, "out of memory");
	http_reply_take(r, 200, FF_METRICS_CONTENT_TYPE, text, len);
}

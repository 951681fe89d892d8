/* metrics — GET /metrics: the controller's figures in Prometheus' text format (ff_metrics.h).
 * Requests are counted by route pattern, method and status, with a latency histogram per
 * route, on the event loop as they are answered (atomics: the reply is built on a database
 * thread); runs by state and the queue are read from PostgreSQL at each scrape; the result
 * cache, connections and the process come from memory. Public, like /healthz: it holds
 * counts and route patterns, no ids; keep it behind the balancer's ACL if that matters. */
#ifndef METRICS_H
#define METRICS_H

#include "ff_err.h"
#include "http.h"

struct metrics;

int metrics_new(const struct http_route *routes, size_t nroutes, struct metrics **out,
		struct ff_err *err);
void metrics_free(struct metrics *m); /* NULL-safe */
/* A reply sent: route NULL for a request that matched none. Any thread; NULL m: nothing. */
void metrics_request(struct metrics *m, const struct http_route *route, int status, double seconds);
/* GET /metrics, on a database thread. */
void api_metrics(struct http_req *r);

#endif

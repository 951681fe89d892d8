/* cache — the replies of finished runs, kept in memory (FF_CACHE_MB) and answered on the
 * event loop without a database thread: a succeeded, failed or timed-out run's record,
 * events, findings, SARIF, logs and artifact list only change if the run is requeued
 * (retry, dead-letter requeue) or deleted. Routes say whether they may be kept (http_route
 * .cached); the key is the request's path and query, so each page and filter is its own.
 *
 * Staying right. A trigger (migration 010) notifies `ff_run_changed` with the run's id
 * whenever a finished run is updated or deleted, by any controller or worker; a thread
 * of this module LISTENs on its own connection and drops that run's replies. While that
 * connection is down nothing is kept or answered (a notification could be missed), and
 * everything is dropped when it comes back. A reply is only kept if the run was finished
 * before the handler read it and no notification came in meanwhile (the generation). A
 * cancelled run is not kept: its worker may still be writing its logs. */
#ifndef CACHE_H
#define CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ff_err.h"
#include "http.h"

#define CACHE_CHANNEL "ff_run_changed"

struct cache;

/* max_bytes 0: nothing is kept (and no thread is started). */
int cache_start(const char *database_url, size_t max_bytes, struct cache **out, struct ff_err *err);
void cache_stop(struct cache *c); /* NULL-safe */

/* On the loop: r's reply from the cache, if it holds one (X-FF-Cache: hit), with its ETag
 * (a matching If-None-Match makes it a 304). False: r is untouched. */
bool cache_reply(struct cache *c, struct http_req *r);

/* A database thread, before a cached route's handler: whether its reply may be kept, with
 * the generation that cache_put checks. Reads the run's state with r->db. */
struct cache_ticket {
	bool keep;
	uint64_t gen;
};
struct cache_ticket cache_begin(struct cache *c, struct http_req *r);
/* After the handler: keeps r's 200 reply, tagged tag, if the ticket allows it and the
 * generation did not change; r is untouched (X-FF-Cache: miss is added). */
void cache_put(struct cache *c, struct http_req *r, const char *tag, struct cache_ticket t);
/* Drops every reply of the run (also called by the listener). */
void cache_drop_run(struct cache *c, const char *run_id);

struct cache_stats {
	uint64_t hits, misses, entries, bytes;
};
struct cache_stats cache_stats(struct cache *c);

#endif

/* follow — a run's logs and events streamed to many clients at once, as they are written:
 * GET /api/v1/runs/{id}/logs?follow=1 (the container's output, text) and
 * GET /api/v1/runs/{id}/events?follow=1 (state changes and progress, Server-Sent Events).
 *
 * One thread with a database connection of its own reads what is new for every follower,
 * every FOLLOW_TICK_MS, and hands it to the event loop, which sends it (http_stream_send).
 * A waiting follower holds no database thread of the API's pool and costs the loop nothing;
 * the worker writes a running attempt's output in pieces (run_log_chunks, migration 009). A
 * stream ends once its run is in a terminal state and everything it left was sent; it starts
 * from the beginning (events: after Last-Event-ID when the client sends one). */
#ifndef FOLLOW_H
#define FOLLOW_H

#include <event2/event.h>

#include "ff_err.h"
#include "http.h"

#define FOLLOW_TICK_MS	    250
#define FOLLOW_KEEPALIVE_MS 15000 /* an SSE comment when nothing else was sent */

struct follow;

enum follow_kind { FOLLOW_LOGS, FOLLOW_EVENTS };

int follow_start(const char *database_url, struct event_base *base, int max_followers,
		 struct follow **out, struct ff_err *err);
/* After http_free: every stream is gone by then. NULL-safe. */
void follow_stop(struct follow *f);

/* Whether the request asks to follow (?follow=1 or true); replies 422 itself and returns -1
 * for a value that is neither that nor 0/false. */
int follow_wanted(struct http_req *r);
/* From a pool handler: r's reply becomes the stream of its run's logs or events. Replies
 * 404 itself for no such run, 503 past max_followers. */
void follow_reply(struct follow *f, struct http_req *r, enum follow_kind kind);

#endif

/* wmetrics — a worker's figures, in Prometheus' text format (ff_metrics.h), served by a
 * small listener of its own on FF_METRICS_LISTEN (GET /metrics; off when unset): runs
 * finished by workflow and outcome with their duration per workflow, Engine API calls'
 * latency and failures by call, image pulls by outcome, slots busy and free, deliveries handed
 * back unstarted, database and broker reconnects, the process. Counters are atomics or under one
 * mutex: executors, the broker thread and the listener all touch them. */
#ifndef WMETRICS_H
#define WMETRICS_H

#include <stdbool.h>

#include "ff_buf.h"
#include "ff_err.h"

/* Starts the listener on listen ("host:port"); NULL or "": none. */
int wmetrics_listen(const char *listen, struct ff_err *err);
void wmetrics_stop(void);

void wmetrics_slots(int busy, int total);
/* A delivery handed back to the queue unstarted: it came when no executor was free. */
void wmetrics_delivery_returned(void);
/* An attempt an executor finished: its workflow, outcome name and time. */
void wmetrics_run(const char *workflow, const char *outcome, double seconds);
/* An Engine API call: its method and path (ids are folded away), time, and whether it
 * failed (no reply, or a 5xx: a 404 or 409 is an answer the worker acts on). */
void wmetrics_engine_call(const char *method, const char *path, double seconds, bool failed);
/* A pull from FF_REGISTRY: "pulled", "not_found" or "failed", and its time. */
void wmetrics_image_pull(const char *outcome, double seconds);

/* The whole exposition, as the listener sends it. */
void wmetrics_render(struct ff_buf *b);
/* "POST /containers/{id}/start" of "POST", "/v1.41/containers/8f3e…/start?x=1", into out. */
void wmetrics_call_name(const char *method, const char *path, char *out, size_t size);

#endif

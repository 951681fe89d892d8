/* audit — the audit log: every request the API answers, recorded in PostgreSQL without
 * slowing the request path. The event loop appends an entry to a bounded queue in memory;
 * a thread of its own writes the queue in batches (one INSERT per AUDIT_EVERY_MS or per
 * AUDIT_BATCH entries) on a connection only it uses, and deletes rows older than
 * FF_AUDIT_DAYS once an hour. While PostgreSQL is away entries wait in the queue, up to
 * AUDIT_QUEUE_MAX; past that they are counted and dropped (and the drop logged), so that
 * an outage cannot grow the controller's memory without bound. */
#ifndef AUDIT_H
#define AUDIT_H

#include <stdint.h>

#include "ff_err.h"
#include "keys.h"

#define AUDIT_EVERY_MS	200
#define AUDIT_BATCH	2000
#define AUDIT_QUEUE_MAX 20000

struct audit_entry {
	int64_t at_us;		 /* wall clock, microseconds since the epoch */
	char key_id[KEY_ID_LEN]; /* "" for none */
	const char *method;	 /* static strings */
	const char *route;	 /* NULL when no route matched */
	int status;
	char request_id[64];
	uint64_t bytes_in, bytes_out;
	double duration_ms;
	char client[48];
};

struct audit;

int audit_start(const char *database_url, long keep_days, struct audit **out, struct ff_err *err);
/* Writes what is queued, then stops. NULL-safe. */
void audit_stop(struct audit *a);
/* Queues e (copied): on the event loop, no I/O. */
void audit_record(struct audit *a, const struct audit_entry *e);

#endif

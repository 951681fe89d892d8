/* committer — the controller's write path to PostgreSQL and RabbitMQ, on two threads of its
 * own with its own connections: submits grouped into one transaction and one wait for the
 * broker's confirms (group commit), and once a second the lease reaper and the outbox
 * sweep. A 202 still means what it meant with one transaction per submit: the run is
 * committed and its job confirmed by the broker, or in the outbox (ff_run.h),
 * which publishes it as soon as the broker confirms. */
#ifndef COMMITTER_H
#define COMMITTER_H

#include <stdbool.h>
#include <stddef.h>

#include "ff_err.h"
#include "ff_run.h"

struct app;
struct ff_db;
struct http_req;
struct committer;

/* One submit, as the handler prepared it (its strings stay valid until done). */
struct submission {
	struct http_req *r;
	struct ff_run_submission run;
	const char *job; /* the job message, published once the run is committed */
	size_t job_len;
	/* The outcome, set before done: 1 inserted, 0 no such target, or a negative FF_E*
	 * with err; the run as api_run_json gives it (malloc'd); whether the broker confirmed the
	 * job. */
	int rc;
	char *run_json;
	size_t run_json_len;
	struct ff_err err;
	bool published;
	/* Called on the committer's thread once the outcome is known: replies, completes the
	 * request, frees the submission. db may be used for a follow-up query. */
	void (*done)(struct submission *s, struct ff_db *db);
	struct submission *next;
};

int committer_start(struct app *app, struct committer **out, struct ff_err *err);
/* Hands s over; done is called later, on the committer's thread. Any thread. */
void committer_submit(struct committer *c, struct submission *s);
/* Publishes run_id's next attempt from the outbox now rather than at the next sweep. */
void committer_poke(struct committer *c, const char *run_id);
/* Commits what is queued, then stops. NULL-safe. */
void committer_stop(struct committer *c);

#endif

/* outbox — what makes the database, not the broker, the source of truth for runs: a job
 * the broker has not confirmed is in the outbox (table run_outbox, see ff_run.h). A submit
 * publishes its own job at once; when that fails (a broker that is down, a controller
 * that died between commit and publish), as for a retry a worker could not publish, a
 * hand-back, a lease expiry or a requeue, the sweep publishes it: every second, on every
 * controller, safely at once (rows are claimed with SKIP LOCKED). A duplicate publish is
 * harmless: the worker's guarded start runs each attempt once. */
#ifndef OUTBOX_H
#define OUTBOX_H

#include <stddef.h>

#include "ff_err.h"

struct app;

/* Publishes the next attempt of one run now, if it is waiting in the outbox. */
void outbox_publish_run(struct app *app, const char *run_id);

/* Publishes every run that is due and waiting in the outbox. */
void outbox_sweep(struct app *app);

/* The broker's side of the truth: a pool whose queue holds fewer jobs than PostgreSQL has
 * runs waiting, published, for longer than cfg.broker_audit_s lost them (the broker node
 * went, with its disk, or the queue was purged): those runs go back to the outbox, which
 * publishes them again. A job that was not lost after all is then there twice, which is
 * harmless: a worker's guarded start runs each attempt once. A run published again waits
 * broker_audit_s afresh before it can be judged lost twice. Call at most every
 * broker_audit_s / 2. */
void outbox_audit(struct app *app);

/* ff_run_outbox_prune, logged. Call about once a minute. */
void outbox_prune(struct app *app);

#endif

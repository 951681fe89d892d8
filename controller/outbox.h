/* outbox — what makes the database, not the broker, the source of truth for runs: a run
 * whose job the broker has not confirmed (published = false) is in the outbox. A submit
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

#endif

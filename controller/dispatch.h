/* dispatch — what makes the database, not the broker, the source of truth for runs. Every
 * second, on every controller (safely at once: rows are claimed with SKIP LOCKED):
 *  - runs whose worker's lease expired go back to the queue (their attempt not counted,
 *    up to DISPATCH_MAX_LEASE_LOSSES times, then they fail);
 *  - runs that are due but whose job message was never confirmed by the broker (a controller
 *    that died between commit and publish, a broker that was down, a retry a worker could
 *    not publish, a requeue) are published. */
#ifndef DISPATCH_H
#define DISPATCH_H

struct app;

#define DISPATCH_MAX_LEASE_LOSSES 3

void dispatch_tick(struct app *app);

#endif

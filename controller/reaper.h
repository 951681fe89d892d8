/* reaper — runs whose worker is gone. Every second, on every controller (safely at once:
 * rows are claimed with SKIP LOCKED), a running run whose lease expired goes back to the
 * queue without counting its attempt, up to REAPER_MAX_LEASE_LOSSES times, then fails;
 * workers silent for a lease are marked lost. */
#ifndef REAPER_H
#define REAPER_H

struct app;

#define REAPER_MAX_LEASE_LOSSES 3

void reaper_tick(struct app *app);

#endif

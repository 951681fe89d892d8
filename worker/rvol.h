/* rvol — the volume an executor mounts as /results, kept from run to run.
 *
 * A volume created and removed for every run costs the engine about 2.9 ms of CPU (create
 * 1.4, remove 1.45: tests/bench/engine_calls.sh), 1.2 % of the trivial run's floor. When
 * this worker reads /results straight from the engine's directory (results_collect_dir), it
 * can also empty that directory itself, so each executor keeps one volume instead,
 * `ff-results-<hash of the worker id>-<process nonce>-<slot>`, labelled fuzzforge.worker (the
 * id), fuzzforge.results-slot (the nonce) and fuzzforge.database (struct rvol_owner); not
 * fuzzforge.run: it is no run's leftover.
 * The nonce is new with every worker process: a worker restarted under the same id never
 * shares a volume with a container its killed predecessor left running.
 *
 * Between runs the directory is emptied (results_empty_dir: never following a link); once a
 * container that mounts it exists (and so pins it), rvol_pinned checks it is still empty and
 * sets its mode again (01777), so a volume removed and made again by the engine meanwhile
 * (another worker's rvol_sweep, an operator) is fixed before the run starts. Whenever the
 * directory is not visible here, cannot be made world-writable or cannot be emptied, the
 * executor goes back to a volume per run for good (v->off). */
#ifndef RVOL_H
#define RVOL_H

#include <stdbool.h>

#include "docker.h"
#include "ff_db.h"
#include "ff_err.h"

/* Whose kept volumes: this worker process, in this deployment. The database is named by a
 * hash of its URL, so that a worker sweeps only the volumes of workers that share its
 * database (its workers table says which of those are alive), never those of another
 * deployment on the same engine. */
struct rvol_owner {
	const char *worker_id;
	char nonce[9];	   /* new with every process */
	char database[17]; /* hex of a hash of the database URL */
};
void rvol_owner_init(struct rvol_owner *o, const char *worker_id, const char *database_url);

struct rvol {
	const struct rvol_owner *owner;
	char name[80];
	char dir[512]; /* its directory on this host; "" until made */
	bool off;      /* not kept here: the caller uses a volume per run */
};

/* The slot's volume name; nothing is made yet. owner outlives v. */
void rvol_init(struct rvol *v, const struct rvol_owner *owner, int slot);

/* Before a run: 0 with the volume made (the first time) and v->dir visible here, or
 * FF_EUNAVAIL with v->off set (use a volume per run); other codes: the engine's error. */
int rvol_acquire(struct rvol *v, struct docker *d, struct ff_err *err);

/* Once a container mounting it exists: empty (emptied if not) and world-writable, or an
 * error for the run (v->off is set: the next run uses a volume per run). */
int rvol_pinned(struct rvol *v, struct ff_err *err);

/* After the container that used it is removed: emptied for the next run. If it cannot be,
 * it is removed through the engine and v->off set. */
void rvol_release(struct rvol *v, struct docker *d);

/* On the executor's exit: removed through the engine. */
void rvol_remove(struct rvol *v, struct docker *d);

/* At the worker's start: removes the kept results volumes, in its database, of workers that
 * database does not list as active or draining, and those of earlier processes of its own
 * worker id (other nonces): killed workers'. The engine refuses to remove one that a
 * container still uses (one a killed worker left running); a later start tries again.
 * Best effort: failures are logged. */
void rvol_sweep(struct docker *d, struct ff_db *db, const struct rvol_owner *owner);

#endif

/* exec — runs one attempt of a job: the guarded move to `running`, the containers, the
 * results, and what comes next (done, retry after a delay, or dead-lettered). One struct
 * exec_env per executor thread. The steps live in their own modules: spec (container
 * bodies), output (logs and progress), results (/results read back), outcome (the pure
 * decision), store (the database side); this one runs them in order. */
#ifndef EXEC_H
#define EXEC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "docker.h"
#include "ff_db.h"
#include "ff_job.h"

struct exec_config {
	const char *worker_id;
	const char *container_user;  /* e.g. "65534:65534" */
	size_t log_max_bytes;	     /* container output kept per run */
	size_t results_max_bytes;    /* every /results file read back, in all */
	size_t sarif_max_bytes;	     /* the SARIF log held in memory (FF_SARIF_MAX_MB) */
	size_t sarif_max_values;     /* JSON values a SARIF log may hold (FF_SARIF_MAX_VALUES) */
	const char *spool_dir;	     /* scratch files (NULL: $TMPDIR or /tmp) */
	bool results_direct;	     /* read /results from the volume's directory when visible */
	uint64_t target_cache_bytes; /* cached target volumes on the engine (FF_TARGET_CACHE_MB) */
	long tmpfs_mb;
	long lease_s;		    /* a running run's lease, renewed by the heartbeat */
	const char *allow_networks; /* FF_WORKER_ALLOW_NETWORKS: comma-separated network modes */
	long stall_s; /* FF_WORKER_STALL_S: a container silent this long is stopped; 0: never */
	const char *registry; /* FF_REGISTRY: where missing images are pulled from; "": none */
};

/* Why a running attempt must stop early. Set by the heartbeat (cancel) or the drain. */
enum exec_stop {
	EXEC_STOP_NONE,
	EXEC_STOP_CANCEL,   /* the run was cancelled: record nothing more */
	EXEC_STOP_HANDBACK, /* the worker is draining: give the run back to the queue */
	EXEC_STOP_RESULTS,  /* /results grew past FF_RESULTS_MAX_MB: the run fails */
	EXEC_STOP_STALLED,  /* no output for FF_WORKER_STALL_S: the run fails */
};

/* Entries a running workflow's /results may hold (beside FF_RESULTS_MAX_MB of disk). */
#define EXEC_RESULTS_MAX_ENTRIES 100000

/* What an executor is doing, shared with the heartbeat thread under *lock. */
struct exec_slot {
	pthread_mutex_t *lock;
	char run_id[37]; /* "" when idle */
	char container[65];
	char results_dir[512]; /* its /results on this host while it runs, "" when not seen */
	int64_t output_ms;     /* when its container last wrote output (or started) */
	enum exec_stop stop;
};

struct tcache;
struct images;
struct rvol;

struct exec_env {
	struct ff_db *db;
	struct tcache *tcache; /* the worker's cached target volumes, shared by executors */
	struct images *images; /* pulls from FF_REGISTRY, shared by executors */
	struct docker *docker;
	const struct exec_config *cfg;
	struct exec_slot *slot;
	struct rvol *rvol; /* this executor's kept results volume (rvol.h); NULL: one per run */
	/* Called once the run is ours (marked running): the broker message can be acked. */
	void (*on_started)(void *ctx);
	/* Called once its container has ended (or none was made), before the result is recorded
	 * and the container removed: the next run may start meanwhile. Not called for a job
	 * never started, nor while an engine error leaves the container's state unknown. */
	void (*on_exited)(void *ctx);
	void *ctx;
};

enum exec_outcome {
	EXEC_DONE,    /* recorded (or not ours to run); the message was acked at start */
	EXEC_SKIP,    /* not ours to run (already running, finished or cancelled): ack */
	EXEC_REQUEUE, /* could not even start (database down): hand the message back */
	EXEC_RETRY,   /* recorded as retrying: publish the next attempt after delay_s */
	EXEC_DEAD,    /* failed for good: the job goes to the dead-letter queue */
	EXEC_REFUSE,  /* not a job of ours (no such run, or it disagrees with the run's stored
			 job): rejected, so that the broker dead-letters the message */
};

struct exec_result {
	enum exec_outcome outcome;
	long delay_s;
};

/* "done", "skip", "requeue", "retry", "dead", "refuse". */
const char *exec_outcome_name(enum exec_outcome o);

/* Runs the attempt *job points at. *job is the message as decoded; the attempt runs what the
 * controller stored with the run (store_job_trusted), and *job is replaced by that stored
 * job, from which any follow-up is made. */
struct exec_result exec_run(struct exec_env *env, struct ff_job **job);

#endif

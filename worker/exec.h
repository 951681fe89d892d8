/* exec — runs one attempt of a job: the guarded move to `running`, the containers, the
 * results, the terminal state. One struct exec_env per executor thread. */
#ifndef EXEC_H
#define EXEC_H

#include <stddef.h>

#include "docker.h"
#include "ff_db.h"
#include "ff_job.h"

struct exec_config {
	const char *worker_id;
	const char *container_user; /* e.g. "65534:65534" */
	size_t log_max_bytes;	    /* container output kept per run */
	size_t results_max_bytes;   /* the /results tar read back */
	long tmpfs_mb;
};

struct exec_env {
	struct ff_db *db;
	struct docker *docker;
	const struct exec_config *cfg;
};

enum exec_outcome {
	EXEC_DONE,    /* the attempt reached a terminal state, or was not ours to run: ack */
	EXEC_REQUEUE, /* it could not be recorded (database down): hand the message back */
};

enum exec_outcome exec_run(struct exec_env *env, const struct ff_job *job);

#endif

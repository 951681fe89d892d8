/* ff_job — the job message the controller publishes and a worker consumes (JSON, versioned).
 * It names the run and attempt, and repeats the job the controller stored with the run; a
 * worker runs the stored one and refuses a message that differs (ff_job_differs), so
 * workers need no manifests and never call the controller:
 *
 *   {"v": 1, "run_id": "<uuid>", "attempt": 1, "max_attempts": 3, "backoff_s": 5,
 *    "workflow": "name", "workflow_version": "1.0.0", "image": "...", "command": ["..."],
 *    "parameters": {"name": value, ...}, "target": "<sha256 hex>", "pool": "default",
 *    "network": "none",
 *    "resources": {"memory_mb": 512, "cpus": 1.0, "pids": 256, "timeout_s": 600}}
 *
 * Version 2 adds one field, "retry_on_timeout": true (the manifest's retry.on_timeout). A job
 * without it is written as version 1, so workers that know only version 1 still run every
 * job that does not ask for it, and refuse (rather than misread) one that does.
 *
 * Decoding is strict: a message that fails it is poison and is dead-lettered with the
 * message from err, so every field is checked (types, ranges, lengths, uuid and hex forms).
 * Both versions decode; a version 1 message means retry_on_timeout false.
 */
#ifndef FF_JOB_H
#define FF_JOB_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "ff_err.h"
#include "ff_manifest.h"

#define FF_JOB_VERSION 2 /* the newest this code reads and writes */

struct ff_job {
	char run_id[37]; /* canonical lowercase uuid */
	int attempt;	 /* 1-based */
	int max_attempts;
	long backoff_s;
	bool retry_on_timeout; /* a timed-out attempt counts as a failed one (version 2) */
	char *workflow;
	char *workflow_version;
	char *image;
	char **command;
	size_t ncommand;
	cJSON *parameters; /* object: name -> string/number/bool, validated already */
	char target[65];   /* sha256 hex of the target archive */
	char *pool;
	char *network;
	long memory_mb;
	double cpus;
	long pids;
	long timeout_s;
};

/* A job for attempt 1 of a run of manifest m. params is copied. Caller frees. */
struct ff_job *ff_job_new(const struct ff_manifest *m, const char *run_id, const char *target,
			  const cJSON *params);
/* Encodes to JSON text; caller frees with free(). *len gets the length (no NUL). */
char *ff_job_encode(const struct ff_job *job, size_t *len);
/* The message for another attempt of the same run: job with attempt and max_attempts
 * replaced (job itself unchanged). The one place the next attempt's job is made, for the
 * worker's retry and the controller's outbox alike. Caller frees with free(). */
char *ff_job_encode_attempt(const struct ff_job *job, int attempt, int max_attempts, size_t *len);
/* The first field in which a and b differ, by its name in the message ("image",
 * "parameters", "resources.cpus", ...), or NULL when they are the same job. attempt and
 * max_attempts are not compared: they say which attempt, not what runs. Exact: numbers
 * compare equal only when equal, parameters whatever their order. */
const char *ff_job_differs(const struct ff_job *a, const struct ff_job *b);
/* Decodes and checks; on success *out is a new job the caller frees. */
int ff_job_decode(const char *buf, size_t len, struct ff_job **out, struct ff_err *err);
void ff_job_free(struct ff_job *job); /* NULL-safe */

/* The container's environment: FF_PARAM_<NAME>=value for each parameter (name upper-cased,
 * booleans as true/false, integers without a decimal point), FF_RUN_ID, FF_TIMEOUT_S.
 * Returns a NULL-terminated array; caller frees with ff_job_env_free(). */
char **ff_job_env(const struct ff_job *job);
void ff_job_env_free(char **env);

#endif

/* exec — one attempt of a run, from the guarded start to the recorded result.
 *
 * The target reaches the container without any host path: it is re-packed (normalised
 * owners and modes) and copied through the Engine's archive endpoint into a fresh volume,
 * via a helper container that is created but never started. The analysis container then
 * mounts that volume read-only at /target and a second volume at /results. Its output is
 * followed as a stream, which is also how we wait for it to stop: progress lines are seen
 * live and the manifest's timeout is the stream's deadline. */
#include "exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ff_archive.h"
#include "ff_log.h"
#include "ff_run.h"
#include "ff_sarif.h"
#include "ff_util.h"
#include "outcome.h"
#include "output.h"
#include "results.h"
#include "spec.h"
#include "store.h"

#define STOP_WAIT_MS 30000 /* a killed container's exit, and a finished one's status */

/* One attempt in progress; released by attempt_release(). */
struct attempt {
	const struct ff_job *job;
	struct exec_env *env;
	struct ff_run_ref ref;
	struct spec_names names;
	char container[65];
	struct output out;
	struct results res;
	bool timed_out;
	int exit_code;
};

static void attempt_release(struct attempt *a)
{
	output_release(&a->out);
	results_release(&a->res);
}

/* output_progress_cb: the run's live progress. */
static void on_progress(void *ctx, int pct, const char *text)
{
	struct attempt *a = ctx;
	struct ff_err err;
	if (ff_run_progress(a->env->db, a->job->run_id, pct, text, &err) < 0)
		ff_run_warn(a->job->run_id, "progress not recorded: %s", err.msg);
}

/* An event within the running state (no transition), for the run's history. */
static void note(struct attempt *a, const char *message)
{
	struct ff_err err;
	if (ff_run_note(a->env->db, &a->ref, message, &err) < 0)
		ff_run_warn(a->job->run_id, "event not recorded: %s", err.msg);
}

/* --- containers ---------------------------------------------------------------------- */

/* Creates the two volumes and fills /target (and an empty, world-writable /results) through
 * a helper container that is never started. Its creation also tells us whether the image
 * exists on this engine. */
static int prepare_volumes(struct attempt *a, const void *tar, size_t len, struct ff_err *err)
{
	struct docker *d = a->env->docker;
	char helper[65];
	cJSON *labels = spec_labels(a->job->run_id, a->env->cfg->worker_id);
	int rc = docker_volume_create(d, a->names.vol_target, labels, err);
	if (rc == 0)
		rc = docker_volume_create(d, a->names.vol_results, labels, err);
	cJSON_Delete(labels);
	if (rc < 0)
		return rc;
	cJSON *spec = spec_helper(a->job, &a->names, a->env->cfg);
	if (!spec)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	rc = docker_container_create(d, a->names.helper, spec, helper, err);
	cJSON_Delete(spec);
	if (rc == FF_ENOTFOUND)
		return ff_err_set(err, FF_ENOTFOUND,
				  "image '%s' is not available on this worker's docker engine",
				  a->job->image);
	if (rc < 0)
		return rc;
	rc = docker_archive_put(d, helper, "/", tar, len, err);
	struct ff_err ignored;
	docker_container_remove(d, helper, &ignored);
	return rc;
}

/* The target, loaded and re-packed for the container, copied into its volume. */
static int prepare_target(struct attempt *a, struct ff_err *err)
{
	void *target = NULL, *packed = NULL;
	size_t target_len = 0, packed_len = 0;
	int rc = store_load_target(a->env->db, a->job->target, &target, &target_len, err);
	if (rc == 0)
		rc = ff_archive_repack_for_container(target, target_len, &packed, &packed_len, err);
	free(target);
	if (rc == 0)
		rc = prepare_volumes(a, packed, packed_len, err);
	free(packed);
	return rc;
}

/* A worker that died during this attempt number left these behind (its run came back to
 * the queue without counting the attempt): start clean, above all with no stale results. */
static void remove_leftovers(struct attempt *a)
{
	struct docker *d = a->env->docker;
	struct ff_err ignored;
	docker_container_remove(d, a->names.base, &ignored);
	docker_container_remove(d, a->names.helper, &ignored);
	docker_volume_remove(d, a->names.vol_target, &ignored);
	docker_volume_remove(d, a->names.vol_results, &ignored);
}

static void cleanup_docker(struct attempt *a)
{
	struct docker *d = a->env->docker;
	struct ff_err err;
	if (a->container[0] && docker_container_remove(d, a->container, &err) < 0)
		ff_run_warn(a->job->run_id, "container not removed: %s", err.msg);
	if (docker_volume_remove(d, a->names.vol_target, &err) < 0 ||
	    docker_volume_remove(d, a->names.vol_results, &err) < 0)
		ff_run_warn(a->job->run_id, "volume not removed: %s", err.msg);
}

/* Records the container in the slot the heartbeat watches, and says whether the attempt
 * has been told to stop meanwhile. */
static enum exec_stop slot_set_container(struct attempt *a, const char *container)
{
	struct exec_slot *slot = a->env->slot;
	if (!slot)
		return EXEC_STOP_NONE;
	pthread_mutex_lock(slot->lock);
	snprintf(slot->container, sizeof(slot->container), "%s", container);
	enum exec_stop stop = slot->stop;
	pthread_mutex_unlock(slot->lock);
	return stop;
}

static enum exec_stop slot_stop(struct attempt *a)
{
	return slot_set_container(a, a->container);
}

static void slot_hold(struct exec_slot *slot, const char *run_id)
{
	if (!slot)
		return;
	pthread_mutex_lock(slot->lock);
	snprintf(slot->run_id, sizeof(slot->run_id), "%s", run_id);
	slot->container[0] = '\0';
	slot->stop = EXEC_STOP_NONE;
	pthread_mutex_unlock(slot->lock);
}

/* Runs the container to its end: sets a->exit_code, or a->timed_out past the timeout. A
 * stop requested meanwhile ends it early (the caller reads the slot). */
static int run_container(struct attempt *a, struct ff_err *err)
{
	struct docker *d = a->env->docker;
	struct ff_err ignored;
	cJSON *spec = spec_analysis(a->job, &a->names, a->env->cfg);
	if (!spec)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	int rc = docker_container_create(d, a->names.base, spec, a->container, err);
	cJSON_Delete(spec);
	if (rc == 0 && slot_set_container(a, a->container) != EXEC_STOP_NONE)
		return 0; /* stopped before it started */
	if (rc == 0)
		rc = docker_container_start(d, a->container, err);
	if (rc < 0)
		return rc;
	/* The heartbeat may have looked for the container before it ran: look again. */
	if (slot_stop(a) != EXEC_STOP_NONE)
		docker_container_kill(d, a->container, &ignored);
	ff_run_info(a->job->run_id, "container %.12s started", a->container);
	note(a, "container started");

	long timeout_ms = a->job->timeout_s * 1000;
	int64_t started = ff_now_ms();
	rc = docker_container_follow_logs(d, a->container, timeout_ms, output_feed, &a->out, err);
	if (slot_stop(a) != EXEC_STOP_NONE)
		return 0; /* killed on purpose: the caller records what the stop means */
	if (rc == FF_ETIMEOUT || (rc == 0 && ff_now_ms() - started > timeout_ms)) {
		docker_container_kill(d, a->container, &ignored);
		docker_container_wait(d, a->container, STOP_WAIT_MS, &a->exit_code, &ignored);
		a->timed_out = true;
		return 0;
	}
	if (rc < 0)
		return rc;
	return docker_container_wait(d, a->container, STOP_WAIT_MS, &a->exit_code, err);
}

/* --- the attempt ---------------------------------------------------------------------- */

static struct exec_result performed(const struct attempt *a, const struct outcome *o, int rc,
				    const struct ff_err *err)
{
	const char *id = a->job->run_id;
	if (rc == FF_ECONFLICT) {
		ff_run_info(id, "result not recorded: %s", err->msg);
		return (struct exec_result){EXEC_DONE, 0};
	}
	if (rc < 0) {
		/* Nothing recorded: the lease expires and the run goes back to the queue. */
		ff_run_error(id, "result not recorded: %s", err->msg);
		return (struct exec_result){EXEC_DONE, 0};
	}
	ff_run_info(id, "%s%s%s", ff_run_state_name(o->state), o->error[0] ? ": " : "", o->error);
	if (o->transition == FF_RUN_RETRY)
		return (struct exec_result){EXEC_RETRY, o->delay_s};
	if (o->transition == FF_RUN_DEAD_LETTER)
		return (struct exec_result){EXEC_DEAD, 0};
	return (struct exec_result){EXEC_DONE, 0};
}

/* Everything after the run is ours: containers, results, the outcome. */
static struct exec_result run_attempt(struct attempt *a)
{
	const struct ff_job *job = a->job;
	struct ff_err err = {0}, sarif_err = {0};
	struct ff_findings findings = {0};
	struct outcome o;

	remove_leftovers(a);
	int rc = prepare_target(a, &err);
	if (rc == 0)
		rc = run_container(a, &err);
	enum exec_stop stop = slot_stop(a);
	if (rc == 0 && a->container[0] && stop == EXEC_STOP_NONE)
		rc = results_collect(a->env->docker, a->container, a->env->cfg->results_max_bytes,
				     &a->res, &err);
	cleanup_docker(a);

	int sarif_ok = a->res.sarif && ff_sarif_normalise(a->res.sarif, a->res.sarif_len, 0,
							  &findings, &sarif_err) == 0;
	const struct outcome_facts facts = {
	    .stop = stop,
	    .platform_error = rc < 0 ? err.msg : NULL,
	    .timed_out = a->timed_out,
	    .timeout_s = job->timeout_s,
	    .exit_code = a->exit_code,
	    .have_sarif = a->res.sarif != NULL,
	    .sarif_error = a->res.sarif && !sarif_ok ? sarif_err.msg : NULL,
	    .attempt = job->attempt,
	    .max_attempts = job->max_attempts,
	    .retry_on_timeout = job->retry_on_timeout,
	    .backoff_s = job->backoff_s,
	};
	outcome_decide(&facts, &o);

	struct exec_result result = {EXEC_DONE, 0};
	if (o.transition == FF_RUN_CANCEL) {
		ff_run_info(job->run_id, "cancelled: container stopped");
	} else if (o.transition == FF_RUN_HAND_BACK) {
		rc = ff_run_hand_back(a->env->db, &a->ref, &err);
		if (rc <= 0)
			ff_run_warn(job->run_id, "not handed back (%s): its lease will expire",
				    rc < 0 ? err.msg : "no longer ours");
		else
			ff_run_info(job->run_id, "handed back to the queue");
	} else {
		const struct store_attempt s = {.ref = &a->ref,
						.o = &o,
						.exit_code = a->exit_code,
						.out = &a->out,
						.res = &a->res,
						.findings = sarif_ok ? &findings : NULL};
		rc = store_attempt_end(a->env->db, &s, a->env->cfg->lease_s * 1000, &err);
		result = performed(a, &o, rc, &err);
	}
	ff_findings_release(&findings);
	return result;
}

struct exec_result exec_run(struct exec_env *env, const struct ff_job *job)
{
	struct attempt a = {.job = job,
			    .env = env,
			    .ref = {job->run_id, job->attempt, env->cfg->worker_id},
			    .exit_code = -1};
	struct ff_err err = {0};

	spec_names_init(&a.names, job->run_id, job->attempt);
	int rc = ff_run_start(env->db, &a.ref, env->cfg->lease_s, &err);
	if (rc == 0) {
		ff_run_info(job->run_id, "attempt %d is not due: skipped", job->attempt);
		return (struct exec_result){EXEC_SKIP, 0};
	}
	if (rc < 0) {
		ff_run_warn(job->run_id, "cannot start: %s", err.msg);
		/* The message goes back to the queue; pausing keeps a database outage from
		 * becoming a redelivery loop. */
		sleep(1);
		return (struct exec_result){EXEC_REQUEUE, 0};
	}
	/* From here the lease, not the broker message, keeps the run alive. */
	if (env->on_started)
		env->on_started(env->ctx);
	slot_hold(env->slot, job->run_id);
	output_init(&a.out, env->cfg->log_max_bytes, on_progress, &a);
	ff_run_info(job->run_id, "running %s attempt %d", job->workflow, job->attempt);
	struct exec_result result = run_attempt(&a);
	slot_hold(env->slot, "");
	attempt_release(&a);
	return result;
}

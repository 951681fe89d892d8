/* exec — one attempt of a run, from the guarded start to the recorded result.
 *
 * The target reaches the container without any host path: it streams from its large object
 * through the re-pack (normalised owners and modes) into the Engine's archive endpoint,
 * into a volume filled once per engine and digest and then mounted read-only by every run
 * of that target (tcache.h). The analysis container mounts that volume at /target and a
 * fresh per-attempt volume at /results. Its output is followed as a stream, which is also
 * how we wait for it to stop: progress lines are seen live and the manifest's timeout is
 * the stream's deadline. /results is read straight from the volume's directory when this
 * worker can see it (results.h), else through the archive endpoint.
 * docs/worker-data-plane.md says why each step is what it is. */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ff_archive.h"
#include "ff_log.h"
#include "ff_run.h"
#include "ff_sarif.h"
#include "ff_util.h"
#include "images.h"
#include "outcome.h"
#include "output.h"
#include "results.h"
#include "rvol.h"
#include "spec.h"
#include "store.h"
#include "tcache.h"

#define STOP_WAIT_MS 30000 /* a killed container's exit, and a finished one's status */
#define NOTES_HELD   4	   /* notes held back for the attempt's next write (note_later) */
#define NOTE_HOLD_MS 1000  /* ... for this long at most, while the container runs */

/* One attempt in progress; released by attempt_release(). */
struct attempt {
	const struct ff_job *job;
	const char *automation_id; /* the run's, for its SARIF log (store_job_trusted) */
	struct exec_env *env;
	struct ff_run_ref ref;
	struct spec_names names;
	char container[65];
	struct output out;
	struct results res;
	char results_dir[512]; /* the results volume's directory on the engine's host */
	bool results_visible;  /* ... and this worker can open it */
	bool results_kept;     /* ... and it is the executor's kept volume (rvol.h) */
	bool target_held;      /* a tcache user count is ours to release */
	bool started_before;   /* this attempt was started before (ff_run_start's again) */
	bool cleaned_up;       /* cleanup_docker has run */
	bool timed_out;
	int exit_code;
	struct store_note notes[NOTES_HELD]; /* held back, oldest first (note_later) */
	int nnotes;
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

/* output_piece_cb: the log so far, for the run's followers. A piece not recorded leaves
 * them a gap until the run ends and the whole log is stored. */
static void on_log_piece(void *ctx, size_t at, const char *data, size_t len)
{
	struct attempt *a = ctx;
	struct ff_err err;
	if (ff_run_log_piece(a->env->db, &a->ref, at, data, len, &err) < 0)
		ff_run_warn(a->job->run_id, "live log not recorded: %s", err.msg);
}

static void write_note(struct attempt *a, const char *message, long age_ms)
{
	struct ff_err err;
	if (ff_run_note(a->env->db, &a->ref, message, age_ms, &err) < 0)
		ff_run_warn(a->job->run_id, "event not recorded: %s", err.msg);
}

/* The notes held back, each with the time it happened, in order. */
static void notes_flush(struct attempt *a)
{
	for (int i = 0; i < a->nnotes; i++)
		write_note(a, a->notes[i].message, store_note_age_ms(&a->notes[i]));
	a->nnotes = 0;
}

/* An event within the running state (no transition), for the run's history, written now
 * (after those held back). */
static void note(struct attempt *a, const char *message)
{
	notes_flush(a);
	write_note(a, message, 0);
}

/* The same, held back for the attempt's next write: the transaction that records its end
 * takes it without a commit of its own (a short run's events cost one transaction fewer),
 * and while the container runs, its output's next tick writes it once NOTE_HOLD_MS have
 * passed. It keeps the time it happened. */
static void note_later(struct attempt *a, const char *message)
{
	if (a->nnotes == NOTES_HELD)
		notes_flush(a);
	struct store_note *n = &a->notes[a->nnotes++];
	snprintf(n->message, sizeof(n->message), "%s", message);
	n->at_ms = ff_now_ms();
}

/* --- containers ---------------------------------------------------------------------- */

/* Creates a container of the run's image. An engine without the image pulls it from
 * FF_REGISTRY first (one pull per image, shared by this worker's executors), and the run's
 * events say so; without a registry, or when the registry lacks it too, the run fails with
 * a clear error. */
static int create_container(struct attempt *a, const char *name, const cJSON *spec, char id[65],
			    struct ff_err *err)
{
	struct docker *d = a->env->docker;
	struct images *im = a->env->images;
	int rc = docker_container_create(d, name, spec, id, err);
	if (rc != FF_ENOTFOUND)
		return rc;
	if (!images_registry(im)[0])
		return ff_err_set(err, FF_ENOTFOUND,
				  "image '%s' is not available on this worker's docker engine "
				  "(and no FF_REGISTRY to pull it from)",
				  a->names.image);
	char msg[IMAGES_REF_MAX + 160];
	snprintf(msg, sizeof(msg), "image %s not on this engine: pulling it", a->names.image);
	note(a, msg);
	struct images_pull p;
	if ((rc = images_pull(im, d, a->names.image, &p, err)) < 0)
		return rc;
	snprintf(msg, sizeof(msg), "image %s %s in %lld ms%s%s", a->names.image,
		 p.shared ? "pulled by another run" : "pulled", (long long)p.ms,
		 p.digest[0] ? ": " : "", p.digest);
	note(a, msg);
	ff_run_info(a->job->run_id, "%s", msg);
	return docker_container_create(d, name, spec, id, err);
}

/* Streams the stored target through the re-pack into the helper's /target. */
static long target_stream_read(void *ctx, void *buf, size_t n)
{
	return ff_archive_repack_read(ctx, buf, n);
}

/* The helper (never started) receives a tar through the archive endpoint at "/": the
 * stored target (fill: its large object is opened once the helper exists, so that no
 * transaction stays open through an image pull), or only the results directory's mode.
 * Its creation also says whether the engine has the image. Takes spec. */
static int helper_put(struct attempt *a, cJSON *spec, bool fill, uint64_t *unpacked,
		      struct ff_err *err)
{
	static const char empty_tar[1024];
	struct docker *d = a->env->docker;
	struct ff_err ignored;
	struct ff_archive_repack *rp = NULL;
	char helper[65];
	if (!spec)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	int rc = create_container(a, a->names.helper, spec, helper, err);
	cJSON_Delete(spec);
	if (rc < 0)
		return rc;
	struct store_target target, *st = NULL;
	if (fill && (rc = store_target_open(a->env->db, a->job->target, &target, err)) == 0)
		st = &target;
	if (rc < 0) {
		/* the target not readable: nothing to copy */
	} else if (!st) {
		/* an empty archive re-packed: just "target/" and "results/" 01777 */
		void *packed = NULL;
		size_t plen = 0;
		rc = ff_archive_repack_for_container(empty_tar, sizeof(empty_tar), &packed, &plen,
						     err);
		if (rc == 0)
			rc = docker_archive_put(d, helper, "/", packed, plen, err);
		free(packed);
	} else if ((rc = ff_archive_repack_open(store_target_read, st, &rp, err)) == 0) {
		rc = docker_archive_put_stream(d, helper, "/", target_stream_read, rp, err);
		const struct ff_err *re = ff_archive_repack_error(rp);
		if (re->code < 0) /* the stream's own reason beats "upload aborted" */
			rc = ff_err_set(err, re->code, "the target cannot be copied: %s", re->msg);
		if (rc == 0 && unpacked)
			*unpacked = ff_archive_repack_unpacked(rp);
		ff_archive_repack_free(rp);
	}
	if (st)
		store_target_close(st);
	docker_container_remove(d, helper, &ignored);
	return rc;
}

static const char *label_of(const cJSON *vol, const char *key)
{
	const cJSON *l = cJSON_GetObjectItemCaseSensitive(vol, "Labels");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(l, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The data volume a marker names (and its size; bytes may be NULL), when the marker
 * exists. */
static int marker_volume(struct docker *d, const char *marker, char volume[128], uint64_t *bytes,
			 struct ff_err *err)
{
	cJSON *v = NULL;
	int rc = docker_volume_inspect(d, marker, &v, err);
	const char *name = rc == 0 ? label_of(v, "fuzzforge.volume") : NULL;
	const char *b = rc == 0 ? label_of(v, "fuzzforge.bytes") : NULL;
	if (rc == 0 && !name)
		rc = ff_err_set(err, FF_ENOTFOUND, "volume %s is no target marker", marker);
	if (name)
		snprintf(volume, 128, "%s", name);
	if (bytes)
		*bytes = b ? strtoull(b, NULL, 10) : 0;
	cJSON_Delete(v);
	return rc;
}

/* Evicts the least recently used cached targets past the cap: the marker first, so no run
 * starts on a volume about to go, then the data (which the engine keeps while any
 * container uses it). */
static void evict(struct attempt *a)
{
	struct tcache_entry v[8];
	struct ff_err err;
	size_t n;
	/* eight at a time, until the cache is under its cap */
	while ((n = tcache_take_victims(a->env->tcache, v, 8)) > 0)
		for (size_t i = 0; i < n; i++) {
			char marker[64];
			tcache_marker_name(v[i].digest, marker);
			if (docker_volume_remove(a->env->docker, marker, &err) < 0 ||
			    docker_volume_remove(a->env->docker, v[i].volume, &err) < 0)
				ff_run_warn(a->job->run_id, "cached target %.12s not evicted: %s",
					    v[i].digest, err.msg);
			else
				ff_run_info(a->job->run_id,
					    "cached target %.12s evicted (%llu bytes)", v[i].digest,
					    (unsigned long long)v[i].bytes);
		}
}

/* Fills a new data volume with the target, then publishes it with the marker. */
static int fill_target(struct attempt *a, const char *marker, bool *results_done,
		       struct ff_err *err)
{
	struct docker *d = a->env->docker;
	struct ff_err ignored;
	const char *digest = a->job->target;
	char data[128], fill_id[37], bytes_s[24];
	uint64_t unpacked = 0;
	cJSON *m = NULL;
	ff_uuid_new(fill_id);
	snprintf(data, sizeof(data), "ff-tdata-%.*s-%.8s", TCACHE_PREFIX, digest, fill_id);
	cJSON *labels = cJSON_CreateObject();
	cJSON_AddStringToObject(labels, "fuzzforge.target", digest);
	int rc = docker_volume_create(d, data, labels, err);
	if (rc < 0)
		goto out;
	snprintf(a->names.vol_target, sizeof(a->names.vol_target), "%s", data);
	rc = helper_put(a, spec_helper(a->job, &a->names, a->env->cfg), true, &unpacked, err);
	if (rc < 0)
		goto out_drop;
	*results_done = true; /* the stream's "results/" 01777 went to this attempt's volume */
	snprintf(bytes_s, sizeof(bytes_s), "%llu", (unsigned long long)unpacked);
	cJSON_AddStringToObject(labels, "fuzzforge.volume", data);
	cJSON_AddStringToObject(labels, "fuzzforge.bytes", bytes_s);
	cJSON_AddStringToObject(labels, "fuzzforge.target-marker", "1");
	if ((rc = docker_volume_create2(d, marker, labels, &m, err)) < 0)
		goto out_drop;
	const char *winner = label_of(m, "fuzzforge.volume");
	if (winner && strcmp(winner, data) != 0) {
		/* another worker on this engine filled it first: use theirs */
		snprintf(a->names.vol_target, sizeof(a->names.vol_target), "%s", winner);
		const char *wb = label_of(m, "fuzzforge.bytes");
		unpacked = wb ? strtoull(wb, NULL, 10) : unpacked;
		docker_volume_remove(d, data, &ignored);
	}
	tcache_add(a->env->tcache, digest, a->names.vol_target, unpacked, 1);
	a->target_held = true;
	ff_run_info(a->job->run_id, "target %.12s cached in %s (%llu bytes)", digest,
		    a->names.vol_target, (unsigned long long)unpacked);
	goto out;
out_drop:
	docker_volume_remove(d, data, &ignored);
out:
	cJSON_Delete(m);
	cJSON_Delete(labels);
	return rc;
}

/* Points names.vol_target at the target's cached volume, filling it if this engine has
 * none. */
static int target_volume(struct attempt *a, bool *results_done, struct ff_err *err)
{
	struct tcache *tc = a->env->tcache;
	const char *digest = a->job->target;
	char marker[64], vol[128];
	uint64_t bytes = 0;
	tcache_marker_name(digest, marker);
	pthread_mutex_t *lock = tcache_fill_lock(tc, digest);
	pthread_mutex_lock(lock);
	int rc = 0;
	if (tcache_acquire(tc, digest, vol)) {
		snprintf(a->names.vol_target, sizeof(a->names.vol_target), "%s", vol);
		a->target_held = true;
	} else if ((rc = marker_volume(a->env->docker, marker, vol, &bytes, err)) == 0) {
		/* filled by an earlier worker on this engine */
		snprintf(a->names.vol_target, sizeof(a->names.vol_target), "%s", vol);
		tcache_add(tc, digest, vol, bytes, 1);
		a->target_held = true;
	} else if (rc == FF_ENOTFOUND) {
		rc = fill_target(a, marker, results_done, err);
	}
	pthread_mutex_unlock(lock);
	if (rc == 0)
		evict(a);
	return rc;
}

/* After the container exists (and so pins the volume): is the marker still there and
 * naming it? If not, the volume was evicted in between and the engine may have made an
 * empty one of that name for the mount. */
static bool target_still_cached(struct attempt *a)
{
	char marker[64], vol[128];
	struct ff_err ignored;
	tcache_marker_name(a->job->target, marker);
	return marker_volume(a->env->docker, marker, vol, NULL, &ignored) == 0 &&
	       strcmp(vol, a->names.vol_target) == 0;
}

static void target_release(struct attempt *a)
{
	if (a->target_held)
		tcache_release(a->env->tcache, a->job->target);
	a->target_held = false;
}

/* The attempt's results volume, world-writable (sticky) like /tmp: the executor's kept one
 * when this worker reads /results from the engine's directory; else one for the attempt,
 * its mode set straight on its directory when this worker sees it, or through a helper. */
static int results_volume(struct attempt *a, struct ff_err *err)
{
	struct docker *d = a->env->docker;
	struct rvol *kept = a->env->rvol;
	struct ff_err why;
	if (kept && a->env->cfg->results_direct && rvol_acquire(kept, d, &why) == 0) {
		snprintf(a->names.vol_results, sizeof(a->names.vol_results), "%s", kept->name);
		snprintf(a->results_dir, sizeof(a->results_dir), "%s", kept->dir);
		a->results_visible = a->results_kept = true;
		return 0;
	}
	cJSON *labels = spec_labels(a->job->run_id, a->env->cfg->worker_id);
	cJSON *v = NULL;
	int rc = docker_volume_create2(d, a->names.vol_results, labels, &v, err);
	cJSON_Delete(labels);
	const cJSON *mp = cJSON_GetObjectItemCaseSensitive(v, "Mountpoint");
	a->results_dir[0] = '\0';
	a->results_visible = false;
	if (rc == 0 && cJSON_IsString(mp))
		snprintf(a->results_dir, sizeof(a->results_dir), "%s", mp->valuestring);
	cJSON_Delete(v);
	if (rc == 0 && a->results_dir[0] && a->env->cfg->results_direct) {
		int fd = open(a->results_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && fchmod(fd, 01777) == 0)
			a->results_visible = true;
		if (fd >= 0)
			close(fd);
	}
	return rc;
}

static int prepare_volumes(struct attempt *a, struct ff_err *err)
{
	bool results_done = false;
	int rc = results_volume(a, err);
	if (rc == 0)
		rc = target_volume(a, &results_done, err);
	if (rc == 0 && !a->results_visible && !results_done)
		rc = helper_put(a, spec_helper_results(a->job, &a->names, a->env->cfg), false, NULL,
				err);
	return rc;
}

/* A worker that died during this attempt number left these behind (its run came back to
 * the queue without counting the attempt): start clean, above all with no stale results.
 * A first start has nothing to find, and saves the engine four calls. */
static void remove_leftovers(struct attempt *a)
{
	struct docker *d = a->env->docker;
	struct ff_err ignored;
	if (!a->started_before)
		return;
	docker_container_remove(d, a->names.base, &ignored);
	docker_container_remove(d, a->names.helper, &ignored);
	docker_volume_remove(d, a->names.vol_target, &ignored);
	docker_volume_remove(d, a->names.vol_results, &ignored);
}

/* The container and the results volume go; the target volume stays cached. Once. */
static void cleanup_docker(struct attempt *a)
{
	struct docker *d = a->env->docker;
	struct ff_err err;
	if (a->cleaned_up)
		return;
	a->cleaned_up = true;
	if (a->container[0] && docker_container_remove(d, a->container, &err) < 0)
		ff_run_warn(a->job->run_id, "container not removed: %s", err.msg);
	if (a->results_kept)
		rvol_release(a->env->rvol, d);
	else if (docker_volume_remove(d, a->names.vol_results, &err) < 0)
		ff_run_warn(a->job->run_id, "volume not removed: %s", err.msg);
	target_release(a);
}

/* store_attempt.on_unavailable: the result is recorded before the cleanup, since it ends the
 * run for whoever waits on it and the container's removal (7 ms of the engine's time) need
 * not delay that; but with the database away the engine is cleaned up at once, so nothing of
 * the run is left on it while this worker holds the result for up to a lease. */
static void cleanup_on_unavailable(void *ctx)
{
	cleanup_docker(ctx);
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
	slot->results_dir[0] = '\0';
	slot->stop = EXEC_STOP_NONE;
	pthread_mutex_unlock(slot->lock);
}

/* From the container's start the heartbeat watches it: /results' size when this host sees
 * it, and how long since it last wrote output. */
static void slot_watch(struct attempt *a)
{
	struct exec_slot *slot = a->env->slot;
	if (!slot)
		return;
	pthread_mutex_lock(slot->lock);
	if (a->results_visible)
		snprintf(slot->results_dir, sizeof(slot->results_dir), "%s", a->results_dir);
	slot->output_ms = ff_now_ms();
	pthread_mutex_unlock(slot->lock);
}

/* The container's output: the slot's clock, then the log. Stream 0 is the engine call's
 * tick, not output: it must not hide a silent container from the stall check. */
static void on_output(void *ctx, int stream, const char *data, size_t len)
{
	struct attempt *a = ctx;
	struct exec_slot *slot = a->env->slot;
	if (a->nnotes && ff_now_ms() - a->notes[0].at_ms >= NOTE_HOLD_MS)
		notes_flush(a);
	if (slot && stream != 0) {
		pthread_mutex_lock(slot->lock);
		slot->output_ms = ff_now_ms();
		pthread_mutex_unlock(slot->lock);
	}
	output_feed(&a->out, stream, data, len);
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
	int rc = create_container(a, a->names.base, spec, a->container, err);
	cJSON_Delete(spec);
	if (rc == 0 && !target_still_cached(a)) {
		/* evicted between the look-up and the create: fill again, once */
		docker_container_remove(d, a->container, &ignored);
		a->container[0] = '\0';
		tcache_forget(a->env->tcache, a->job->target);
		a->target_held = false;
		bool results_done = false;
		/* the engine made an empty volume of the old name for that create */
		docker_volume_remove(d, a->names.vol_target, &ignored);
		rc = target_volume(a, &results_done, err);
		spec = rc == 0 ? spec_analysis(a->job, &a->names, a->env->cfg) : NULL;
		if (rc == 0 && !spec)
			rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		if (rc == 0)
			rc = docker_container_create(d, a->names.base, spec, a->container, err);
		cJSON_Delete(spec);
	}
	/* the container pins the kept volume now: whatever happened to it since the last run
	 * (removed and made again by the engine), it starts empty and world-writable */
	if (rc == 0 && a->results_kept)
		rc = rvol_pinned(a->env->rvol, err);
	if (rc == 0 && slot_set_container(a, a->container) != EXEC_STOP_NONE)
		return 0; /* stopped before it started */
	if (rc == 0)
		rc = docker_container_start(d, a->container, err);
	if (rc < 0)
		return rc;
	/* The heartbeat may have looked for the container before it ran: look again. */
	if (slot_stop(a) != EXEC_STOP_NONE)
		docker_container_kill(d, a->container, &ignored);
	slot_watch(a);
	ff_run_info(a->job->run_id, "container %.12s started", a->container);
	note_later(a, "container started");

	long timeout_ms = a->job->timeout_s * 1000;
	int64_t started = ff_now_ms();
	rc = docker_container_follow_logs(d, a->container, timeout_ms, on_output, a, err);
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

/* The stored log carries the run's automationDetails.id: the SARIF a user downloads names
 * the workflow and labels it came from. */
static void set_automation_id(struct attempt *a)
{
	struct ff_err err;
	char *log;
	size_t len;
	if (ff_sarif_set_automation_id(a->res.sarif, a->res.sarif_len, a->automation_id, &log, &len,
				       &err) < 0) {
		ff_run_warn(a->job->run_id, "no automationDetails.id: %s", err.msg);
	} else {
		free(a->res.sarif);
		a->res.sarif = log;
		a->res.sarif_len = len;
	}
}

/* Everything after the run is ours: containers, results, the outcome. */
static struct exec_result run_attempt(struct attempt *a)
{
	const struct ff_job *job = a->job;
	struct ff_err err = {0}, sarif_err = {0};
	struct ff_findings findings = {0};
	struct outcome o;

	const struct exec_config *cfg = a->env->cfg;
	const struct results_limits lim = {.max_bytes = cfg->results_max_bytes,
					   .sarif_max = cfg->sarif_max_bytes,
					   .spool_dir = cfg->spool_dir};
	/* The operator's choice, not the manifest's: host networking sees the worker's
	 * loopback (the database, the broker, the API). */
	bool refused = !ff_list_has(cfg->allow_networks, ',', job->network);
	int rc = 0;
	if (refused) {
		ff_err_set(
		    &err, FF_EINVAL,
		    "network '%s' is not allowed on this worker (FF_WORKER_ALLOW_NETWORKS=%s)",
		    job->network, cfg->allow_networks);
	} else {
		remove_leftovers(a);
		rc = prepare_volumes(a, &err);
		if (rc == 0)
			rc = run_container(a, &err);
	}
	/* Its slot frees now only when its container is known to have ended (or never
	 * existed); after an engine error it may still run, until the cleanup removes it. */
	if (a->env->on_exited && (rc == 0 || !a->container[0]))
		a->env->on_exited(a->env->ctx);
	enum exec_stop stop = slot_stop(a);
	if (stop == EXEC_STOP_RESULTS) {
		rc = ff_err_set(&err, FF_ETOOBIG,
				"results over %llu MB (FF_RESULTS_MAX_MB) or %d files: the "
				"container was stopped",
				(unsigned long long)(cfg->results_max_bytes >> 20),
				EXEC_RESULTS_MAX_ENTRIES);
		stop = EXEC_STOP_NONE;
	} else if (stop == EXEC_STOP_STALLED) {
		rc = ff_err_set(&err, FF_ETIMEOUT,
				"no output for %ld s: the workflow stopped making progress "
				"(FF_WORKER_STALL_S); the container was stopped",
				cfg->stall_s);
		stop = EXEC_STOP_NONE;
	}
	/* The engine went away before the container existed: nothing of the run happened, so
	 * it goes back to the queue with no attempt spent, for a worker whose engine answers
	 * (this one takes no jobs until its own does: consumer.c). */
	struct ff_err ignored;
	const char *hand_back_why = "draining";
	if (rc < 0 && !a->container[0] && stop == EXEC_STOP_NONE && !refused &&
	    docker_ping(a->env->docker, &ignored) < 0) {
		ff_run_warn(job->run_id, "its docker engine is not answering: %s", err.msg);
		hand_back_why = "its docker engine is not answering";
		stop = EXEC_STOP_HANDBACK;
	}
	if (rc == 0 && a->container[0] && stop == EXEC_STOP_NONE) {
		rc = a->results_visible ? results_collect_dir(a->results_dir, &lim, &a->res, &err)
					: FF_EUNAVAIL;
		if (rc == FF_EUNAVAIL) {
			results_release(&a->res);
			rc = results_collect_archive(a->env->docker, a->container, &lim, &a->res,
						     &err);
		}
		if (a->res.skipped[0])
			note_later(a, a->res.skipped);
	}

	int sarif_ok = 0;
	if (a->res.sarif_error[0])
		ff_err_set(&sarif_err, FF_ETOOBIG, "%s", a->res.sarif_error);
	else if (a->res.sarif)
		sarif_ok = ff_sarif_prescan(a->res.sarif, a->res.sarif_len, cfg->sarif_max_values,
					    0, &sarif_err) == 0 &&
			   ff_sarif_normalise(a->res.sarif, a->res.sarif_len, 0, &findings,
					      &sarif_err) == 0;
	if (sarif_ok && findings.paths_outside) {
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "%zu findings point outside the target: kept without their path",
			 findings.paths_outside);
		note_later(a, msg);
	}
	if (!sarif_ok && a->res.sarif) {
		/* a refused log is not kept: the run's error says why */
		free(a->res.sarif);
		a->res.sarif = NULL;
		a->res.sarif_len = 0;
	}
	if (sarif_ok)
		set_automation_id(a);
	/* a workflow that failed may say why in its log, which is read for that alone */
	char reason[256];
	bool have_reason =
	    a->exit_code > 0 && a->res.sarif &&
	    ff_sarif_failure_text(a->res.sarif, a->res.sarif_len, reason, sizeof(reason));
	const struct outcome_facts facts = {
	    .stop = stop,
	    .refusal = refused ? err.msg : NULL,
	    .platform_error = rc < 0 ? err.msg : NULL,
	    .timed_out = a->timed_out,
	    .timeout_s = job->timeout_s,
	    .exit_code = a->exit_code,
	    .exit_reason = have_reason ? reason : NULL,
	    .have_sarif = a->res.have_sarif,
	    .sarif_error = a->res.have_sarif && !sarif_ok ? sarif_err.msg : NULL,
	    .attempt = job->attempt,
	    .max_attempts = job->max_attempts,
	    .retry_on_timeout = job->retry_on_timeout,
	    .backoff_s = job->backoff_s,
	};
	outcome_decide(&facts, &o);

	struct exec_result result = {EXEC_DONE, 0};
	if (o.transition == FF_RUN_CANCEL) {
		notes_flush(a);
		ff_run_info(job->run_id, "cancelled: container stopped");
	} else if (o.transition == FF_RUN_HAND_BACK) {
		notes_flush(a);
		cleanup_docker(a); /* before the run is another worker's, same names and all */
		rc = ff_run_hand_back(a->env->db, &a->ref, hand_back_why, &err);
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
						.findings = sarif_ok ? &findings : NULL,
						.notes = a->notes,
						.nnotes = a->nnotes,
						.on_unavailable = cleanup_on_unavailable,
						.ctx = a};
		struct outcome recorded;
		rc =
		    store_attempt_end(a->env->db, &s, a->env->cfg->lease_s * 1000, &recorded, &err);
		if (rc == 0)
			a->nnotes = 0; /* recorded with the end */
		else
			notes_flush(a); /* the history keeps them even when the end is not ours */
		result = performed(a, &recorded, rc, &err);
	}
	cleanup_docker(a);
	ff_findings_release(&findings);
	return result;
}

/* The database is away before the run is ours: the message goes back to the queue, after
 * a pause that keeps an outage from becoming a redelivery loop. */
static struct exec_result requeue_later(const char *run_id, const char *what, const char *why)
{
	ff_run_warn(run_id, "%s: %s", what, why);
	sleep(1);
	return (struct exec_result){EXEC_REQUEUE, 0};
}

/* The run's stored job in place of the message (and its automation id, for the caller to
 * free), or why the message is refused. */
static struct exec_result trust_job(struct exec_env *env, struct ff_job **job, char **automation_id)
{
	struct ff_err err;
	struct store_trusted trusted;
	int rc = store_job_trusted(env->db, *job, &trusted, &err);
	if (rc == 0) {
		ff_job_free(*job);
		*job = trusted.job;
		*automation_id = trusted.automation_id;
		return (struct exec_result){EXEC_DONE, 0};
	}
	if (rc == FF_ENOTFOUND || rc == FF_ECONFLICT || rc == FF_EINVAL) {
		ff_error("job message for run %s attempt %d refused and dead-lettered: %s",
			 (*job)->run_id, (*job)->attempt, err.msg);
		return (struct exec_result){EXEC_REFUSE, 0};
	}
	return requeue_later((*job)->run_id, "job not read from the database", err.msg);
}

/* The trusted job's attempt: started, run and recorded, or skipped when not due. */
static struct exec_result start_attempt(struct exec_env *env, const struct ff_job *job,
					const char *automation_id)
{
	struct attempt a = {.job = job,
			    .automation_id = automation_id,
			    .env = env,
			    .ref = {job->run_id, job->attempt, env->cfg->worker_id},
			    .exit_code = -1};
	struct ff_err err = {0};

	char image[IMAGES_REF_MAX];
	images_ref(env->images, job->image, image);
	spec_names_init(&a.names, job->run_id, job->attempt, image);
	int rc = ff_run_start(env->db, &a.ref, env->cfg->lease_s, &a.started_before, &err);
	if (rc == 0) {
		ff_run_info(job->run_id, "attempt %d is not due: skipped", job->attempt);
		return (struct exec_result){EXEC_SKIP, 0};
	}
	if (rc < 0)
		return requeue_later(job->run_id, "cannot start", err.msg);
	/* From here the lease, not the broker message, keeps the run alive. */
	if (env->on_started)
		env->on_started(env->ctx);
	slot_hold(env->slot, job->run_id);
	output_init(&a.out, env->cfg->log_max_bytes, on_progress, on_log_piece, &a);
	ff_run_info(job->run_id, "running %s attempt %d", job->workflow, job->attempt);
	struct exec_result result = run_attempt(&a);
	slot_hold(env->slot, "");
	attempt_release(&a);
	return result;
}

struct exec_result exec_run(struct exec_env *env, struct ff_job **msg)
{
	char *automation_id = NULL;
	struct exec_result result = trust_job(env, msg, &automation_id);
	if (result.outcome == EXEC_DONE)
		result = start_attempt(env, *msg, automation_id);
	free(automation_id);
	return result;
}

const char *exec_outcome_name(enum exec_outcome o)
{
	static const char *const names[] = {"done", "skip", "requeue", "retry", "dead", "refuse"};
	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "unknown";
}

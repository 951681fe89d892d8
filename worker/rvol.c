/* rvol — an executor's kept results volume; see rvol.h. */
#include "rvol.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ff_log.h"
#include "ff_util.h"
#include "results.h"

#define SLOT_LABEL "fuzzforge.results-slot"

void rvol_nonce(char nonce[RVOL_NONCE_LEN + 1])
{
	char uuid[FF_UUID_LEN + 1];
	ff_uuid_new(uuid);
	snprintf(nonce, RVOL_NONCE_LEN + 1, "%.*s", RVOL_NONCE_LEN, uuid);
}

void rvol_init(struct rvol *v, const char *worker_id, const char *nonce, int slot)
{
	/* a worker id may hold any byte; a volume name may not (FNV-1a) */
	unsigned long long h = 1469598103934665603ULL;
	for (const char *c = worker_id; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	*v = (struct rvol){0};
	snprintf(v->nonce, sizeof(v->nonce), "%s", nonce);
	snprintf(v->name, sizeof(v->name), "ff-results-%016llx-%s-%d", h, nonce, slot);
}

/* Empty and world-writable (sticky), as a run's /results starts. */
static int make_ready(struct rvol *v, struct ff_err *err)
{
	int fd = open(v->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchmod(fd, 01777) < 0) {
		if (fd >= 0)
			close(fd);
		return ff_err_set(err, FF_EUNAVAIL, "results volume %s cannot be prepared here",
				  v->name);
	}
	close(fd);
	return results_empty_dir(v->dir, err);
}

static void give_up(struct rvol *v, struct docker *d, const char *why)
{
	struct ff_err ignored;
	ff_warn("results volume %s not kept (%s): a volume per run from now on", v->name, why);
	docker_volume_remove(d, v->name, &ignored);
	v->dir[0] = '\0';
	v->off = true;
}

int rvol_acquire(struct rvol *v, struct docker *d, const char *worker_id, struct ff_err *err)
{
	if (v->off)
		return ff_err_set(err, FF_EUNAVAIL, "results volume not kept here");
	if (v->dir[0])
		return 0;
	cJSON *labels = cJSON_CreateObject(), *out = NULL;
	cJSON_AddStringToObject(labels, "fuzzforge.worker", worker_id);
	cJSON_AddStringToObject(labels, SLOT_LABEL, v->nonce);
	int rc = docker_volume_create2(d, v->name, labels, &out, err);
	cJSON_Delete(labels);
	const cJSON *mp = cJSON_GetObjectItemCaseSensitive(out, "Mountpoint");
	if (rc == 0 && cJSON_IsString(mp))
		snprintf(v->dir, sizeof(v->dir), "%s", mp->valuestring);
	cJSON_Delete(out);
	if (rc < 0)
		return rc;
	if (!v->dir[0] || make_ready(v, err) < 0) {
		give_up(v, d, v->dir[0] ? err->msg : "no directory");
		return ff_err_set(err, FF_EUNAVAIL, "results volume not kept here");
	}
	return 0;
}

int rvol_pinned(struct rvol *v, struct ff_err *err)
{
	int rc = make_ready(v, err);
	if (rc < 0)
		v->off = true; /* removed by rvol_release, once no container uses it */
	return rc;
}

void rvol_release(struct rvol *v, struct docker *d)
{
	struct ff_err err;
	if (!v->dir[0])
		return;
	if (v->off)
		give_up(v, d, "it could not be prepared for a run");
	else if (results_empty_dir(v->dir, &err) < 0)
		give_up(v, d, err.msg);
}

void rvol_remove(struct rvol *v, struct docker *d)
{
	struct ff_err err;
	if (v->dir[0] && docker_volume_remove(d, v->name, &err) < 0)
		ff_warn("results volume %s not removed: %s", v->name, err.msg);
	v->dir[0] = '\0';
}

static bool listed(PGresult *live, const char *worker)
{
	for (int i = 0; i < PQntuples(live); i++)
		if (!strcmp(PQgetvalue(live, i, 0), worker))
			return true;
	return false;
}

void rvol_sweep(struct docker *d, struct ff_db *db, const char *worker_id, const char *nonce)
{
	struct ff_err err;
	cJSON *list = NULL;
	/* A live worker's volume removed here all the same (its worker not registered yet, or
	 * marked lost while it was slow) is made again by the engine, empty and unlabelled, at
	 * that worker's next container create, and rvol_pinned sets its mode before the run. */
	if (docker_volume_list(d, SLOT_LABEL, &list, &err) < 0) {
		ff_warn("kept results volumes not listed: %s", err.msg);
		return;
	}
	PGresult *live = ff_db_query(
	    db, "SELECT id FROM workers WHERE state IN ('active', 'draining')", 0, NULL, &err);
	if (!live) {
		ff_warn("kept results volumes not swept: %s", err.msg);
		cJSON_Delete(list);
		return;
	}
	int removed = 0;
	const cJSON *vol;
	cJSON_ArrayForEach(vol, cJSON_GetObjectItemCaseSensitive(list, "Volumes"))
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(vol, "Name");
		const cJSON *labels = cJSON_GetObjectItemCaseSensitive(vol, "Labels");
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(labels, "fuzzforge.worker");
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(labels, SLOT_LABEL);
		if (!cJSON_IsString(name) || !cJSON_IsString(w) || !cJSON_IsString(n))
			continue;
		bool dead = !strcmp(w->valuestring, worker_id) ? strcmp(n->valuestring, nonce) != 0
							       : !listed(live, w->valuestring);
		if (dead && docker_volume_remove(d, name->valuestring, &err) == 0)
			removed++;
	}
	PQclear(live);
	cJSON_Delete(list);
	if (removed)
		ff_info("%d results volumes of workers no longer running removed", removed);
}

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

#define SLOT_LABEL     "fuzzforge.results-slot"
#define DATABASE_LABEL "fuzzforge.database"

void rvol_owner_init(struct rvol_owner *o, const char *worker_id, const char *database_url)
{
	char uuid[FF_UUID_LEN + 1];
	ff_uuid_new(uuid);
	o->worker_id = worker_id;
	snprintf(o->nonce, sizeof(o->nonce), "%.8s", uuid);
	snprintf(o->database, sizeof(o->database), "%016llx",
		 (unsigned long long)ff_fnv1a64(database_url));
}

void rvol_init(struct rvol *v, const struct rvol_owner *owner, int slot)
{
	*v = (struct rvol){.owner = owner};
	/* a worker id may hold any byte; a volume name may not */
	snprintf(v->name, sizeof(v->name), "ff-results-%016llx-%s-%d",
		 (unsigned long long)ff_fnv1a64(owner->worker_id), owner->nonce, slot);
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

int rvol_acquire(struct rvol *v, struct docker *d, struct ff_err *err)
{
	if (v->off)
		return ff_err_set(err, FF_EUNAVAIL, "results volume not kept here");
	if (v->dir[0])
		return 0;
	cJSON *labels = cJSON_CreateObject(), *out = NULL;
	cJSON_AddStringToObject(labels, "fuzzforge.worker", v->owner->worker_id);
	cJSON_AddStringToObject(labels, SLOT_LABEL, v->owner->nonce);
	cJSON_AddStringToObject(labels, DATABASE_LABEL, v->owner->database);
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

void rvol_sweep(struct docker *d, struct ff_db *db, const struct rvol_owner *owner)
{
	struct ff_err err;
	cJSON *list = NULL;
	/* A live worker's volume removed here all the same (its worker not registered yet, or
	 * marked lost while it was slow) is made again by the engine, empty and unlabelled, at
	 * that worker's next container create, and rvol_pinned sets its mode before the run. */
	char label[64];
	snprintf(label, sizeof(label), DATABASE_LABEL "=%s", owner->database);
	if (docker_volume_list(d, label, &list, &err) < 0) {
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
		bool dead = !strcmp(w->valuestring, owner->worker_id)
				? strcmp(n->valuestring, owner->nonce) != 0
				: !listed(live, w->valuestring);
		if (dead && docker_volume_remove(d, name->valuestring, &err) == 0)
			removed++;
	}
	PQclear(live);
	cJSON_Delete(list);
	if (removed)
		ff_info("%d results volumes of workers no longer running removed", removed);
}

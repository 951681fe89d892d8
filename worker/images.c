/* images — pulls from FF_REGISTRY, one per image at a time; see images.h. */
#include "images.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_util.h"
#include "wmetrics.h"

/* A pull under way (or just finished), shared by its leader and the executors waiting. */
struct pull {
	char *ref;
	bool done;
	int rc;
	struct ff_err err;
	char digest[80];
	int users; /* the leader and every waiter; the last one out frees it */
	struct pull *next;
};

struct images {
	char registry[256];
	pthread_mutex_t lock;
	pthread_cond_t done;
	struct pull *pulls; /* under way */
	unsigned pulled;    /* under lock */
};

struct images *images_new(const char *registry)
{
	if (registry && strlen(registry) >= sizeof(((struct images *)0)->registry))
		return NULL;
	struct images *im = calloc(1, sizeof(*im));
	if (!im)
		return NULL;
	snprintf(im->registry, sizeof(im->registry), "%s", registry ? registry : "");
	pthread_mutex_init(&im->lock, NULL);
	pthread_cond_init(&im->done, NULL);
	return im;
}

void images_free(struct images *im)
{
	if (!im)
		return;
	pthread_mutex_destroy(&im->lock);
	pthread_cond_destroy(&im->done);
	free(im);
}

const char *images_registry(const struct images *im)
{
	return im ? im->registry : "";
}

void images_ref(const struct images *im, const char *image, char out[IMAGES_REF_MAX])
{
	const char *reg = images_registry(im);
	snprintf(out, IMAGES_REF_MAX, "%s%s%.255s", reg, reg[0] ? "/" : "", image);
}

static struct pull *find(struct images *im, const char *ref)
{
	for (struct pull *p = im->pulls; p; p = p->next)
		if (!strcmp(p->ref, ref))
			return p;
	return NULL;
}

static void unlink_pull(struct images *im, struct pull *gone)
{
	for (struct pull **pp = &im->pulls; *pp; pp = &(*pp)->next)
		if (*pp == gone) {
			*pp = gone->next;
			return;
		}
}

/* Under lock: one user fewer; the last frees it. */
static void put(struct pull *p)
{
	if (--p->users == 0) {
		free(p->ref);
		free(p);
	}
}

static int result_of(const struct pull *p, struct images_pull *out, struct ff_err *err)
{
	snprintf(out->digest, sizeof(out->digest), "%s", p->digest);
	if (p->rc < 0)
		*err = p->err;
	return p->rc;
}

int images_pull(struct images *im, struct docker *d, const char *ref, struct images_pull *out,
		struct ff_err *err)
{
	int64_t t0 = ff_now_ms();
	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&im->lock);
	struct pull *p = find(im, ref);
	if (p) {
		p->users++;
		while (!p->done)
			pthread_cond_wait(&im->done, &im->lock);
		int rc = result_of(p, out, err);
		put(p);
		pthread_mutex_unlock(&im->lock);
		out->shared = true;
		out->ms = ff_now_ms() - t0;
		return rc;
	}
	if (!(p = calloc(1, sizeof(*p))) || !(p->ref = strdup(ref))) {
		free(p);
		pthread_mutex_unlock(&im->lock);
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	p->users = 1;
	p->next = im->pulls;
	im->pulls = p;
	pthread_mutex_unlock(&im->lock);

	struct ff_err engine = {0}, perr = {0};
	char digest[80] = "";
	/* A pull that ended between this executor's failed create and here left the image:
	 * then there is nothing to pull, and no second pull of one image. */
	bool there = docker_image_inspect(d, ref, &engine) == 0;
	int rc = there ? 0 : docker_image_pull(d, ref, digest, &engine);
	if (rc < 0)
		ff_err_set(&perr, rc, "image %s not pulled from the registry %s: %s", ref,
			   im->registry, engine.msg);
	out->ms = ff_now_ms() - t0;
	out->shared = there;
	if (!there)
		wmetrics_image_pull(rc == 0		 ? "pulled"
				    : rc == FF_ENOTFOUND ? "not_found"
							 : "failed",
				    (double)out->ms / 1e3);

	pthread_mutex_lock(&im->lock);
	p->done = true;
	p->rc = rc;
	im->pulled += rc == 0 && !there;
	p->err = perr;
	snprintf(p->digest, sizeof(p->digest), "%s", digest);
	unlink_pull(im, p); /* the next run that lacks it pulls again */
	pthread_cond_broadcast(&im->done);
	rc = result_of(p, out, err);
	put(p);
	pthread_mutex_unlock(&im->lock);
	return rc;
}

unsigned images_pulled(const struct images *im)
{
	struct images *m = (struct images *)im; /* the lock only */
	pthread_mutex_lock(&m->lock);
	unsigned n = m->pulled;
	pthread_mutex_unlock(&m->lock);
	return n;
}

static void add_refs(cJSON *out, const cJSON *refs, const char *reg, size_t reg_len)
{
	const cJSON *r;
	cJSON_ArrayForEach(r, refs)
	{
		if (!cJSON_IsString(r) || cJSON_GetArraySize(out) >= IMAGES_LIST_MAX)
			continue;
		const char *ref = r->valuestring;
		if (reg_len && !strncmp(ref, reg, reg_len) && ref[reg_len] == '/')
			ref += reg_len + 1;
		if (strcmp(ref, "<none>:<none>") && strcmp(ref, "<none>@<none>"))
			cJSON_AddItemToArray(out, cJSON_CreateString(ref));
	}
}

int images_engine_refs(const struct images *im, struct docker *d, cJSON **out, struct ff_err *err)
{
	cJSON *list = NULL;
	int rc = docker_image_list(d, &list, err);
	if (rc < 0)
		return rc;
	const char *reg = images_registry(im);
	cJSON *refs = cJSON_CreateArray(), *img;
	cJSON_ArrayForEach(img, list)
	{
		add_refs(refs, cJSON_GetObjectItemCaseSensitive(img, "RepoTags"), reg, strlen(reg));
		add_refs(refs, cJSON_GetObjectItemCaseSensitive(img, "RepoDigests"), reg,
			 strlen(reg));
	}
	cJSON_Delete(list);
	if (!refs)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	*out = refs;
	return 0;
}

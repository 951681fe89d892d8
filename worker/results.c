/* results — reading /results back; see results.h. */
#include "results.h"

#include <stdlib.h>
#include <string.h>

#include "ff_archive.h"

#define SARIF_PATH     "results/results.sarif"
#define ARTIFACTS_PATH "results/artifacts/"

static int add_artifact(struct results *r, const char *name, const void *data, size_t len)
{
	if (r->nartifacts == r->artifacts_cap) {
		size_t cap = r->artifacts_cap ? r->artifacts_cap * 2 : 8;
		struct artifact *na = realloc(r->artifacts, cap * sizeof(*na));
		if (!na)
			return FF_ENOMEM;
		r->artifacts = na;
		r->artifacts_cap = cap;
	}
	struct artifact a = {.name = strdup(name), .data = malloc(len ? len : 1), .size = len};
	if (!a.name || !a.data) {
		free(a.name);
		free(a.data);
		return FF_ENOMEM;
	}
	memcpy(a.data, data, len);
	r->artifacts[r->nartifacts++] = a;
	return 0;
}

static int on_file(void *ctx, const char *path, const void *data, size_t len)
{
	struct results *r = ctx;
	if (!data) /* larger than the limit: the whole tree is refused anyway */
		return 0;
	if (strcmp(path, SARIF_PATH) == 0) {
		free(r->sarif);
		if (!(r->sarif = malloc(len + 1)))
			return FF_ENOMEM;
		memcpy(r->sarif, data, len);
		r->sarif[len] = '\0';
		r->sarif_len = len;
		return 0;
	}
	if (strncmp(path, ARTIFACTS_PATH, strlen(ARTIFACTS_PATH)) != 0)
		return 0;
	const char *name = path + strlen(ARTIFACTS_PATH);
	if (!*name || strlen(name) > RESULTS_ARTIFACT_NAME_MAX)
		return 0;
	return add_artifact(r, name, data, len);
}

int results_collect(struct docker *d, const char *container, size_t max_bytes, struct results *r,
		    struct ff_err *err)
{
	void *tar = NULL;
	size_t len = 0;
	*r = (struct results){0};
	int rc = docker_archive_get(d, container, "/results", max_bytes, &tar, &len, err);
	if (rc == 0)
		rc = ff_archive_each_file(tar, len, max_bytes, on_file, r, err);
	free(tar);
	return rc;
}

void results_release(struct results *r)
{
	free(r->sarif);
	for (size_t i = 0; i < r->nartifacts; i++) {
		free(r->artifacts[i].name);
		free(r->artifacts[i].data);
	}
	free(r->artifacts);
	*r = (struct results){0};
}

/* ff_catalog — the catalogue of workflow manifests; see ff_catalog.h. */
#include "ff_catalog.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CATALOG_MAX 4096

struct ff_catalog {
	struct ff_manifest **v; /* sorted by name */
	size_t n, cap;
};

void ff_catalog_free(struct ff_catalog *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n; i++)
		ff_manifest_free(c->v[i]);
	free(c->v);
	free(c);
}

size_t ff_catalog_count(const struct ff_catalog *c)
{
	return c ? c->n : 0;
}

const struct ff_manifest *ff_catalog_at(const struct ff_catalog *c, size_t i)
{
	return c && i < c->n ? c->v[i] : NULL;
}

const struct ff_manifest *ff_catalog_find(const struct ff_catalog *c, const char *name)
{
	if (!c || !name)
		return NULL;
	size_t lo = 0, hi = c->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int cmp = strcmp(name, c->v[mid]->name);
		if (cmp == 0)
			return c->v[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int catalog_add(struct ff_catalog *c, struct ff_manifest *m, struct ff_err *err)
{
	if (c->n == CATALOG_MAX)
		return ff_err_set(err, FF_ETOOBIG, "more than %d workflows", CATALOG_MAX);
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct ff_manifest **v = realloc(c->v, cap * sizeof(*v));
		if (!v)
			return ff_err_set(err, FF_ENOMEM, "out of memory");
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = m;
	return 0;
}

/* By name, then by path, so the duplicate message is the same on every load. */
static int by_name(const void *a, const void *b)
{
	const struct ff_manifest *x = *(const struct ff_manifest *const *)a;
	const struct ff_manifest *y = *(const struct ff_manifest *const *)b;
	int cmp = strcmp(x->name, y->name);
	return cmp ? cmp : strcmp(x->path, y->path);
}

/* Loads every <dir>/<entry>/workflow.json; entries that are not directories, hidden ones
 * and those without a workflow.json are skipped. */
static int load_dir(struct ff_catalog *c, const char *dir, struct ff_err *err)
{
	char path[PATH_MAX];
	struct stat st;
	int rc = 0;
	DIR *d = opendir(dir);
	if (!d)
		return ff_err_set(err, errno == ENOENT ? FF_ENOTFOUND : FF_EINVAL,
				  "workflow directory %s: %s", dir, strerror(errno));
	for (;;) {
		errno = 0;
		struct dirent *e = readdir(d);
		if (!e) {
			if (errno)
				rc = ff_err_set(err, FF_EINTERNAL, "reading %s: %s", dir,
						strerror(errno));
			break;
		}
		if (e->d_name[0] == '.')
			continue;
		int n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(path) - sizeof("/workflow.json")) {
			rc = ff_err_set(err, FF_EINVAL, "path too long in %s", dir);
			break;
		}
		if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		snprintf(path + n, sizeof(path) - (size_t)n, "/workflow.json");
		if (stat(path, &st) < 0 && errno == ENOENT)
			continue;
		struct ff_manifest *m = NULL;
		if ((rc = ff_manifest_load_file(path, &m, err)) < 0)
			break;
		if ((rc = catalog_add(c, m, err)) < 0) {
			ff_manifest_free(m);
			break;
		}
	}
	closedir(d);
	return rc;
}

int ff_catalog_load(const char *dirs, struct ff_catalog **out, struct ff_err *err)
{
	struct ff_catalog *c = NULL;
	char dir[PATH_MAX];
	int rc = 0;
	if (!dirs)
		return ff_err_set(err, FF_EINVAL, "no workflow directories");
	if (!(c = calloc(1, sizeof(*c))))
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	for (const char *p = dirs; *p;) {
		const char *colon = strchr(p, ':');
		size_t len = colon ? (size_t)(colon - p) : strlen(p);
		if (len >= sizeof(dir)) {
			rc = ff_err_set(err, FF_EINVAL, "workflow directory name too long");
			goto out;
		}
		memcpy(dir, p, len);
		dir[len] = '\0';
		p += len + (colon ? 1 : 0);
		if (len && (rc = load_dir(c, dir, err)) < 0)
			goto out;
	}
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), by_name);
	for (size_t i = 1; i < c->n; i++)
		if (!strcmp(c->v[i - 1]->name, c->v[i]->name)) {
			rc = ff_err_field(err, FF_ECONFLICT, "name",
					  "workflow '%s' is defined twice: %s and %s",
					  c->v[i]->name, c->v[i - 1]->path, c->v[i]->path);
			goto out;
		}
	*out = c;
	c = NULL;
out:
	ff_catalog_free(c);
	return rc;
}

/* "sha256:" and 64 lowercase hex digits */
static bool digest_valid(const char *d)
{
	return strncmp(d, "sha256:", 7) == 0 && strlen(d) == 71 &&
	       strspn(d + 7, "0123456789abcdef") == 64;
}

/* Pins every manifest of image to digest; how many it pinned, or -1 on no memory. */
static long pin_image(struct ff_catalog *c, const char *image, const char *digest)
{
	long n = 0;
	for (size_t i = 0; i < c->n; i++) {
		struct ff_manifest *m = c->v[i];
		if (strcmp(m->image, image) != 0 || strchr(m->image, '@'))
			continue;
		size_t len = strlen(image) + 1 + strlen(digest) + 1;
		char *pinned = malloc(len);
		if (!pinned)
			return -1;
		snprintf(pinned, len, "%s@%s", image, digest);
		free(m->image);
		m->image = pinned;
		n++;
	}
	return n;
}

int ff_catalog_pin(struct ff_catalog *c, const char *path, size_t *pinned, struct ff_err *err)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return ff_err_set(err, errno == ENOENT ? FF_ENOTFOUND : FF_EINTERNAL,
				  "image pins %s: %s", path, strerror(errno));
	char line[512], image[FF_MANIFEST_IMAGE_MAX + 1], digest[80];
	int rc = 0, lineno = 0;
	size_t total = 0;
	while (rc == 0 && fgets(line, sizeof(line), f)) {
		lineno++;
		if (line[0] == '#' || strspn(line, " \t\r\n") == strlen(line))
			continue;
		char extra;
		if (!strchr(line, '\n') && !feof(f))
			rc = ff_err_set(err, FF_EINVAL, "image pins %s:%d: line too long", path,
					lineno);
		else if (sscanf(line, "%255s %79s %c", image, digest, &extra) != 2 ||
			 !ff_manifest_image_valid(image) || !digest_valid(digest))
			rc = ff_err_set(err, FF_EINVAL,
					"image pins %s:%d: not \"<image> sha256:<64 hex>\"", path,
					lineno);
		else {
			long n = pin_image(c, image, digest);
			if (n < 0)
				rc = ff_err_set(err, FF_ENOMEM, "out of memory");
			total += n > 0 ? (size_t)n : 0;
		}
	}
	fclose(f);
	if (rc == 0 && pinned)
		*pinned = total;
	return rc;
}

/* results — reading /results back; see results.h. */

#include "results.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "ff_archive.h"

#define SARIF_PATH     "results/results.sarif"
#define ARTIFACTS_PATH "results/artifacts/"
#define READ_CHUNK     65536
#define MB	       (1024.0 * 1024.0)

static void results_init(struct results *r, const struct results_limits *lim, struct ff_err *err)
{
	*r = (struct results){.lim = lim, .err = err};
}

/* The note is text for the run's history: the path, which the workflow chose, is made valid
 * UTF-8 first (a name with a 0xff byte is the very thing being skipped). */
static void note_skipped(struct results *r, const char *path, const char *why)
{
	if (r->skipped[0])
		return;
	struct ff_buf b;
	ff_buf_init(&b, 200);
	ff_buf_append_utf8(&b, path, strlen(path));
	snprintf(r->skipped, sizeof(r->skipped), "%s %s: skipped", ff_buf_str(&b), why);
	ff_buf_release(&b);
}

/* An artifact's name as stored: the artifacts table's name is text, so a byte that is not
 * UTF-8 becomes U+FFFD (the file is kept; its name shows where). A name that, made valid,
 * repeats an artifact's already collected is skipped (NULL, *why says so), as is one over
 * RESULTS_ARTIFACT_NAME_MAX bytes. */
static char *artifact_name(const struct results *r, const char *name, const char **why)
{
	struct ff_buf b;
	*why = NULL;
	if (strlen(name) > RESULTS_ARTIFACT_NAME_MAX) {
		*why = "has a name longer than 255 bytes";
		return NULL;
	}
	ff_buf_init(&b, 3 * RESULTS_ARTIFACT_NAME_MAX);
	ff_buf_append_utf8(&b, name, strlen(name));
	char *clean = ff_buf_take(&b, NULL);
	if (!clean || strcmp(clean, name) == 0)
		return clean;
	for (size_t i = 0; i < r->nartifacts; i++)
		if (strcmp(r->artifacts[i].name, clean) == 0) {
			free(clean);
			*why = "has a name that is not UTF-8 and, made valid, repeats another";
			return NULL;
		}
	return clean;
}

/* --- the sink both ways feed ---------------------------------------------------------------- */

static int on_begin(void *ctx, const char *path, uint64_t size)
{
	struct results *r = ctx;
	r->cur = 0;
	if (strcmp(path, SARIF_PATH) == 0) {
		r->have_sarif = true;
		if (size > r->lim->sarif_max) {
			snprintf(
			    r->sarif_error, sizeof(r->sarif_error),
			    "results.sarif is %.1f MB, over the FF_SARIF_MAX_MB limit (%.0f MB)",
			    (double)size / MB, (double)r->lim->sarif_max / MB);
			return 0;
		}
		free(r->sarif);
		r->sarif = NULL;
		ff_buf_release(&r->sb);
		ff_buf_init(&r->sb, r->lim->sarif_max);
		r->cur = 1;
		return 1;
	}
	if (strncmp(path, ARTIFACTS_PATH, strlen(ARTIFACTS_PATH)) != 0)
		return 0;
	const char *name = path + strlen(ARTIFACTS_PATH);
	if (!*name)
		return 0;
	if (r->nartifacts == RESULTS_MAX_ARTIFACTS)
		return ff_err_set(r->err, FF_ETOOBIG, "/results/artifacts holds more than %d files",
				  RESULTS_MAX_ARTIFACTS);
	if (!r->spool.open) {
		int rc = spool_open(&r->spool, r->lim->spool_dir, r->lim->max_bytes, r->err);
		if (rc < 0)
			return rc;
	}
	if (r->nartifacts == r->artifacts_cap) {
		size_t cap = r->artifacts_cap ? r->artifacts_cap * 2 : 8;
		struct artifact *na = realloc(r->artifacts, cap * sizeof(*na));
		if (!na)
			return ff_err_set(r->err, FF_ENOMEM, "out of memory");
		r->artifacts = na;
		r->artifacts_cap = cap;
	}
	const char *why;
	struct artifact a = {.name = artifact_name(r, name, &why), .off = r->spool.len};
	if (why) {
		note_skipped(r, path, why);
		return 0;
	}
	if (!a.name)
		return ff_err_set(r->err, FF_ENOMEM, "out of memory");
	r->artifacts[r->nartifacts++] = a;
	r->cur = 2;
	return 1;
}

static int on_data(void *ctx, const void *p, size_t n)
{
	struct results *r = ctx;
	if (r->cur == 1) {
		if (ff_buf_append(&r->sb, p, n) < 0)
			return ff_err_set(r->err, r->sb.err,
					  "results.sarif grew past the FF_SARIF_MAX_MB limit");
		return 0;
	}
	if (r->cur == 2) {
		struct ff_err e;
		int rc = spool_write(&r->spool, p, n, &e);
		if (rc < 0)
			return ff_err_set(r->err, rc, "/results is larger than %.0f MB (%s)",
					  (double)r->lim->max_bytes / MB, e.msg);
		r->artifacts[r->nartifacts - 1].size += n;
	}
	return 0;
}

static int on_end(void *ctx)
{
	struct results *r = ctx;
	if (r->cur == 1) {
		size_t len = 0;
		if (!(r->sarif = ff_buf_take(&r->sb, &len)))
			return ff_err_set(r->err, FF_ENOMEM, "out of memory");
		r->sarif_len = len;
	}
	r->cur = 0;
	return 0;
}

/* --- straight from the volume's directory --------------------------------------------------- */

static int open_beneath(int dirfd, const char *name, int flags)
{
	struct open_how how = {
	    .flags = (unsigned long long)(flags | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK),
	    .resolve =
		RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV,
	};
	return (int)syscall(SYS_openat2, dirfd, name, &how, sizeof(how));
}

/* A listing of the directory dfd, on a descriptor of its own (closedir closes that one,
 * not dfd). */
static DIR *list_dir(int dfd)
{
	int fd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	if (!dir && fd >= 0)
		close(fd);
	return dir;
}

/* Why an entry could not be opened beneath the root, for the run's history. */
static const char *refused(int dirfd, const char *name, int open_errno)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return "is a symlink";
	return open_errno == ENOTDIR ? "is not a directory" : "cannot be opened safely";
}

struct dwalk {
	struct results *r;
	uint64_t total, entries;
	unsigned char *buf;
	char path[4096];
};

/* Reads one regular file (fd, opened beneath) through the sink. */
static int read_file(struct dwalk *w, int fd)
{
	struct results *r = w->r;
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		note_skipped(r, w->path, "is not a regular file");
		return 0;
	}
	int rc = on_begin(r, w->path, (uint64_t)st.st_size);
	if (rc <= 0)
		return rc;
	for (;;) {
		ssize_t n = read(fd, w->buf, READ_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return ff_err_set(r->err, FF_EINTERNAL, "reading %s: %s", w->path,
					  strerror(errno));
		if (n == 0)
			break;
		w->total += (uint64_t)n;
		if (w->total > r->lim->max_bytes)
			return ff_err_set(r->err, FF_ETOOBIG, "/results is larger than %.0f MB",
					  (double)r->lim->max_bytes / MB);
		if ((rc = on_data(r, w->buf, (size_t)n)) < 0)
			return rc;
	}
	return on_end(r);
}

static int walk_dir(struct dwalk *w, int dfd, int depth)
{
	struct results *r = w->r;
	size_t base = strlen(w->path);
	int rc = 0;
	if (depth > RESULTS_MAX_DEPTH)
		return ff_err_set(r->err, FF_ETOOBIG, "/results is nested deeper than %d",
				  RESULTS_MAX_DEPTH);
	DIR *dir = list_dir(dfd);
	if (!dir)
		return ff_err_set(r->err, FF_EINTERNAL, "cannot list %s", w->path);
	struct dirent *de;
	while (rc == 0 && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (++w->entries > 100000) {
			rc =
			    ff_err_set(r->err, FF_ETOOBIG, "/results has more than 100000 entries");
			break;
		}
		if (snprintf(w->path + base, sizeof(w->path) - base, "/%s", de->d_name) >=
		    (int)(sizeof(w->path) - base))
			continue;
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int fd = open_beneath(dfd, de->d_name, O_RDONLY | O_DIRECTORY);
			if (fd < 0) {
				note_skipped(r, w->path, "cannot be opened safely");
				continue;
			}
			rc = walk_dir(w, fd, depth + 1);
			close(fd);
		} else if (S_ISREG(st.st_mode)) {
			int fd = open_beneath(dfd, de->d_name, O_RDONLY);
			if (fd < 0) {
				note_skipped(r, w->path,
					     errno == ELOOP ? "is a symlink"
							    : "cannot be opened safely");
				continue;
			}
			rc = read_file(w, fd);
			close(fd);
		} else {
			note_skipped(r, w->path,
				     S_ISLNK(st.st_mode) ? "is a symlink"
							 : "is not a regular file");
		}
		w->path[base] = '\0';
	}
	closedir(dir);
	return rc;
}

/* --- emptying a kept volume ----------------------------------------------------------------- */

/* Everything inside dfd goes: links are unlinked, never followed; directories are opened
 * beneath their parent with the read's rules. Deeper than RESULTS_EMPTY_MAX_DEPTH fails:
 * the caller lets the engine remove the volume instead. */
static int empty_dir(int dfd, int depth, struct ff_err *err)
{
	if (depth > RESULTS_EMPTY_MAX_DEPTH)
		return ff_err_set(err, FF_ETOOBIG, "nested deeper than %d",
				  RESULTS_EMPTY_MAX_DEPTH);
	DIR *dir = list_dir(dfd);
	if (!dir)
		return ff_err_set(err, FF_EINTERNAL, "cannot list: %s", strerror(errno));
	int rc = 0;
	struct dirent *de;
	while (rc == 0 && (de = readdir(dir))) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..") || unlinkat(dfd, name, 0) == 0 ||
		    errno == ENOENT)
			continue;
		if (errno != EISDIR) {
			rc = ff_err_set(err, FF_EINTERNAL, "cannot remove %s: %s", name,
					strerror(errno));
			break;
		}
		int fd = open_beneath(dfd, name, O_RDONLY | O_DIRECTORY);
		if (fd < 0)
			rc = ff_err_set(err, FF_EINTERNAL, "cannot open %s: %s", name,
					strerror(errno));
		else if ((rc = empty_dir(fd, depth + 1, err)) == 0 &&
			 unlinkat(dfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
			rc = ff_err_set(err, FF_EINTERNAL, "cannot remove %s: %s", name,
					strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	closedir(dir);
	return rc;
}

int results_empty_dir(const char *path, struct ff_err *err)
{
	int root = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (root < 0)
		return ff_err_set(err, FF_EUNAVAIL, "%s cannot be opened: %s", path,
				  strerror(errno));
	int rc = empty_dir(root, 0, err);
	close(root);
	return rc;
}

int results_collect_dir(const char *mountpoint, const struct results_limits *lim, struct results *r,
			struct ff_err *err)
{
	struct dwalk w = {.r = r};
	int rc = 0;
	results_init(r, lim, err);
	int root = open(mountpoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return ff_err_set(err, FF_EUNAVAIL, "volume directory %s not visible here",
				  mountpoint);
	int probe = open_beneath(root, ".", O_RDONLY | O_DIRECTORY);
	if (probe < 0) {
		close(root);
		return ff_err_set(err, FF_EUNAVAIL, "openat2 unavailable: %s", strerror(errno));
	}
	close(probe);
	if (!(w.buf = malloc(READ_CHUNK))) {
		close(root);
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	snprintf(w.path, sizeof(w.path), "%s", SARIF_PATH);
	int fd = open_beneath(root, "results.sarif", O_RDONLY);
	if (fd >= 0) {
		rc = read_file(&w, fd);
		close(fd);
	} else if (errno != ENOENT) {
		note_skipped(r, "results/results.sarif", refused(root, "results.sarif", errno));
	}
	snprintf(w.path, sizeof(w.path), "results/artifacts");
	fd = rc == 0 ? open_beneath(root, "artifacts", O_RDONLY | O_DIRECTORY) : -1;
	if (fd >= 0) {
		rc = walk_dir(&w, fd, 1);
		close(fd);
	} else if (rc == 0 && errno != ENOENT) {
		note_skipped(r, "results/artifacts", refused(root, "artifacts", errno));
	}
	free(w.buf);
	close(root);
	return rc;
}

/* --- through the engine's archive endpoint ------------------------------------------------- */

static int to_spool(void *ctx, const void *data, size_t n)
{
	struct ff_err ignored;
	return spool_write(ctx, data, n, &ignored);
}

int results_collect_archive(struct docker *d, const char *container,
			    const struct results_limits *lim, struct results *r, struct ff_err *err)
{
	struct spool tar;
	results_init(r, lim, err);
	/* the tar adds headers and padding to the files: room for them on top of the cap */
	int rc = spool_open(&tar, lim->spool_dir, lim->max_bytes + (64u << 20), err);
	if (rc < 0)
		return rc;
	rc = docker_archive_get_stream(d, container, "/results", to_spool, &tar, err);
	if (rc == FF_ETOOBIG)
		rc = ff_err_set(err, FF_ETOOBIG, "/results is larger than %.0f MB",
				(double)lim->max_bytes / MB);
	if (rc == 0 && lseek(tar.fd, 0, SEEK_SET) < 0)
		rc = ff_err_set(err, FF_EINTERNAL, "spool: %s", strerror(errno));
	if (rc == 0)
		rc = results_collect_tar(tar.fd, lim, r, err);
	spool_close(&tar);
	return rc;
}

int results_collect_tar(int fd, const struct results_limits *lim, struct results *r,
			struct ff_err *err)
{
	const struct ff_archive_file_sink sink = {on_begin, on_data, on_end, r};
	results_init(r, lim, err);
	return ff_archive_stream_files(fd, lim->max_bytes, &sink, err);
}

void results_release(struct results *r)
{
	free(r->sarif);
	for (size_t i = 0; i < r->nartifacts; i++)
		free(r->artifacts[i].name);
	free(r->artifacts);
	ff_buf_release(&r->sb);
	spool_close(&r->spool);
	*r = (struct results){0};
}

/* nftw has no user argument: the heartbeat is the one caller, and its walk keeps its
 * state here. */
static _Thread_local struct {
	uint64_t bytes, max_bytes;
	long entries, max_entries;
} usage;

static int count_usage(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)path, (void)flag, (void)ftw;
	usage.bytes += (uint64_t)st->st_blocks * 512;
	return ++usage.entries > usage.max_entries || usage.bytes > usage.max_bytes;
}

bool results_over(const char *dir, uint64_t max_bytes, long max_entries)
{
	usage.bytes = usage.entries = 0;
	usage.max_bytes = max_bytes;
	usage.max_entries = max_entries;
	return nftw(dir, count_usage, 8, FTW_PHYS | FTW_MOUNT) == 1;
}

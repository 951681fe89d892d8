/* ss_scan — tree walk, file filters and the scan loop; see ss_scan.h. */
#include "ss_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *const vendored_dirs[] = {
    ".git", "node_modules", "vendor", "third_party", "dist", "build", "__pycache__", ".venv",
};

bool ss_skip_dir_name(const char *name)
{
	for (size_t i = 0; i < sizeof(vendored_dirs) / sizeof(vendored_dirs[0]); i++)
		if (strcmp(name, vendored_dirs[i]) == 0)
			return true;
	return false;
}

bool ss_is_binary(const char *buf, size_t n)
{
	return memchr(buf, '\0', n < SS_BINARY_PROBE ? n : SS_BINARY_PROBE) != NULL;
}

int ss_globs_add(struct ss_globs *g, const char *list, char sep, const char *field,
		 struct ff_err *err)
{
	const char *p = list;

	while (p && *p) {
		const char *e = strchr(p, sep), *s = p;
		size_t n;
		char *copy, **nv;

		if (!e)
			e = p + strlen(p);
		p = *e ? e + 1 : e;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		n = (size_t)(e - s);
		while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
			n--;
		if (n == 0 || (sep == '\n' && s[0] == '#'))
			continue;
		if (n > SS_GLOB_LEN_MAX)
			return ff_err_field(err, FF_EINVAL, field, "%s glob longer than %d bytes",
					    field, SS_GLOB_LEN_MAX);
		if (g->n == SS_GLOBS_MAX)
			return ff_err_field(err, FF_EINVAL, field, "more than %d %s globs",
					    SS_GLOBS_MAX, field);
		copy = strndup(s, n);
		nv = copy ? realloc(g->v, (g->n + 1) * sizeof(*nv)) : NULL;
		if (!nv) {
			free(copy);
			return ff_err_set(err, FF_ENOMEM, "out of memory");
		}
		g->v = nv;
		g->v[g->n++] = copy;
	}
	return 0;
}

static bool glob_match_one(const char *glob, const char *rel, const char *base, bool is_dir)
{
	char pat[SS_GLOB_LEN_MAX + 1];
	size_t n = strlen(glob);
	const char *p = pat;

	if (n > SS_GLOB_LEN_MAX)
		return false;
	memcpy(pat, glob, n + 1);
	if (n && pat[n - 1] == '/' && !is_dir)
		return false;
	/* runs of '/' at either end count as one, as in the Python workflows' glob_hit */
	while (n && pat[n - 1] == '/')
		pat[--n] = '\0';
	if (!strchr(pat, '/'))
		return fnmatch(pat, base, 0) == 0;
	while (*p == '/')
		p++;
	if (fnmatch(p, rel, 0) == 0)
		return true;
	/* "**" followed by "/x" also names x at the root */
	return strncmp(p, "**/", 3) == 0 && fnmatch(p + 3, rel, 0) == 0;
}

bool ss_globs_match(const struct ss_globs *g, const char *relpath, bool is_dir)
{
	const char *base = strrchr(relpath, '/');

	base = base ? base + 1 : relpath;
	for (size_t i = 0; g && i < g->n; i++)
		if (glob_match_one(g->v[i], relpath, base, is_dir))
			return true;
	return false;
}

/* False only when no path below the directory rel can match glob: the glob has a '/' inside
 * (so it matches whole paths, not names at any depth) and its literal head, up to the first
 * wildcard or escape, disagrees with "rel/". Anything less clear-cut counts as a maybe. */
static bool glob_may_match_below(const char *glob, const char *rel)
{
	size_t n = strlen(glob), rn = strlen(rel);

	while (n && glob[n - 1] == '/')
		n--;
	if (!memchr(glob, '/', n))
		return true;
	while (*glob == '/')
		glob++;
	for (size_t i = 0;; i++) {
		if (!glob[i] || strchr("*?[\\", glob[i]))
			return true;
		if (glob[i] != (i < rn ? rel[i] : '/'))
			return false;
		if (i == rn)
			return true;
	}
}

static bool globs_may_match_below(const struct ss_globs *g, const char *rel)
{
	for (size_t i = 0; i < g->n; i++)
		if (glob_may_match_below(g->v[i], rel))
			return true;
	return false;
}

void ss_globs_release(struct ss_globs *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++)
		free(g->v[i]);
	free(g->v);
	g->v = NULL;
	g->n = 0;
}

void ss_report_release(struct ss_report *rep)
{
	if (!rep)
		return;
	ss_findings_release(&rep->findings);
	for (size_t i = 0; i < rep->nnotices; i++)
		free(rep->notices[i].path);
	free(rep->notices);
	rep->notices = NULL;
	rep->nnotices = rep->notices_dropped = 0;
	rep->stats = (struct ss_stats){0};
}

static struct ss_notice *notice(struct ss_report *rep, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A warning-level notice; NULL when it had to be dropped (counted). */
static struct ss_notice *notice(struct ss_report *rep, const char *path, const char *fmt, ...)
{
	struct ss_notice *nv;
	va_list ap;

	if (rep->nnotices == SS_NOTICES_MAX) {
		rep->notices_dropped++;
		return NULL;
	}
	nv = realloc(rep->notices, (rep->nnotices + 1) * sizeof(*nv));
	if (!nv) {
		rep->notices_dropped++;
		return NULL;
	}
	rep->notices = nv;
	nv = &rep->notices[rep->nnotices];
	nv->path = path ? strdup(path) : NULL;
	nv->note = false;
	if (path && !nv->path) {
		rep->notices_dropped++;
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(nv->msg, sizeof(nv->msg), fmt, ap);
	va_end(ap);
	rep->nnotices++;
	return nv;
}

struct filelist {
	char **v;
	size_t n, cap;
	bool truncated;
};

struct walk {
	const struct ss_globs *include, *exclude;
	struct filelist *files;
	struct ss_report *rep;
};

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int files_push(struct filelist *fl, const char *rel)
{
	char *copy;

	if (fl->n == SS_FILES_MAX) {
		fl->truncated = true;
		return 0;
	}
	if (fl->n == fl->cap) {
		size_t ncap = fl->cap ? fl->cap * 2 : 256;
		char **nv = realloc(fl->v, ncap * sizeof(*nv));
		if (!nv)
			return FF_ENOMEM;
		fl->v = nv, fl->cap = ncap;
	}
	copy = strdup(rel);
	if (!copy)
		return FF_ENOMEM;
	fl->v[fl->n++] = copy;
	return 0;
}

/* Lists the directory open at dfd (rel is its path from the root, "" for the root) into
 * w->files, in name order. included: an include glob selects rel or a directory above it, or
 * there are none, so everything below is in. Takes ownership of dfd. */
static int walk_dir(struct walk *w, int dfd, const char *rel, int depth, bool included)
{
	DIR *d = fdopendir(dfd);
	struct dirent *de;
	char **names = NULL, path[PATH_MAX];
	size_t n = 0, cap = 0, i;
	int rc = 0;

	if (!d) {
		close(dfd);
		notice(w->rep, rel, "cannot read directory: %s", strerror(errno));
		return 0;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == SS_FILES_MAX) {
			w->files->truncated = true;
			break;
		}
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			char **nv = realloc(names, ncap * sizeof(*nv));
			if (!nv) {
				rc = FF_ENOMEM;
				goto out;
			}
			names = nv, cap = ncap;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = FF_ENOMEM;
			goto out;
		}
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), name_cmp);

	for (i = 0; i < n && !w->files->truncated; i++) {
		struct stat st;
		int len = snprintf(path, sizeof(path), "%s%s%s", rel, *rel ? "/" : "", names[i]);

		if (len < 0 || (size_t)len >= sizeof(path)) {
			notice(w->rep, rel, "path too long under %s", rel);
			continue;
		}
		/* never follow links: the target may point anywhere on the host */
		if (fstatat(dirfd(d), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			w->rep->stats.skipped_unreadable++;
			notice(w->rep, path, "cannot stat: %s", strerror(errno));
			continue;
		}
		if (S_ISDIR(st.st_mode)) {
			bool in = included || ss_globs_match(w->include, path, true);
			int cfd;
			if (ss_skip_dir_name(names[i])) {
				w->rep->stats.skipped_vendored++;
				continue;
			}
			/* unselected, it is still walked if an include glob may select below it */
			if (ss_globs_match(w->exclude, path, true) ||
			    (!in && !globs_may_match_below(w->include, path))) {
				w->rep->stats.skipped_excluded++;
				continue;
			}
			if (depth + 1 >= SS_DEPTH_MAX) {
				notice(w->rep, path, "directory nested too deep, not scanned");
				continue;
			}
			cfd = openat(dirfd(d), names[i],
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				w->rep->stats.skipped_unreadable++;
				notice(w->rep, path, "cannot open directory: %s", strerror(errno));
				continue;
			}
			rc = walk_dir(w, cfd, path, depth + 1, in);
			if (rc)
				goto out;
		} else if (S_ISREG(st.st_mode)) {
			if (ss_globs_match(w->exclude, path, false) ||
			    !(included || ss_globs_match(w->include, path, false))) {
				w->rep->stats.skipped_excluded++;
				continue;
			}
			rc = files_push(w->files, path);
			if (rc)
				goto out;
		} else {
			w->rep->stats.skipped_special++; /* links, fifos, sockets, devices */
		}
	}
out:
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

/* Reads the regular file rel (under rootfd) into *buf, growing it up to max + 1 bytes.
 * Returns 1 if the file is too big, 0 on success, -errno on failure. */
static int read_file(int rootfd, const char *rel, size_t max, char **buf, size_t *cap, size_t *len)
{
	struct stat st;
	size_t want, got = 0;
	int fd, rc = 0;

	/* O_NONBLOCK: a fifo swapped in after the listing must not hang the scan */
	fd = openat(rootfd, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		rc = 1;
		goto out;
	}
	want = (size_t)st.st_size + 1; /* one more byte notices a file that grew */
	if (want > *cap) {
		char *nb = realloc(*buf, want);
		if (!nb) {
			rc = -ENOMEM;
			goto out;
		}
		*buf = nb, *cap = want;
	}
	while (got < want) {
		ssize_t r = read(fd, *buf + got, want - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got > max) {
		rc = 1;
		goto out;
	}
	if (got == want)
		got--; /* it grew while we read: scan what fstat promised */
	*len = got;
out:
	close(fd);
	return rc;
}

static void progress(FILE *fp, unsigned pct, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One "::progress N text" line, flushed at once so the worker sees it live. */
static void progress(FILE *fp, unsigned pct, const char *fmt, ...)
{
	va_list ap;

	if (!fp)
		return;
	fprintf(fp, "::progress %u ", pct);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fputc('\n', fp);
	fflush(fp);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int load_ignore_file(int rootfd, struct ss_globs *g, struct ss_report *rep,
			    struct ff_err *err)
{
	struct ff_err e = {0};
	char *text = NULL;
	size_t cap = 0, len = 0;
	int rc;

	rc = read_file(rootfd, SS_IGNORE_FILE, SS_IGNORE_FILE_MAX, &text, &cap, &len);
	if (rc == -ENOENT) {
		rc = 0;
		goto out;
	}
	if (rc == 1) {
		notice(rep, SS_IGNORE_FILE, "ignore file larger than %d bytes, not used",
		       SS_IGNORE_FILE_MAX);
		rc = 0;
		goto out;
	}
	if (rc < 0) {
		notice(rep, SS_IGNORE_FILE, "cannot read the ignore file: %s", strerror(-rc));
		rc = 0;
		goto out;
	}
	if (!text)
		goto out;
	text[len] = '\0';
	rc = ss_globs_add(g, text, '\n', "exclude", &e);
	if (rc == FF_EINVAL) {
		/* the target's own file: keep the globs before the bad one and say so */
		notice(rep, SS_IGNORE_FILE, "ignore file: %s", e.msg);
		rc = 0;
	} else if (rc) {
		ff_err_set(err, rc, "%s", e.msg);
	}
out:
	free(text);
	return rc;
}

int ss_scan_tree(const char *root, const struct ss_scan_opts *opts, struct ss_report *rep,
		 struct ff_err *err)
{
	struct ss_globs include = {0}, exclude = {0};
	struct filelist files = {0};
	struct walk w = {.include = &include, .exclude = &exclude, .files = &files, .rep = rep};
	struct ss_match_opts mo = {.min_entropy = opts->min_entropy};
	size_t max = opts->max_file_kb * 1024, i, cap = 0, len = 0;
	char *buf = NULL;
	unsigned last_decile = 0;
	double t0 = now_s();
	int rootfd, dfd, rc;

	rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0) {
		int e = errno;
		return ff_err_set(err, e == ENOENT ? FF_ENOTFOUND : FF_EINTERNAL,
				  "cannot open %s: %s", root, strerror(e));
	}
	rc = ss_globs_add(&include, opts->include, ',', "include", err);
	if (!rc)
		rc = ss_globs_add(&exclude, opts->exclude, ',', "exclude", err);
	if (!rc)
		rc = load_ignore_file(rootfd, &exclude, rep, err);
	if (rc)
		goto out_close;
	dfd = dup(rootfd);
	if (dfd < 0) {
		rc = ff_err_set(err, FF_EINTERNAL, "cannot read %s: %s", root, strerror(errno));
		goto out;
	}
	rc = walk_dir(&w, dfd, "", 0, include.n == 0);
	if (rc) {
		ff_err_set(err, rc, "out of memory listing %s", root);
		goto out;
	}
	if (files.truncated)
		notice(rep, NULL, "file limit of %d reached: the rest of the tree was not scanned",
		       SS_FILES_MAX);
	rep->stats.files_listed = files.n;
	progress(opts->progress, 0, "scanning %zu files", files.n);

	for (i = 0; i < files.n; i++) {
		unsigned pct;
		int r = read_file(rootfd, files.v[i], max, &buf, &cap, &len);

		if (r == 1) {
			rep->stats.skipped_large++;
		} else if (r < 0) {
			rep->stats.skipped_unreadable++;
			notice(rep, files.v[i], "cannot read: %s", strerror(-r));
		} else if (ss_is_binary(buf, len)) {
			rep->stats.skipped_binary++;
		} else {
			rep->stats.files_scanned++;
			rep->stats.bytes_scanned += len;
			rc = ss_scan_buffer(&mo, files.v[i], buf, len, &rep->findings, err);
			if (rc)
				goto out;
		}
		pct = (unsigned)((i + 1) * 100 / files.n);
		if (pct / 10 > last_decile && i + 1 < files.n) {
			last_decile = pct / 10;
			progress(opts->progress, pct, "scanned %zu/%zu files, %zu findings", i + 1,
				 files.n, rep->findings.n);
		}
	}
	rep->stats.seconds = now_s() - t0;
	if (rep->stats.files_scanned == 0) {
		/* as every built-in static analysis: a success with 0 findings, said so */
		struct ss_notice *nt = notice(rep, NULL, SS_NOTHING_TO_SCAN);
		if (nt)
			nt->note = true;
		progress(opts->progress, 100, SS_NOTHING_TO_SCAN);
	} else {
		progress(opts->progress, 100, "done: %zu files scanned, %zu findings",
			 rep->stats.files_scanned, rep->findings.n);
	}
out:
	free(buf);
	for (i = 0; i < files.n; i++)
		free(files.v[i]);
	free(files.v);
out_close:
	ss_globs_release(&include);
	ss_globs_release(&exclude);
	close(rootfd);
	return rc;
}

/* ff_tarball — directory → tar.gz in memory, and tar files from disk; see ff_tarball.h. */
#include "ff_tarball.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "ff_buf.h"

#define COPY_CHUNK ((size_t)64 * 1024)

/* The output buffer behind archive_write_open. */
static la_ssize_t membuf_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
	(void)a;
	return ff_buf_append(ctx, buf, n) < 0 ? -1 : (la_ssize_t)n;
}

bool ff_tarball_link_inside(const char *entry_path, const char *target)
{
	if (!entry_path || !target || !*target || target[0] == '/')
		return false;

	long depth = 0; /* components of the directory holding the link */
	for (const char *p = entry_path; *p;) {
		const char *slash = strchr(p, '/');
		if (!slash)
			break; /* the last component is the link itself */
		if (slash > p && !(slash - p == 1 && p[0] == '.'))
			depth++;
		p = slash + 1;
	}
	for (const char *p = target; *p;) {
		const char *slash = strchr(p, '/');
		size_t n = slash ? (size_t)(slash - p) : strlen(p);
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			if (--depth < 0)
				return false;
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			depth++;
		}
		p += n;
		if (*p == '/')
			p++;
	}
	return true;
}

const char *ff_tarball_content_type(const void *buf, size_t len)
{
	const unsigned char *b = buf;
	if (len >= 2 && b[0] == 0x1f && b[1] == 0x8b)
		return "application/gzip";
	/* "ustar\0" (POSIX, pax) or "ustar " (GNU) at offset 257 of the first header */
	if (len >= 512 && !memcmp(b + 257, "ustar", 5))
		return "application/x-tar";
	return NULL;
}

static bool is_git(const char *rel)
{
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	return !strcmp(base, ".git");
}

/* One entry to write, collected while walking the tree and written once all are sorted. */
struct item {
	struct archive_entry *e; /* already normalised */
	char *src;		 /* where a regular file's data is read from */
	char *key;		 /* the name as the archive stores it: a directory's ends in '/' */
};

struct items {
	struct item *v;
	size_t n, cap;
};

static void items_release(struct items *l)
{
	for (size_t i = 0; i < l->n; i++) {
		archive_entry_free(l->v[i].e);
		free(l->v[i].src);
		free(l->v[i].key);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

/* Takes a copy of e and src. */
static int items_add(struct items *l, struct archive_entry *e, const char *src)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		struct item *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return FF_ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	const char *name = archive_entry_pathname(e);
	bool dir = archive_entry_filetype(e) == AE_IFDIR;
	struct item it = {archive_entry_clone(e), strdup(src), NULL};
	if (asprintf(&it.key, "%s%s", name, dir ? "/" : "") < 0)
		it.key = NULL;
	if (!it.e || !it.src || !it.key) {
		archive_entry_free(it.e);
		free(it.src);
		free(it.key);
		return FF_ENOMEM;
	}
	l->v[l->n++] = it;
	return 0;
}

/* Byte order of the stored names, not the locale's: the same tree gives the same archive
 * everywhere, and a reader sees the names in order ("a-b" < "a/" < "a/x"). */
static int item_cmp(const void *a, const void *b)
{
	return strcmp(((const struct item *)a)->key, ((const struct item *)b)->key);
}

/* Copies a regular file's data into the archive: exactly the size its header gave, so a
 * file that changes between the walk and now is an error rather than a corrupt entry. The
 * file is opened without following links, as the walk saw a regular file there. */
static int write_file_data(struct archive *w, const struct item *it, char *chunk,
			   struct ff_err *err)
{
	const char *path = archive_entry_pathname(it->e);
	la_int64_t left = archive_entry_size(it->e);
	int rc = 0;
	int fd = open(it->src, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;

	if (fd < 0)
		return ff_err_set(err, FF_EINVAL, "cannot read '%s': %s", path, strerror(errno));
	if (fstat(fd, &sb) || !S_ISREG(sb.st_mode) || sb.st_size != left) {
		rc = ff_err_set(err, FF_EINVAL, "'%s' changed while it was being packed", path);
		goto out;
	}
	while (left > 0) {
		size_t want = left < (la_int64_t)COPY_CHUNK ? (size_t)left : COPY_CHUNK;
		ssize_t n = read(fd, chunk, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = ff_err_set(err, FF_EINVAL, "cannot read '%s': %s", path,
					strerror(errno));
			goto out;
		}
		if (n == 0) {
			rc = ff_err_set(err, FF_EINVAL, "'%s' shrank while it was being packed",
					path);
			goto out;
		}
		if (archive_write_data(w, chunk, (size_t)n) < 0) {
			rc = FF_EINTERNAL; /* the caller says why */
			goto out;
		}
		left -= n;
	}
out:
	close(fd);
	return rc;
}

/* Writes one collected entry: its header and, for a regular file, its data. */
static int write_item(struct archive *w, const struct item *it, const struct ff_buf *m, char *chunk,
		      struct ff_err *err)
{
	const char *path = archive_entry_pathname(it->e);
	int rc;
	if (archive_write_header(w, it->e) < ARCHIVE_WARN)
		goto fail_write;
	if (archive_entry_filetype(it->e) != AE_IFREG || archive_entry_size(it->e) == 0)
		return 0;
	rc = write_file_data(w, it, chunk, err);
	if (rc != FF_EINTERNAL)
		return rc;
fail_write:
	if (m->err == FF_ETOOBIG)
		return ff_err_set(err, FF_ETOOBIG, "the archive grows past %zu bytes at '%s'",
				  m->max, path);
	return ff_err_set(err, FF_EINTERNAL, "cannot archive '%s': %s", path,
			  archive_error_string(w));
}

/* Turns the on-disk entry into what the controller accepts; returns false to skip it. What
 * is kept is only what the analysis needs, fixed where the disk would vary from one checkout
 * to the next (owners, times), so the same tree always packs to the same bytes and digest. */
static bool normalise_entry(struct archive_entry *e, const char *rel, struct ff_tarball_stats *st)
{
	mode_t type = archive_entry_filetype(e);
	if (type == AE_IFLNK) {
		const char *target = archive_entry_symlink(e);
		if (!ff_tarball_link_inside(rel, target)) {
			st->skipped++;
			return false;
		}
		st->symlinks++;
	} else if (type == AE_IFDIR) {
		st->dirs++;
	} else if (type == AE_IFREG) {
		st->files++;
		st->bytes += (uint64_t)archive_entry_size(e);
	} else {
		st->skipped++;
		return false;
	}
	archive_entry_set_pathname(e, rel);
	archive_entry_set_perm(e, archive_entry_perm(e) & 0777);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, NULL);
	archive_entry_set_gname(e, NULL);
	archive_entry_set_mtime(e, 0, 0);
	/* the rest would just enlarge pax headers and leak details of the uploader's machine */
	archive_entry_unset_atime(e);
	archive_entry_unset_ctime(e);
	archive_entry_unset_birthtime(e);
	archive_entry_set_nlink(e, 1);
	archive_entry_set_ino64(e, 0);
	archive_entry_set_dev(e, 0);
	return true;
}

/* Walks the tree under root (rootlen bytes, no trailing '/') into l: every entry kept,
 * normalised, with the path its data is read from. */
static int collect(struct archive *disk, const char *dir, const char *root, size_t rootlen,
		   struct items *l, struct ff_tarball_stats *st, struct ff_err *err)
{
	struct archive_entry *e = archive_entry_new();
	char *relcopy = NULL, *src = NULL;
	int rc = 0;

	if (!e)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	for (;;) {
		archive_entry_clear(e);
		int r = archive_read_next_header2(disk, e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = ff_err_set(err, FF_EINVAL, "cannot read '%s': %s",
					archive_entry_pathname(e) ? archive_entry_pathname(e) : dir,
					archive_error_string(disk));
			goto out;
		}
		const char *path = archive_entry_pathname(e);
		if (!path) {
			rc = ff_err_set(err, FF_EINVAL, "an entry under '%s' has no name", dir);
			goto out;
		}
		if (!strcmp(path, root)) {
			archive_read_disk_descend(disk);
			continue;
		}
		bool under = !strncmp(path, root, rootlen) &&
			     (path[rootlen] == '/' || root[rootlen - 1] == '/');
		const char *rel = under ? path + rootlen : "";
		while (*rel == '/')
			rel++;
		while (rel[0] == '.' && rel[1] == '/')
			rel += 2;
		if (!*rel) {
			rc = ff_err_set(err, FF_EINTERNAL, "entry '%s' is not under '%s'", path,
					root);
			goto out;
		}
		if (is_git(rel))
			continue; /* not descended into */
		/* rel points into e's pathname, which normalise_entry replaces */
		relcopy = strdup(rel);
		src = strdup(path);
		if (!relcopy || !src) {
			rc = ff_err_set(err, FF_ENOMEM, "out of memory");
			goto out;
		}
		if (normalise_entry(e, relcopy, st)) {
			if (items_add(l, e, src)) {
				rc = ff_err_set(err, FF_ENOMEM, "out of memory");
				goto out;
			}
			if (archive_entry_filetype(e) == AE_IFDIR)
				archive_read_disk_descend(disk);
		}
		free(relcopy);
		free(src);
		relcopy = src = NULL;
	}
out:
	free(relcopy);
	free(src);
	archive_entry_free(e);
	return rc;
}

int ff_tarball_dir(const char *dir, size_t max_bytes, void **out, size_t *outlen,
		   struct ff_tarball_stats *st, struct ff_err *err)
{
	struct ff_tarball_stats local = {0};
	struct items items = {0};
	struct ff_buf m;
	struct archive *disk = NULL, *w = NULL;
	char *root = NULL, *chunk = NULL;
	struct stat sb;
	int rc = 0;

	ff_buf_init(&m, max_bytes ? max_bytes : FF_TARBALL_MAX_BYTES);
	if (stat(dir, &sb) || !S_ISDIR(sb.st_mode))
		return ff_err_set(err, FF_EINVAL, "'%s' is not a directory", dir);

	root = strdup(dir);
	chunk = malloc(COPY_CHUNK);
	disk = archive_read_disk_new();
	w = archive_write_new();
	if (!root || !chunk || !disk || !w) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	/* libarchive names entries by appending to the path it was given: "dir/" would give
	 * "dir//x", so strip trailing slashes (but keep "/" itself). */
	size_t rootlen = strlen(root);
	while (rootlen > 1 && root[rootlen - 1] == '/')
		root[--rootlen] = '\0';

	archive_read_disk_set_symlink_hybrid(disk); /* follow dir itself, never links inside */
	archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
						 ARCHIVE_READDISK_NO_FFLAGS |
						 ARCHIVE_READDISK_NO_SPARSE);
	if (archive_read_disk_open(disk, root) != ARCHIVE_OK) {
		rc = ff_err_set(err, FF_EINVAL, "cannot open '%s': %s", dir,
				archive_error_string(disk));
		goto out;
	}
	if ((rc = collect(disk, dir, root, rootlen, &items, &local, err)))
		goto out;
	/* The walk follows readdir order, which differs between file systems and copies of a
	 * tree; sorted, the archive depends on the tree alone. */
	if (items.n) /* an empty tree has no array to sort */
		qsort(items.v, items.n, sizeof(items.v[0]), item_cmp);

	/* No timestamp in the gzip header either ("!timestamp"), for the same reason. Level 1:
	 * on 100 MB of source it packs 4 times as fast as zlib's default (2.5 s, not 10.6 s)
	 * for a fifth more bytes, and the packing, not the sending, is what a scan waits on. */
	if (archive_write_set_format_pax_restricted(w) != ARCHIVE_OK ||
	    archive_write_add_filter_gzip(w) != ARCHIVE_OK ||
	    archive_write_set_filter_option(w, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_set_filter_option(w, "gzip", "compression-level", "1") != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w, 1) != ARCHIVE_OK ||
	    archive_write_open(w, &m, NULL, membuf_write, NULL) != ARCHIVE_OK) {
		rc = ff_err_set(err, FF_EINTERNAL, "cannot start the archive: %s",
				archive_error_string(w));
		goto out;
	}
	for (size_t i = 0; i < items.n; i++)
		if ((rc = write_item(w, &items.v[i], &m, chunk, err)))
			goto out;
	if (archive_write_close(w) != ARCHIVE_OK) {
		rc = m.err == FF_ETOOBIG
			 ? ff_err_set(err, FF_ETOOBIG, "the archive grows past %zu bytes", m.max)
			 : ff_err_set(err, FF_EINTERNAL, "cannot finish the archive: %s",
				      archive_error_string(w));
		goto out;
	}
	char *data = ff_buf_take(&m, outlen);
	if (!data) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	*out = data;
	if (st)
		*st = local;
out:
	items_release(&items);
	if (disk)
		archive_read_free(disk);
	if (w)
		archive_write_free(w);
	ff_buf_release(&m);
	free(chunk);
	free(root);
	return rc;
}

int ff_tarball_load_file(const char *path, size_t max_bytes, void **out, size_t *outlen,
			 const char **content_type, struct ff_err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = ff_file_read(path, max_bytes ? max_bytes : FF_TARBALL_MAX_BYTES, &buf, &len, err);
	if (rc == FF_ENOTFOUND && err)
		err->code = FF_EINVAL; /* to the CLI, a missing file is a bad argument */
	if (rc < 0)
		return rc == FF_ENOTFOUND ? FF_EINVAL : rc;
	const char *ct = ff_tarball_content_type(buf, len);
	if (!ct) {
		free(buf);
		return ff_err_set(err, FF_EINVAL, "'%s' is neither a tar nor a tar.gz file", path);
	}
	*out = buf;
	*outlen = len;
	*content_type = ct;
	return 0;
}

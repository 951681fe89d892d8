/* ff_archive — target archives through libarchive; see ff_archive.h.
 *
 * Uploads are hostile, so one walker reads every entry the way libarchive sees it and refuses
 * anything that could reach outside the tree once extracted: absolute or ".." paths, devices,
 * fifos and sockets, symlinks that climb out (also by climbing out of another symlink),
 * entries stored under a symlink or a file, hardlinks to anything but an earlier file. Sizes
 * are counted on the bytes actually decompressed, so a gzip bomb stops at the limit. The
 * same walker re-packs for the container, so what the engine extracts is exactly what was
 * checked, with names, owners and modes rewritten rather than copied.
 *
 * The input goes through two libarchive readers, so that the decompressed tar passes through
 * our hands before the tar reader sees it: "dec" (the gzip filter under the "raw" format)
 * turns rd's bytes into the tar stream, and feed() hands that to "in" (the tar format alone).
 * feed() counts the stream against max_stream_bytes, and bounds what the tar reader may take
 * within one call: libarchive 3.6.2 reads a chain of pax headers, GNU long names or sparse
 * maps inside one archive_read_next_header(), keeping what they say (xattrs, sparse lists)
 * in memory, and a few MB of gzip can hold gigabytes of them. A single special header over
 * 1 MiB it refuses itself ("special header too large") before allocating it.
 *
 * The tree is checked as entries arrive, from a table of hashes (see "the tree seen so far"),
 * so that memory stays a few MiB even at the limit of entries.
 */
#include "ff_archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ff_buf.h"

#define DEFAULT_MAX_ENTRIES  100000u
#define DEFAULT_MAX_UNPACKED (1ull << 30)
#define MAX_NAME	     4096
/* The symlinks' paths and targets, kept for the walks at the end (see the tree below). */
#define MAX_LINK_BYTES (1u << 20)
/* Room for a link's directory (up to MAX_NAME) and its target (up to MAX_NAME) joined. */
#define WALK_BYTES (2 * MAX_NAME + 2)
#define WALK_DEPTH (MAX_NAME + 2)
#define CHUNK	   65536
#define SHOWN	   120
/* What the tar reader may take in one call beyond a chunk of data: an entry's own headers,
 * pax extended headers, GNU long names and old-style sparse maps, or a 1.0 sparse file's map.
 * Real archives need a few KiB; what libarchive keeps of them stays a small multiple. */
#define MAX_HEADER_BYTES (256u << 10)
#define CALL_BUDGET	 ((uint64_t)MAX_HEADER_BYTES + CHUNK)
/* The tar stream beyond max_unpacked_bytes when max_stream_bytes is 0; see ff_archive.h. */
#define STREAM_SLACK (64ull << 20)

/* K_ABOVE: a directory only implied by the paths below it */
enum kind { K_FILE = 1, K_DIR, K_SYMLINK, K_HARDLINK, K_ABOVE };

/* --- messages ---------------------------------------------------------------------------- */

/* An entry name fit for an error message: bounded, no control characters. */
static const char *shown(const char *name, char out[SHOWN + 4])
{
	size_t i = 0;
	if (!name)
		name = "";
	for (; name[i] && i < SHOWN; i++)
		out[i] = iscntrl((unsigned char)name[i]) ? '?' : name[i];
	if (name[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
	return out;
}

/* libarchive's own message, lowercased at the start to match ours. */
static const char *la_msg(struct archive *a, char out[160])
{
	const char *m = archive_error_string(a);
	snprintf(out, 160, "%s", m && *m ? m : "truncated or damaged data");
	out[0] = (char)tolower((unsigned char)out[0]);
	size_t n = strlen(out);
	if (n && out[n - 1] == '.')
		out[n - 1] = '\0';
	return out;
}

/* --- names ------------------------------------------------------------------------------- */

static bool has_control(const char *s)
{
	for (; *s; s++)
		if (iscntrl((unsigned char)*s))
			return true;
	return false;
}

/* Normalises a stored name into out (MAX_NAME + 1 bytes): no leading "./", no empty or "."
 * components, no trailing slash. An empty result is the archive's root. Returns NULL or why
 * the name is refused. */
static const char *norm_name(const char *raw, char *out, size_t *outlen)
{
	size_t n = 0;
	if (!raw)
		return "has a name that cannot be read";
	if (!*raw)
		return "has an empty name";
	if (strlen(raw) > MAX_NAME)
		return "has a name longer than 4096 bytes";
	if (has_control(raw))
		return "has a control character in its name";
	if (raw[0] == '/')
		return "has an absolute path";
	for (const char *p = raw; *p;) {
		size_t c = strcspn(p, "/");
		if (c == 2 && p[0] == '.' && p[1] == '.')
			return "has a \"..\" component";
		if (c && !(c == 1 && p[0] == '.')) {
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, c);
			n += c;
		}
		p += c;
		while (*p == '/')
			p++;
	}
	out[n] = '\0';
	*outlen = n;
	return NULL;
}

/* --- the tree seen so far ------------------------------------------------------------------ */

/* Each path the archive names, and each directory above one, is one word: 60 bits of a hash of
 * the path, whether anything lies below it, and its kind. The paths themselves are not kept
 * (100000 names of 4 KiB would be 400 MiB): the tree checks are made as entries arrive, and
 * only symlinks' paths and targets stay for the walks at the end. So 100000 entries take 2 MiB.
 *   The hash is a polynomial modulo the prime 2^61 - 1 at a point drawn at random for each
 * archive: two paths of at most 4096 bytes collide with odds under 2^-48, and an upload cannot
 * be made to collide, its author not knowing the point. A path in the table always finds its
 * own slot, so a collision can only refuse a valid archive, or let a hardlink point at a
 * missing file below real directories (see earlier_file). */
#define HASH_P	   ((1ull << 61) - 1)
#define HASH_START 1ull
#define SLOT_KIND  7ull
#define SLOT_BELOW 8ull
#define HASH_KEPT  (~0ull >> 4)

struct table {
	uint64_t *slots; /* 0: free */
	size_t cap, n, max;
	uint64_t point;
	struct ff_buf links; /* each symlink's path and target, NUL-terminated */
};

static uint64_t hash_step(const struct table *t, uint64_t h, unsigned char c)
{
	unsigned __int128 x = (unsigned __int128)h * t->point + c;
	uint64_t r = (uint64_t)(x & HASH_P) + (uint64_t)(x >> 61);
	r = (r & HASH_P) + (r >> 61);
	return r >= HASH_P ? r - HASH_P : r;
}

/* Where a hash starts looking: its bits spread over the low ones, as slots use them. */
static size_t slot_of(const struct table *t, uint64_t h)
{
	h &= HASH_KEPT;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (size_t)h & (t->cap - 1);
}

static enum kind kind_of(uint64_t slot)
{
	return (enum kind)(slot & SLOT_KIND);
}

/* The slot of the path whose hash is h, or NULL. */
static uint64_t *table_find(const struct table *t, uint64_t h)
{
	if (!t->cap)
		return NULL;
	for (size_t i = slot_of(t, h);; i = (i + 1) & (t->cap - 1)) {
		uint64_t x = t->slots[i];
		if (!x)
			return NULL;
		if (x >> 4 == (h & HASH_KEPT))
			return &t->slots[i];
	}
}

static uint64_t *table_put(struct table *t, uint64_t word)
{
	size_t i = slot_of(t, word >> 4);
	while (t->slots[i])
		i = (i + 1) & (t->cap - 1);
	t->slots[i] = word;
	return &t->slots[i];
}

/* Adds the path whose hash is h (not in the table) as kind, into *out. Full past 4/5. */
static int table_add(struct table *t, uint64_t h, enum kind kind, uint64_t **out)
{
	if (t->n >= t->max)
		return FF_ETOOBIG;
	if ((t->n + 1) * 5 > t->cap * 4) {
		struct table g = *t;
		g.cap = t->cap ? t->cap * 2 : 1024;
		if (!(g.slots = calloc(g.cap, sizeof(*g.slots))))
			return FF_ENOMEM;
		for (size_t i = 0; i < t->cap; i++)
			if (t->slots[i])
				table_put(&g, t->slots[i]);
		free(t->slots);
		*t = g;
	}
	t->n++;
	*out = table_put(t, (h & HASH_KEPT) << 4 | (uint64_t)kind);
	return 0;
}

static void table_release(struct table *t)
{
	free(t->slots);
	t->slots = NULL;
	t->cap = t->n = 0;
	ff_buf_release(&t->links);
}

/* --- the walker ---------------------------------------------------------------------------- */

struct walk {
	struct archive *in;
	struct archive *out; /* NULL when only checking */
	struct archive_entry *oe;
	struct ff_buf ob; /* the re-packed archive */
	uint64_t max_entries, max_bytes, max_stream;
	struct ff_archive_info info;
	struct table t;
	char name[MAX_NAME + 1]; /* the current entry, normalised */
	char link[MAX_NAME + 1]; /* its hardlink target, normalised */
	char prev[MAX_NAME + 1]; /* the previous entry, for damage reports */
	char opath[MAX_NAME + 16];
	char olink[MAX_NAME + 16];
	/* symlink walks: the path so far, where each component starts and the hash before
	 * it, so climbing out restores the hash without rehashing */
	char cur[WALK_BYTES];
	size_t mark[WALK_DEPTH];
	uint64_t st[WALK_DEPTH];
	unsigned char chunk[CHUNK];
	struct ff_err *err;
	/* the input (see the top of the file): rd's bytes through dec, the tar through feed() */
	ff_archive_read_fn rd;
	void *rd_ctx;
	bool rd_eof;
	uint64_t rd_bytes;	    /* what rd delivered */
	struct archive *dec;	    /* rd's bytes to the tar stream */
	const unsigned char *piece; /* what dec gave and feed() has not handed on yet */
	size_t piece_left;
	uint64_t fed;	      /* tar stream bytes handed to the tar reader */
	uint64_t call_mark;   /* fed when the current call into the tar reader began */
	bool in_data;	      /* that call reads an entry's data, not a header */
	struct ff_err in_err; /* rd's failure or a limit, which libarchive only sees as EIO */
	uint64_t entry_left;  /* the current file's bytes not read yet (a trailing hole) */
	bool sized;	      /* the current entry is a file: what it yields is held to its size */
	bool copy_data;
	/* streaming re-pack (ff_archive_repack_*): where the walk is, how much of ob the reader
	 * has taken */
	int phase;
	size_t ob_off;
	struct ff_err own_err;
};

/* Walks a symlink's target from its directory, component by component, as the kernel
 * would. Refuses climbing above the root, and (with the whole tree) climbing out of a
 * symlink: "a -> ." and "b -> a/.." each look harmless lexically, yet b reaches the root's
 * parent. */
static int symlink_walk(struct walk *w, const char *linkpath, const char *target, bool tree)
{
	char s1[SHOWN + 4], s2[SHOWN + 4];
	const struct table *t = &w->t;
	size_t curlen = 0, depth = 0;
	uint64_t h = HASH_START;
	const char *dir_end = strrchr(linkpath, '/');
	size_t dirlen = dir_end ? (size_t)(dir_end - linkpath) : 0;

	/* the link's directory, then its target, as one sequence of components */
	for (int part = 0; part < 2; part++) {
		const char *p = part ? target : linkpath;
		const char *end = part ? target + strlen(target) : linkpath + dirlen;
		while (p < end) {
			size_t c = 0;
			while (p + c < end && p[c] != '/')
				c++;
			if (c == 2 && p[0] == '.' && p[1] == '.') {
				if (!depth)
					return ff_err_set(
					    w->err, FF_EVALIDATE,
					    "symlink \"%s\" points outside the archive",
					    shown(linkpath, s1));
				const uint64_t *x = tree ? table_find(t, h) : NULL;
				w->cur[curlen] = '\0';
				if (x && kind_of(*x) == K_SYMLINK)
					return ff_err_set(
					    w->err, FF_EVALIDATE,
					    "symlink \"%s\" climbs out of symlink \"%s\"",
					    shown(linkpath, s1), shown(w->cur, s2));
				depth--;
				curlen = w->mark[depth];
				h = w->st[depth];
			} else if (c && !(c == 1 && p[0] == '.')) {
				if (depth == WALK_DEPTH || curlen + 1 + c >= WALK_BYTES)
					return ff_err_set(w->err, FF_EVALIDATE,
							  "symlink \"%s\" has a target too deep",
							  shown(linkpath, s1));
				w->mark[depth] = curlen;
				w->st[depth] = h;
				depth++;
				if (curlen) {
					w->cur[curlen++] = '/';
					h = hash_step(t, h, '/');
				}
				for (size_t i = 0; i < c; i++)
					h = hash_step(t, h, (unsigned char)p[i]);
				memcpy(w->cur + curlen, p, c);
				curlen += c;
			}
			p += c;
			while (p < end && *p == '/')
				p++;
		}
	}
	return 0;
}

/* What only the whole archive can tell: no symlink climbing out of another. */
static int tree_check(struct walk *w)
{
	if (!w->t.links.len)
		return 0;
	const char *p = w->t.links.data, *end = p + w->t.links.len;
	while (p < end) {
		const char *target = p + strlen(p) + 1;
		int rc = symlink_walk(w, p, target, true);
		if (rc < 0)
			return rc;
		p = target + strlen(target) + 1;
	}
	return 0;
}

static const char *kind_name(enum kind kind)
{
	return kind == K_SYMLINK ? "symlink" : kind == K_DIR ? "directory" : "file";
}

/* Records the current entry (w->name, len bytes) in the tree, and the directories above it.
 * Refuses an entry under a symlink or a file, and the other way round (the extractor would
 * follow the link, or fail), whichever comes first; and a symlink sharing its path with
 * another entry (a later duplicate replaces the earlier one on extraction: harmless between
 * files and directories, a trick when a symlink is involved). */
static int remember(struct walk *w, size_t len, enum kind kind, const char *target)
{
	char s1[SHOWN + 4], s2[SHOWN + 4];
	struct table *t = &w->t;
	uint64_t h = HASH_START, *x;
	int rc;
	for (size_t j = 0; j < len; j++) {
		if (w->name[j] == '/') {
			if ((x = table_find(t, h))) {
				enum kind up = kind_of(*x);
				if (up != K_DIR && up != K_ABOVE) {
					memcpy(w->cur, w->name, j);
					w->cur[j] = '\0';
					return ff_err_set(w->err, FF_EVALIDATE,
							  "entry \"%s\" is inside %s \"%s\"",
							  shown(w->name, s1), kind_name(up),
							  shown(w->cur, s2));
				}
			} else if ((rc = table_add(t, h, K_ABOVE, &x)) < 0) {
				goto out_full;
			}
			*x |= SLOT_BELOW;
		}
		h = hash_step(t, h, (unsigned char)w->name[j]);
	}
	if ((x = table_find(t, h))) {
		if ((*x & SLOT_BELOW) && kind != K_DIR)
			return ff_err_set(w->err, FF_EVALIDATE,
					  "%s \"%s\" comes after entries inside it",
					  kind_name(kind), shown(w->name, s1));
		if (kind_of(*x) == K_SYMLINK || kind == K_SYMLINK)
			return ff_err_set(w->err, FF_EVALIDATE,
					  "entry \"%s\" appears twice, once as a symlink",
					  shown(w->name, s1));
		*x = (*x & ~SLOT_KIND) | (uint64_t)kind;
		return 0;
	}
	if ((rc = table_add(t, h, kind, &x)) < 0)
		goto out_full;
	if (kind == K_SYMLINK && (ff_buf_append(&t->links, w->name, len + 1) < 0 ||
				  ff_buf_append(&t->links, target, strlen(target) + 1) < 0)) {
		if (t->links.err == FF_ENOMEM)
			return ff_err_set(w->err, FF_ENOMEM, "out of memory checking the archive");
		return ff_err_set(w->err, FF_ETOOBIG,
				  "the archive's symlinks take more than %u KiB of names",
				  MAX_LINK_BYTES >> 10);
	}
	return 0;
out_full:
	if (rc == FF_ENOMEM)
		return ff_err_set(w->err, FF_ENOMEM, "out of memory checking the archive");
	return ff_err_set(w->err, FF_ETOOBIG,
			  "the archive names more than %zu paths, the directories above them "
			  "included",
			  t->max);
}

static int out_fail(struct walk *w)
{
	char m[160];
	if (w->ob.err == FF_ETOOBIG)
		return ff_err_set(w->err, FF_ETOOBIG, "the re-packed archive is too large");
	return ff_err_set(w->err, FF_EINTERNAL, "cannot write the re-packed archive: %s",
			  la_msg(w->out, m));
}

static int out_entry(struct walk *w, const char *path, enum kind kind, int perm, int64_t size,
		     time_t mtime, const char *symlink, const char *hardlink)
{
	struct archive_entry *e = archive_entry_clear(w->oe);
	archive_entry_set_pathname(e, path);
	archive_entry_set_filetype(e, kind == K_DIR	  ? AE_IFDIR
				      : kind == K_SYMLINK ? AE_IFLNK
							  : AE_IFREG);
	archive_entry_set_perm(e, (mode_t)perm);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_mtime(e, mtime > 0 ? mtime : 0, 0);
	archive_entry_set_size(e, size);
	if (symlink)
		archive_entry_set_symlink(e, symlink);
	if (hardlink)
		archive_entry_set_hardlink(e, hardlink);
	/* ARCHIVE_WARN: a name not convertible to UTF-8 goes out as binary, as read */
	if (archive_write_header(w->out, e) < ARCHIVE_WARN)
		return out_fail(w);
	return 0;
}

static int repack_entry(struct walk *w, struct archive_entry *e, enum kind kind)
{
	int perm = (archive_entry_perm(e) & 0111) ? 0755 : 0644;
	const char *symlink = NULL, *hardlink = NULL;
	int64_t size = 0;

	snprintf(w->opath, sizeof(w->opath), "target/%s%s", w->name, kind == K_DIR ? "/" : "");
	switch (kind) {
	case K_DIR: perm = 0755; break;
	case K_SYMLINK:
		perm = 0777;
		symlink = archive_entry_symlink(e);
		break;
	case K_HARDLINK:
		snprintf(w->olink, sizeof(w->olink), "target/%s", w->link);
		hardlink = w->olink;
		break;
	case K_FILE: size = archive_entry_size(e); break;
	case K_ABOVE: break; /* never an entry's own kind */
	}
	return out_entry(w, w->opath, kind, perm, size, archive_entry_mtime(e), symlink, hardlink);
}

/* The input's own failure (rd's error or a limit), which the tar reader reported only as
 * EIO: into err, and its code; 0 when the failure is the archive's. */
static int in_failed(struct walk *w)
{
	if (w->in_err.code >= 0)
		return 0;
	if (w->err)
		*w->err = w->in_err;
	return w->in_err.code;
}

/* Reads one chunk of the entry's data (1 read, 0 at its end), counting every byte against
 * the limit as it comes out of the decompressor, and copies a regular file's data to the
 * re-packed archive. A sparse file's holes come out as zeros through the one chunk buffer:
 * nothing of an entry is ever held whole. */
static int read_chunk(struct walk *w)
{
	char s1[SHOWN + 4], m[160];
	w->call_mark = w->fed;
	w->in_data = true;
	la_ssize_t r = archive_read_data(w->in, w->chunk, sizeof(w->chunk));
	int rc = in_failed(w); /* even when libarchive went on without what it asked for */
	if (rc < 0)
		return rc;
	if (r < 0) {
		return ff_err_set(w->err, FF_EVALIDATE, "entry \"%s\" is damaged: %s",
				  shown(w->name, s1), la_msg(w->in, m));
	}
	uint64_t n = (uint64_t)r;
	if (n == 0 && w->entry_left > 0) {
		/* a sparse file's trailing hole: libarchive's reader stops at its last data
		 * block. It counts all the same; the re-pack writes it out as zeros a chunk a
		 * step, as the writer would pad the rest in one go */
		n = w->entry_left;
		if (w->copy_data) {
			n = n < sizeof(w->chunk) ? n : sizeof(w->chunk);
			memset(w->chunk, 0, (size_t)n);
		}
	} else if (w->sized && n > w->entry_left) {
		/* past the declared size: the zeros libarchive pads a hole with after it said
		 * the data ended (an all-hole file), counted already */
		n = w->entry_left;
		if (n == 0)
			return 1;
	}
	if (n == 0)
		return 0;
	w->info.unpacked_bytes += n;
	if (w->info.unpacked_bytes > w->max_bytes)
		return ff_err_set(w->err, FF_ETOOBIG,
				  "the archive unpacks to more than %" PRIu64
				  " bytes (at entry \"%s\")",
				  w->max_bytes, shown(w->name, s1));
	if (w->copy_data && archive_write_data(w->out, w->chunk, (size_t)n) < 0)
		return out_fail(w);
	w->entry_left = n < w->entry_left ? w->entry_left - n : 0;
	return 1;
}

static int read_data(struct walk *w)
{
	int rc;
	while ((rc = read_chunk(w)) > 0)
		;
	return rc;
}

static int entry_kind(struct walk *w, struct archive_entry *e, const char *raw, enum kind *kind)
{
	char s1[SHOWN + 4];
	const char *what;
	if (archive_entry_hardlink(e)) {
		*kind = K_HARDLINK;
		return 0;
	}
	switch (archive_entry_filetype(e)) {
	case AE_IFREG: *kind = K_FILE; return 0;
	case AE_IFDIR: *kind = K_DIR; return 0;
	case AE_IFLNK: *kind = K_SYMLINK; return 0;
	case AE_IFCHR:
	case AE_IFBLK: what = "is a device"; break;
	case AE_IFIFO: what = "is a fifo"; break;
	case AE_IFSOCK: what = "is a socket"; break;
	default: what = "has an unsupported type"; break;
	}
	return ff_err_set(w->err, FF_EVALIDATE, "entry \"%s\" %s", shown(raw, s1), what);
}

/* Whether w->link (len bytes) is a file the tree has, with only directories above it. The
 * directories are checked too so that a hash collision could at worst point a hardlink at a
 * missing file, never through a symlink. */
static bool earlier_file(struct walk *w, size_t len)
{
	const struct table *t = &w->t;
	uint64_t h = HASH_START;
	for (size_t j = 0; j < len; j++) {
		if (w->link[j] == '/') {
			const uint64_t *up = table_find(t, h);
			if (!up || (kind_of(*up) != K_DIR && kind_of(*up) != K_ABOVE))
				return false;
		}
		h = hash_step(t, h, (unsigned char)w->link[j]);
	}
	const uint64_t *x = table_find(t, h);
	return x && (kind_of(*x) == K_FILE || kind_of(*x) == K_HARDLINK);
}

static int link_check(struct walk *w, struct archive_entry *e, enum kind kind, size_t len)
{
	char s1[SHOWN + 4], s2[SHOWN + 4];
	if (kind == K_SYMLINK) {
		const char *target = archive_entry_symlink(e);
		if (!target || !*target)
			return ff_err_set(w->err, FF_EVALIDATE,
					  "symlink \"%s\" has an empty target", shown(w->name, s1));
		if (strlen(target) > MAX_NAME || has_control(target))
			return ff_err_set(w->err, FF_EVALIDATE,
					  "symlink \"%s\" has an unacceptable target",
					  shown(w->name, s1));
		if (target[0] == '/')
			return ff_err_set(w->err, FF_EVALIDATE,
					  "symlink \"%s\" points to an absolute path",
					  shown(w->name, s1));
		/* the climb-out-of-a-symlink part waits for the whole tree (tree_check) */
		return symlink_walk(w, w->name, target, false);
	}
	if (kind == K_HARDLINK) {
		const char *raw = archive_entry_hardlink(e);
		size_t llen = 0;
		const char *why = norm_name(raw, w->link, &llen);
		if (why || !earlier_file(w, llen) ||
		    (llen == len && memcmp(w->link, w->name, len) == 0))
			return ff_err_set(
			    w->err, FF_EVALIDATE,
			    "hardlink \"%s\" points to \"%s\", which is not an earlier "
			    "file in the archive",
			    shown(w->name, s1), shown(raw, s2));
	}
	return 0;
}

static int walk_entry(struct walk *w, struct archive_entry *e)
{
	char s1[SHOWN + 4];
	const char *raw = archive_entry_pathname(e);
	size_t len = 0;
	enum kind kind;
	int rc;

	if (++w->info.entries > w->max_entries)
		return ff_err_set(w->err, FF_ETOOBIG,
				  "the archive has more than %" PRIu64 " entries", w->max_entries);
	const char *why = norm_name(raw, w->name, &len);
	if (why)
		return ff_err_set(w->err, FF_EVALIDATE, "entry \"%s\" %s", shown(raw, s1), why);
	if ((rc = entry_kind(w, e, raw, &kind)) < 0)
		return rc;
	if (!len && kind != K_DIR)
		return ff_err_set(w->err, FF_EVALIDATE, "entry \"%s\" has an empty name",
				  shown(raw, s1));
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 &&
	    (uint64_t)archive_entry_size(e) > w->max_bytes - w->info.unpacked_bytes)
		return ff_err_set(w->err, FF_ETOOBIG,
				  "entry \"%s\" would unpack past the limit of %" PRIu64 " bytes",
				  shown(raw, s1), w->max_bytes);
	if (len) { /* an empty name is the root directory ("./"), which the tree has anyway */
		if ((rc = link_check(w, e, kind, len)) < 0)
			return rc;
		if ((rc = remember(w, len, kind,
				   kind == K_SYMLINK ? archive_entry_symlink(e) : NULL)) < 0)
			return rc;
		if (w->out && (rc = repack_entry(w, e, kind)) < 0)
			return rc;
	}
	if (kind == K_FILE)
		w->info.files++;
	w->copy_data = w->out && len && kind == K_FILE;
	w->entry_left =
	    kind == K_FILE && archive_entry_size(e) > 0 ? (uint64_t)archive_entry_size(e) : 0;
	w->sized = kind == K_FILE;
	memcpy(w->prev, w->name, len + 1);
	return 0;
}

static int next_header(struct walk *w, struct archive_entry **e, bool first)
{
	char s1[SHOWN + 4], m[160];
	w->call_mark = w->fed;
	w->in_data = false;
	int r = archive_read_next_header(w->in, e);
	/* libarchive ignores a failed read of the second end-of-archive block */
	int rc = in_failed(w);
	if (rc < 0)
		return rc;
	/* ARCHIVE_WARN: a name not convertible to this locale, kept as stored */
	if (r == ARCHIVE_OK || r == ARCHIVE_WARN)
		return 1;
	if (r == ARCHIVE_EOF)
		return 0;
	if (first)
		return ff_err_set(w->err, FF_EVALIDATE, "not a valid tar archive: %s",
				  la_msg(w->in, m));
	return ff_err_set(w->err, FF_EVALIDATE, "the archive is damaged after entry \"%s\": %s",
			  shown(w->prev, s1), la_msg(w->in, m));
}

static la_ssize_t ob_write(struct archive *a, void *ctx, const void *buf, size_t n)
{
	(void)a;
	return ff_buf_append(ctx, buf, n) < 0 ? -1 : (la_ssize_t)n;
}

static int open_out(struct walk *w, uint64_t max)
{
	ff_buf_init(&w->ob, max > SIZE_MAX ? SIZE_MAX : (size_t)max);
	w->out = archive_write_new();
	w->oe = archive_entry_new();
	if (!w->out || !w->oe)
		return ff_err_set(w->err, FF_ENOMEM, "out of memory re-packing the archive");
	/* pax only where ustar cannot say it (long names, big sizes) */
	if (archive_write_set_format_pax_restricted(w->out) != ARCHIVE_OK ||
	    archive_write_add_filter_none(w->out) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->out, 1) != ARCHIVE_OK ||
	    archive_write_open2(w->out, &w->ob, NULL, ob_write, NULL, NULL) != ARCHIVE_OK)
		return out_fail(w);
	return out_entry(w, "target/", K_DIR, 0755, 0, 0, NULL, NULL);
}

/* --- the input: rd's bytes, decompressed, fed to the tar reader ----------------------------- */

/* dec's read callback: rd's pieces as they come. */
static la_ssize_t rd_read(struct archive *a, void *ctx, const void **buf)
{
	struct walk *w = ctx;
	if (w->in_err.code < 0 || w->rd_eof) {
		*buf = NULL;
		return w->rd_eof ? 0 : -1;
	}
	long n = w->rd(w->rd_ctx, buf, &w->in_err);
	if (n < 0) {
		if (w->in_err.code >= 0)
			ff_err_set(&w->in_err, (int)n, "reading the archive failed");
		archive_set_error(a, EIO, "%s", w->in_err.msg);
		return -1;
	}
	w->rd_eof = n == 0;
	w->rd_bytes += (uint64_t)n;
	return (la_ssize_t)n;
}

/* Why feed() stops the tar reader, into e. */
static int over_limit(struct walk *w, struct ff_err *e)
{
	char s1[SHOWN + 4];
	if (w->fed >= w->max_stream)
		return ff_err_set(e, FF_ETOOBIG,
				  "the archive decompresses to more than %" PRIu64 " bytes",
				  w->max_stream);
	if (w->in_data)
		return ff_err_set(e, FF_ETOOBIG,
				  "entry \"%s\" has a sparse map of more than %u KiB",
				  shown(w->name, s1), MAX_HEADER_BYTES >> 10);
	if (w->info.entries)
		return ff_err_set(e, FF_ETOOBIG,
				  "the headers of the entry after \"%s\" take more than %u KiB",
				  shown(w->prev, s1), MAX_HEADER_BYTES >> 10);
	return ff_err_set(e, FF_ETOOBIG,
			  "the headers of the archive's first entry take more than %u KiB",
			  MAX_HEADER_BYTES >> 10);
}

/* The tar reader's read callback: the decompressed stream in pieces of at most a chunk,
 * never past max_stream bytes in all nor past CALL_BUDGET within one call. A piece stays
 * valid until the next call, as dec's block does. */
static la_ssize_t feed(struct archive *a, void *ctx, const void **buf)
{
	struct walk *w = ctx;
	char m[160];
	*buf = NULL;
	if (w->in_err.code < 0)
		return -1;
	if (!w->piece_left) {
		const void *p;
		size_t n;
		la_int64_t off;
		int r = archive_read_data_block(w->dec, &p, &n, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN) {
			if (w->in_err.code < 0)
				archive_set_error(a, EIO, "%s", w->in_err.msg);
			else /* damaged compressed data: the walker names the entry */
				archive_set_error(a, EINVAL, "%s", la_msg(w->dec, m));
			return -1;
		}
		w->piece = p;
		w->piece_left = n;
		if (!n)
			return 0;
	}
	uint64_t n = w->piece_left < CHUNK ? w->piece_left : CHUNK;
	uint64_t used = w->fed - w->call_mark;
	if (n > w->max_stream - w->fed)
		n = w->max_stream - w->fed;
	if (n > CALL_BUDGET - used)
		n = CALL_BUDGET - used;
	if (!n) {
		over_limit(w, &w->in_err);
		archive_set_error(a, EIO, "%s", w->in_err.msg);
		return -1;
	}
	*buf = w->piece;
	w->piece += n;
	w->piece_left -= (size_t)n;
	w->fed += n;
	return (la_ssize_t)n;
}

/* Opens the input: dec on rd, then the tar reader on feed(). Only the tar formats: the
 * tar reader has no filter (so nothing but dec's gzip decompresses) and libarchive's "raw"
 * and "empty" formats, which would accept anything at all, serve dec alone. */
static int open_input(struct walk *w)
{
	struct archive_entry *e;
	char m[160];
	int rc;
	w->dec = archive_read_new();
	w->in = archive_read_new();
	if (!w->dec || !w->in)
		return ff_err_set(w->err, FF_ENOMEM, "out of memory opening the archive");
	/* ARCHIVE_WARN from the gzip filter would mean an external gzip program: refused */
	if (archive_read_support_filter_gzip(w->dec) != ARCHIVE_OK ||
	    archive_read_support_format_raw(w->dec) != ARCHIVE_OK ||
	    archive_read_support_format_tar(w->in) != ARCHIVE_OK)
		return ff_err_set(w->err, FF_EINTERNAL, "libarchive cannot read tar: %s",
				  la_msg(w->dec, m));
	if (archive_read_open(w->dec, w, NULL, rd_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(w->dec, &e) != ARCHIVE_OK) {
		if ((rc = in_failed(w)) < 0)
			return rc;
		if (!w->rd_bytes)
			return ff_err_set(w->err, FF_EVALIDATE,
					  "not a tar archive: the input is empty");
		return ff_err_set(w->err, FF_EVALIDATE, "not a tar or tar.gz archive: %s",
				  la_msg(w->dec, m));
	}
	/* gzip inside gzip multiplies a bomb's ratio and is no format we take */
	if (archive_filter_count(w->dec) > 2)
		return ff_err_set(w->err, FF_EVALIDATE,
				  "not a tar or tar.gz archive: nested compression");
	w->call_mark = 0;
	if (archive_read_open(w->in, w, NULL, feed, NULL) != ARCHIVE_OK) {
		if ((rc = in_failed(w)) < 0)
			return rc;
		return ff_err_set(w->err, FF_EVALIDATE, "not a tar or tar.gz archive: %s",
				  la_msg(w->in, m));
	}
	return 0;
}

/* Reads what follows the tar's end-of-archive blocks up to rd's end (record padding, the
 * gzip trailer), so that rd is read whole when the archive passes (its caller may be storing
 * what it gives) and a damaged trailer or rd's failure at the very end still fails. */
static int drain_input(struct walk *w)
{
	char m[160];
	int rc;
	for (;;) {
		const void *p;
		size_t n;
		la_int64_t off;
		if ((rc = in_failed(w)) < 0)
			return rc;
		if (w->piece_left > w->max_stream - w->fed)
			return over_limit(w, w->err);
		w->fed += w->piece_left;
		w->piece_left = 0;
		int r = archive_read_data_block(w->dec, &p, &n, &off);
		if (r == ARCHIVE_EOF)
			return in_failed(w);
		if (r < ARCHIVE_WARN) {
			if ((rc = in_failed(w)) < 0)
				return rc;
			return ff_err_set(w->err, FF_EVALIDATE,
					  "the archive is damaged after its end: %s",
					  la_msg(w->dec, m));
		}
		w->piece_left = n;
	}
}

/* Checks one archive; with the re-pack's steps below, the single place that reads uploads. */
static int check_walk(struct walk *w)
{
	struct archive_entry *e;
	bool first = true;
	int rc;

	if ((rc = open_input(w)) < 0)
		return rc;
	while ((rc = next_header(w, &e, first)) > 0) {
		first = false;
		if ((rc = walk_entry(w, e)) < 0 || (rc = read_data(w)) < 0)
			return rc;
	}
	if (rc < 0 || (rc = drain_input(w)) < 0)
		return rc;
	return tree_check(w);
}

static struct walk *walk_new(const struct ff_archive_limits *lim, struct ff_err *err)
{
	struct walk *w = calloc(1, sizeof(*w));
	if (!w) {
		ff_err_set(err, FF_ENOMEM, "out of memory checking the archive");
		return NULL;
	}
	w->err = err;
	w->max_entries = lim && lim->max_entries ? lim->max_entries : DEFAULT_MAX_ENTRIES;
	w->max_bytes =
	    lim && lim->max_unpacked_bytes ? lim->max_unpacked_bytes : DEFAULT_MAX_UNPACKED;
	w->max_stream = lim && lim->max_stream_bytes		   ? lim->max_stream_bytes
			: w->max_bytes > UINT64_MAX - STREAM_SLACK ? UINT64_MAX
								   : w->max_bytes + STREAM_SLACK;
	/* the entries and as many directories above them */
	w->t.max = w->max_entries > SIZE_MAX / 16 ? SIZE_MAX / 8 : (size_t)w->max_entries * 2;
	ff_buf_init(&w->t.links, MAX_LINK_BYTES);
	if (getrandom(&w->t.point, sizeof(w->t.point), 0) != sizeof(w->t.point)) {
		ff_err_set(err, FF_EINTERNAL, "no random numbers to check the archive with");
		free(w);
		return NULL;
	}
	w->t.point = w->t.point % (HASH_P - 2) + 2;
	return w;
}

static void walk_free(struct walk *w)
{
	if (!w)
		return;
	if (w->in)
		archive_read_free(w->in);
	if (w->dec)
		archive_read_free(w->dec);
	if (w->out)
		archive_write_free(w->out);
	if (w->oe)
		archive_entry_free(w->oe);
	ff_buf_release(&w->ob);
	table_release(&w->t);
	free(w);
}

int ff_archive_check_stream(ff_archive_read_fn rd, void *ctx, const struct ff_archive_limits *lim,
			    struct ff_archive_info *info, struct ff_err *err)
{
	struct walk *w = walk_new(lim, err);
	if (!w)
		return err ? err->code : FF_ENOMEM;
	w->rd = rd;
	w->rd_ctx = ctx;
	int rc = check_walk(w);
	if (rc == 0 && info)
		*info = w->info;
	walk_free(w);
	return rc;
}

struct mem_src {
	const void *buf;
	size_t len;
	bool done;
};

static long mem_read(void *ctx, const void **buf, struct ff_err *err)
{
	(void)err;
	struct mem_src *m = ctx;
	*buf = m->buf;
	if (m->done || !m->buf)
		return 0;
	m->done = true;
	return (long)m->len;
}

int ff_archive_check(const void *buf, size_t len, const struct ff_archive_limits *lim,
		     struct ff_archive_info *info, struct ff_err *err)
{
	struct mem_src src = {buf, len, false};
	return ff_archive_check_stream(mem_read, &src, lim, info, err);
}

/* --- the streaming re-pack ------------------------------------------------------------------ */

#define STREAM_OB_MAX (1u << 20) /* one step writes a header or one chunk: far less */

enum phase { PH_START, PH_HEADER, PH_DATA, PH_FINISH, PH_DONE, PH_FAILED };

struct ff_archive_repack {
	struct walk *w;
	bool first;
};

/* One step of the walk: a header with its checks, or one chunk of data, or the end. */
static int repack_step(struct ff_archive_repack *r)
{
	struct walk *w = r->w;
	struct archive_entry *e;
	int rc;
	switch (w->phase) {
	case PH_START:
		if ((rc = open_out(w, STREAM_OB_MAX)) < 0 || (rc = open_input(w)) < 0)
			return rc;
		w->phase = PH_HEADER;
		return 0;
	case PH_HEADER:
		if ((rc = next_header(w, &e, r->first)) < 0)
			return rc;
		if (rc == 0) {
			w->phase = PH_FINISH;
			return 0;
		}
		r->first = false;
		if ((rc = walk_entry(w, e)) < 0)
			return rc;
		w->phase = PH_DATA;
		return 0;
	case PH_DATA:
		rc = read_chunk(w);
		if (rc == 0)
			w->phase = PH_HEADER;
		return rc < 0 ? rc : 0;
	case PH_FINISH:
		if ((rc = drain_input(w)) < 0 || (rc = tree_check(w)) < 0)
			return rc;
		if ((rc = out_entry(w, "results/", K_DIR, 01777, 0, 0, NULL, NULL)) < 0)
			return rc;
		if (archive_write_close(w->out) != ARCHIVE_OK)
			return out_fail(w);
		w->phase = PH_DONE;
		return 0;
	default: return 0;
	}
}

int ff_archive_repack_open(ff_archive_read_fn rd, void *ctx, struct ff_archive_repack **out,
			   struct ff_err *err)
{
	struct ff_archive_repack *r = calloc(1, sizeof(*r));
	if (!r)
		return ff_err_set(err, FF_ENOMEM, "out of memory re-packing the archive");
	if (!(r->w = walk_new(NULL, err))) {
		free(r);
		return err ? err->code : FF_ENOMEM;
	}
	r->w->err = &r->w->own_err;
	r->w->rd = rd;
	r->w->rd_ctx = ctx;
	r->w->phase = PH_START;
	r->first = true;
	*out = r;
	return 0;
}

long ff_archive_repack_read(struct ff_archive_repack *r, void *buf, size_t n)
{
	struct walk *w = r->w;
	if (w->phase == PH_FAILED)
		return w->own_err.code;
	while (w->ob.len == w->ob_off && w->phase != PH_DONE) {
		w->ob.len = w->ob_off = 0;
		int rc = repack_step(r);
		if (rc < 0) {
			w->phase = PH_FAILED;
			return rc;
		}
	}
	size_t k = w->ob.len - w->ob_off < n ? w->ob.len - w->ob_off : n;
	if (k)
		memcpy(buf, w->ob.data + w->ob_off, k);
	w->ob_off += k;
	return (long)k;
}

const struct ff_err *ff_archive_repack_error(const struct ff_archive_repack *r)
{
	return &r->w->own_err;
}

uint64_t ff_archive_repack_unpacked(const struct ff_archive_repack *r)
{
	return r->w->info.unpacked_bytes;
}

void ff_archive_repack_free(struct ff_archive_repack *r)
{
	if (!r)
		return;
	walk_free(r->w);
	free(r);
}

int ff_archive_repack_for_container(const void *buf, size_t len, void **out, size_t *outlen,
				    struct ff_err *err)
{
	struct mem_src src = {buf, len, false};
	struct ff_archive_repack *r;
	struct ff_buf ob;
	char chunk[CHUNK];
	long n;
	if (!buf || !len)
		return ff_err_set(err, FF_EVALIDATE, "not a tar archive: the input is empty");
	int rc = ff_archive_repack_open(mem_read, &src, &r, err);
	if (rc < 0)
		return rc;
	ff_buf_init(&ob, SIZE_MAX);
	while ((n = ff_archive_repack_read(r, chunk, sizeof(chunk))) > 0)
		if (ff_buf_append(&ob, chunk, (size_t)n) < 0) {
			n = ff_err_set(err, FF_ENOMEM, "out of memory re-packing the archive");
			break;
		}
	if (n < 0 && ff_archive_repack_error(r)->code == (int)n)
		*err = *ff_archive_repack_error(r);
	rc = (int)n;
	if (rc == 0) {
		char *p = ff_buf_take(&ob, outlen);
		if (p)
			*out = p;
		else
			rc = ff_err_set(err, FF_ENOMEM, "out of memory re-packing the archive");
	}
	ff_buf_release(&ob);
	ff_archive_repack_free(r);
	return rc;
}

/* --- streaming what the engine returns ------------------------------------------------------ */

int ff_archive_stream_files(int fd, uint64_t max_total, const struct ff_archive_file_sink *s,
			    struct ff_err *err)
{
	char s1[SHOWN + 4], m[160];
	char *norm = malloc(MAX_NAME + 1);
	unsigned char *chunk = malloc(CHUNK);
	struct archive_entry *e;
	struct archive *a = archive_read_new();
	uint64_t entries = 0, total = 0;
	int rc = 0, r;

	if (!norm || !chunk || !a) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory reading the archive");
		goto out;
	}
	if (archive_read_support_format_tar(a) != ARCHIVE_OK ||
	    archive_read_open_fd(a, fd, CHUNK) != ARCHIVE_OK) {
		rc = ff_err_set(err, FF_EVALIDATE, "not a tar archive: %s", la_msg(a, m));
		goto out;
	}
	while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		const char *path = archive_entry_pathname(e);
		size_t nlen;
		const char *why = norm_name(path, norm, &nlen);
		if (++entries > DEFAULT_MAX_ENTRIES) {
			rc = ff_err_set(err, FF_ETOOBIG, "the archive has more than %u entries",
					DEFAULT_MAX_ENTRIES);
			goto out;
		}
		if (why) {
			rc = ff_err_set(err, FF_EVALIDATE, "entry \"%s\" %s", shown(path, s1), why);
			goto out;
		}
		/* links are entries, never followed: only regular files' own bytes are read */
		if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e))
			continue;
		int64_t size = archive_entry_size(e);
		if (size < 0 || !archive_entry_size_is_set(e)) {
			rc = ff_err_set(err, FF_EVALIDATE, "entry \"%s\" has no size",
					shown(path, s1));
			goto out;
		}
		rc = s->begin(s->ctx, norm, (uint64_t)size);
		if (rc < 0)
			goto out;
		if (rc == 0)
			continue;
		la_ssize_t n;
		while ((n = archive_read_data(a, chunk, CHUNK)) > 0) {
			total += (uint64_t)n;
			if (total > max_total) {
				rc = ff_err_set(err, FF_ETOOBIG,
						"the files unpack to more than %" PRIu64 " bytes",
						max_total);
				goto out;
			}
			if ((rc = s->data(s->ctx, chunk, (size_t)n)) < 0)
				goto out;
		}
		if (n < 0) {
			rc = ff_err_set(err, FF_EVALIDATE, "entry \"%s\" is damaged: %s",
					shown(path, s1), la_msg(a, m));
			goto out;
		}
		if ((rc = s->end(s->ctx)) < 0)
			goto out;
	}
	rc = 0;
	if (r != ARCHIVE_EOF)
		rc = ff_err_set(err, FF_EVALIDATE, "not a valid tar archive: %s", la_msg(a, m));
out:
	free(norm);
	free(chunk);
	if (a)
		archive_read_free(a);
	return rc;
}

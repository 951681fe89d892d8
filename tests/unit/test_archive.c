/* test_archive — target archives: hostile uploads refused, valid ones accepted, whole or in
 * pieces of any size, bombs refused early in bounded memory, the re-pack for the container
 * read back, and the walk over the engine's tar. Every archive is built here with
 * libarchive's writer (or patched, or written by hand where the writer would not go). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>

#include "ff_archive.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

enum { F_NONE, F_GZIP, F_BZIP2, F_GZIP_TWICE };
enum { FMT_PAX, FMT_USTAR };

struct ent {
	char type; /* f file, d dir, l symlink, h hardlink, c char device, p fifo; 0 ends */
	const char *path;
	const char *link; /* symlink or hardlink target; a file's content */
	int mode;	  /* 0: 0644 for files, 0755 for directories */
	size_t zeros;	  /* a file of this many zero bytes instead */
	bool noise;	  /* ...or of that many pseudo-random bytes, which gzip cannot shrink */
	int64_t uid;
};

static unsigned char *build_fmt(const struct ent *e, int filter, int fmt, size_t *len)
{
	size_t cap = 1 << 16;
	for (const struct ent *x = e; x->type; x++)
		cap += 2048 + x->zeros + (x->link ? strlen(x->link) : 0) + strlen(x->path) * 2;
	unsigned char *buf = malloc(cap);
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	assert_non_null(buf);
	assert_int_equal(fmt == FMT_PAX ? archive_write_set_format_pax(a)
					: archive_write_set_format_ustar(a),
			 ARCHIVE_OK);
	if (filter == F_GZIP || filter == F_GZIP_TWICE)
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	if (filter == F_GZIP_TWICE)
		assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	if (filter == F_BZIP2)
		assert_int_equal(archive_write_add_filter_bzip2(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, buf, cap, len), ARCHIVE_OK);
	for (const struct ent *x = e; x->type; x++) {
		const char *data = NULL;
		size_t dlen = 0;
		archive_entry_clear(ae);
		archive_entry_set_pathname(ae, x->path);
		archive_entry_set_uid(ae, x->uid);
		archive_entry_set_gid(ae, x->uid);
		archive_entry_set_mtime(ae, 1700000000, 0);
		switch (x->type) {
		case 'f':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, x->mode ? x->mode : 0644);
			data = x->link ? x->link : "";
			dlen = x->zeros ? x->zeros : strlen(data);
			archive_entry_set_size(ae, (int64_t)dlen);
			break;
		case 'd':
			archive_entry_set_filetype(ae, AE_IFDIR);
			archive_entry_set_perm(ae, x->mode ? x->mode : 0755);
			break;
		case 'l':
			archive_entry_set_filetype(ae, AE_IFLNK);
			archive_entry_set_perm(ae, 0777);
			archive_entry_set_symlink(ae, x->link);
			break;
		case 'h':
			archive_entry_set_filetype(ae, AE_IFREG);
			archive_entry_set_perm(ae, x->mode ? x->mode : 0644);
			archive_entry_set_hardlink(ae, x->link);
			archive_entry_set_size(ae, 0);
			break;
		case 'c':
			archive_entry_set_filetype(ae, AE_IFCHR);
			archive_entry_set_perm(ae, 0666);
			archive_entry_set_rdevmajor(ae, 1);
			archive_entry_set_rdevminor(ae, 3);
			break;
		case 'p':
			archive_entry_set_filetype(ae, AE_IFIFO);
			archive_entry_set_perm(ae, 0644);
			break;
		default: fail();
		}
		assert_true(archive_write_header(a, ae) >= ARCHIVE_WARN);
		if (x->zeros) {
			static char z[65536];
			unsigned int seed = 7;
			for (size_t i = 0; i < sizeof(z); i++)
				z[i] = x->noise ? (char)(rand_r(&seed) >> 5) : 0;
			for (size_t done = 0; done < x->zeros;) {
				size_t n =
				    x->zeros - done < sizeof(z) ? x->zeros - done : sizeof(z);
				assert_true(archive_write_data(a, z, n) == (la_ssize_t)n);
				done += n;
			}
		} else if (dlen) {
			assert_true(archive_write_data(a, data, dlen) == (la_ssize_t)dlen);
		}
	}
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
	return buf;
}

static unsigned char *build(const struct ent *e, int filter, size_t *len)
{
	return build_fmt(e, filter, FMT_PAX, len);
}

/* Rewrites the name field of the ustar header at off, fixing its checksum. */
static void patch_name(unsigned char *tar, size_t off, const char *name, size_t nlen)
{
	unsigned char *h = tar + off;
	unsigned int sum = 0;
	memset(h, 0, 100);
	memcpy(h, name, nlen);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

/* --- the stream check in pieces ------------------------------------------------------------ */

struct pieces {
	const unsigned char *p;
	size_t left, step;
};

static long piece_read(void *ctx, const void **buf, struct ff_err *err)
{
	(void)err;
	struct pieces *s = ctx;
	size_t n = s->left < s->step ? s->left : s->step;
	*buf = s->p;
	s->p += n;
	s->left -= n;
	return (long)n;
}

/* ff_archive_check on buf, and ff_archive_check_stream on it in pieces of 1, 7 and 64 KiB
 * bytes, which must all agree: the code, the message, the info. Returns the code. */
static int check_all(const void *buf, size_t len, const struct ff_archive_limits *lim,
		     struct ff_archive_info *info, struct ff_err *err)
{
	static const size_t steps[] = {1, 7, 65536};
	struct ff_archive_info whole = {0};
	int rc = ff_archive_check(buf, len, lim, &whole, err);
	for (size_t i = 0; i < N(steps); i++) {
		struct pieces src = {buf, len, steps[i]};
		struct ff_archive_info got = {0};
		struct ff_err e = {0};
		int r = ff_archive_check_stream(piece_read, &src, lim, &got, &e);
		if (r != rc || (rc < 0 && strcmp(e.msg, err->msg) != 0))
			fail_msg("in pieces of %zu: %d \"%s\", whole: %d \"%s\"", steps[i], r,
				 e.msg, rc, err->msg);
		if (rc == 0)
			assert_memory_equal(&got, &whole, sizeof(got));
	}
	if (rc == 0 && info)
		*info = whole;
	return rc;
}

/* --- ff_archive_check: hostile and valid archives, table-driven ---------------------------- */

struct check_case {
	const char *name;
	struct ent e[8];
	int filter;
	uint64_t max_entries, max_bytes;
	int rc;
	const char *msg; /* a part of err.msg when refused */
};

#define F(p, d)                                                                                    \
	{                                                                                          \
		.type = 'f', .path = (p), .link = (d)                                              \
	}
#define FM(p, d, m, u)                                                                             \
	{                                                                                          \
		.type = 'f', .path = (p), .link = (d), .mode = (m), .uid = (u)                     \
	}
#define Z(p, n)                                                                                    \
	{                                                                                          \
		.type = 'f', .path = (p), .zeros = (n)                                             \
	}
#define D(p)                                                                                       \
	{                                                                                          \
		.type = 'd', .path = (p)                                                           \
	}
#define DM(p, m)                                                                                   \
	{                                                                                          \
		.type = 'd', .path = (p), .mode = (m)                                              \
	}
#define L(p, t)                                                                                    \
	{                                                                                          \
		.type = 'l', .path = (p), .link = (t)                                              \
	}
#define H(p, t)                                                                                    \
	{                                                                                          \
		.type = 'h', .path = (p), .link = (t)                                              \
	}
#define DEV(p)                                                                                     \
	{                                                                                          \
		.type = 'c', .path = (p)                                                           \
	}
#define FIFO(p)                                                                                    \
	{                                                                                          \
		.type = 'p', .path = (p)                                                           \
	}
#define END                                                                                        \
	{                                                                                          \
		.type = 0                                                                          \
	}

static const struct check_case check_cases[] = {
    {.name = "absolute path",
     .e = {F("/etc/passwd", "x")},
     .rc = FF_EVALIDATE,
     .msg = "absolute path"},
    {.name = "dot-dot escape",
     .e = {F("../x", "x")},
     .rc = FF_EVALIDATE,
     .msg = "\"..\" component"},
    {.name = "dot-dot inside",
     .e = {F("a/../../x", "x")},
     .rc = FF_EVALIDATE,
     .msg = "\"a/../../x\""},
    {.name = "dot-dot harmless",
     .e = {F("a/../b", "x")},
     .rc = FF_EVALIDATE,
     .msg = "\"..\" component"},
    {.name = "symlink absolute",
     .e = {L("l", "/etc/passwd")},
     .rc = FF_EVALIDATE,
     .msg = "absolute"},
    {.name = "symlink escape",
     .e = {D("a"), L("a/l", "../../x")},
     .rc = FF_EVALIDATE,
     .msg = "symlink \"a/l\" points outside"},
    {.name = "symlink escape via dir",
     .e = {L("l", "sub/../../x")},
     .rc = FF_EVALIDATE,
     .msg = "outside"},
    {.name = "symlink to dot-dot", .e = {L("l", "..")}, .rc = FF_EVALIDATE, .msg = "outside"},
    {.name = "symlink climbs out of symlink",
     .e = {L("b", "a/.."), L("a", ".")},
     .rc = FF_EVALIDATE,
     .msg = "climbs out of symlink \"a\""},
    {.name = "symlink empty target", .e = {L("l", "")}, .rc = FF_EVALIDATE, .msg = "empty target"},
    {.name = "entry inside symlink",
     .e = {D("d"), L("s", "d"), F("s/x", "x")},
     .rc = FF_EVALIDATE,
     .msg = "inside symlink \"s\""},
    {.name = "entry inside file",
     .e = {F("f", "x"), F("f/x", "y")},
     .rc = FF_EVALIDATE,
     .msg = "inside file"},
    {.name = "symlink after entries inside it",
     .e = {F("s/x", "x"), L("s", "x")},
     .rc = FF_EVALIDATE,
     .msg = "symlink \"s\" comes after entries inside it"},
    {.name = "file after entries inside it",
     .e = {D("d"), F("d/x", "x"), F("d", "y")},
     .rc = FF_EVALIDATE,
     .msg = "file \"d\" comes after entries inside it"},
    {.name = "too many paths",
     .e = {F("a/b/c/d/e/f/g", "x")},
     .max_entries = 3,
     .rc = FF_ETOOBIG,
     .msg = "names more than 6 paths"},
    {.name = "symlink replaces file",
     .e = {F("x", "x"), L("x", "y")},
     .rc = FF_EVALIDATE,
     .msg = "twice, once as a symlink"},
    {.name = "hardlink outside",
     .e = {H("h", "../outside")},
     .rc = FF_EVALIDATE,
     .msg = "not an earlier file"},
    {.name = "hardlink absolute",
     .e = {H("h", "/etc/shadow")},
     .rc = FF_EVALIDATE,
     .msg = "not an earlier file"},
    {.name = "hardlink forward",
     .e = {H("h", "f"), F("f", "x")},
     .rc = FF_EVALIDATE,
     .msg = "hardlink \"h\" points to \"f\""},
    {.name = "hardlink to directory",
     .e = {D("d"), H("h", "d")},
     .rc = FF_EVALIDATE,
     .msg = "not an earlier file"},
    {.name = "hardlink through a symlink",
     .e = {D("d"), F("d/f", "x"), L("s", "d"), H("h", "s/f")},
     .rc = FF_EVALIDATE,
     .msg = "hardlink \"h\" points to \"s/f\", which is not an earlier file"},
    {.name = "hardlink to symlink",
     .e = {L("l", "x"), H("h", "l")},
     .rc = FF_EVALIDATE,
     .msg = "not an earlier file"},
    {.name = "char device", .e = {DEV("null")}, .rc = FF_EVALIDATE, .msg = "\"null\" is a device"},
    {.name = "fifo",
     .e = {D("d"), FIFO("d/fifo")},
     .rc = FF_EVALIDATE,
     .msg = "\"d/fifo\" is a fifo"},
    {.name = "control character",
     .e = {F("a\nb", "x")},
     .rc = FF_EVALIDATE,
     .msg = "control character"},
    {.name = "too many entries",
     .e = {F("1", "x"), F("2", "x"), F("3", "x"), F("4", "x")},
     .max_entries = 3,
     .rc = FF_ETOOBIG,
     .msg = "more than 3 entries"},
    {.name = "gzip bomb",
     .e = {F("small", "x"), Z("zeros", 4 << 20)},
     .filter = F_GZIP,
     .max_bytes = 1 << 20,
     .rc = FF_ETOOBIG,
     .msg = "\"zeros\""},
    {.name = "files add up past the limit",
     .e = {Z("a", 600000), Z("b", 600000)},
     .filter = F_GZIP,
     .max_bytes = 1000000,
     .rc = FF_ETOOBIG,
     .msg = "\"b\""},
    {.name = "gzip twice",
     .e = {F("a", "x")},
     .filter = F_GZIP_TWICE,
     .rc = FF_EVALIDATE,
     .msg = "nested compression"},
    {.name = "bzip2",
     .e = {F("a", "x")},
     .filter = F_BZIP2,
     .rc = FF_EVALIDATE,
     .msg = "not a tar or tar.gz archive"},
    /* valid */
    {.name = "plain tar", .e = {D("src"), F("src/a.c", "int a;\n"), F("README", "hi\n")}},
    {.name = "tar.gz", .e = {D("src/"), F("src/a.c", "int a;\n")}, .filter = F_GZIP},
    {.name = "in-tree symlinks",
     .e = {D("a"), D("a/b"), F("a/x", "x"), L("a/b/l", "../x"), L("top", "a/b/l"),
	   L("dangling", "nowhere/else"), L("self", ".")}},
    {.name = "in-tree hardlinks",
     .e = {F("f", "data"), H("./g", "./f"), H("h", "g")},
     .filter = F_GZIP},
    {.name = "file replaced by a directory", .e = {F("x", "x"), D("x"), F("x/y", "y")}},
    {.name = "directory twice", .e = {D("x"), F("x/y", "y"), D("./x/")}},
    {.name = "dot root entry", .e = {D("./"), F("./a", "x"), D("./d/")}},
    {.name = "empty archive", .e = {END}},
    {.name = "empty tar.gz", .e = {END}, .filter = F_GZIP},
    {.name = "exactly at the limits",
     .e = {Z("a", 1000), Z("b", 24)},
     .filter = F_GZIP,
     .max_entries = 2,
     .max_bytes = 1024},
};

static void check_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(check_cases); i++) {
		const struct check_case *c = &check_cases[i];
		struct ff_archive_limits lim = {c->max_entries, c->max_bytes, 0};
		struct ff_archive_info info = {0};
		struct ff_err err = {0};
		size_t len;
		unsigned char *tar = build(c->e, c->filter, &len);
		int rc = check_all(tar, len, &lim, &info, &err);
		print_message("%-32s rc=%d %s\n", c->name, rc, err.msg);
		assert_int_equal(rc, c->rc);
		if (c->msg)
			assert_non_null(strstr(err.msg, c->msg));
		if (rc == 0) {
			size_t n = 0, files = 0;
			uint64_t bytes = 0;
			for (const struct ent *x = c->e; x->type; x++, n++) {
				files += x->type == 'f';
				bytes +=
				    x->type == 'f' ? (x->zeros ? x->zeros : strlen(x->link)) : 0;
			}
			assert_int_equal(info.entries, n);
			assert_int_equal(info.files, files);
			assert_int_equal(info.unpacked_bytes, bytes);
			/* what passes the check must re-pack */
			void *out = NULL;
			size_t outlen = 0;
			assert_int_equal(
			    ff_archive_repack_for_container(tar, len, &out, &outlen, &err), 0);
			free(out);
		}
		free(tar);
	}
}

static void not_archives(void **state)
{
	(void)state;
	struct ff_err err = {0};
	unsigned char junk[4096];
	static const unsigned char zeros[1024];
	unsigned int seed = 12345;
	for (size_t i = 0; i < sizeof(junk); i++)
		junk[i] = (unsigned char)(rand_r(&seed) >> 7);

	assert_int_equal(check_all("", 0, NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(check_all(NULL, 0, NULL, NULL, &err), FF_EVALIDATE);
	assert_int_equal(check_all(junk, sizeof(junk), NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "not a tar or tar.gz archive"));
	assert_int_equal(check_all("hello", 5, NULL, NULL, &err), FF_EVALIDATE);
	/* a gzip stream of junk, and too few zeros to be an end-of-archive block */
	assert_int_equal(check_all("\x1f\x8b\x08\x00junkjunkjunk", 16, NULL, NULL, &err),
			 FF_EVALIDATE);
	assert_int_equal(check_all(zeros, 100, NULL, NULL, &err), FF_EVALIDATE);
	/* a zip archive, which libarchive could read were it enabled */
	assert_int_equal(check_all("PK\x03\x04\x14\x00\x00\x00\x00\x00", 10, NULL, NULL, &err),
			 FF_EVALIDATE);
	void *out = NULL;
	size_t outlen = 0;
	assert_int_equal(ff_archive_repack_for_container(junk, sizeof(junk), &out, &outlen, &err),
			 FF_EVALIDATE);
	assert_null(out);
}

static void truncated(void **state)
{
	(void)state;
	struct ent e[] = {F("first.txt", "one"), Z("big.bin", 20000), END};
	struct ff_err err = {0};
	size_t len;
	unsigned char *tar = build_fmt(e, F_NONE, FMT_USTAR, &len);
	/* first.txt: header 0, data 512; big.bin: header 1024, data from 1536 */
	assert_int_equal(check_all(tar, len, NULL, NULL, &err), 0);
	assert_int_equal(check_all(tar, 1536 + 5000, NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "\"big.bin\""));
	assert_int_equal(check_all(tar, 1024 + 300, NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "\"first.txt\""));
	free(tar);

	tar = build(e, F_GZIP, &len);
	assert_int_equal(check_all(tar, len, NULL, NULL, &err), 0);
	assert_int_equal(check_all(tar, len / 2, NULL, NULL, &err), FF_EVALIDATE);
	assert_int_equal(check_all(tar, len - 4, NULL, NULL, &err), FF_EVALIDATE);
	free(tar);
	/* cut inside a file's compressed data: the message names the file */
	struct ent noisy[] = {
	    F("a.txt", "a"),
	    {.type = 'f', .path = "noise.bin", .zeros = 200000, .noise = true},
	    END,
	};
	tar = build(noisy, F_GZIP, &len);
	assert_int_equal(check_all(tar, len, NULL, NULL, &err), 0);
	assert_int_equal(check_all(tar, len / 2, NULL, NULL, &err), FF_EVALIDATE);
	print_message("truncated gzip: %s\n", err.msg);
	assert_non_null(strstr(err.msg, "\"noise.bin\""));
	free(tar);
}

static void names(void **state)
{
	(void)state;
	struct ff_err err = {0};
	struct ff_archive_info info;
	size_t len;
	char *name = malloc(5000);
	memset(name, 'a', 5000);
	for (size_t i = 100; i < 5000; i += 100)
		name[i] = '/';
	name[4096] = '\0';
	struct ent ok[] = {F(name, "x"), END};
	unsigned char *tar = build(ok, F_NONE, &len);
	assert_int_equal(check_all(tar, len, NULL, NULL, &err), 0);
	free(tar);
	name[4096] = 'b';
	name[4097] = '\0';
	struct ent longer[] = {F(name, "x"), END};
	tar = build(longer, F_NONE, &len);
	assert_int_equal(check_all(tar, len, NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "longer than 4096"));
	assert_true(strlen(err.msg) < 300); /* the name is shortened in the message */
	free(tar);
	free(name);

	/* "ok\0../../evil": everything reads the name up to the NUL, so it is "ok" */
	struct ent nul[] = {F("placeholder", "x"), END};
	tar = build_fmt(nul, F_NONE, FMT_USTAR, &len);
	patch_name(tar, 0, "ok\0../../evil", 13);
	assert_int_equal(check_all(tar, len, NULL, &info, &err), 0);
	assert_int_equal(info.files, 1);
	void *out = NULL;
	size_t outlen = 0;
	assert_int_equal(ff_archive_repack_for_container(tar, len, &out, &outlen, &err), 0);
	assert_null(memmem(out, outlen, "evil", 4));
	assert_non_null(memmem(out, outlen, "target/ok", 9));
	free(out);

	/* an empty name */
	patch_name(tar, 0, "", 0);
	assert_int_equal(check_all(tar, len, NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "empty name"));
	/* "." is the root: as a file it has no name either */
	patch_name(tar, 0, ".", 1);
	assert_int_equal(check_all(tar, len, NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "empty name"));
	free(tar);
}

/* --- re-packing ------------------------------------------------------------------------------- */

struct seen {
	const char *path;
	int type;
	int perm;
	const char *link;
	const char *data;
};

static void repack(void **state)
{
	(void)state;
	struct ent e[] = {
	    D("./"),
	    DM("src", 0700),
	    FM("src/run.sh", "#!/bin/sh\n", 04755, 1000),
	    FM("src/secret", "s", 0600, 0),
	    DM("shared", 02775),
	    L("src/link", "run.sh"),
	    H("src/hard", "src/run.sh"),
	    F("src/h\xc3\xa9llo.c", "utf8"),
	};
	struct ent all[N(e) + 1] = {END};
	memcpy(all, e, sizeof(e));
	static const struct seen want[] = {
	    {"target/", AE_IFDIR, 0755, NULL, NULL},
	    {"target/src/", AE_IFDIR, 0755, NULL, NULL},
	    {"target/src/run.sh", AE_IFREG, 0755, NULL, "#!/bin/sh\n"},
	    {"target/src/secret", AE_IFREG, 0644, NULL, "s"},
	    {"target/shared/", AE_IFDIR, 0755, NULL, NULL},
	    {"target/src/link", AE_IFLNK, 0777, "run.sh", NULL},
	    {"target/src/hard", 0, 0644, "target/src/run.sh", NULL},
	    {"target/src/h\xc3\xa9llo.c", AE_IFREG, 0644, NULL, "utf8"},
	    {"results/", AE_IFDIR, 01777, NULL, NULL},
	};
	struct ff_err err = {0};
	size_t len, outlen = 0;
	void *out = NULL;
	unsigned char *tgz = build(all, F_GZIP, &len);
	assert_int_equal(ff_archive_repack_for_container(tgz, len, &out, &outlen, &err), 0);
	free(tgz);

	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, out, outlen), ARCHIVE_OK);
	size_t i = 0;
	int r;
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		assert_true(i < N(want));
		const struct seen *w = &want[i++];
		print_message("%s %o\n", archive_entry_pathname(ae), archive_entry_mode(ae));
		assert_string_equal(archive_entry_pathname(ae), w->path);
		assert_int_equal(archive_entry_perm(ae), w->perm);
		assert_int_equal(archive_entry_uid(ae), 0);
		assert_int_equal(archive_entry_gid(ae), 0);
		assert_true(!archive_entry_uname(ae) || !*archive_entry_uname(ae));
		assert_true(!archive_entry_gname(ae) || !*archive_entry_gname(ae));
		if (w->type == 0) {
			assert_string_equal(archive_entry_hardlink(ae), w->link);
		} else {
			assert_int_equal(archive_entry_filetype(ae), w->type);
			if (w->type == AE_IFLNK)
				assert_string_equal(archive_entry_symlink(ae), w->link);
		}
		if (w->data) {
			char buf[64] = {0};
			assert_int_equal(archive_read_data(a, buf, sizeof(buf)), strlen(w->data));
			assert_string_equal(buf, w->data);
		}
	}
	assert_int_equal(r, ARCHIVE_EOF);
	assert_int_equal(i, N(want));
	assert_int_equal(archive_filter_code(a, 0), ARCHIVE_FILTER_NONE);
	archive_read_free(a);

	/* the output is itself a valid archive */
	assert_int_equal(check_all(out, outlen, NULL, NULL, &err), 0);
	free(out);

	/* an empty archive still gets target/ and results/ */
	struct ent none[] = {END};
	tgz = build(none, F_NONE, &len);
	assert_int_equal(ff_archive_repack_for_container(tgz, len, &out, &outlen, &err), 0);
	assert_non_null(memmem(out, outlen, "target/", 7));
	assert_non_null(memmem(out, outlen, "results/", 8));
	free(out);
	free(tgz);

	/* a hostile archive does not re-pack */
	struct ent bad[] = {F("ok", "x"), L("l", "../../etc"), END};
	tgz = build(bad, F_NONE, &len);
	out = NULL;
	assert_int_equal(ff_archive_repack_for_container(tgz, len, &out, &outlen, &err),
			 FF_EVALIDATE);
	assert_null(out);
	free(tgz);
}

/* --- the stream check: the reader's failure, the stream limit --------------------------------- */

/* Gives the archive in pieces of step bytes, then fails with code once fail_at bytes are out. */
struct failing {
	struct pieces src;
	size_t given, fail_at;
	int code;
	bool set_err;
	int calls_after_end;
	bool ended;
};

static long failing_read(void *ctx, const void **buf, struct ff_err *err)
{
	struct failing *f = ctx;
	if (f->ended)
		f->calls_after_end++;
	if (f->given >= f->fail_at)
		return f->set_err ? ff_err_set(err, f->code, "the upload was cut off") : f->code;
	long n = piece_read(&f->src, buf, err);
	f->given += (size_t)n;
	f->ended = n == 0;
	return n;
}

static void stream_reader_fails(void **state)
{
	(void)state;
	struct ent e[] = {F("a", "x"), Z("big", 300000), D("d"), F("d/b", "y"), END};
	size_t len, tlen;
	unsigned char *tgz = build(e, F_GZIP, &len);
	unsigned char *tar = build(e, F_NONE, &tlen);
	struct ff_err err = {0};
	/* at the very start, at the headers, in the middle, in the gzip trailer, and instead of
	 * the end: the check reads rd to its end, as its caller may store what it reads */
	const size_t at[] = {0, 1, 20, len / 2, len - 1, len};
	for (size_t i = 0; i < N(at); i++) {
		for (size_t step = 1; step <= 65536; step *= 64) {
			struct failing f = {
			    {tgz, len, step}, 0, at[i], FF_EUNAVAIL, true, 0, false};
			memset(&err, 0, sizeof(err));
			assert_int_equal(
			    ff_archive_check_stream(failing_read, &f, NULL, NULL, &err),
			    FF_EUNAVAIL);
			assert_int_equal(err.code, FF_EUNAVAIL);
			assert_string_equal(err.msg, "the upload was cut off");
		}
	}
	/* a failure in a plain tar, and one that sets no message */
	struct failing f = {{tar, tlen, 512}, 0, 2048, FF_EINTERNAL, false, 0, false};
	assert_int_equal(ff_archive_check_stream(failing_read, &f, NULL, NULL, &err), FF_EINTERNAL);
	assert_non_null(strstr(err.msg, "reading the archive failed"));
	f = (struct failing){{tar, tlen, 512}, 0, tlen, FF_EINTERNAL, true, 0, false};
	assert_int_equal(ff_archive_check_stream(failing_read, &f, NULL, NULL, &err), FF_EINTERNAL);
	/* the re-pack too */
	struct ff_archive_repack *r;
	char chunk[4096];
	long n;
	f = (struct failing){{tgz, len, 7}, 0, len / 2, FF_EUNAVAIL, true, 0, false};
	assert_int_equal(ff_archive_repack_open(failing_read, &f, &r, &err), 0);
	while ((n = ff_archive_repack_read(r, chunk, sizeof(chunk))) > 0)
		;
	assert_int_equal(n, FF_EUNAVAIL);
	assert_string_equal(ff_archive_repack_error(r)->msg, "the upload was cut off");
	ff_archive_repack_free(r);
	/* a reader past its end is not asked again; nor is a failing one */
	f = (struct failing){{tar, tlen, 4096}, 0, SIZE_MAX, 0, false, 0, false};
	assert_int_equal(ff_archive_check_stream(failing_read, &f, NULL, NULL, &err), 0);
	assert_int_equal(f.calls_after_end, 0);
	/* err may be NULL */
	f = (struct failing){{tar, tlen, 4096}, 0, 100, FF_EUNAVAIL, true, 0, false};
	assert_int_equal(ff_archive_check_stream(failing_read, &f, NULL, NULL, NULL), FF_EUNAVAIL);
	free(tgz);
	free(tar);
}

static void stream_limit(void **state)
{
	(void)state;
	/* long names make pax headers: stream bytes that are not file data */
	char n1[300], n2[300];
	memset(n1, 'a', 299);
	n1[299] = '\0';
	memcpy(n2, n1, sizeof(n2));
	n2[0] = 'b';
	struct ent e[] = {F(n1, "x"), F(n2, "y"), END};
	size_t tlen, zlen;
	unsigned char *tar = build(e, F_NONE, &tlen);
	unsigned char *tgz = build(e, F_GZIP, &zlen);
	struct ff_err err = {0};
	struct ff_archive_info info;
	print_message("tar of %zu bytes, %zu gzip-compressed\n", tlen, zlen);
	/* the reader takes the stream up to its end-of-archive blocks: exactly tlen bytes */
	for (int gz = 0; gz < 2; gz++) {
		const void *buf = gz ? tgz : tar;
		size_t len = gz ? zlen : tlen;
		struct ff_archive_limits lim = {.max_stream_bytes = tlen};
		assert_int_equal(check_all(buf, len, &lim, &info, &err), 0);
		assert_int_equal(info.unpacked_bytes, 2);
		lim.max_stream_bytes = tlen - 1;
		assert_int_equal(check_all(buf, len, &lim, NULL, &err), FF_ETOOBIG);
		assert_non_null(strstr(err.msg, "decompresses to more than"));
		lim.max_stream_bytes = 1024; /* inside the first entry's headers */
		assert_int_equal(check_all(buf, len, &lim, NULL, &err), FF_ETOOBIG);
	}
	free(tar);
	free(tgz);
}

/* --- bombs, in a child whose peak memory is measured ------------------------------------------ */

/* Sets the checksum of the ustar header block h. */
static void seal_header(unsigned char *h)
{
	unsigned int sum = 0;
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	h[155] = ' ';
}

/* A ustar header block: name, type, size, a valid checksum. */
static void put_header(unsigned char *h, const char *name, char type, uint64_t size)
{
	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	memcpy(h + 100, "0000644", 7);
	memcpy(h + 108, "0000000", 7);
	memcpy(h + 116, "0000000", 7);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	memcpy(h + 136, "14544750400", 11);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	seal_header(h);
}

/* One pax record "<len> key=value\n" of exactly n bytes (n >= 16), value of 'a's. */
static void put_record(unsigned char *p, size_t n, const char *key)
{
	char num[24];
	size_t d = 1;
	for (;;) { /* the length counts its own digits */
		snprintf(num, sizeof(num), "%zu", n);
		if (strlen(num) == d)
			break;
		d = strlen(num);
	}
	size_t k = (size_t)snprintf((char *)p, n, "%s %s=", num, key);
	memset(p + k, 'a', n - k - 1);
	p[n - 1] = '\n';
}

/* data gzip-compressed as one gzip member, malloc'd. */
static unsigned char *gzip_member(const void *data, size_t n, size_t *len)
{
	size_t cap = n + 65536;
	unsigned char *out = malloc(cap);
	struct archive *a = archive_write_new();
	struct archive_entry *ae = archive_entry_new();
	assert_non_null(out);
	assert_int_equal(archive_write_set_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_write_add_filter_gzip(a), ARCHIVE_OK);
	assert_int_equal(archive_write_set_bytes_in_last_block(a, 1), ARCHIVE_OK);
	assert_int_equal(archive_write_open_memory(a, out, cap, len), ARCHIVE_OK);
	archive_entry_set_pathname(ae, "x");
	archive_entry_set_filetype(ae, AE_IFREG);
	archive_entry_set_size(ae, (int64_t)n);
	assert_int_equal(archive_write_header(a, ae), ARCHIVE_OK);
	assert_true(archive_write_data(a, data, n) == (la_ssize_t)n);
	assert_int_equal(archive_write_close(a), ARCHIVE_OK);
	archive_write_free(a);
	archive_entry_free(ae);
	return out;
}

/* An upload made up as it is read: head once, then body reps times, then tail once; so a
 * gigabyte-sized archive costs nothing to hold. Concatenated gzip members are one stream. */
struct made_up {
	const unsigned char *head, *body, *tail;
	size_t head_len, body_len, tail_len;
	uint64_t reps, given_reps;
	int stage;
	uint64_t bytes;
};

static long made_up_read(void *ctx, const void **buf, struct ff_err *err)
{
	(void)err;
	struct made_up *m = ctx;
	size_t n = 0;
	for (; !n && m->stage < 3; m->stage += m->stage != 1 || m->given_reps == m->reps) {
		if (m->stage == 0 && m->head_len) {
			*buf = m->head;
			n = m->head_len;
		} else if (m->stage == 1 && m->given_reps < m->reps) {
			*buf = m->body;
			n = m->body_len;
			m->given_reps++;
			return (long)(m->bytes += n, n);
		} else if (m->stage == 2 && m->tail_len) {
			*buf = m->tail;
			n = m->tail_len;
		}
	}
	m->bytes += n;
	return (long)n;
}

struct child_out {
	int rc;
	char msg[512];
	uint64_t unpacked, read_bytes;
	long base_kib, peak_kib;
	double secs;
};

/* Runs ff_archive_check_stream on m in a child process and reports what it measured: the
 * verdict, how much of the upload was read, and the child's peak RSS (ru_maxrss). */
static struct child_out check_in_child(struct made_up *m, const struct ff_archive_limits *lim)
{
	struct child_out out = {0};
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rusage ru;
		struct timespec t0, t1;
		struct ff_archive_info info = {0};
		struct ff_err err = {0};
		close(fds[0]);
		getrusage(RUSAGE_SELF, &ru);
		out.base_kib = ru.ru_maxrss;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		out.rc = ff_archive_check_stream(made_up_read, m, lim, &info, &err);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		getrusage(RUSAGE_SELF, &ru);
		out.peak_kib = ru.ru_maxrss;
		out.secs =
		    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		out.unpacked = info.unpacked_bytes;
		out.read_bytes = m->bytes;
		snprintf(out.msg, sizeof(out.msg), "%s", err.msg);
		_exit(write(fds[1], &out, sizeof(out)) == (ssize_t)sizeof(out) ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &out, sizeof(out)), sizeof(out));
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return out;
}

#if defined(__SANITIZE_ADDRESS__)
#define ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN 1
#endif
#endif

/* Peak RSS under 64 MiB: what the check adds stays within a few MiB whatever the input.
 * Under ASan the allocator's own shadow and quarantine make the figure meaningless. */
static void assert_small(const char *what, const struct child_out *o)
{
	print_message("%-34s rc=%d read %8.1f KiB in %.3f s, peak RSS %ld KiB (%+ld): %s\n", what,
		      o->rc, (double)o->read_bytes / 1024, o->secs, o->peak_kib,
		      o->peak_kib - o->base_kib, o->msg);
#ifndef ASAN
	assert_true(o->peak_kib < 64 * 1024);
	assert_true(o->peak_kib - o->base_kib < 16 * 1024);
#endif
}

#define MIB (1u << 20)

/* A chain of pax extended headers: 5 MB of gzip that decompresses to 5 GB of headers before
 * any entry, each header under libarchive's own 1 MiB cap. */
static void pax_header_bomb(void **state)
{
	(void)state;
	size_t unit_len = MIB, glen;
	unsigned char *unit = malloc(unit_len);
	assert_non_null(unit);
	put_header(unit, "PaxHeaders/bomb", 'x', unit_len - 512);
	put_record(unit + 512, unit_len - 512, "comment");
	unsigned char *g = gzip_member(unit, unit_len, &glen);
	struct made_up m = {.body = g, .body_len = glen, .reps = 5000};
	struct child_out o = check_in_child(&m, NULL);
	print_message("a %zu-byte gzip member of a 1 MiB pax header, 5000 times: %.1f MB\n", glen,
		      5000.0 * (double)glen / 1e6);
	assert_small("pax header chain, 5 GB", &o);
	assert_int_equal(o.rc, FF_ETOOBIG);
	assert_non_null(strstr(o.msg, "first entry take more than 256 KiB"));
	assert_true(o.read_bytes < 4 * glen); /* refused within the first few MB decompressed */

	/* one header of 900 KiB, under libarchive's cap but over ours, before a valid file */
	unsigned char one[(900u << 10) + 2048] = {0};
	put_header(one, "x.txt", '0', 1);
	one[512] = 'x';
	put_header(one + 1024, "PaxHeaders/big", 'x', 900u << 10);
	put_record(one + 1536, 900u << 10, "comment");
	put_header(one + 1536 + (900u << 10), "y.txt", '0', 0);
	struct ff_err err = {0};
	assert_int_equal(check_all(one, sizeof(one), NULL, NULL, &err), FF_ETOOBIG);
	assert_non_null(strstr(err.msg, "the entry after \"x.txt\" take more than"));

	/* a chain of small pax headers before each of many entries: the stream limit */
	unsigned char *e = calloc(1, 4 * 512 + (64u << 10));
	assert_non_null(e);
	put_header(e, "PaxHeaders/f", 'x', 64u << 10);
	put_record(e + 512, 64u << 10, "comment");
	put_header(e + 512 + (64u << 10), "f", '0', 0);
	size_t elen = 1024 + (64u << 10);
	unsigned char *ge = gzip_member(e, elen, &glen);
	m = (struct made_up){.body = ge, .body_len = glen, .reps = 2000};
	struct ff_archive_limits lim = {.max_stream_bytes = 16 * MIB};
	o = check_in_child(&m, &lim);
	assert_small("2000 entries of 64 KiB headers", &o);
	assert_int_equal(o.rc, FF_ETOOBIG);
	assert_non_null(strstr(o.msg, "decompresses to more than 16777216 bytes"));
	free(e);
	free(ge);
	free(g);
	free(unit);
}

/* One pax header declaring 500 MB, gzip-compressed: refused on its 512-byte header. */
static void huge_pax_header(void **state)
{
	(void)state;
	size_t hlen, blen;
	unsigned char *first = malloc(MIB);
	assert_non_null(first);
	put_header(first, "PaxHeaders/huge", 'x', 500ull * 1000 * 1000);
	put_record(first + 512, MIB - 512, "comment");
	unsigned char *head = gzip_member(first, MIB, &hlen);
	memset(first, 'a', MIB);
	unsigned char *body = gzip_member(first, MIB, &blen);
	struct made_up m = {
	    .head = head, .head_len = hlen, .body = body, .body_len = blen, .reps = 480};
	struct child_out o = check_in_child(&m, NULL);
	assert_small("one 500 MB pax header", &o);
	/* libarchive 3.6.2 refuses a special header over 1 MiB itself, as damage */
	assert_true(o.rc == FF_EVALIDATE || o.rc == FF_ETOOBIG);
	assert_true(o.read_bytes <= hlen + 4 * blen);
	free(first);
	free(head);
	free(body);
}

/* A pax 'x' header marking a GNU 1.0 sparse file: name, real size, then its map and data. */
static size_t sparse_archive(unsigned char *buf, uint64_t realsize, const char *map,
			     size_t data_len)
{
	char rec[256];
	size_t off = 0, plen = 0, mlen = strlen(map);
	unsigned char pax[512] = {0};
	const char *keys[] = {"GNU.sparse.major=1", "GNU.sparse.minor=0", "GNU.sparse.name=big"};
	for (size_t i = 0; i < N(keys); i++) {
		snprintf(rec, sizeof(rec), "%s", keys[i]);
		size_t n = strlen(rec) + 4; /* "NN " ... "\n", two digits */
		plen +=
		    (size_t)snprintf((char *)pax + plen, sizeof(pax) - plen, "%zu %s\n", n, rec);
	}
	snprintf(rec, sizeof(rec), "GNU.sparse.realsize=%llu", (unsigned long long)realsize);
	plen += (size_t)snprintf((char *)pax + plen, sizeof(pax) - plen, "%zu %s\n",
				 strlen(rec) + 4, rec);
	put_header(buf, "PaxHeaders/big", 'x', plen);
	memcpy(buf + 512, pax, plen);
	off = 1024;
	size_t mpad = (mlen + 511) & ~(size_t)511;
	put_header(buf + off, "GNUSparseFile/big", '0', mpad + data_len);
	off += 512;
	memcpy(buf + off, map, mlen);
	off += mpad;
	memset(buf + off, 'd', data_len);
	off += (data_len + 511) & ~(size_t)511;
	return off + 1024; /* two zero blocks end it */
}

static void sparse_files(void **state)
{
	(void)state;
	static unsigned char buf[8192];
	struct ff_err err = {0};
	struct ff_archive_info info;
	const uint64_t gib = 1ull << 30;
	/* 512 bytes of data at the start, then a 1 GiB - 512 hole */
	memset(buf, 0, sizeof(buf));
	size_t len = sparse_archive(buf, gib, "1\n0\n512\n", 512);
	struct ff_archive_limits lim = {.max_unpacked_bytes = gib};
	assert_int_equal(check_all(buf, len, &lim, &info, &err), 0);
	assert_int_equal(info.unpacked_bytes, gib);
	assert_int_equal(info.files, 1);
	lim.max_unpacked_bytes = gib - 1;
	assert_int_equal(check_all(buf, len, &lim, NULL, &err), FF_ETOOBIG);
	assert_non_null(strstr(err.msg, "\"big\" would unpack past the limit"));
	/* a hole declared twice over counts twice: sizes, not stored bytes */
	static const unsigned char zeros[1024];
	struct made_up m = {.head = buf,
			    .head_len = len - 1024,
			    .body = buf,
			    .body_len = len - 1024,
			    .reps = 1,
			    .tail = zeros,
			    .tail_len = sizeof(zeros)};
	lim.max_unpacked_bytes = 2 * gib - 1;
	struct child_out o = check_in_child(&m, &lim);
	assert_small("two 1 GiB sparse files", &o);
	assert_int_equal(o.rc, FF_ETOOBIG);
	lim.max_unpacked_bytes = 2 * gib;
	m.stage = 0;
	m.given_reps = m.bytes = 0;
	o = check_in_child(&m, &lim);
	assert_small("two 1 GiB sparse files, allowed", &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.unpacked, 2 * gib);

	/* the hole first: libarchive hands it out as zeros, a chunk at a time */
	memset(buf, 0, sizeof(buf));
	len = sparse_archive(buf, gib, "1\n1073741312\n512\n", 512);
	m = (struct made_up){.head = buf, .head_len = len};
	lim.max_unpacked_bytes = gib;
	o = check_in_child(&m, &lim);
	assert_small("1 GiB sparse file, hole first", &o);
	assert_int_equal(o.rc, 0);
	assert_int_equal(o.unpacked, gib);
	/* all hole (as tar --sparse writes an empty file of that size): counted once, though
	 * libarchive first says the data ended, then pads the hole with zeros */
	memset(buf, 0, sizeof(buf));
	len = sparse_archive(buf, 100000, "1\n100000\n0\n", 0);
	assert_int_equal(check_all(buf, len, NULL, &info, &err), 0);
	assert_int_equal(info.unpacked_bytes, 100000);
}

/* Sparse maps libarchive reads whole inside one archive_read_next_header(), keeping every
 * entry: a 1.0 map of 32M entries before the data, an old GNU map's chain of extension
 * blocks (libarchive alone: ~2 bytes of memory per byte of the chain). */
static void sparse_map_bombs(void **state)
{
	(void)state;
	static unsigned char head[2048], body[65536];
	const uint64_t reps = 16384; /* 1 GiB of map */
	memset(head, 0, sizeof(head));
	sparse_archive(head, 1ull << 40, "", 0);
	put_header(head + 1024, "GNUSparseFile/big", '0', reps * sizeof(body) + 512);
	memset(head + 1536, 0, 512);
	memcpy(head + 1536, "33554432\n", 9);
	for (size_t i = 9; i + 2 <= 512; i += 2)
		memcpy(head + 1536 + i, "1\n", 2);
	head[1536 + 511] = '\n'; /* the block's odd byte: an empty line, read as 0 */
	for (size_t i = 0; i < sizeof(body); i += 2)
		memcpy(body + i, "1\n", 2);
	struct made_up m = {
	    .head = head, .head_len = 2048, .body = body, .body_len = sizeof(body), .reps = reps};
	struct child_out o = check_in_child(&m, NULL);
	assert_small("1.0 sparse map of 32M entries", &o);
	assert_int_equal(o.rc, FF_ETOOBIG);
	assert_non_null(strstr(o.msg, "take more than 256 KiB"));
	assert_true(o.read_bytes < MIB);

	/* old GNU: a type 'S' header with 4 entries and "extended" set, then extension blocks
	 * of 21 entries each, each extended again */
	put_header(head, "old-sparse", 'S', 0);
	for (int i = 0; i < 4; i++) {
		snprintf((char *)head + 386 + 24 * i, 12, "%011o", 1);
		snprintf((char *)head + 398 + 24 * i, 12, "%011o", 1);
	}
	head[482] = 1;
	snprintf((char *)head + 483, 12, "%011o", 2);
	memcpy(head + 257, "ustar  ", 8); /* the GNU magic, which 'S' needs */
	seal_header(head);
	for (size_t b = 0; b < sizeof(body); b += 512) {
		memset(body + b, 0, 512);
		for (int i = 0; i < 21; i++) {
			snprintf((char *)body + b + 24 * i, 12, "%011o", 1);
			snprintf((char *)body + b + 12 + 24 * i, 12, "%011o", 1);
		}
		body[b + 504] = 1;
	}
	m = (struct made_up){
	    .head = head, .head_len = 512, .body = body, .body_len = sizeof(body), .reps = reps};
	o = check_in_child(&m, NULL);
	assert_small("old GNU sparse chain of 1 GiB", &o);
	assert_int_equal(o.rc, FF_ETOOBIG);
	assert_non_null(strstr(o.msg, "first entry take more than 256 KiB"));
	assert_true(o.read_bytes < MIB);
}

/* The symlinks' paths and targets are kept for the walks at the end, up to 1 MiB. */
static void many_symlinks(void **state)
{
	(void)state;
	static char target[4001];
	struct ent e[301];
	char names[300][16];
	memset(target, 'x', 4000);
	for (size_t i = 0; i < 4000; i += 2)
		target[i + 1] = '/';
	target[3999] = 'x';
	for (int i = 0; i < 300; i++) {
		snprintf(names[i], sizeof(names[i]), "l%03d", i);
		e[i] = (struct ent){.type = 'l', .path = names[i], .link = target};
	}
	e[300] = (struct ent){.type = 0};
	struct ff_err err = {0};
	size_t len;
	unsigned char *tar = build(e, F_GZIP, &len);
	assert_int_equal(check_all(tar, len, NULL, NULL, &err), FF_ETOOBIG);
	assert_non_null(strstr(err.msg, "symlinks take more than 1024 KiB"));
	free(tar);
	e[250] = (struct ent){.type = 0};
	tar = build(e, F_GZIP, &len);
	assert_int_equal(check_all(tar, len, NULL, NULL, &err), 0);
	free(tar);
}

/* An upload of n empty files in directories of 1000, with names of about 80 bytes. */
struct many {
	unsigned char blk[1024];
	uint64_t i, n;
	uint64_t bytes;
};

static long many_read(void *ctx, const void **buf, struct ff_err *err)
{
	(void)err;
	struct many *m = ctx;
	char name[100];
	*buf = m->blk;
	if (m->i > m->n)
		return 0;
	if (m->i++ == m->n) {
		memset(m->blk, 0, sizeof(m->blk));
		return 1024;
	}
	snprintf(name, sizeof(name), "src/module%03llu/file%06llu-%s.c",
		 (unsigned long long)(m->i / 1000), (unsigned long long)m->i,
		 "a-rather-long-name-as-generated-code-has");
	put_header(m->blk, name, '0', 0);
	return 512;
}

static void many_entries(void **state)
{
	(void)state;
	for (uint64_t n = 100000; n <= 100001; n++) {
		struct many m = {.n = n};
		int fds[2];
		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		if (pid == 0) {
			struct child_out o = {0};
			struct ff_archive_info info = {0};
			struct ff_err err = {0};
			struct rusage ru;
			struct timespec t0, t1;
			getrusage(RUSAGE_SELF, &ru);
			o.base_kib = ru.ru_maxrss;
			clock_gettime(CLOCK_MONOTONIC, &t0);
			o.rc = ff_archive_check_stream(many_read, &m, NULL, &info, &err);
			clock_gettime(CLOCK_MONOTONIC, &t1);
			o.secs = (double)(t1.tv_sec - t0.tv_sec) +
				 (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
			getrusage(RUSAGE_SELF, &ru);
			o.peak_kib = ru.ru_maxrss;
			o.unpacked = info.entries;
			o.read_bytes = m.i * 512;
			snprintf(o.msg, sizeof(o.msg), "%s", err.msg);
			_exit(write(fds[1], &o, sizeof(o)) == (ssize_t)sizeof(o) ? 0 : 1);
		}
		struct child_out o;
		close(fds[1]);
		assert_int_equal(read(fds[0], &o, sizeof(o)), sizeof(o));
		close(fds[0]);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		assert_small(n == 100000 ? "100000 entries" : "100001 entries", &o);
		assert_int_equal(o.rc, n == 100000 ? 0 : FF_ETOOBIG);
		if (n == 100000)
			assert_int_equal(o.unpacked, 100000);
#ifndef ASAN
		assert_true(o.peak_kib - o.base_kib < 8 * 1024);
#endif
	}
}

/* --- walking the engine's tar ---------------------------------------------------------------- */

struct got {
	int files, ends, datas;
	char paths[8][64];
	uint64_t sizes[8];
	size_t lens[8];
	char first_data[64];
	int stop_at;	    /* begin() of this file fails */
	uint64_t skip_over; /* begin() skips files larger than this */
};

static int on_begin(void *ctx, const char *path, uint64_t size)
{
	struct got *g = ctx;
	if (g->files == g->stop_at)
		return ff_err_set(NULL, FF_ECONFLICT, "stop");
	assert_true(g->files < 8);
	snprintf(g->paths[g->files], sizeof(g->paths[0]), "%s", path);
	g->sizes[g->files] = size;
	g->files++;
	return size > g->skip_over ? 0 : 1;
}

static int on_data(void *ctx, const void *p, size_t n)
{
	struct got *g = ctx;
	size_t i = (size_t)g->files - 1;
	if (i == 0 && g->lens[0] == 0)
		snprintf(g->first_data, sizeof(g->first_data), "%.*s", (int)n, (const char *)p);
	g->lens[i] += n;
	g->datas++;
	return 0;
}

static int on_end(void *ctx)
{
	struct got *g = ctx;
	g->ends++;
	return 0;
}

/* ff_archive_stream_files over buf, read from a memory file. */
static int stream(const void *buf, size_t len, uint64_t max_total, struct got *g,
		  struct ff_err *err)
{
	const struct ff_archive_file_sink sink = {on_begin, on_data, on_end, g};
	int fd = memfd_create("tar", 0);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	int rc = ff_archive_stream_files(fd, max_total, &sink, err);
	close(fd);
	return rc;
}

static void stream_files(void **state)
{
	(void)state;
	struct ent e[] = {
	    D("results"),
	    F("results/results.sarif", "{\"version\":\"2.1.0\"}"),
	    D("results/artifacts"),
	    Z("results/artifacts/big.bin", 5000),
	    L("results/artifacts/link", "big.bin"),
	    FIFO("results/fifo"),
	    F("./results/artifacts/empty", ""),
	    END,
	};
	struct ff_err err = {0};
	size_t len;
	unsigned char *tar = build(e, F_NONE, &len);
	struct got g = {.stop_at = -1, .skip_over = 4096};

	/* regular files only, names normalised; one skipped by begin() gets no data */
	assert_int_equal(stream(tar, len, UINT64_MAX, &g, &err), 0);
	assert_int_equal(g.files, 3);
	assert_string_equal(g.paths[0], "results/results.sarif");
	assert_string_equal(g.first_data, "{\"version\":\"2.1.0\"}");
	assert_int_equal(g.sizes[0], 19);
	assert_int_equal(g.lens[0], 19);
	assert_string_equal(g.paths[1], "results/artifacts/big.bin");
	assert_int_equal(g.sizes[1], 5000);
	assert_int_equal(g.lens[1], 0);
	assert_string_equal(g.paths[2], "results/artifacts/empty");
	assert_int_equal(g.sizes[2], 0);
	assert_int_equal(g.ends, 2); /* the skipped file has no end() */

	/* taken, it comes whole */
	g = (struct got){.stop_at = -1, .skip_over = UINT64_MAX};
	assert_int_equal(stream(tar, len, UINT64_MAX, &g, &err), 0);
	assert_int_equal(g.lens[1], 5000);
	assert_int_equal(g.ends, 3);
	/* past max_total, counted on the data read */
	g = (struct got){.stop_at = -1, .skip_over = UINT64_MAX};
	assert_int_equal(stream(tar, len, 5018, &g, &err), FF_ETOOBIG);
	g = (struct got){.stop_at = -1, .skip_over = UINT64_MAX};
	assert_int_equal(stream(tar, len, 5019, &g, &err), 0);

	/* a callback stops the walk with its code */
	g = (struct got){.stop_at = 1, .skip_over = UINT64_MAX};
	assert_int_equal(stream(tar, len, UINT64_MAX, &g, &err), FF_ECONFLICT);
	assert_int_equal(g.files, 1);
	free(tar);

	/* compressed, hostile, damaged or empty input */
	struct ent one[] = {F("results/x", "x"), END};
	tar = build(one, F_GZIP, &len);
	g = (struct got){.stop_at = -1, .skip_over = UINT64_MAX};
	assert_int_equal(stream(tar, len, UINT64_MAX, &g, &err), FF_EVALIDATE);
	assert_int_equal(g.files, 0);
	free(tar);
	struct ent evil[] = {F("results/../../etc/cron.d/x", "x"), END};
	tar = build(evil, F_NONE, &len);
	assert_int_equal(stream(tar, len, UINT64_MAX, &g, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "\"..\" component"));
	assert_int_equal(g.files, 0);
	assert_int_equal(stream(tar, len - 600, UINT64_MAX, &g, &err), FF_EVALIDATE);
	free(tar);
	struct ent cut[] = {Z("results/x", 2000), END};
	tar = build(cut, F_NONE, &len);
	g = (struct got){.stop_at = -1, .skip_over = UINT64_MAX};
	assert_int_equal(stream(tar, 1000, UINT64_MAX, &g, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "\"results/x\" is damaged"));
	assert_int_equal(g.ends, 0);
	free(tar);
	g = (struct got){.stop_at = -1, .skip_over = UINT64_MAX};
	assert_int_equal(stream("", 0, UINT64_MAX, &g, &err), FF_EVALIDATE);

	/* over a re-packed archive: target/ and nothing else */
	struct ent src[] = {F("a.c", "int a;"), D("d"), F("d/b.c", "int b;"), END};
	tar = build(src, F_GZIP, &len);
	void *out = NULL;
	size_t outlen;
	assert_int_equal(ff_archive_repack_for_container(tar, len, &out, &outlen, &err), 0);
	g = (struct got){.stop_at = -1, .skip_over = UINT64_MAX};
	assert_int_equal(stream(out, outlen, UINT64_MAX, &g, &err), 0);
	assert_int_equal(g.files, 2);
	assert_string_equal(g.paths[0], "target/a.c");
	assert_string_equal(g.first_data, "int a;");
	assert_string_equal(g.paths[1], "target/d/b.c");
	free(out);
	free(tar);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(check_table),
	    cmocka_unit_test(not_archives),
	    cmocka_unit_test(truncated),
	    cmocka_unit_test(names),
	    cmocka_unit_test(stream_reader_fails),
	    cmocka_unit_test(stream_limit),
	    cmocka_unit_test(pax_header_bomb),
	    cmocka_unit_test(huge_pax_header),
	    cmocka_unit_test(sparse_files),
	    cmocka_unit_test(sparse_map_bombs),
	    cmocka_unit_test(many_symlinks),
	    cmocka_unit_test(many_entries),
	    cmocka_unit_test(repack),
	    cmocka_unit_test(stream_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

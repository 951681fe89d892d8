/* test_archive — target archives: hostile uploads refused, valid ones accepted, the re-pack
 * for the container read back, and the walk over the engine's tar. Every archive is built
 * here with libarchive's writer (or patched by hand where the writer would not go). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
		struct ff_archive_limits lim = {c->max_entries, c->max_bytes};
		struct ff_archive_info info = {0};
		struct ff_err err = {0};
		size_t len;
		unsigned char *tar = build(c->e, c->filter, &len);
		int rc = ff_archive_check(tar, len, &lim, &info, &err);
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

	assert_int_equal(ff_archive_check("", 0, NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "empty"));
	assert_int_equal(ff_archive_check(NULL, 0, NULL, NULL, &err), FF_EVALIDATE);
	assert_int_equal(ff_archive_check(junk, sizeof(junk), NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "not a tar or tar.gz archive"));
	assert_int_equal(ff_archive_check("hello", 5, NULL, NULL, &err), FF_EVALIDATE);
	/* a gzip stream of junk, and too few zeros to be an end-of-archive block */
	assert_int_equal(ff_archive_check("\x1f\x8b\x08\x00junkjunkjunk", 16, NULL, NULL, &err),
			 FF_EVALIDATE);
	assert_int_equal(ff_archive_check(zeros, 100, NULL, NULL, &err), FF_EVALIDATE);
	/* a zip archive, which libarchive could read were it enabled */
	assert_int_equal(
	    ff_archive_check("PK\x03\x04\x14\x00\x00\x00\x00\x00", 10, NULL, NULL, &err),
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
	assert_int_equal(ff_archive_check(tar, len, NULL, NULL, &err), 0);
	assert_int_equal(ff_archive_check(tar, 1536 + 5000, NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "\"big.bin\""));
	assert_int_equal(ff_archive_check(tar, 1024 + 300, NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "\"first.txt\""));
	free(tar);

	tar = build(e, F_GZIP, &len);
	assert_int_equal(ff_archive_check(tar, len, NULL, NULL, &err), 0);
	assert_int_equal(ff_archive_check(tar, len / 2, NULL, NULL, &err), FF_EVALIDATE);
	assert_int_equal(ff_archive_check(tar, len - 4, NULL, NULL, &err), FF_EVALIDATE);
	free(tar);
	/* cut inside a file's compressed data: the message names the file */
	struct ent noisy[] = {
	    F("a.txt", "a"),
	    {.type = 'f', .path = "noise.bin", .zeros = 200000, .noise = true},
	    END,
	};
	tar = build(noisy, F_GZIP, &len);
	assert_int_equal(ff_archive_check(tar, len, NULL, NULL, &err), 0);
	assert_int_equal(ff_archive_check(tar, len / 2, NULL, NULL, &err), FF_EVALIDATE);
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
	assert_int_equal(ff_archive_check(tar, len, NULL, NULL, &err), 0);
	free(tar);
	name[4096] = 'b';
	name[4097] = '\0';
	struct ent longer[] = {F(name, "x"), END};
	tar = build(longer, F_NONE, &len);
	assert_int_equal(ff_archive_check(tar, len, NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "longer than 4096"));
	assert_true(strlen(err.msg) < 300); /* the name is shortened in the message */
	free(tar);
	free(name);

	/* "ok\0../../evil": everything reads the name up to the NUL, so it is "ok" */
	struct ent nul[] = {F("placeholder", "x"), END};
	tar = build_fmt(nul, F_NONE, FMT_USTAR, &len);
	patch_name(tar, 0, "ok\0../../evil", 13);
	assert_int_equal(ff_archive_check(tar, len, NULL, &info, &err), 0);
	assert_int_equal(info.files, 1);
	void *out = NULL;
	size_t outlen = 0;
	assert_int_equal(ff_archive_repack_for_container(tar, len, &out, &outlen, &err), 0);
	assert_null(memmem(out, outlen, "evil", 4));
	assert_non_null(memmem(out, outlen, "target/ok", 9));
	free(out);

	/* an empty name */
	patch_name(tar, 0, "", 0);
	assert_int_equal(ff_archive_check(tar, len, NULL, NULL, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "empty name"));
	/* "." is the root: as a file it has no name either */
	patch_name(tar, 0, ".", 1);
	assert_int_equal(ff_archive_check(tar, len, NULL, NULL, &err), FF_EVALIDATE);
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
	assert_int_equal(ff_archive_check(out, outlen, NULL, NULL, &err), 0);
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

/* --- walking the engine's tar ---------------------------------------------------------------- */

struct got {
	int calls;
	char paths[8][64];
	size_t lens[8];
	int null_data[8];
	char first_data[64];
	int stop_at;
};

static int on_file(void *ctx, const char *path, const void *data, size_t len)
{
	struct got *g = ctx;
	if (g->calls == g->stop_at)
		return FF_ECONFLICT;
	assert_true(g->calls < 8);
	snprintf(g->paths[g->calls], sizeof(g->paths[0]), "%s", path);
	g->lens[g->calls] = len;
	g->null_data[g->calls] = data == NULL;
	if (g->calls == 0 && data)
		snprintf(g->first_data, sizeof(g->first_data), "%.*s", (int)len,
			 (const char *)data);
	g->calls++;
	return 0;
}

static void each_file(void **state)
{
	(void)state;
	struct ent e[] = {
	    D("results"),
	    F("results/results.sarif", "{\"version\":\"2.1.0\"}"),
	    D("results/artifacts"),
	    Z("results/artifacts/big.bin", 5000),
	    L("results/artifacts/link", "big.bin"),
	    FIFO("results/fifo"),
	    F("results/artifacts/empty", ""),
	    END,
	};
	struct ff_err err = {0};
	size_t len;
	unsigned char *tar = build(e, F_NONE, &len);
	struct got g = {.stop_at = -1};

	assert_int_equal(ff_archive_each_file(tar, len, 4096, on_file, &g, &err), 0);
	assert_int_equal(g.calls, 3);
	assert_string_equal(g.paths[0], "results/results.sarif");
	assert_string_equal(g.first_data, "{\"version\":\"2.1.0\"}");
	assert_int_equal(g.lens[0], 19);
	assert_false(g.null_data[0]);
	/* past max_file_bytes: data NULL, the real size */
	assert_string_equal(g.paths[1], "results/artifacts/big.bin");
	assert_true(g.null_data[1]);
	assert_int_equal(g.lens[1], 5000);
	assert_string_equal(g.paths[2], "results/artifacts/empty");
	assert_false(g.null_data[2]);
	assert_int_equal(g.lens[2], 0);

	/* exactly max_file_bytes still has its data */
	memset(&g, 0, sizeof(g));
	g.stop_at = -1;
	assert_int_equal(ff_archive_each_file(tar, len, 5000, on_file, &g, &err), 0);
	assert_false(g.null_data[1]);

	/* the callback stops the walk with its code */
	memset(&g, 0, sizeof(g));
	g.stop_at = 1;
	assert_int_equal(ff_archive_each_file(tar, len, 4096, on_file, &g, &err), FF_ECONFLICT);
	assert_int_equal(g.calls, 1);
	assert_int_equal(err.code, FF_ECONFLICT);
	free(tar);

	/* compressed, hostile, damaged or empty input */
	struct ent one[] = {F("results/x", "x"), END};
	tar = build(one, F_GZIP, &len);
	memset(&g, 0, sizeof(g));
	assert_int_equal(ff_archive_each_file(tar, len, 4096, on_file, &g, &err), FF_EVALIDATE);
	assert_int_equal(g.calls, 0);
	free(tar);
	struct ent evil[] = {F("results/../../etc/cron.d/x", "x"), END};
	tar = build(evil, F_NONE, &len);
	assert_int_equal(ff_archive_each_file(tar, len, 4096, on_file, &g, &err), FF_EVALIDATE);
	assert_int_equal(g.calls, 0);
	assert_int_equal(ff_archive_each_file(tar, len - 600, 4096, on_file, &g, &err),
			 FF_EVALIDATE);
	free(tar);
	struct ent cut[] = {Z("results/x", 2000), END};
	tar = build(cut, F_NONE, &len);
	memset(&g, 0, sizeof(g));
	g.stop_at = -1;
	assert_int_equal(ff_archive_each_file(tar, 1000, 4096, on_file, &g, &err), FF_EVALIDATE);
	assert_non_null(strstr(err.msg, "\"results/x\" is damaged"));
	assert_int_equal(g.calls, 0);
	free(tar);
	assert_int_equal(ff_archive_each_file("", 0, 4096, on_file, &g, &err), FF_EVALIDATE);

	/* each_file over a re-packed archive sees target/ and nothing else */
	struct ent src[] = {F("a.c", "int a;"), D("d"), F("d/b.c", "int b;"), END};
	tar = build(src, F_GZIP, &len);
	void *out = NULL;
	size_t outlen;
	assert_int_equal(ff_archive_repack_for_container(tar, len, &out, &outlen, &err), 0);
	memset(&g, 0, sizeof(g));
	g.stop_at = -1;
	assert_int_equal(ff_archive_each_file(out, outlen, 4096, on_file, &g, &err), 0);
	assert_int_equal(g.calls, 2);
	assert_string_equal(g.paths[0], "target/a.c");
	assert_string_equal(g.first_data, "int a;");
	assert_string_equal(g.paths[1], "target/d/b.c");
	free(out);
	free(tar);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(check_table), cmocka_unit_test(not_archives),
	    cmocka_unit_test(truncated),   cmocka_unit_test(names),
	    cmocka_unit_test(repack),	   cmocka_unit_test(each_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

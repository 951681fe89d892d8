/* fuzz_archive — ff_archive on arbitrary bytes: the check, then for what passes, the
 * re-pack and a walk over its output. Beyond memory errors it asserts what the module
 * promises: the stream check gives the in-memory check's verdict whatever the size of the
 * pieces it reads, what passes the check re-packs, and the re-packed tar holds only target/
 * and results/ paths without "..". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ff_archive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int dotdot(const char *p)
{
	for (;;) {
		if (p[0] == '.' && p[1] == '.' && (p[2] == '/' || !p[2]))
			return 1;
		p = strchr(p, '/');
		if (!p)
			return 0;
		p++;
	}
}

struct pieces {
	const uint8_t *p;
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

static int on_begin(void *ctx, const char *path, uint64_t size)
{
	(void)ctx;
	(void)size;
	if (strncmp(path, "target/", 7) != 0 || dotdot(path)) {
		fprintf(stderr, "re-packed archive holds %s\n", path);
		abort();
	}
	return 1;
}

static int on_data(void *ctx, const void *p, size_t n)
{
	size_t *sum = ctx;
	for (size_t i = 0; i < n; i++)
		*sum += ((const unsigned char *)p)[i];
	return 0;
}

static int on_end(void *ctx)
{
	(void)ctx;
	return 0;
}

/* ff_archive_stream_files over the re-packed tar, from a memory file. */
static int walk(const void *out, size_t outlen, size_t *sum, struct ff_err *err)
{
	const struct ff_archive_file_sink sink = {on_begin, on_data, on_end, sum};
	int fd = memfd_create("repacked", 0);
	if (fd < 0 || write(fd, out, outlen) != (ssize_t)outlen || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	int rc = ff_archive_stream_files(fd, UINT64_MAX, &sink, err);
	close(fd);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* small limits keep each input fast; the re-pack uses the defaults, which are larger */
	struct ff_archive_limits lim = {.max_entries = 1000, .max_unpacked_bytes = 8u << 20};
	struct ff_archive_info info, sinfo;
	struct ff_err err = {0}, serr = {0};
	void *out = NULL;
	size_t outlen = 0, sum = 0;

	int rc = ff_archive_check(data, size, &lim, &info, &err);
	/* pieces of 1 to 64 bytes, chosen by the input's first byte */
	struct pieces src = {data, size, size ? (size_t)(data[0] & 63) + 1 : 1};
	int src_rc = ff_archive_check_stream(piece_read, &src, &lim, &sinfo, &serr);
	if (src_rc != rc || strcmp(serr.msg, err.msg) != 0 ||
	    (rc == 0 && memcmp(&info, &sinfo, sizeof(info)) != 0)) {
		fprintf(stderr, "in pieces of %zu: %d %s; whole: %d %s\n", src.step, src_rc,
			serr.msg, rc, err.msg);
		abort();
	}
	if (rc < 0)
		return 0;
	if (info.files > info.entries || info.unpacked_bytes > lim.max_unpacked_bytes)
		abort();
	if (ff_archive_repack_for_container(data, size, &out, &outlen, &err) < 0) {
		fprintf(stderr, "checked archive does not re-pack: %s\n", err.msg);
		abort();
	}
	if (walk(out, outlen, &sum, &err) < 0) {
		fprintf(stderr, "re-packed archive does not walk: %s\n", err.msg);
		abort();
	}
	free(out);
	return 0;
}

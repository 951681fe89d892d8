/* fuzz_archive — ff_archive on arbitrary bytes: the check, then for what passes, the
 * re-pack and a walk over its output. Beyond memory errors it asserts what the module
 * promises: what passes the check re-packs, and the re-packed tar holds only target/ and
 * results/ paths without "..". */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int on_file(void *ctx, const char *path, const void *data, size_t len)
{
	size_t *sum = ctx;
	if (strncmp(path, "target/", 7) != 0 || dotdot(path)) {
		fprintf(stderr, "re-packed archive holds %s\n", path);
		abort();
	}
	for (size_t i = 0; data && i < len; i++)
		*sum += ((const unsigned char *)data)[i];
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* small limits keep each input fast; the re-pack uses the defaults, which are larger */
	struct ff_archive_limits lim = {.max_entries = 1000, .max_unpacked_bytes = 8u << 20};
	struct ff_archive_info info;
	struct ff_err err = {0};
	void *out = NULL;
	size_t outlen = 0, sum = 0;

	if (ff_archive_check(data, size, &lim, &info, &err) < 0)
		return 0;
	if (info.files > info.entries || info.unpacked_bytes > lim.max_unpacked_bytes)
		abort();
	if (ff_archive_repack_for_container(data, size, &out, &outlen, &err) < 0) {
		fprintf(stderr, "checked archive does not re-pack: %s\n", err.msg);
		abort();
	}
	if (ff_archive_each_file(out, outlen, 4096, on_file, &sum, &err) < 0) {
		fprintf(stderr, "re-packed archive does not walk: %s\n", err.msg);
		abort();
	}
	free(out);
	return 0;
}

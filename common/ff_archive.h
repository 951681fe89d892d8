/* ff_archive — target archives (tar or tar.gz) through libarchive: checking an upload is
 * safe, re-packing it for a container, and reading the tar the Docker engine returns.
 */
#ifndef FF_ARCHIVE_H
#define FF_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#include "ff_err.h"

struct ff_archive_limits {
	uint64_t max_entries;	     /* 0 = 100000 */
	uint64_t max_unpacked_bytes; /* 0 = 1 GiB: sum of regular files' sizes */
};

struct ff_archive_info {
	uint64_t entries;
	uint64_t files;
	uint64_t unpacked_bytes;
};

/* Checks that buf is a tar or gzip-compressed tar whose every entry is a regular file, a
 * directory, a symlink or a hardlink, with a relative path free of ".." components, whose
 * links resolve inside the tree, within the limits (lim may be NULL). An empty archive is
 * valid. On failure returns FF_EVALIDATE (FF_ETOOBIG past a limit) and err names the entry. */
int ff_archive_check(const void *buf, size_t len, const struct ff_archive_limits *lim,
		     struct ff_archive_info *info, struct ff_err *err);

/* Re-packs a target archive (checked again on the way) into an uncompressed tar for the
 * Engine's PUT /containers/{id}/archive?path=/ : every entry under "target/", owner 0:0,
 * files 0644 (0755 if any execute bit was set), directories 0755, setuid/setgid/sticky
 * dropped, plus a "target/" directory 0755 and an empty "results/" directory 01777.
 * On success *out is malloc'd (caller frees) and *outlen its size. */
int ff_archive_repack_for_container(const void *buf, size_t len, void **out, size_t *outlen,
				    struct ff_err *err);

/* Walks an uncompressed tar (as GET /containers/{id}/archive returns) and calls cb for each
 * regular file, with its path as stored ("results/results.sarif") and its content. A file
 * larger than max_file_bytes gets cb with data NULL and len its real size, so the caller
 * can report it. cb returns 0 to go on, negative to stop (that code is returned). */
typedef int (*ff_archive_file_cb)(void *ctx, const char *path, const void *data, size_t len);
int ff_archive_each_file(const void *buf, size_t len, size_t max_file_bytes, ff_archive_file_cb cb,
			 void *ctx, struct ff_err *err);

#endif

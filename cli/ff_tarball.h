/* ff_tarball — turning what the user points `ff upload` at into a target archive in memory:
 * a directory is packed as a gzip-compressed tar, a .tar / .tar.gz file is read as it is.
 *
 * The archive is built to pass the controller's checks (ff_archive_check): relative paths
 * only, regular files, directories and symlinks that stay inside the tree. Anything else a
 * tree may hold (sockets, fifos, devices, symlinks pointing out) is skipped and counted, and
 * .git is left out: it is large, rarely what is analysed, and may hold credentials.
 *
 * A directory always packs to the same bytes for the same tree (entries sorted by path, no
 * owners, times or gzip timestamp), so its SHA-256 names the tree: ff asks the controller
 * whether it holds that digest before sending the tree again.
 */
#ifndef FF_TARBALL_H
#define FF_TARBALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ff_err.h"

#define FF_TARBALL_MAX_BYTES ((size_t)512 << 20)

struct ff_tarball_stats {
	uint64_t files, dirs, symlinks;
	uint64_t skipped; /* special files and symlinks leaving the tree; .git not counted */
	uint64_t bytes;	  /* sum of regular files' sizes */
};

/* Packs the tree under dir (itself not an entry; paths relative to it, without "./") into a
 * gzip-compressed pax tar of at most max_bytes (0 = FF_TARBALL_MAX_BYTES). Entries are in
 * byte order of their stored names (a directory's ends in '/'); owners become 0:0 without names,
 * every mtime 0, permission bits are kept and setuid/setgid/sticky bits dropped; the gzip header
 * has no timestamp. A file that changes size while being packed is an error (FF_EINVAL). st may be
 * NULL. On success *out is malloc'd (caller frees) and *outlen its size. FF_ETOOBIG past max_bytes;
 * FF_EINVAL when dir is not a readable directory or an entry can't be read (err names it). */
int ff_tarball_dir(const char *dir, size_t max_bytes, void **out, size_t *outlen,
		   struct ff_tarball_stats *st, struct ff_err *err);

/* Reads a tar or tar.gz file of at most max_bytes (0 = FF_TARBALL_MAX_BYTES). On success *out
 * is malloc'd (caller frees), *outlen its size and *content_type a static string,
 * "application/gzip" or "application/x-tar". FF_EINVAL when the file is neither. */
int ff_tarball_load_file(const char *path, size_t max_bytes, void **out, size_t *outlen,
			 const char **content_type, struct ff_err *err);

/* The Content-Type for an archive held in memory, from its magic bytes; NULL when it is
 * neither gzip nor a ustar/pax/gnu tar. */
const char *ff_tarball_content_type(const void *buf, size_t len);

/* True when a symlink stored at entry_path (relative, '/'-separated) with the given target
 * resolves inside the archive's tree: target relative and never climbing above the root. */
bool ff_tarball_link_inside(const char *entry_path, const char *target);

#endif

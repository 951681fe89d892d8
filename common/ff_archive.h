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
	/* 0 = max_unpacked_bytes + 64 MiB: the decompressed tar itself, headers, pax and GNU
	 * extended headers, long names, sparse maps and padding included. Beyond its files'
	 * data a tar holds about 1 KiB per entry (a 512-byte header, padding to 512) and a
	 * block or two more for a long name: 64 MiB is that for some 50000 entries more than
	 * an archive already at max_unpacked_bytes can have, so only such an archive near both
	 * limits is refused, while a header bomb costs no more decompression than an archive
	 * that passes. */
	uint64_t max_stream_bytes;
};

struct ff_archive_info {
	uint64_t entries;
	uint64_t files;
	uint64_t unpacked_bytes;
};

/* Reads a target archive piece by piece: *buf pointing at n bytes, valid until the next call;
 * 0 at its end; negative FF_E* with err set (or not: a generic message is used) to stop. */
typedef long (*ff_archive_read_fn)(void *ctx, const void **buf, struct ff_err *err);

/* Checks that the archive rd supplies is a tar or gzip-compressed tar whose every entry is a
 * regular file, a directory, a symlink or a hardlink, with a relative path free of ".."
 * components, whose links resolve inside the tree, none inside a symlink or a file, within
 * the limits (lim may be NULL). An empty archive is valid. On success info (may be NULL) is
 * filled.
 *   Bounded whatever the input, so it can run while the upload arrives and is stored: rd's
 * pieces may be of any size and are not kept, and rd is read to its end (0) when the archive
 * passes. Memory stays under 8 MiB with the default limits: libarchive's buffers (under
 * 4 MiB: it refuses a special header over 1 MiB itself), a 64 KiB chunk, and the tree's
 * table, 8 bytes a path at most 4/5 full (2 MiB for 100000 entries and the directories above
 * them, at most 2 * max_entries paths) plus at most 1 MiB of symlinks' paths and targets.
 * Refused with FF_ETOOBIG as soon as it is passed: max_entries; max_unpacked_bytes (declared
 * sizes, sparse holes included, and the bytes actually decompressed); max_stream_bytes; and
 * about 256 KiB for any one entry's headers (pax, GNU long names, sparse maps), so a chain
 * of pax headers fails within the first 320 KiB it decompresses.
 *   Fails with FF_EVALIDATE otherwise, err naming the entry, or with rd's own code and err.
 * Only a symlink climbing out of another is found at rd's end; everything else as the
 * entries come. */
int ff_archive_check_stream(ff_archive_read_fn rd, void *ctx, const struct ff_archive_limits *lim,
			    struct ff_archive_info *info, struct ff_err *err);

/* The same check on an archive held whole (buf may be NULL when len is 0). */
int ff_archive_check(const void *buf, size_t len, const struct ff_archive_limits *lim,
		     struct ff_archive_info *info, struct ff_err *err);

/* Re-packs a target archive (checked again on the way) into an uncompressed tar for the
 * Engine's PUT /containers/{id}/archive?path=/ : every entry under "target/", owner 0:0,
 * files 0644 (0755 if any execute bit was set), directories 0755, setuid/setgid/sticky
 * dropped, plus a "target/" directory 0755 and an empty "results/" directory 01777.
 * On success *out is malloc'd (caller frees) and *outlen its size. */
int ff_archive_repack_for_container(const void *buf, size_t len, void **out, size_t *outlen,
				    struct ff_err *err);

/* The same re-pack as a stream, for targets that must never be held whole: rd supplies the
 * stored archive piece by piece, checked with the default limits, and each
 * ff_archive_repack_read fills buf with up to n bytes of the re-packed tar: its count, 0 at
 * the end, or a negative FF_E* code with ff_archive_repack_error() saying why. Memory is
 * bounded as ff_archive_check_stream's: a sparse file's holes pass through the chunk as
 * zeros. A check can fail after earlier entries were handed out (a symlink climbing out of
 * another only at the end): a consumer must treat a failed stream as a failed copy and
 * discard what it received (the worker aborts the upload and drops the volume). */
struct ff_archive_repack;
int ff_archive_repack_open(ff_archive_read_fn rd, void *ctx, struct ff_archive_repack **out,
			   struct ff_err *err);
long ff_archive_repack_read(struct ff_archive_repack *r, void *buf, size_t n);
const struct ff_err *ff_archive_repack_error(const struct ff_archive_repack *r);
/* Bytes of file data read so far (all of it once the stream ended). */
uint64_t ff_archive_repack_unpacked(const struct ff_archive_repack *r);
void ff_archive_repack_free(struct ff_archive_repack *r); /* NULL-safe */

/* Streams an uncompressed tar from fd (read from its current offset) file by file: for each
 * regular file, begin(path normalised, e.g. "results/results.sarif", size) returns 1 to
 * receive its data, 0 to skip it, negative to stop; then data() gets it in chunks of at most
 * 64 KiB and end() follows. Links and other entries are skipped, never followed. File data
 * read past max_total in all fails with FF_ETOOBIG, counted as it is read. A callback's
 * negative code stops the walk and is returned (the callback sets err). */
struct ff_archive_file_sink {
	int (*begin)(void *ctx, const char *path, uint64_t size);
	int (*data)(void *ctx, const void *p, size_t n);
	int (*end)(void *ctx);
	void *ctx;
};
int ff_archive_stream_files(int fd, uint64_t max_total, const struct ff_archive_file_sink *s,
			    struct ff_err *err);

#endif

/* spool — a worker-private scratch file with a size cap, for bytes that must not sit in
 * memory: the /results tar streamed from the engine, and the artifacts on their way to
 * PostgreSQL. The file has no name (O_TMPFILE, else created and unlinked at once), so it
 * vanishes with its descriptor, also when the worker dies. */
#ifndef SPOOL_H
#define SPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "ff_err.h"

struct spool {
	int fd; /* valid while open */
	int open;
	uint64_t len, max;
};

/* Opens an empty spool in dir (NULL: $TMPDIR, else /tmp) holding at most max bytes. */
int spool_open(struct spool *s, const char *dir, uint64_t max, struct ff_err *err);
/* Appends n bytes: 0, or FF_ETOOBIG (nothing written) when len + n would pass max. */
int spool_write(struct spool *s, const void *p, size_t n, struct ff_err *err);
/* Reads up to n bytes at off: the count (0 past the end) or a negative FF_E* code. */
long spool_pread(const struct spool *s, void *p, size_t n, uint64_t off, struct ff_err *err);
void spool_close(struct spool *s); /* safe on a closed or zeroed spool */

#endif

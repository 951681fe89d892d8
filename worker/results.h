/* results — what a workflow left in /results: the SARIF log (/results/results.sarif) and the
 * files under /results/artifacts/, read within limits that are enforced while reading, so
 * that nothing is ever held whole but an accepted SARIF log.
 *
 * Two ways in, one set of rules:
 * - results_collect_dir: straight from the engine's volume directory, when this worker can
 *   see it (same host). Every open is openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
 *   RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) relative to the volume's root, with O_NOFOLLOW
 *   and O_NONBLOCK, and only regular files are read: a symlink, a fifo or a device planted
 *   by the workflow is skipped (and named in r->skipped), never followed, so a hostile tree
 *   cannot make the worker read a host file.
 * - results_collect_archive: GET /containers/{id}/archive streamed into a spool file with
 *   the size cap enforced as it is written, then walked from there (links are tar entries,
 *   never followed).
 * The SARIF log is kept in memory only up to sarif_max bytes (above, r->sarif_error says
 * so and nothing is read); artifacts are copied into r->spool, in order, each at
 * artifacts[i].off, for the store to stream into large objects. */
#ifndef RESULTS_H
#define RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "docker.h"
#include "ff_buf.h"
#include "spool.h"

#define RESULTS_ARTIFACT_NAME_MAX 255
#define RESULTS_MAX_ARTIFACTS	  10000
#define RESULTS_MAX_DEPTH	  32
#define RESULTS_EMPTY_MAX_DEPTH	  64

struct results_limits {
	uint64_t max_bytes;    /* every file read, in all (FF_RESULTS_MAX_MB) */
	size_t sarif_max;      /* the SARIF log kept in memory (FF_SARIF_MAX_MB) */
	const char *spool_dir; /* NULL: $TMPDIR or /tmp */
};

struct artifact {
	char *name;	    /* the path under /results/artifacts/, valid UTF-8 (a byte that is not
			       becomes U+FFFD) and at most RESULTS_ARTIFACT_NAME_MAX bytes as read */
	uint64_t off, size; /* where its bytes are in the spool */
};

struct results {
	char *sarif; /* NUL-terminated, sarif_len bytes; NULL when none was read */
	size_t sarif_len;
	bool have_sarif;       /* a results.sarif was there, read or refused */
	char sarif_error[200]; /* why it was refused ("" if it was not) */
	char skipped[300];     /* the first entry skipped as unsafe, for the run's history */
	struct artifact *artifacts;
	size_t nartifacts, artifacts_cap;
	struct spool spool; /* the artifacts' bytes */
	/* while collecting */
	const struct results_limits *lim;
	struct ff_err *err;
	int cur; /* 0 nothing, 1 the SARIF log, 2 an artifact */
	struct ff_buf sb;
};

/* Either way: r is zeroed first and is the caller's to release whatever the outcome;
 * FF_ETOOBIG past a limit. results_collect_dir returns FF_EUNAVAIL, having read nothing,
 * when the directory cannot be opened here (another host) or openat2 is missing: the
 * caller then uses the archive. */
int results_collect_dir(const char *mountpoint, const struct results_limits *lim, struct results *r,
			struct ff_err *err);
int results_collect_archive(struct docker *d, const char *container,
			    const struct results_limits *lim, struct results *r,
			    struct ff_err *err);
/* The archive way's second half, r zeroed first as above: walks the uncompressed tar of
 * /results read from fd (from its current offset) as results_collect_archive does with what
 * the engine sent. Also what tests and the fuzzer drive, with no engine. */
int results_collect_tar(int fd, const struct results_limits *lim, struct results *r,
			struct ff_err *err);
void results_release(struct results *r);

/* Removes everything inside the directory path (a kept results volume, between runs), by
 * the direct read's rules: a link is unlinked, never followed, and every directory is
 * opened beneath its parent with openat2. FF_ETOOBIG when the tree is nested deeper than
 * RESULTS_EMPTY_MAX_DEPTH (each level holds two descriptors), FF_EUNAVAIL when path cannot
 * be opened, FF_EINTERNAL when an entry cannot be removed (err names it). */
int results_empty_dir(const char *path, struct ff_err *err);

/* While a workflow runs: whether the tree under dir (its /results, seen from this host)
 * uses more than max_bytes of disk or holds more than max_entries entries. The walk never
 * follows a link nor leaves the file system, and stops as soon as either limit is passed.
 * The heartbeat asks once a second, so a workflow gets at most a second's writes past the
 * limit before its container is killed. */
bool results_over(const char *dir, uint64_t max_bytes, long max_entries);

#endif

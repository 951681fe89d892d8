/* tcache — the worker's table of cached target volumes, shared by its executors.
 *
 * A target is copied into a Docker volume once per engine and then mounted read-only by
 * every run of it. On the engine a cached target is two volumes:
 *   ff-tdata-<sha256 prefix>-<fill id>  the files (labels fuzzforge.target=<digest>);
 *   ff-target-<sha256 prefix>            the completion marker, created only after the
 *       data volume was filled, labelled with the digest, the data volume's name
 *       (fuzzforge.volume) and its size (fuzzforge.bytes).
 * Docker volume labels cannot change after creation and volumes cannot be renamed, so the
 * marker is what makes a fill visible to every worker on the engine: volume create is
 * create-if-absent and answers with the existing volume, so when two workers fill one
 * digest at once both markers name the first data volume and the loser drops its own.
 * This table holds what this worker knows: digest, data volume, size, how many of its
 * executors use it now, and a use counter for least-recently-used eviction past the cap
 * (FF_TARGET_CACHE_MB). The engine refuses to remove a volume any container uses, which
 * guards the other workers' runs; a run checks the marker again once its container exists
 * (exec.c), so a volume evicted between the look-up and the create is never used empty.
 * Thread-safe; fills of one digest are serialised by tcache_fill_lock. */
#ifndef TCACHE_H
#define TCACHE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define TCACHE_PREFIX 32 /* hex digits of the digest in volume names */

struct tcache_entry {
	char digest[65];
	char volume[128];
	uint64_t bytes;
	uint64_t last_used; /* the table's use counter when last used (0: found at start) */
	int users;	    /* this worker's runs mounting it now */
};

struct tcache;

struct tcache *tcache_new(uint64_t cap_bytes);
void tcache_free(struct tcache *c); /* NULL-safe */

/* The marker volume's name for a digest: "ff-target-<prefix>". */
void tcache_marker_name(const char *digest, char out[64]);
/* One of a fixed set of mutexes, chosen by digest: held while looking up and filling. */
pthread_mutex_t *tcache_fill_lock(struct tcache *c, const char *digest);

/* On a hit copies the data volume's name, counts one more user and returns 1; else 0. */
int tcache_acquire(struct tcache *c, const char *digest, char volume[128]);
/* Records a volume (found on the engine or just filled); users: 1 when a run mounts it now,
 * 0 for one found at start. Replaces an entry of the same digest. */
void tcache_add(struct tcache *c, const char *digest, const char *volume, uint64_t bytes,
		int users);
/* The run is done with the digest's volume. */
void tcache_release(struct tcache *c, const char *digest);
/* Drops the digest's entry (its volume vanished). */
void tcache_forget(struct tcache *c, const char *digest);

/* Pure: which entries to evict so that the rest fit in cap bytes, least recently used
 * first, never one with users. Writes their indexes to out (room for n) and returns how
 * many; stops early if only used entries remain. */
size_t tcache_pick_victims(const struct tcache_entry *v, size_t n, uint64_t cap, size_t *out);
/* Takes the victims out of the table and copies them to out (room for max), for the caller
 * to remove from the engine; returns how many. */
size_t tcache_take_victims(struct tcache *c, struct tcache_entry *out, size_t max);

#endif

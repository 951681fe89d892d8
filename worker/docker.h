/* docker — a small client for the Docker Engine API (pinned to v1.41) over libcurl.
 * One struct docker keeps one libcurl easy handle, so its connection to the engine stays open
 * between calls; it is used by one thread at a time.
 * Errors: FF_ENOTFOUND for a 404 (no such image/container/volume), FF_EUNAVAIL when the
 * engine can't be reached, FF_ETIMEOUT past a deadline, FF_EINTERNAL otherwise, with the
 * engine's own message in err. */
#ifndef DOCKER_H
#define DOCKER_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "ff_err.h"

#define DOCKER_API_VERSION "v1.41"

struct docker;

/* libcurl's global state: once at start, before any thread makes a struct docker.
 * docker_global_cleanup() at exit, after every struct docker is freed. */
int docker_global_init(struct ff_err *err);
void docker_global_cleanup(void);

/* host: "unix:///var/run/docker.sock" or "tcp://host:port". Caller frees. */
int docker_new(const char *host, struct docker **out, struct ff_err *err);
void docker_free(struct docker *d); /* NULL-safe */

int docker_ping(struct docker *d, struct ff_err *err);

/* labels may be NULL; it is not consumed. */
int docker_volume_create(struct docker *d, const char *name, const cJSON *labels,
			 struct ff_err *err);
/* A volume already gone is not an error. */
int docker_volume_remove(struct docker *d, const char *name, struct ff_err *err);

/* Creates a container from spec (not consumed); id gets the new container's id. */
int docker_container_create(struct docker *d, const char *name, const cJSON *spec, char id[65],
			    struct ff_err *err);
int docker_container_start(struct docker *d, const char *id, struct ff_err *err);
/* Kills with SIGKILL; a container that is not running is not an error. */
int docker_container_kill(struct docker *d, const char *id, struct ff_err *err);
/* Removes with force; a container already gone is not an error. */
int docker_container_remove(struct docker *d, const char *id, struct ff_err *err);
/* Waits for the container to stop; *exit_code gets its status. */
int docker_container_wait(struct docker *d, const char *id, long timeout_ms, int *exit_code,
			  struct ff_err *err);

/* Streams the container's stdout and stderr until it stops or timeout_ms passes (then
 * FF_ETIMEOUT), calling on_data with each piece as it arrives (stream 1 stdout, 2 stderr),
 * and at least once a second with stream 0 and no data, output or not.
 * The engine's multiplexed frames are taken apart here. */
typedef void (*docker_output_cb)(void *ctx, int stream, const char *data, size_t len);
int docker_container_follow_logs(struct docker *d, const char *id, long timeout_ms,
				 docker_output_cb on_data, void *ctx, struct ff_err *err);

/* The demultiplexer docker_container_follow_logs feeds the engine's reply through, public
 * so that tests and the fuzzer drive it without an engine: frames of an 8-byte header
 * {stream, 0, 0, 0, size as big-endian uint32} and size bytes of payload, split anywhere
 * across the pieces fed; on_data gets each frame's payload, possibly in several calls. */
struct docker_demux {
	docker_output_cb on_data;
	void *ctx;
	unsigned char hdr[8];
	size_t hdr_len;
	size_t frame_left;
};
void docker_demux_feed(struct docker_demux *dm, const char *p, size_t n);

/* Extracts an uncompressed tar into the container's filesystem at dir. */
int docker_archive_put(struct docker *d, const char *id, const char *dir, const void *tar,
		       size_t len, struct ff_err *err);
/* Reads path out of the container as a tar; *tar is malloc'd (caller frees). Past max_bytes
 * the call fails with FF_ETOOBIG. */
int docker_archive_get(struct docker *d, const char *id, const char *path, size_t max_bytes,
		       void **tar, size_t *len, struct ff_err *err);

/* Streams a tar into the container at dir: rd fills buf with up to n bytes and returns how
 * many, 0 at the end, or a negative code to abort the upload (the call then fails and the
 * engine has extracted only part of it). Sent chunked: the length is never known. */
typedef long (*docker_read_fn)(void *ctx, void *buf, size_t n);
int docker_archive_put_stream(struct docker *d, const char *id, const char *dir, docker_read_fn rd,
			      void *ctx, struct ff_err *err);
/* Streams path out of the container as a tar, handing each piece to sink as it arrives;
 * sink returns negative to stop (the call then fails with FF_ETOOBIG). A sink may also be
 * handed an error reply's body: the status is known only afterwards, so a caller discards
 * what it got when the call fails. */
typedef int (*docker_sink_fn)(void *ctx, const void *data, size_t n);
int docker_archive_get_stream(struct docker *d, const char *id, const char *path,
			      docker_sink_fn sink, void *ctx, struct ff_err *err);

/* GET /volumes/{name}: *out gets the volume's JSON (caller deletes); FF_ENOTFOUND if none. */
int docker_volume_inspect(struct docker *d, const char *name, cJSON **out, struct ff_err *err);
/* As docker_volume_create, and *out gets the reply: the volume as the engine has it, which
 * for a name that already existed carries the existing volume's labels (caller deletes). */
int docker_volume_create2(struct docker *d, const char *name, const cJSON *labels, cJSON **out,
			  struct ff_err *err);
/* GET /volumes filtered on one label ("key" or "key=value"); *out the reply (caller deletes). */
int docker_volume_list(struct docker *d, const char *label, cJSON **out, struct ff_err *err);

/* POST /images/create: pulls ref ("host:port/name:tag" or "host:port/name@sha256:...") into
 * the engine, reading its progress stream as it comes; digest gets the one the engine
 * reports ("" if it said none). FF_ENOTFOUND: the registry has no such image; FF_EUNAVAIL:
 * the pull failed otherwise (the registry unreachable, a layer cut short); err carries the
 * engine's message. */
int docker_image_pull(struct docker *d, const char *ref, char digest[80], struct ff_err *err);

/* GET /images/{ref}/json: 0 if the engine has ref, FF_ENOTFOUND if not. */
int docker_image_inspect(struct docker *d, const char *ref, struct ff_err *err);
/* GET /version: the engine's version ("20.10.24+dfsg1"; "unknown" if it names none). */
int docker_version(struct docker *d, char out[64], struct ff_err *err);
/* GET /images/json: *out the engine's images, each with its RepoTags and RepoDigests
 * (caller deletes). */
int docker_image_list(struct docker *d, cJSON **out, struct ff_err *err);

#endif

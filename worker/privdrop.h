/* privdrop — a worker started as root becomes an unprivileged user before it does anything
 * else. Its container image starts it as root for one reason: to join the group that owns
 * the Docker socket mounted from the host, whose gid differs from host to host (and which a
 * compose file cannot look up). */
#ifndef FF_PRIVDROP_H
#define FF_PRIVDROP_H

#include <sys/types.h>

#include "ff_err.h"

/* Parses "uid:gid" (decimal, neither 0). 0, or FF_EINVAL with err filled. */
int privdrop_parse(const char *spec, uid_t *uid, gid_t *gid, struct ff_err *err);

/* When running as root and run_as ("uid:gid") is set: becomes uid:gid with the Docker
 * socket's group (docker_host "unix://PATH") as the only supplementary group, and checks
 * that root cannot be regained. Not root, or run_as NULL/empty: does nothing. 0 or < 0. */
int privdrop(const char *run_as, const char *docker_host, struct ff_err *err);

#endif

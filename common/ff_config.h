/* ff_config — configuration from environment variables, described by one table per binary.
 * Each entry names its variable, its type, its default and its bounds; ff_config_load fills
 * the destinations and refuses values that don't parse or are out of bounds, naming the
 * variable. `--help` output walks the same table (ff_config_usage). */
#ifndef FF_CONFIG_H
#define FF_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "ff_err.h"

enum ff_config_type {
	FF_CFG_STR,  /* dst: const char ** (points into the environment or at def) */
	FF_CFG_INT,  /* dst: long *, within [min, max] */
	FF_CFG_BOOL, /* dst: int *; 1/0, true/false, yes/no, on/off */
};

struct ff_config_entry {
	const char *env;
	enum ff_config_type type;
	const char *def; /* NULL: no default (a STR stays NULL when unset) */
	long min, max;
	void *dst;
	const char *help;
};

/* getenv_fn lets tests supply variables; pass NULL for getenv(3). */
int ff_config_load(const struct ff_config_entry *tab, size_t n,
		   const char *(*getenv_fn)(const char *name), struct ff_err *err);
void ff_config_usage(FILE *out, const struct ff_config_entry *tab, size_t n);

/* Splits "host:port" (host may be empty or "[v6]") into host and port; port 1..65535. */
int ff_config_split_hostport(const char *s, char *host, size_t hostlen, int *port,
			     struct ff_err *err);

#endif

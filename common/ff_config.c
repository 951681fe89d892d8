/* ff_config — environment configuration tables; see ff_config.h. */
#include "ff_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *env_getenv(const char *name)
{
	return getenv(name);
}

static int parse_long(const char *s, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, int *out)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

int ff_config_load(const struct ff_config_entry *tab, size_t n,
		   const char *(*getenv_fn)(const char *name), struct ff_err *err)
{
	if (!getenv_fn)
		getenv_fn = env_getenv;
	for (size_t i = 0; i < n; i++) {
		const struct ff_config_entry *e = &tab[i];
		const char *v = getenv_fn(e->env);
		if (!v || !*v)
			v = e->def;
		switch (e->type) {
		case FF_CFG_STR: *(const char **)e->dst = v; break;
		case FF_CFG_INT: {
			long l;
			if (!v || parse_long(v, &l) < 0)
				return ff_err_field(err, FF_EINVAL, e->env,
						    "%s: not an integer: '%s'", e->env, v ? v : "");
			if (l < e->min || l > e->max)
				return ff_err_field(err, FF_EINVAL, e->env,
						    "%s: %ld is out of range %ld..%ld", e->env, l,
						    e->min, e->max);
			*(long *)e->dst = l;
			break;
		}
		case FF_CFG_BOOL:
			if (!v || parse_bool(v, (int *)e->dst) < 0)
				return ff_err_field(err, FF_EINVAL, e->env,
						    "%s: not a boolean: '%s'", e->env, v ? v : "");
			break;
		}
	}
	return 0;
}

void ff_config_usage(FILE *out, const struct ff_config_entry *tab, size_t n)
{
	fprintf(out, "Environment:\n");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %-24s %s (default: %s)\n", tab[i].env, tab[i].help,
			tab[i].def ? tab[i].def : "unset");
}

int ff_config_split_hostport(const char *s, char *host, size_t hostlen, int *port,
			     struct ff_err *err)
{
	const char *colon = strrchr(s, ':');
	long p;
	if (!colon || parse_long(colon + 1, &p) < 0 || p < 1 || p > 65535)
		return ff_err_set(err, FF_EINVAL, "'%s' is not host:port", s);
	const char *h = s;
	size_t hl = (size_t)(colon - s);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']')
		h++, hl -= 2;
	if (hl >= hostlen)
		return ff_err_set(err, FF_EINVAL, "host in '%s' is too long", s);
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

/* ff_profile — the config file's profiles; see ff_profile.h. */
#include "ff_profile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char *ff_profile_path(char *buf, size_t n)
{
	const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
	if (xdg && *xdg)
		snprintf(buf, n, "%s/fuzzforge/config", xdg);
	else
		snprintf(buf, n, "%s/.config/fuzzforge/config", home ? home : "");
	return buf;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* "~/x" as $HOME/x. */
static void expand_home(const char *v, char *out, size_t n)
{
	const char *home = getenv("HOME");
	if (v[0] == '~' && v[1] == '/' && home)
		snprintf(out, n, "%s%s", home, v + 1);
	else
		snprintf(out, n, "%s", v);
}

static int read_key(const char *file, struct ff_profile *out, struct ff_err *err)
{
	char path[1024];
	expand_home(file, path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (!f)
		return ff_err_set(err, FF_EINVAL, "key_file %s: %s", path, strerror(errno));
	struct stat st;
	out->key_readable_by_others = fstat(fileno(f), &st) == 0 && (st.st_mode & 077);
	char line[sizeof(out->key)] = "";
	bool got = fgets(line, sizeof(line), f) != NULL;
	fclose(f);
	char *k = trim(line);
	if (!got || !*k)
		return ff_err_set(err, FF_EINVAL, "key_file %s: no key in its first line", path);
	snprintf(out->key, sizeof(out->key), "%s", k);
	explicit_bzero(line, sizeof(line));
	return 0;
}

int ff_profile_load(const char *path, const char *name, struct ff_profile *out, struct ff_err *err)
{
	*out = (struct ff_profile){0};
	FILE *f = fopen(path, "r");
	if (!f)
		return ff_err_set(err, FF_ENOTFOUND, "no config file %s", path);
	char line[2048], key_file[1024] = "";
	bool in = false, found = false;
	int rc = 0;
	for (int no = 1; fgets(line, sizeof(line), f); no++) {
		char *l = trim(line);
		if (!*l || *l == '#' || *l == ';')
			continue;
		size_t n = strlen(l);
		if (*l == '[' && l[n - 1] == ']') {
			l[n - 1] = '\0';
			in = !strcmp(trim(l + 1), name);
			found = found || in;
			continue;
		}
		char *eq = strchr(l, '=');
		if (!eq) {
			rc = ff_err_set(err, FF_EINVAL, "%s:%d: not a [profile] or key = value",
					path, no);
			break;
		}
		*eq = '\0';
		const char *k = trim(l), *v = trim(eq + 1);
		if (strcmp(k, "url") && strcmp(k, "key_file")) {
			rc = ff_err_set(err, FF_EINVAL,
					"%s:%d: unknown setting '%s' (url, key_file)", path, no, k);
			break;
		}
		if (!in)
			continue;
		if (!strcmp(k, "url"))
			snprintf(out->url, sizeof(out->url), "%s", v);
		else
			snprintf(key_file, sizeof(key_file), "%s", v);
	}
	fclose(f);
	if (!rc && !found)
		rc = ff_err_set(err, FF_ENOTFOUND, "no profile [%s] in %s", name, path);
	if (!rc && key_file[0])
		rc = read_key(key_file, out, err);
	return rc;
}

/* privdrop — see privdrop.h. */
#include "privdrop.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int parse_id(const char *s, char end, long *out)
{
	char *e;
	errno = 0;
	long v = strtol(s, &e, 10);
	if (e == s || *e != end || errno || v <= 0 || v > 0x7fffffffL)
		return -1;
	*out = v;
	return 0;
}

int privdrop_parse(const char *spec, uid_t *uid, gid_t *gid, struct ff_err *err)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;
	long u, g;
	if (!colon || parse_id(spec, ':', &u) < 0 || parse_id(colon + 1, '\0', &g) < 0)
		return ff_err_set(err, FF_EINVAL, "'%s' is not uid:gid (two numbers, not 0)",
				  spec ? spec : "");
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

int privdrop(const char *run_as, const char *docker_host, struct ff_err *err)
{
	uid_t uid;
	gid_t gid, groups[1];
	size_t ngroups = 0;
	struct stat st;

	if (!run_as || !*run_as || geteuid() != 0)
		return 0;
	if (privdrop_parse(run_as, &uid, &gid, err) < 0)
		return FF_EINVAL;
	if (docker_host && !strncmp(docker_host, "unix://", 7) && stat(docker_host + 7, &st) == 0 &&
	    st.st_gid != 0)
		groups[ngroups++] = st.st_gid;
	if (setgroups(ngroups, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		return ff_err_set(err, FF_EINTERNAL, "cannot become %s: %s", run_as,
				  strerror(errno));
	if (setuid(0) == 0 || geteuid() == 0)
		return ff_err_set(err, FF_EINTERNAL, "still able to regain root after dropping");
	return 0;
}

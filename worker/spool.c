/* spool — capped scratch files; see spool.h. */

#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int spool_open(struct spool *s, const char *dir, uint64_t max, struct ff_err *err)
{
	char path[512];
	if (!dir)
		dir = getenv("TMPDIR");
	if (!dir || !*dir)
		dir = "/tmp";
	*s = (struct spool){.fd = -1, .max = max};
	s->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (s->fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
		snprintf(path, sizeof(path), "%s/ff-spool-XXXXXX", dir);
		s->fd = mkostemp(path, O_CLOEXEC);
		if (s->fd >= 0)
			unlink(path);
	}
	s->open = s->fd >= 0;
	if (s->fd < 0)
		return ff_err_set(err, FF_EINTERNAL, "cannot open a spool file in %s: %s", dir,
				  strerror(errno));
	return 0;
}

int spool_write(struct spool *s, const void *p, size_t n, struct ff_err *err)
{
	if (n > s->max - s->len)
		return ff_err_set(err, FF_ETOOBIG, "more than %llu bytes",
				  (unsigned long long)s->max);
	const char *c = p;
	size_t left = n;
	while (left > 0) {
		ssize_t w = pwrite(s->fd, c, left, (off_t)(s->len + (n - left)));
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return ff_err_set(err, FF_EINTERNAL, "spool write failed: %s",
					  w < 0 ? strerror(errno) : "no space");
		c += w;
		left -= (size_t)w;
	}
	s->len += n;
	return 0;
}

long spool_pread(const struct spool *s, void *p, size_t n, uint64_t off, struct ff_err *err)
{
	for (;;) {
		ssize_t r = pread(s->fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ff_err_set(err, FF_EINTERNAL, "spool read failed: %s",
					  strerror(errno));
		return (long)r;
	}
}

void spool_close(struct spool *s)
{
	if (s->open)
		close(s->fd);
	s->open = 0;
	s->fd = -1;
	s->len = 0;
}

/* ff_buf — the capped buffer and the bounded file reader; see ff_buf.h. */
#include "ff_buf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ff_util.h"

#define FIRST_CAP  ((size_t)256)
#define READ_CHUNK ((size_t)64 * 1024)

void ff_buf_init(struct ff_buf *b, size_t max)
{
	/* one byte below SIZE_MAX, so that max + 1 (the NUL) never wraps */
	*b = (struct ff_buf){.max = max < SIZE_MAX ? max : SIZE_MAX - 1};
}

int ff_buf_reserve(struct ff_buf *b, size_t n)
{
	if (b->err)
		return b->err;
	if (n > b->max - b->len)
		return b->err = FF_ETOOBIG;
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return 0;
	/* doubling, never past max + 1 */
	size_t cap = b->cap ? b->cap : FIRST_CAP;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
	if (cap > b->max + 1)
		cap = b->max + 1;
	char *p = realloc(b->data, cap);
	if (!p)
		return b->err = FF_ENOMEM;
	b->data = p;
	b->cap = cap;
	b->data[b->len] = '\0'; /* a NUL from the first allocation on */
	return 0;
}

int ff_buf_append(struct ff_buf *b, const void *p, size_t n)
{
	int rc = ff_buf_reserve(b, n);
	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int ff_buf_append_utf8(struct ff_buf *b, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; i < n && !b->err;) {
		size_t l = u[i] ? ff_utf8_seq_len(u + i, n - i) : 0;
		if (l)
			ff_buf_append(b, s + i, l);
		else
			ff_buf_append(b, "\xef\xbf\xbd", 3);
		i += l ? l : 1;
	}
	return b->err;
}

const char *ff_buf_str(const struct ff_buf *b)
{
	return b->data ? b->data : "";
}

char *ff_buf_take(struct ff_buf *b, size_t *len)
{
	char *out = NULL;
	if (b->err != FF_ENOMEM)
		out = b->data ? b->data : strdup("");
	else
		free(b->data);
	if (out && len)
		*len = b->len;
	*b = (struct ff_buf){.max = b->max};
	return out;
}

void ff_buf_release(struct ff_buf *b)
{
	free(b->data);
	*b = (struct ff_buf){.max = b->max};
}

int ff_file_read(const char *path, size_t max, char **out, size_t *len, struct ff_err *err)
{
	struct ff_buf b;
	struct stat st;
	char *chunk = NULL;
	int rc = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return ff_err_set(err, errno == ENOENT ? FF_ENOTFOUND : FF_EINVAL,
				  "cannot open %s: %s", path, strerror(errno));
	ff_buf_init(&b, max);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = ff_err_set(err, FF_EINVAL, "%s is not a regular file", path);
		goto out;
	}
	if ((uintmax_t)st.st_size > max) {
		rc = ff_err_set(err, FF_ETOOBIG, "%s is larger than %zu bytes", path, max);
		goto out;
	}
	/* the whole file and one byte more, which notices one that grew since fstat */
	if (!(chunk = malloc(READ_CHUNK)) ||
	    ff_buf_reserve(&b, (size_t)st.st_size < max ? (size_t)st.st_size + 1 : max) < 0) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	/* Read to the end, not to st_size: a file that grew since fstat still meets the cap. */
	for (;;) {
		ssize_t r = read(fd, chunk, READ_CHUNK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ff_err_set(err, FF_EINTERNAL, "cannot read %s: %s", path,
					strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		if ((rc = ff_buf_append(&b, chunk, (size_t)r)) < 0) {
			rc = rc == FF_ETOOBIG
				 ? ff_err_set(err, rc, "%s is larger than %zu bytes", path, max)
				 : ff_err_set(err, rc, "out of memory");
			goto out;
		}
	}
	char *data = ff_buf_take(&b, len);
	if (!data) {
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
		goto out;
	}
	*out = data;
out:
	ff_buf_release(&b);
	free(chunk);
	close(fd);
	return rc;
}

/* ff_buf — one capped, growable byte buffer, and a bounded file reader built on it.
 *
 * Every body the platform holds in memory (an HTTP answer, an engine reply, a tar being
 * written, a SARIF string being cleaned) has a cap, so a hostile or broken peer cannot make a
 * process grow without bound. The buffer is plain data; its contents are always
 * NUL-terminated once anything was appended, so text needs no copy to be read as a string.
 *
 * The first failed append is remembered in err and every later append fails the same way, so
 * a caller that appends from a callback (libcurl, libarchive) can return "stop" and look at
 * the reason once the call returns.
 */
#ifndef FF_BUF_H
#define FF_BUF_H

#include <stddef.h>

#include "ff_err.h"

struct ff_buf {
	char *data; /* NULL until the first allocation; then data[len] == '\0' */
	size_t len;
	size_t cap; /* bytes allocated at data, the NUL included */
	size_t max; /* len never exceeds it */
	int err;    /* 0, or the FF_ETOOBIG / FF_ENOMEM of the first failed append */
};

/* An empty buffer that holds at most max bytes (SIZE_MAX: SIZE_MAX - 1). Allocates nothing. */
void ff_buf_init(struct ff_buf *b, size_t max);
/* Makes room for n more bytes without another allocation: 0, or as ff_buf_append. */
int ff_buf_reserve(struct ff_buf *b, size_t n);
/* Appends n bytes of p. 0; FF_ETOOBIG when len + n would pass max (nothing is appended);
 * FF_ENOMEM when growing fails; after either, every append returns that code. */
int ff_buf_append(struct ff_buf *b, const void *p, size_t n);
/* Appends s[0..n) as well-formed UTF-8 with no NUL, as a PostgreSQL text value must be: each
 * byte that begins no well-formed sequence (ff_utf8_seq_len), and each NUL, becomes U+FFFD.
 * Stops before a character that would pass max. 0, or the code of the failed append. */
int ff_buf_append_utf8(struct ff_buf *b, const char *s, size_t n);
/* The contents as a NUL-terminated string ("" when empty), owned by b. */
const char *ff_buf_str(const struct ff_buf *b);
/* Hands the contents to the caller, who frees them with free(): "" for an empty buffer, and
 * after FF_ETOOBIG what fitted (a caller to whom the cap is an error checks b->err first);
 * NULL after FF_ENOMEM or on no memory. *len (may be NULL) gets the length. b is empty
 * afterwards, with its max kept and err cleared. */
char *ff_buf_take(struct ff_buf *b, size_t *len);
/* Frees the contents; b is empty afterwards, as after ff_buf_init(b, b->max). */
void ff_buf_release(struct ff_buf *b);

/* Reads the regular file at path, at most max bytes. On success *out (caller frees) holds the
 * contents and a NUL after them, *len their length. Errors name the path: FF_ENOTFOUND when it
 * does not exist, FF_EINVAL when it cannot be opened or is not a regular file, FF_ETOOBIG when
 * it holds more than max bytes (also when it grows past max while being read), FF_EINTERNAL
 * when reading fails, FF_ENOMEM. *out and *len are set only on success. */
int ff_file_read(const char *path, size_t max, char **out, size_t *len, struct ff_err *err);

#endif

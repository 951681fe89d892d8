/* ff_err — error codes and messages shared by every module.
 *
 * Functions return 0 on success or a negative FF_E* code, and fill a struct ff_err with a
 * lowercase message (no trailing period) for the caller. The code says what kind of
 * failure it was, so one place (the controller's reply path) can map it to an HTTP status.
 */
#ifndef FF_ERR_H
#define FF_ERR_H

#include <stddef.h>

enum ff_errcode {
	FF_OK = 0,
	FF_EINVAL = -1,	   /* malformed input: 400 */
	FF_EVALIDATE = -2, /* well-formed but invalid input: 422 */
	FF_ENOTFOUND = -3, /* 404 */
	FF_ECONFLICT = -4, /* 409 */
	FF_ETOOBIG = -5,   /* 413 */
	FF_EAUTH = -6,	   /* 401 */
	FF_EUNAVAIL = -7,  /* a dependency (database, broker, engine) is down: 503 */
	FF_EINTERNAL = -8, /* a bug or an unexpected failure: 500 */
	FF_ETIMEOUT = -9,  /* a deadline passed */
	FF_ENOMEM = -10,
	FF_EFORBIDDEN = -11, /* a valid key without the scope the request needs: 403 */
};

struct ff_err {
	int code;
	char field[64]; /* the offending input field, "" when none */
	char msg[512];
};

/* Fills err (if not NULL) and returns code, so callers can `return ff_err_set(...)`. */
int ff_err_set(struct ff_err *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Same, naming the offending input field. */
int ff_err_field(struct ff_err *err, int code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ff_err_clear(struct ff_err *err);
/* A stable lowercase name for the code: "invalid_request", "not_found", … */
const char *ff_err_name(int code);

#endif

/* ff_err — error codes and messages; see ff_err.h. */
#include "ff_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

__attribute__((format(printf, 4, 0))) static int
err_vset(struct ff_err *err, int code, const char *field, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	return code;
}

int ff_err_set(struct ff_err *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, code, NULL, fmt, ap);
	va_end(ap);
	return code;
}

int ff_err_field(struct ff_err *err, int code, const char *field, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(err, code, field, fmt, ap);
	va_end(ap);
	return code;
}

void ff_err_clear(struct ff_err *err)
{
	if (err)
		memset(err, 0, sizeof(*err));
}

const char *ff_err_name(int code)
{
	switch (code) {
	case FF_OK: return "ok";
	case FF_EINVAL: return "invalid_request";
	case FF_EVALIDATE: return "validation_failed";
	case FF_ENOTFOUND: return "not_found";
	case FF_ECONFLICT: return "conflict";
	case FF_ETOOBIG: return "too_large";
	case FF_EAUTH: return "unauthorized";
	case FF_EUNAVAIL: return "unavailable";
	case FF_ETIMEOUT: return "timeout";
	case FF_ENOMEM: return "out_of_memory";
	case FF_EFORBIDDEN: return "forbidden";
	default: return "internal";
	}
}

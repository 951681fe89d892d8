/* ff_log — JSON-lines logging on stderr; see ff_log.h. */
#include "ff_log.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum ff_log_level ff_log_min_level = FF_LOG_INFO;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

int ff_log_level_parse(const char *name)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (name && strcmp(name, level_names[i]) == 0)
			return (int)i;
	return -1;
}

static void log_line(enum ff_log_level level, const char *const kv[4], const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

void ff_log_kv(enum ff_log_level level, const char *key, const char *value, const char *fmt, ...)
{
	const char *kv[4] = {key, value, NULL, NULL};
	va_list ap;
	va_start(ap, fmt);
	log_line(level, kv, fmt, ap);
	va_end(ap);
}

void ff_log_ids(enum ff_log_level level, const char *request_id, const char *run_id,
		const char *fmt, ...)
{
	const char *kv[4] = {"request_id", request_id, "run_id", run_id};
	va_list ap;
	va_start(ap, fmt);
	log_line(level, kv, fmt, ap);
	va_end(ap);
}

static void log_line(enum ff_log_level level, const char *const kv[4], const char *fmt, va_list ap)
{
	char msg[2048], ts[64], tbuf[32];
	struct timeval tv;
	struct tm tm;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts, sizeof(ts), "%s.%03dZ", tbuf, (int)(tv.tv_usec / 1000) % 1000);

	cJSON *o = cJSON_CreateObject();
	if (!o)
		return;
	cJSON_AddStringToObject(o, "ts", ts);
	cJSON_AddStringToObject(o, "level", level_names[level]);
	cJSON_AddStringToObject(o, "msg", msg);
	for (int i = 0; i < 4; i += 2)
		if (kv[i] && kv[i + 1] && kv[i + 1][0])
			cJSON_AddStringToObject(o, kv[i], kv[i + 1]);
	char *line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (!line)
		return;
	size_t n = strlen(line);
	char *out = realloc(line, n + 2);
	if (out) {
		out[n] = '\n';
		/* one write per line keeps lines whole across threads */
		if (write(STDERR_FILENO, out, n + 1) < 0) {
			/* nowhere left to report it */
		}
		free(out);
	} else {
		free(line);
	}
}

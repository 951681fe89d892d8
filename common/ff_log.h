/* ff_log — one JSON object per line on stderr: {"ts","level","msg"[,"request_id"][,"run_id"]},
 * so that one run is followed across the controllers and workers by its run_id, and the
 * request that made it by its request_id (both on the controller's line answering it).
 * Thread-safe: each line is written with one write(2). The macros check the level before
 * evaluating their arguments. */
#ifndef FF_LOG_H
#define FF_LOG_H

enum ff_log_level { FF_LOG_DEBUG, FF_LOG_INFO, FF_LOG_WARN, FF_LOG_ERROR };

extern enum ff_log_level ff_log_min_level;

/* "debug", "info", "warn", "error"; returns -1 for anything else */
int ff_log_level_parse(const char *name);
/* Logs msg with an optional context field (key NULL for none). */
void ff_log_kv(enum ff_log_level level, const char *key, const char *value, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The same with both ids (either NULL or "" for none): a request about a run. */
void ff_log_ids(enum ff_log_level level, const char *request_id, const char *run_id,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define FF_LOG_AT(lvl, k, v, ...)                                                                  \
	do {                                                                                       \
		if ((lvl) >= ff_log_min_level)                                                     \
			ff_log_kv((lvl), (k), (v), __VA_ARGS__);                                   \
	} while (0)

#define ff_debug(...)		 FF_LOG_AT(FF_LOG_DEBUG, NULL, NULL, __VA_ARGS__)
#define ff_info(...)		 FF_LOG_AT(FF_LOG_INFO, NULL, NULL, __VA_ARGS__)
#define ff_warn(...)		 FF_LOG_AT(FF_LOG_WARN, NULL, NULL, __VA_ARGS__)
#define ff_error(...)		 FF_LOG_AT(FF_LOG_ERROR, NULL, NULL, __VA_ARGS__)
#define ff_run_info(id, ...)	 FF_LOG_AT(FF_LOG_INFO, "run_id", (id), __VA_ARGS__)
#define ff_run_warn(id, ...)	 FF_LOG_AT(FF_LOG_WARN, "run_id", (id), __VA_ARGS__)
#define ff_run_error(id, ...)	 FF_LOG_AT(FF_LOG_ERROR, "run_id", (id), __VA_ARGS__)
#define ff_req_log(lvl, id, ...) FF_LOG_AT((lvl), "request_id", (id), __VA_ARGS__)

#endif

/* ff_db — one PostgreSQL connection (libpq): connect, reconnect, query helpers that map
 * failures to FF_E* codes, and the versioned schema migrations every binary carries.
 * A struct ff_db is used by one thread at a time. */
#ifndef FF_DB_H
#define FF_DB_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "ff_err.h"

struct ff_db;

struct ff_db_migration {
	int version;
	const char *name;
	const char *sql;
};
/* Generated from deploy/migrations/ at build time; ends with a {0, NULL, NULL} entry. */
extern const struct ff_db_migration ff_db_migrations[];

/* Connects to url (a libpq conninfo or postgresql:// URL). The connection is kept even if
 * the server is down at first (*out is set and FF_EUNAVAIL returned): later queries
 * reconnect. Caller frees with ff_db_free(). */
int ff_db_connect(const char *url, struct ff_db **out, struct ff_err *err);
/* ff_db_connect with libpq session options (e.g. "-c synchronous_commit=off"), kept for
 * every reconnect. */
int ff_db_connect_with(const char *url, const char *options, struct ff_db **out,
		       struct ff_err *err);
void ff_db_free(struct ff_db *db); /* NULL-safe */

/* Runs sql with n text parameters (NULL values are SQL NULL). Returns the result (caller
 * PQclear()s) or NULL with err: FF_EUNAVAIL when the server can't be reached, FF_ECONFLICT
 * for a unique violation, FF_EINTERNAL otherwise. A broken connection outside a transaction
 * is re-established and the statement retried once. */
PGresult *ff_db_query(struct ff_db *db, const char *sql, int n, const char *const *values,
		      struct ff_err *err);
/* The same with per-parameter lengths and formats (1 = binary, for bytea) and a result
 * format (1 = binary). */
PGresult *ff_db_query_bin(struct ff_db *db, const char *sql, int n, const char *const *values,
			  const int *lengths, const int *formats, int result_format,
			  struct ff_err *err);
/* For statements whose result is not needed: 0 or an FF_E* code. */
int ff_db_exec(struct ff_db *db, const char *sql, int n, const char *const *values,
	       struct ff_err *err);

/* Whether the last statement that failed on this connection was refused for the data it
 * carried: SQLSTATE class 22 (data exception: a value out of range, a byte sequence invalid
 * for the encoding) or 23 (an integrity constraint). Sent again unchanged it fails again,
 * unlike a lost connection (FF_EUNAVAIL). False once a later statement has run. */
bool ff_db_failed_on_data(const struct ff_db *db);

/* BEGIN / COMMIT / ROLLBACK. ff_db_rollback never fails (a broken connection rolls back). */
int ff_db_begin(struct ff_db *db, struct ff_err *err);
int ff_db_commit(struct ff_db *db, struct ff_err *err);
void ff_db_rollback(struct ff_db *db);

/* SELECT 1, reconnecting if needed. */
int ff_db_ping(struct ff_db *db, struct ff_err *err);

/* Applies every migration not yet recorded, each in its own transaction, under an advisory
 * lock so that several processes starting at once apply each exactly once. Returns how
 * many it applied, or an FF_E* code. */
int ff_db_migrate(struct ff_db *db, struct ff_err *err);

/* Large objects, streamed in chunks so that no caller holds one whole. Every call must run
 * inside a transaction (ff_db_begin): a large-object descriptor lives until its transaction
 * ends, and a rolled-back transaction leaves no object behind.
 * ff_db_lo_create makes an empty object and opens it for writing (*oid, *fd);
 * ff_db_lo_open opens oid for reading; ff_db_lo_write writes all n bytes (in chunks of 256
 * KiB); ff_db_lo_read reads up to n bytes and returns how many (0 at the end) or an FF_E*
 * code; ff_db_lo_close closes the descriptor. ff_db_lo_put = create + write + close, for a
 * caller that holds the bytes already; a streaming caller (an upload read chunk by chunk)
 * calls create, write for each chunk, close. */
int ff_db_lo_create(struct ff_db *db, unsigned *oid, int *fd, struct ff_err *err);
int ff_db_lo_open(struct ff_db *db, unsigned oid, int *fd, struct ff_err *err);
int ff_db_lo_write(struct ff_db *db, int fd, const void *p, size_t n, struct ff_err *err);
long ff_db_lo_read(struct ff_db *db, int fd, void *p, size_t n, struct ff_err *err);
int ff_db_lo_close(struct ff_db *db, int fd, struct ff_err *err);
int ff_db_lo_put(struct ff_db *db, const void *p, size_t n, unsigned *oid, struct ff_err *err);

/* How often a lost connection was re-established (the module itself never logs: it
 * reports, and its callers decide what to say). */
unsigned long ff_db_reconnects(const struct ff_db *db);

#endif

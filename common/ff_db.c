/* ff_db — PostgreSQL connection and migrations; see ff_db.h. */
#include "ff_db.h"
#include "ff_metrics.h"
#include "ff_util.h"

#include <errno.h> /* program_invocation_short_name */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq/libpq-fs.h>

/* Any constant shared by every FuzzForge process: the advisory lock that serialises
 * migrations. */
#define FF_DB_MIGRATION_LOCK "7466001"

/* Statements prepared on this connection, by their text: every query is planned once per
 * connection, not once per call (planning the API's JSON queries costs more than running
 * them). Dynamic SQL is fine: the text, not the pointer, is the key. Past STMT_CACHE
 * distinct texts, further ones run unprepared. */
#define STMT_CACHE 64

struct stmt {
	uint64_t hash;
	char *sql;
};

struct ff_db {
	PGconn *conn;
	char *url;
	char *options; /* libpq "options" (e.g. "-c synchronous_commit=off") or NULL */
	unsigned long reconnects;
	char sqlstate[6]; /* the last failed statement's, "" after a success */
	struct stmt stmts[STMT_CACHE];
	int nstmts;
};

static void forget_statements(struct ff_db *db)
{
	for (int i = 0; i < db->nstmts; i++)
		free(db->stmts[i].sql);
	db->nstmts = 0;
}

/* The name sql is prepared under on this connection ("ff<i>"), preparing it if need be;
 * false when it cannot be (the cache is full, or the server refused: the caller runs it
 * unprepared and gets the server's error, if any, from that). */
static bool prepared(struct ff_db *db, const char *sql, int n, char name[16])
{
	uint64_t h = ff_fnv1a64(sql);
	for (int i = 0; i < db->nstmts; i++)
		if (db->stmts[i].hash == h && strcmp(db->stmts[i].sql, sql) == 0) {
			snprintf(name, 16, "ff%d", i);
			return true;
		}
	if (db->nstmts == STMT_CACHE)
		return false;
	char *copy = strdup(sql);
	snprintf(name, 16, "ff%d", db->nstmts);
	PGresult *res = copy ? PQprepare(db->conn, name, sql, n, NULL) : NULL;
	bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (!ok) {
		free(copy);
		return false;
	}
	db->stmts[db->nstmts++] = (struct stmt){h, copy};
	return true;
}

static void db_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg; /* NOTICEs (e.g. "relation already exists, skipping") are noise here */
}

static int db_open(struct ff_db *db, struct ff_err *err)
{
	if (db->conn)
		PQfinish(db->conn);
	forget_statements(db);
	/* dbname is expanded (a conninfo or URL); options given after it override the URL's.
	 * A connection is named after its program (ff-controller, ff-worker) in
	 * pg_stat_activity, unless the URL names it. */
	const char *const keys[] = {"dbname", "fallback_application_name",
				    db->options ? "options" : NULL, NULL};
	const char *const values[] = {db->url, program_invocation_short_name, db->options, NULL};
	db->conn = PQconnectdbParams(keys, values, 1);
	if (!db->conn)
		return ff_err_set(err, FF_ENOMEM, "out of memory connecting to postgresql");
	if (PQstatus(db->conn) != CONNECTION_OK) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(db->conn));
		msg[strcspn(msg, "\n")] = '\0';
		return ff_err_set(err, FF_EUNAVAIL, "postgresql unreachable: %s", msg);
	}
	PQsetNoticeProcessor(db->conn, db_notice, NULL);
	return 0;
}

int ff_db_connect_with(const char *url, const char *options, struct ff_db **out, struct ff_err *err)
{
	struct ff_db *db = calloc(1, sizeof(*db));
	if (!db || !(db->url = strdup(url)) || (options && !(db->options = strdup(options)))) {
		if (db)
			free(db->url);
		free(db);
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	*out = db;
	return db_open(db, err);
}

int ff_db_connect(const char *url, struct ff_db **out, struct ff_err *err)
{
	return ff_db_connect_with(url, NULL, out, err);
}

void ff_db_free(struct ff_db *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	forget_statements(db);
	free(db->url);
	free(db->options);
	free(db);
}

static int result_error(struct ff_db *db, PGresult *res, struct ff_err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn);
	char line[400];
	snprintf(line, sizeof(line), "%s", msg && *msg ? msg : "unknown error");
	line[strcspn(line, "\n")] = '\0';
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s", state ? state : "");
	if (PQstatus(db->conn) != CONNECTION_OK || (state && strncmp(state, "08", 2) == 0) ||
	    (state && strncmp(state, "57P", 3) == 0))
		return ff_err_set(err, FF_EUNAVAIL, "postgresql unavailable: %s", line);
	if (state && strcmp(state, "23505") == 0)
		return ff_err_set(err, FF_ECONFLICT, "%s", line);
	return ff_err_set(err, FF_EINTERNAL, "database error: %s", line);
}

PGresult *ff_db_query_bin(struct ff_db *db, const char *sql, int n, const char *const *values,
			  const int *lengths, const int *formats, int result_format,
			  struct ff_err *err)
{
	for (int try = 0; try < 2; try++) {
		/* Re-establishing the connection is only safe outside a transaction: inside one,
		 * the statements before this one are lost with the old session. */
		bool idle = !db->conn || PQtransactionStatus(db->conn) == PQTRANS_IDLE ||
			    PQtransactionStatus(db->conn) == PQTRANS_UNKNOWN;
		if ((!db->conn || PQstatus(db->conn) != CONNECTION_OK) && idle) {
			int rc = db_open(db, err);
			if (rc < 0)
				return NULL;
		}
		char name[16];
		PGresult *res =
		    prepared(db, sql, n, name)
			? PQexecPrepared(db->conn, name, n, values, lengths, formats, result_format)
			: PQexecParams(db->conn, sql, n, NULL, values, lengths, formats,
				       result_format);
		ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
		db->sqlstate[0] = '\0';
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
			return res;
		int rc = result_error(db, res, err);
		PQclear(res);
		if (rc != FF_EUNAVAIL || !idle || PQstatus(db->conn) == CONNECTION_OK)
			return NULL;
		db->reconnects++;
		atomic_fetch_add(&ff_metrics_db_reconnects, 1);
	}
	return NULL;
}

PGresult *ff_db_query(struct ff_db *db, const char *sql, int n, const char *const *values,
		      struct ff_err *err)
{
	return ff_db_query_bin(db, sql, n, values, NULL, NULL, 0, err);
}

int ff_db_exec(struct ff_db *db, const char *sql, int n, const char *const *values,
	       struct ff_err *err)
{
	PGresult *res = ff_db_query(db, sql, n, values, err);
	if (!res)
		return err ? err->code : FF_EINTERNAL;
	PQclear(res);
	return 0;
}

int ff_db_begin(struct ff_db *db, struct ff_err *err)
{
	return ff_db_exec(db, "BEGIN", 0, NULL, err);
}

int ff_db_commit(struct ff_db *db, struct ff_err *err)
{
	return ff_db_exec(db, "COMMIT", 0, NULL, err);
}

void ff_db_rollback(struct ff_db *db)
{
	if (db->conn && PQstatus(db->conn) == CONNECTION_OK &&
	    PQtransactionStatus(db->conn) != PQTRANS_IDLE)
		PQclear(PQexec(db->conn, "ROLLBACK"));
}

int ff_db_ping(struct ff_db *db, struct ff_err *err)
{
	return ff_db_exec(db, "SELECT 1", 0, NULL, err);
}

static int migration_applied(struct ff_db *db, int version, bool *applied, struct ff_err *err)
{
	char v[16];
	snprintf(v, sizeof(v), "%d", version);
	const char *params[] = {v};
	PGresult *res = ff_db_query(db, "SELECT 1 FROM ff_schema_migrations WHERE version = $1", 1,
				    params, err);
	if (!res)
		return err->code;
	*applied = PQntuples(res) > 0;
	PQclear(res);
	return 0;
}

static int migration_apply(struct ff_db *db, const struct ff_db_migration *m, struct ff_err *err)
{
	char v[16];
	snprintf(v, sizeof(v), "%d", m->version);
	const char *params[] = {v, m->name};
	int rc = ff_db_begin(db, err);
	if (rc < 0)
		return rc;
	/* PQexec, not PQexecParams: a migration holds several statements. */
	PGresult *res = PQexec(db->conn, m->sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = result_error(db, res, err);
		PQclear(res);
		ff_db_rollback(db);
		return ff_err_set(err, rc, "migration %s failed: %s", m->name, err->msg);
	}
	PQclear(res);
	rc = ff_db_exec(db, "INSERT INTO ff_schema_migrations (version, name) VALUES ($1, $2)", 2,
			params, err);
	if (rc < 0) {
		ff_db_rollback(db);
		return rc;
	}
	return ff_db_commit(db, err);
}

int ff_db_migrate(struct ff_db *db, struct ff_err *err)
{
	int rc = ff_db_exec(db, "SELECT pg_advisory_lock(" FF_DB_MIGRATION_LOCK ")", 0, NULL, err);
	if (rc < 0)
		return rc;
	rc = ff_db_exec(db,
			"CREATE TABLE IF NOT EXISTS ff_schema_migrations (version int PRIMARY KEY, "
			"name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
			0, NULL, err);
	int napplied = 0;
	for (const struct ff_db_migration *m = ff_db_migrations; rc == 0 && m->name; m++) {
		bool applied = false;
		rc = migration_applied(db, m->version, &applied, err);
		if (rc == 0 && !applied && (rc = migration_apply(db, m, err)) == 0)
			napplied++;
	}
	struct ff_err ignored;
	ff_db_exec(db, "SELECT pg_advisory_unlock(" FF_DB_MIGRATION_LOCK ")", 0, NULL, &ignored);
	return rc < 0 ? rc : napplied;
}

bool ff_db_failed_on_data(const struct ff_db *db)
{
	return db && (strncmp(db->sqlstate, "22", 2) == 0 || strncmp(db->sqlstate, "23", 2) == 0);
}

unsigned long ff_db_reconnects(const struct ff_db *db)
{
	return db ? db->reconnects : 0;
}

/* --- large objects ----------------------------------------------------------------------- */

#define LO_CHUNK (256u << 10) /* one lo_write / lo_read call: the server's own buffer size */

static int lo_error(struct ff_db *db, const char *what, struct ff_err *err)
{
	char line[300];
	snprintf(line, sizeof(line), "%s", db->conn ? PQerrorMessage(db->conn) : "");
	line[strcspn(line, "\n")] = '\0';
	db->sqlstate[0] = '\0'; /* libpq's large-object calls give no SQLSTATE */
	if (!db->conn || PQstatus(db->conn) != CONNECTION_OK)
		return ff_err_set(err, FF_EUNAVAIL, "postgresql unavailable: %s: %s", what, line);
	return ff_err_set(err, FF_EINTERNAL, "database error: %s: %s", what, line);
}

int ff_db_lo_create(struct ff_db *db, unsigned *oid, int *fd, struct ff_err *err)
{
	if (!db->conn || PQtransactionStatus(db->conn) != PQTRANS_INTRANS)
		return ff_err_set(err, FF_EINTERNAL, "large object outside a transaction");
	Oid o = lo_creat(db->conn, INV_READ | INV_WRITE);
	if (o == InvalidOid)
		return lo_error(db, "lo_creat", err);
	int f = lo_open(db->conn, o, INV_WRITE);
	if (f < 0)
		return lo_error(db, "lo_open", err);
	*oid = o;
	*fd = f;
	return 0;
}

int ff_db_lo_open(struct ff_db *db, unsigned oid, int *fd, struct ff_err *err)
{
	if (!db->conn || PQtransactionStatus(db->conn) != PQTRANS_INTRANS)
		return ff_err_set(err, FF_EINTERNAL, "large object outside a transaction");
	int f = lo_open(db->conn, (Oid)oid, INV_READ);
	if (f < 0)
		return lo_error(db, "lo_open", err);
	*fd = f;
	return 0;
}

int ff_db_lo_write(struct ff_db *db, int fd, const void *p, size_t n, struct ff_err *err)
{
	const char *c = p;
	while (n > 0) {
		size_t k = n < LO_CHUNK ? n : LO_CHUNK;
		if (lo_write(db->conn, fd, c, k) != (int)k)
			return lo_error(db, "lo_write", err);
		c += k;
		n -= k;
	}
	return 0;
}

long ff_db_lo_read(struct ff_db *db, int fd, void *p, size_t n, struct ff_err *err)
{
	size_t k = n < LO_CHUNK ? n : LO_CHUNK;
	int got = lo_read(db->conn, fd, p, k);
	if (got < 0)
		return lo_error(db, "lo_read", err);
	return got;
}

int ff_db_lo_close(struct ff_db *db, int fd, struct ff_err *err)
{
	if (lo_close(db->conn, fd) < 0)
		return lo_error(db, "lo_close", err);
	return 0;
}

int ff_db_lo_put(struct ff_db *db, const void *p, size_t n, unsigned *oid, struct ff_err *err)
{
	int fd;
	int rc = ff_db_lo_create(db, oid, &fd, err);
	if (rc < 0)
		return rc;
	rc = ff_db_lo_write(db, fd, p, n, err);
	if (rc == 0)
		rc = ff_db_lo_close(db, fd, err);
	return rc;
}

/* itest — the integration-test harness: a fresh PostgreSQL database per test program, the
 * real ff-controller and ff-worker binaries started as child processes against the real
 * RabbitMQ and Docker engine, an HTTP client for the API, and SQL probes for end states.
 * Every wait has a deadline; nothing sleeps in place of a condition. */
#ifndef ITEST_H
#define ITEST_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <sys/types.h>

#define ITEST_MAX_PROCS 16
#define ITEST_API_KEY	"itest-key-0123456789"

struct itest {
	char name[64];
	char db_url[256];
	char amqp_url[256];
	char base_url[64];
	int port;
	pid_t procs[ITEST_MAX_PROCS];
	int nprocs;
	PGconn *pg;
	void *curl;
};

struct itest_resp {
	long status;
	char *body;
	size_t len;
	cJSON *json; /* parsed body when it is JSON, else NULL */
};

/* Creates database ff_it_<name> and broker vhost ff_it_<name> afresh and picks a free port.
 * Returns 0 or fails the test. */
int itest_setup(struct itest *t, const char *name);
/* Stops every process started (SIGTERM, then SIGKILL past a deadline), drops the database. */
void itest_teardown(struct itest *t);

/* Starts ff-controller (waits until /readyz answers 200) or ff-worker (waits until it
 * consumes). extra_env: NULL-terminated "K=V" strings, or NULL. Logs go to
 * <build>/tests/integration/logs/<name>-<proc>.log. */
pid_t itest_start_controller(struct itest *t, const char *const *extra_env);
pid_t itest_start_worker(struct itest *t, const char *const *extra_env);
/* Sends sig and waits up to timeout_ms; returns the exit status (or -1 on timeout). */
int itest_stop(struct itest *t, pid_t pid, int sig, int timeout_ms);

/* One API call; body may be NULL. auth: 1 the right key, 2 a wrong one, 0 none. */
int itest_http(struct itest *t, const char *method, const char *path, const char *ctype,
	       const void *body, size_t len, int auth, struct itest_resp *resp);
void itest_resp_release(struct itest_resp *r);

/* Builds a tar of files given as {path, content, path, content, ..., NULL}; gzip if asked.
 * Returns malloc'd bytes. */
void *itest_tar(const char *const *files, int gzip, size_t *len);
/* Uploads a tar of files; out gets the sha256. */
void itest_upload(struct itest *t, const char *const *files, char out[65]);
/* Uploads a gzipped tar of the tree under dir (paths relative to dir, symbolic links stored
 * as links, not followed); out gets the sha256. Fails the test if dir cannot be read. */
void itest_upload_dir(struct itest *t, const char *dir, char out[65]);
/* POST /api/v1/runs with json; on 202 copies the run id into id. Returns the status. */
long itest_submit(struct itest *t, const char *json, char id[37]);
/* Polls GET /api/v1/runs/{id} until a terminal state or timeout_ms; returns the run JSON
 * (caller deletes) or fails the test. */
cJSON *itest_wait_terminal(struct itest *t, const char *id, int timeout_ms);
/* Waits until the run is in state, or fails the test. */
void itest_wait_state(struct itest *t, const char *id, const char *state, int timeout_ms);

/* A single-value SQL query on the test database, as a long (fails the test on error). */
long itest_sql_long(struct itest *t, const char *sql, const char *param);

#endif

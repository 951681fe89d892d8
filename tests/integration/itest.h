/* itest — the integration-test harness: a fresh PostgreSQL database per test program, the
 * real ff-controller and ff-worker binaries started as child processes against the real
 * RabbitMQ and Docker engine, an HTTP client for the API, and SQL probes for end states.
 * Every wait has a deadline; nothing sleeps in place of a condition. */
#ifndef ITEST_H
#define ITEST_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ITEST_MAX_PROCS 32
#define ITEST_API_KEY	"itest-key-0123456789"
/* The repository (ITEST_WORKFLOWS_DIR is <repo>/tests/workflows). */
#define ITEST_REPO ITEST_WORKFLOWS_DIR "/../.."

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

/* Creates database and broker vhost ff_it_<name>_<build dir hash> afresh (so two checkouts
 * may run one test at once) and picks a free port.
 * Returns 0 or fails the test. */
int itest_setup(struct itest *t, const char *name);
/* Stops every process started (SIGTERM, then SIGKILL past a deadline), then drops the
 * database and the vhost. A test that fails never gets here: its database and vhost stay
 * for a look, until the next itest_setup of the same name drops them. */
void itest_teardown(struct itest *t);

/* A TCP port on 127.0.0.1 nobody listens on now. */
int itest_free_port(void);
/* Points the harness (HTTP client, raw connections, the next itest_start_controller) at
 * port: for tests with more than one controller. */
void itest_use_port(struct itest *t, int port);

/* Starts ff-controller (waits until /readyz answers 200) or ff-worker (waits until it
 * consumes). extra_env: NULL-terminated "K=V" strings, or NULL. Logs go to
 * <build>/tests/integration/logs/<name>-<proc>.log. */
pid_t itest_start_controller(struct itest *t, const char *const *extra_env);
/* Waits up to 60 s until /readyz at t's port answers 200; fails the test past that, or as
 * soon as pid (if > 0) has exited. what names it (and its log) in the failure. */
void itest_wait_ready(struct itest *t, pid_t pid, const char *what);
pid_t itest_start_worker(struct itest *t, const char *const *extra_env);
/* Sends sig and waits up to timeout_ms; returns the exit status (or -1 on timeout). */
int itest_stop(struct itest *t, pid_t pid, int sig, int timeout_ms);
/* In a child the test forked: its output to the log at path, and its death with the test's. */
void itest_child_setup(const char *path);
/* Starts argv[0] (a full path) with argv, its output in the log directory under role; it is
 * the test's like the controller and workers: killed with the test, stopped at teardown. */
pid_t itest_spawn(struct itest *t, const char *role, char *const argv[]);

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
/* The same with an Idempotency-Key header (key at most 300 bytes). */
long itest_submit_idempotent(struct itest *t, const char *key, const char *json, char id[37]);
/* Polls GET /api/v1/runs/{id} until a terminal state or timeout_ms; returns the run JSON
 * (caller deletes) or fails the test. */
cJSON *itest_wait_terminal(struct itest *t, const char *id, int timeout_ms);
/* Waits until the run is in state, or fails the test. */
void itest_wait_state(struct itest *t, const char *id, const char *state, int timeout_ms);

/* CLOCK_MONOTONIC in milliseconds, for deadlines. */
int64_t itest_now_ms(void);
/* The pause between two looks at a condition (never a stand-in for one). */
void itest_pause_ms(int ms);

/* A single-value SQL query on the test database, as a long (fails the test on error). */
/* The test database's connection, made at first use. */
PGconn *itest_pg(struct itest *t);
long itest_sql_long(struct itest *t, const char *sql, const char *param);
/* For itest_sql_long: the runs whose job the broker confirmed (none of theirs left in the
 * outbox). */
#define ITEST_SQL_PUBLISHED_RUNS                                                                   \
	"SELECT count(*) FROM runs WHERE NOT EXISTS (SELECT 1 FROM run_outbox o "                  \
	"WHERE o.run_id = runs.id)"

/* The string member k of o, or NULL when o has no such string. */
const char *itest_str(const cJSON *o, const char *k);
/* A file of less than 1 MiB as a malloc'd NUL-terminated string, or fails the test. */
char *itest_read_file(const char *path);
/* How many lines of the file at path (a log) hold needle; 0 when there is no such file. */
int itest_file_lines(const char *path, const char *needle);
/* Runs argv (no shell, argv[0] a full path) and waits; returns its exit status, or -1. */
int itest_run_cmd(char *const argv[]);
/* Fails the test, naming the script that builds it, unless the Docker image exists. */
void itest_require_image(const char *image);
/* GET path with the right key into r; fails the test unless the status is 200. */
void itest_get_ok(struct itest *t, const char *path, struct itest_resp *r);

/* itest_setup, then a controller and a worker (two jobs at a time) serving the repository's
 * built-in workflows (<repo>/workflows). */
void itest_setup_workflows(struct itest *t, const char *name);
/* Submits a run of workflow on target with params (a JSON object); fails the test unless 202. */
void itest_submit_workflow(struct itest *t, const char *workflow, const char *target,
			   const char *params, char id[37]);
/* Fails the test unless the run's SARIF log validates against tests/data/sarif-schema-2.1.0.json
 * (python3-jsonschema) and passes checks_py, Python run after with the parsed log in `log`. */
void itest_check_sarif(struct itest *t, const char *id, const char *checks_py, const char *what);
/* The checks of tests/integration/sarif_github.py (what GitHub code scanning needs: rule help,
 * security-severity, tags, no scanned text in rule metadata, codeFlows if codeflows) after
 * extra (other checks, or NULL), for target_dir, the tree scanned; every run's
 * automationDetails.id must be automation_id. Caller frees. */
char *itest_github_checks(const char *extra, const char *target_dir, const char *automation_id,
			  int codeflows);

/* Waits for a workflow run to succeed with progress 100 and checks its SARIF log as above;
 * returns its findings (GET /findings, caller deletes). what names the run in failures. */
cJSON *itest_finished_run(struct itest *t, const char *id, int timeout_ms, const char *checks_py,
			  const char *what);

/* Sorts n strings in place (strcmp order). */
void itest_sort_strs(char **v, size_t n);
/* Fails the test, printing both lists, unless the sorted findings keys got and want are equal. */
void itest_assert_same_keys(char *const *got, size_t ngot, char *const *want, size_t nwant,
			    const char *what);

/* ---- raw connections: HTTP/1.1 written by hand, for what libcurl will not do (slow or
 * hostile clients, pipelining, bodies the server refuses unread) ---- */

/* One TCP connection to the test controller; what it received is buffered in `in`. */
struct itest_conn {
	int fd;
	char *in;
	size_t len, cap;
	int closed; /* the server's side ended (EOF or reset): nothing more will come */
	int broken; /* a send failed (EPIPE, ECONNRESET): the server closed for good */
};

/* One response read from a raw connection. head holds the status line and the headers,
 * NUL-terminated; body the Content-Length bytes that followed (NUL-terminated too). */
struct itest_raw_resp {
	int status;
	char *head;
	char *body;
	size_t body_len;
};

/* Produces the next piece of a body into buf (at most cap bytes); returns its length, 0 at
 * the end. */
typedef size_t (*itest_body_fn)(void *ctx, char *buf, size_t cap);

/* Connects to t->port (fails the test if it cannot). A blocking send waits at most 60 s. */
void itest_conn_open(struct itest *t, struct itest_conn *c);
void itest_conn_close(struct itest_conn *c);
/* Sends all of buf; 0, or -errno once the server has closed or reset (EPIPE, ECONNRESET). */
int itest_conn_send(struct itest_conn *c, const void *buf, size_t len);
/* Sends buf chunk bytes at a time, waiting gap_ms for the server to speak after each chunk;
 * stops early once the server has sent something or closed. Returns the bytes sent. */
size_t itest_conn_send_slowly(struct itest_conn *c, const void *buf, size_t len, size_t chunk,
			      int gap_ms);
/* Sends a body from fn as fast as the server takes it, reading what it answers meanwhile
 * into c's input. A server that only shut its write side is still written to: this stops at
 * the body's end, when a send fails (c->broken), or after timeout_ms. Returns the bytes
 * sent. */
uint64_t itest_conn_send_body(struct itest_conn *c, itest_body_fn fn, void *ctx, int timeout_ms);
/* Reads the next complete response (a 100 Continue is one, with no body) within timeout_ms.
 * 0, or -1 when none came in time or the connection closed before one was complete. */
int itest_conn_read_resp(struct itest_conn *c, int timeout_ms, struct itest_raw_resp *r);
void itest_raw_resp_release(struct itest_raw_resp *r);
/* The value of header name in r (case-insensitive), copied into out; NULL if absent. */
const char *itest_raw_header(const struct itest_raw_resp *r, const char *name, char *out,
			     size_t outlen);
/* Waits up to timeout_ms for the server to close c, reading (and keeping) what it sends
 * meanwhile; *got (may be NULL) gets the bytes that arrived. Returns 1 closed, 0 still open. */
int itest_conn_wait_closed(struct itest_conn *c, int timeout_ms, size_t *got);
/* Whether c received bytes or was closed within timeout_ms (it reads them into c->in). */
int itest_conn_wait_input(struct itest_conn *c, int timeout_ms);
/* Closes libcurl's kept-open connection to the controller (for tests that count them). */
void itest_http_close(struct itest *t);

/* ASan keeps freed memory in quarantine (256 MiB by default) instead of reusing it, so a
 * streamed upload's peak grows with its size there: memory bounds hold in the plain build. */
#ifdef __SANITIZE_ADDRESS__
#define ITEST_BOUNDS_MEMORY 0
#else
#define ITEST_BOUNDS_MEMORY 1
#endif

/* /proc/<pid>/status field ("VmRSS", "VmHWM") in KiB, or -1. */
long itest_proc_kib(pid_t pid, const char *field);
/* Resets pid's VmHWM to its current VmRSS (writes 5 to /proc/<pid>/clear_refs); 0 or -1. */
int itest_proc_reset_hwm(pid_t pid);

/* A ustar archive made while it is sent: nfiles files of file_bytes zeros each, then the
 * end blocks; the bytes produced are hashed. Fill in nfiles and file_bytes, zero the rest;
 * use itest_tar_gen as the body fn. */
struct itest_tar_gen {
	int nfiles;
	uint64_t file_bytes;
	/* state */
	int file;      /* the file being written; nfiles for the end blocks */
	uint64_t off;  /* bytes of the current member (header included) already made */
	uint64_t made; /* all bytes made */
	void *sha;     /* struct ff_sha256, made at the first call */
};
/* The archive's whole size. */
uint64_t itest_tar_gen_size(const struct itest_tar_gen *g);
size_t itest_tar_gen(void *ctx, char *buf, size_t cap);
/* The sha256 of what was made, once all was (frees the hash). */
void itest_tar_gen_sha256(struct itest_tar_gen *g, char out[65]);

/* A decompression bomb: a gzip stream of about gz_bytes that inflates to ~350 times that:
 * pax extended ('x') headers of one 64 KiB record each, every one followed by the empty file
 * it describes, all with valid ustar checksums (no end blocks). Returns malloc'd bytes;
 * *inflated gets the size they inflate to. */
void *itest_pax_bomb(size_t gz_bytes, size_t *len, uint64_t *inflated);

/* A thread sending GET /healthz over a kept-open raw connection every gap_ms, each with a
 * deadline of 1 s, until stopped; latencies in ms (at most ITEST_PROBE_MAX kept). */
#define ITEST_PROBE_MAX 100000
struct itest_prober {
	int port, gap_ms;
	double *ms;
	int n, failed; /* probes answered; probes unanswered in 1 s, or answered but not 200 */
	double worst_ms;
	/* private */
	atomic_int stop;
	pthread_t thread;
};
void itest_prober_start(struct itest *t, struct itest_prober *p, int gap_ms);
void itest_prober_stop(struct itest_prober *p); /* joins; p->ms stays until released */
void itest_prober_release(struct itest_prober *p);

#endif

/* test_worker — the worker's pure parts: the outcome of an attempt (next state from stop,
 * failure, timeout, exit code, SARIF and budget), retry backoff, the CPU limit, progress
 * lines and the capped log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outcome.h"
#include "ff_util.h"
#include "output.h"
#include "results.h"
#include "spec.h"
#include "spool.h"
#include "tcache.h"

static void backoff_doubles_and_caps(void **state)
{
	(void)state;
	assert_int_equal(outcome_backoff_s(5, 1), 5);
	assert_int_equal(outcome_backoff_s(5, 2), 10);
	assert_int_equal(outcome_backoff_s(5, 3), 20);
	assert_int_equal(outcome_backoff_s(1, 4), 8);
	assert_int_equal(outcome_backoff_s(0, 5), 0);
	assert_int_equal(outcome_backoff_s(3000, 2), 3600); /* at most an hour */
	assert_int_equal(outcome_backoff_s(1, 20), 3600);   /* no overflow on long runs */
	assert_int_equal(outcome_backoff_s(3600, 1), 3600);
}

static void cpu_limit_capped_by_host(void **state)
{
	(void)state;
	assert_true(spec_nano_cpus(0.5, 2) == 500000000LL);
	assert_true(spec_nano_cpus(2.0, 2) == 2000000000LL);
	assert_true(spec_nano_cpus(4.0, 2) == 2000000000LL);  /* the engine refuses more */
	assert_true(spec_nano_cpus(1.5, -1) == 1500000000LL); /* host count unknown */
}

/* A clean first attempt of three: exit 0 with a valid SARIF log. */
static struct outcome_facts clean(void)
{
	return (struct outcome_facts){.exit_code = 0,
				      .have_sarif = true,
				      .timeout_s = 60,
				      .attempt = 1,
				      .max_attempts = 3,
				      .backoff_s = 5};
}

static void outcome_table(void **state)
{
	(void)state;
	struct outcome_facts f[20];
	struct {
		enum ff_run_transition t;
		enum ff_run_state s;
		long delay;
		const char *error; /* a prefix of the run's error */
	} want[20];
	size_t n = 0;
#define CASE(setup, tr, st, d, e)                                                                  \
	do {                                                                                       \
		f[n] = clean();                                                                    \
		setup;                                                                             \
		want[n].t = (tr), want[n].s = (st), want[n].delay = (d), want[n].error = (e);      \
		n++;                                                                               \
	} while (0)
	CASE((void)0, FF_RUN_FINISH, FF_RUN_SUCCEEDED, 0, "");
	CASE(f[n].stop = EXEC_STOP_CANCEL;
	     f[n].exit_code = 137, FF_RUN_CANCEL, FF_RUN_CANCELLED, 0, "");
	CASE(f[n].stop = EXEC_STOP_HANDBACK;
	     f[n].platform_error = "x", FF_RUN_HAND_BACK, FF_RUN_QUEUED, 0, "");
	/* failures within the budget are retried, with the backoff of their attempt */
	CASE(f[n].exit_code = 2, FF_RUN_RETRY, FF_RUN_RETRYING, 5, "workflow exited with code 2");
	CASE(f[n].exit_code = 2;
	     f[n].attempt = 2, FF_RUN_RETRY, FF_RUN_RETRYING, 10, "workflow exited with code 2");
	CASE(f[n].platform_error = "engine down", FF_RUN_RETRY, FF_RUN_RETRYING, 5, "engine down");
	CASE(f[n].have_sarif = false, FF_RUN_RETRY, FF_RUN_RETRYING, 5, "workflow wrote no");
	CASE(f[n].sarif_error = "no runs", FF_RUN_RETRY, FF_RUN_RETRYING, 5,
	     "invalid SARIF: no runs");
	/* past the budget: dead-lettered, keeping the failed state */
	CASE(f[n].exit_code = 1;
	     f[n].attempt = 3, FF_RUN_DEAD_LETTER, FF_RUN_FAILED, 0, "workflow exited with code 1");
	CASE(f[n].exit_code = 1;
	     f[n].max_attempts = 1, FF_RUN_DEAD_LETTER, FF_RUN_FAILED, 0, "workflow exited");
	/* the reason a workflow's log gives is part of the error */
	CASE(f[n].exit_code = 1; f[n].exit_reason = "no fuzz harness found";
	     f[n].max_attempts = 1, FF_RUN_DEAD_LETTER, FF_RUN_FAILED, 0,
	     "workflow exited with code 1: no fuzz harness found");
	/* timeouts: final unless the policy retries them */
	CASE(f[n].timed_out = true;
	     f[n].exit_code = 137, FF_RUN_FINISH, FF_RUN_TIMED_OUT, 0, "timed out after 60 s");
	CASE(f[n].timed_out = true; f[n].retry_on_timeout = true, FF_RUN_RETRY, FF_RUN_RETRYING, 5,
				    "timed out after 60 s");
	CASE(f[n].timed_out = true; f[n].retry_on_timeout = true;
	     f[n].attempt = 3, FF_RUN_DEAD_LETTER, FF_RUN_TIMED_OUT, 0, "timed out");
	/* the first thing that went wrong is the error */
	CASE(f[n].platform_error = "results over the limit";
	     f[n].timed_out = true, FF_RUN_RETRY, FF_RUN_RETRYING, 5, "results over the limit");
	CASE(f[n].exit_code = 3; f[n].have_sarif = false, FF_RUN_RETRY, FF_RUN_RETRYING, 5,
				 "workflow exited with code 3");
	CASE(f[n].timed_out = true;
	     f[n].sarif_error = "bad", FF_RUN_FINISH, FF_RUN_TIMED_OUT, 0, "timed out");
	/* a job the worker will not run: failed for good on its first attempt, no retry */
	CASE(f[n].refusal = "network 'host' is not allowed", FF_RUN_DEAD_LETTER, FF_RUN_FAILED, 0,
	     "network 'host' is not allowed");
#undef CASE
	for (size_t i = 0; i < n; i++) {
		struct outcome o;
		outcome_decide(&f[i], &o);
		print_message("case %zu\n", i);
		assert_int_equal(o.transition, want[i].t);
		assert_int_equal(o.state, want[i].s);
		assert_int_equal(o.delay_s, want[i].delay);
		assert_true(strncmp(o.error, want[i].error, strlen(want[i].error)) == 0);
		if (!*want[i].error)
			assert_string_equal(o.error, "");
		/* every decision is one the lifecycle table allows from running */
		if (o.transition != FF_RUN_CANCEL)
			assert_true(
			    ff_run_transition_allowed(o.transition, FF_RUN_RUNNING, o.state));
	}
}

static int got_pct = -1;
static char got_text[64];
static int progress_calls;

static void on_progress(void *ctx, int pct, const char *text)
{
	(void)ctx;
	got_pct = pct;
	snprintf(got_text, sizeof(got_text), "%s", text);
	progress_calls++;
}

static void progress_lines(void **state)
{
	(void)state;
	int pct;
	const char *text;
	assert_true(output_progress_parse("::progress 42 fuzzing", &pct, &text));
	assert_int_equal(pct, 42);
	assert_string_equal(text, "fuzzing");
	assert_true(output_progress_parse("::progress 100", &pct, &text));
	assert_int_equal(pct, 100);
	assert_string_equal(text, "");
	assert_false(output_progress_parse("::progress 101 x", &pct, &text));
	assert_false(output_progress_parse("::progress -1 x", &pct, &text));
	assert_false(output_progress_parse("::progress x", &pct, &text));
	assert_false(output_progress_parse("progress 5", &pct, &text));

	struct output o;
	output_init(&o, 1024, on_progress, NULL, NULL);
	/* split across pieces; stderr lines are not progress */
	output_feed(&o, 1, "::progr", 7);
	output_feed(&o, 1, "ess 7 half\n", 11);
	assert_int_equal(progress_calls, 1);
	assert_int_equal(got_pct, 7);
	assert_string_equal(got_text, "half");
	output_feed(&o, 2, "::progress 9 err\n", 17);
	assert_int_equal(progress_calls, 1);
	/* a chatty workflow is rate-limited, but 100 % always goes through */
	output_feed(&o, 1, "::progress 8 again\n", 19);
	assert_int_equal(progress_calls, 1);
	output_feed(&o, 1, "::progress 100 done\n", 20);
	assert_int_equal(progress_calls, 2);
	assert_int_equal(got_pct, 100);
	assert_false(o.logs_truncated);
	assert_int_equal(o.logs.len, 7 + 11 + 17 + 19 + 20);
	/* progress_text is text: a Latin-1 byte becomes '?' (the log keeps it as sent; a
	 * reproducer from fuzz_logs: corpus/logs/non-utf8-progress.bin) */
	output_feed(&o, 1, "::progress 100 l\xe4uft\n", 21);
	assert_int_equal(progress_calls, 3);
	assert_string_equal(got_text, "l?uft");
	assert_memory_equal(o.logs.data + o.logs.len - 21, "::progress 100 l\xe4uft\n", 21);
	output_release(&o);
}

struct pieces {
	char log[256];
	size_t len;
	int n;
};

static void on_piece(void *ctx, size_t at, const char *data, size_t len)
{
	struct pieces *p = ctx;
	assert_int_equal(at, p->len); /* each piece starts where the last ended */
	assert_true(p->len + len <= sizeof(p->log));
	memcpy(p->log + p->len, data, len);
	p->len += len;
	p->n++;
}

/* The log goes out in pieces that follow one another and add up to what was kept: the first
 * at once, a tail held back by the interval with a later tick (stream 0), nothing past the
 * cap. */
static void output_pieces_follow_the_log(void **state)
{
	(void)state;
	struct pieces p = {.len = 0};
	struct output o;
	output_init(&o, 32, NULL, on_piece, &p);
	output_feed(&o, 1, "tick 1\n", 7);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.len, 7);
	output_feed(&o, 2, "tick 2 on stderr\n", 17);
	int64_t deadline = ff_now_ms() + 5000;
	while (p.len < 24 && ff_now_ms() < deadline)
		output_feed(&o, 0, NULL, 0); /* ticks until the interval has passed */
	assert_int_equal(p.len, 24);
	output_feed(&o, 1, "past the 32-byte cap\n", 21);
	deadline = ff_now_ms() + 5000;
	while (p.len < 32 && ff_now_ms() < deadline)
		output_feed(&o, 0, NULL, 0);
	assert_int_equal(p.len, 32);
	assert_true(o.logs_truncated);
	assert_memory_equal(p.log, o.logs.data, o.logs.len);
	int before = p.n;
	output_feed(&o, 0, NULL, 0); /* nothing new: no piece */
	assert_int_equal(p.n, before);
	output_release(&o);
}

/* The analysis container keeps the container contract whatever the job says. */
static void analysis_spec_is_hardened(void **state)
{
	(void)state;
	static const char manifest[] =
	    "{\"name\": \"w\", \"version\": \"1\", \"description\": \"d\", "
	    "\"image\": \"img:1\", \"command\": [\"/run\", \"-x\"], "
	    "\"resources\": {\"memory_mb\": 64, \"cpus\": 0.5, \"pids\": 32, \"timeout_s\": 9}}";
	struct ff_manifest *m = NULL;
	struct ff_err err;
	assert_int_equal(ff_manifest_parse(manifest, strlen(manifest), &m, &err), 0);
	cJSON *params = cJSON_Parse("{\"depth\": 3}");
	struct ff_job *job =
	    ff_job_new(m, "01234567-89ab-4def-8123-456789abcdef",
		       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", params);
	assert_non_null(job);
	const struct exec_config cfg = {
	    .worker_id = "w1", .container_user = "65534:65534", .tmpfs_mb = 64};
	struct spec_names n;
	spec_names_init(&n, job->run_id, 2, "reg.example:5000/img:1");
	assert_string_equal(n.base, "ff-01234567-89ab-4def-8123-456789abcdef-2");
	assert_string_equal(n.vol_results, "ff-01234567-89ab-4def-8123-456789abcdef-2-results");

	cJSON *spec = spec_analysis(job, &n, &cfg);
	assert_non_null(spec);
	const cJSON *hc = cJSON_GetObjectItem(spec, "HostConfig");
	assert_string_equal(cJSON_GetObjectItem(spec, "User")->valuestring, "65534:65534");
	/* the engine's name of the image, as the worker pulls it */
	assert_string_equal(cJSON_GetObjectItem(spec, "Image")->valuestring,
			    "reg.example:5000/img:1");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(hc, "ReadonlyRootfs")));
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(hc, "CapDrop"), 0)->valuestring,
			    "ALL");
	assert_string_equal(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(hc, "SecurityOpt"), 0)->valuestring,
	    "no-new-privileges");
	assert_string_equal(cJSON_GetObjectItem(hc, "NetworkMode")->valuestring, "none");
	assert_true(cJSON_GetObjectItem(hc, "Memory")->valuedouble == 64.0 * 1024 * 1024);
	assert_true(cJSON_GetObjectItem(hc, "MemorySwap")->valuedouble == 64.0 * 1024 * 1024);
	assert_int_equal(cJSON_GetObjectItem(hc, "PidsLimit")->valueint, 32);
	const cJSON *binds = cJSON_GetObjectItem(hc, "Binds");
	assert_string_equal(cJSON_GetArrayItem(binds, 0)->valuestring,
			    "ff-01234567-89ab-4def-8123-456789abcdef-2-target:/target:ro");
	char *env = cJSON_PrintUnformatted(cJSON_GetObjectItem(spec, "Env"));
	assert_non_null(strstr(env, "\"FF_PARAM_DEPTH=3\""));
	assert_non_null(strstr(env, "\"FF_TIMEOUT_S=9\""));
	free(env);
	/* no network: a namespace of its own without libnetwork (and its per-container hook) */
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(spec, "NetworkDisabled")));
	cJSON_Delete(spec);
	/* a network the operator allows is the engine's to set up */
	char *none = job->network;
	job->network = "bridge";
	spec = spec_analysis(job, &n, &cfg);
	assert_null(cJSON_GetObjectItem(spec, "NetworkDisabled"));
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(spec, "HostConfig"), "NetworkMode")
		->valuestring,
	    "bridge");
	job->network = none;
	cJSON_Delete(spec);

	/* the helper: root, both volumes writable, no network, never started */
	spec = spec_helper(job, &n, &cfg);
	hc = cJSON_GetObjectItem(spec, "HostConfig");
	assert_string_equal(cJSON_GetObjectItem(hc, "NetworkMode")->valuestring, "none");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(hc, "Binds"), 0)->valuestring,
			    "ff-01234567-89ab-4def-8123-456789abcdef-2-target:/target:rw");
	cJSON_Delete(spec);
	cJSON_Delete(params);
	ff_job_free(job);
	ff_manifest_free(m);
}

/* The spool holds at most its cap: a write that would pass it is refused whole. */
static void spool_cap(void **state)
{
	(void)state;
	struct spool sp = {0};
	struct ff_err err;
	char buf[16];
	spool_close(&sp); /* a zeroed spool is closed: fd 0 is not touched */
	assert_int_equal(spool_open(&sp, NULL, 10, &err), 0);
	assert_int_equal(spool_write(&sp, "0123456", 7, &err), 0);
	assert_int_equal(spool_write(&sp, "789a", 4, &err), FF_ETOOBIG);
	assert_int_equal(sp.len, 7);
	assert_int_equal(spool_write(&sp, "789", 3, &err), 0);
	assert_int_equal(spool_write(&sp, "x", 1, &err), FF_ETOOBIG);
	assert_int_equal(spool_pread(&sp, buf, sizeof(buf), 0, &err), 10);
	assert_memory_equal(buf, "0123456789", 10);
	assert_int_equal(spool_pread(&sp, buf, 4, 8, &err), 2);
	assert_int_equal(spool_pread(&sp, buf, 4, 10, &err), 0);
	spool_close(&sp);
	spool_close(&sp);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static const struct artifact *artifact_named(const struct results *r, const char *name)
{
	for (size_t i = 0; i < r->nartifacts; i++)
		if (strcmp(r->artifacts[i].name, name) == 0)
			return &r->artifacts[i];
	return NULL;
}

/* Artifact names are text in the database: a byte that is not UTF-8 becomes U+FFFD, a name
 * that would then repeat another is skipped with a note, subfolders keep their path, and the
 * note itself is valid UTF-8. */
static void artifact_names_valid(void **state)
{
	(void)state;
	char root[] = "/tmp/ff-test-results-XXXXXX", dir[600], sub[700];
	assert_non_null(mkdtemp(root));
	snprintf(dir, sizeof(dir), "%s/artifacts", root);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(mkdir(sub, 0700), 0);
	write_file(dir, "bad\xff.txt", "one");
	write_file(dir, "bad\xfe.txt", "two"); /* the same name once made valid */
	write_file(sub, "x.txt", "three");
	write_file(dir, "ok.txt", "four");

	const struct results_limits lim = {.max_bytes = 1 << 20, .sarif_max = 1 << 20};
	struct results r;
	struct ff_err err;
	int rc = results_collect_dir(root, &lim, &r, &err);
	if (rc == FF_EUNAVAIL) { /* no openat2 here: nothing to check */
		results_release(&r);
		skip();
	}
	assert_int_equal(rc, 0);
	assert_int_equal(r.nartifacts, 3);
	assert_non_null(artifact_named(&r, "bad\xef\xbf\xbd.txt"));
	assert_non_null(artifact_named(&r, "sub/x.txt"));
	assert_non_null(artifact_named(&r, "ok.txt"));
	assert_non_null(strstr(r.skipped, "repeats another"));
	assert_non_null(strstr(r.skipped, "bad\xef\xbf\xbd.txt"));
	results_release(&r);

	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

/* A kept results volume is emptied between runs: files, directories (also one the workflow
 * made unreadable), a fifo and links go, and no link is ever followed: what the links point
 * at, outside, is untouched. A tree deeper than RESULTS_EMPTY_MAX_DEPTH is refused. */
static void kept_volume_emptied(void **state)
{
	(void)state;
	char out[] = "/tmp/ff-test-outside-XXXXXX", root[] = "/tmp/ff-test-kept-XXXXXX";
	char p[700], q[700];
	assert_non_null(mkdtemp(out));
	assert_non_null(mkdtemp(root));
	write_file(out, "canary", "alive");
	snprintf(p, sizeof(p), "%s/artifacts/sub", root);
	snprintf(q, sizeof(q), "%s/artifacts", root);
	assert_int_equal(mkdir(q, 0755), 0);
	assert_int_equal(mkdir(p, 0755), 0);
	write_file(p, "x.txt", "x");
	write_file(root, "results.sarif", "{}");
	snprintf(p, sizeof(p), "%s/artifacts/out", root);
	assert_int_equal(symlink(out, p), 0); /* a directory outside */
	snprintf(p, sizeof(p), "%s/artifacts/canary", root);
	snprintf(q, sizeof(q), "%s/canary", out);
	assert_int_equal(symlink(q, p), 0); /* a file outside */
	snprintf(p, sizeof(p), "%s/up", root);
	assert_int_equal(symlink("..", p), 0);
	snprintf(p, sizeof(p), "%s/fifo", root);
	assert_int_equal(mkfifo(p, 0600), 0);
	if (geteuid() == 0) { /* the worker that empties volumes is root: modes do not stop it */
		snprintf(p, sizeof(p), "%s/locked", root);
		assert_int_equal(mkdir(p, 0755), 0);
		write_file(p, "in.txt", "in");
		assert_int_equal(chmod(p, 0), 0);
	}

	struct ff_err err;
	int rc = results_empty_dir(root, &err);
	if (rc == FF_EINTERNAL && strstr(err.msg, "cannot open")) /* no openat2 here */
		skip();
	assert_int_equal(rc, 0);
	DIR *d = opendir(root);
	assert_non_null(d);
	int entries = 0;
	for (struct dirent *de; (de = readdir(d));)
		entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	assert_int_equal(entries, 0);
	assert_true(exists(root)); /* the volume's own directory stays */
	snprintf(q, sizeof(q), "%s/canary", out);
	assert_true(exists(q));

	/* nested past the bound: refused, so the engine removes the volume instead */
	snprintf(p, sizeof(p), "%s", root);
	for (int i = 0; i <= RESULTS_EMPTY_MAX_DEPTH + 1; i++) {
		strcat(p, "/d");
		assert_int_equal(mkdir(p, 0755), 0);
	}
	assert_int_equal(results_empty_dir(root, &err), FF_ETOOBIG);
	snprintf(p, sizeof(p), "%s/none", root);
	assert_int_equal(results_empty_dir(p, &err), FF_EUNAVAIL);

	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s'", root, out);
	assert_int_equal(system(cmd), 0);
}

/* A result the database refused for its data: failed for good, now, with a storable error. */
static void outcome_unstorable_dead_letters(void **state)
{
	(void)state;
	struct outcome o;
	outcome_unstorable("value \"\xff\" is out of range\nfor type integer", &o);
	assert_int_equal(o.transition, FF_RUN_DEAD_LETTER);
	assert_int_equal(o.state, FF_RUN_FAILED);
	assert_string_equal(o.error, "result not storable: value \"?\" is out of range\nfor type "
				     "integer");
	/* every error is storable: an invalid SARIF log's reason may quote its bytes */
	const struct outcome_facts f = {.exit_code = 0,
					.have_sarif = true,
					.sarif_error = "the sarif log has key '\xff\xc3\xa9' twice",
					.attempt = 1,
					.max_attempts = 1};
	outcome_decide(&f, &o);
	assert_string_equal(o.error, "invalid SARIF: the sarif log has key '?\xc3\xa9' twice");
}

/* LRU: the least recently used unused entries go first, until the rest fit; used ones stay. */
static void tcache_lru_choice(void **state)
{
	(void)state;
	struct tcache_entry v[4] = {
	    {.digest = "a", .bytes = 100, .last_used = 5},
	    {.digest = "b", .bytes = 100, .last_used = 2},
	    {.digest = "c", .bytes = 100, .last_used = 1, .users = 1},
	    {.digest = "d", .bytes = 100, .last_used = 9},
	};
	size_t out[4];
	assert_int_equal(tcache_pick_victims(v, 4, 400, out), 0);
	assert_int_equal(tcache_pick_victims(v, 4, 300, out), 1);
	assert_int_equal(out[0], 1); /* b: c is older but in use */
	assert_int_equal(tcache_pick_victims(v, 4, 150, out), 3);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 0);
	assert_int_equal(out[2], 3);
	/* only the used one left: stops short of the cap */
	assert_int_equal(tcache_pick_victims(v, 4, 0, out), 3);

	/* the table: a use moves an entry to the back of the line */
	struct tcache *c = tcache_new(250);
	struct tcache_entry got[4];
	char vol[128];
	tcache_add(c, "x", "vx", 100, 1);
	tcache_release(c, "x");
	tcache_add(c, "y", "vy", 100, 1);
	tcache_release(c, "y");
	assert_int_equal(tcache_acquire(c, "x", vol), 1);
	assert_string_equal(vol, "vx");
	tcache_release(c, "x");
	tcache_add(c, "z", "vz", 100, 1); /* in use: never its own victim */
	assert_int_equal(tcache_take_victims(c, got, 4), 1);
	assert_string_equal(got[0].digest, "y");
	assert_int_equal(tcache_acquire(c, "y", vol), 0);
	assert_int_equal(tcache_take_victims(c, got, 4), 0);
	char marker[64];
	tcache_marker_name("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			   marker);
	assert_string_equal(marker, "ff-target-0123456789abcdef0123456789abcdef");
	tcache_free(c);
}

static void log_capped(void **state)
{
	(void)state;
	struct output o;
	char big[300];
	memset(big, 'x', sizeof(big));
	output_init(&o, 256, NULL, NULL, NULL);
	output_feed(&o, 2, big, 200);
	assert_false(o.logs_truncated);
	output_feed(&o, 1, big, 100);
	assert_true(o.logs_truncated);
	assert_int_equal(o.logs.len, 256);
	output_feed(&o, 1, big, 1);
	assert_int_equal(o.logs.len, 256);
	output_release(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(backoff_doubles_and_caps),
	    cmocka_unit_test(cpu_limit_capped_by_host),
	    cmocka_unit_test(outcome_table),
	    cmocka_unit_test(output_pieces_follow_the_log),
	    cmocka_unit_test(outcome_unstorable_dead_letters),
	    cmocka_unit_test(artifact_names_valid),
	    cmocka_unit_test(kept_volume_emptied),
	    cmocka_unit_test(progress_lines),
	    cmocka_unit_test(log_capped),
	    cmocka_unit_test(spool_cap),
	    cmocka_unit_test(tcache_lru_choice),
	    cmocka_unit_test(analysis_spec_is_hardened),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

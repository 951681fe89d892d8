/* ff-worker — takes jobs from RabbitMQ and runs each in a Docker container; see DESIGN.md. */
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "consumer.h"
#include "ff_config.h"
#include "ff_log.h"
#include "ff_manifest.h"
#include "privdrop.h"
#include "wmetrics.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

/* Each entry of FF_WORKER_ALLOW_NETWORKS is a network mode a manifest can name. */
static bool networks_valid(const char *list)
{
	for (const char *p = list;; p++) {
		size_t n = strcspn(p, ",");
		char mode[16];
		if (n == 0 || n >= sizeof(mode))
			return false;
		memcpy(mode, p, n);
		mode[n] = '\0';
		if (!ff_manifest_network_valid(mode))
			return false;
		p += n;
		if (!*p)
			return true;
	}
}

/* host[:port]: letters, digits, '.', '-' and one ':' before digits; under 256 bytes */
static bool registry_valid(const char *r)
{
	size_t n = strlen(r), host = strcspn(r, ":");
	if (n == 0)
		return true;
	if (n > 255 || host == 0 ||
	    strspn(r, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		      "0123456789.-") != host)
		return false;
	return host == n || (n > host + 1 && strspn(r + host + 1, "0123456789") == n - host - 1);
}

int main(int argc, char **argv)
{
	const char *database_url, *amqp_url, *docker_host, *pool, *worker_id, *user, *log_level,
	    *metrics_listen, *run_as;
	long concurrency, log_max_kb, results_max_mb, tmpfs_mb, lease_s, drain_s, sarif_max_mb,
	    sarif_max_values, target_cache_mb, stall_s;
	const char *spool_dir, *results_direct, *allow_networks, *registry;
	const struct ff_config_entry config[] = {
	    {"DATABASE_URL", FF_CFG_STR,
	     "postgresql://fuzzforge:fuzzforge@127.0.0.1:5432/fuzzforge", 0, 0, &database_url,
	     "PostgreSQL connection URL"},
	    {"AMQP_URL", FF_CFG_STR, "amqp://guest:guest@127.0.0.1:5672/", 0, 0, &amqp_url,
	     "RabbitMQ URL"},
	    {"DOCKER_HOST", FF_CFG_STR, "unix:///var/run/docker.sock", 0, 0, &docker_host,
	     "Docker Engine endpoint (unix:// or tcp://)"},
	    {"FF_WORKER_POOL", FF_CFG_STR, "default", 0, 0, &pool, "pool (queue ff.jobs.<pool>)"},
	    {"FF_WORKER_CONCURRENCY", FF_CFG_INT, "2", 1, CONSUMER_MAX_CONCURRENCY, &concurrency,
	     "containers at a time (one executor more starts the next run while the last "
	     "records its result)"},
	    {"FF_WORKER_ID", FF_CFG_STR, NULL, 0, 0, &worker_id, "worker id (default host-pid)"},
	    {"FF_CONTAINER_USER", FF_CFG_STR, "65534:65534", 0, 0, &user,
	     "uid:gid the workflow containers run as"},
	    {"FF_LOG_MAX_KB", FF_CFG_INT, "1024", 1, 1048576, &log_max_kb,
	     "container output kept per run, KiB"},
	    {"FF_RESULTS_MAX_MB", FF_CFG_INT, "256", 1, 4096, &results_max_mb,
	     "largest /results a run may leave, MiB"},
	    {"FF_SARIF_MAX_MB", FF_CFG_INT, "32", 1, 1024, &sarif_max_mb,
	     "largest results.sarif read (held in memory to parse), MiB"},
	    {"FF_SARIF_MAX_VALUES", FF_CFG_INT, "500000", 1000, 100000000, &sarif_max_values,
	     "JSON values a results.sarif may hold (bounds the parser's memory, ~64 B each)"},
	    {"FF_TARGET_CACHE_MB", FF_CFG_INT, "4096", 0, 1048576, &target_cache_mb,
	     "cached target volumes kept on the engine, MiB (least recently used evicted)"},
	    {"FF_RESULTS_DIRECT", FF_CFG_STR, "auto", 0, 0, &results_direct,
	     "auto: read /results straight from the engine's volume directory when this worker "
	     "can open it (openat2, beneath the volume, no symlinks), else through the archive "
	     "endpoint; off: always the archive endpoint"},
	    {"FF_SPOOL_DIR", FF_CFG_STR, "", 0, 0, &spool_dir,
	     "directory for scratch files (results on their way to the database); "
	     "default $TMPDIR or /tmp"},
	    {"FF_TMPFS_MB", FF_CFG_INT, "512", 16, 65536, &tmpfs_mb, "size of /tmp in containers"},
	    {"FF_LEASE_S", FF_CFG_INT, "30", 3, 3600, &lease_s,
	     "a running run's lease: renewed every second, expired when the worker is gone"},
	    {"FF_WORKER_DRAIN_S", FF_CFG_INT, "60", 0, 86400, &drain_s,
	     "on SIGTERM, how long running runs may finish before they are handed back"},
	    {"FF_WORKER_ALLOW_NETWORKS", FF_CFG_STR, "none", 0, 0, &allow_networks,
	     "network modes this worker runs workflows with, comma-separated (none, bridge, "
	     "host); a run asking for another fails and is dead-lettered"},
	    {"FF_WORKER_STALL_S", FF_CFG_INT, "900", 0, 86400, &stall_s,
	     "a workflow container that writes no output for this long is stopped and its "
	     "run fails (0: never)"},
	    {"FF_LOG_LEVEL", FF_CFG_STR, "info", 0, 0, &log_level, "debug, info, warn or error"},
	    {"FF_METRICS_LISTEN", FF_CFG_STR, "", 0, 0, &metrics_listen,
	     "host:port of the worker's Prometheus metrics (GET /metrics); empty: none"},
	    {"FF_REGISTRY", FF_CFG_STR, "", 0, 0, &registry,
	     "host:port of the registry the engine pulls the workflow images it lacks from "
	     "(images then go by <registry>/<image>); empty: images are only those the engine "
	     "has"},
	    {"FF_WORKER_RUN_AS", FF_CFG_STR, "", 0, 0, &run_as,
	     "uid:gid to become when started as root, joining the Docker socket's group "
	     "(the worker image sets 10001:10001)"},
	};
	const size_t nconfig = sizeof(config) / sizeof(config[0]);
	struct ff_err err;
	char default_id[HOST_NAME_MAX + 32], host[HOST_NAME_MAX + 1] = "worker";

	if (argc > 1) {
		fprintf(argc == 2 && !strcmp(argv[1], "--help") ? stdout : stderr,
			"usage: ff-worker\nRuns FuzzForge jobs from RabbitMQ in Docker containers. "
			"SIGTERM: stop taking jobs, let running ones finish for up to "
			"FF_WORKER_DRAIN_S, "
			"hand back the rest, exit 0.\n");
		ff_config_usage(stdout, config, nconfig);
		return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
	}
	if (ff_config_load(config, nconfig, NULL, &err) < 0) {
		fprintf(stderr, "ff-worker: %s\n", err.msg);
		return 2;
	}
	if (!networks_valid(allow_networks)) {
		fprintf(
		    stderr,
		    "ff-worker: FF_WORKER_ALLOW_NETWORKS: '%s' is not a comma-separated list of "
		    "none, bridge and host\n",
		    allow_networks);
		return 2;
	}
	if (!registry_valid(registry)) {
		fprintf(stderr, "ff-worker: FF_REGISTRY: '%s' is not host[:port]\n", registry);
		return 2;
	}
	if (privdrop(run_as, docker_host, &err) < 0) {
		fprintf(stderr, "ff-worker: FF_WORKER_RUN_AS: %s\n", err.msg);
		return 2;
	}
	int lvl = ff_log_level_parse(log_level);
	if (lvl >= 0)
		ff_log_min_level = (enum ff_log_level)lvl;
	if (!worker_id) {
		gethostname(host, sizeof(host) - 1);
		snprintf(default_id, sizeof(default_id), "%s-%ld", host, (long)getpid());
		worker_id = default_id;
	}

	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	const struct exec_config exec = {
	    .worker_id = worker_id,
	    .container_user = user,
	    .log_max_bytes = (size_t)log_max_kb * 1024,
	    .results_max_bytes = (size_t)results_max_mb * 1024 * 1024,
	    .sarif_max_bytes = (size_t)sarif_max_mb * 1024 * 1024,
	    .sarif_max_values = (size_t)sarif_max_values,
	    .spool_dir = *spool_dir ? spool_dir : NULL,
	    .results_direct = strcmp(results_direct, "off") != 0,
	    .target_cache_bytes = (uint64_t)target_cache_mb * 1024 * 1024,
	    .tmpfs_mb = tmpfs_mb,
	    .lease_s = lease_s,
	    .allow_networks = allow_networks,
	    .stall_s = stall_s,
	    .registry = registry,
	};
	const struct consumer_config cc = {
	    .amqp_url = amqp_url,
	    .database_url = database_url,
	    .docker_host = docker_host,
	    .pool = pool,
	    .concurrency = (int)concurrency,
	    .drain_s = drain_s,
	    .exec = &exec,
	};
	ff_info("ff-worker %s starting (pool %s, concurrency %ld)", worker_id, pool, concurrency);
	if (docker_global_init(&err) < 0) {
		ff_error("worker not started: %s", err.msg);
		return 1;
	}
	if (wmetrics_listen(metrics_listen, &err) < 0) {
		ff_error("worker not started: %s", err.msg);
		docker_global_cleanup();
		return 1;
	}
	int rc = consumer_run(&cc, &stop_requested);
	wmetrics_stop();
	docker_global_cleanup();
	ff_info("ff-worker %s stopped", worker_id);
	return rc < 0 ? 1 : 0;
}

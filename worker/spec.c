/* spec — container create bodies; see spec.h. */
#include "spec.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NOFILE_LIMIT 4096
#define LOG_MAX_SIZE "20m"

void spec_names_init(struct spec_names *n, const char *run_id, int attempt, const char *image)
{
	snprintf(n->image, sizeof(n->image), "%s", image);
	snprintf(n->base, sizeof(n->base), "ff-%s-%d", run_id, attempt);
	snprintf(n->helper, sizeof(n->helper), "%s-copy", n->base);
	snprintf(n->vol_target, sizeof(n->vol_target), "%s-target", n->base);
	snprintf(n->vol_results, sizeof(n->vol_results), "%s-results", n->base);
}

static cJSON *string_array(char *const *v, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(v[i]));
	return arr;
}

cJSON *spec_labels(const char *run_id, const char *worker_id)
{
	cJSON *l = cJSON_CreateObject();
	cJSON_AddStringToObject(l, "fuzzforge.run", run_id);
	cJSON_AddStringToObject(l, "fuzzforge.worker", worker_id);
	return l;
}

static cJSON *binds(const struct spec_names *n, int target_ro)
{
	char t[160], r[160];
	snprintf(t, sizeof(t), "%s:/target:%s", n->vol_target, target_ro ? "ro" : "rw");
	snprintf(r, sizeof(r), "%s:/results:rw", n->vol_results);
	char *v[] = {t, r};
	return string_array(v, 2);
}

long long spec_nano_cpus(double cpus, long host_cpus)
{
	if (host_cpus > 0 && cpus > (double)host_cpus)
		cpus = (double)host_cpus;
	return (long long)(cpus * 1e9);
}

cJSON *spec_analysis(const struct ff_job *j, const struct spec_names *n,
		     const struct exec_config *cfg)
{
	char tmpfs[96];
	cJSON *spec = cJSON_CreateObject();
	char **env = ff_job_env(j);
	if (!spec || !env) {
		cJSON_Delete(spec);
		ff_job_env_free(env);
		return NULL;
	}
	cJSON_AddStringToObject(spec, "Image", n->image);
	if (j->ncommand)
		cJSON_AddItemToObject(spec, "Cmd", string_array(j->command, j->ncommand));
	size_t nenv = 0;
	while (env[nenv])
		nenv++;
	cJSON_AddItemToObject(spec, "Env", string_array(env, nenv));
	ff_job_env_free(env);
	cJSON_AddStringToObject(spec, "User", cfg->container_user);
	cJSON_AddStringToObject(spec, "WorkingDir", "/target");
	cJSON_AddItemToObject(spec, "Labels", spec_labels(j->run_id, cfg->worker_id));
	/* No network: the engine still gives the container a network namespace of its own
	 * (loopback only), but without libnetwork, whose prestart hook re-executes the whole
	 * dockerd binary for every container (docs/worker-data-plane.md § A run without
	 * network). */
	if (!strcmp(j->network, "none"))
		cJSON_AddBoolToObject(spec, "NetworkDisabled", 1);

	cJSON *hc = cJSON_AddObjectToObject(spec, "HostConfig");
	cJSON_AddItemToObject(hc, "Binds", binds(n, 1));
	cJSON_AddStringToObject(hc, "NetworkMode", j->network);
	double mem = (double)j->memory_mb * 1024 * 1024;
	cJSON_AddNumberToObject(hc, "Memory", mem);
	cJSON_AddNumberToObject(hc, "MemorySwap", mem);
	cJSON_AddNumberToObject(hc, "NanoCpus",
				(double)spec_nano_cpus(j->cpus, sysconf(_SC_NPROCESSORS_ONLN)));
	cJSON_AddNumberToObject(hc, "PidsLimit", (double)j->pids);
	const char *drop[] = {"ALL"};
	cJSON_AddItemToObject(hc, "CapDrop", cJSON_CreateStringArray(drop, 1));
	const char *sec[] = {"no-new-privileges"};
	cJSON_AddItemToObject(hc, "SecurityOpt", cJSON_CreateStringArray(sec, 1));
	cJSON_AddBoolToObject(hc, "ReadonlyRootfs", 1);
	/* exec allowed in /tmp: fuzzing workflows build their harnesses there */
	/* exec: builds (a harness compiled from the target) run from /tmp; the engine's tmpfs
	 * default is noexec. Size-limited, memory-backed, gone with the container. */
	snprintf(tmpfs, sizeof(tmpfs), "rw,exec,nosuid,nodev,size=%ldm", cfg->tmpfs_mb);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(hc, "Tmpfs"), "/tmp", tmpfs);
	cJSON *ul = cJSON_AddArrayToObject(hc, "Ulimits");
	cJSON *nofile = cJSON_CreateObject();
	cJSON_AddStringToObject(nofile, "Name", "nofile");
	cJSON_AddNumberToObject(nofile, "Soft", NOFILE_LIMIT);
	cJSON_AddNumberToObject(nofile, "Hard", NOFILE_LIMIT);
	cJSON_AddItemToArray(ul, nofile);
	cJSON *lc = cJSON_AddObjectToObject(hc, "LogConfig");
	cJSON_AddStringToObject(lc, "Type", "json-file");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(lc, "Config"), "max-size", LOG_MAX_SIZE);
	return spec;
}

static cJSON *helper(const struct ff_job *j, const struct spec_names *n,
		     const struct exec_config *cfg, int with_target)
{
	cJSON *spec = cJSON_CreateObject();
	if (!spec)
		return NULL;
	cJSON_AddStringToObject(spec, "Image", n->image);
	const char *cmd[] = {"/nonexistent"}; /* never started */
	cJSON_AddItemToObject(spec, "Entrypoint", cJSON_CreateStringArray(cmd, 1));
	cJSON_AddStringToObject(spec, "User", "0:0");
	cJSON_AddItemToObject(spec, "Labels", spec_labels(j->run_id, cfg->worker_id));
	cJSON *hc = cJSON_AddObjectToObject(spec, "HostConfig");
	if (with_target) {
		cJSON_AddItemToObject(hc, "Binds", binds(n, 0));
	} else {
		char r[160];
		snprintf(r, sizeof(r), "%s:/results:rw", n->vol_results);
		char *v[] = {r};
		cJSON_AddItemToObject(hc, "Binds", string_array(v, 1));
	}
	cJSON_AddStringToObject(hc, "NetworkMode", "none");
	return spec;
}

cJSON *spec_helper(const struct ff_job *j, const struct spec_names *n,
		   const struct exec_config *cfg)
{
	return helper(j, n, cfg, 1);
}

cJSON *spec_helper_results(const struct ff_job *j, const struct spec_names *n,
			   const struct exec_config *cfg)
{
	return helper(j, n, cfg, 0);
}

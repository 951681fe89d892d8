/* spec — the Engine API bodies of an attempt's containers: the analysis container under the
 * container contract of DESIGN.md, and the helper that fills the target volume. Pure: JSON
 * in, JSON out, no engine calls. */
#ifndef SPEC_H
#define SPEC_H

#include <cjson/cJSON.h>

#include "exec.h"
#include "ff_job.h"

/* The names an attempt's engine objects carry, all derived from the run and attempt so that
 * a later attempt can find and remove what a dead worker left. */
struct spec_names {
	char base[96];	      /* ff-<run>-<attempt>: the analysis container */
	char helper[128];     /* <base>-copy: fills the target volume, never started */
	char vol_target[128]; /* <base>-target at first (what an older worker left); then the
				 cached target volume the attempt mounts (tcache.h) */
	char vol_results[128];
	char image[512]; /* the run's image as the engine knows it (images_ref) */
};

void spec_names_init(struct spec_names *n, const char *run_id, int attempt, const char *image);

/* {"fuzzforge.run": run_id, "fuzzforge.worker": worker_id}; caller deletes. */
cJSON *spec_labels(const char *run_id, const char *worker_id);

/* The analysis container: read-only target and rootfs, writable /results, tmpfs /tmp,
 * non-root, no capabilities, no new privileges, the job's limits. Caller deletes; NULL on
 * no memory. */
cJSON *spec_analysis(const struct ff_job *job, const struct spec_names *n,
		     const struct exec_config *cfg);

/* The helper: the job's image (so its creation also says whether the engine has it), run
 * as root with both volumes writable, never started: the target is streamed into it when
 * its cached volume is filled. */
cJSON *spec_helper(const struct ff_job *job, const struct spec_names *n,
		   const struct exec_config *cfg);

/* The same helper with only the results volume: it sets /results' mode (01777) when the
 * worker cannot reach the volume's directory itself. */
cJSON *spec_helper_results(const struct ff_job *job, const struct spec_names *n,
			   const struct exec_config *cfg);

/* The container's CPU limit in NanoCpus: the manifest's cpus, at most the host's online CPUs
 * (the engine refuses a limit above them, and a manifest is written for any host). */
long long spec_nano_cpus(double cpus, long host_cpus);

#endif

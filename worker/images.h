/* images — where a worker's engine gets the workflow images it lacks: from FF_REGISTRY
 * (host:port), pulled by the engine before the run. A run's image then goes by its
 * registry name, <registry>/<image>, so that a pinned digest (name@sha256:...) means the
 * same bits on every engine. Concurrent runs of one image share one pull: the first
 * executor pulls, the others wait for its result. */
#ifndef IMAGES_H
#define IMAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "docker.h"
#include "ff_err.h"

struct images;

/* The longest engine name of an image: a registry of up to 255 bytes, '/', an image name
 * of up to FF_MANIFEST_IMAGE_MAX (255). */
#define IMAGES_REF_MAX 512

/* registry NULL or "": no pulls, images go by their own names. NULL on no memory, or on a
 * registry of 256 bytes or more. */
struct images *images_new(const char *registry);
void images_free(struct images *im);		      /* NULL-safe */
const char *images_registry(const struct images *im); /* "" when none */

/* The engine's name of image: <registry>/<image>, or image itself without a registry. */
void images_ref(const struct images *im, const char *image, char out[IMAGES_REF_MAX]);

struct images_pull {
	bool shared;	 /* another executor's pull of the same image, waited for (or just ended:
			  the engine had the image when this one looked) */
	int64_t ms;	 /* how long this executor waited for it */
	char digest[80]; /* what the engine reports, "" if it said none */
};

/* Pulls ref (an images_ref name) with d, or waits for a pull of it already under way.
 * Codes as docker_image_pull; err says which registry refused what. */
int images_pull(struct images *im, struct docker *d, const char *ref, struct images_pull *out,
		struct ff_err *err);

/* Pulls that succeeded so far: when it moves, what the engine holds changed. */
unsigned images_pulled(const struct images *im);

/* The references of every image the engine holds, tags and digests ("name:tag",
 * "name@sha256:..."), with the registry's "<registry>/" taken off so that they compare with
 * the catalogue's names: a JSON array of at most IMAGES_LIST_MAX strings (caller deletes). */
#define IMAGES_LIST_MAX 1000
int images_engine_refs(const struct images *im, struct docker *d, cJSON **out, struct ff_err *err);

#endif

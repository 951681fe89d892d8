/* ff_catalog — the catalogue of workflows: every manifest the controller serves, loaded once
 * at start from <dir>/<name>/workflow.json for each dir of a colon-separated list, sorted by
 * name, read-only afterwards (so any thread may read it without locks).
 */
#ifndef FF_CATALOG_H
#define FF_CATALOG_H

#include <stddef.h>

#include "ff_err.h"
#include "ff_manifest.h"

struct ff_catalog;

/* Loads every <dir>/<entry>/workflow.json of each dir in dirs ("a:b"; empty entries are
 * skipped). Entries that are hidden, not directories, or without a workflow.json are skipped.
 * Fails on the first broken manifest (err names the file, code as ff_manifest_load_file), on
 * a dir that is missing (FF_ENOTFOUND), on two manifests with one name (FF_ECONFLICT, naming
 * both files) and past 4096 workflows (FF_ETOOBIG). On success *out is the catalogue; the
 * caller frees it with ff_catalog_free(). */
int ff_catalog_load(const char *dirs, struct ff_catalog **out, struct ff_err *err);
void ff_catalog_free(struct ff_catalog *c); /* NULL-safe */
/* Pins images by digest from the file at path (deploy/build-images.sh writes it when it
 * pushes to a registry): lines "<image> sha256:<64 hex>", '#' comments and blank lines
 * skipped. Every manifest whose image is listed gets "<image>@sha256:..." instead; images
 * not listed, and manifests that already name a digest, stay as they are. *pinned (may be
 * NULL) gets how many manifests were pinned. FF_ENOTFOUND: no such file; FF_EINVAL: a
 * malformed line (err names it). Call before the catalogue is shared. */
int ff_catalog_pin(struct ff_catalog *c, const char *path, size_t *pinned, struct ff_err *err);
/* How many workflows; 0 for NULL. */
size_t ff_catalog_count(const struct ff_catalog *c);
/* The i-th by name, NULL past the end; owned by c. */
const struct ff_manifest *ff_catalog_at(const struct ff_catalog *c, size_t i);
/* The one named name, or NULL; owned by c. */
const struct ff_manifest *ff_catalog_find(const struct ff_catalog *c, const char *name);

#endif

/* ff_profile — named connection profiles, so that a laptop talking to several controllers
 * needs no environment juggling: $XDG_CONFIG_HOME/fuzzforge/config (~/.config/fuzzforge/config
 * when XDG_CONFIG_HOME is unset), INI-style:
 *
 *   # comments start with # or ;
 *   [default]
 *   url = http://127.0.0.1:8000
 *   key_file = ~/.config/fuzzforge/dev.key
 *
 *   [ci]
 *   url = https://fuzzforge.example.com
 *   key_file = /run/secrets/fuzzforge
 *
 * A key is never written in the file itself: key_file names a file whose first line is it
 * (readable by its owner alone, or ff warns). Pure but for reading those two files. */
#ifndef FF_PROFILE_H
#define FF_PROFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "ff_err.h"

struct ff_profile {
	char url[1024]; /* "" when the profile sets none */
	char key[1024]; /* the key read from key_file, "" when none */
	bool key_readable_by_others;
};

/* The config file's path into buf: from XDG_CONFIG_HOME, else HOME. */
const char *ff_profile_path(char *buf, size_t n);
/* Loads profile name from path. FF_ENOTFOUND when the file or the profile is missing;
 * FF_EINVAL naming the line for a line that is not a section, a comment or a known key,
 * or a key_file that cannot be read. */
int ff_profile_load(const char *path, const char *name, struct ff_profile *out, struct ff_err *err);

#endif

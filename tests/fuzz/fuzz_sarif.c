/* fuzz_sarif — ff_sarif_normalise on arbitrary bytes. Beyond memory errors it asserts the
 * shape of every finding: a valid level, non-empty rule id and fingerprint, sane lines, and
 * counts that cover the kept findings. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ff_sarif.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ff_findings f = {0};
	struct ff_err err = {0};
	size_t total = 0;

	if (ff_sarif_normalise((const char *)data, size, 50, &f, &err) < 0) {
		if (f.n || f.items || !err.msg[0])
			abort();
		return 0;
	}
	for (int i = 0; i < 4; i++)
		total += f.count_by_level[i];
	if (f.n > 50 || total < f.n)
		abort();
	for (size_t i = 0; i < f.n; i++) {
		const struct ff_finding *x = &f.items[i];
		if (ff_sarif_level_index(x->level) < 0 || !*x->rule_id || !*x->fingerprint ||
		    !x->message || x->start_line < 0 || x->end_line < x->start_line ||
		    (x->path && (!*x->path || x->path[0] == '/')))
			abort();
	}
	ff_findings_release(&f);
	return 0;
}

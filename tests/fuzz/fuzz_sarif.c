/* fuzz_sarif — ff_sarif_prescan and ff_sarif_normalise on arbitrary bytes, as the worker
 * runs them on a workflow's results.sarif. Beyond memory errors it asserts, on every
 * finding kept, what the findings table is promised (findings_check.h): a valid level,
 * non-empty rule id and fingerprint, every string valid UTF-8 without NUL, paths confined to
 * the target (not absolute, no "." or ".." segment), lines within int range, and counts that
 * cover the kept findings; a refused log keeps nothing and says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "findings_check.h"
#include "ff_sarif.h"

#define MAX_KEPT 50

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ff_findings f = {0};
	struct ff_err err = {0};

	/* The pre-scan's verdict only gates the worker; here both run on everything. */
	if (ff_sarif_prescan((const char *)data, size, 0, 0, &err) < 0 && !err.msg[0])
		findings_fail("fuzz_sarif", "a pre-scan refusal without a reason", NULL);
	err = (struct ff_err){0};
	if (ff_sarif_normalise((const char *)data, size, MAX_KEPT, &f, &err) < 0) {
		if (f.n || f.items || !err.msg[0])
			findings_fail("fuzz_sarif", "a refused log that kept findings or no reason",
				      NULL);
		return 0;
	}
	findings_check("fuzz_sarif", &f, MAX_KEPT);
	ff_findings_release(&f);
	return 0;
}

/* fuzz_parse — the libFuzzer harness of the record parser: any input, parsed and released. */
#include <stddef.h>
#include <stdint.h>

#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_file f;

	if (rec_parse(data, size, &f) == 0)
		rec_file_release(&f);
	return 0;
}

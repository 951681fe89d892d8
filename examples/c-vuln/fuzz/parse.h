/* parse — a parser for length-prefixed record files: the 4-byte magic "REC1", then records
 * of <type:1><length:2, big-endian><payload:length>. The sample target of the libfuzzer
 * workflow: it has a deliberate heap buffer overflow for the fuzzer to find. */
#ifndef PARSE_H
#define PARSE_H

#include <stddef.h>
#include <stdint.h>

#define REC_MAX 64 /* records kept per file */

enum rec_type { REC_NAME = 1, REC_DATA = 2, REC_END = 3 };

struct rec {
	uint8_t type;
	uint16_t len;
	char *name;    /* REC_NAME: the payload as a NUL-terminated string */
	uint8_t *data; /* REC_DATA: a copy of the payload */
};

struct rec_file {
	struct rec recs[REC_MAX];
	size_t n;
};

/* Parses buf into f. Returns 0, or -1 on a malformed file (f is then empty). Release the
 * records with rec_file_release(). */
int rec_parse(const uint8_t *buf, size_t size, struct rec_file *f);
void rec_file_release(struct rec_file *f);

#endif

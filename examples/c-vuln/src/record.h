/* record — a deliberately vulnerable parser of "name=value" records: the sample target of
 * the c-static-analysis workflow. Every bug in it is planted; do not reuse this code. */
#ifndef RECORD_H
#define RECORD_H

#include <stddef.h>

struct record {
	char name[16];
	long value;
};

/* Parses "name=value" from line into out; 0 on success, -1 on a malformed line. */
int record_parse(const char *line, struct record *out);
/* Sums the values of n records and returns the total. */
long record_sum(const struct record *r, size_t n);
/* Returns a malloc'd copy of the record's name, or NULL. */
char *record_label(const struct record *r);

#endif

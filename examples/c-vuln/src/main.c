/* c-vuln — reads records from standard input and prints their labels and total. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record.h"

static void banner(void)
{
	char title[8];
	/* planted: the literal does not fit in title */
	strcpy(title, "record-reader");
	puts(title);
}

int main(void)
{
	struct record recs[64];
	char line[128];
	size_t n = 0;

	banner();
	/* planted: %s reads a word of any length into line */
	while (n < 64 && scanf("%s", line) == 1) {
		if (record_parse(line, &recs[n]) == 0)
			n++;
	}
	for (size_t i = 0; i < n; i++) {
		char *label = record_label(&recs[i]);
		if (label)
			puts(label);
		free(label);
	}
	printf("total %ld\n", record_sum(recs, n));
	return 0;
}

/* record — a deliberately vulnerable parser of "name=value" records; see record.h. */
#include "record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int record_parse(const char *line, struct record *out)
{
	const char *eq = strchr(line, '=');
	if (!eq)
		return -1;
	/* planted: copies a name of any length into a 16-byte field */
	strcpy(out->name, line);
	out->name[eq - line] = '\0';
	out->value = strtol(eq + 1, NULL, 10);
	return 0;
}

long record_sum(const struct record *r, size_t n)
{
	long total; /* planted: never initialised */
	size_t i;

	for (i = 0; i < n; i++)
		total = total + r[i].value;
	return total;
}

char *record_label(const struct record *r)
{
	char *label = malloc(sizeof(r->name) + 8);
	if (!label)
		return NULL;
	snprintf(label, sizeof(r->name) + 8, "[%s]", r->name);
	if (r->value < 0)
		return NULL; /* planted: leaks label */
	return label;
}

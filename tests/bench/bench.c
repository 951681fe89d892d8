/* bench — helpers the benchmarks share; see bench.h. */
#include "bench.h"

#include <stddef.h>
#include <stdlib.h>
#include <time.h>

double bench_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

void bench_sort(double *ms, int n)
{
	qsort(ms, (size_t)n, sizeof(double), cmp_double);
}

double bench_pct(const double *sorted, int n, int pct)
{
	int i = (int)((long)n * pct / 100);
	return sorted[i < n ? i : n - 1];
}

/* bench — helpers the benchmarks share; see bench.h. */
#include "bench.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

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

double bench_machine_cpu_ms(void)
{
	unsigned long long user, nice, sys, idle, iowait, irq, softirq, steal;
	FILE *f = fopen("/proc/stat", "r");
	int got = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &user, &nice, &sys,
			     &idle, &iowait, &irq, &softirq, &steal)
		    : 0;
	if (f)
		fclose(f);
	if (got != 8)
		return 0;
	double ticks = (double)(user + nice + sys + irq + softirq + steal);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double own = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000.0 +
		     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000.0;
	return ticks * 1000.0 / (double)sysconf(_SC_CLK_TCK) - own;
}

/* bench — helpers the benchmarks share; see bench.h. */
#include "bench.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
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

double bench_process_cpu_ms(pid_t pid)
{
	char path[64];
	unsigned long long ns = 0;
	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f && fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	if (f)
		fclose(f);
	return (double)ns / 1e6;
}

/* A group's directory: cgroup v1's cpuacct hierarchy, else the v2 unified one. */
static bool group_dir(const char *group, char *dir, size_t len, bool *v2)
{
	struct stat st;
	snprintf(dir, len, "/sys/fs/cgroup/cpuacct/%s", group);
	*v2 = false;
	if (stat(dir, &st) == 0)
		return true;
	snprintf(dir, len, "/sys/fs/cgroup/%s", group);
	*v2 = true;
	return stat(dir, &st) == 0;
}

double bench_group_cpu_ms(const char *group)
{
	char dir[256], path[300], line[128];
	bool v2;
	if (!group_dir(group, dir, sizeof(dir), &v2))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, v2 ? "cpu.stat" : "cpuacct.usage");
	FILE *f = fopen(path, "r");
	double ms = -1;
	unsigned long long v;
	while (f && fgets(line, sizeof(line), f))
		if (v2 ? sscanf(line, "usage_usec %llu", &v) == 1 : sscanf(line, "%llu", &v) == 1) {
			ms = v2 ? (double)v / 1e3 : (double)v / 1e6;
			break;
		}
	if (f)
		fclose(f);
	return ms;
}

bool bench_group_join(const char *group, pid_t pid)
{
	char dir[256], path[300];
	bool v2;
	if (!group_dir(group, dir, sizeof(dir), &v2))
		return false;
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	FILE *f = fopen(path, "w");
	bool ok = f && fprintf(f, "%d\n", (int)pid) > 0;
	if (f)
		ok = fclose(f) == 0 && ok;
	return ok;
}

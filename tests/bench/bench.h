/* bench — what the benchmarks share: latencies in milliseconds (doubles, so a 0.4 ms commit
 * is not rounded away), sorted once and read as percentiles. */
#ifndef BENCH_H
#define BENCH_H

#include <stdbool.h>
#include <sys/types.h>

/* Milliseconds on CLOCK_MONOTONIC, with sub-millisecond precision. */
double bench_now_ms(void);
/* Sorts n latencies ascending, in place. */
void bench_sort(double *ms, int n);
/* The pct-th percentile (0-100) of n > 0 sorted latencies: the element at n * pct / 100,
 * clamped to the last. */
double bench_pct(const double *sorted, int n, int pct);
/* CPU time the whole machine has spent (/proc/stat: user, nice, system, irq, softirq,
 * steal; 10 ms ticks) less this process's own (getrusage), in ms: what the engine, the
 * platform's processes and the services used between two calls. */
double bench_machine_cpu_ms(void);
/* The CPU time, in ms, process pid has used (/proc/<pid>/schedstat, ns), or 0 when it cannot
 * be read: what a PostgreSQL backend serving the bench itself costs. */
double bench_process_cpu_ms(pid_t pid);
/* The CPU time, in ms, of the processes in an accounting group that tests/bench/cpu_groups.sh
 * made (cgroup v1 cpuacct or v2), or -1 when there is no such group. */
double bench_group_cpu_ms(const char *group);
/* Moves pid into the group; false when there is none (or no right to). */
bool bench_group_join(const char *group, pid_t pid);

#endif

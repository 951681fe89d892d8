/* bench_hostile — the controller under hostile uploads, beside its idle floor. Not a test: it
 * prints figures and never fails on speed.
 *
 * (1) /healthz latency p50/p99 on a kept-open connection, idle (the floor), during a 256 MiB
 *     tar upload (made while it is sent) and during a pax decompression bomb (~5 MB of gzip);
 * (2) the controller's RSS idle / peak (VmHWM, reset before each phase) / after, for four
 *     parallel unauthenticated 200 MB POSTs, the 256 MiB upload and the bomb;
 * (3) how long the bomb took to be refused, and with what.
 * Usage: bench_hostile */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench.h"
#include "itest.h"

#define MIB	    (1024 * 1024)
#define FLOOD_LEN   (200ull * MIB)
#define IDLE_PROBES 2000
#define AUTH	    "Authorization: Bearer " ITEST_API_KEY "\r\n"

struct mem {
	long idle, peak, after; /* KiB */
};

static void mem_begin(pid_t pid, struct mem *m)
{
	m->idle = itest_proc_kib(pid, "VmRSS");
	if (itest_proc_reset_hwm(pid) < 0)
		fprintf(stderr, "cannot reset VmHWM of %d: the peak includes earlier phases\n",
			(int)pid);
}

static void mem_end(pid_t pid, struct mem *m)
{
	m->peak = itest_proc_kib(pid, "VmHWM");
	m->after = itest_proc_kib(pid, "VmRSS");
}

static void print_mem(const char *what, const struct mem *m)
{
	printf("  %-44s idle %7.1f  peak %7.1f (+%6.1f)  after %7.1f MiB\n", what,
	       (double)m->idle / 1024, (double)m->peak / 1024, (double)(m->peak - m->idle) / 1024,
	       (double)m->after / 1024);
}

static void print_probes(const char *what, struct itest_prober *p)
{
	if (!p->n) {
		printf("  %-44s no probe answered (%d unanswered)\n", what, p->failed);
		return;
	}
	bench_sort(p->ms, p->n);
	printf("  %-44s p50 %7.2f  p99 %7.2f  max %7.2f ms  (%d probes, %d unanswered in 1 s)\n",
	       what, bench_pct(p->ms, p->n, 50), bench_pct(p->ms, p->n, 99), p->worst_ms, p->n,
	       p->failed);
}

/* Sends head (request line and headers) with a Content-Length of len. */
static void send_head(struct itest_conn *c, const char *head, unsigned long long len)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%sContent-Length: %llu\r\n\r\n", head, len);
	assert_int_equal(itest_conn_send(c, buf, (size_t)n), 0);
}

static size_t zeros(void *ctx, char *buf, size_t cap)
{
	uint64_t *left = ctx;
	size_t n = *left < cap ? (size_t)*left : cap;
	memset(buf, 0, n);
	*left -= n;
	return n;
}

struct flood {
	struct itest_conn c;
	uint64_t left, sent;
};

static void *flood_main(void *arg)
{
	struct flood *f = arg;
	f->sent = itest_conn_send_body(&f->c, zeros, &f->left, 60000);
	return NULL;
}

struct membody {
	const char *p;
	size_t left;
};

static size_t from_mem(void *ctx, char *buf, size_t cap)
{
	struct membody *m = ctx;
	size_t n = m->left < cap ? m->left : cap;
	memcpy(buf, m->p, n);
	m->p += n;
	m->left -= n;
	return n;
}

static void bench(void **state)
{
	(void)state;
	const char *env[] = {"FF_LOG_LEVEL=info", "FF_MAX_TARGET_MB=300", NULL};
	struct itest t;
	struct itest_prober idle, up, bomb;
	struct mem m_flood, m_up, m_bomb;
	struct itest_raw_resp r;
	const char *files[] = {"warm.txt", "up\n", NULL};
	char warm[65];

	itest_setup(&t, "bench_hostile");
	pid_t pid = itest_start_controller(&t, env);
	itest_upload(&t, files, warm); /* the upload path's first use is not measured */

	/* (1) the floor: probes back to back, nothing else going on. */
	itest_prober_start(&t, &idle, 0);
	while (idle.n + idle.failed < IDLE_PROBES)
		itest_pause_ms(10);
	itest_prober_stop(&idle);

	/* (2) four unauthenticated 200 MB floods at once. */
	struct flood fl[4];
	pthread_t th[4];
	int refused = 0;
	mem_begin(pid, &m_flood);
	for (int i = 0; i < 4; i++) {
		fl[i].left = FLOOD_LEN;
		itest_conn_open(&t, &fl[i].c);
		send_head(&fl[i].c,
			  "POST /api/v1/targets HTTP/1.1\r\nHost: b\r\n"
			  "Content-Type: application/x-tar\r\n",
			  FLOOD_LEN);
	}
	double f0 = bench_now_ms();
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&th[i], NULL, flood_main, &fl[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	double flood_ms = bench_now_ms() - f0;
	mem_end(pid, &m_flood);
	uint64_t flood_sent = 0;
	for (int i = 0; i < 4; i++) {
		if (itest_conn_read_resp(&fl[i].c, 0, &r) == 0) {
			refused += r.status == 401;
			itest_raw_resp_release(&r);
		}
		flood_sent += fl[i].sent;
		itest_conn_close(&fl[i].c);
	}

	/* The 256 MiB upload, probed. */
	struct itest_tar_gen g = {.nfiles = 4, .file_bytes = 64 * MIB - 1024};
	struct itest_conn c;
	char sha[65];
	itest_http_close(&t);
	mem_begin(pid, &m_up);
	itest_prober_start(&t, &up, 5);
	itest_conn_open(&t, &c);
	send_head(&c,
		  "POST /api/v1/targets HTTP/1.1\r\nHost: b\r\n" AUTH
		  "Content-Type: application/x-tar\r\n",
		  (unsigned long long)itest_tar_gen_size(&g));
	double u0 = bench_now_ms();
	itest_conn_send_body(&c, itest_tar_gen, &g, 300000);
	int up_status = itest_conn_read_resp(&c, 300000, &r) == 0 ? r.status : -1;
	double up_ms = bench_now_ms() - u0;
	if (up_status >= 0)
		itest_raw_resp_release(&r);
	itest_prober_stop(&up);
	mem_end(pid, &m_up);
	itest_conn_close(&c);
	itest_tar_gen_sha256(&g, sha);

	/* The bomb, probed. */
	size_t blen;
	uint64_t inflated;
	char *b = itest_pax_bomb(5 * MIB, &blen, &inflated);
	struct membody mb = {b, blen};
	mem_begin(pid, &m_bomb);
	itest_prober_start(&t, &bomb, 5);
	itest_conn_open(&t, &c);
	send_head(&c,
		  "POST /api/v1/targets HTTP/1.1\r\nHost: b\r\n" AUTH
		  "Content-Type: application/gzip\r\n",
		  (unsigned long long)blen);
	double b0 = bench_now_ms();
	itest_conn_send_body(&c, from_mem, &mb, 300000);
	int bomb_status = itest_conn_read_resp(&c, 300000, &r) == 0 ? r.status : -1;
	double bomb_ms = bench_now_ms() - b0;
	char bomb_msg[200] = "";
	if (bomb_status >= 0) {
		snprintf(bomb_msg, sizeof(bomb_msg), "%.190s", r.body);
		itest_raw_resp_release(&r);
	}
	itest_prober_stop(&bomb);
	mem_end(pid, &m_bomb);
	itest_conn_close(&c);
	free(b);
	itest_teardown(&t);

	printf("\n/healthz on a kept-open connection:\n");
	print_probes("idle (the floor)", &idle);
	print_probes("during the 256 MiB upload", &up);
	print_probes("during the pax bomb", &bomb);
	printf("\ncontroller memory:\n");
	print_mem("4 x 200 MB unauthenticated POSTs", &m_flood);
	print_mem("256 MiB upload", &m_up);
	print_mem("pax bomb", &m_bomb);
	printf("\n4 unauthenticated floods: %d of 4 answered 401, closed after %.1f MiB written "
	       "in all, %.0f ms\n",
	       refused, (double)flood_sent / MIB, flood_ms);
	printf("256 MiB upload: %d in %.0f ms (%.0f MiB/s), sha256 %.16s...\n", up_status, up_ms,
	       256.0 / (up_ms / 1000.0), sha);
	printf("pax bomb: %.1f MiB of gzip inflating to %.0f MiB: %d after %.0f ms %s\n",
	       (double)blen / MIB, (double)inflated / MIB, bomb_status, bomb_ms, bomb_msg);
	itest_prober_release(&idle);
	itest_prober_release(&up);
	itest_prober_release(&bomb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(bench)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

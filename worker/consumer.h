/* consumer — the worker's broker side and its threads.
 *
 * One thread owns the broker connection. It takes a delivery only when one of the
 * `concurrency` container slots is free (it stops consuming while all are busy and hands
 * back any surplus), so the broker's priority order decides what runs next. There is one
 * executor more than slots: a run's slot frees when its container ends, and the spare
 * executor starts the next run while the last one's result is recorded and its container
 * removed. An executor marks the run running under a lease and the message is acked right
 * away: from then on the lease, renewed by the heartbeat thread, keeps the run alive however
 * long it takes, with no broker consumer timeout to fear. Failed attempts are published to a
 * delay queue for their retry, or to the dead-letter exchange past their last attempt.
 * Poison messages are rejected to the dead-letter queue. The heartbeat thread also registers
 * the worker, and kills the containers of cancelled runs and, when a drain runs out of time,
 * of the runs it hands back. */
#ifndef CONSUMER_H
#define CONSUMER_H

#include <signal.h>

#include "exec.h"

#define CONSUMER_MAX_CONCURRENCY 64 /* FF_WORKER_CONCURRENCY's bound */

struct consumer_config {
	const char *amqp_url;
	const char *database_url;
	const char *docker_host;
	const char *pool;
	int concurrency; /* containers at a time (FF_WORKER_CONCURRENCY) */
	long drain_s;	 /* on stop, how long running runs may go on before they are handed back */
	const struct exec_config *exec;
};

/* Runs until *stop becomes non-zero, then drains and returns 0. Returns an FF_E* code if
 * the executors can't be started. */
int consumer_run(const struct consumer_config *cfg, volatile sig_atomic_t *stop);

#endif

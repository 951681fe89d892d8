/* consumer — the worker's AMQP side: one thread owns the broker connection, takes deliveries
 * from ff.jobs.<pool>, hands decoded jobs to `concurrency` executor threads, and acks each
 * message only once its run's outcome is recorded. Poison messages (that don't decode) are
 * rejected without requeue, so the broker dead-letters them to ff.dead. */
#ifndef CONSUMER_H
#define CONSUMER_H

#include <signal.h>

#include "exec.h"

struct consumer_config {
	const char *amqp_url;
	const char *database_url;
	const char *docker_host;
	const char *pool;
	int concurrency;
	const struct exec_config *exec;
};

/* Runs until *stop becomes non-zero, then stops consuming, lets running jobs finish, and
 * returns 0. Returns an FF_E* code if the executors can't be started. */
int consumer_run(const struct consumer_config *cfg, volatile sig_atomic_t *stop);

#endif

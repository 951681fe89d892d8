/* pool — the controller's database threads. Each has its own PostgreSQL connection and runs
 * handlers one at a time, so the event loop never waits on the database. A streamed request
 * (an upload) gets a thread and a connection of its own for as long as its body takes. */
#ifndef POOL_H
#define POOL_H

#include "ff_err.h"

struct http_req;
struct pool;

/* Starts n threads, each connected to database_url (a connection that breaks is remade on
 * its next query by ff_db). */
int pool_start(const char *database_url, int n, struct pool **out, struct ff_err *err);
/* Queues r; a thread sets r->db, runs r->route->handler and completes r (http_complete)
 * unless the handler deferred it. Never blocks. */
void pool_push(struct pool *p, struct http_req *r);
/* The same on a new thread with a connection of its own, for a request whose handler
 * reads a streamed body. FF_ENOMEM/FF_EUNAVAIL when no thread or connection can be had. */
int pool_spawn(struct pool *p, struct http_req *r, struct ff_err *err);
/* Runs r's handler on the calling thread (the loop, for a route's on_loop), with no
 * database, and completes it as a database thread would: unless the handler deferred. */
void pool_run_here(struct http_req *r);
/* Lets queued requests finish, then stops the threads. NULL-safe. */
void pool_stop(struct pool *p);

#endif

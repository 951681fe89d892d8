/* keys — who may call the API, and how often. FF_API_KEY is the bootstrap admin key; every
 * other key is created through the API and stored as its SHA-256 digest in api_keys, with
 * scopes (read, submit, admin) and an optional rate of its own.
 *
 * The event loop judges a request's key from memory: a thread of its own re-reads the live
 * keys every KEYS_EVERY_MS on a connection only it uses, so a key revoked on any controller
 * stops working here within a second, and nothing on the request path waits on the
 * database. The same pass records last_used_at for the keys used since the last one.
 *
 * Rate limits are token buckets, one per key, kept in this controller's memory (buckets are
 * per controller: with n controllers behind a balancer a key gets up to n times its rate). */
#ifndef KEYS_H
#define KEYS_H

#include <stdbool.h>
#include <stddef.h>

#include "ff_db.h"
#include "ff_err.h"

#define KEYS_EVERY_MS 1000

enum key_scope {
	KEY_READ = 1 << 0,   /* every GET */
	KEY_SUBMIT = 1 << 1, /* uploads, submits, cancel, retry */
	KEY_ADMIN = 1 << 2,  /* keys, dead letters, the audit log; implies read and submit */
};

#define KEY_ID_LEN 37 /* a uuid, or "bootstrap" */

struct keys_config {
	const char *database_url;
	const char *bootstrap_key; /* FF_API_KEY */
	double rate_per_s;	   /* FF_RATE_PER_S: a key's default rate */
	double burst;		   /* FF_RATE_BURST: its bucket's size */
};

/* What keys_check decided about a request's key. */
struct key_verdict {
	int code;	      /* 0, FF_EAUTH (no such key) or FF_EFORBIDDEN (scope) */
	bool limited;	      /* over its rate: 429 */
	char id[KEY_ID_LEN];  /* the key's id when known */
	double limit;	      /* the bucket's size, for RateLimit-Limit */
	double remaining;     /* whole requests left now */
	double reset_s;	      /* seconds until the bucket is full again */
	double retry_after_s; /* when limited: seconds until one request is allowed */
};

struct keys;

/* Loads the live keys once (so the first request is judged against them), then starts the
 * thread. Caller stops it with keys_stop() (NULL-safe). */
int keys_start(const struct keys_config *cfg, struct keys **out, struct ff_err *err);
void keys_stop(struct keys *k);

/* Judges an Authorization header value ("Bearer <key>"; NULL when absent) for a route that
 * needs scope, and takes one token from the key's bucket. On the event loop: no I/O. */
void keys_check(struct keys *k, const char *authorization, enum key_scope scope,
		struct key_verdict *v);

/* A key created or revoked on this controller takes effect here at once (other controllers
 * see it at their next re-read). scopes: the key_scope bits; rate_per_s 0: the default. */
int keys_add(struct keys *k, const char *id, const char *digest, unsigned scopes,
	     double rate_per_s);
void keys_remove(struct keys *k, const char *id);

/* The scope named s ("read", "submit", "admin"), or 0. */
enum key_scope key_scope_parse(const char *s);
const char *key_scope_name(enum key_scope s);

/* A new key: "ff_" and 40 hex digits, and its digest. */
int keys_generate(char key[44], char digest[65], struct ff_err *err);

#endif

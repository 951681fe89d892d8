/* keys — API keys in memory, re-read every second, with their token buckets; see keys.h. */
#include "keys.h"

#include <openssl/crypto.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ff_log.h"
#include "ff_util.h"

struct entry {
	char digest[65];
	char id[KEY_ID_LEN];
	unsigned scopes;
	double rate, burst;
	double tokens; /* the bucket: refilled at rate, at most burst */
	int64_t filled_ms;
	bool used; /* since the last pass wrote last_used_at */
};

struct keys {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	bool stopping;
	char *database_url;
	double rate, burst;
	/* under lock */
	struct entry bootstrap;
	struct entry *entries; /* the live created keys, sorted by digest */
	size_t n;
	unsigned long changes; /* keys_add and keys_remove calls */
};

enum key_scope key_scope_parse(const char *s)
{
	return !strcmp(s, "read")     ? KEY_READ
	       : !strcmp(s, "submit") ? KEY_SUBMIT
	       : !strcmp(s, "admin")  ? KEY_ADMIN
				      : 0;
}

const char *key_scope_name(enum key_scope s)
{
	return s == KEY_READ ? "read" : s == KEY_SUBMIT ? "submit" : "admin";
}

int keys_generate(char key[44], char digest[65], struct ff_err *err)
{
	unsigned char raw[20];
	if (ff_random_bytes(raw, sizeof(raw)) < 0)
		return ff_err_set(err, FF_EINTERNAL, "no randomness for an API key");
	memcpy(key, "ff_", 3);
	for (size_t i = 0; i < sizeof(raw); i++)
		snprintf(key + 3 + 2 * i, 3, "%02x", raw[i]);
	ff_sha256_hex(key, strlen(key), digest);
	return 0;
}

/* "{read,submit}" (a text[] as PostgreSQL prints it) as scope bits. */
static unsigned scopes_of(const char *array)
{
	unsigned bits = 0;
	char word[16];
	for (const char *p = array + (*array == '{'); *p && *p != '}';) {
		size_t n = strcspn(p, ",}");
		if (n < sizeof(word)) {
			memcpy(word, p, n);
			word[n] = '\0';
			bits |= key_scope_parse(word);
		}
		p += n + (p[n] == ',');
	}
	return bits;
}

static int by_digest(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->digest, ((const struct entry *)b)->digest);
}

/* A key's entry with a full bucket; rate 0: the default. */
static struct entry fresh_entry(const struct keys *k, double rate)
{
	return (struct entry){.rate = rate > 0 ? rate : k->rate,
			      .burst = k->burst,
			      .tokens = k->burst,
			      .filled_ms = ff_now_ms()};
}

/* The live keys from the database, sorted by digest; NULL with *n = 0 for none. */
static int load(struct keys *k, struct ff_db *db, struct entry **out, size_t *n, struct ff_err *err)
{
	PGresult *res = ff_db_query(db,
				    "SELECT key_sha256, id, scopes, rate_per_s FROM api_keys "
				    "WHERE revoked_at IS NULL",
				    0, NULL, err);
	if (!res)
		return err->code;
	size_t rows = (size_t)PQntuples(res);
	struct entry *e = rows ? calloc(rows, sizeof(*e)) : NULL;
	if (rows && !e) {
		PQclear(res);
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < rows; i++) {
		e[i] = fresh_entry(
		    k, PQgetisnull(res, (int)i, 3) ? 0 : atof(PQgetvalue(res, (int)i, 3)));
		snprintf(e[i].digest, sizeof(e[i].digest), "%s", PQgetvalue(res, (int)i, 0));
		snprintf(e[i].id, sizeof(e[i].id), "%s", PQgetvalue(res, (int)i, 1));
		e[i].scopes = scopes_of(PQgetvalue(res, (int)i, 2));
	}
	PQclear(res);
	if (rows)
		qsort(e, rows, sizeof(*e), by_digest);
	*out = e;
	*n = rows;
	return 0;
}

static struct entry *find(struct entry *e, size_t n, const char *digest)
{
	struct entry probe;
	memcpy(probe.digest, digest, sizeof(probe.digest));
	return n ? bsearch(&probe, e, n, sizeof(*e), by_digest) : NULL;
}

/* One pass: the new key table replaces the old, buckets carried over by digest, and the
 * keys used since the last pass get their last_used_at. A table read while a key was
 * created or revoked here may predate that change: it is read again. */
static void refresh(struct keys *k, struct ff_db *db)
{
	struct ff_err err;
	struct entry *fresh;
	size_t n;
	for (;;) {
		pthread_mutex_lock(&k->lock);
		unsigned long seen = k->changes;
		pthread_mutex_unlock(&k->lock);
		if (load(k, db, &fresh, &n, &err) < 0) {
			ff_warn("api keys not re-read (the last ones stay in force): %s", err.msg);
			return;
		}
		pthread_mutex_lock(&k->lock);
		if (k->changes == seen)
			break; /* still locked */
		pthread_mutex_unlock(&k->lock);
		free(fresh);
	}
	/* "{id,id,...}": at most the old table's size */
	size_t cap = 3 + k->n * KEY_ID_LEN, off = 0;
	char *used = malloc(cap);
	if (used)
		off += (size_t)snprintf(used, cap, "{");
	for (size_t i = 0; i < n; i++) {
		struct entry *old = find(k->entries, k->n, fresh[i].digest);
		if (!old)
			continue;
		fresh[i].tokens = old->tokens;
		fresh[i].filled_ms = old->filled_ms;
	}
	for (size_t i = 0; used && i < k->n; i++)
		if (k->entries[i].used)
			off += (size_t)snprintf(used + off, cap - off, "%s%s", off > 1 ? "," : "",
						k->entries[i].id);
	struct entry *stale = k->entries;
	k->entries = fresh;
	k->n = n;
	pthread_mutex_unlock(&k->lock);
	free(stale);
	if (used && off > 1) {
		snprintf(used + off, cap - off, "}");
		const char *p[] = {used};
		if (ff_db_exec(db, "UPDATE api_keys SET last_used_at = now() WHERE id = ANY($1)", 1,
			       p, &err) < 0)
			ff_warn("api keys' last use not recorded: %s", err.msg);
	}
	free(used);
}

static void *keys_main(void *arg)
{
	struct keys *k = arg;
	struct ff_db *db = NULL;
	struct ff_err err;
	ff_db_connect(k->database_url, &db, &err); /* a server down now: retried on use */
	pthread_mutex_lock(&k->lock);
	while (!k->stopping) {
		pthread_mutex_unlock(&k->lock);
		refresh(k, db);
		struct timespec until;
		ff_deadline_in(&until, KEYS_EVERY_MS);
		pthread_mutex_lock(&k->lock);
		if (!k->stopping)
			pthread_cond_timedwait(&k->wake, &k->lock, &until);
	}
	pthread_mutex_unlock(&k->lock);
	ff_db_free(db);
	return NULL;
}

static void keys_free(struct keys *k)
{
	free(k->database_url);
	free(k->entries);
	pthread_mutex_destroy(&k->lock);
	pthread_cond_destroy(&k->wake);
	free(k);
}

int keys_start(const struct keys_config *cfg, struct keys **out, struct ff_err *err)
{
	struct keys *k = calloc(1, sizeof(*k));
	if (!k)
		return ff_err_set(err, FF_ENOMEM, "out of memory");
	pthread_mutex_init(&k->lock, NULL);
	pthread_cond_init(&k->wake, NULL);
	k->rate = cfg->rate_per_s;
	k->burst = cfg->burst;
	k->bootstrap = (struct entry){.id = "bootstrap",
				      .scopes = KEY_READ | KEY_SUBMIT | KEY_ADMIN,
				      .rate = cfg->rate_per_s,
				      .burst = cfg->burst,
				      .tokens = cfg->burst,
				      .filled_ms = ff_now_ms()};
	ff_sha256_hex(cfg->bootstrap_key, strlen(cfg->bootstrap_key), k->bootstrap.digest);
	struct ff_db *db = NULL;
	int rc = 0;
	if (!(k->database_url = strdup(cfg->database_url)))
		rc = ff_err_set(err, FF_ENOMEM, "out of memory");
	else if ((rc = ff_db_connect(cfg->database_url, &db, err)) == 0)
		rc = load(k, db, &k->entries, &k->n, err);
	ff_db_free(db);
	if (rc == 0 && pthread_create(&k->thread, NULL, keys_main, k) != 0)
		rc = ff_err_set(err, FF_EINTERNAL, "cannot start the api keys thread");
	if (rc < 0) {
		keys_free(k);
		return rc;
	}
	*out = k;
	return 0;
}

void keys_stop(struct keys *k)
{
	if (!k)
		return;
	pthread_mutex_lock(&k->lock);
	k->stopping = true;
	pthread_cond_signal(&k->wake);
	pthread_mutex_unlock(&k->lock);
	pthread_join(k->thread, NULL);
	keys_free(k);
}

int keys_add(struct keys *k, const char *id, const char *digest, unsigned scopes, double rate_per_s)
{
	pthread_mutex_lock(&k->lock);
	struct entry *e = realloc(k->entries, (k->n + 1) * sizeof(*e));
	if (!e) {
		pthread_mutex_unlock(&k->lock);
		return FF_ENOMEM;
	}
	k->entries = e;
	e[k->n] = fresh_entry(k, rate_per_s);
	snprintf(e[k->n].digest, sizeof(e[k->n].digest), "%s", digest);
	snprintf(e[k->n].id, sizeof(e[k->n].id), "%s", id);
	e[k->n].scopes = scopes;
	k->n++;
	k->changes++;
	qsort(k->entries, k->n, sizeof(*e), by_digest);
	pthread_mutex_unlock(&k->lock);
	return 0;
}

void keys_remove(struct keys *k, const char *id)
{
	pthread_mutex_lock(&k->lock);
	for (size_t i = 0; i < k->n; i++)
		if (!strcmp(k->entries[i].id, id)) {
			memmove(&k->entries[i], &k->entries[i + 1],
				(k->n - i - 1) * sizeof(*k->entries));
			k->n--;
			break;
		}
	k->changes++;
	pthread_mutex_unlock(&k->lock);
}

/* Refills e's bucket for the time since it was last filled, then takes a token if there is
 * one. */
static bool take_token(struct entry *e, struct key_verdict *v)
{
	int64_t now = ff_now_ms();
	e->tokens += (double)(now - e->filled_ms) / 1000.0 * e->rate;
	if (e->tokens > e->burst)
		e->tokens = e->burst;
	e->filled_ms = now;
	bool ok = e->tokens >= 1.0;
	if (ok)
		e->tokens -= 1.0;
	v->limit = e->burst;
	v->remaining = e->tokens < 1.0 ? 0 : (double)(long)e->tokens;
	v->reset_s = (e->burst - e->tokens) / e->rate;
	v->retry_after_s = ok ? 0 : (1.0 - e->tokens) / e->rate;
	return ok;
}

void keys_check(struct keys *k, const char *authorization, enum key_scope scope,
		struct key_verdict *v)
{
	*v = (struct key_verdict){.code = FF_EAUTH};
	if (!authorization || strncmp(authorization, "Bearer ", 7) != 0 || !authorization[7])
		return;
	char digest[65];
	ff_sha256_hex(authorization + 7, strlen(authorization + 7), digest);
	pthread_mutex_lock(&k->lock);
	/* The key itself never reaches a comparison, only its digest: a lookup's timing says
	 * nothing about a stored key that a preimage would not. */
	struct entry *e = CRYPTO_memcmp(digest, k->bootstrap.digest, 64) == 0
			      ? &k->bootstrap
			      : find(k->entries, k->n, digest);
	if (e) {
		memcpy(v->id, e->id, sizeof(v->id));
		e->used = true;
		if (!(e->scopes & (scope | KEY_ADMIN)))
			v->code = FF_EFORBIDDEN;
		else {
			v->code = 0;
			v->limited = !take_token(e, v);
		}
	}
	pthread_mutex_unlock(&k->lock);
}

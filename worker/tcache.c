/* tcache — the cached target volumes; see tcache.h. */
#include "tcache.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILL_LOCKS 64

struct tcache {
	pthread_mutex_t lock;
	pthread_mutex_t fill[FILL_LOCKS];
	struct tcache_entry *v;
	size_t n, cap;
	uint64_t cap_bytes, clock;
};

struct tcache *tcache_new(uint64_t cap_bytes)
{
	struct tcache *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	for (int i = 0; i < FILL_LOCKS; i++)
		pthread_mutex_init(&c->fill[i], NULL);
	c->cap_bytes = cap_bytes;
	return c;
}

void tcache_free(struct tcache *c)
{
	if (!c)
		return;
	pthread_mutex_destroy(&c->lock);
	for (int i = 0; i < FILL_LOCKS; i++)
		pthread_mutex_destroy(&c->fill[i]);
	free(c->v);
	free(c);
}

void tcache_marker_name(const char *digest, char out[64])
{
	snprintf(out, 64, "ff-target-%.*s", TCACHE_PREFIX, digest);
}

pthread_mutex_t *tcache_fill_lock(struct tcache *c, const char *digest)
{
	unsigned h = 0;
	for (const char *p = digest; *p; p++)
		h = h * 31 + (unsigned char)*p;
	return &c->fill[h % FILL_LOCKS];
}

static struct tcache_entry *find(struct tcache *c, const char *digest)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].digest, digest) == 0)
			return &c->v[i];
	return NULL;
}

int tcache_acquire(struct tcache *c, const char *digest, char volume[128])
{
	pthread_mutex_lock(&c->lock);
	struct tcache_entry *e = find(c, digest);
	if (e) {
		e->users++;
		e->last_used = ++c->clock;
		memcpy(volume, e->volume, 128);
	}
	pthread_mutex_unlock(&c->lock);
	return e != NULL;
}

void tcache_add(struct tcache *c, const char *digest, const char *volume, uint64_t bytes, int users)
{
	pthread_mutex_lock(&c->lock);
	struct tcache_entry *e = find(c, digest);
	if (!e && c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct tcache_entry *nv = realloc(c->v, cap * sizeof(*nv));
		if (nv) {
			c->v = nv;
			c->cap = cap;
		}
	}
	if (!e && c->n < c->cap) {
		e = &c->v[c->n++];
		memset(e, 0, sizeof(*e));
	}
	if (e) {
		snprintf(e->digest, sizeof(e->digest), "%s", digest);
		snprintf(e->volume, sizeof(e->volume), "%s", volume);
		e->bytes = bytes;
		e->users += users;
		e->last_used = users ? ++c->clock : 0;
	}
	pthread_mutex_unlock(&c->lock);
}

void tcache_release(struct tcache *c, const char *digest)
{
	pthread_mutex_lock(&c->lock);
	struct tcache_entry *e = find(c, digest);
	if (e && e->users > 0) {
		e->users--;
		e->last_used = ++c->clock;
	}
	pthread_mutex_unlock(&c->lock);
}

void tcache_forget(struct tcache *c, const char *digest)
{
	pthread_mutex_lock(&c->lock);
	struct tcache_entry *e = find(c, digest);
	if (e)
		*e = c->v[--c->n];
	pthread_mutex_unlock(&c->lock);
}

size_t tcache_pick_victims(const struct tcache_entry *v, size_t n, uint64_t cap, size_t *out)
{
	uint64_t total = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		total += v[i].bytes;
	while (total > cap) {
		size_t best = n;
		for (size_t i = 0; i < n; i++) {
			bool taken = false;
			for (size_t j = 0; j < k; j++)
				taken = taken || out[j] == i;
			if (taken || v[i].users > 0)
				continue;
			if (best == n || v[i].last_used < v[best].last_used)
				best = i;
		}
		if (best == n)
			break;
		out[k++] = best;
		total -= v[best].bytes;
	}
	return k;
}

size_t tcache_take_victims(struct tcache *c, struct tcache_entry *out, size_t max)
{
	pthread_mutex_lock(&c->lock);
	size_t *idx = c->n ? calloc(c->n, sizeof(*idx)) : NULL;
	size_t k = idx ? tcache_pick_victims(c->v, c->n, c->cap_bytes, idx) : 0;
	if (k > max)
		k = max;
	for (size_t j = 0; j < k; j++)
		out[j] = c->v[idx[j]];
	/* remove by digest: indexes move as entries are taken out */
	for (size_t j = 0; j < k; j++) {
		struct tcache_entry *e = find(c, out[j].digest);
		if (e)
			*e = c->v[--c->n];
	}
	free(idx);
	pthread_mutex_unlock(&c->lock);
	return k;
}

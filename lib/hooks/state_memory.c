/* The default state backend: a hash table in memory behind one mutex.
 * Versions come from one counter for the whole table, so a key deleted and
 * written again never reuses a version a reader might still hold. The
 * contract it keeps is written in include/faas/sys/state.h. */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hooks.h"
#include "state_rules.h"

#define FAAS__STATE_BUCKETS_START 64u

typedef struct entry {
	char *key;
	char *value;
	size_t len;
	uint64_t version;
	uint64_t hash;
	struct entry *next;
} entry;

typedef struct memory_backend {
	faas_state_backend table; /* first, so the table pointer is the object */
	pthread_mutex_t mu;
	entry **buckets;
	size_t nbuckets, count;
	uint64_t last_version;
} memory_backend;

static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static entry **slot_of(memory_backend *m, const char *key, uint64_t h)
{
	entry **p = &m->buckets[h & (m->nbuckets - 1)];

	for (; *p; p = &(*p)->next)
		if ((*p)->hash == h && strcmp((*p)->key, key) == 0)
			break;
	return p;
}

static void grow(memory_backend *m)
{
	size_t n = m->nbuckets * 2;
	entry **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* a fuller table is slower, not wrong */
	for (size_t i = 0; i < m->nbuckets; i++) {
		for (entry *e = m->buckets[i], *next; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(m->buckets);
	m->buckets = b;
	m->nbuckets = n;
}

static int mem_get(faas_state_backend *self, const char *key, char **value_out, size_t *len_out,
		   uint64_t *version_out)
{
	memory_backend *m = (memory_backend *)self;
	entry *e;
	int rc = 0;

	/* Outs are reset first, so a failure never leaves a caller's stale value
	 * looking like an answer. */
	if (value_out)
		*value_out = NULL;
	if (len_out)
		*len_out = 0;
	if (version_out)
		*version_out = FAAS_STATE_ABSENT;
	if (!faas__state_valid_call(self, key) || !value_out)
		return FAAS_EINVAL;
	pthread_mutex_lock(&m->mu);
	e = *slot_of(m, key, hash_key(key));
	if (!e) {
		rc = FAAS_ENOTFOUND;
	} else if (!(*value_out = faas__state_copy_value(e->value, e->len))) {
		rc = FAAS_ENOMEM;
	} else {
		if (len_out)
			*len_out = e->len;
		if (version_out)
			*version_out = e->version;
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

/* Store value under key (mutex held). */
static int store_locked(memory_backend *m, const char *key, uint64_t h, entry **slot,
			const void *value, size_t len, uint64_t *version_out)
{
	entry *e = *slot;
	char *v = faas__state_copy_value(value, len);

	if (!v)
		return FAAS_ENOMEM;
	if (!e) {
		e = calloc(1, sizeof(*e));
		if (!e || !(e->key = faas__strdup(key))) {
			free(e);
			free(v);
			return FAAS_ENOMEM;
		}
		e->hash = h;
		*slot = e;
		m->count++;
	}
	free(e->value);
	e->value = v;
	e->len = len;
	e->version = ++m->last_version;
	if (version_out)
		*version_out = e->version;
	if (m->count > m->nbuckets)
		grow(m);
	return 0;
}

static int mem_put(faas_state_backend *self, const char *key, const void *value, size_t len,
		   uint64_t expected_version, uint64_t *version_out)
{
	memory_backend *m = (memory_backend *)self;
	uint64_t h;
	entry **slot;
	int rc;

	if (!faas__state_valid_call(self, key) || (!value && len > 0))
		return FAAS_EINVAL;
	h = hash_key(key);
	pthread_mutex_lock(&m->mu);
	slot = slot_of(m, key, h);
	if (!faas__state_put_matches(*slot != NULL, *slot ? (*slot)->version : 0,
	                             expected_version))
		rc = FAAS_ECONFLICT;
	else
		rc = store_locked(m, key, h, slot, value ? value : "", len, version_out);
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int mem_del(faas_state_backend *self, const char *key, uint64_t expected_version)
{
	memory_backend *m = (memory_backend *)self;
	entry **slot, *e;
	int rc;

	if (!faas__state_valid_call(self, key))
		return FAAS_EINVAL;
	pthread_mutex_lock(&m->mu);
	slot = slot_of(m, key, hash_key(key));
	e = *slot;
	rc = faas__state_del_check(e != NULL, e ? e->version : 0, expected_version);
	if (rc == 0) {
		*slot = e->next;
		m->count--;
		free(e->key);
		free(e->value);
		free(e);
	}
	pthread_mutex_unlock(&m->mu);
	return rc;
}

static int mem_incr(faas_state_backend *self, const char *key, int64_t delta, int64_t *value_out)
{
	memory_backend *m = (memory_backend *)self;
	char text[32];
	int64_t v = 0;
	uint64_t h;
	entry **slot;
	int rc;
	int n;

	if (!faas__state_valid_call(self, key))
		return FAAS_EINVAL;
	h = hash_key(key);
	pthread_mutex_lock(&m->mu);
	slot = slot_of(m, key, h);
	rc = faas__state_incr_sum(*slot != NULL, *slot ? (*slot)->value : NULL,
	                          *slot ? (*slot)->len : 0, delta, &v);
	if (rc == 0) {
		n = snprintf(text, sizeof(text), "%" PRId64, v);
		rc = store_locked(m, key, h, slot, text, (size_t)n, NULL);
	}
	pthread_mutex_unlock(&m->mu);
	if (rc == 0 && value_out)
		*value_out = v;
	return rc;
}

static void mem_free(faas_state_backend *self)
{
	memory_backend *m = (memory_backend *)self;

	if (!m)
		return;
	for (size_t i = 0; i < m->nbuckets; i++) {
		for (entry *e = m->buckets[i], *next; e; e = next) {
			next = e->next;
			free(e->key);
			free(e->value);
			free(e);
		}
	}
	free(m->buckets);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

int faas_state_memory_new(faas_state_backend **out)
{
	memory_backend *m;

	if (!out)
		return FAAS_EINVAL;
	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return FAAS_ENOMEM;
	m->buckets = calloc(FAAS__STATE_BUCKETS_START, sizeof(*m->buckets));
	if (!m->buckets) {
		free(m);
		return FAAS_ENOMEM;
	}
	m->nbuckets = FAAS__STATE_BUCKETS_START;
	pthread_mutex_init(&m->mu, NULL);
	m->table.version = FAAS_STATE_BACKEND_VERSION;
	m->table.get = mem_get;
	m->table.put = mem_put;
	m->table.del = mem_del;
	m->table.incr = mem_incr;
	m->table.free = mem_free;
	*out = &m->table;
	return 0;
}

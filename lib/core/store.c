/* The activation store: a ring of the newest `capacity` activations.
 * Lookups scan it; they are rare (management calls), while every invocation
 * pays for an insert, which this keeps to a pointer swap. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core.h"

int faas__store_init(faas__store *s, size_t capacity)
{
	s->ring = calloc(capacity, sizeof(*s->ring));
	if (!s->ring)
		return FAAS_ENOMEM;
	s->capacity = capacity;
	s->head = 0;
	s->count = 0;
	return 0;
}

void faas__store_put(faas__store *s, faas_activation *act)
{
	faas_activation *evicted = s->ring[s->head];

	s->ring[s->head] = faas_activation_dup(act);
	s->head = (s->head + 1) % s->capacity;
	if (s->count < s->capacity)
		s->count++;
	faas_activation_free(evicted);
}

void faas__store_free(faas__store *s)
{
	if (!s->ring)
		return;
	for (size_t i = 0; i < s->capacity; i++)
		faas_activation_free(s->ring[i]);
	free(s->ring);
	s->ring = NULL;
}

/* The i-th newest kept activation, i < count. */
static faas_activation *store_at(const faas__store *s, size_t i)
{
	return s->ring[(s->head + s->capacity - 1 - i) % s->capacity];
}

int faas_activation_lookup(faas_activation **out, faas_runtime *rt, const char *id)
{
	if (!out)
		return FAAS_EINVAL;
	*out = NULL;
	if (!rt || !id)
		return FAAS_EINVAL;
	for (size_t i = 0; i < rt->store.count; i++) {
		faas_activation *act = store_at(&rt->store, i);

		if (strcmp(act->id, id) == 0) {
			*out = faas_activation_dup(act);
			return 0;
		}
	}
	return FAAS_ENOTFOUND;
}

int faas_activation_list(const faas_activation **out, size_t max, faas_runtime *rt,
			 const char *function)
{
	size_t n = 0;

	if (!rt || (!out && max > 0))
		return FAAS_EINVAL;
	for (size_t i = 0; i < rt->store.count && n < max && n < INT_MAX; i++) {
		faas_activation *act = store_at(&rt->store, i);

		/* References, not borrowed pointers: the caller may keep them past
		 * the next completion, which can evict them from the ring. */
		if (!function || strcmp(act->function, function) == 0)
			out[n++] = faas_activation_dup(act);
	}
	return (int)n;
}

void faas_activation_list_free(const faas_activation **list, size_t n)
{
	if (!list)
		return;
	for (size_t i = 0; i < n; i++) {
		/* The list holds references typed const for the getters' sake. */
		faas_activation_free((faas_activation *)list[i]);
		list[i] = NULL;
	}
}

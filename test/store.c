/* The activation store (lib/core/store.c): the ring itself through faas__store_*
 * (references taken and dropped, capacity 1, wrap-around over many laps),
 * then the same through faas_activation_list()/lookup() on a runtime whose
 * functions run inline, checked after every call against a model of what
 * must be kept. test/activation.c covers the single cases of the public
 * calls; this follows the ring across many evictions. */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "core.h"

TestSuite(store, .timeout = 60);

/* ---- the ring, directly ---- */

static faas_activation *make_act(int i, const char *function)
{
	char id[FAAS__ID_LEN + 1];
	faas_activation *act;

	snprintf(id, sizeof(id), "%0*d", FAAS__ID_LEN, i);
	act = faas__activation_new(id, function);
	cr_assert_not_null(act);
	return act;
}

static int refs(const faas_activation *act)
{
	return atomic_load(&((faas_activation *)act)->refs);
}

/* Whether the ring holds act, and how many times. */
static int held(const faas__store *s, const faas_activation *act)
{
	int n = 0;

	for (size_t i = 0; i < s->capacity; i++)
		n += s->ring[i] == act;
	return n;
}

Test(store, capacity_one_keeps_only_the_newest)
{
	faas_activation *a = make_act(1, "f"), *b = make_act(2, "f");
	faas__store s;

	cr_assert_eq(faas__store_init(&s, 1), 0);
	cr_assert_eq(s.count, 0);
	faas__store_put(&s, a);
	cr_assert_eq(s.count, 1);
	cr_assert_eq(held(&s, a), 1);
	cr_assert_eq(refs(a), 2, "the store keeps its own reference");
	faas__store_put(&s, b);
	cr_assert_eq(s.count, 1);
	cr_assert_eq(held(&s, a), 0);
	cr_assert_eq(held(&s, b), 1);
	cr_assert_eq(refs(a), 1, "eviction drops the store's reference");
	cr_assert_eq(refs(b), 2);
	faas__store_free(&s);
	cr_assert_eq(refs(b), 1);
	faas_activation_free(a);
	faas_activation_free(b);
}

Test(store, wrap_around_keeps_the_last_capacity_puts)
{
	enum { CAP = 4, N = 4 * CAP + 3 };
	faas_activation *acts[N];
	faas__store s;

	cr_assert_eq(faas__store_init(&s, CAP), 0);
	for (int i = 0; i < N; i++) {
		acts[i] = make_act(i, "f");
		faas__store_put(&s, acts[i]);
		cr_assert_eq(s.count, (size_t)(i + 1 < CAP ? i + 1 : CAP));
		for (int j = 0; j <= i; j++) {
			bool kept = j > i - CAP;

			cr_assert_eq(held(&s, acts[j]), kept, "after %d puts, #%d", i + 1, j);
			cr_assert_eq(refs(acts[j]), kept ? 2 : 1, "after %d puts, #%d", i + 1, j);
		}
	}
	faas__store_free(&s);
	cr_assert_null(s.ring);
	faas__store_free(&s); /* a freed store frees nothing twice */
	for (int i = 0; i < N; i++) {
		cr_assert_eq(refs(acts[i]), 1);
		faas_activation_free(acts[i]);
	}
}

Test(store, a_part_filled_ring_frees_cleanly)
{
	faas_activation *a = make_act(1, "f");
	faas__store s;

	cr_assert_eq(faas__store_init(&s, 8), 0);
	faas__store_put(&s, a);
	faas__store_free(&s);
	cr_assert_eq(refs(a), 1);
	faas_activation_free(a);
}

Test(store, the_same_activation_twice_holds_two_references)
{
	faas_activation *a = make_act(1, "f"), *b = make_act(2, "f");
	faas__store s;

	cr_assert_eq(faas__store_init(&s, 2), 0);
	faas__store_put(&s, a);
	faas__store_put(&s, a);
	cr_assert_eq(refs(a), 3);
	faas__store_put(&s, b);
	cr_assert_eq(refs(a), 2, "one of the two slots was evicted");
	faas__store_free(&s);
	cr_assert_eq(refs(a), 1);
	faas_activation_free(a);
	faas_activation_free(b);
}

/* ---- through the public calls, on a runtime ---- */

static uv_loop_t loop;
static faas_runtime *rt;

static int quick(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	*result = cJSON_CreateTrue();
	return 0;
}

static void start(unsigned int capacity)
{
	static const char *const names[] = {"a", "b", "c"};
	faas_runtime_options o = th_ropts();

	th_loop_init(&loop);
	o.activation_capacity = capacity;
	rt = th_rt_new(&loop, &o);
	for (size_t i = 0; i < 3; i++) {
		faas_fn_options fo = th_fopts_static(quick);

		fo.isolation = FAAS_ISOLATION_INLINE;
		th_register(rt, names[i], &fo);
	}
}

static void stop(void)
{
	if (rt)
		th_rt_free(rt, &loop);
	rt = NULL;
}

Test(store, a_capacity_of_zero_is_refused)
{
	faas_runtime_options o = th_ropts();
	faas_runtime *r = NULL;

	o.activation_capacity = 0;
	cr_assert_eq(faas_runtime_new(&r, &o), FAAS_EINVAL, "the ring's modulus must never be 0");
	cr_assert_null(r);
}

/* What the store must hold: the ids and functions of every call so far. */
typedef struct model {
	char ids[64][FAAS__ID_LEN + 1];
	const char *fns[64];
	int n;
} model;

static void call(model *m, const char *function)
{
	faas_activation *act = th_call(rt, function, NULL);

	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_lt(m->n, 64);
	snprintf(m->ids[m->n], sizeof(m->ids[0]), "%s", faas_activation_id(act));
	m->fns[m->n++] = function;
	faas_activation_free(act);
}

/* The list (all, or one function's) must be the newest kept calls, newest
 * first; lookup must find exactly the kept ones. */
static void check(const model *m, unsigned int capacity)
{
	static const char *const filters[] = {NULL, "a", "b", "c"};
	int oldest_kept = m->n > (int)capacity ? m->n - (int)capacity : 0;

	for (size_t f = 0; f < 4; f++) {
		const faas_activation *list[64];
		int n = faas_activation_list(list, 64, rt, filters[f]), k = 0;

		cr_assert_geq(n, 0);
		for (int i = m->n - 1; i >= oldest_kept; i--) {
			if (filters[f] && strcmp(m->fns[i], filters[f]) != 0)
				continue;
			cr_assert_lt(k, n, "after %d calls, filter %s: too few listed", m->n,
			             filters[f] ? filters[f] : "none");
			cr_assert_str_eq(faas_activation_id(list[k]), m->ids[i],
			                 "after %d calls, filter %s, position %d", m->n,
			                 filters[f] ? filters[f] : "none", k);
			cr_assert_str_eq(faas_activation_function(list[k]), m->fns[i]);
			k++;
		}
		cr_assert_eq(n, k, "after %d calls, filter %s: %d listed, want %d", m->n,
		             filters[f] ? filters[f] : "none", n, k);
		faas_activation_list_free(list, (size_t)n); /* listed ones are references */
	}
	for (int i = 0; i < m->n; i++) {
		faas_activation *found = NULL;
		int rc = faas_activation_lookup(&found, rt, m->ids[i]);

		if (i >= oldest_kept) {
			cr_assert_eq(rc, 0, "after %d calls, #%d should be kept", m->n, i);
			cr_assert_str_eq(faas_activation_id(found), m->ids[i]);
			faas_activation_free(found);
		} else {
			cr_assert_eq(rc, FAAS_ENOTFOUND, "after %d calls, #%d should be evicted",
			             m->n, i);
			cr_assert_null(found);
		}
	}
}

Test(store, capacity_one_through_the_runtime, .fini = stop)
{
	model m = {0};

	start(1);
	check(&m, 1);
	for (int i = 0; i < 5; i++) {
		call(&m, i % 2 ? "a" : "b");
		check(&m, 1);
	}
}

Test(store, wrap_around_through_the_runtime, .fini = stop)
{
	static const char *const order = "abacbbcaacbabcca"; /* 16 calls, uneven */
	model m = {0};

	start(5);
	for (int lap = 0; lap < 3; lap++) {
		for (size_t i = 0; order[i]; i++) {
			const char *fn = order[i] == 'a' ? "a" : order[i] == 'b' ? "b" : "c";

			call(&m, fn);
			check(&m, 5);
		}
	}
	cr_assert_eq(m.n, 48);
}

Test(store, list_stops_at_max_newest_first, .fini = stop)
{
	const faas_activation *list[4];
	model m = {0};

	start(8);
	for (int i = 0; i < 11; i++)
		call(&m, "a");
	for (size_t max = 0; max <= 4; max++) {
		int n = faas_activation_list(list, max, rt, NULL);

		cr_assert_eq(n, (int)max);
		for (int k = 0; k < n; k++)
			cr_assert_str_eq(faas_activation_id(list[k]), m.ids[m.n - 1 - k]);
		faas_activation_list_free(list, (size_t)n);
	}
	cr_assert_eq(faas_activation_list(NULL, 0, rt, NULL), 0, "max 0 needs no array");
	cr_assert_eq(faas_activation_list(list, 4, NULL, NULL), FAAS_EINVAL);
	/* Of "b" there is none, however many "a" the ring holds. */
	cr_assert_eq(faas_activation_list(list, 4, rt, "b"), 0);
}

/* State: the in-memory backend directly and from several threads, the ctx
 * calls, CAS conflicts, namespacing, and a host backend plugged in. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(state, .timeout = 60);

/* ---- the in-memory backend, directly ---- */

static faas_state_backend *mem;

static void mem_setup(void)
{
	cr_assert_eq(faas_state_memory_new(&mem), 0);
	cr_assert_not_null(mem);
	cr_assert_eq(mem->version, FAAS_STATE_BACKEND_VERSION);
	cr_assert_not_null(mem->get);
	cr_assert_not_null(mem->put);
	cr_assert_not_null(mem->del);
	cr_assert_not_null(mem->incr);
	cr_assert_not_null(mem->free);
}

static void mem_teardown(void)
{
	mem->free(mem);
}

Test(state, memory_new_null_out)
{
	cr_assert_eq(faas_state_memory_new(NULL), FAAS_EINVAL);
}

Test(state, memory_put_get, .init = mem_setup, .fini = mem_teardown)
{
	uint64_t v1 = 0, v2 = 0, got_version = 0;
	char *value = NULL;
	size_t len = 0;

	cr_assert_eq(mem->get(mem, "ns/k", &value, &len, &got_version), FAAS_ENOTFOUND);
	cr_assert_eq(mem->put(mem, "ns/k", "hello", 5, FAAS_STATE_ABSENT, &v1), 0);
	cr_assert_geq(v1, 1);
	cr_assert_eq(mem->get(mem, "ns/k", &value, &len, &got_version), 0);
	cr_assert_eq(len, 5);
	cr_assert_eq(memcmp(value, "hello", 5), 0);
	cr_assert_eq(value[5], '\0', "values are NUL-terminated");
	cr_assert_eq(got_version, v1);
	free(value);

	cr_assert_eq(mem->put(mem, "ns/k", "again", 5, FAAS_STATE_ABSENT, NULL), FAAS_ECONFLICT);
	cr_assert_eq(mem->put(mem, "ns/k", "world!", 6, v1, &v2), 0);
	cr_assert_gt(v2, v1);
	cr_assert_eq(mem->put(mem, "ns/k", "stale", 5, v1, NULL), FAAS_ECONFLICT);
	cr_assert_eq(mem->get(mem, "ns/k", &value, &len, NULL), 0);
	cr_assert_eq(len, 6);
	cr_assert_str_eq(value, "world!");
	free(value);
	cr_assert_eq(mem->put(mem, "ns/k", "any", 3, FAAS_STATE_ANY, &v1), 0);
	cr_assert_gt(v1, v2);
	/* A version that never existed. */
	cr_assert_eq(mem->put(mem, "ns/other", "x", 1, 5, NULL), FAAS_ECONFLICT);
}

Test(state, memory_binary_and_empty_values, .init = mem_setup, .fini = mem_teardown)
{
	const char bin[] = {'a', '\0', 'b', '\0', 'c'};
	char *value = NULL;
	size_t len = 99;

	cr_assert_eq(mem->put(mem, "bin", bin, sizeof(bin), FAAS_STATE_ANY, NULL), 0);
	cr_assert_eq(mem->get(mem, "bin", &value, &len, NULL), 0);
	cr_assert_eq(len, sizeof(bin));
	cr_assert_eq(memcmp(value, bin, sizeof(bin)), 0);
	free(value);
	cr_assert_eq(mem->put(mem, "empty", "", 0, FAAS_STATE_ANY, NULL), 0);
	cr_assert_eq(mem->get(mem, "empty", &value, &len, NULL), 0);
	cr_assert_eq(len, 0);
	cr_assert_str_eq(value, "");
	free(value);
}

Test(state, memory_delete, .init = mem_setup, .fini = mem_teardown)
{
	uint64_t v = 0;
	char *value = NULL;

	cr_assert_eq(mem->del(mem, "k", FAAS_STATE_ANY), FAAS_ENOTFOUND);
	cr_assert_eq(mem->put(mem, "k", "1", 1, FAAS_STATE_ABSENT, &v), 0);
	cr_assert_eq(mem->del(mem, "k", v + 1), FAAS_ECONFLICT);
	cr_assert_eq(mem->del(mem, "k", v), 0);
	cr_assert_eq(mem->get(mem, "k", &value, NULL, NULL), FAAS_ENOTFOUND);
	cr_assert_eq(mem->put(mem, "k", "2", 1, FAAS_STATE_ABSENT, NULL), 0);
	cr_assert_eq(mem->del(mem, "k", FAAS_STATE_ANY), 0);
	cr_assert_eq(mem->del(mem, "k", FAAS_STATE_ANY), FAAS_ENOTFOUND);
}

Test(state, memory_versions_grow_after_delete, .init = mem_setup, .fini = mem_teardown)
{
	uint64_t v1 = 0, v2 = 0;

	cr_assert_eq(mem->put(mem, "k", "1", 1, FAAS_STATE_ABSENT, &v1), 0);
	cr_assert_eq(mem->del(mem, "k", FAAS_STATE_ANY), 0);
	cr_assert_eq(mem->put(mem, "k", "2", 1, FAAS_STATE_ABSENT, &v2), 0);
	cr_assert_geq(v2, 1);
}

Test(state, memory_incr, .init = mem_setup, .fini = mem_teardown)
{
	int64_t v = 0;
	char *value = NULL;
	size_t len;

	cr_assert_eq(mem->incr(mem, "n", 1, &v), 0);
	cr_assert_eq(v, 1);
	cr_assert_eq(mem->incr(mem, "n", -5, &v), 0);
	cr_assert_eq(v, -4);
	cr_assert_eq(mem->incr(mem, "n", 0, NULL), 0);
	cr_assert_eq(mem->get(mem, "n", &value, &len, NULL), 0);
	cr_assert_str_eq(value, "-4");
	cr_assert_eq(len, 2);
	free(value);
	cr_assert_eq(mem->put(mem, "s", "abc", 3, FAAS_STATE_ANY, NULL), 0);
	cr_assert_eq(mem->incr(mem, "s", 1, &v), FAAS_EINVAL);
	cr_assert_eq(mem->put(mem, "d", "41", 2, FAAS_STATE_ANY, NULL), 0);
	cr_assert_eq(mem->incr(mem, "d", 1, &v), 0);
	cr_assert_eq(v, 42);
}

Test(state, memory_many_keys, .init = mem_setup, .fini = mem_teardown)
{
	char key[32], val[32], *value;

	for (int i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i * 7);
		cr_assert_eq(mem->put(mem, key, val, strlen(val), FAAS_STATE_ABSENT, NULL), 0);
	}
	for (int i = 0; i < 5000; i += 37) {
		snprintf(key, sizeof(key), "k%d", i);
		snprintf(val, sizeof(val), "v%d", i * 7);
		cr_assert_eq(mem->get(mem, key, &value, NULL, NULL), 0);
		cr_assert_str_eq(value, val);
		free(value);
	}
}

#define NTHREADS 8
#define NITER 5000

static void *incr_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < NITER; i++)
		if (mem->incr(mem, "shared/counter", 1, NULL) != 0)
			return (void *)1;
	return NULL;
}

/* Read-modify-write with CAS and retry: no update may be lost. */
static void *cas_worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < NITER / 5; i++) {
		for (;;) {
			char *value = NULL, buf[32];
			uint64_t version = FAAS_STATE_ABSENT;
			long n = 0;
			int rc = mem->get(mem, "shared/cas", &value, NULL, &version);

			if (rc == 0) {
				n = strtol(value, NULL, 10);
				free(value);
			} else if (rc != FAAS_ENOTFOUND) {
				return (void *)1;
			} else {
				version = FAAS_STATE_ABSENT;
			}
			snprintf(buf, sizeof(buf), "%ld", n + 1);
			rc = mem->put(mem, "shared/cas", buf, strlen(buf), version, NULL);
			if (rc == 0)
				break;
			if (rc != FAAS_ECONFLICT)
				return (void *)1;
		}
	}
	return NULL;
}

Test(state, memory_concurrent_incr_and_cas, .init = mem_setup, .fini = mem_teardown)
{
	pthread_t t[NTHREADS];
	void *ret;
	char *value;

	for (int i = 0; i < NTHREADS; i++)
		cr_assert_eq(pthread_create(&t[i], NULL, i % 2 ? incr_worker : cas_worker, NULL),
		             0);
	for (int i = 0; i < NTHREADS; i++) {
		cr_assert_eq(pthread_join(t[i], &ret), 0);
		cr_assert_null(ret, "thread %d failed", i);
	}
	cr_assert_eq(mem->get(mem, "shared/counter", &value, NULL, NULL), 0);
	cr_assert_eq(strtol(value, NULL, 10), (NTHREADS / 2) * NITER);
	free(value);
	cr_assert_eq(mem->get(mem, "shared/cas", &value, NULL, NULL), 0);
	cr_assert_eq(strtol(value, NULL, 10), (NTHREADS / 2) * (NITER / 5));
	free(value);
}

/* ---- a host backend: wraps the memory one, records keys, can inject a
 * concurrent write between a handler's get and put ---- */

typedef struct spy_backend {
	faas_state_backend b; /* first */
	faas_state_backend *inner;
	pthread_mutex_t mu;
	int gets, puts, dels, incrs, frees;
	char last_key[256];
	bool interfere; /* after the next get, write the key behind the caller's back */
} spy_backend;

static void spy_note(spy_backend *s, const char *key, int *counter)
{
	pthread_mutex_lock(&s->mu);
	(*counter)++;
	snprintf(s->last_key, sizeof(s->last_key), "%s", key);
	pthread_mutex_unlock(&s->mu);
}

static int spy_get(faas_state_backend *self, const char *key, char **value_out, size_t *len_out,
                   uint64_t *version_out)
{
	spy_backend *s = (spy_backend *)self;
	int rc;

	spy_note(s, key, &s->gets);
	rc = s->inner->get(s->inner, key, value_out, len_out, version_out);
	if (s->interfere) {
		s->interfere = false;
		s->inner->put(s->inner, key, "intruder", 8, FAAS_STATE_ANY, NULL);
	}
	return rc;
}

static int spy_put(faas_state_backend *self, const char *key, const void *value, size_t len,
                   uint64_t expected_version, uint64_t *version_out)
{
	spy_backend *s = (spy_backend *)self;

	spy_note(s, key, &s->puts);
	return s->inner->put(s->inner, key, value, len, expected_version, version_out);
}

static int spy_del(faas_state_backend *self, const char *key, uint64_t expected_version)
{
	spy_backend *s = (spy_backend *)self;

	spy_note(s, key, &s->dels);
	return s->inner->del(s->inner, key, expected_version);
}

static int spy_incr(faas_state_backend *self, const char *key, int64_t delta, int64_t *value_out)
{
	spy_backend *s = (spy_backend *)self;

	spy_note(s, key, &s->incrs);
	return s->inner->incr(s->inner, key, delta, value_out);
}

static void spy_free(faas_state_backend *self)
{
	((spy_backend *)self)->frees++;
}

static spy_backend spy;
static uv_loop_t loop;
static faas_runtime *rt;

static void spy_setup(void)
{
	faas_runtime_options o = th_ropts();

	memset(&spy, 0, sizeof(spy));
	spy.b.version = FAAS_STATE_BACKEND_VERSION;
	spy.b.get = spy_get;
	spy.b.put = spy_put;
	spy.b.del = spy_del;
	spy.b.incr = spy_incr;
	spy.b.free = spy_free;
	pthread_mutex_init(&spy.mu, NULL);
	cr_assert_eq(faas_state_memory_new(&spy.inner), 0);
	th_loop_init(&loop);
	o.state = &spy.b;
	rt = th_rt_new(&loop, &o);
}

static void spy_teardown(void)
{
	th_rt_free(rt, &loop);
	cr_assert_eq(spy.frees, 0, "a host backend is borrowed, never freed");
	spy.inner->free(spy.inner);
}

static void default_setup(void)
{
	th_loop_init(&loop);
	rt = th_rt_new(&loop, NULL);
}

static void default_teardown(void)
{
	th_rt_free(rt, &loop);
}

/* event: {"op": "incr"|"get"|"put"|"del", "key": k, "value": v, "delta": n,
 *         "expect": version (-1 = ANY, 0 = ABSENT)}
 * result: {"rc": rc, "value": v, "version": n} */
static int state_op(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	const char *op = cJSON_GetStringValue(cJSON_GetObjectItem(event, "op"));
	const char *key = cJSON_GetStringValue(cJSON_GetObjectItem(event, "key"));
	const char *value = cJSON_GetStringValue(cJSON_GetObjectItem(event, "value"));
	const cJSON *delta = cJSON_GetObjectItem(event, "delta");
	const cJSON *expect = cJSON_GetObjectItem(event, "expect");
	uint64_t expected = FAAS_STATE_ANY, version = 0;
	cJSON *out;
	int rc;

	if (cJSON_IsNumber(expect) && expect->valuedouble >= 0)
		expected = (uint64_t)expect->valuedouble;
	if (op == NULL || key == NULL)
		return faas_ctx_error(ctx, "BadInput", "op and key");
	out = cJSON_CreateObject();
	if (strcmp(op, "incr") == 0) {
		int64_t v = 0;

		rc = faas_state_incr(ctx, key,
		                     cJSON_IsNumber(delta) ? (int64_t)delta->valuedouble : 1, &v);
		cJSON_AddNumberToObject(out, "value", (double)v);
	} else if (strcmp(op, "get") == 0) {
		char *v = NULL;
		size_t len = 0;

		rc = faas_state_get(ctx, key, &v, &len, &version);
		if (rc == 0) {
			cJSON_AddStringToObject(out, "value", v);
			cJSON_AddNumberToObject(out, "len", (double)len);
		}
		faas_state_free(v);
	} else if (strcmp(op, "put") == 0) {
		rc = faas_state_put(ctx, key, value, value ? strlen(value) : 0, expected, &version);
	} else if (strcmp(op, "del") == 0) {
		rc = faas_state_delete(ctx, key, expected);
	} else {
		cJSON_Delete(out);
		return faas_ctx_error(ctx, "BadInput", "unknown op %s", op);
	}
	cJSON_AddNumberToObject(out, "rc", rc);
	cJSON_AddNumberToObject(out, "version", (double)version);
	*result = out;
	return 0;
}

/* Calls with bad arguments; returns the codes. */
static int state_bad_args(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	char *v = NULL;
	cJSON *out = cJSON_CreateArray();

	(void)event;
	cJSON_AddItemToArray(out, cJSON_CreateNumber(faas_state_get(ctx, NULL, &v, NULL, NULL)));
	cJSON_AddItemToArray(out, cJSON_CreateNumber(faas_state_get(ctx, "k", NULL, NULL, NULL)));
	cJSON_AddItemToArray(
	    out, cJSON_CreateNumber(faas_state_put(ctx, NULL, "x", 1, FAAS_STATE_ANY, NULL)));
	cJSON_AddItemToArray(
	    out, cJSON_CreateNumber(faas_state_put(ctx, "k", NULL, 1, FAAS_STATE_ANY, NULL)));
	cJSON_AddItemToArray(out, cJSON_CreateNumber(faas_state_delete(ctx, NULL, FAAS_STATE_ANY)));
	cJSON_AddItemToArray(out, cJSON_CreateNumber(faas_state_incr(ctx, NULL, 1, NULL)));
	cJSON_AddItemToArray(out, cJSON_CreateNumber(faas_state_get(NULL, "k", &v, NULL, NULL)));
	cJSON_AddItemToArray(out, cJSON_CreateNumber(faas_state_incr(NULL, "k", 1, NULL)));
	faas_state_free(NULL);
	*result = out;
	return 0;
}

static double num(const faas_activation *act, const char *field)
{
	const cJSON *r = faas_activation_result(act);

	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "%s: %s",
	             faas_activation_error_type(act), faas_activation_error_message(act));
	cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(r, field)), "no %s in the result", field);
	return cJSON_GetNumberValue(cJSON_GetObjectItem(r, field));
}

static double call_num(const char *fn, const char *json, const char *field)
{
	faas_activation *act = th_call(rt, fn, json);
	double v = num(act, field);

	faas_activation_free(act);
	return v;
}

Test(state, ctx_calls_default_backend, .init = default_setup, .fini = default_teardown)
{
	faas_activation *act;
	double v1, v2;

	th_register_static(rt, "s", state_op);
	cr_assert_eq(call_num("s", "{\"op\":\"get\",\"key\":\"k\"}", "rc"), FAAS_ENOTFOUND);
	act = th_call(rt, "s", "{\"op\":\"put\",\"key\":\"k\",\"value\":\"v1\",\"expect\":0}");
	cr_assert_eq(num(act, "rc"), 0);
	v1 = num(act, "version");
	cr_assert_geq(v1, 1);
	faas_activation_free(act);
	act = th_call(rt, "s", "{\"op\":\"get\",\"key\":\"k\"}");
	cr_assert_eq(num(act, "rc"), 0);
	cr_assert_eq(num(act, "version"), v1);
	cr_assert_eq(num(act, "len"), 2);
	cr_assert_str_eq(
	    cJSON_GetStringValue(cJSON_GetObjectItem(faas_activation_result(act), "value")), "v1");
	faas_activation_free(act);
	/* ABSENT on an existing key conflicts. */
	cr_assert_eq(
	    call_num("s", "{\"op\":\"put\",\"key\":\"k\",\"value\":\"x\",\"expect\":0}", "rc"),
	    FAAS_ECONFLICT);
	/* A stale version conflicts; the current one wins. */
	char json[128];
	snprintf(json, sizeof(json),
	         "{\"op\":\"put\",\"key\":\"k\",\"value\":\"v2\",\"expect\":%.0f}", v1);
	act = th_call(rt, "s", json);
	cr_assert_eq(num(act, "rc"), 0);
	v2 = num(act, "version");
	cr_assert_gt(v2, v1);
	faas_activation_free(act);
	cr_assert_eq(call_num("s", json, "rc"), FAAS_ECONFLICT);
	/* Delete, then it is gone. */
	cr_assert_eq(call_num("s", "{\"op\":\"del\",\"key\":\"k\",\"expect\":-1}", "rc"), 0);
	cr_assert_eq(call_num("s", "{\"op\":\"get\",\"key\":\"k\"}", "rc"), FAAS_ENOTFOUND);
	cr_assert_eq(call_num("s", "{\"op\":\"del\",\"key\":\"k\",\"expect\":-1}", "rc"),
	             FAAS_ENOTFOUND);
	/* Counters. */
	cr_assert_eq(call_num("s", "{\"op\":\"incr\",\"key\":\"n\",\"delta\":5}", "value"), 5);
	cr_assert_eq(call_num("s", "{\"op\":\"incr\",\"key\":\"n\",\"delta\":-2}", "value"), 3);
	cr_assert_eq(call_num("s", "{\"op\":\"put\",\"key\":\"t\",\"value\":\"text\"}", "rc"), 0);
	cr_assert_eq(call_num("s", "{\"op\":\"incr\",\"key\":\"t\"}", "rc"), FAAS_EINVAL);
}

Test(state, ctx_bad_arguments, .init = default_setup, .fini = default_teardown)
{
	faas_activation *act;
	const cJSON *r, *item;

	th_register_static(rt, "bad", state_bad_args);
	act = th_call(rt, "bad", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	r = faas_activation_result(act);
	cr_assert_eq(cJSON_GetArraySize(r), 8);
	cJSON_ArrayForEach(item, r) cr_assert_eq(item->valuedouble, FAAS_EINVAL);
	faas_activation_free(act);
}

Test(state, state_is_shared_across_calls_and_threads, .init = default_setup,
     .fini = default_teardown)
{
	th_calls c;

	th_calls_init(&c);
	th_register_static(rt, "s", state_op);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(th_invoke(rt, "s", "{\"op\":\"incr\",\"key\":\"hits\"}", &c), 0);
	cr_assert(th_wait(rt, &c.n, 100, TH_WAIT_MS));
	cr_assert_eq(call_num("s", "{\"op\":\"incr\",\"key\":\"hits\",\"delta\":0}", "value"), 100);
	th_calls_clear(&c);
}

Test(state, keys_namespaced_per_function, .init = spy_setup, .fini = spy_teardown)
{
	th_register_static(rt, "alpha", state_op);
	th_register_static(rt, "beta", state_op);
	cr_assert_eq(call_num("alpha", "{\"op\":\"incr\",\"key\":\"counter\"}", "value"), 1);
	cr_assert_str_eq(spy.last_key, "alpha/counter");
	cr_assert_eq(call_num("alpha", "{\"op\":\"incr\",\"key\":\"counter\"}", "value"), 2);
	cr_assert_eq(call_num("beta", "{\"op\":\"incr\",\"key\":\"counter\"}", "value"), 1,
	             "beta does not see alpha's counter");
	cr_assert_str_eq(spy.last_key, "beta/counter");
	cr_assert_eq(spy.incrs, 3);
}

Test(state, shared_namespace, .init = spy_setup, .fini = spy_teardown)
{
	faas_fn_options fo = th_fopts_static(state_op);

	fo.state_namespace = "shared";
	th_register(rt, "alpha", &fo);
	th_register(rt, "beta", &fo);
	fo.state_namespace = "";
	th_register(rt, "gamma", &fo);
	cr_assert_eq(call_num("alpha", "{\"op\":\"incr\",\"key\":\"counter\"}", "value"), 1);
	cr_assert_str_eq(spy.last_key, "shared/counter");
	cr_assert_eq(call_num("beta", "{\"op\":\"incr\",\"key\":\"counter\"}", "value"), 2);
	cr_assert_str_eq(spy.last_key, "shared/counter");
	cr_assert_eq(call_num("gamma", "{\"op\":\"incr\",\"key\":\"counter\"}", "value"), 1);
	cr_assert_str_eq(spy.last_key, "counter", "an empty namespace adds no prefix");
}

Test(state, namespace_option_is_copied, .init = spy_setup, .fini = spy_teardown)
{
	faas_fn_options fo = th_fopts_static(state_op);
	char ns[16] = "space";

	fo.state_namespace = ns;
	th_register(rt, "alpha", &fo);
	memset(ns, 0, sizeof(ns));
	cr_assert_eq(call_num("alpha", "{\"op\":\"incr\",\"key\":\"k\"}", "value"), 1);
	cr_assert_str_eq(spy.last_key, "space/k");
}

Test(state, host_backend_receives_every_call, .init = spy_setup, .fini = spy_teardown)
{
	th_register_static(rt, "s", state_op);
	call_num("s", "{\"op\":\"put\",\"key\":\"a\",\"value\":\"1\"}", "rc");
	call_num("s", "{\"op\":\"get\",\"key\":\"a\"}", "rc");
	call_num("s", "{\"op\":\"del\",\"key\":\"a\",\"expect\":-1}", "rc");
	call_num("s", "{\"op\":\"incr\",\"key\":\"b\"}", "rc");
	cr_assert_eq(spy.puts, 1);
	cr_assert_eq(spy.gets, 1);
	cr_assert_eq(spy.dels, 1);
	cr_assert_eq(spy.incrs, 1);
}

Test(state, cas_fixture_and_conflict, .init = spy_setup, .fini = spy_teardown)
{
	faas_activation *act;
	char *value = NULL;

	th_register_lib(rt, "cas", FX("state"), "state_cas");
	act = th_call(rt, "cas", "{\"key\":\"k\",\"value\":\"v1\"}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "%s: %s",
	             faas_activation_error_type(act), faas_activation_error_message(act));
	cr_assert_geq(num(act, "version"), 1);
	faas_activation_free(act);
	act = th_call(rt, "cas", "{\"key\":\"k\",\"value\":\"v2\"}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);

	/* Another writer slips in between the handler's get and put. */
	spy.interfere = true;
	act = th_call(rt, "cas", "{\"key\":\"k\",\"value\":\"v3\"}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_APPLICATION_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Conflict");
	faas_activation_free(act);
	cr_assert_eq(spy.inner->get(spy.inner, "cas/k", &value, NULL, NULL), 0);
	cr_assert_str_eq(value, "intruder", "the conflicting put did not overwrite");
	free(value);

	/* The same on a missing key: ABSENT conflicts with the intruder. */
	spy.interfere = true;
	act = th_call(rt, "cas", "{\"key\":\"fresh\",\"value\":\"v\"}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_APPLICATION_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Conflict");
	faas_activation_free(act);
}

Test(state, inline_functions_use_state_too, .init = default_setup, .fini = default_teardown)
{
	faas_fn_options fo = th_fopts_static(state_op);

	fo.isolation = FAAS_ISOLATION_INLINE;
	fo.state_namespace = "ns";
	th_register(rt, "inl", &fo);
	fo.isolation = FAAS_ISOLATION_THREAD;
	th_register(rt, "thr", &fo);
	cr_assert_eq(call_num("inl", "{\"op\":\"incr\",\"key\":\"k\"}", "value"), 1);
	cr_assert_eq(call_num("thr", "{\"op\":\"incr\",\"key\":\"k\"}", "value"), 2);
}

Test(state, runtime_owned_backend_per_runtime)
{
	faas_runtime *a = th_rt_new(NULL, NULL);
	faas_runtime *b = th_rt_new(NULL, NULL);

	th_register_static(a, "s", state_op);
	th_register_static(b, "s", state_op);
	rt = a;
	cr_assert_eq(call_num("s", "{\"op\":\"incr\",\"key\":\"k\"}", "value"), 1);
	rt = b;
	cr_assert_eq(call_num("s", "{\"op\":\"incr\",\"key\":\"k\"}", "value"), 1);
	th_rt_free(a, NULL);
	th_rt_free(b, NULL);
}

/* "Any thread of the handler may call them": a handler that fans out. */
static void *fan_worker(void *arg)
{
	faas_ctx *ctx = arg;

	for (int i = 0; i < 250; i++)
		if (faas_state_incr(ctx, "fan", 1, NULL) != 0)
			return (void *)1;
	return NULL;
}

static int fans_out(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	pthread_t t[4];
	void *ret;
	int failed = 0;
	int64_t v = 0;

	(void)event;
	for (int i = 0; i < 4; i++)
		if (pthread_create(&t[i], NULL, fan_worker, ctx) != 0)
			return faas_ctx_error(ctx, "Thread", "pthread_create");
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], &ret);
		failed += ret != NULL;
	}
	if (failed)
		return faas_ctx_error(ctx, "State", "%d workers failed", failed);
	faas_state_incr(ctx, "fan", 0, &v);
	*result = cJSON_CreateNumber((double)v);
	return 0;
}

Test(state, handler_threads_share_the_ctx, .init = default_setup, .fini = default_teardown)
{
	faas_activation *act;

	th_register_static(rt, "fan", fans_out);
	act = th_call(rt, "fan", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "%s: %s",
	             faas_activation_error_type(act), faas_activation_error_message(act));
	cr_assert_eq(cJSON_GetNumberValue(faas_activation_result(act)), 1000);
	faas_activation_free(act);
}

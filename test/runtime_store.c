/* A runtime with a store (store_path): functions' state outlives the
 * runtime, in thread and process isolation alike; the store's errors reach
 * faas_runtime_new's caller; faas_runtime_backup copies it; and runtime
 * options of version 1 (before store_path) are still accepted. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(runtime_store, .timeout = 60);

static char dir[64], db[128];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/faas-rtstore-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db, sizeof(db), "%s/faas.db", dir);
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	(void)!system(cmd);
}

static int count(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	int64_t n = 0;
	int rc = faas_state_incr(ctx, "count", 1, &n);

	(void)event;
	if (rc != 0)
		return faas_ctx_error(ctx, "State", "incr: %s", faas_strerror(rc));
	*result = cJSON_CreateNumber((double)n);
	return 0;
}

static faas_runtime *runtime_on(const char *path)
{
	faas_runtime_options o = th_ropts();
	faas_runtime *rt = NULL;
	int rc;

	o.store_path = path;
	rc = faas_runtime_new(&rt, &o);
	cr_assert_eq(rc, 0, "%s: %s", faas_err_name(rc), faas_runtime_last_error(NULL));
	return rt;
}

/* The count a call of fn returns. */
static double call_count(faas_runtime *rt, const char *fn)
{
	faas_activation *act = th_call(rt, fn, "{}");
	double n;

	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "%s: %s",
	             faas_activation_error_type(act), faas_activation_error_message(act));
	n = cJSON_GetNumberValue(faas_activation_result(act));
	faas_activation_free(act);
	return n;
}

Test(runtime_store, state_outlives_the_runtime, .init = setup, .fini = teardown)
{
	faas_runtime *rt = runtime_on(db);

	th_register_static(rt, "count", count);
	cr_assert_eq(call_count(rt, "count"), 1);
	cr_assert_eq(call_count(rt, "count"), 2);
	faas_runtime_free(rt);

	rt = runtime_on(db);
	th_register_static(rt, "count", count);
	cr_assert_eq(call_count(rt, "count"), 3, "the count goes on after a restart");
	faas_runtime_free(rt);
}

/* A process worker's state calls reach the same store through the host. */
Test(runtime_store, process_workers_use_the_store, .init = setup, .fini = teardown)
{
	faas_runtime *rt = runtime_on(db);
	faas_fn_options fo = th_fopts_lib(FX("adversarial"), "adv");
	faas_activation *act;
	faas_state_backend *st;
	faas_store_backend *s;
	char *value;

	fo.isolation = FAAS_ISOLATION_PROCESS;
	th_register(rt, "adv", &fo);
	act = th_call(rt, "adv", "{\"mode\":\"incr\",\"key\":\"k\"}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "%s",
	             faas_activation_error_message(act));
	faas_activation_free(act);
	faas_runtime_free(rt);

	cr_assert_eq(faas_store_sqlite_open(&s, db, NULL), 0, "%s", faas_runtime_last_error(NULL));
	st = s->state(s);
	cr_assert_eq(st->get(st, "adv/k", &value, NULL, NULL), 0);
	cr_assert_str_eq(value, "1");
	free(value);
	s->free(s);
}

Test(runtime_store, a_store_that_cannot_open_fails_the_runtime, .init = setup, .fini = teardown)
{
	faas_runtime_options o = th_ropts();
	faas_runtime *rt = (faas_runtime *)1;
	char path[192];
	FILE *f = fopen(db, "w");

	cr_assert_not_null(f);
	for (int i = 0; i < 200; i++)
		fputs("not a database, not at all. ", f);
	fclose(f);
	o.store_path = db;
	cr_assert_eq(faas_runtime_new(&rt, &o), FAAS_ESYSTEM);
	cr_assert_null(rt);
	cr_assert(strstr(faas_runtime_last_error(NULL), db), "%s", faas_runtime_last_error(NULL));
	cr_assert(strstr(faas_runtime_last_error(NULL), "not a libfaas database"));

	snprintf(path, sizeof(path), "%s/none/faas.db", dir);
	o.store_path = path;
	cr_assert_eq(faas_runtime_new(&rt, &o), FAAS_ESYSTEM);
	cr_assert(strstr(faas_runtime_last_error(NULL), path));
	o.store_path = "";
	cr_assert_eq(faas_runtime_new(&rt, &o), FAAS_EINVAL);
	cr_assert(strstr(faas_runtime_last_error(NULL), "store_path"));
}

Test(runtime_store, one_store_one_runtime, .init = setup, .fini = teardown)
{
	faas_runtime *rt = runtime_on(db), *second = NULL;
	faas_runtime_options o = th_ropts();

	/* Another runtime of this process is refused too: each holds its file. */
	o.store_path = db;
	cr_assert_eq(faas_runtime_new(&second, &o), FAAS_EBUSY);
	cr_assert(strstr(faas_runtime_last_error(NULL), "held by another process"));
	faas_runtime_free(rt);
}

Test(runtime_store, backup_restores_to_a_new_runtime, .init = setup, .fini = teardown)
{
	faas_runtime *rt = runtime_on(db), *plain;
	char copy[192];

	th_register_static(rt, "count", count);
	for (int i = 1; i <= 5; i++)
		cr_assert_eq(call_count(rt, "count"), i);
	snprintf(copy, sizeof(copy), "%s/backup.db", dir);
	cr_assert_eq(faas_runtime_backup(rt, copy), 0, "%s", faas_runtime_last_error(NULL));
	cr_assert_eq(call_count(rt, "count"), 6, "the original goes on");
	faas_runtime_free(rt);

	rt = runtime_on(copy);
	th_register_static(rt, "count", count);
	cr_assert_eq(call_count(rt, "count"), 6, "the copy is as of the backup");
	cr_assert_eq(faas_runtime_backup(rt, NULL), FAAS_EINVAL);
	faas_runtime_free(rt);

	plain = th_rt_new(NULL, NULL);
	cr_assert_eq(faas_runtime_backup(plain, copy), FAAS_ENOTSUP);
	cr_assert(strstr(faas_runtime_last_error(NULL), "no store"));
	faas_runtime_free(plain);
	cr_assert_eq(faas_runtime_backup(NULL, copy), FAAS_EINVAL);
}

/* A caller compiled against version 1 of the options passes a struct that
 * ends before store_path: what follows it in memory is never read. */
Test(runtime_store, version_1_options_are_accepted, .init = setup, .fini = teardown)
{
	struct {
		faas_runtime_options o;
	} *v1 = malloc(sizeof(*v1));
	faas_runtime *rt = NULL;

	cr_assert_not_null(v1);
	v1->o = th_ropts();
	v1->o.version = 1;
	/* Garbage where a version 1 struct has nothing: must be ignored. */
	v1->o.store_path = (const char *)"/nonexistent/dir/garbage.db";
	cr_assert_eq(faas_runtime_new(&rt, &v1->o), 0, "%s", faas_runtime_last_error(NULL));
	th_register_static(rt, "count", count);
	cr_assert_eq(call_count(rt, "count"), 1, "state in memory");
	faas_runtime_free(rt);
	free(v1);
}

/* ---- a backend that blocks: the loop must not ---- */

typedef struct slow_backend {
	faas_state_backend table;
	faas_state_backend *inner;
	atomic_int calls;
} slow_backend;

#define SLOW_MS 400

static int slow_incr(faas_state_backend *self, const char *key, int64_t delta, int64_t *out)
{
	slow_backend *s = (slow_backend *)self;

	atomic_fetch_add(&s->calls, 1);
	usleep(SLOW_MS * 1000);
	return s->inner->incr(s->inner, key, delta, out);
}

static int slow_get(faas_state_backend *self, const char *key, char **v, size_t *n, uint64_t *ver)
{
	return ((slow_backend *)self)->inner->get(((slow_backend *)self)->inner, key, v, n, ver);
}

static int slow_put(faas_state_backend *self, const char *key, const void *v, size_t n,
                    uint64_t expected, uint64_t *ver)
{
	return ((slow_backend *)self)
	    ->inner->put(((slow_backend *)self)->inner, key, v, n, expected, ver);
}

static int slow_del(faas_state_backend *self, const char *key, uint64_t expected)
{
	return ((slow_backend *)self)->inner->del(((slow_backend *)self)->inner, key, expected);
}

static int quick(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	*result = cJSON_CreateTrue();
	return 0;
}

/* A process worker's state call on a backend that takes 400 ms runs off the
 * loop: an inline function answers meanwhile; a call whose deadline comes
 * first ends `timeout`, and its answer, when the backend returns, goes
 * nowhere (the runtime waits for it before it frees the backend). */
Test(runtime_store, a_blocking_backend_does_not_block_the_loop)
{
	slow_backend slow = {FAAS_STATE_BACKEND_INIT, NULL, 0};
	faas_runtime_options o = th_ropts();
	faas_fn_options fo = th_fopts_lib(FX("adversarial"), "adv"), qo = th_fopts_static(quick);
	faas_runtime *rt;
	th_calls calls;
	uint64_t t0;
	faas_activation *act;

	cr_assert_eq(faas_state_memory_new(&slow.inner), 0);
	slow.table.get = slow_get;
	slow.table.put = slow_put;
	slow.table.del = slow_del;
	slow.table.incr = slow_incr;
	o.state = &slow.table;
	rt = th_rt_new(NULL, &o);
	fo.isolation = FAAS_ISOLATION_PROCESS;
	fo.process_prewarm = 1;
	th_register(rt, "adv", &fo);
	qo.isolation = FAAS_ISOLATION_INLINE;
	th_register(rt, "quick", &qo);
	th_calls_init(&calls);

	t0 = th_now_ms();
	cr_assert_eq(th_invoke(rt, "adv", "{\"mode\":\"incr\",\"key\":\"k\"}", &calls), 0);
	th_spin(rt, 100); /* the state request is on the threadpool */
	cr_assert_eq(atomic_load(&slow.calls), 1);
	act = th_call(rt, "quick", "{}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
	/* Had the loop run the state call itself, the slow call would be over
	 * by now, SLOW_MS after it began. */
	cr_assert_eq(atomic_load(&calls.n), 0, "the state call is still running");
	cr_assert_lt(th_now_ms() - t0, SLOW_MS, "answered while the state call blocks");
	cr_assert(th_wait(rt, &calls.n, 1, 5000));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_SUCCESS, "%s",
	             faas_activation_error_message(calls.acts[0]));

	/* Now with a deadline shorter than the backend. */
	fo.timeout_ms = 100;
	fo.process_prewarm = 1;
	th_register(rt, "short", &fo);
	cr_assert_eq(th_invoke(rt, "short", "{\"mode\":\"incr\",\"key\":\"k\"}", &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 2, 5000));
	cr_assert_eq(faas_activation_status(calls.acts[1]), FAAS_STATUS_TIMEOUT);
	/* Freed with the job still sleeping in the backend. */
	faas_runtime_free(rt);
	cr_assert_eq(atomic_load(&slow.calls), 2);
	th_calls_clear(&calls);
	slow.inner->free(slow.inner);
}

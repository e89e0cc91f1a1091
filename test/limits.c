/* Limits: deadlines (thread and inline), stuck threads, memory. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(limits, .timeout = 60);

static uv_loop_t loop;
static faas_runtime *rt;
static th_calls calls;
static th_billing bill;

static atomic_int saw_cancel;
static atomic_uint_fast64_t cancel_seen_ms;
static atomic_uint_fast64_t remaining_at_cancel = 12345;
static atomic_uint_fast64_t used_after_alloc;
static atomic_uint_fast64_t used_after_free;

static void setup_threads(unsigned int threads, unsigned int max_stuck)
{
	faas_runtime_options o = th_ropts();

	th_calls_init(&calls);
	th_billing_init(&bill);
	th_loop_init(&loop);
	o.threads = threads;
	o.max_stuck_threads = max_stuck;
	o.billing = &bill.hook;
	rt = th_rt_new(&loop, &o);
}

static void setup(void)
{
	setup_threads(2, FAAS_DEFAULT_MAX_STUCK_THREADS);
}

static void release_loops(void)
{
	volatile int *release = th_sym(FX("loops"), "fx_loops_release");

	if (release != NULL)
		*release = 1;
}

static int loops_returned(void)
{
	return th_int(FX("loops"), "fx_loops_returned");
}

static void teardown(void)
{
	release_loops();
	th_rt_free(rt, &loop);
	th_calls_clear(&calls);
}

static int quick(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	*result = cJSON_CreateString("quick");
	return 0;
}

static int watches_cancel(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	(void)result;
	for (int i = 0; i < 10000; i++) {
		if (faas_ctx_cancelled(ctx)) {
			/* Publish the observations before the flag the test waits on. */
			remaining_at_cancel = faas_ctx_remaining_ms(ctx);
			cancel_seen_ms = th_now_ms();
			atomic_fetch_add(&saw_cancel, 1);
			return faas_ctx_error(ctx, "Cancelled", "saw cancel");
		}
		th_sleep_ms(1);
	}
	return 0;
}

static int sleeps_150(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	th_sleep_ms(150);
	*result = cJSON_CreateString("late");
	return 0;
}

static int alloc_one_mib(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	void *p;
	uint64_t before = faas_ctx_memory_used(ctx);

	(void)event;
	p = faas_ctx_alloc(ctx, 1024 * 1024);
	if (p == NULL)
		return faas_ctx_error(ctx, "NoMemory", "1 MiB refused");
	memset(p, 1, 1024 * 1024);
	used_after_alloc = faas_ctx_memory_used(ctx) - before;
	faas_ctx_free(ctx, p);
	used_after_free = faas_ctx_memory_used(ctx) - before;
	faas_ctx_free(ctx, NULL);
	if (faas_ctx_alloc(ctx, 0) != NULL)
		return faas_ctx_error(ctx, "Alloc0", "faas_ctx_alloc(0) must be NULL");
	*result = cJSON_CreateTrue();
	return 0;
}

/* Asks for more than the limit in one go, is refused, and claims success. */
static int one_huge_alloc(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	void *p = faas_ctx_alloc(ctx, (size_t)200 * 1024 * 1024);

	(void)event;
	if (p != NULL) {
		faas_ctx_free(ctx, p);
		return faas_ctx_error(ctx, "NotRefused", "200 MiB granted under 128 MB");
	}
	*result = cJSON_CreateString("ignored the failure");
	return 0;
}

static int big_cjson_string(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	char *text = malloc(300 * 1024 + 1);

	(void)ctx;
	(void)event;
	memset(text, 'q', 300 * 1024);
	text[300 * 1024] = '\0';
	*result = cJSON_CreateString(text);
	free(text);
	return 0;
}

/* Holds 3 MiB at once, frees it, then holds 1 MiB: the peak is 3 MiB. */
static int peak_then_less(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	void *a = faas_ctx_alloc(ctx, 1024 * 1024);
	void *b = faas_ctx_alloc(ctx, 1024 * 1024);
	void *c = faas_ctx_alloc(ctx, 1024 * 1024);

	(void)event;
	if (!a || !b || !c)
		return faas_ctx_error(ctx, "NoMemory", "refused");
	faas_ctx_free(ctx, a);
	faas_ctx_free(ctx, b);
	faas_ctx_free(ctx, c);
	a = faas_ctx_alloc(ctx, 1024 * 1024);
	faas_ctx_free(ctx, a);
	*result = cJSON_CreateTrue();
	return 0;
}

/* ---- deadlines, thread mode ---- */

Test(limits, timeout_while_handler_loops_forever, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("loops"), "loops_forever");
	faas_runtime_stats st;
	faas_activation *act;
	uint64_t t0, dt;

	fo.timeout_ms = 100;
	th_register(rt, "forever", &fo);
	th_register_static(rt, "quick", quick);
	t0 = th_now_ms();
	cr_assert_eq(th_invoke(rt, "forever", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	dt = calls.at_ms[0] - t0;
	cr_assert_geq(dt, 95, "timed out early: %llu ms", (unsigned long long)dt);
	cr_assert_lt(dt, 100 + 250, "timed out late: %llu ms", (unsigned long long)dt);

	act = calls.acts[0];
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_TIMEOUT);
	cr_assert_str_eq(faas_activation_error_type(act), "Sandbox.Timedout");
	cr_assert_str_eq(faas_activation_error_message(act), "Task timed out after 0.10 seconds");
	cr_assert_null(faas_activation_result(act));
	cr_assert(faas_activation_started(act));
	cr_assert_eq(loops_returned(), 0, "the handler is still running");

	/* The stuck thread is retired and replaced. */
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.stuck_threads, 1);
	cr_assert_eq(st.threads, 2);
	cr_assert_eq(st.activations[FAAS_STATUS_TIMEOUT], 1);
	cr_assert_eq(st.in_flight, 0);

	/* Other calls keep completing meanwhile. */
	for (int i = 0; i < 20; i++) {
		act = th_call(rt, "quick", NULL);
		cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
		faas_activation_free(act);
	}

	/* Released, the late result reaches no activation. */
	release_loops();
	for (int i = 0; i < 2000 && loops_returned() < 1; i++)
		th_sleep_ms(1);
	cr_assert_eq(loops_returned(), 1);
	th_spin(rt, 30);
	cr_assert_eq(atomic_load(&calls.n), 1);
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.activations[FAAS_STATUS_TIMEOUT], 1);
	cr_assert_eq(st.activations[FAAS_STATUS_SUCCESS], 20);
	cr_assert_eq(st.stuck_threads, 0, "a released thread is no longer stuck");

	const faas_activation *list[8];
	int n = faas_activation_list(list, 8, rt, "forever");
	cr_assert_eq(n, 1);
	cr_assert_eq(faas_activation_status(list[0]), FAAS_STATUS_TIMEOUT);
	faas_activation_list_free(list, (size_t)n);
	cr_assert_eq(bill.records, 21);
}

Test(limits, stuck_thread_does_not_starve_single_thread_pool)
{
	faas_fn_options fo = th_fopts_lib(FX("loops"), "loops_forever");
	faas_runtime_stats st;
	faas_activation *act;
	uint64_t t0;

	setup_threads(1, 4);
	fo.timeout_ms = 50;
	th_register(rt, "forever", &fo);
	th_register_static(rt, "quick", quick);
	cr_assert_eq(th_invoke(rt, "forever", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_TIMEOUT);
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.threads, 1);
	cr_assert_eq(st.stuck_threads, 1);
	t0 = th_now_ms();
	act = th_call(rt, "quick", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_lt(th_now_ms() - t0, 200, "the replacement thread took the call");
	faas_activation_free(act);
	teardown();
}

static bool stuck_is_zero(void *arg)
{
	faas_runtime_stats st;

	faas_runtime_stats_get(&st, arg);
	return st.stuck_threads == 0;
}

Test(limits, max_stuck_threads_caps_replacement)
{
	faas_fn_options fo = th_fopts_lib(FX("loops"), "loops_forever");
	faas_runtime_stats st;

	setup_threads(2, 1);
	fo.timeout_ms = 50;
	th_register(rt, "forever", &fo);
	th_register_static(rt, "quick", quick);
	cr_assert_eq(th_invoke(rt, "forever", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "forever", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 2, TH_WAIT_MS));
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.stuck_threads, 2);
	cr_assert_eq(st.threads, 1, "one replacement only, then the pool shrinks");

	/* The remaining thread still serves. */
	faas_activation *act = th_call(rt, "quick", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);

	release_loops();
	cr_assert(th_wait_for(rt, stuck_is_zero, rt, 3000));
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.threads, 2, "capacity is restored once the handlers return");
	teardown();
}

Test(limits, cooperative_handler_sees_cancel, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(watches_cancel);
	uint64_t t0;

	fo.timeout_ms = 80;
	th_register(rt, "w", &fo);
	t0 = th_now_ms();
	cr_assert_eq(th_invoke(rt, "w", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_TIMEOUT,
	             "the deadline wins over the handler's own error");
	cr_assert_str_eq(faas_activation_error_message(calls.acts[0]),
	                 "Task timed out after 0.08 seconds");
	for (int i = 0; i < 1000 && !atomic_load(&saw_cancel); i++)
		th_sleep_ms(1);
	cr_assert_eq(atomic_load(&saw_cancel), 1);
	cr_assert_eq(remaining_at_cancel, 0, "no time remains once the deadline passed");
	cr_assert_geq(cancel_seen_ms - t0, 75);
	cr_assert_lt(cancel_seen_ms - t0, 80 + 250);
	cr_assert(th_wait_for(rt, stuck_is_zero, rt, 1000));
	th_spin(rt, 20);
	cr_assert_eq(atomic_load(&calls.n), 1);
	cr_assert_eq(bill.records, 1);
}

Test(limits, fixture_cooperative_loop, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("loops"), "loops_cooperative");
	faas_activation *act;

	fo.timeout_ms = 60;
	th_register(rt, "coop", &fo);
	act = th_call(rt, "coop", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_TIMEOUT);
	cr_assert_str_eq(faas_activation_error_type(act), "Sandbox.Timedout");
	faas_activation_free(act);
}

Test(limits, timeout_billed_up_to_deadline, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("loops"), "loops_forever");
	const faas_usage *u;

	fo.timeout_ms = 100;
	th_register(rt, "forever", &fo);
	cr_assert_eq(th_invoke(rt, "forever", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	u = faas_activation_usage(calls.acts[0]);
	cr_assert_eq(u->status, FAAS_STATUS_TIMEOUT);
	cr_assert_geq(u->billed_ms, 95);
	cr_assert_leq(u->billed_ms, 100 + 250);
	cr_assert_geq(u->duration_us, 95000);
	cr_assert_eq(bill.records, 1);
	cr_assert_eq(bill.last_usage.status, FAAS_STATUS_TIMEOUT);
	cr_assert_eq(bill.last_usage.billed_ms, u->billed_ms);
}

Test(limits, remaining_ms_counts_down, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("ok"), "ok_info");
	faas_activation *act;
	double remaining;

	fo.timeout_ms = 2000;
	th_register(rt, "info", &fo);
	act = th_call(rt, "info", NULL);
	remaining =
	    cJSON_GetNumberValue(cJSON_GetObjectItem(faas_activation_result(act), "remaining_ms"));
	cr_assert_leq(remaining, 2000);
	cr_assert_gt(remaining, 1500);
	faas_activation_free(act);
}

/* ---- deadlines, inline mode ---- */

Test(limits, inline_timeout_reported_after_return, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(sleeps_150);
	uint64_t t0;

	fo.isolation = FAAS_ISOLATION_INLINE;
	fo.timeout_ms = 50;
	th_register(rt, "inl", &fo);
	t0 = th_now_ms();
	cr_assert_eq(th_invoke(rt, "inl", NULL, &calls), 0);
	cr_assert_geq(th_now_ms() - t0, 145, "inline handlers run inside faas_invoke");
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_TIMEOUT);
	cr_assert_str_eq(faas_activation_error_type(calls.acts[0]), "Sandbox.Timedout");
	cr_assert_str_eq(faas_activation_error_message(calls.acts[0]),
	                 "Task timed out after 0.05 seconds");
	cr_assert_null(faas_activation_result(calls.acts[0]));
	cr_assert_eq(bill.records, 1);
}

Test(limits, inline_within_deadline_succeeds, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(sleeps_150);
	faas_activation *act;

	fo.isolation = FAAS_ISOLATION_INLINE;
	fo.timeout_ms = 1000;
	th_register(rt, "inl", &fo);
	act = th_call(rt, "inl", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_str_eq(cJSON_GetStringValue(faas_activation_result(act)), "late");
	cr_assert_geq(faas_activation_usage(act)->duration_us, 145000);
	faas_activation_free(act);
}

/* ---- memory ---- */

Test(limits, alloc_bomb_is_oom, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("alloc_bomb"), "alloc_bomb");
	faas_activation *act;
	const faas_usage *u;

	fo.memory_mb = 128;
	th_register(rt, "bomb", &fo);
	act = th_call(rt, "bomb", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_OOM);
	cr_assert_str_eq(faas_activation_error_type(act), "Runtime.OutOfMemory");
	cr_assert_null(faas_activation_result(act));
	u = faas_activation_usage(act);
	cr_assert_leq(u->max_memory_bytes, (uint64_t)128 * 1024 * 1024);
	cr_assert_geq(u->max_memory_bytes, (uint64_t)120 * 1024 * 1024, "the peak was %llu bytes",
	              (unsigned long long)u->max_memory_bytes);
	cr_assert_eq(u->memory_mb, 128);
	cr_assert_eq(bill.records, 1);
	cr_assert_eq(bill.by_status[FAAS_STATUS_OOM], 1);
	faas_activation_free(act);
}

Test(limits, cjson_bomb_is_oom, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("alloc_bomb"), "cjson_bomb");
	faas_activation *act;

	th_register(rt, "bomb", &fo);
	act = th_call(rt, "bomb", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_OOM);
	cr_assert_str_eq(faas_activation_error_type(act), "Runtime.OutOfMemory");
	cr_assert_geq(faas_activation_usage(act)->max_memory_bytes, (uint64_t)120 * 1024 * 1024);
	cr_assert_leq(faas_activation_usage(act)->max_memory_bytes, (uint64_t)128 * 1024 * 1024);
	faas_activation_free(act);
}

Test(limits, oom_whatever_the_handler_returns, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_static(rt, "huge", one_huge_alloc);
	act = th_call(rt, "huge", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_OOM);
	cr_assert_null(faas_activation_result(act));
	faas_activation_free(act);
}

Test(limits, oom_inline, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(one_huge_alloc);
	faas_activation *act;

	fo.isolation = FAAS_ISOLATION_INLINE;
	th_register(rt, "huge", &fo);
	act = th_call(rt, "huge", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_OOM);
	faas_activation_free(act);
}

Test(limits, larger_memory_limit_allows_more, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(one_huge_alloc);
	faas_activation *act;

	fo.memory_mb = 256;
	th_register(rt, "huge", &fo);
	act = th_call(rt, "huge", NULL);
	/* 200 MiB fit in 256 MB: the handler reports it was not refused. */
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_APPLICATION_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "NotRefused");
	cr_assert_geq(faas_activation_usage(act)->max_memory_bytes, (uint64_t)200 * 1024 * 1024);
	faas_activation_free(act);
}

Test(limits, accounting_of_ctx_alloc, .init = setup, .fini = teardown)
{
	faas_activation *act;
	const faas_usage *u;

	th_register_static(rt, "one", alloc_one_mib);
	act = th_call(rt, "one", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "%s: %s",
	             faas_activation_error_type(act), faas_activation_error_message(act));
	cr_assert_geq(used_after_alloc, 1024 * 1024);
	cr_assert_eq(used_after_free, 0);
	u = faas_activation_usage(act);
	cr_assert_geq(u->max_memory_bytes, 1024 * 1024);
	cr_assert_lt(u->max_memory_bytes, 2 * 1024 * 1024);
	faas_activation_free(act);
}

Test(limits, cjson_values_are_charged, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_static(rt, "s", big_cjson_string);
	act = th_call(rt, "s", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_geq(faas_activation_usage(act)->max_memory_bytes, 300 * 1024);
	faas_activation_free(act);
}

Test(limits, memory_accounting_is_per_call, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_static(rt, "one", alloc_one_mib);
	th_register_lib(rt, "bomb", FX("alloc_bomb"), "alloc_bomb");
	act = th_call(rt, "bomb", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_OOM);
	faas_activation_free(act);
	/* A fresh call starts from zero. */
	act = th_call(rt, "one", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_lt(faas_activation_usage(act)->max_memory_bytes, 2 * 1024 * 1024);
	faas_activation_free(act);
}

Test(limits, max_memory_is_the_peak, .init = setup, .fini = teardown)
{
	faas_activation *act;
	uint64_t peak;

	th_register_static(rt, "p", peak_then_less);
	act = th_call(rt, "p", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	peak = faas_activation_usage(act)->max_memory_bytes;
	cr_assert_geq(peak, 3 * 1024 * 1024);
	cr_assert_lt(peak, 4 * 1024 * 1024);
	faas_activation_free(act);
}

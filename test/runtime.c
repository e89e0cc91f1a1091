/* The runtime: new/free, own and host loops, run/stop/drain, stats. */
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(runtime, .timeout = 30);

static atomic_int seen_cancel;
static atomic_int handler_calls;

static int quick(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	atomic_fetch_add(&handler_calls, 1);
	*result = cJSON_CreateString("quick");
	return 0;
}

/* Sleeps event.ms milliseconds in 1 ms steps; stops early when cancelled. */
static int sleeper(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	const cJSON *ms = cJSON_GetObjectItemCaseSensitive(event, "ms");
	int n = cJSON_IsNumber(ms) ? (int)ms->valuedouble : 0;

	atomic_fetch_add(&handler_calls, 1);
	for (int i = 0; i < n; i++) {
		if (faas_ctx_cancelled(ctx)) {
			atomic_fetch_add(&seen_cancel, 1);
			return faas_ctx_error(ctx, "Cancelled", "saw cancel");
		}
		th_sleep_ms(1);
	}
	*result = cJSON_CreateNumber(n);
	return 0;
}

/* Loops until cancelled (bounded at 20 s). */
static int until_cancelled(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	(void)result;
	atomic_fetch_add(&handler_calls, 1);
	for (int i = 0; i < 20000; i++) {
		if (faas_ctx_cancelled(ctx)) {
			atomic_fetch_add(&seen_cancel, 1);
			return faas_ctx_error(ctx, "Cancelled", "saw cancel");
		}
		th_sleep_ms(1);
	}
	return faas_ctx_error(ctx, "NotCancelled", "never saw cancel");
}

Test(runtime, new_free_own_loop)
{
	faas_runtime *rt = th_rt_new(NULL, NULL);

	cr_assert_not_null(faas_runtime_loop(rt));
	cr_assert_str_eq(faas_runtime_last_error(rt), "");
	cr_assert_not(faas_runtime_stopped(rt));
	faas_runtime_free(rt);
}

Test(runtime, new_free_host_loop)
{
	uv_loop_t loop;
	faas_runtime *rt;

	th_loop_init(&loop);
	rt = th_rt_new(&loop, NULL);
	cr_assert_eq(faas_runtime_loop(rt), &loop);
	th_rt_free(rt, &loop);
}

Test(runtime, free_null_is_noop)
{
	faas_runtime_free(NULL);
}

Test(runtime, null_arguments)
{
	faas_runtime_stats st;

	cr_assert_eq(faas_runtime_run(NULL), FAAS_EINVAL);
	cr_assert_eq(faas_runtime_stop(NULL), FAAS_EINVAL);
	cr_assert_eq(faas_runtime_stats_get(NULL, NULL), FAAS_EINVAL);
	cr_assert_eq(faas_runtime_stats_get(&st, NULL), FAAS_EINVAL);
	cr_assert_null(faas_runtime_loop(NULL));
	cr_assert_not_null(faas_runtime_last_error(NULL));

	faas_runtime *rt = th_rt_new(NULL, NULL);
	cr_assert_eq(faas_runtime_stats_get(NULL, rt), FAAS_EINVAL);
	th_rt_free(rt, NULL);
}

/* The getter writes the whole struct: whatever the caller left in it. */
Test(runtime, stats_get_writes_version_and_zero_reserved)
{
	faas_runtime *rt = th_rt_new(NULL, NULL);
	faas_runtime_stats st;

	_Static_assert(offsetof(faas_runtime_stats, version) == 0, "version comes first");
	memset(&st, 0xa5, sizeof(st));
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.version, FAAS_RUNTIME_STATS_VERSION);
	for (size_t i = 0; i < sizeof(st.reserved) / sizeof(st.reserved[0]); i++)
		cr_assert_eq(st.reserved[i], 0, "reserved[%zu]", i);
	cr_assert_eq(st.in_flight, 0);
	cr_assert_eq(st.activations[FAAS_STATUS_SUCCESS], 0);
	th_rt_free(rt, NULL);
}

Test(runtime, two_runtimes_are_independent)
{
	uv_loop_t loop;
	faas_runtime *a, *b;
	faas_activation *act;

	th_loop_init(&loop);
	a = th_rt_new(&loop, NULL);
	b = th_rt_new(NULL, NULL);
	th_register_static(a, "f", quick);
	th_register_static(b, "f", quick);
	act = th_call(a, "f", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
	act = th_call(b, "f", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
	cr_assert_eq(faas_fn_unregister(a, "f"), 0);
	cr_assert_not_null(faas_fn_lookup(b, "f"));
	th_rt_free(b, NULL);
	th_rt_free(a, &loop);
}

/* ---- run / stop ---- */

typedef struct stop_ctx {
	faas_runtime *rt;
	th_calls calls;
} stop_ctx;

static void collect_then_stop(const faas_activation *act, void *userdata)
{
	stop_ctx *s = userdata;

	th_collect(act, &s->calls);
	cr_assert_eq(faas_runtime_stop(s->rt), 0);
}

Test(runtime, run_until_stop_own_loop)
{
	stop_ctx s;

	th_calls_init(&s.calls);
	s.rt = th_rt_new(NULL, NULL);
	th_register_static(s.rt, "f", quick);
	cr_assert_eq(faas_invoke(s.rt, "f", NULL, collect_then_stop, &s), 0);
	cr_assert_eq(faas_runtime_run(s.rt), 0);
	cr_assert_eq(atomic_load(&s.calls.n), 1);
	cr_assert_eq(faas_activation_status(s.calls.acts[0]), FAAS_STATUS_SUCCESS);
	cr_assert(faas_runtime_stopped(s.rt));
	/* Running a stopped runtime again is refused. */
	cr_assert_eq(faas_runtime_run(s.rt), FAAS_ESTOPPED);
	th_calls_clear(&s.calls);
	th_rt_free(s.rt, NULL);
}

static void stop_from_timer(uv_timer_t *t)
{
	faas_runtime *rt = t->data;

	cr_assert_eq(faas_runtime_stop(rt), 0);
	uv_close((uv_handle_t *)t, NULL);
}

Test(runtime, run_stopped_by_timer_on_own_loop)
{
	faas_runtime *rt = th_rt_new(NULL, NULL);
	uv_timer_t t;
	uint64_t t0;

	cr_assert_eq(uv_timer_init(faas_runtime_loop(rt), &t), 0);
	t.data = rt;
	cr_assert_eq(uv_timer_start(&t, stop_from_timer, 30, 0), 0);
	t0 = th_now_ms();
	cr_assert_eq(faas_runtime_run(rt), 0);
	cr_assert_geq(th_now_ms() - t0, 25);
	cr_assert(faas_runtime_stopped(rt));
	th_rt_free(rt, NULL);
}

Test(runtime, stop_when_idle)
{
	uv_loop_t loop;
	faas_runtime *rt;

	th_loop_init(&loop);
	rt = th_rt_new(&loop, NULL);
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert(faas_runtime_stopped(rt));
	/* A second stop is a no-op. */
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert_eq(faas_runtime_run(rt), FAAS_ESTOPPED);
	th_rt_free(rt, &loop);
}

Test(runtime, invoke_and_register_after_stop)
{
	uv_loop_t loop;
	faas_runtime *rt;
	th_calls c;
	faas_activation *act = (faas_activation *)0x1;

	th_calls_init(&c);
	th_loop_init(&loop);
	rt = th_rt_new(&loop, NULL);
	th_register_static(rt, "f", quick);
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert_eq(th_invoke(rt, "f", NULL, &c), FAAS_ESTOPPED);
	cr_assert_eq(faas_invoke_sync(&act, rt, "f", NULL), FAAS_ESTOPPED);
	cr_assert_null(act);
	cr_assert_eq(faas_invoke_payload(rt, "f", "{}", 2, th_collect, &c), FAAS_ESTOPPED);
	faas_fn_options fo = th_fopts_static(quick);
	cr_assert_eq(faas_fn_register(NULL, rt, "g", &fo), FAAS_ESTOPPED);
	th_spin(rt, 20);
	cr_assert_eq(atomic_load(&c.n), 0, "a refused invocation must never call back");
	cr_assert_eq(atomic_load(&handler_calls), 0);
	th_rt_free(rt, &loop);
}

static bool is_stopped(void *arg)
{
	return faas_runtime_stopped(arg);
}

Test(runtime, drain_lets_calls_finish)
{
	uv_loop_t loop;
	faas_runtime_options o = th_ropts();
	faas_runtime *rt;
	th_billing bill;
	th_calls c;

	th_calls_init(&c);
	th_billing_init(&bill);
	th_loop_init(&loop);
	o.drain_timeout_ms = 2000;
	o.threads = 4;
	o.billing = &bill.hook;
	rt = th_rt_new(&loop, &o);
	th_register_static(rt, "slow", sleeper);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(th_invoke(rt, "slow", "{\"ms\":60}", &c), 0);
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert_not(faas_runtime_stopped(rt), "calls are still in flight");
	cr_assert_eq(th_invoke(rt, "slow", "{\"ms\":1}", &c), FAAS_ESTOPPED);
	cr_assert(th_wait_for(rt, is_stopped, rt, TH_WAIT_MS));
	cr_assert_eq(atomic_load(&c.n), 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(faas_activation_status(c.acts[i]), FAAS_STATUS_SUCCESS, "call %d: %s",
		             i, faas_activation_error_type(c.acts[i]));
		cr_assert(th_json_eq(faas_activation_result(c.acts[i]), "60"));
	}
	cr_assert_eq(bill.records, 3);
	cr_assert_eq(atomic_load(&seen_cancel), 0);
	th_calls_clear(&c);
	th_rt_free(rt, &loop);
}

Test(runtime, drain_timeout_cancels_calls)
{
	uv_loop_t loop;
	faas_runtime_options o = th_ropts();
	faas_runtime *rt;
	th_billing bill;
	th_calls c;
	uint64_t t0;

	th_calls_init(&c);
	th_billing_init(&bill);
	th_loop_init(&loop);
	o.drain_timeout_ms = 50;
	o.threads = 4;
	o.billing = &bill.hook;
	rt = th_rt_new(&loop, &o);
	th_register_static(rt, "quick", quick);
	th_register_static(rt, "stuck", until_cancelled);
	cr_assert_eq(th_invoke(rt, "quick", NULL, &c), 0);
	cr_assert_eq(th_invoke(rt, "stuck", NULL, &c), 0);
	cr_assert_eq(th_invoke(rt, "stuck", NULL, &c), 0);
	/* Let the handlers start. */
	th_spin(rt, 20);
	t0 = th_now_ms();
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert(th_wait_for(rt, is_stopped, rt, TH_WAIT_MS));
	cr_assert_geq(th_now_ms() - t0, 45, "drained too early");
	cr_assert_lt(th_now_ms() - t0, 50 + 500, "drain timeout not enforced");
	cr_assert_eq(atomic_load(&c.n), 3);

	int canceled = 0, success = 0;
	for (int i = 0; i < 3; i++) {
		faas_activation *a = c.acts[i];

		if (faas_activation_status(a) == FAAS_STATUS_SUCCESS) {
			success++;
			cr_assert_str_eq(faas_activation_function(a), "quick");
		} else {
			canceled++;
			cr_assert_eq(faas_activation_status(a), FAAS_STATUS_INTERNAL_ERROR);
			cr_assert_str_eq(faas_activation_error_type(a), "Runtime.Canceled");
			cr_assert_str_eq(faas_activation_function(a), "stuck");
			cr_assert(faas_activation_started(a));
			cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(a)), 1);
		}
	}
	cr_assert_eq(success, 1);
	cr_assert_eq(canceled, 2);
	cr_assert_eq(bill.records, 3, "one record per started invocation");
	cr_assert_eq(bill.by_status[FAAS_STATUS_INTERNAL_ERROR], 2);
	/* The handlers see the cancellation. */
	for (int i = 0; i < 1000 && atomic_load(&seen_cancel) < 2; i++)
		th_sleep_ms(1);
	cr_assert_eq(atomic_load(&seen_cancel), 2);
	th_calls_clear(&c);
	th_rt_free(rt, &loop);
}

Test(runtime, free_cancels_in_flight_host_loop)
{
	uv_loop_t loop;
	faas_runtime_options o = th_ropts();
	faas_runtime *rt;
	th_billing bill;
	th_calls c;

	th_calls_init(&c);
	th_billing_init(&bill);
	th_loop_init(&loop);
	o.billing = &bill.hook;
	o.threads = 2;
	rt = th_rt_new(&loop, &o);
	th_register_static(rt, "stuck", until_cancelled);
	cr_assert_eq(th_invoke(rt, "stuck", NULL, &c), 0);
	th_spin(rt, 20);
	th_rt_free(rt, &loop);
	cr_assert_eq(atomic_load(&c.n), 1);
	cr_assert_eq(faas_activation_status(c.acts[0]), FAAS_STATUS_INTERNAL_ERROR);
	cr_assert_str_eq(faas_activation_error_type(c.acts[0]), "Runtime.Canceled");
	cr_assert_eq(bill.records, 1);
	cr_assert_eq(bill.frees, 0, "a host billing hook is borrowed, never freed");
	/* The activation outlives the runtime. */
	cr_assert(th_is_hex_id(faas_activation_id(c.acts[0])));
	th_calls_clear(&c);
}

Test(runtime, free_cancels_in_flight_own_loop)
{
	faas_runtime_options o = th_ropts();
	faas_runtime *rt;
	th_billing bill;
	th_calls c;

	th_calls_init(&c);
	th_billing_init(&bill);
	o.billing = &bill.hook;
	rt = th_rt_new(NULL, &o);
	th_register_static(rt, "stuck", until_cancelled);
	th_register_static(rt, "quick", quick);
	cr_assert_eq(th_invoke(rt, "stuck", NULL, &c), 0);
	cr_assert_eq(th_invoke(rt, "quick", NULL, &c), 0);
	th_wait(rt, &handler_calls, 2, TH_WAIT_MS);
	faas_runtime_free(rt);
	/* With its own loop, the callbacks ran before free returned. */
	cr_assert_eq(atomic_load(&c.n), 2);
	cr_assert_eq(bill.records, 2);
	bool saw_cancel = false;
	for (int i = 0; i < 2; i++)
		if (faas_activation_status(c.acts[i]) == FAAS_STATUS_INTERNAL_ERROR) {
			saw_cancel = true;
			cr_assert_str_eq(faas_activation_error_type(c.acts[i]), "Runtime.Canceled");
		}
	cr_assert(saw_cancel);
	th_calls_clear(&c);
}

Test(runtime, free_with_queued_calls)
{
	uv_loop_t loop;
	faas_runtime_options o = th_ropts();
	faas_runtime *rt;
	th_calls c;

	th_calls_init(&c);
	th_loop_init(&loop);
	o.threads = 1;
	rt = th_rt_new(&loop, &o);
	th_register_static(rt, "stuck", until_cancelled);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(th_invoke(rt, "stuck", NULL, &c), 0);
	th_rt_free(rt, &loop);
	cr_assert_eq(atomic_load(&c.n), 5, "every accepted call calls back once");
	for (int i = 0; i < 5; i++)
		cr_assert_eq(faas_activation_status(c.acts[i]), FAAS_STATUS_INTERNAL_ERROR);
	cr_assert_eq(c.sync_calls, 0);
	th_calls_clear(&c);
}

/* ---- stats ---- */

Test(runtime, stats_count_statuses_and_threads)
{
	uv_loop_t loop;
	faas_runtime_options o = th_ropts();
	faas_runtime *rt;
	faas_runtime_stats st;
	faas_activation *act;

	th_loop_init(&loop);
	o.threads = 3;
	rt = th_rt_new(&loop, &o);
	memset(&st, 0xff, sizeof(st));
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.threads, 3);
	cr_assert_eq(st.stuck_threads, 0);
	cr_assert_eq(st.in_flight, 0);
	cr_assert_eq(st.cold_starts, 0);
	for (int i = 0; i < FAAS_STATUS_COUNT; i++)
		cr_assert_eq(st.activations[i], 0);

	th_register_lib(rt, "ok", FX("ok"), "ok");
	th_register_lib(rt, "err", FX("error"), "returns_error");
	for (int i = 0; i < 4; i++) {
		act = th_call(rt, "ok", "{}");
		faas_activation_free(act);
	}
	act = th_call(rt, "err", NULL);
	faas_activation_free(act);

	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.activations[FAAS_STATUS_SUCCESS], 4);
	cr_assert_eq(st.activations[FAAS_STATUS_APPLICATION_ERROR], 1);
	cr_assert_eq(st.cold_starts, 2, "one cold start per shared object");
	cr_assert_eq(st.in_flight, 0);
	cr_assert_eq(st.threads, 3);
	th_rt_free(rt, &loop);
}

Test(runtime, stats_in_flight)
{
	uv_loop_t loop;
	faas_runtime *rt;
	faas_runtime_stats st;
	th_calls c;

	th_calls_init(&c);
	th_loop_init(&loop);
	rt = th_rt_new(&loop, NULL);
	th_register_static(rt, "slow", sleeper);
	cr_assert_eq(th_invoke(rt, "slow", "{\"ms\":50}", &c), 0);
	cr_assert_eq(th_invoke(rt, "slow", "{\"ms\":50}", &c), 0);
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.in_flight, 2);
	cr_assert(th_wait(rt, &c.n, 2, TH_WAIT_MS));
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.in_flight, 0);
	cr_assert_eq(st.activations[FAAS_STATUS_SUCCESS], 2);
	th_calls_clear(&c);
	th_rt_free(rt, &loop);
}

Test(runtime, default_threads)
{
	faas_runtime *rt = th_rt_new(NULL, NULL);
	faas_runtime_stats st;

	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_geq(st.threads, 4, "0 threads means max(4, 2 x CPUs)");
	th_rt_free(rt, NULL);
}

Test(runtime, last_error_per_runtime)
{
	faas_runtime *a = th_rt_new(NULL, NULL);
	faas_runtime *b = th_rt_new(NULL, NULL);
	faas_fn_options fo = th_fopts_lib("/nonexistent/libnope.so", "x");

	cr_assert_eq(faas_fn_register(NULL, a, "f", &fo), FAAS_ELOAD);
	cr_assert_str_neq(faas_runtime_last_error(a), "");
	cr_assert_str_eq(faas_runtime_last_error(b), "");
	th_rt_free(b, NULL);
	th_rt_free(a, NULL);
}

Test(runtime, second_stop_cancels_at_once)
{
	uv_loop_t loop;
	faas_runtime_options o = th_ropts();
	faas_runtime *rt;
	th_billing bill;
	th_calls c;
	uint64_t t0;

	th_calls_init(&c);
	th_billing_init(&bill);
	th_loop_init(&loop);
	o.drain_timeout_ms = 10000;
	o.billing = &bill.hook;
	rt = th_rt_new(&loop, &o);
	th_register_static(rt, "stuck", until_cancelled);
	cr_assert_eq(th_invoke(rt, "stuck", NULL, &c), 0);
	cr_assert_eq(th_invoke(rt, "stuck", NULL, &c), 0);
	th_spin(rt, 20);
	cr_assert_eq(faas_runtime_stop(rt), 0);
	th_spin(rt, 30);
	cr_assert_eq(atomic_load(&c.n), 0, "still draining");
	cr_assert_not(faas_runtime_stopped(rt));
	t0 = th_now_ms();
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert(th_wait_for(rt, is_stopped, rt, TH_WAIT_MS));
	cr_assert_lt(th_now_ms() - t0, 500, "a second stop does not wait for the drain timeout");
	cr_assert_eq(atomic_load(&c.n), 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(faas_activation_status(c.acts[i]), FAAS_STATUS_INTERNAL_ERROR);
		cr_assert_str_eq(faas_activation_error_type(c.acts[i]), "Runtime.Canceled");
	}
	cr_assert_eq(bill.records, 2);
	/* After that, stop is a no-op. */
	cr_assert_eq(faas_runtime_stop(rt), 0);
	th_spin(rt, 10);
	cr_assert_eq(atomic_load(&c.n), 2);
	th_calls_clear(&c);
	th_rt_free(rt, &loop);
}

typedef struct chain {
	faas_runtime *rt;
	th_calls calls;
	int remaining;
	int errors;
} chain;

/* Invoking again from a completion callback is allowed (not invoke_sync). */
static void chain_next(const faas_activation *act, void *userdata)
{
	chain *ch = userdata;

	th_collect(act, &ch->calls);
	if (ch->remaining-- > 0 && faas_invoke(ch->rt, "f", NULL, chain_next, ch) != 0)
		ch->errors++;
}

Test(runtime, invoke_from_callback)
{
	uv_loop_t loop;
	chain ch;

	memset(&ch, 0, sizeof(ch));
	th_calls_init(&ch.calls);
	th_loop_init(&loop);
	ch.rt = th_rt_new(&loop, NULL);
	ch.remaining = 9;
	th_register_static(ch.rt, "f", quick);
	cr_assert_eq(faas_invoke(ch.rt, "f", NULL, chain_next, &ch), 0);
	cr_assert(th_wait(ch.rt, &ch.calls.n, 10, TH_WAIT_MS));
	cr_assert_eq(ch.errors, 0);
	th_spin(ch.rt, 10);
	cr_assert_eq(atomic_load(&ch.calls.n), 10);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(faas_activation_status(ch.calls.acts[i]), FAAS_STATUS_SUCCESS);
	th_calls_clear(&ch.calls);
	th_rt_free(ch.rt, &loop);
}

static bool stuck_is_zero(void *arg)
{
	faas_runtime_stats st;

	faas_runtime_stats_get(&st, arg);
	return st.stuck_threads == 0;
}

Test(runtime, pool_of_one_without_replacement_recovers)
{
	uv_loop_t loop;
	faas_runtime_options o = th_ropts();
	faas_runtime *rt;
	faas_fn_options fo;
	faas_runtime_stats st;
	faas_activation *act;
	th_calls c;
	volatile int *release;

	th_calls_init(&c);
	th_loop_init(&loop);
	o.threads = 1;
	o.max_stuck_threads = 0;
	rt = th_rt_new(&loop, &o);
	fo = th_fopts_lib(FX("loops"), "loops_forever");
	fo.timeout_ms = 50;
	th_register(rt, "forever", &fo);
	fo = th_fopts_static(quick);
	fo.timeout_ms = 2000;
	th_register(rt, "quick", &fo);
	cr_assert_eq(th_invoke(rt, "forever", NULL, &c), 0);
	cr_assert(th_wait(rt, &c.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(c.acts[0]), FAAS_STATUS_TIMEOUT);
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.threads, 0, "max_stuck_threads 0: no replacement");
	cr_assert_eq(st.stuck_threads, 1);
	/* With no live thread a call is refused at once rather than queued
	 * behind the stuck handler (issue 8: fail fast, never hang). */
	cr_assert_eq(th_invoke(rt, "quick", NULL, &c), 0);
	cr_assert(th_wait(rt, &c.n, 2, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(c.acts[1]), FAAS_STATUS_THROTTLED);
	cr_assert_str_eq(faas_activation_error_type(c.acts[1]), "Runtime.NoThreadAvailable");
	release = th_sym(FX("loops"), "fx_loops_release");
	cr_assert_not_null(release);
	*release = 1;
	cr_assert(th_wait_for(rt, stuck_is_zero, rt, TH_WAIT_MS));
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.threads, 1);
	cr_assert_eq(st.stuck_threads, 0);
	act = th_call(rt, "quick", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
	th_calls_clear(&c);
	th_rt_free(rt, &loop);
}

/* ---- faas_runtime_close: a host loop told when draining is over ---- */

typedef struct close_seen {
	int calls;                /* on_closed runs */
	int completed_then;       /* th_calls completed when on_closed ran */
	bool stopped_then;        /* faas_runtime_stopped() inside on_closed */
	int invoke_rc_then;       /* faas_invoke inside on_closed */
	bool on_test_thread;
	bool free_in_callback;    /* on_closed frees the runtime */
	pthread_t thread;
	th_calls *c;
} close_seen;

static void close_seen_init(close_seen *s, th_calls *c, bool free_in_callback)
{
	memset(s, 0, sizeof(*s));
	s->thread = pthread_self();
	s->c = c;
	s->free_in_callback = free_in_callback;
	s->completed_then = -1;
}

static void on_closed(faas_runtime *rt, void *userdata)
{
	close_seen *s = userdata;

	s->calls++;
	s->on_test_thread = pthread_equal(pthread_self(), s->thread);
	s->completed_then = s->c ? atomic_load(&s->c->n) : -1;
	s->stopped_then = faas_runtime_stopped(rt);
	s->invoke_rc_then = faas_invoke(rt, "quick", NULL, th_collect, s->c);
	if (s->free_in_callback)
		faas_runtime_free(rt);
}

/* Runs the host loop until the runtime's last handle closed (or 10 s). */
static void run_host_loop(uv_loop_t *loop)
{
	for (int i = 0; i < 10000 && uv_run(loop, UV_RUN_NOWAIT) != 0; i++)
		th_sleep_ms(1);
	cr_assert_eq(uv_run(loop, UV_RUN_NOWAIT), 0, "handles still open");
	cr_assert_eq(uv_loop_close(loop), 0, "the runtime left handles on the host loop");
}

Test(runtime, close_with_calls_in_flight_calls_back_once_after_them)
{
	uv_loop_t loop;
	faas_runtime *rt;
	close_seen seen;
	th_calls c;

	th_calls_init(&c);
	th_loop_init(&loop);
	rt = th_rt_new(&loop, NULL);
	th_register_static(rt, "slow", sleeper);
	th_register_static(rt, "quick", quick);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(th_invoke(rt, "slow", "{\"ms\":40}", &c), 0);
	close_seen_init(&seen, &c, true);
	cr_assert_eq(faas_runtime_close(rt, on_closed, &seen), 0, "%s",
		     faas_runtime_last_error(rt));
	cr_assert_eq(seen.calls, 0, "never inside faas_runtime_close");
	cr_assert_eq(faas_invoke(rt, "quick", NULL, th_collect, &c), FAAS_ESTOPPED);
	run_host_loop(&loop);

	cr_assert_eq(seen.calls, 1);
	cr_assert(seen.on_test_thread, "on the loop thread");
	cr_assert_eq(seen.completed_then, 3, "after every call's callback");
	cr_assert(seen.stopped_then);
	cr_assert_eq(seen.invoke_rc_then, FAAS_ESTOPPED);
	cr_assert_eq(atomic_load(&c.n), 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(faas_activation_status(c.acts[i]), FAAS_STATUS_SUCCESS,
			     "drained, not cancelled");
	th_calls_clear(&c);
}

Test(runtime, close_when_idle_calls_back_on_the_next_turn)
{
	uv_loop_t loop;
	faas_runtime *rt;
	close_seen seen;

	th_loop_init(&loop);
	rt = th_rt_new(&loop, NULL);
	close_seen_init(&seen, NULL, false);
	cr_assert_eq(faas_runtime_close(rt, on_closed, &seen), 0);
	cr_assert(faas_runtime_stopped(rt), "nothing to drain");
	cr_assert_eq(seen.calls, 0, "never inside faas_runtime_close");
	for (int i = 0; i < 100 && seen.calls == 0; i++)
		uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_eq(seen.calls, 1);
	/* The runtime is still there: close does not free it. */
	cr_assert(faas_runtime_stopped(rt));
	cr_assert_eq(faas_runtime_loop(rt), &loop);
	th_rt_free(rt, &loop);
	cr_assert_eq(seen.calls, 1, "free does not call it again");
}

Test(runtime, close_after_stop_calls_back_once)
{
	uv_loop_t loop;
	faas_runtime *rt;
	close_seen seen;

	th_loop_init(&loop);
	rt = th_rt_new(&loop, NULL);
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert(faas_runtime_stopped(rt));
	close_seen_init(&seen, NULL, true);
	cr_assert_eq(faas_runtime_close(rt, on_closed, &seen), 0);
	cr_assert_eq(seen.calls, 0);
	run_host_loop(&loop);
	cr_assert_eq(seen.calls, 1);
}

Test(runtime, close_twice_is_busy_and_calls_back_once)
{
	uv_loop_t loop;
	faas_runtime *rt;
	close_seen first, second;
	th_calls c;

	th_calls_init(&c);
	th_loop_init(&loop);
	rt = th_rt_new(&loop, NULL);
	th_register_static(rt, "slow", sleeper);
	th_register_static(rt, "quick", quick);
	cr_assert_eq(th_invoke(rt, "slow", "{\"ms\":30}", &c), 0);
	close_seen_init(&first, &c, false);
	close_seen_init(&second, &c, false);
	cr_assert_eq(faas_runtime_close(rt, on_closed, &first), 0);
	cr_assert_eq(faas_runtime_close(rt, on_closed, &second), FAAS_EBUSY);
	cr_assert_not_null(strstr(faas_runtime_last_error(rt), "closing"), "%s",
			   faas_runtime_last_error(rt));
	for (int i = 0; i < 5000 && first.calls == 0; i++) {
		uv_run(&loop, UV_RUN_NOWAIT);
		th_sleep_ms(1);
	}
	cr_assert_eq(first.calls, 1);
	cr_assert_eq(first.completed_then, 1);
	/* Also after the callback ran. */
	cr_assert_eq(faas_runtime_close(rt, on_closed, &second), FAAS_EBUSY);
	th_rt_free(rt, &loop);
	cr_assert_eq(first.calls, 1);
	cr_assert_eq(second.calls, 0, "a refused close never calls back");
	th_calls_clear(&c);
}

/* Free before the drain ended: the calls are cancelled, their callbacks run,
 * then on_closed, inside free; its own free is a no-op. */
Test(runtime, close_then_free_calls_back_inside_free)
{
	uv_loop_t loop;
	faas_runtime_options o = th_ropts();
	faas_runtime *rt;
	close_seen seen;
	th_calls c;

	th_calls_init(&c);
	th_loop_init(&loop);
	o.threads = 2;
	rt = th_rt_new(&loop, &o);
	th_register_static(rt, "stuck", until_cancelled);
	th_register_static(rt, "quick", quick);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(th_invoke(rt, "stuck", NULL, &c), 0);
	for (int i = 0; i < 1000 && atomic_load(&handler_calls) < 2; i++)
		th_sleep_ms(1);
	close_seen_init(&seen, &c, true);
	cr_assert_eq(faas_runtime_close(rt, on_closed, &seen), 0);
	faas_runtime_free(rt);
	cr_assert_eq(seen.calls, 1, "inside free");
	cr_assert_eq(seen.completed_then, 2, "after the cancelled calls' callbacks");
	cr_assert(seen.stopped_then);
	cr_assert_eq(seen.invoke_rc_then, FAAS_ESTOPPED);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(faas_activation_status(c.acts[i]), FAAS_STATUS_INTERNAL_ERROR);
		cr_assert_str_eq(faas_activation_error_type(c.acts[i]), "Runtime.Canceled");
	}
	run_host_loop(&loop);
	cr_assert_eq(seen.calls, 1);
	th_calls_clear(&c);
}

/* A second stop still cuts the drain short after a close. */
Test(runtime, stop_after_close_cancels_and_calls_back_once)
{
	uv_loop_t loop;
	faas_runtime *rt;
	close_seen seen;
	th_calls c;

	th_calls_init(&c);
	th_loop_init(&loop);
	rt = th_rt_new(&loop, NULL);
	th_register_static(rt, "stuck", until_cancelled);
	th_register_static(rt, "quick", quick);
	cr_assert_eq(th_invoke(rt, "stuck", NULL, &c), 0);
	close_seen_init(&seen, &c, true);
	cr_assert_eq(faas_runtime_close(rt, on_closed, &seen), 0);
	cr_assert_eq(faas_runtime_stop(rt), 0);
	run_host_loop(&loop);
	cr_assert_eq(seen.calls, 1);
	cr_assert_eq(seen.completed_then, 1);
	cr_assert_eq(faas_activation_status(c.acts[0]), FAAS_STATUS_INTERNAL_ERROR);
	th_calls_clear(&c);
}

Test(runtime, free_without_close_still_works)
{
	uv_loop_t loop;
	faas_runtime *rt;
	th_calls c;

	th_calls_init(&c);
	th_loop_init(&loop);
	rt = th_rt_new(&loop, NULL);
	th_register_static(rt, "slow", sleeper);
	cr_assert_eq(th_invoke(rt, "slow", "{\"ms\":5}", &c), 0);
	cr_assert(th_wait(rt, &c.n, 1, TH_WAIT_MS));
	th_rt_free(rt, &loop);
	cr_assert_eq(faas_activation_status(c.acts[0]), FAAS_STATUS_SUCCESS);
	th_calls_clear(&c);
}

Test(runtime, close_refuses_bad_arguments_and_an_owned_loop)
{
	faas_runtime *rt = th_rt_new(NULL, NULL);
	close_seen seen;

	close_seen_init(&seen, NULL, false);
	cr_assert_eq(faas_runtime_close(NULL, on_closed, &seen), FAAS_EINVAL);
	cr_assert_not_null(strstr(faas_runtime_last_error(NULL), "rt is NULL"));
	cr_assert_eq(faas_runtime_close(rt, NULL, &seen), FAAS_EINVAL);
	cr_assert_eq(faas_runtime_close(rt, on_closed, &seen), FAAS_EINVAL);
	cr_assert_not_null(strstr(faas_runtime_last_error(rt), "host loop"), "%s",
			   faas_runtime_last_error(rt));
	cr_assert_not(faas_runtime_stopped(rt), "a refused close does not stop");
	faas_runtime_free(rt);
	cr_assert_eq(seen.calls, 0);
}

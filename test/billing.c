/* Billing: the hook contract (admit, one record per started call), the
 * default hook's totals, pricing and budget. */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(billing, .timeout = 60);

static uv_loop_t loop;
static faas_runtime *rt;
static th_calls calls;
static th_billing bill;
static atomic_int gate_open;

static atomic_int quick_calls;

static int quick(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	atomic_fetch_add(&quick_calls, 1);
	*result = cJSON_CreateTrue();
	return 0;
}

static int sleeps(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	const cJSON *ms = cJSON_GetObjectItem(event, "ms");

	(void)ctx;
	th_sleep_ms(cJSON_IsNumber(ms) ? (unsigned int)ms->valuedouble : 5);
	*result = cJSON_CreateTrue();
	return 0;
}

static int gate(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	for (int i = 0; i < 10000 && !atomic_load(&gate_open); i++) {
		if (faas_ctx_cancelled(ctx))
			return faas_ctx_error(ctx, "Cancelled", "cancelled at the gate");
		th_sleep_ms(1);
	}
	*result = cJSON_CreateTrue();
	return 0;
}

static void setup_with(faas_runtime_options *o)
{
	th_calls_init(&calls);
	th_loop_init(&loop);
	rt = th_rt_new(&loop, o);
}

/* A runtime with the counting host hook. */
static void setup_hook(void)
{
	faas_runtime_options o = th_ropts();

	th_billing_init(&bill);
	o.billing = &bill.hook;
	o.threads = 4;
	setup_with(&o);
}

/* A runtime with the default hook. */
static void setup_default(void)
{
	faas_runtime_options o = th_ropts();

	o.threads = 4;
	setup_with(&o);
}

static void teardown(void)
{
	atomic_store(&gate_open, 1);
	th_rt_free(rt, &loop);
	th_calls_clear(&calls);
}

/* ---- the hook contract ---- */

Test(billing, one_record_per_started_call, .init = setup_hook, .fini = teardown)
{
	faas_activation *act;

	th_register_static(rt, "q", quick);
	for (int i = 0; i < 10; i++) {
		act = th_call(rt, "q", NULL);
		cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(act)), 1);
		faas_activation_free(act);
	}
	cr_assert_eq(bill.admits, 10);
	cr_assert_eq(bill.records, 10);
	cr_assert_eq(bill.by_status[FAAS_STATUS_SUCCESS], 10);
	cr_assert(bill.on_loop_thread, "admit and record run on the loop thread");
}

Test(billing, record_carries_the_usage, .init = setup_hook, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(sleeps);
	faas_activation *act;
	const faas_usage *u;

	fo.memory_mb = 1024;
	th_register(rt, "s", &fo);
	act = th_call(rt, "s", "{\"ms\":15}");
	u = faas_activation_usage(act);
	cr_assert_str_eq(bill.last_function, "s");
	cr_assert_str_eq(bill.last_id, faas_activation_id(act));
	cr_assert_eq(bill.last_usage.duration_us, u->duration_us);
	cr_assert_eq(bill.last_usage.billed_ms, u->billed_ms);
	cr_assert_eq(bill.last_usage.memory_mb, 1024);
	cr_assert_eq(bill.last_usage.status, FAAS_STATUS_SUCCESS);
	cr_assert_eq(bill.last_usage.max_memory_bytes, u->max_memory_bytes);
	cr_assert_eq(bill.last_usage.bytes_in, u->bytes_in);
	cr_assert_eq(bill.last_usage.bytes_out, u->bytes_out);
	cr_assert_geq(u->duration_us, 15000);
	cr_assert_geq(u->billed_ms, 15);
	faas_activation_free(act);
}

Test(billing, billed_ms_rounds_up_to_the_millisecond, .init = setup_hook, .fini = teardown)
{
	faas_activation *act;
	const faas_usage *u;

	th_register_static(rt, "s", sleeps);
	act = th_call(rt, "s", "{\"ms\":3}");
	u = faas_activation_usage(act);
	cr_assert_geq(u->billed_ms * 1000, u->duration_us);
	cr_assert_lt(u->billed_ms * 1000, u->duration_us + 1000);
	faas_activation_free(act);
}

Test(billing, granularity)
{
	faas_runtime_options o = th_ropts();
	faas_activation *act;
	const faas_usage *u;

	th_billing_init(&bill);
	o.billing = &bill.hook;
	o.pricing.granularity_ms = 100;
	setup_with(&o);
	th_register_static(rt, "s", sleeps);
	act = th_call(rt, "s", "{\"ms\":5}");
	u = faas_activation_usage(act);
	cr_assert_eq(u->billed_ms, 100, "5 ms rounds up to 100 ms");
	faas_activation_free(act);
	act = th_call(rt, "s", "{\"ms\":105}");
	cr_assert_eq(faas_activation_usage(act)->billed_ms, 200);
	faas_activation_free(act);
	teardown();
}

Test(billing, no_record_for_throttled_or_rejected, .init = setup_hook, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(gate);
	faas_fn *fn;
	faas_activation *act;

	fo.max_concurrency = 1;
	th_register(rt, "g", &fo);
	fo = th_fopts_static(quick);
	fo.payload_limit = 8;
	th_register(rt, "small", &fo);
	fo = th_fopts_static(quick);
	cr_assert_eq(faas_fn_register(&fn, rt, "off", &fo), 0);
	cr_assert_eq(faas_fn_set_enabled(fn, false), 0);

	cr_assert_eq(th_invoke(rt, "g", NULL, &calls), 0);
	act = th_call(rt, "g", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_THROTTLED);
	faas_activation_free(act);
	act = th_call(rt, "small", "\"0123456789abcdef\"");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_REJECTED);
	faas_activation_free(act);
	act = th_call(rt, "off", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_REJECTED);
	faas_activation_free(act);

	cr_assert_eq(bill.records, 0);
	cr_assert_eq(bill.admits, 1, "only the call that passed the limits is admitted");
	atomic_store(&gate_open, 1);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(bill.records, 1);
}

Test(billing, host_admit_refusal_rejects, .init = setup_hook, .fini = teardown)
{
	faas_activation *act;

	th_register_static(rt, "q", quick);
	bill.admit_rc = FAAS_EBUSY;
	act = th_call(rt, "q", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_REJECTED);
	cr_assert_str_eq(faas_activation_error_type(act), "Billing.Rejected");
	cr_assert_not(faas_activation_started(act));
	faas_activation_free(act);
	cr_assert_eq(bill.admits, 1);
	cr_assert_eq(bill.records, 0);
	cr_assert_eq(atomic_load(&quick_calls), 0, "a refused call never runs");

	bill.admit_rc = 0;
	act = th_call(rt, "q", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
	cr_assert_eq(bill.records, 1);
}

Test(billing, admit_sees_function_and_payload, .init = setup_hook, .fini = teardown)
{
	const char *json = "{\"k\": \"0123456789\"}";
	faas_activation *act;

	th_register_static(rt, "q", quick);
	cr_assert_eq(faas_invoke_payload(rt, "q", json, strlen(json), th_collect, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_str_eq(bill.last_admit_function, "q");
	cr_assert_eq(bill.last_admit_payload, strlen(json));
	cr_assert_eq(faas_activation_usage(calls.acts[0])->bytes_in, strlen(json));
	act = th_call(rt, "q", "[1,2,3]");
	cr_assert_eq(bill.last_admit_payload, faas_activation_usage(act)->bytes_in);
	cr_assert_gt(bill.last_admit_payload, 0);
	faas_activation_free(act);
}

Test(billing, null_admit_and_record_allowed)
{
	faas_runtime_options o = th_ropts();
	faas_billing_hook hook = {FAAS_BILLING_HOOK_VERSION, NULL, NULL, NULL};
	faas_activation *act;

	o.billing = &hook;
	setup_with(&o);
	th_register_static(rt, "q", quick);
	act = th_call(rt, "q", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
	teardown();
}

Test(billing, host_hook_not_freed, .init = setup_hook)
{
	th_rt_free(rt, &loop);
	cr_assert_eq(bill.frees, 0);
}

Test(billing, totals_and_budget_unsupported_with_host_hook, .init = setup_hook, .fini = teardown)
{
	faas_billing_totals t;

	th_register_static(rt, "q", quick);
	cr_assert_eq(faas_billing_totals_get(&t, rt, "q"), FAAS_ENOTSUP);
	cr_assert_eq(faas_billing_totals_get(&t, rt, NULL), FAAS_ENOTSUP);
	cr_assert_eq(faas_billing_budget_set(rt, "q", 1.0), FAAS_ENOTSUP);
}

/* ---- the default hook ---- */

Test(billing, default_totals_match_usage, .init = setup_default, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(sleeps);
	faas_billing_totals t;
	uint64_t billed = 0;
	double gbs, cost;

	fo.memory_mb = 2048;
	th_register(rt, "s", &fo);
	for (int i = 0; i < 3; i++) {
		faas_activation *act = th_call(rt, "s", "{\"ms\":10}");

		billed += faas_activation_usage(act)->billed_ms;
		faas_activation_free(act);
	}
	memset(&t, 0xff, sizeof(t));
	cr_assert_eq(faas_billing_totals_get(&t, rt, "s"), 0);
	cr_assert_eq(t.requests, 3);
	cr_assert_eq(t.billed_ms, billed);
	gbs = 2048.0 / 1024.0 * (double)billed / 1000.0;
	cr_assert_float_eq(t.gb_seconds, gbs, 1e-9);
	cost = 3 * FAAS_DEFAULT_PRICE_REQUEST + gbs * FAAS_DEFAULT_PRICE_GB_SECOND;
	cr_assert_float_eq(t.cost_usd, cost, 1e-12);
	cr_assert_eq(t.budget_usd, 0.0);
	cr_assert_eq(t.refused, 0);
}

static void expect_versioned_totals(const faas_billing_totals *t)
{
	cr_assert_eq(t->version, FAAS_BILLING_TOTALS_VERSION);
	for (size_t i = 0; i < sizeof(t->reserved) / sizeof(t->reserved[0]); i++)
		cr_assert_eq(t->reserved[i], 0, "reserved[%zu]", i);
}

/* Every answer but FAAS_EINVAL writes the whole struct, version included. */
Test(billing, totals_get_writes_version, .init = setup_default, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(sleeps);
	faas_billing_totals t;

	_Static_assert(offsetof(faas_billing_totals, version) == 0, "version comes first");
	th_register(rt, "s", &fo);
	faas_activation_free(th_call(rt, "s", "{\"ms\":1}"));
	memset(&t, 0xa5, sizeof(t));
	cr_assert_eq(faas_billing_totals_get(&t, rt, "s"), 0);
	expect_versioned_totals(&t);
	cr_assert_eq(t.requests, 1);
	memset(&t, 0xa5, sizeof(t));
	cr_assert_eq(faas_billing_totals_get(&t, rt, NULL), 0);
	expect_versioned_totals(&t);
	cr_assert_eq(t.requests, 1);
	memset(&t, 0xa5, sizeof(t));
	cr_assert_eq(faas_billing_totals_get(&t, rt, "nobody"), FAAS_ENOTFOUND);
	expect_versioned_totals(&t);
	cr_assert_eq(t.requests, 0);
	cr_assert_eq(t.cost_usd, 0.0);
}

Test(billing, totals_get_writes_version_with_host_hook, .init = setup_hook, .fini = teardown)
{
	faas_billing_totals t;

	memset(&t, 0xa5, sizeof(t));
	cr_assert_eq(faas_billing_totals_get(&t, rt, "q"), FAAS_ENOTSUP);
	expect_versioned_totals(&t);
	cr_assert_eq(t.requests, 0);
}

Test(billing, default_totals_all_functions, .init = setup_default, .fini = teardown)
{
	faas_billing_totals a, b, all;
	faas_activation *act;

	th_register_static(rt, "a", quick);
	th_register_static(rt, "b", quick);
	for (int i = 0; i < 2; i++) {
		act = th_call(rt, "a", NULL);
		faas_activation_free(act);
	}
	act = th_call(rt, "b", NULL);
	faas_activation_free(act);
	cr_assert_eq(faas_billing_totals_get(&a, rt, "a"), 0);
	cr_assert_eq(faas_billing_totals_get(&b, rt, "b"), 0);
	cr_assert_eq(faas_billing_totals_get(&all, rt, NULL), 0);
	cr_assert_eq(a.requests, 2);
	cr_assert_eq(b.requests, 1);
	cr_assert_eq(all.requests, 3);
	cr_assert_eq(all.billed_ms, a.billed_ms + b.billed_ms);
	cr_assert_float_eq(all.cost_usd, a.cost_usd + b.cost_usd, 1e-15);
}

Test(billing, default_totals_unknown_function, .init = setup_default, .fini = teardown)
{
	faas_billing_totals t, zero;

	th_register_static(rt, "q", quick);
	memset(&t, 0xff, sizeof(t));
	memset(&zero, 0, sizeof(zero));
	cr_assert_eq(faas_billing_totals_get(&t, rt, "q"), FAAS_ENOTFOUND);
	cr_assert_eq(t.requests, 0);
	cr_assert_eq(t.billed_ms, 0);
	cr_assert_eq(t.cost_usd, 0.0);
	cr_assert_eq(t.refused, 0);
	cr_assert_eq(faas_billing_totals_get(&t, rt, "nobody"), FAAS_ENOTFOUND);
	cr_assert_eq(faas_billing_totals_get(NULL, rt, "q"), FAAS_EINVAL);
	cr_assert_eq(faas_billing_totals_get(&t, NULL, "q"), FAAS_EINVAL);
}

Test(billing, budget_rejects_once_reached)
{
	faas_runtime_options o = th_ropts();
	faas_billing_totals t;
	faas_activation *act;

	/* One dollar per request and nothing for time: the cost counts calls. */
	o.pricing.request_usd = 1.0;
	o.pricing.gb_second_usd = 0.0;
	setup_with(&o);
	th_register_static(rt, "q", quick);
	th_register_static(rt, "other", quick);
	cr_assert_eq(faas_billing_budget_set(rt, "q", 2.0), 0);
	for (int i = 0; i < 2; i++) {
		act = th_call(rt, "q", NULL);
		cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "call %d", i);
		faas_activation_free(act);
	}
	act = th_call(rt, "q", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_REJECTED);
	cr_assert_str_eq(faas_activation_error_type(act), "Billing.BudgetExceeded");
	cr_assert_not(faas_activation_started(act));
	faas_activation_free(act);

	cr_assert_eq(faas_billing_totals_get(&t, rt, "q"), 0);
	cr_assert_eq(t.requests, 2);
	cr_assert_float_eq(t.cost_usd, 2.0, 1e-9);
	cr_assert_float_eq(t.budget_usd, 2.0, 1e-12);
	cr_assert_eq(t.refused, 1);

	/* The budget is per function. */
	act = th_call(rt, "other", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);

	/* Raising it, then removing it, admits again. */
	cr_assert_eq(faas_billing_budget_set(rt, "q", 3.0), 0);
	act = th_call(rt, "q", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
	act = th_call(rt, "q", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_REJECTED);
	faas_activation_free(act);
	cr_assert_eq(faas_billing_budget_set(rt, "q", 0.0), 0);
	act = th_call(rt, "q", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
	cr_assert_eq(faas_billing_totals_get(&t, rt, "q"), 0);
	cr_assert_eq(t.requests, 4);
	cr_assert_eq(t.refused, 2);
	cr_assert_eq(t.budget_usd, 0.0);
	teardown();
}

Test(billing, budget_before_any_call, .init = setup_default, .fini = teardown)
{
	faas_activation *act;

	th_register_static(rt, "q", quick);
	/* A budget smaller than one request's price still admits the first
	 * call: the cost reaches the cap only once it is spent. */
	cr_assert_eq(faas_billing_budget_set(rt, "q", 1e-12), 0);
	act = th_call(rt, "q", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
	act = th_call(rt, "q", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_REJECTED);
	cr_assert_str_eq(faas_activation_error_type(act), "Billing.BudgetExceeded");
	faas_activation_free(act);
}

Test(billing, budget_bad_values, .init = setup_default, .fini = teardown)
{
	th_register_static(rt, "q", quick);
	cr_assert_eq(faas_billing_budget_set(rt, "q", -1.0), FAAS_EINVAL);
	cr_assert_eq(faas_billing_budget_set(rt, "q", NAN), FAAS_EINVAL);
	cr_assert_eq(faas_billing_budget_set(rt, "q", INFINITY), FAAS_EINVAL);
	cr_assert_eq(faas_billing_budget_set(NULL, "q", 1.0), FAAS_EINVAL);
}

Test(billing, unbilled_statuses_cost_nothing)
{
	faas_runtime_options o = th_ropts();
	faas_billing_totals t;

	o.drain_timeout_ms = 20;
	o.threads = 2;
	setup_with(&o);
	th_register_static(rt, "g", gate);
	cr_assert_eq(th_invoke(rt, "g", NULL, &calls), 0);
	th_spin(rt, 10);
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_INTERNAL_ERROR);
	cr_assert_eq(faas_activation_usage(calls.acts[0])->billed_ms, 0);
	int rc = faas_billing_totals_get(&t, rt, "g");
	cr_assert(rc == 0 || rc == FAAS_ENOTFOUND);
	cr_assert_eq(t.billed_ms, 0);
	cr_assert_eq(t.cost_usd, 0.0);
	teardown();
}

Test(billing, default_hook_bills_errors, .init = setup_default, .fini = teardown)
{
	faas_billing_totals t;
	faas_activation *act;

	th_register_lib(rt, "e", FX("error"), "returns_error");
	act = th_call(rt, "e", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_APPLICATION_ERROR);
	faas_activation_free(act);
	cr_assert_eq(faas_billing_totals_get(&t, rt, "e"), 0);
	cr_assert_eq(t.requests, 1);
	cr_assert_gt(t.cost_usd, 0.0);
}

/* ---- a mixed run: records == started activations ---- */

static int ignores_cancel_briefly(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	th_sleep_ms(300);
	*result = cJSON_CreateTrue();
	return 0;
}

Test(billing, mixed_run_records_equal_started)
{
	faas_runtime_options o = th_ropts();
	faas_fn_options fo;
	faas_fn *off;
	faas_runtime_stats st;
	int started = 0, total;

	th_billing_init(&bill);
	o.billing = &bill.hook;
	o.threads = 4;
	o.drain_timeout_ms = 100;
	setup_with(&o);

	th_register_lib(rt, "ok", FX("ok"), "ok");
	th_register_lib(rt, "err", FX("error"), "returns_error");
	th_register_lib(rt, "code", FX("error"), "returns_code");
	th_register_lib(rt, "init", FX("init_fails"), "never_called");
	fo = th_fopts_lib(FX("alloc_bomb"), "big_result");
	fo.result_limit = 100;
	th_register(rt, "big", &fo);
	th_register_lib(rt, "oom", FX("alloc_bomb"), "alloc_bomb");
	fo = th_fopts_lib(FX("loops"), "loops_forever");
	fo.timeout_ms = 50;
	th_register(rt, "forever", &fo);
	fo = th_fopts_static(gate);
	fo.max_concurrency = 1;
	th_register(rt, "gate", &fo);
	fo = th_fopts_static(quick);
	fo.payload_limit = 4;
	th_register(rt, "small", &fo);
	fo = th_fopts_static(quick);
	cr_assert_eq(faas_fn_register(&off, rt, "off", &fo), 0);
	cr_assert_eq(faas_fn_set_enabled(off, false), 0);
	th_register_static(rt, "slow", ignores_cancel_briefly);

	cr_assert_eq(th_invoke(rt, "ok", "{}", &calls), 0);
	cr_assert_eq(th_invoke(rt, "err", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "code", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "init", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "big", "{\"size\":1000}", &calls), 0);
	cr_assert_eq(th_invoke(rt, "oom", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "forever", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "gate", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "gate", NULL, &calls), 0);           /* throttled */
	cr_assert_eq(th_invoke(rt, "small", "\"toolong\"", &calls), 0); /* rejected */
	cr_assert_eq(th_invoke(rt, "off", NULL, &calls), 0);            /* rejected */
	cr_assert(th_wait(rt, &calls.n, 10, TH_WAIT_MS), "all but the gate complete");
	/* The gate and a slow call are cancelled by a stop past the drain timeout. */
	cr_assert_eq(th_invoke(rt, "slow", NULL, &calls), 0);
	th_spin(rt, 10);
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert(th_wait(rt, &calls.n, 12, TH_WAIT_MS));
	total = atomic_load(&calls.n);
	cr_assert_eq(total, 12);

	int seen[FAAS_STATUS_COUNT] = {0};
	for (int i = 0; i < total; i++) {
		faas_status s = faas_activation_status(calls.acts[i]);

		seen[s]++;
		if (faas_activation_started(calls.acts[i])) {
			started++;
			cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(calls.acts[i])),
			             1, "%s: one record", faas_activation_function(calls.acts[i]));
		} else {
			cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(calls.acts[i])),
			             0);
		}
	}
	for (int s = 0; s < FAAS_STATUS_COUNT; s++)
		cr_assert_gt(seen[s], 0, "no activation ended %s", faas_status_name(s));
	cr_assert_eq(seen[FAAS_STATUS_SUCCESS], 1);
	cr_assert_eq(seen[FAAS_STATUS_APPLICATION_ERROR], 2);
	cr_assert_eq(seen[FAAS_STATUS_DEVELOPER_ERROR], 2);
	cr_assert_eq(seen[FAAS_STATUS_TIMEOUT], 1);
	cr_assert_eq(seen[FAAS_STATUS_OOM], 1);
	cr_assert_eq(seen[FAAS_STATUS_THROTTLED], 1);
	cr_assert_eq(seen[FAAS_STATUS_REJECTED], 2);
	cr_assert_eq(seen[FAAS_STATUS_INTERNAL_ERROR], 2);
	cr_assert_eq(started, 9);
	cr_assert_eq(bill.records, started, "exactly one record per started invocation");
	for (int s = 0; s < FAAS_STATUS_COUNT; s++)
		if (s != FAAS_STATUS_THROTTLED && s != FAAS_STATUS_REJECTED)
			cr_assert_eq(bill.by_status[s], seen[s], "records of %s",
			             faas_status_name(s));
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	for (int s = 0; s < FAAS_STATUS_COUNT; s++)
		cr_assert_eq(st.activations[s], (uint64_t)seen[s], "stats of %s",
		             faas_status_name(s));

	volatile int *release = th_sym(FX("loops"), "fx_loops_release");
	if (release)
		*release = 1;
	teardown();
}

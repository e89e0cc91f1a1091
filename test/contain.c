/* Containment in thread mode (issue 8, item 1): deadlines from admission,
 * per-function queues served in turn, the per-function stuck limit, failing
 * fast with no live thread, and the degraded health and metrics. The stuck
 * handlers here ignore cancellation and poll a flag the test raises at its
 * end, so every thread returns before the runtime is freed. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"
#include "http_client.h"

TestSuite(contain, .timeout = 60);

/* Only so that a thread a failing test leaves behind ends by itself. */
#define STUCK_MAX_MS 30000

static uv_loop_t loop;
static faas_runtime *rt;
static th_calls calls, quick_calls;
static th_billing bill;

static atomic_int release;  /* stuck and held handlers return */
static atomic_int returned; /* stuck handlers that returned */
static atomic_int slow_ran;
static atomic_uint_fast64_t remaining_at_start;

static void setup_rt(unsigned int threads, unsigned int max_stuck, unsigned int per_fn)
{
	faas_runtime_options o = th_ropts();

	atomic_store(&release, 0);
	atomic_store(&returned, 0);
	atomic_store(&slow_ran, 0);
	th_calls_init(&calls);
	th_calls_init(&quick_calls);
	th_billing_init(&bill);
	th_loop_init(&loop);
	o.threads = threads;
	o.max_stuck_threads = max_stuck;
	o.max_stuck_per_function = per_fn;
	o.billing = &bill.hook;
	rt = th_rt_new(&loop, &o);
}

static bool stuck_is_zero(void *arg)
{
	faas_runtime_stats st;

	faas_runtime_stats_get(&st, arg);
	return st.stuck_threads == 0;
}

/* Let every stuck handler return and wait for its thread, then free. */
static void teardown(void)
{
	atomic_store(&release, 1);
	cr_assert(th_wait_for(rt, stuck_is_zero, rt, TH_WAIT_MS), "stuck threads returned");
	th_rt_free(rt, &loop);
	th_calls_clear(&calls);
	th_calls_clear(&quick_calls);
}

/* Ignores its deadline and cancellation. */
static int stuck(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	for (int ms = 0; !atomic_load(&release) && ms < STUCK_MAX_MS; ms++)
		th_sleep_ms(1);
	atomic_fetch_add(&returned, 1);
	*result = cJSON_CreateString("late");
	return 0;
}

/* Slow but within its deadline: 300 ms, or less once released. */
static int slow(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	for (int ms = 0; !atomic_load(&release) && ms < 300; ms++)
		th_sleep_ms(1);
	atomic_fetch_add(&slow_ran, 1);
	*result = cJSON_CreateString("slow");
	return 0;
}

static int quick(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	*result = cJSON_CreateString("quick");
	return 0;
}

static int remaining(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	atomic_store(&remaining_at_start, faas_ctx_remaining_ms(ctx));
	*result = cJSON_CreateString("measured");
	return 0;
}

static void reg(const char *name, faas_handler_fn h, uint32_t timeout_ms)
{
	faas_fn_options fo = th_fopts_static(h);

	fo.timeout_ms = timeout_ms;
	th_register(rt, name, &fo);
}

static int count_status(th_calls *c, int n, faas_status status)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		k += faas_activation_status(c->acts[i]) == status;
	return k;
}

Test(contain, seventy_stuck_calls_leave_another_function_answering, .fini = teardown)
{
	enum { STUCK = 70, QUICK = 10 };
	faas_runtime_stats st;
	int started = 0;

	setup_rt(4, FAAS_DEFAULT_MAX_STUCK_THREADS, 0);
	reg("stuck", stuck, 100);
	reg("quick", quick, 1000);
	for (int i = 0; i < STUCK; i++)
		cr_assert_eq(th_invoke(rt, "stuck", NULL, &calls), 0);
	for (int i = 0; i < QUICK; i++) {
		uint64_t t0 = th_now_ms();

		cr_assert_eq(th_invoke(rt, "quick", NULL, &quick_calls), 0);
		cr_assert(th_wait(rt, &quick_calls.n, i + 1, 2000), "quick call %d answered", i);
		cr_assert_eq(faas_activation_status(quick_calls.acts[i]), FAAS_STATUS_SUCCESS,
		             "quick call %d: %s", i,
		             faas_activation_error_message(quick_calls.acts[i]));
		cr_assert_lt(quick_calls.at_ms[i] - t0, 1000, "within its own deadline");
		th_spin(rt, 20);
	}
	/* Every stuck call ended at its deadline, counted from admission. */
	cr_assert(th_wait(rt, &calls.n, STUCK, 2000));
	cr_assert_eq(count_status(&calls, STUCK, FAAS_STATUS_TIMEOUT), STUCK);
	for (int i = 0; i < STUCK; i++)
		started += faas_activation_started(calls.acts[i]);
	cr_assert_eq(bill.records, started + QUICK, "only started calls are billed");
	cr_assert_leq(started, 8, "the queued ones never started");
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_gt(st.threads, 0);
}

Test(contain, a_slow_functions_queue_does_not_delay_another, .fini = teardown)
{
	enum { SLOW = 20 };
	uint64_t t0;

	setup_rt(2, FAAS_DEFAULT_MAX_STUCK_THREADS, 0);
	reg("slow", slow, 10000);
	reg("quick", quick, 3000);
	for (int i = 0; i < SLOW; i++)
		cr_assert_eq(th_invoke(rt, "slow", NULL, &calls), 0);
	t0 = th_now_ms();
	cr_assert_eq(th_invoke(rt, "quick", NULL, &quick_calls), 0);
	cr_assert(th_wait(rt, &quick_calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(quick_calls.acts[0]), FAAS_STATUS_SUCCESS);
	/* One slow call's time at most (300 ms), not the ten rounds a single
	 * FIFO makes it wait. */
	cr_assert_lt(quick_calls.at_ms[0] - t0, 700, "took %llu ms",
	             (unsigned long long)(quick_calls.at_ms[0] - t0));
	cr_assert_lt(atomic_load(&slow_ran), SLOW / 2, "quick did not wait for the slow queue");
	atomic_store(&release, 1);
	cr_assert(th_wait(rt, &calls.n, SLOW, TH_WAIT_MS));
	cr_assert_eq(count_status(&calls, SLOW, FAAS_STATUS_SUCCESS), SLOW);
}

Test(contain, queued_call_times_out_from_admission_unbilled, .fini = teardown)
{
	const faas_activation *act;
	const faas_usage *u;
	uint64_t t0;

	setup_rt(1, FAAS_DEFAULT_MAX_STUCK_THREADS, 0);
	reg("hold", stuck, 5000);
	reg("short", quick, 100);
	cr_assert_eq(th_invoke(rt, "hold", NULL, &calls), 0);
	th_spin(rt, 20);
	t0 = th_now_ms();
	cr_assert_eq(th_invoke(rt, "short", NULL, &quick_calls), 0);
	cr_assert(th_wait(rt, &quick_calls.n, 1, 1000), "the queued call ended at its deadline");
	act = quick_calls.acts[0];
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_TIMEOUT);
	cr_assert_str_eq(faas_activation_error_type(act), "Sandbox.Timedout");
	cr_assert_str_eq(faas_activation_error_message(act), "Task timed out after 0.10 seconds");
	cr_assert_not(faas_activation_started(act), "it never started");
	u = faas_activation_usage(act);
	cr_assert_eq(u->billed_ms, 0);
	cr_assert_eq(u->duration_us, 0);
	cr_assert_geq(quick_calls.at_ms[0] - t0, 95);
	cr_assert_lt(quick_calls.at_ms[0] - t0, 400);
	cr_assert_eq(bill.records, 0, "no usage record for a call that never started");
	cr_assert_eq(atomic_load(&calls.n), 0, "the holder still runs");

	/* The holder finishes; the dropped call never runs. */
	atomic_store(&release, 1);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_SUCCESS);
	th_spin(rt, 30);
	cr_assert_eq(bill.records, 1);
	cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(act)), 0);
}

Test(contain, remaining_time_counts_the_wait_in_the_queue, .fini = teardown)
{
	setup_rt(1, FAAS_DEFAULT_MAX_STUCK_THREADS, 0);
	reg("hold", stuck, 5000);
	reg("measure", remaining, 1000);
	atomic_store(&remaining_at_start, 12345);
	cr_assert_eq(th_invoke(rt, "hold", NULL, &calls), 0);
	th_spin(rt, 20);
	cr_assert_eq(th_invoke(rt, "measure", NULL, &quick_calls), 0);
	th_spin(rt, 200);
	atomic_store(&release, 1);
	cr_assert(th_wait(rt, &quick_calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(quick_calls.acts[0]), FAAS_STATUS_SUCCESS);
	cr_assert_leq(atomic_load(&remaining_at_start), 810, "got %llu",
	              (unsigned long long)atomic_load(&remaining_at_start));
}

Test(contain, stuck_limit_throttles_the_function_only, .fini = teardown)
{
	const faas_activation *act;
	faas_activation *ok;
	faas_runtime_stats st;

	/* 0: half of the pool's 4 threads. */
	setup_rt(4, FAAS_DEFAULT_MAX_STUCK_THREADS, 0);
	reg("stuck", stuck, 50);
	reg("quick", quick, 1000);
	cr_assert_eq(th_invoke(rt, "stuck", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "stuck", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 2, TH_WAIT_MS));
	cr_assert_eq(count_status(&calls, 2, FAAS_STATUS_TIMEOUT), 2);
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.stuck_threads, 2);
	cr_assert_eq(st.threads, 4, "both were replaced");

	cr_assert_eq(th_invoke(rt, "stuck", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 3, 200), "refused at once");
	act = calls.acts[2];
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_THROTTLED);
	cr_assert_str_eq(faas_activation_error_type(act), "Runtime.FunctionStuck");
	cr_assert_str_eq(faas_activation_error_message(act),
	                 "Rate Exceeded. (stuck: 2 calls are stuck past their deadline)");
	cr_assert_not(faas_activation_started(act));
	cr_assert_eq(bill.records, 2, "the two timed-out calls only");

	/* Another function is not affected. */
	ok = th_call(rt, "quick", NULL);
	cr_assert_eq(faas_activation_status(ok), FAAS_STATUS_SUCCESS);
	faas_activation_free(ok);

	/* Once its threads return, the function takes calls again. */
	atomic_store(&release, 1);
	cr_assert(th_wait_for(rt, stuck_is_zero, rt, TH_WAIT_MS));
	ok = th_call(rt, "stuck", NULL);
	cr_assert_eq(faas_activation_status(ok), FAAS_STATUS_SUCCESS);
	faas_activation_free(ok);
}

Test(contain, a_function_at_its_stuck_limit_gets_no_thread, .fini = teardown)
{
	int started = 0;

	/* Limit 1, 4 threads: two calls run and get stuck at t=100 ms, ten
	 * more come at t=50 (two run on the free threads, eight wait until
	 * t=150). The replacements for the first two must not start the
	 * waiting ones: they end at their deadlines, never started. */
	setup_rt(4, FAAS_DEFAULT_MAX_STUCK_THREADS, 1);
	reg("stuck", stuck, 100);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(th_invoke(rt, "stuck", NULL, &calls), 0);
	th_spin(rt, 50);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(th_invoke(rt, "stuck", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 12, TH_WAIT_MS));
	cr_assert_eq(count_status(&calls, 12, FAAS_STATUS_TIMEOUT), 12);
	for (int i = 0; i < 12; i++)
		started += faas_activation_started(calls.acts[i]);
	/* Four when the free threads took theirs at once; fewer on a loaded
	 * machine (a thread late to wake finds the function at its limit). */
	cr_assert_leq(started, 4, "only calls that found a free thread ran: %d", started);
	cr_assert_geq(started, 2);
	cr_assert_eq(bill.records, started);
}

Test(contain, stuck_limit_option_is_honoured, .fini = teardown)
{
	setup_rt(4, FAAS_DEFAULT_MAX_STUCK_THREADS, 1);
	reg("stuck", stuck, 50);
	cr_assert_eq(th_invoke(rt, "stuck", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(th_invoke(rt, "stuck", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 2, 200));
	cr_assert_eq(faas_activation_status(calls.acts[1]), FAAS_STATUS_THROTTLED);
	cr_assert_str_eq(faas_activation_error_message(calls.acts[1]),
	                 "Rate Exceeded. (stuck: 1 call is stuck past its deadline)");
}

/* ---- no live thread: fail fast, and say degraded ---- */

static hc_response *get(hc *c, uint16_t port, const char *path)
{
	char req[256];

	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: a\r\n\r\n", path);
	hc_init(c, port);
	hc_send_str(c, req);
	hc_read(c, 1);
	hc_run(c, rt);
	cr_assert_eq(c->nresp, 1, "%s: %s", path, c->error);
	return &c->resp[0];
}

static cJSON *get_json(uint16_t port, const char *path, int *status)
{
	hc c;
	hc_response *r = get(&c, port, path);
	cJSON *j = cJSON_Parse(r->body);

	*status = r->status;
	hc_free(&c);
	cr_assert_not_null(j);
	return j;
}

static bool metrics_say(uint16_t port, const char *line)
{
	hc c;
	hc_response *r = get(&c, port, "/_faas/metrics");
	bool found = r->status == 200 && strstr(r->body, line) != NULL;

	hc_free(&c);
	return found;
}

static const char *jstr(const cJSON *j, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, key));
}

Test(contain, no_live_thread_fails_fast_and_health_says_degraded, .fini = teardown)
{
	faas_http_options ho = FAAS_HTTP_OPTIONS_INIT;
	faas_trigger *web;
	faas_runtime_stats st;
	uint16_t port;
	cJSON *j;
	int status;
	uint64_t t0;

	setup_rt(1, 0, 8);
	reg("stuck", stuck, 50);
	reg("quick", quick, 1000);
	ho.port = 0;
	cr_assert_eq(faas_trigger_http_new(&web, rt, "web", &ho), 0);
	port = faas_trigger_http_port(web);

	j = get_json(port, "/_faas/health", &status);
	cr_assert_eq(status, 200);
	cr_assert_str_eq(jstr(j, "status"), "ok");
	cJSON_Delete(j);
	cr_assert(metrics_say(port, "\nfaas_runtime_degraded 0\n"));

	cr_assert_eq(th_invoke(rt, "stuck", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_TIMEOUT);
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.threads, 0);

	/* Refused at once instead of queued behind a thread that may never
	 * return. */
	t0 = th_now_ms();
	cr_assert_eq(th_invoke(rt, "quick", NULL, &quick_calls), 0);
	cr_assert(th_wait(rt, &quick_calls.n, 1, 500), "failed fast");
	cr_assert_lt(quick_calls.at_ms[0] - t0, 100);
	cr_assert_eq(faas_activation_status(quick_calls.acts[0]), FAAS_STATUS_THROTTLED);
	cr_assert_str_eq(faas_activation_error_type(quick_calls.acts[0]),
	                 "Runtime.NoThreadAvailable");
	cr_assert(strstr(faas_activation_error_message(quick_calls.acts[0]),
	                 "no executor thread is left"),
	          "%s", faas_activation_error_message(quick_calls.acts[0]));

	j = get_json(port, "/_faas/health", &status);
	cr_assert_eq(status, 200, "degraded, not down");
	cr_assert_str_eq(jstr(j, "status"), "degraded");
	cr_assert(strstr(jstr(j, "reason"), "no executor thread"), "%s", jstr(j, "reason"));
	cJSON_Delete(j);
	cr_assert(metrics_say(port, "\nfaas_runtime_degraded 1\n"));

	atomic_store(&release, 1);
	cr_assert(th_wait_for(rt, stuck_is_zero, rt, TH_WAIT_MS));
	j = get_json(port, "/_faas/health", &status);
	cr_assert_str_eq(jstr(j, "status"), "ok");
	cJSON_Delete(j);
	cr_assert(metrics_say(port, "\nfaas_runtime_degraded 0\n"));
	cr_assert_eq(th_invoke(rt, "quick", NULL, &quick_calls), 0);
	cr_assert(th_wait(rt, &quick_calls.n, 2, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(quick_calls.acts[1]), FAAS_STATUS_SUCCESS);
}

Test(contain, stuck_calls_make_health_degraded, .fini = teardown)
{
	faas_http_options ho = FAAS_HTTP_OPTIONS_INIT;
	faas_trigger *web;
	cJSON *j;
	int status;

	setup_rt(4, FAAS_DEFAULT_MAX_STUCK_THREADS, 0);
	reg("stuck", stuck, 50);
	ho.port = 0;
	cr_assert_eq(faas_trigger_http_new(&web, rt, "web", &ho), 0);
	cr_assert_eq(th_invoke(rt, "stuck", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	j = get_json(faas_trigger_http_port(web), "/_faas/health", &status);
	cr_assert_eq(status, 200);
	cr_assert_str_eq(jstr(j, "status"), "degraded");
	cr_assert_str_eq(jstr(j, "reason"), "1 thread-mode call is stuck past its deadline");
	cJSON_Delete(j);
	cr_assert(metrics_say(faas_trigger_http_port(web), "\nfaas_runtime_degraded 1\n"));
}

/* ---- a process function whose init keeps failing ---- */

/* Unhealthy between retries of its init: the health route names it with its
 * init's failure, the metrics and the stats say so. Each failed retry
 * doubles the backoff (100 ms first), so a few calls open a window wide
 * enough to look through on a loaded machine. */
Test(contain, failing_init_makes_the_function_unhealthy, .fini = teardown)
{
	faas_http_options ho = FAAS_HTTP_OPTIONS_INIT;
	faas_fn_options fo = th_fopts_lib(FX("init_fails"), "never_called");
	faas_trigger *web;
	faas_fn_stats fs;
	faas_runtime_stats rs;
	cJSON *j = NULL;
	bool seen = false;
	int status;

	setup_rt(2, 0, 0);
	fo.isolation = FAAS_ISOLATION_PROCESS;
	th_register(rt, "broken", &fo);
	ho.port = 0;
	cr_assert_eq(faas_trigger_http_new(&web, rt, "web", &ho), 0);
	for (int i = 0; i < 6 && !seen; i++) {
		faas_activation *act = th_call(rt, "broken", "{}");

		cr_assert_str_eq(faas_activation_error_type(act), "Runtime.InitError");
		faas_activation_free(act);
		cr_assert_eq(faas_fn_stats_get(&fs, faas_fn_lookup(rt, "broken")), 0);
		cr_assert_eq(faas_runtime_stats_get(&rs, rt), 0);
		if (!fs.unhealthy)
			continue; /* the backoff was over before we looked */
		cr_assert_eq(rs.unhealthy_functions, 1);
		j = get_json(faas_trigger_http_port(web), "/_faas/health", &status);
		seen = strcmp(jstr(j, "status"), "degraded") == 0 &&
		       metrics_say(faas_trigger_http_port(web),
		                   "\nfaas_function_unhealthy{function=\"broken\"} 1\n") &&
		       metrics_say(faas_trigger_http_port(web), "\nfaas_runtime_degraded 1\n");
		if (!seen) {
			cJSON_Delete(j);
			j = NULL;
		}
	}
	cr_assert(seen, "never unhealthy");
	cr_assert_eq(status, 200);
	cr_assert_str_eq(jstr(j, "reason"), "1 function is unhealthy: its module init keeps failing");
	{
		const cJSON *list = cJSON_GetObjectItemCaseSensitive(j, "unhealthyFunctions");
		const cJSON *first = cJSON_GetArrayItem(list, 0);

		cr_assert_eq(cJSON_GetArraySize(list), 1);
		cr_assert_str_eq(jstr(first, "name"), "broken");
		cr_assert(strstr(jstr(first, "reason"), "module init of"), "%s",
		          jstr(first, "reason"));
	}
	cJSON_Delete(j);
	/* Unregistered, it is nobody's concern. */
	cr_assert_eq(faas_fn_unregister(rt, "broken"), 0);
	cr_assert_eq(faas_runtime_stats_get(&rs, rt), 0);
	cr_assert_eq(rs.unhealthy_functions, 0);
	j = get_json(faas_trigger_http_port(web), "/_faas/health", &status);
	cr_assert_str_eq(jstr(j, "status"), "ok");
	cJSON_Delete(j);
}

/* ---- an unregistered function with calls in its queue ---- */

Test(contain, unregistered_function_with_queued_calls, .fini = teardown)
{
	enum { QUEUED = 5 };

	setup_rt(1, FAAS_DEFAULT_MAX_STUCK_THREADS, 0);
	reg("hold", stuck, 5000);
	reg("gone", quick, 5000);
	reg("gone-early", quick, 60);
	cr_assert_eq(th_invoke(rt, "hold", NULL, &calls), 0);
	th_spin(rt, 20);
	for (int i = 0; i < QUEUED; i++) {
		cr_assert_eq(th_invoke(rt, "gone", NULL, &quick_calls), 0);
		cr_assert_eq(th_invoke(rt, "gone-early", NULL, &quick_calls), 0);
	}
	cr_assert_eq(faas_fn_unregister(rt, "gone"), 0);
	cr_assert_eq(faas_fn_unregister(rt, "gone-early"), 0);
	/* gone-early's calls time out in the queue, so its function is kept
	 * alive only by the queued entries the pool has yet to drop. */
	cr_assert(th_wait(rt, &quick_calls.n, QUEUED, TH_WAIT_MS));
	cr_assert_eq(count_status(&quick_calls, QUEUED, FAAS_STATUS_TIMEOUT), QUEUED);
	atomic_store(&release, 1);
	cr_assert(th_wait(rt, &quick_calls.n, 2 * QUEUED, TH_WAIT_MS));
	cr_assert_eq(count_status(&quick_calls, 2 * QUEUED, FAAS_STATUS_SUCCESS), QUEUED);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
}

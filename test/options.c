/* Option structs: _INIT and _init() agree; versions and bounds are checked. */
#include <float.h>
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(options, .timeout = 30);

static void same_runtime_options(const faas_runtime_options *a, const faas_runtime_options *b)
{
	cr_assert_eq(a->version, b->version);
	cr_assert_eq(a->loop, b->loop);
	cr_assert_eq(a->threads, b->threads);
	cr_assert_eq(a->max_concurrency, b->max_concurrency);
	cr_assert_eq(a->max_stuck_threads, b->max_stuck_threads);
	cr_assert_eq(a->log_sink, b->log_sink);
	cr_assert_eq(a->state, b->state);
	cr_assert_eq(a->billing, b->billing);
	cr_assert_eq(memcmp(&a->pricing.gb_second_usd, &b->pricing.gb_second_usd, sizeof(double)),
	             0);
	cr_assert_eq(memcmp(&a->pricing.request_usd, &b->pricing.request_usd, sizeof(double)), 0);
	cr_assert_eq(a->pricing.granularity_ms, b->pricing.granularity_ms);
	cr_assert_eq(a->default_timeout_ms, b->default_timeout_ms);
	cr_assert_eq(a->default_memory_mb, b->default_memory_mb);
	cr_assert_eq(a->activation_capacity, b->activation_capacity);
	cr_assert_eq(a->log_limit_bytes, b->log_limit_bytes);
	cr_assert_eq(a->drain_timeout_ms, b->drain_timeout_ms);
	cr_assert_eq(a->max_stuck_per_function, b->max_stuck_per_function);
}

static void same_fn_options(const faas_fn_options *a, const faas_fn_options *b)
{
	cr_assert_eq(a->version, b->version);
	cr_assert_eq(a->handler, b->handler);
	cr_assert_eq(a->library, b->library);
	cr_assert_eq(a->symbol, b->symbol);
	cr_assert_eq(a->fn_version, b->fn_version);
	cr_assert_eq(a->timeout_ms, b->timeout_ms);
	cr_assert_eq(a->memory_mb, b->memory_mb);
	cr_assert_eq(a->max_concurrency, b->max_concurrency);
	cr_assert_eq(a->isolation, b->isolation);
	cr_assert_eq(a->payload_limit, b->payload_limit);
	cr_assert_eq(a->result_limit, b->result_limit);
	cr_assert_eq(a->prewarm, b->prewarm);
	cr_assert_eq(a->keep_warm_ms, b->keep_warm_ms);
	cr_assert_eq(a->state_namespace, b->state_namespace);
	cr_assert_eq(a->process_min_workers, b->process_min_workers);
	cr_assert_eq(a->process_max_workers, b->process_max_workers);
	cr_assert_eq(a->process_prewarm, b->process_prewarm);
	cr_assert_eq(a->process_idle_ms, b->process_idle_ms);
	cr_assert_eq(a->process_seccomp, b->process_seccomp);
	cr_assert_eq(a->process_queue, b->process_queue);
}

Test(options, runtime_init_same_bytes_as_macro)
{
	faas_runtime_options a, b;
	static const faas_runtime_options init = FAAS_RUNTIME_OPTIONS_INIT;

	/* Static storage: the macro's padding is zero; so is b's after memset,
	 * and init() must not leave anything else behind. */
	memset(&a, 0, sizeof(a));
	memcpy(&a, &init, sizeof(a));
	memset(&b, 0, sizeof(b));
	cr_assert_eq(faas_runtime_options_init(&b, FAAS_RUNTIME_OPTIONS_VERSION), 0);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
}

Test(options, runtime_init_sets_every_field)
{
	faas_runtime_options a = FAAS_RUNTIME_OPTIONS_INIT;
	faas_runtime_options b;

	/* A field that init() forgot would keep this pattern. */
	memset(&b, 0xa5, sizeof(b));
	cr_assert_eq(faas_runtime_options_init(&b, FAAS_RUNTIME_OPTIONS_VERSION), 0);
	same_runtime_options(&a, &b);
}

Test(options, runtime_defaults_are_documented_values)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;

	cr_assert_eq(o.version, FAAS_RUNTIME_OPTIONS_VERSION);
	cr_assert_null(o.loop);
	cr_assert_eq(o.threads, 0);
	cr_assert_eq(o.max_concurrency, FAAS_DEFAULT_MAX_CONCURRENCY);
	cr_assert_eq(o.max_stuck_threads, FAAS_DEFAULT_MAX_STUCK_THREADS);
	cr_assert_null(o.log_sink);
	cr_assert_null(o.state);
	cr_assert_null(o.billing);
	cr_assert_float_eq(o.pricing.gb_second_usd, 0.0000166667, 1e-15);
	cr_assert_float_eq(o.pricing.request_usd, 0.2e-6, 1e-15);
	cr_assert_eq(o.pricing.granularity_ms, 1);
	cr_assert_eq(o.default_timeout_ms, 3000);
	cr_assert_eq(o.default_memory_mb, 128);
	cr_assert_eq(o.activation_capacity, 1000);
	cr_assert_eq(o.log_limit_bytes, 64 * 1024);
	cr_assert_eq(o.drain_timeout_ms, 10000);
	cr_assert_eq(o.max_stuck_per_function, 0, "0: half of the threads");
}

Test(options, runtime_init_wrong_version)
{
	faas_runtime_options o;

	cr_assert_eq(faas_runtime_options_init(&o, 0), FAAS_EINVAL);
	cr_assert_eq(faas_runtime_options_init(&o, FAAS_RUNTIME_OPTIONS_VERSION + 1), FAAS_EINVAL);
	cr_assert_eq(faas_runtime_options_init(&o, 0xffffffffu), FAAS_EINVAL);
	cr_assert_eq(faas_runtime_options_init(NULL, FAAS_RUNTIME_OPTIONS_VERSION), FAAS_EINVAL);
}

Test(options, fn_init_same_bytes_as_macro)
{
	faas_fn_options a, b;
	static const faas_fn_options init = FAAS_FN_OPTIONS_INIT;

	memset(&a, 0, sizeof(a));
	memcpy(&a, &init, sizeof(a));
	memset(&b, 0, sizeof(b));
	cr_assert_eq(faas_fn_options_init(&b, FAAS_FN_OPTIONS_VERSION), 0);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
}

Test(options, fn_init_sets_every_field)
{
	faas_fn_options a = FAAS_FN_OPTIONS_INIT;
	faas_fn_options b;

	memset(&b, 0xa5, sizeof(b));
	cr_assert_eq(faas_fn_options_init(&b, FAAS_FN_OPTIONS_VERSION), 0);
	same_fn_options(&a, &b);
}

Test(options, fn_defaults_are_documented_values)
{
	faas_fn_options o = FAAS_FN_OPTIONS_INIT;

	cr_assert_eq(o.version, FAAS_FN_OPTIONS_VERSION);
	cr_assert_null(o.handler);
	cr_assert_null(o.library);
	cr_assert_null(o.symbol);
	cr_assert_null(o.fn_version);
	cr_assert_eq(o.timeout_ms, 0);
	cr_assert_eq(o.memory_mb, 0);
	cr_assert_eq(o.max_concurrency, 0);
	cr_assert_eq(o.isolation, FAAS_ISOLATION_THREAD);
	cr_assert_eq(o.payload_limit, 0);
	cr_assert_eq(o.result_limit, 0);
	cr_assert_eq(o.prewarm, false);
	cr_assert_eq(o.keep_warm_ms, 0);
	cr_assert_null(o.state_namespace);
	cr_assert_eq(o.process_seccomp, FAAS_SECCOMP_OFF);
	cr_assert_eq(o.process_queue, 0, "0: the default, a multiple of the most workers");
}

Test(options, fn_init_wrong_version)
{
	faas_fn_options o;

	cr_assert_eq(faas_fn_options_init(&o, 0), FAAS_EINVAL);
	cr_assert_eq(faas_fn_options_init(&o, FAAS_FN_OPTIONS_VERSION + 1), FAAS_EINVAL);
	cr_assert_eq(faas_fn_options_init(NULL, FAAS_FN_OPTIONS_VERSION), FAAS_EINVAL);
}

/* faas_runtime_new with one bad option: FAAS_EINVAL, no runtime, and a
 * message that names the option. */
static void expect_bad_runtime_option(const faas_runtime_options *o, const char *needle,
                                      const char *needle2)
{
	faas_runtime *rt = (faas_runtime *)0x1;
	int rc = faas_runtime_new(&rt, o);
	const char *msg = faas_runtime_last_error(NULL);

	if (rc == 0)
		faas_runtime_free(rt);
	cr_assert_eq(rc, FAAS_EINVAL, "expected FAAS_EINVAL for %s, got %s", needle,
	             faas_err_name(rc));
	cr_assert_not_null(msg);
	cr_assert_not_null(strstr(msg, needle), "message \"%s\" should name \"%s\"", msg, needle);
	if (needle2 != NULL)
		cr_assert_not_null(strstr(msg, needle2), "message \"%s\" should contain \"%s\"",
		                   msg, needle2);
}

Test(options, runtime_new_wrong_version)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;

	o.version = FAAS_RUNTIME_OPTIONS_VERSION + 1;
	expect_bad_runtime_option(&o, "version", NULL);
}

Test(options, runtime_new_null_options_means_defaults)
{
	faas_runtime *rt = NULL;

	cr_assert_eq(faas_runtime_new(&rt, NULL), 0);
	cr_assert_not_null(rt);
	faas_runtime_free(rt);
}

Test(options, runtime_new_null_out)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;

	cr_assert_eq(faas_runtime_new(NULL, &o), FAAS_EINVAL);
}

Test(options, runtime_threads_bounds)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;
	faas_runtime *rt;

	o.threads = FAAS_MAX_THREADS + 1;
	expect_bad_runtime_option(&o, "threads", "0..1024");
	o.threads = 1;
	cr_assert_eq(faas_runtime_new(&rt, &o), 0);
	faas_runtime_free(rt);
}

Test(options, runtime_default_timeout_bounds)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;

	o.default_timeout_ms = FAAS_MAX_TIMEOUT_MS + 1;
	expect_bad_runtime_option(&o, "default_timeout_ms", "1..900000");
	o.default_timeout_ms = 0;
	expect_bad_runtime_option(&o, "default_timeout_ms", "1..900000");
}

Test(options, runtime_default_memory_bounds)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;

	o.default_memory_mb = FAAS_MIN_MEMORY_MB - 1;
	expect_bad_runtime_option(&o, "default_memory_mb", "128..10240");
	o.default_memory_mb = FAAS_MAX_MEMORY_MB + 1;
	expect_bad_runtime_option(&o, "default_memory_mb", "128..10240");
}

Test(options, runtime_activation_capacity_bounds)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;
	faas_runtime *rt;

	o.activation_capacity = 0;
	expect_bad_runtime_option(&o, "activation_capacity", NULL);
	o.activation_capacity = 1;
	cr_assert_eq(faas_runtime_new(&rt, &o), 0);
	faas_runtime_free(rt);
}

Test(options, runtime_log_limit_bounds)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;
	faas_runtime *rt;

	o.log_limit_bytes = 255;
	expect_bad_runtime_option(&o, "log_limit_bytes", "256");
	o.log_limit_bytes = 256;
	cr_assert_eq(faas_runtime_new(&rt, &o), 0);
	faas_runtime_free(rt);
}

Test(options, runtime_granularity_bounds)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;

	o.pricing.granularity_ms = 0;
	expect_bad_runtime_option(&o, "granularity", NULL);
}

Test(options, runtime_max_concurrency_bounds)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;

	o.max_concurrency = 0;
	expect_bad_runtime_option(&o, "max_concurrency", NULL);
}

Test(options, runtime_drain_timeout_bounds)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;
	faas_runtime *rt;

	o.drain_timeout_ms = FAAS_MAX_TIMEOUT_MS + 1;
	expect_bad_runtime_option(&o, "drain_timeout_ms", NULL);
	o.drain_timeout_ms = 0;
	cr_assert_eq(faas_runtime_new(&rt, &o), 0, "0 means cancel at once");
	faas_runtime_free(rt);
}

Test(options, runtime_max_stuck_per_function_bounds)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;
	faas_runtime *rt;

	o.max_stuck_per_function = 4097;
	expect_bad_runtime_option(&o, "max_stuck_per_function", NULL);
	o.max_stuck_per_function = 4096;
	cr_assert_eq(faas_runtime_new(&rt, &o), 0);
	faas_runtime_free(rt);
}

Test(options, runtime_prices_checked)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;

	o.pricing.gb_second_usd = -1.0;
	expect_bad_runtime_option(&o, "pricing", NULL);
	o = (faas_runtime_options)FAAS_RUNTIME_OPTIONS_INIT;
	o.pricing.request_usd = NAN;
	expect_bad_runtime_option(&o, "pricing", NULL);
	o = (faas_runtime_options)FAAS_RUNTIME_OPTIONS_INIT;
	o.pricing.gb_second_usd = INFINITY;
	expect_bad_runtime_option(&o, "pricing", NULL);
}

Test(options, runtime_state_backend_must_be_complete)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;
	faas_state_backend *mem;
	int (*get)(faas_state_backend *, const char *, char **, size_t *, uint64_t *);

	cr_assert_eq(faas_state_memory_new(&mem), 0);
	get = mem->get;
	mem->get = NULL;
	o.state = mem;
	expect_bad_runtime_option(&o, "state", NULL);
	mem->get = get;
	mem->free(mem);
}

Test(options, runtime_hook_versions_checked)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;
	th_billing bill;
	th_sink sink;
	faas_state_backend *mem;

	th_billing_init(&bill);
	bill.hook.version = FAAS_BILLING_HOOK_VERSION + 1;
	o.billing = &bill.hook;
	expect_bad_runtime_option(&o, "billing", NULL);

	o = (faas_runtime_options)FAAS_RUNTIME_OPTIONS_INIT;
	th_sink_init(&sink);
	sink.sink.version = FAAS_LOG_SINK_VERSION + 1;
	o.log_sink = &sink.sink;
	expect_bad_runtime_option(&o, "sink", NULL);

	o = (faas_runtime_options)FAAS_RUNTIME_OPTIONS_INIT;
	cr_assert_eq(faas_state_memory_new(&mem), 0);
	mem->version = FAAS_STATE_BACKEND_VERSION + 1;
	o.state = mem;
	expect_bad_runtime_option(&o, "state", NULL);
	mem->version = FAAS_STATE_BACKEND_VERSION;
	mem->free(mem);
}

Test(options, runtime_new_failure_returns_no_runtime)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;
	faas_runtime *rt = NULL;

	o.activation_capacity = 0;
	cr_assert_eq(faas_runtime_new(&rt, &o), FAAS_EINVAL);
	cr_assert_null(rt);
}

Test(options, fn_register_wrong_version)
{
	faas_runtime *rt = th_rt_new(NULL, NULL);
	faas_fn_options fo = FAAS_FN_OPTIONS_INIT;

	fo.library = FX("ok");
	fo.symbol = "ok";
	fo.version = FAAS_FN_OPTIONS_VERSION + 1;
	cr_assert_eq(faas_fn_register(NULL, rt, "f", &fo), FAAS_EINVAL);
	cr_assert_not_null(strstr(faas_runtime_last_error(rt), "version"), "%s",
	                   faas_runtime_last_error(rt));
	cr_assert_null(faas_fn_lookup(rt, "f"));
	th_rt_free(rt, NULL);
}

/* ---- hook tables (faas/sys/): _INIT and _init() agree too ---- */

Test(options, state_backend_init_same_bytes_as_macro)
{
	faas_state_backend a, b;
	static const faas_state_backend init = FAAS_STATE_BACKEND_INIT;

	memset(&a, 0, sizeof(a));
	memcpy(&a, &init, sizeof(a));
	memset(&b, 0xa5, sizeof(b));
	cr_assert_eq(faas_state_backend_init(&b, FAAS_STATE_BACKEND_VERSION), 0);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	cr_assert_eq(b.version, FAAS_STATE_BACKEND_VERSION);
	cr_assert(!b.get && !b.put && !b.del && !b.incr && !b.free);
}

Test(options, state_backend_init_wrong_version)
{
	faas_state_backend t;

	cr_assert_eq(faas_state_backend_init(&t, 0), FAAS_EINVAL);
	cr_assert_eq(faas_state_backend_init(&t, FAAS_STATE_BACKEND_VERSION + 1), FAAS_EINVAL);
	cr_assert_eq(faas_state_backend_init(NULL, FAAS_STATE_BACKEND_VERSION), FAAS_EINVAL);
}

Test(options, billing_hook_init_same_bytes_as_macro)
{
	faas_billing_hook a, b;
	static const faas_billing_hook init = FAAS_BILLING_HOOK_INIT;

	memset(&a, 0, sizeof(a));
	memcpy(&a, &init, sizeof(a));
	memset(&b, 0xa5, sizeof(b));
	cr_assert_eq(faas_billing_hook_init(&b, FAAS_BILLING_HOOK_VERSION), 0);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	cr_assert_eq(b.version, FAAS_BILLING_HOOK_VERSION);
	cr_assert(!b.admit && !b.record && !b.free);
}

Test(options, billing_hook_init_wrong_version)
{
	faas_billing_hook t;

	cr_assert_eq(faas_billing_hook_init(&t, 0), FAAS_EINVAL);
	cr_assert_eq(faas_billing_hook_init(&t, FAAS_BILLING_HOOK_VERSION + 1), FAAS_EINVAL);
	cr_assert_eq(faas_billing_hook_init(NULL, FAAS_BILLING_HOOK_VERSION), FAAS_EINVAL);
}

Test(options, log_sink_init_same_bytes_as_macro)
{
	faas_log_sink a, b;
	static const faas_log_sink init = FAAS_LOG_SINK_INIT;

	memset(&a, 0, sizeof(a));
	memcpy(&a, &init, sizeof(a));
	memset(&b, 0xa5, sizeof(b));
	cr_assert_eq(faas_log_sink_init(&b, FAAS_LOG_SINK_VERSION), 0);
	cr_assert_eq(memcmp(&a, &b, sizeof(a)), 0);
	cr_assert_eq(b.version, FAAS_LOG_SINK_VERSION);
	cr_assert_null(b.write);
}

Test(options, log_sink_init_wrong_version)
{
	faas_log_sink t;

	cr_assert_eq(faas_log_sink_init(&t, 0), FAAS_EINVAL);
	cr_assert_eq(faas_log_sink_init(&t, FAAS_LOG_SINK_VERSION + 1), FAAS_EINVAL);
	cr_assert_eq(faas_log_sink_init(NULL, FAAS_LOG_SINK_VERSION), FAAS_EINVAL);
}

/* A table built from the initialiser is accepted once its functions are set. */
static void discard_line(faas_log_sink *self, const char *request_id, const char *function,
                         const char *line, size_t len)
{
	(void)self;
	(void)request_id;
	(void)function;
	(void)line;
	(void)len;
}

Test(options, runtime_accepts_initialised_tables)
{
	faas_runtime_options o = FAAS_RUNTIME_OPTIONS_INIT;
	faas_log_sink sink = FAAS_LOG_SINK_INIT;
	faas_billing_hook hook;
	faas_runtime *rt = NULL;

	cr_assert_eq(faas_billing_hook_init(&hook, FAAS_BILLING_HOOK_VERSION), 0);
	o.billing = &hook; /* every function may be NULL */
	o.log_sink = &sink;
	cr_assert_eq(faas_runtime_new(&rt, &o), FAAS_EINVAL, "write is required");
	sink.write = discard_line;
	cr_assert_eq(faas_runtime_new(&rt, &o), 0, "%s", faas_runtime_last_error(NULL));
	faas_runtime_free(rt);
}

/* Functions: registration, bounds, load errors, shared objects, warmth. */
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(fn, .timeout = 30);

static int quick(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	*result = cJSON_CreateTrue();
	return 0;
}

static uv_loop_t loop;
static faas_runtime *rt;

static void setup(void)
{
	th_loop_init(&loop);
	rt = th_rt_new(&loop, NULL);
}

static void teardown(void)
{
	th_rt_free(rt, &loop);
}

static void expect_register_fails(const char *name, const faas_fn_options *fo, int want,
                                  const char *needle, const char *needle2)
{
	faas_fn *fn = (faas_fn *)0x1;
	int rc = faas_fn_register(&fn, rt, name, fo);
	const char *msg = faas_runtime_last_error(rt);

	cr_assert_eq(rc, want, "register \"%s\": want %s, got %s (%s)", name ? name : "(null)",
	             faas_err_name(want), faas_err_name(rc), msg);
	if (needle != NULL)
		cr_assert_not_null(strstr(msg, needle), "message \"%s\" should contain \"%s\"", msg,
		                   needle);
	if (needle2 != NULL)
		cr_assert_not_null(strstr(msg, needle2), "message \"%s\" should contain \"%s\"",
		                   msg, needle2);
	if (name != NULL && want != FAAS_EEXIST)
		cr_assert_null(faas_fn_lookup(rt, name), "a failed registration left \"%s\"", name);
}

/* ---- registration ---- */

Test(fn, register_static_and_lookup, .init = setup, .fini = teardown)
{
	faas_fn *fn = NULL;
	faas_fn_options fo = th_fopts_static(quick);

	cr_assert_eq(faas_fn_register(&fn, rt, "hello", &fo), 0);
	cr_assert_not_null(fn);
	cr_assert_str_eq(faas_fn_name(fn), "hello");
	cr_assert_eq(faas_fn_lookup(rt, "hello"), fn);
	cr_assert_null(faas_fn_lookup(rt, "nope"));
	cr_assert_eq(faas_fn_in_flight(fn), 0);
}

Test(fn, register_out_may_be_null, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(quick);

	cr_assert_eq(faas_fn_register(NULL, rt, "hello", &fo), 0);
	cr_assert_not_null(faas_fn_lookup(rt, "hello"));
}

Test(fn, options_are_copied, .init = setup, .fini = teardown)
{
	char lib[512], sym[32], ver[16], name[16];
	faas_fn_options fo;
	faas_activation *act;

	snprintf(lib, sizeof(lib), "%s", FX("ok"));
	snprintf(sym, sizeof(sym), "ok_info");
	snprintf(ver, sizeof(ver), "42");
	snprintf(name, sizeof(name), "info");
	fo = th_fopts_lib(lib, sym);
	fo.fn_version = ver;
	cr_assert_eq(faas_fn_register(NULL, rt, name, &fo), 0);
	memset(lib, 0, sizeof(lib));
	memset(sym, 0, sizeof(sym));
	memset(ver, 0, sizeof(ver));
	memset(name, 0, sizeof(name));
	act = th_call(rt, "info", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "%s",
	             faas_activation_error_message(act));
	cr_assert_str_eq(cJSON_GetObjectItem(faas_activation_result(act), "version")->valuestring,
	                 "42");
	cr_assert_str_eq(cJSON_GetObjectItem(faas_activation_result(act), "function")->valuestring,
	                 "info");
	faas_activation_free(act);
}

Test(fn, duplicate_name, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(quick);

	th_register(rt, "dup", &fo);
	expect_register_fails("dup", &fo, FAAS_EEXIST, "dup", NULL);
	cr_assert_not_null(faas_fn_lookup(rt, "dup"));
}

Test(fn, unregister, .init = setup, .fini = teardown)
{
	th_calls c;
	faas_activation *act = (faas_activation *)0x1;

	th_calls_init(&c);
	th_register_static(rt, "gone", quick);
	cr_assert_eq(faas_fn_unregister(rt, "gone"), 0);
	cr_assert_null(faas_fn_lookup(rt, "gone"));
	cr_assert_eq(th_invoke(rt, "gone", NULL, &c), FAAS_ENOTFOUND);
	cr_assert_eq(faas_invoke_sync(&act, rt, "gone", NULL), FAAS_ENOTFOUND);
	cr_assert_null(act);
	cr_assert_eq(faas_fn_unregister(rt, "gone"), FAAS_ENOTFOUND);
	/* The name is free again. */
	th_register_static(rt, "gone", quick);
	th_spin(rt, 5);
	cr_assert_eq(atomic_load(&c.n), 0);
}

Test(fn, names, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(quick);
	char longest[129], too_long[130];

	memset(longest, 'a', 128);
	longest[128] = '\0';
	memset(too_long, 'b', 129);
	too_long[129] = '\0';

	th_register(rt, longest, &fo);
	th_register(rt, "Az09_.-", &fo);
	th_register(rt, "x", &fo);
	expect_register_fails(too_long, &fo, FAAS_EINVAL, "name", NULL);
	expect_register_fails("", &fo, FAAS_EINVAL, "name", NULL);
	expect_register_fails("a b", &fo, FAAS_EINVAL, "name", NULL);
	expect_register_fails("a/b", &fo, FAAS_EINVAL, "name", NULL);
	expect_register_fails("a:b", &fo, FAAS_EINVAL, "name", NULL);
	expect_register_fails("caf\xc3\xa9", &fo, FAAS_EINVAL, "name", NULL);
	expect_register_fails("tab\t", &fo, FAAS_EINVAL, "name", NULL);
	expect_register_fails(NULL, &fo, FAAS_EINVAL, NULL, NULL);
}

Test(fn, timeout_bounds, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(quick);

	fo.timeout_ms = FAAS_MAX_TIMEOUT_MS + 1;
	expect_register_fails("t", &fo, FAAS_EINVAL, "timeout_ms", "1..900000");
	fo.timeout_ms = 0xffffffffu;
	expect_register_fails("t", &fo, FAAS_EINVAL, "timeout_ms", "900000");
	fo.timeout_ms = FAAS_MAX_TIMEOUT_MS;
	th_register(rt, "t1", &fo);
	fo.timeout_ms = FAAS_MIN_TIMEOUT_MS;
	th_register(rt, "t2", &fo);
	fo.timeout_ms = 0; /* the default */
	th_register(rt, "t3", &fo);
}

Test(fn, memory_bounds, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(quick);

	fo.memory_mb = FAAS_MIN_MEMORY_MB - 1;
	expect_register_fails("m", &fo, FAAS_EINVAL, "memory_mb", "128..10240");
	fo.memory_mb = FAAS_MAX_MEMORY_MB + 1;
	expect_register_fails("m", &fo, FAAS_EINVAL, "memory_mb", "10240");
	fo.memory_mb = 1;
	expect_register_fails("m", &fo, FAAS_EINVAL, "memory_mb", "10240");
	fo.memory_mb = FAAS_MIN_MEMORY_MB;
	th_register(rt, "m1", &fo);
	fo.memory_mb = FAAS_MAX_MEMORY_MB;
	th_register(rt, "m2", &fo);
}

Test(fn, isolation_checked, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(quick);

	fo.isolation = (faas_isolation)7;
	expect_register_fails("i", &fo, FAAS_EINVAL, "isolation", NULL);
}

Test(fn, no_handler_no_library, .init = setup, .fini = teardown)
{
	faas_fn_options fo = FAAS_FN_OPTIONS_INIT;

	expect_register_fails("n", &fo, FAAS_EINVAL, "handler", "library");
	expect_register_fails("n", NULL, FAAS_EINVAL, NULL, NULL);
	/* Both at once is ambiguous. */
	fo.handler = quick;
	fo.library = FX("ok");
	expect_register_fails("n", &fo, FAAS_EINVAL, "handler", "library");
}

Test(fn, max_concurrency_within_runtime_cap, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(quick);

	fo.max_concurrency = FAAS_DEFAULT_MAX_CONCURRENCY + 1;
	expect_register_fails("c", &fo, FAAS_EINVAL, "max_concurrency", NULL);
	fo.max_concurrency = FAAS_DEFAULT_MAX_CONCURRENCY;
	th_register(rt, "c", &fo);
}

Test(fn, fn_version_and_namespace_lengths, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(quick);
	char long_text[200];

	memset(long_text, 'v', sizeof(long_text) - 1);
	long_text[sizeof(long_text) - 1] = '\0';
	fo.fn_version = "";
	expect_register_fails("v", &fo, FAAS_EINVAL, "fn_version", NULL);
	fo.fn_version = long_text;
	expect_register_fails("v", &fo, FAAS_EINVAL, "fn_version", NULL);
	fo.fn_version = NULL;
	fo.state_namespace = long_text;
	expect_register_fails("v", &fo, FAAS_EINVAL, "state_namespace", NULL);
}

Test(fn, null_arguments, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(quick);

	cr_assert_eq(faas_fn_register(NULL, NULL, "f", &fo), FAAS_EINVAL);
	cr_assert_eq(faas_fn_unregister(NULL, "f"), FAAS_EINVAL);
	cr_assert_eq(faas_fn_unregister(rt, NULL), FAAS_EINVAL);
	cr_assert_null(faas_fn_lookup(NULL, "f"));
	cr_assert_null(faas_fn_lookup(rt, NULL));
	cr_assert_eq(faas_fn_set_enabled(NULL, true), FAAS_EINVAL);
	cr_assert_null(faas_fn_name(NULL));
	cr_assert_not(faas_fn_warm(NULL));
	cr_assert_eq(faas_fn_in_flight(NULL), 0);
}

/* ---- shared object errors ---- */

Test(fn, load_error_has_dlerror_text, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib("/nonexistent/dir/libnope.so", "x");

	expect_register_fails("f", &fo, FAAS_ELOAD, "/nonexistent/dir/libnope.so",
	                      "cannot open shared object file");
}

Test(fn, load_error_not_a_shared_object, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FIXTURES_DIR, "x");

	expect_register_fails("f", &fo, FAAS_ELOAD, NULL, NULL);
}

Test(fn, missing_symbol, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("missing_symbol"), "absent");

	expect_register_fails("f", &fo, FAAS_ESYMBOL, "absent", NULL);
}

Test(fn, symbol_defaults_to_name, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("missing_symbol"), NULL);
	faas_activation *act;

	th_register(rt, "present", &fo);
	act = th_call(rt, "present", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert(cJSON_IsTrue(faas_activation_result(act)));
	faas_activation_free(act);
	expect_register_fails("absent", &fo, FAAS_ESYMBOL, "absent", NULL);
}

Test(fn, no_module_descriptor, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("no_module"), "orphan");

	expect_register_fails("f", &fo, FAAS_EMODULE, NULL, NULL);
}

Test(fn, abi_mismatch_names_both_versions, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("bad_abi"), "bad_abi");
	char theirs[16];

	snprintf(theirs, sizeof(theirs), "%d", FAAS_ABI_VERSION + 1000);
	expect_register_fails("f", &fo, FAAS_EABI, theirs, NULL);
	/* Both numbers as whole words: ours is not just a digit of theirs. */
	const char *msg = faas_runtime_last_error(rt);
	char ours[16];
	bool found = false;
	snprintf(ours, sizeof(ours), "%d", FAAS_ABI_VERSION);
	for (const char *p = msg; (p = strstr(p, ours)) != NULL; p++) {
		bool left = p == msg || !(p[-1] >= '0' && p[-1] <= '9');
		char r = p[strlen(ours)];
		if (left && !(r >= '0' && r <= '9'))
			found = true;
	}
	cr_assert(found, "message \"%s\" should name version %s", msg, ours);
	cr_assert_not(th_loaded(FX("bad_abi")), "a refused object must be unloaded");
}

Test(fn, failed_loads_unload, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("no_module"), "orphan");

	expect_register_fails("f", &fo, FAAS_EMODULE, NULL, NULL);
	cr_assert_not(th_loaded(FX("no_module")));
	fo = th_fopts_lib(FX("missing_symbol"), "absent");
	expect_register_fails("f", &fo, FAAS_ESYMBOL, NULL, NULL);
	cr_assert_not(th_loaded(FX("missing_symbol")));
}

Test(fn, prewarm_init_fails, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("init_fails"), "never_called");

	fo.prewarm = true;
	expect_register_fails("f", &fo, FAAS_EINIT, NULL, NULL);
	/* Trying again fails the same way, not with FAAS_EEXIST. */
	expect_register_fails("f", &fo, FAAS_EINIT, NULL, NULL);
}

Test(fn, init_fails_on_first_call, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("init_fails"), "never_called");
	faas_activation *act;

	th_register(rt, "f", &fo);
	act = th_call(rt, "f", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_DEVELOPER_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Runtime.InitError");
	cr_assert_null(faas_activation_result(act));
	cr_assert(faas_activation_started(act));
	faas_activation_free(act);
	/* Still cold: the next call tries init again and fails again. */
	act = th_call(rt, "f", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_DEVELOPER_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Runtime.InitError");
	faas_activation_free(act);
}

/* ---- shared object reference counting ---- */

static bool not_loaded(void *path)
{
	return !th_loaded(path);
}

Test(fn, one_load_per_shared_object, .init = setup, .fini = teardown)
{
	faas_activation *act;

	cr_assert_not(th_loaded(FX("ok")));
	th_register_lib(rt, "a", FX("ok"), "ok");
	th_register_lib(rt, "b", FX("ok"), "ok_null");
	cr_assert(th_loaded(FX("ok")));
	cr_assert_eq(th_int(FX("ok"), "fx_ok_init_count"), 0, "init runs on the first call");
	act = th_call(rt, "a", NULL);
	cr_assert(faas_activation_usage(act)->cold);
	faas_activation_free(act);
	act = th_call(rt, "b", NULL);
	cr_assert_not(faas_activation_usage(act)->cold, "b shares a's initialised module");
	faas_activation_free(act);
	cr_assert_eq(th_int(FX("ok"), "fx_ok_init_count"), 1);

	cr_assert_eq(faas_fn_unregister(rt, "a"), 0);
	th_spin(rt, 5);
	cr_assert(th_loaded(FX("ok")), "b still uses the object");
	cr_assert_eq(th_int(FX("ok"), "fx_ok_fini_count"), 0);
	act = th_call(rt, "b", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);

	cr_assert_eq(faas_fn_unregister(rt, "b"), 0);
	cr_assert(th_wait_for(rt, not_loaded, FX("ok"), 1000), "unloaded after its last function");
}

Test(fn, fini_runs_when_last_function_goes, .init = setup, .fini = teardown)
{
	void *h;
	int *fini;
	int *init;
	faas_activation *act;

	th_register_lib(rt, "a", FX("ok"), "ok");
	th_register_lib(rt, "b", FX("ok"), "ok_info");
	/* Hold our own reference so the counters stay readable after unload. */
	h = dlopen(FX("ok"), RTLD_NOW | RTLD_NOLOAD);
	cr_assert_not_null(h);
	init = dlsym(h, "fx_ok_init_count");
	fini = dlsym(h, "fx_ok_fini_count");
	cr_assert_not_null(init);
	cr_assert_not_null(fini);
	act = th_call(rt, "a", NULL);
	faas_activation_free(act);
	cr_assert_eq(*init, 1);
	cr_assert_eq(faas_fn_unregister(rt, "a"), 0);
	th_spin(rt, 5);
	cr_assert_eq(*fini, 0);
	cr_assert_eq(faas_fn_unregister(rt, "b"), 0);
	th_spin(rt, 5);
	cr_assert_eq(*fini, 1, "fini runs when the last function is unregistered");
	cr_assert_eq(*init, 1);
	dlclose(h);
	cr_assert(th_wait_for(rt, not_loaded, FX("ok"), 1000));
}

Test(fn, unregister_while_in_flight, .init = setup, .fini = teardown)
{
	th_calls c;
	faas_fn *fn;
	faas_fn_options fo = th_fopts_lib(FX("loops"), "loops_cooperative");

	th_calls_init(&c);
	fo.timeout_ms = 100;
	cr_assert_eq(faas_fn_register(&fn, rt, "coop", &fo), 0);
	cr_assert_eq(th_invoke(rt, "coop", NULL, &c), 0);
	cr_assert_eq(faas_fn_in_flight(fn), 1);
	cr_assert_eq(faas_fn_unregister(rt, "coop"), 0);
	cr_assert_eq(th_invoke(rt, "coop", NULL, &c), FAAS_ENOTFOUND);
	cr_assert(th_wait(rt, &c.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(c.acts[0]), FAAS_STATUS_TIMEOUT);
	cr_assert_str_eq(faas_activation_function(c.acts[0]), "coop");
	cr_assert(th_wait_for(rt, not_loaded, FX("loops"), 2000),
	          "unloaded once the handler returned");
	th_calls_clear(&c);
}

/* ---- warmth ---- */

Test(fn, cold_then_warm, .init = setup, .fini = teardown)
{
	faas_fn *fn;
	faas_fn_options fo = th_fopts_lib(FX("ok"), "ok");
	faas_activation *act;

	cr_assert_eq(faas_fn_register(&fn, rt, "ok", &fo), 0);
	cr_assert_not(faas_fn_warm(fn));
	act = th_call(rt, "ok", NULL);
	cr_assert(faas_activation_usage(act)->cold);
	cr_assert_gt(faas_activation_usage(act)->init_us, 0);
	faas_activation_free(act);
	cr_assert(faas_fn_warm(fn));
	for (int i = 0; i < 3; i++) {
		act = th_call(rt, "ok", NULL);
		cr_assert_not(faas_activation_usage(act)->cold);
		cr_assert_eq(faas_activation_usage(act)->init_us, 0);
		faas_activation_free(act);
	}
	cr_assert_eq(th_int(FX("ok"), "fx_ok_init_count"), 1);
}

Test(fn, prewarm_runs_init_at_registration, .init = setup, .fini = teardown)
{
	faas_fn *fn;
	faas_fn_options fo = th_fopts_lib(FX("ok"), "ok");
	faas_activation *act;
	faas_runtime_stats st;

	fo.prewarm = true;
	cr_assert_eq(faas_fn_register(&fn, rt, "ok", &fo), 0);
	cr_assert_eq(th_int(FX("ok"), "fx_ok_init_count"), 1);
	cr_assert(faas_fn_warm(fn));
	act = th_call(rt, "ok", NULL);
	cr_assert_not(faas_activation_usage(act)->cold);
	cr_assert_eq(faas_activation_usage(act)->init_us, 0);
	faas_activation_free(act);
	cr_assert_eq(th_int(FX("ok"), "fx_ok_init_count"), 1);
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.cold_starts, 0, "a prewarmed function has no cold call");
}

static bool fn_cold(void *fn)
{
	return !faas_fn_warm(fn);
}

Test(fn, keep_warm_expires, .init = setup, .fini = teardown)
{
	faas_fn *fn;
	faas_fn_options fo = th_fopts_lib(FX("ok"), "ok");
	faas_activation *act;

	fo.keep_warm_ms = 50;
	cr_assert_eq(faas_fn_register(&fn, rt, "ok", &fo), 0);
	act = th_call(rt, "ok", NULL);
	cr_assert(faas_activation_usage(act)->cold);
	faas_activation_free(act);
	cr_assert(faas_fn_warm(fn));
	/* Calls within keep_warm_ms keep it warm. */
	th_spin(rt, 10);
	act = th_call(rt, "ok", NULL);
	cr_assert_not(faas_activation_usage(act)->cold);
	faas_activation_free(act);

	cr_assert(th_wait_for(rt, fn_cold, fn, 1000), "idle past keep_warm_ms goes cold");
	cr_assert_eq(th_int(FX("ok"), "fx_ok_fini_count"), 1);
	act = th_call(rt, "ok", NULL);
	cr_assert(faas_activation_usage(act)->cold);
	cr_assert_gt(faas_activation_usage(act)->init_us, 0);
	faas_activation_free(act);
	cr_assert_eq(th_int(FX("ok"), "fx_ok_init_count"), 2);
}

Test(fn, keep_warm_not_before_its_time, .init = setup, .fini = teardown)
{
	faas_fn *fn;
	faas_fn_options fo = th_fopts_lib(FX("ok"), "ok");
	faas_activation *act;

	fo.keep_warm_ms = 2000;
	cr_assert_eq(faas_fn_register(&fn, rt, "ok", &fo), 0);
	act = th_call(rt, "ok", NULL);
	faas_activation_free(act);
	th_spin(rt, 100);
	cr_assert(faas_fn_warm(fn));
	cr_assert_eq(th_int(FX("ok"), "fx_ok_fini_count"), 0);
}

Test(fn, set_enabled, .init = setup, .fini = teardown)
{
	faas_fn *fn;
	faas_fn_options fo = th_fopts_static(quick);
	faas_activation *act;

	cr_assert_eq(faas_fn_register(&fn, rt, "f", &fo), 0);
	cr_assert_eq(faas_fn_set_enabled(fn, false), 0);
	act = th_call(rt, "f", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_REJECTED);
	cr_assert_str_eq(faas_activation_error_type(act), "Function.Disabled");
	cr_assert_not(faas_activation_started(act));
	faas_activation_free(act);
	cr_assert_eq(faas_fn_set_enabled(fn, true), 0);
	act = th_call(rt, "f", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
}

/* ---- per-function stats and iteration ---- */

static int sleeps(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	const cJSON *ms = cJSON_GetObjectItem(event, "ms");

	(void)ctx;
	th_sleep_ms(cJSON_IsNumber(ms) ? (unsigned int)ms->valuedouble : 0);
	*result = cJSON_CreateTrue();
	return 0;
}

static int bucket_of(uint64_t duration_us)
{
	static const uint64_t bounds[] = FAAS_DURATION_BUCKETS_MS;
	int i = 0;

	while (i < (int)(sizeof(bounds) / sizeof(bounds[0])) && duration_us > bounds[i] * 1000u)
		i++;
	return i;
}

Test(fn, stats_per_function, .init = setup, .fini = teardown)
{
	static const uint64_t bounds[] = FAAS_DURATION_BUCKETS_MS;
	faas_fn *ok, *slow, *err;
	faas_fn_options fo = th_fopts_lib(FX("ok"), "ok");
	faas_fn_stats st;
	uint64_t sum = 0, buckets[FAAS_DURATION_BUCKET_COUNT] = {0};
	faas_activation *act;

	cr_assert_eq(sizeof(bounds) / sizeof(bounds[0]) + 1, FAAS_DURATION_BUCKET_COUNT);
	cr_assert_eq(faas_fn_register(&ok, rt, "ok", &fo), 0);
	fo = th_fopts_static(sleeps);
	fo.max_concurrency = 1;
	cr_assert_eq(faas_fn_register(&slow, rt, "slow", &fo), 0);
	fo = th_fopts_lib(FX("error"), "returns_error");
	cr_assert_eq(faas_fn_register(&err, rt, "err", &fo), 0);

	memset(&st, 0xff, sizeof(st));
	cr_assert_eq(faas_fn_stats_get(&st, slow), 0);
	for (int i = 0; i < FAAS_STATUS_COUNT; i++)
		cr_assert_eq(st.activations[i], 0);
	for (int i = 0; i < FAAS_DURATION_BUCKET_COUNT; i++)
		cr_assert_eq(st.duration_buckets[i], 0);
	cr_assert_eq(st.duration_us_sum, 0);
	cr_assert_eq(st.in_flight, 0);
	cr_assert_eq(st.cold_starts, 0);

	for (int i = 0; i < 3; i++) {
		act = th_call(rt, "ok", NULL);
		faas_activation_free(act);
	}
	const char *events[] = {"{\"ms\":0}", "{\"ms\":7}", "{\"ms\":30}"};
	for (int i = 0; i < 3; i++) {
		act = th_call(rt, "slow", events[i]);
		sum += faas_activation_usage(act)->duration_us;
		buckets[bucket_of(faas_activation_usage(act)->duration_us)]++;
		faas_activation_free(act);
	}
	act = th_call(rt, "err", NULL);
	faas_activation_free(act);

	/* A throttled call counts by status, not in the durations. */
	th_calls c;
	th_calls_init(&c);
	cr_assert_eq(th_invoke(rt, "slow", "{\"ms\":50}", &c), 0);
	cr_assert_eq(faas_fn_stats_get(&st, slow), 0);
	cr_assert_eq(st.in_flight, 1);
	cr_assert_eq(th_invoke(rt, "slow", NULL, &c), 0);
	cr_assert(th_wait(rt, &c.n, 2, TH_WAIT_MS));
	sum += faas_activation_usage(c.acts[1])->duration_us;
	buckets[bucket_of(faas_activation_usage(c.acts[1])->duration_us)]++;
	th_calls_clear(&c);

	cr_assert_eq(faas_fn_stats_get(&st, ok), 0);
	cr_assert_eq(st.activations[FAAS_STATUS_SUCCESS], 3);
	cr_assert_eq(st.cold_starts, 1);
	cr_assert_eq(faas_fn_stats_get(&st, err), 0);
	cr_assert_eq(st.activations[FAAS_STATUS_APPLICATION_ERROR], 1);
	cr_assert_eq(st.activations[FAAS_STATUS_SUCCESS], 0);

	cr_assert_eq(faas_fn_stats_get(&st, slow), 0);
	cr_assert_eq(st.activations[FAAS_STATUS_SUCCESS], 4);
	cr_assert_eq(st.activations[FAAS_STATUS_THROTTLED], 1);
	cr_assert_eq(st.in_flight, 0);
	cr_assert_eq(st.duration_us_sum, sum);
	uint64_t total = 0;
	for (int i = 0; i < FAAS_DURATION_BUCKET_COUNT; i++) {
		cr_assert_eq(st.duration_buckets[i], buckets[i], "bucket %d", i);
		total += st.duration_buckets[i];
	}
	cr_assert_eq(total, 4, "only started calls have a duration");
}

Test(fn, stats_null_arguments, .init = setup, .fini = teardown)
{
	faas_fn *fn;
	faas_fn_options fo = th_fopts_static(quick);
	faas_fn_stats st;

	cr_assert_eq(faas_fn_register(&fn, rt, "f", &fo), 0);
	cr_assert_eq(faas_fn_stats_get(NULL, fn), FAAS_EINVAL);
	cr_assert_eq(faas_fn_stats_get(&st, NULL), FAAS_EINVAL);
}

Test(fn, stats_get_writes_version_and_zero_reserved, .init = setup, .fini = teardown)
{
	faas_fn *fn;
	faas_fn_options fo = th_fopts_static(quick);
	faas_fn_stats st;
	faas_activation *act;

	_Static_assert(offsetof(faas_fn_stats, version) == 0, "version comes first");
	cr_assert_eq(faas_fn_register(&fn, rt, "f", &fo), 0);
	act = th_call(rt, "f", NULL);
	faas_activation_free(act);
	memset(&st, 0xa5, sizeof(st));
	cr_assert_eq(faas_fn_stats_get(&st, fn), 0);
	cr_assert_eq(st.version, FAAS_FN_STATS_VERSION);
	for (size_t i = 0; i < sizeof(st.reserved) / sizeof(st.reserved[0]); i++)
		cr_assert_eq(st.reserved[i], 0, "reserved[%zu]", i);
	cr_assert_eq(st.activations[FAAS_STATUS_SUCCESS], 1);
	cr_assert_eq(st.in_flight, 0);
}

typedef struct visit_log {
	int n;
	int stop_at;
	char names[8][16];
} visit_log;

static int visit(faas_fn *fn, void *userdata)
{
	visit_log *v = userdata;

	snprintf(v->names[v->n], sizeof(v->names[0]), "%s", faas_fn_name(fn));
	v->n++;
	return v->n == v->stop_at ? 42 : 0;
}

Test(fn, foreach_newest_first, .init = setup, .fini = teardown)
{
	visit_log v;

	memset(&v, 0, sizeof(v));
	cr_assert_eq(faas_fn_foreach(rt, visit, &v), 0);
	cr_assert_eq(v.n, 0);

	th_register_static(rt, "first", quick);
	th_register_static(rt, "second", quick);
	th_register_static(rt, "third", quick);
	cr_assert_eq(faas_fn_foreach(rt, visit, &v), 0);
	cr_assert_eq(v.n, 3);
	cr_assert_str_eq(v.names[0], "third");
	cr_assert_str_eq(v.names[1], "second");
	cr_assert_str_eq(v.names[2], "first");

	memset(&v, 0, sizeof(v));
	v.stop_at = 2;
	cr_assert_eq(faas_fn_foreach(rt, visit, &v), 42, "visit's non-zero value is returned");
	cr_assert_eq(v.n, 2, "and stops the walk");

	cr_assert_eq(faas_fn_unregister(rt, "second"), 0);
	memset(&v, 0, sizeof(v));
	cr_assert_eq(faas_fn_foreach(rt, visit, &v), 0);
	cr_assert_eq(v.n, 2);
	cr_assert_str_eq(v.names[0], "third");
	cr_assert_str_eq(v.names[1], "first");

	cr_assert_eq(faas_fn_foreach(NULL, visit, &v), FAAS_EINVAL);
	cr_assert_eq(faas_fn_foreach(rt, NULL, &v), FAAS_EINVAL);
}

Test(fn, cold_starts_counted_again_after_keep_warm, .init = setup, .fini = teardown)
{
	faas_fn *fn;
	faas_fn_options fo = th_fopts_lib(FX("ok"), "ok");
	faas_activation *act;
	faas_runtime_stats rst;
	faas_fn_stats st;

	fo.keep_warm_ms = 30;
	cr_assert_eq(faas_fn_register(&fn, rt, "ok", &fo), 0);
	act = th_call(rt, "ok", NULL);
	faas_activation_free(act);
	cr_assert(th_wait_for(rt, fn_cold, fn, 1000));
	act = th_call(rt, "ok", NULL);
	cr_assert(faas_activation_usage(act)->cold);
	faas_activation_free(act);
	cr_assert_eq(faas_runtime_stats_get(&rst, rt), 0);
	cr_assert_eq(rst.cold_starts, 2);
	cr_assert_eq(faas_fn_stats_get(&st, fn), 0);
	cr_assert_eq(st.cold_starts, 2);
}

/* Invocation: statuses, callbacks, concurrency caps, sync and async calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(invoke, .timeout = 30);

static uv_loop_t loop;
static faas_runtime *rt;
static th_calls calls;

static atomic_int gate_open;
static atomic_int gate_entered;
static atomic_int handler_calls;
static pthread_t handler_thread;
static atomic_int inline_ran;

static void setup_with(faas_runtime_options *o)
{
	th_calls_init(&calls);
	th_loop_init(&loop);
	rt = th_rt_new(&loop, o);
}

static void setup(void)
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

static int echo(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	atomic_fetch_add(&handler_calls, 1);
	handler_thread = pthread_self();
	*result = event ? cJSON_Duplicate(event, true) : NULL;
	return 0;
}

static int gate(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	atomic_fetch_add(&gate_entered, 1);
	for (int i = 0; i < 10000 && !atomic_load(&gate_open); i++) {
		if (faas_ctx_cancelled(ctx))
			return faas_ctx_error(ctx, "Cancelled", "cancelled at the gate");
		th_sleep_ms(1);
	}
	*result = cJSON_CreateString("through");
	return 0;
}

static int inline_marker(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	handler_thread = pthread_self();
	atomic_fetch_add(&inline_ran, 1);
	/* An inline function reads the caller's event in place. */
	*result = event ? cJSON_Duplicate(event, true) : cJSON_CreateNull();
	return 0;
}

static int sets_result_and_fails(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	*result = cJSON_CreateString("discarded");
	return faas_ctx_error(ctx, "Oops", "failed after setting a result");
}

/* ---- statuses ---- */

Test(invoke, success_static, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_static(rt, "echo", echo);
	act = th_call(rt, "echo", "{\"a\":[1,2,{\"b\":null}],\"s\":\"x\"}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert(
	    th_json_eq(faas_activation_result(act), "{\"a\":[1,2,{\"b\":null}],\"s\":\"x\"}"));
	cr_assert_null(faas_activation_error_type(act));
	cr_assert_null(faas_activation_error_message(act));
	cr_assert(faas_activation_started(act));
	cr_assert_str_eq(faas_activation_function(act), "echo");
	cr_assert(th_is_hex_id(faas_activation_id(act)));
	cr_assert_eq(faas_activation_usage(act)->status, FAAS_STATUS_SUCCESS);
	cr_assert_not(pthread_equal(handler_thread, pthread_self()),
	              "a thread function runs off the loop thread");
	faas_activation_free(act);
}

Test(invoke, success_from_shared_object, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_lib(rt, "ok", FX("ok"), "ok");
	act = th_call(rt, "ok", "{\"n\":1}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "%s: %s",
	             faas_activation_error_type(act), faas_activation_error_message(act));
	cr_assert(th_json_eq(faas_activation_result(act), "{\"ok\":true,\"event\":{\"n\":1}}"));
	faas_activation_free(act);
}

Test(invoke, null_event_is_json_null, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_lib(rt, "ok", FX("ok"), "ok");
	act = th_call(rt, "ok", NULL);
	cr_assert(th_json_eq(faas_activation_result(act), "{\"ok\":true,\"event\":null}"));
	faas_activation_free(act);
}

Test(invoke, null_result_is_json_null, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_lib(rt, "n", FX("ok"), "ok_null");
	act = th_call(rt, "n", "{}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_not_null(faas_activation_result(act));
	cr_assert(cJSON_IsNull(faas_activation_result(act)));
	faas_activation_free(act);
}

Test(invoke, application_error_from_ctx_error, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_lib(rt, "e", FX("error"), "returns_error");
	act = th_call(rt, "e", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_APPLICATION_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "BadInput");
	cr_assert_str_eq(faas_activation_error_message(act), "bad input 42");
	cr_assert_null(faas_activation_result(act));
	cr_assert(faas_activation_started(act));
	faas_activation_free(act);
}

Test(invoke, application_error_from_bare_code, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_lib(rt, "c", FX("error"), "returns_code");
	act = th_call(rt, "c", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_APPLICATION_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Error");
	cr_assert_str_eq(faas_activation_error_message(act), "handler returned 7");
	cr_assert_null(faas_activation_result(act));
	faas_activation_free(act);
}

Test(invoke, error_discards_result, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_static(rt, "f", sets_result_and_fails);
	act = th_call(rt, "f", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_APPLICATION_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Oops");
	cr_assert_null(faas_activation_result(act));
	faas_activation_free(act);
}

Test(invoke, developer_error_init_failed, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_lib(rt, "f", FX("init_fails"), "never_called");
	act = th_call(rt, "f", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_DEVELOPER_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Runtime.InitError");
	cr_assert_not_null(faas_activation_error_message(act));
	faas_activation_free(act);
}

Test(invoke, result_too_large, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("alloc_bomb"), "big_result");
	faas_activation *act;

	fo.result_limit = 1024;
	th_register(rt, "big", &fo);
	act = th_call(rt, "big", "{\"size\":100}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_eq(strlen(cJSON_GetStringValue(faas_activation_result(act))), 100);
	faas_activation_free(act);

	act = th_call(rt, "big", "{\"size\":2000}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_DEVELOPER_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Function.ResponseSizeTooLarge");
	cr_assert_null(faas_activation_result(act));
	cr_assert(faas_activation_started(act));
	faas_activation_free(act);
}

Test(invoke, result_limit_is_inclusive_of_serialized_size, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("alloc_bomb"), "big_result");
	faas_activation *act;

	/* A string of n bytes serializes to n + 2 (the quotes). */
	fo.result_limit = 102;
	th_register(rt, "big", &fo);
	act = th_call(rt, "big", "{\"size\":100}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_eq(faas_activation_usage(act)->bytes_out, 102);
	faas_activation_free(act);
	act = th_call(rt, "big", "{\"size\":101}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_DEVELOPER_ERROR);
	faas_activation_free(act);
}

Test(invoke, payload_too_large, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(echo);
	faas_activation *act;
	char json[256];

	fo.payload_limit = 64;
	th_register(rt, "p", &fo);
	memset(json, 0, sizeof(json));
	strcpy(json, "{\"s\":\"");
	memset(json + 6, 'x', 100);
	strcat(json, "\"}");
	act = th_call(rt, "p", json);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_REJECTED);
	cr_assert_str_eq(faas_activation_error_type(act), "RequestEntityTooLargeException");
	cr_assert_not(faas_activation_started(act));
	cr_assert_null(faas_activation_result(act));
	cr_assert_eq(atomic_load(&handler_calls), 0, "a rejected call never runs");
	faas_activation_free(act);

	act = th_call(rt, "p", "{\"s\":\"small\"}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
}

Test(invoke, payload_too_large_text, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(echo);
	char json[256];

	fo.payload_limit = 64;
	th_register(rt, "p", &fo);
	memset(json, ' ', sizeof(json));
	memcpy(json, "{}", 2);
	/* 200 bytes of text, most of it whitespace: the text's size counts. */
	cr_assert_eq(faas_invoke_payload(rt, "p", json, 200, th_collect, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_REJECTED);
	cr_assert_eq(calls.sync_calls, 0);
}

Test(invoke, disabled_function_rejected, .init = setup, .fini = teardown)
{
	faas_fn *fn;
	faas_fn_options fo = th_fopts_static(echo);

	cr_assert_eq(faas_fn_register(&fn, rt, "d", &fo), 0);
	cr_assert_eq(faas_fn_set_enabled(fn, false), 0);
	cr_assert_eq(th_invoke(rt, "d", "1", &calls), 0);
	cr_assert_eq(atomic_load(&calls.n), 0, "never called back from inside faas_invoke");
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_REJECTED);
	cr_assert_str_eq(faas_activation_error_type(calls.acts[0]), "Function.Disabled");
	cr_assert_not(faas_activation_started(calls.acts[0]));
	cr_assert_eq(atomic_load(&handler_calls), 0);
}

/* ---- concurrency ---- */

Test(invoke, throttled_by_function_cap, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(gate);
	faas_activation *act;

	fo.max_concurrency = 2;
	th_register(rt, "g", &fo);
	cr_assert_eq(th_invoke(rt, "g", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "g", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "g", NULL, &calls), 0);
	cr_assert_eq(faas_fn_in_flight(faas_fn_lookup(rt, "g")), 2);
	/* The throttled call arrives at once, while the others still run. */
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	act = calls.acts[0];
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_THROTTLED);
	cr_assert_str_eq(faas_activation_error_type(act), "TooManyRequestsException");
	cr_assert_not(faas_activation_started(act));
	cr_assert_eq(faas_activation_usage(act)->billed_ms, 0);
	th_spin(rt, 20);
	cr_assert_eq(atomic_load(&calls.n), 1);
	atomic_store(&gate_open, 1);
	cr_assert(th_wait(rt, &calls.n, 3, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[1]), FAAS_STATUS_SUCCESS);
	cr_assert_eq(faas_activation_status(calls.acts[2]), FAAS_STATUS_SUCCESS);
	cr_assert_eq(atomic_load(&gate_entered), 2);
	cr_assert_eq(calls.sync_calls, 0);
	/* Capacity is back. */
	cr_assert_eq(faas_fn_in_flight(faas_fn_lookup(rt, "g")), 0);
	act = th_call(rt, "g", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
}

Test(invoke, throttled_by_runtime_cap)
{
	faas_runtime_options o = th_ropts();
	faas_runtime_stats st;

	o.threads = 4;
	o.max_concurrency = 2;
	setup_with(&o);
	th_register_static(rt, "a", gate);
	th_register_static(rt, "b", gate);
	cr_assert_eq(th_invoke(rt, "a", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "b", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "b", NULL, &calls), 0);
	cr_assert_eq(th_invoke(rt, "a", NULL, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 2, TH_WAIT_MS));
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(faas_activation_status(calls.acts[i]), FAAS_STATUS_THROTTLED);
		cr_assert_str_eq(faas_activation_error_type(calls.acts[i]),
		                 "TooManyRequestsException");
	}
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.in_flight, 2);
	atomic_store(&gate_open, 1);
	cr_assert(th_wait(rt, &calls.n, 4, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[2]), FAAS_STATUS_SUCCESS);
	cr_assert_eq(faas_activation_status(calls.acts[3]), FAAS_STATUS_SUCCESS);
	cr_assert_eq(faas_runtime_stats_get(&st, rt), 0);
	cr_assert_eq(st.activations[FAAS_STATUS_THROTTLED], 2);
	cr_assert_eq(st.activations[FAAS_STATUS_SUCCESS], 2);
	teardown();
}

Test(invoke, queued_beyond_threads_still_complete, .init = setup, .fini = teardown)
{
	/* More calls than threads: they queue, they are not throttled. */
	th_register_static(rt, "echo", echo);
	for (int i = 0; i < 200; i++)
		cr_assert_eq(th_invoke(rt, "echo", "{\"i\":1}", &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 200, TH_WAIT_MS));
	for (int i = 0; i < 200; i++) {
		cr_assert_eq(faas_activation_status(calls.acts[i]), FAAS_STATUS_SUCCESS);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(faas_activation_id(calls.acts[i]),
			                  faas_activation_id(calls.acts[j]));
	}
	cr_assert_eq(calls.sync_calls, 0);
}

/* ---- callbacks ---- */

Test(invoke, callback_once_on_loop_never_inside_invoke, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(echo);

	th_register_static(rt, "echo", echo);
	fo.payload_limit = 8;
	th_register(rt, "small", &fo);
	fo = th_fopts_static(inline_marker);
	fo.isolation = FAAS_ISOLATION_INLINE;
	th_register(rt, "inl", &fo);

	cr_assert_eq(th_invoke(rt, "echo", "1", &calls), 0);
	cr_assert_eq(th_invoke(rt, "small", "\"much too large\"", &calls), 0);
	cr_assert_eq(th_invoke(rt, "inl", "2", &calls), 0);
	cr_assert_eq(atomic_load(&calls.n), 0);
	cr_assert(th_wait(rt, &calls.n, 3, TH_WAIT_MS));
	th_spin(rt, 20);
	cr_assert_eq(atomic_load(&calls.n), 3, "exactly once each");
	cr_assert_eq(calls.sync_calls, 0);
	cr_assert(pthread_equal(calls.thread, pthread_self()), "callbacks run on the loop thread");
}

Test(invoke, inline_runs_inside_invoke, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(inline_marker);
	cJSON *event = th_json("{\"k\":\"v\"}");

	fo.isolation = FAAS_ISOLATION_INLINE;
	th_register(rt, "inl", &fo);
	cr_assert_eq(faas_invoke(rt, "inl", event, th_collect, &calls), 0);
	cr_assert_eq(atomic_load(&inline_ran), 1,
	             "an inline handler runs before faas_invoke returns");
	cr_assert(pthread_equal(handler_thread, pthread_self()));
	cr_assert_eq(atomic_load(&calls.n), 0);
	cJSON_Delete(event);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_SUCCESS);
	cr_assert(th_json_eq(faas_activation_result(calls.acts[0]), "{\"k\":\"v\"}"));
}

Test(invoke, event_copied_for_thread_functions, .init = setup, .fini = teardown)
{
	cJSON *event = th_json("{\"k\":\"v\",\"n\":[1,2,3]}");

	th_register_static(rt, "echo", echo);
	cr_assert_eq(faas_invoke(rt, "echo", event, th_collect, &calls), 0);
	/* The caller keeps ownership and may free it at once. */
	cJSON_Delete(event);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert(th_json_eq(faas_activation_result(calls.acts[0]), "{\"k\":\"v\",\"n\":[1,2,3]}"));
}

Test(invoke, error_return_never_calls_back, .init = setup, .fini = teardown)
{
	th_register_static(rt, "echo", echo);
	cr_assert_eq(th_invoke(rt, "missing", NULL, &calls), FAAS_ENOTFOUND);
	cr_assert_eq(faas_invoke(NULL, "echo", NULL, th_collect, &calls), FAAS_EINVAL);
	cr_assert_eq(faas_invoke(rt, NULL, NULL, th_collect, &calls), FAAS_EINVAL);
	cr_assert_eq(faas_invoke_payload(NULL, "echo", "{}", 2, th_collect, &calls), FAAS_EINVAL);
	cr_assert_eq(faas_invoke_payload(rt, NULL, "{}", 2, th_collect, &calls), FAAS_EINVAL);
	cr_assert_eq(faas_invoke_payload(rt, "echo", "{nope", 5, th_collect, &calls), FAAS_EINVAL);
	cr_assert_eq(faas_invoke_payload(rt, "echo", "", 0, th_collect, &calls), FAAS_EINVAL);
	cr_assert_eq(faas_invoke_payload(rt, "echo", "{} junk", 7, th_collect, &calls), FAAS_EINVAL,
		     "text after the value is refused, not ignored");
	cr_assert_eq(faas_invoke_payload(rt, "echo", "{}{}", 4, th_collect, &calls), FAAS_EINVAL);
	cr_assert_eq(faas_invoke_payload(rt, "echo", NULL, 3, th_collect, &calls), FAAS_EINVAL);
	cr_assert_eq(faas_invoke_payload(rt, "missing", "{}", 2, th_collect, &calls),
	             FAAS_ENOTFOUND);
	th_spin(rt, 30);
	cr_assert_eq(atomic_load(&calls.n), 0);
	cr_assert_eq(atomic_load(&handler_calls), 0);
}

Test(invoke, payload_text, .init = setup, .fini = teardown)
{
	const char *json = "{\"a\":1,\"b\":\"two\"} trailing-garbage";

	th_register_static(rt, "echo", echo);
	/* Only len bytes are read. */
	cr_assert_eq(faas_invoke_payload(rt, "echo", json, 17, th_collect, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_SUCCESS);
	cr_assert(th_json_eq(faas_activation_result(calls.acts[0]), "{\"a\":1,\"b\":\"two\"}"));
	cr_assert_eq(faas_activation_usage(calls.acts[0])->bytes_in, 17);
}

Test(invoke, sync_null_arguments, .init = setup, .fini = teardown)
{
	faas_activation *act = (faas_activation *)0x1;

	th_register_static(rt, "echo", echo);
	cr_assert_eq(faas_invoke_sync(NULL, rt, "echo", NULL), FAAS_EINVAL);
	cr_assert_eq(faas_invoke_sync(&act, NULL, "echo", NULL), FAAS_EINVAL);
	cr_assert_null(act);
	act = (faas_activation *)0x1;
	cr_assert_eq(faas_invoke_sync(&act, rt, NULL, NULL), FAAS_EINVAL);
	cr_assert_null(act);
	act = (faas_activation *)0x1;
	cr_assert_eq(faas_invoke_sync(&act, rt, "missing", NULL), FAAS_ENOTFOUND);
	cr_assert_null(act);
	cr_assert_eq(atomic_load(&handler_calls), 0);
}

Test(invoke, sync_on_own_loop)
{
	faas_runtime *own = th_rt_new(NULL, NULL);
	faas_activation *act = NULL;

	th_register_static(own, "echo", echo);
	cr_assert_eq(faas_invoke_sync(&act, own, "echo", NULL), 0);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert(cJSON_IsNull(faas_activation_result(act)));
	faas_activation_free(act);
	th_rt_free(own, NULL);
}

Test(invoke, sync_returns_rejected_and_throttled_too, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(gate);
	faas_activation *act;

	fo.max_concurrency = 1;
	th_register(rt, "g", &fo);
	cr_assert_eq(th_invoke(rt, "g", NULL, &calls), 0);
	act = th_call(rt, "g", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_THROTTLED);
	faas_activation_free(act);
	atomic_store(&gate_open, 1);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
}

Test(invoke, times_and_usage, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(echo);
	faas_activation *act;
	const faas_usage *u;
	uint64_t w0, w1;

	fo.memory_mb = 512;
	th_register(rt, "echo", &fo);
	w0 = th_wall_us();
	act = th_call(rt, "echo", "{\"x\":1}");
	w1 = th_wall_us();
	cr_assert_geq(faas_activation_start_us(act) + 1000, w0);
	cr_assert_leq(faas_activation_start_us(act), faas_activation_end_us(act));
	cr_assert_leq(faas_activation_end_us(act), w1 + 1000);
	u = faas_activation_usage(act);
	cr_assert_not_null(u);
	cr_assert_eq(u->memory_mb, 512);
	cr_assert_eq(u->status, FAAS_STATUS_SUCCESS);
	cr_assert_eq(u->bytes_out, strlen("{\"x\":1}"));
	cr_assert_leq(u->duration_us, w1 - w0);
	faas_activation_free(act);
}

Test(invoke, default_payload_limit_is_6mb, .init = setup, .fini = teardown)
{
	size_t n = FAAS_DEFAULT_PAYLOAD_LIMIT + 16;
	char *json = malloc(n + 1);

	th_register_static(rt, "echo", echo);
	json[0] = '"';
	memset(json + 1, 'p', n - 2);
	json[n - 1] = '"';
	json[n] = '\0';
	cr_assert_eq(faas_invoke_payload(rt, "echo", json, n, th_collect, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_REJECTED);
	cr_assert_str_eq(faas_activation_error_type(calls.acts[0]),
	                 "RequestEntityTooLargeException");
	/* Just under the limit passes. */
	n = FAAS_DEFAULT_PAYLOAD_LIMIT - 16;
	json[n - 1] = '"';
	cr_assert_eq(faas_invoke_payload(rt, "echo", json, n, th_collect, &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 2, TH_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[1]), FAAS_STATUS_SUCCESS);
	free(json);
}

Test(invoke, default_result_limit_is_6mb, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("alloc_bomb"), "big_result");
	faas_activation *act;
	char json[64];

	fo.memory_mb = 512;
	th_register(rt, "big", &fo);
	snprintf(json, sizeof(json), "{\"size\":%u}", FAAS_DEFAULT_RESULT_LIMIT);
	act = th_call(rt, "big", json);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_DEVELOPER_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Function.ResponseSizeTooLarge");
	faas_activation_free(act);
	snprintf(json, sizeof(json), "{\"size\":%u}", FAAS_DEFAULT_RESULT_LIMIT - 2);
	act = th_call(rt, "big", json);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
}

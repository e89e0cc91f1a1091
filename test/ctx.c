/* The handler's context: getters, logs (bounded, through the sink), errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(ctx, .timeout = 30);

static uv_loop_t loop;
static faas_runtime *rt;
static th_sink sink;

static void setup_with(faas_runtime_options *o)
{
	th_sink_init(&sink);
	th_loop_init(&loop);
	o->log_sink = &sink.sink;
	rt = th_rt_new(&loop, o);
}

static void setup(void)
{
	faas_runtime_options o = th_ropts();

	setup_with(&o);
}

static void teardown(void)
{
	th_rt_free(rt, &loop);
	th_sink_clear(&sink);
}

static int logs_three(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	(void)result;
	for (int i = 0; i < 3; i++)
		faas_log(ctx, "hello %d %s", i, "world");
	return 0;
}

static int logs_then_fails(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	(void)result;
	faas_log(ctx, "about to fail");
	return faas_ctx_error(ctx, NULL, "no type given, code %d", 3);
}

static int error_value(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	int rc = faas_ctx_error(ctx, "T", "m");

	(void)event;
	*result = cJSON_CreateNumber(rc);
	/* Returning 0 after recording an error: report the value seen. */
	return rc < 0 ? 0 : 1;
}

static int long_error(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	char big[5000];

	(void)event;
	(void)result;
	memset(big, 'm', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	return faas_ctx_error(ctx, "Long", "%s", big);
}

static int null_ctx_calls(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	cJSON *out = cJSON_CreateObject();

	(void)ctx;
	(void)event;
	cJSON_AddBoolToObject(out, "request_id_null", faas_ctx_request_id(NULL) == NULL);
	cJSON_AddBoolToObject(out, "function_null", faas_ctx_function_name(NULL) == NULL);
	cJSON_AddBoolToObject(out, "version_null", faas_ctx_function_version(NULL) == NULL);
	cJSON_AddNumberToObject(out, "memory", faas_ctx_memory_limit_mb(NULL));
	cJSON_AddNumberToObject(out, "remaining", (double)faas_ctx_remaining_ms(NULL));
	cJSON_AddNumberToObject(out, "used", (double)faas_ctx_memory_used(NULL));
	cJSON_AddNumberToObject(out, "error", faas_ctx_error(NULL, "T", "m"));
	cJSON_AddBoolToObject(out, "alloc_null", faas_ctx_alloc(NULL, 16) == NULL);
	faas_log(NULL, "nothing");
	faas_ctx_free(NULL, NULL);
	*result = out;
	return 0;
}

static int logs_multiline(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	(void)result;
	faas_log(ctx, "%s", "");
	faas_log(ctx, "after empty");
	return 0;
}

/* ---- getters ---- */

Test(ctx, getters, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("ok"), "ok_info");
	faas_activation *act;
	const cJSON *r;

	fo.memory_mb = 1024;
	fo.timeout_ms = 5000;
	fo.fn_version = "3";
	th_register(rt, "info", &fo);
	th_register_lib(rt, "plain", FX("ok"), "ok_info");

	act = th_call(rt, "info", NULL);
	r = faas_activation_result(act);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r, "request_id")),
	                 faas_activation_id(act));
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r, "function")), "info");
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r, "version")), "3");
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "memory_mb")), 1024);
	cr_assert_leq(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "remaining_ms")), 5000);
	cr_assert_gt(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "remaining_ms")), 4000);
	faas_activation_free(act);

	act = th_call(rt, "plain", NULL);
	r = faas_activation_result(act);
	cr_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(r, "version")), "$LATEST");
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "memory_mb")), 128);
	cr_assert_leq(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "remaining_ms")), 3000);
	faas_activation_free(act);
}

Test(ctx, runtime_defaults_apply)
{
	faas_runtime_options o = th_ropts();
	faas_activation *act;
	const cJSON *r;

	o.default_memory_mb = 512;
	o.default_timeout_ms = 700;
	setup_with(&o);
	th_register_lib(rt, "plain", FX("ok"), "ok_info");
	act = th_call(rt, "plain", NULL);
	r = faas_activation_result(act);
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "memory_mb")), 512);
	cr_assert_leq(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "remaining_ms")), 700);
	cr_assert_eq(faas_activation_usage(act)->memory_mb, 512);
	faas_activation_free(act);
	teardown();
}

Test(ctx, null_ctx_is_harmless, .init = setup, .fini = teardown)
{
	faas_activation *act;
	const cJSON *r;

	th_register_static(rt, "n", null_ctx_calls);
	act = th_call(rt, "n", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	r = faas_activation_result(act);
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "request_id_null")));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "function_null")));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "version_null")));
	cr_assert(cJSON_IsTrue(cJSON_GetObjectItem(r, "alloc_null")));
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "memory")), 0);
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "remaining")), 0);
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "used")), 0);
	cr_assert_eq(cJSON_GetNumberValue(cJSON_GetObjectItem(r, "error")), -1);
	faas_activation_free(act);
}

/* ---- errors ---- */

Test(ctx, error_without_type_is_Error, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_static(rt, "f", logs_then_fails);
	act = th_call(rt, "f", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_APPLICATION_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Error");
	cr_assert_str_eq(faas_activation_error_message(act), "no type given, code 3");
	cr_assert_not_null(strstr(faas_activation_logs(act), "about to fail"),
	                   "logs are kept for failed calls");
	faas_activation_free(act);
}

Test(ctx, error_returns_negative, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_static(rt, "f", error_value);
	act = th_call(rt, "f", NULL);
	/* The handler returned 0 after faas_ctx_error: the recorded value was
	 * negative either way; the status is up to the runtime, the value not. */
	if (faas_activation_status(act) == FAAS_STATUS_SUCCESS)
		cr_assert_lt(cJSON_GetNumberValue(faas_activation_result(act)), 0);
	else
		cr_assert_eq(faas_activation_status(act), FAAS_STATUS_APPLICATION_ERROR);
	faas_activation_free(act);
}

Test(ctx, long_error_message_kept_or_cut_safely, .init = setup, .fini = teardown)
{
	faas_activation *act;
	const char *msg;

	th_register_static(rt, "f", long_error);
	act = th_call(rt, "f", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_APPLICATION_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Long");
	msg = faas_activation_error_message(act);
	cr_assert_not_null(msg);
	cr_assert_geq(strlen(msg), 256);
	cr_assert_eq(strncmp(msg, "mmmmmmmm", 8), 0);
	faas_activation_free(act);
}

/* ---- logs ---- */

static int count_lines(const char *logs)
{
	int n = 0;

	for (const char *p = logs; *p; p++)
		if (*p == '\n')
			n++;
	if (*logs && logs[strlen(logs) - 1] != '\n')
		n++;
	return n;
}

Test(ctx, logs_kept_in_activation, .init = setup, .fini = teardown)
{
	faas_activation *act;
	const char *logs;

	th_register_static(rt, "l", logs_three);
	act = th_call(rt, "l", NULL);
	logs = faas_activation_logs(act);
	cr_assert_not_null(logs);
	const char *a = strstr(logs, "hello 0 world");
	const char *b = strstr(logs, "hello 1 world");
	const char *c = strstr(logs, "hello 2 world");
	cr_assert(a && b && c, "logs: \"%s\"", logs);
	cr_assert(a < b && b < c, "in order");
	cr_assert_eq(count_lines(logs), 3, "logs: \"%s\"", logs);
	faas_activation_free(act);
}

Test(ctx, logs_from_fixture, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_lib(rt, "l", FX("ok"), "ok_logs");
	act = th_call(rt, "l", "{\"lines\":5}");
	cr_assert_eq(count_lines(faas_activation_logs(act)), 5);
	cr_assert_not_null(strstr(faas_activation_logs(act), "line 4"));
	faas_activation_free(act);
}

Test(ctx, logs_bounded_with_marker)
{
	faas_runtime_options o = th_ropts();
	faas_activation *act;
	const char *logs;

	o.log_limit_bytes = 256;
	setup_with(&o);
	th_register_lib(rt, "l", FX("ok"), "ok_logs");
	act = th_call(rt, "l", "{\"lines\":1000}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	logs = faas_activation_logs(act);
	cr_assert_leq(strlen(logs), 256 + 128, "%zu bytes kept", strlen(logs));
	cr_assert_geq(strlen(logs), 128, "most of the limit is used");
	cr_assert_eq(strncmp(logs, "line 0\n", 7), 0, "the first lines are kept");
	cr_assert_null(strstr(logs, "line 999\n"), "the last lines are dropped");
	cr_assert_not_null(strstr(logs, "truncated"), "a marker records the loss: \"%s\"", logs);
	faas_activation_free(act);

	/* Under the limit: no marker. */
	act = th_call(rt, "l", "{\"lines\":3}");
	cr_assert_null(strstr(faas_activation_logs(act), "truncated"));
	faas_activation_free(act);
	teardown();
}

Test(ctx, empty_log_line, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_static(rt, "l", logs_multiline);
	act = th_call(rt, "l", NULL);
	cr_assert_not_null(strstr(faas_activation_logs(act), "after empty"));
	faas_activation_free(act);
}

/* ---- the log sink ---- */

static int find_line(int from, const char *prefix)
{
	for (int i = from; i < sink.n; i++)
		if (strncmp(sink.lines[i], prefix, strlen(prefix)) == 0)
			return i;
	return -1;
}

Test(ctx, sink_start_lines_end_report, .init = setup, .fini = teardown)
{
	faas_activation *act;
	char start[128], end[128], report[512];
	int i_start, i_end, i_report;

	th_register_static(rt, "l", logs_three);
	act = th_call(rt, "l", NULL);
	snprintf(start, sizeof(start), "START RequestId: %s", faas_activation_id(act));
	snprintf(end, sizeof(end), "END RequestId: %s", faas_activation_id(act));
	cr_assert_gt(faas_activation_format_report(report, sizeof(report), act), 0);

	cr_assert_eq(sink.n, 6, "START, 3 lines, END, REPORT; got %d lines", sink.n);
	i_start = find_line(0, start);
	i_end = find_line(0, end);
	i_report = find_line(0, "REPORT RequestId: ");
	cr_assert_eq(i_start, 0);
	cr_assert_not_null(strstr(sink.lines[0], "Version: $LATEST"), "\"%s\"", sink.lines[0]);
	cr_assert_eq(find_line(0, "hello 0 world"), 1);
	cr_assert_eq(find_line(0, "hello 1 world"), 2);
	cr_assert_eq(find_line(0, "hello 2 world"), 3);
	cr_assert_eq(i_end, 4);
	cr_assert_str_eq(sink.lines[4], end);
	cr_assert_eq(i_report, 5);
	cr_assert_str_eq(sink.lines[5], report, "the sink's REPORT is the formatted one");
	for (int i = 0; i < sink.n; i++) {
		cr_assert_str_eq(sink.ids[i], faas_activation_id(act));
		cr_assert_str_eq(sink.functions[i], "l");
		cr_assert_null(strchr(sink.lines[i], '\n'), "lines come without newline");
	}
	faas_activation_free(act);
}

Test(ctx, sink_init_duration_only_on_cold, .init = setup, .fini = teardown)
{
	faas_activation *act;
	int r;

	th_register_lib(rt, "ok", FX("ok"), "ok");
	act = th_call(rt, "ok", NULL);
	faas_activation_free(act);
	r = find_line(0, "REPORT RequestId: ");
	cr_assert_geq(r, 0);
	cr_assert_not_null(strstr(sink.lines[r], "\tInit Duration: "), "\"%s\"", sink.lines[r]);
	act = th_call(rt, "ok", NULL);
	faas_activation_free(act);
	r = find_line(r + 1, "REPORT RequestId: ");
	cr_assert_geq(r, 0);
	cr_assert_null(strstr(sink.lines[r], "Init Duration"), "\"%s\"", sink.lines[r]);
}

Test(ctx, sink_lines_grouped_per_call, .init = setup, .fini = teardown)
{
	th_calls c;

	th_calls_init(&c);
	th_register_static(rt, "l", logs_three);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(th_invoke(rt, "l", NULL, &c), 0);
	cr_assert(th_wait(rt, &c.n, 10, TH_WAIT_MS));
	cr_assert_eq(sink.n, 60);
	for (int k = 0; k < 10; k++) {
		int base = k * 6;

		cr_assert_eq(strncmp(sink.lines[base], "START ", 6), 0);
		cr_assert_eq(strncmp(sink.lines[base + 4], "END ", 4), 0);
		cr_assert_eq(strncmp(sink.lines[base + 5], "REPORT ", 7), 0);
		for (int j = 1; j < 6; j++)
			cr_assert_str_eq(sink.ids[base + j], sink.ids[base]);
	}
	th_calls_clear(&c);
}

Test(ctx, sink_sees_failed_and_timed_out_calls, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_lib(FX("loops"), "loops_cooperative");
	faas_activation *act;

	fo.timeout_ms = 30;
	th_register(rt, "coop", &fo);
	th_register_static(rt, "f", logs_then_fails);
	act = th_call(rt, "f", NULL);
	faas_activation_free(act);
	act = th_call(rt, "coop", NULL);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_TIMEOUT);
	faas_activation_free(act);
	int r1 = find_line(0, "REPORT ");
	int r2 = r1 >= 0 ? find_line(r1 + 1, "REPORT ") : -1;
	cr_assert_geq(r1, 0);
	cr_assert_geq(r2, 0, "timed-out calls get a REPORT too");
}

Test(ctx, stderr_sink_exists)
{
	faas_log_sink *s = faas_log_sink_stderr();

	cr_assert_not_null(s);
	cr_assert_eq(s->version, FAAS_LOG_SINK_VERSION);
	cr_assert_not_null(s->write);
	cr_assert_eq(faas_log_sink_stderr(), s);
	s->write(s, "00000000000000000000000000000000", "f", "a line", 6);
}

Test(ctx, no_sink_discards)
{
	uv_loop_t l;
	faas_runtime *r;
	faas_activation *act;

	th_loop_init(&l);
	r = th_rt_new(&l, NULL);
	th_register_static(r, "l", logs_three);
	act = th_call(r, "l", NULL);
	cr_assert_not_null(strstr(faas_activation_logs(act), "hello 2 world"));
	faas_activation_free(act);
	th_rt_free(r, &l);
}

/* Activations: ids, the store (lookup, eviction, listing), references,
 * status names, the REPORT line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(activation, .timeout = 30);

static uv_loop_t loop;
static faas_runtime *rt;

static int quick(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	*result = event ? cJSON_Duplicate(event, true) : NULL;
	return 0;
}

static int sleeps_20(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	th_sleep_ms(20);
	*result = cJSON_CreateTrue();
	return 0;
}

static void setup_cap(unsigned int capacity)
{
	faas_runtime_options o = th_ropts();

	th_loop_init(&loop);
	o.activation_capacity = capacity;
	rt = th_rt_new(&loop, &o);
	th_register_static(rt, "a", quick);
	th_register_static(rt, "b", quick);
	th_register_static(rt, "c", quick);
}

static void setup(void)
{
	setup_cap(FAAS_DEFAULT_ACTIVATION_CAPACITY);
}

static void teardown(void)
{
	th_rt_free(rt, &loop);
}

/* ---- statuses ---- */

Test(activation, status_names)
{
	cr_assert_str_eq(faas_status_name(FAAS_STATUS_SUCCESS), "success");
	cr_assert_str_eq(faas_status_name(FAAS_STATUS_APPLICATION_ERROR), "application_error");
	cr_assert_str_eq(faas_status_name(FAAS_STATUS_DEVELOPER_ERROR), "developer_error");
	cr_assert_str_eq(faas_status_name(FAAS_STATUS_TIMEOUT), "timeout");
	cr_assert_str_eq(faas_status_name(FAAS_STATUS_OOM), "oom");
	cr_assert_str_eq(faas_status_name(FAAS_STATUS_THROTTLED), "throttled");
	cr_assert_str_eq(faas_status_name(FAAS_STATUS_REJECTED), "rejected");
	cr_assert_str_eq(faas_status_name(FAAS_STATUS_INTERNAL_ERROR), "internal_error");
	cr_assert_str_eq(faas_status_name((faas_status)FAAS_STATUS_COUNT), "unknown");
	cr_assert_str_eq(faas_status_name((faas_status)-1), "unknown");
	cr_assert_str_eq(faas_status_name((faas_status)1000), "unknown");
	cr_assert_eq(FAAS_STATUS_INTERNAL_ERROR + 1, FAAS_STATUS_COUNT);
}

Test(activation, billed_statuses)
{
	cr_assert(faas_status_billed(FAAS_STATUS_SUCCESS));
	cr_assert(faas_status_billed(FAAS_STATUS_APPLICATION_ERROR));
	cr_assert(faas_status_billed(FAAS_STATUS_DEVELOPER_ERROR));
	cr_assert(faas_status_billed(FAAS_STATUS_TIMEOUT));
	cr_assert(faas_status_billed(FAAS_STATUS_OOM));
	cr_assert_not(faas_status_billed(FAAS_STATUS_THROTTLED));
	cr_assert_not(faas_status_billed(FAAS_STATUS_REJECTED));
	cr_assert_not(faas_status_billed(FAAS_STATUS_INTERNAL_ERROR));
	cr_assert_not(faas_status_billed((faas_status)FAAS_STATUS_COUNT));
}

/* ---- ids ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(activation, ids_are_hex_and_unique, .init = setup, .fini = teardown)
{
	enum { N = 500 };
	th_calls *c = malloc(sizeof(*c));
	char *ids[N];

	th_calls_init(c);
	for (int i = 0; i < N; i++)
		cr_assert_eq(th_invoke(rt, i % 2 ? "a" : "b", NULL, c), 0);
	cr_assert(th_wait(rt, &c->n, N, TH_WAIT_MS));
	for (int i = 0; i < N; i++) {
		ids[i] = (char *)faas_activation_id(c->acts[i]);
		cr_assert(th_is_hex_id(ids[i]), "bad id \"%s\"", ids[i]);
	}
	qsort(ids, N, sizeof(ids[0]), cmp_str);
	for (int i = 1; i < N; i++)
		cr_assert_str_neq(ids[i - 1], ids[i], "duplicate id %s", ids[i]);
	th_calls_clear(c);
	free(c);
}

Test(activation, ids_differ_across_runtimes, .init = setup, .fini = teardown)
{
	faas_runtime *other = th_rt_new(NULL, NULL);
	faas_activation *x, *y;

	th_register_static(other, "a", quick);
	x = th_call(rt, "a", NULL);
	y = th_call(other, "a", NULL);
	cr_assert_str_neq(faas_activation_id(x), faas_activation_id(y));
	faas_activation_free(x);
	faas_activation_free(y);
	th_rt_free(other, NULL);
}

Test(activation, request_id_is_activation_id, .init = setup, .fini = teardown)
{
	faas_activation *act;

	th_register_lib(rt, "info", FX("ok"), "ok_info");
	act = th_call(rt, "info", NULL);
	cr_assert_str_eq(
	    cJSON_GetStringValue(cJSON_GetObjectItem(faas_activation_result(act), "request_id")),
	    faas_activation_id(act));
	faas_activation_free(act);
}

/* ---- the store ---- */

Test(activation, lookup_finds_kept, .init = setup, .fini = teardown)
{
	faas_activation *act = th_call(rt, "a", "{\"v\":1}");
	faas_activation *found = NULL;
	char unknown[33];

	cr_assert_eq(faas_activation_lookup(&found, rt, faas_activation_id(act)), 0);
	cr_assert_not_null(found);
	cr_assert_str_eq(faas_activation_id(found), faas_activation_id(act));
	cr_assert_eq(faas_activation_status(found), FAAS_STATUS_SUCCESS);
	cr_assert(th_json_eq(faas_activation_result(found), "{\"v\":1}"));
	faas_activation_free(found);

	/* A well-formed id that never existed. */
	snprintf(unknown, sizeof(unknown), "%s", faas_activation_id(act));
	unknown[0] = unknown[0] == '0' ? '1' : '0';
	found = (faas_activation *)0x1;
	cr_assert_eq(faas_activation_lookup(&found, rt, unknown), FAAS_ENOTFOUND);
	cr_assert_eq(faas_activation_lookup(&found, rt, "not-an-id"), FAAS_ENOTFOUND);
	cr_assert_eq(faas_activation_lookup(&found, rt, ""), FAAS_ENOTFOUND);
	faas_activation_free(act);
}

Test(activation, lookup_null_arguments, .init = setup, .fini = teardown)
{
	faas_activation *found;

	cr_assert_eq(faas_activation_lookup(NULL, rt, "x"), FAAS_EINVAL);
	cr_assert_eq(faas_activation_lookup(&found, NULL, "x"), FAAS_EINVAL);
	cr_assert_eq(faas_activation_lookup(&found, rt, NULL), FAAS_EINVAL);
	cr_assert_eq(faas_activation_list(NULL, 4, rt, NULL), FAAS_EINVAL);
}

Test(activation, eviction_of_oldest)
{
	faas_activation *acts[5];
	faas_activation *found;

	setup_cap(3);
	for (int i = 0; i < 5; i++)
		acts[i] = th_call(rt, "a", NULL);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(faas_activation_lookup(&found, rt, faas_activation_id(acts[i])),
		             FAAS_ENOTFOUND, "activation %d should be evicted", i);
	for (int i = 2; i < 5; i++) {
		cr_assert_eq(faas_activation_lookup(&found, rt, faas_activation_id(acts[i])), 0,
		             "activation %d should be kept", i);
		faas_activation_free(found);
	}
	/* Evicted activations the caller holds stay valid. */
	cr_assert(th_is_hex_id(faas_activation_id(acts[0])));
	cr_assert_eq(faas_activation_status(acts[0]), FAAS_STATUS_SUCCESS);
	for (int i = 0; i < 5; i++)
		faas_activation_free(acts[i]);
	teardown();
}

Test(activation, list_newest_first_and_filtered, .init = setup, .fini = teardown)
{
	const char *order[] = {"a", "b", "a", "b", "c"};
	faas_activation *acts[5];
	const faas_activation *list[16];
	int n;

	for (int i = 0; i < 5; i++)
		acts[i] = th_call(rt, order[i], NULL);

	n = faas_activation_list(list, 16, rt, NULL);
	cr_assert_eq(n, 5);
	for (int i = 0; i < 5; i++)
		cr_assert_str_eq(faas_activation_id(list[i]), faas_activation_id(acts[4 - i]),
		                 "position %d", i);
	faas_activation_list_free(list, (size_t)n);

	n = faas_activation_list(list, 16, rt, "a");
	cr_assert_eq(n, 2);
	cr_assert_str_eq(faas_activation_id(list[0]), faas_activation_id(acts[2]));
	cr_assert_str_eq(faas_activation_id(list[1]), faas_activation_id(acts[0]));
	faas_activation_list_free(list, (size_t)n);

	n = faas_activation_list(list, 16, rt, "c");
	cr_assert_eq(n, 1);
	cr_assert_str_eq(faas_activation_function(list[0]), "c");
	faas_activation_list_free(list, (size_t)n);

	n = faas_activation_list(list, 2, rt, NULL);
	cr_assert_eq(n, 2, "at most max");
	cr_assert_str_eq(faas_activation_id(list[0]), faas_activation_id(acts[4]));
	cr_assert_str_eq(faas_activation_id(list[1]), faas_activation_id(acts[3]));
	faas_activation_list_free(list, (size_t)n);

	cr_assert_eq(faas_activation_list(list, 16, rt, "nobody"), 0);
	cr_assert_eq(faas_activation_list(list, 0, rt, NULL), 0);
	for (int i = 0; i < 5; i++)
		faas_activation_free(acts[i]);
}

Test(activation, list_after_eviction)
{
	const faas_activation *list[16];
	faas_activation *last = NULL;

	setup_cap(2);
	for (int i = 0; i < 5; i++) {
		faas_activation_free(last);
		last = th_call(rt, i < 4 ? "a" : "b", NULL);
	}
	cr_assert_eq(faas_activation_list(list, 16, rt, NULL), 2);
	cr_assert_str_eq(faas_activation_id(list[0]), faas_activation_id(last));
	faas_activation_list_free(list, 2);
	cr_assert_eq(faas_activation_list(list, 16, rt, "a"), 1);
	faas_activation_list_free(list, 1);
	faas_activation_free(last);
	teardown();
}

/* The listed pointers are references: completions that evict them from the
 * store, and freeing the runtime, leave them valid (ASan sees any use after
 * free). */
Test(activation, listed_activation_outlives_eviction)
{
	const faas_activation *list[4];
	faas_activation *found;
	char ids[2][40];
	int n;

	setup_cap(2);
	faas_activation_free(th_call(rt, "a", "{\"n\":1}"));
	faas_activation_free(th_call(rt, "a", "{\"n\":2}"));
	n = faas_activation_list(list, 4, rt, "a");
	cr_assert_eq(n, 2);
	for (int i = 0; i < 2; i++)
		snprintf(ids[i], sizeof(ids[i]), "%s", faas_activation_id(list[i]));
	for (int i = 0; i < 3; i++)
		faas_activation_free(th_call(rt, "b", "{\"n\":3}"));
	for (int i = 0; i < 2; i++)
		cr_assert_eq(faas_activation_lookup(&found, rt, ids[i]), FAAS_ENOTFOUND,
		             "listed activation %d should be evicted from the store", i);
	cr_assert_eq(faas_activation_list(list + 2, 2, rt, "a"), 0);
	teardown();

	for (int i = 0; i < 2; i++) {
		cr_assert_str_eq(faas_activation_id(list[i]), ids[i]);
		cr_assert_str_eq(faas_activation_function(list[i]), "a");
		cr_assert_eq(faas_activation_status(list[i]), FAAS_STATUS_SUCCESS);
	}
	cr_assert(th_json_eq(faas_activation_result(list[0]), "{\"n\":2}"));
	cr_assert(th_json_eq(faas_activation_result(list[1]), "{\"n\":1}"));
	faas_activation_list_free(list, 2);
	cr_assert_null(list[0]);
	cr_assert_null(list[1]);
}

Test(activation, list_free_skips_null)
{
	const faas_activation *list[2] = {NULL, NULL};

	faas_activation_list_free(NULL, 3);
	faas_activation_list_free(list, 2);
	cr_assert_null(list[0]);
}

Test(activation, dup_and_free, .init = setup, .fini = teardown)
{
	faas_activation *act = th_call(rt, "a", NULL);
	faas_activation *d = faas_activation_dup(act);

	cr_assert_eq(d, act);
	faas_activation_free(act);
	cr_assert(th_is_hex_id(faas_activation_id(d)));
	faas_activation_free(d);
	cr_assert_null(faas_activation_dup(NULL));
	faas_activation_free(NULL);
}

Test(activation, outlives_runtime)
{
	faas_activation *act;

	setup();
	act = th_call(rt, "a", "[1,2]");
	teardown();
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert(th_json_eq(faas_activation_result(act), "[1,2]"));
	cr_assert_str_eq(faas_activation_function(act), "a");
	faas_activation_free(act);
}

Test(activation, getters_on_null)
{
	char buf[8];

	cr_assert_null(faas_activation_id(NULL));
	cr_assert_null(faas_activation_function(NULL));
	cr_assert_null(faas_activation_result(NULL));
	cr_assert_null(faas_activation_error_type(NULL));
	cr_assert_null(faas_activation_error_message(NULL));
	cr_assert_null(faas_activation_usage(NULL));
	cr_assert_not(faas_activation_started(NULL));
	cr_assert_eq(faas_activation_format_report(buf, sizeof(buf), NULL), FAAS_EINVAL);
}

Test(activation, logs_empty_string_when_none, .init = setup, .fini = teardown)
{
	faas_activation *act = th_call(rt, "a", NULL);

	cr_assert_not_null(faas_activation_logs(act));
	cr_assert_str_eq(faas_activation_logs(act), "");
	faas_activation_free(act);
}

/* ---- the REPORT line ---- */

struct report {
	char id[64];
	double duration;
	unsigned long billed, size, used;
	bool has_init;
	double init;
};

static void parse_report(const char *line, struct report *r)
{
	int n = 0;
	const char *rest;

	memset(r, 0, sizeof(*r));
	cr_assert_eq(sscanf(line,
	                    "REPORT RequestId: %63[0-9a-f]\tDuration: %lf ms\tBilled Duration: %lu "
	                    "ms\tMemory Size: %lu MB\tMax Memory Used: %lu MB%n",
	                    r->id, &r->duration, &r->billed, &r->size, &r->used, &n),
	             5, "unexpected REPORT line \"%s\"", line);
	rest = line + n;
	if (*rest != '\0') {
		int m = 0;

		cr_assert_eq(sscanf(rest, "\tInit Duration: %lf ms%n", &r->init, &m), 1,
		             "unexpected REPORT tail \"%s\"", rest);
		cr_assert_eq(rest[m], '\0', "unexpected REPORT tail \"%s\"", rest);
		r->has_init = true;
	}
	/* Two decimals on the durations, as Lambda prints them. */
	const char *d = strstr(line, "Duration: ");
	const char *dot = strchr(d, '.');
	cr_assert_not_null(dot);
	cr_assert_eq(strncmp(dot + 3, " ms", 3), 0, "duration needs two decimals: \"%s\"", line);
}

Test(activation, report_format_warm, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(sleeps_20);
	faas_activation *act;
	char buf[512];
	struct report r;
	int len;

	fo.memory_mb = 256;
	th_register(rt, "slow", &fo);
	act = th_call(rt, "slow", NULL);
	faas_activation_free(act);
	act = th_call(rt, "slow", NULL);
	cr_assert_not(faas_activation_usage(act)->cold);
	len = faas_activation_format_report(buf, sizeof(buf), act);
	cr_assert_gt(len, 0);
	cr_assert_eq((size_t)len, strlen(buf));
	parse_report(buf, &r);
	cr_assert_str_eq(r.id, faas_activation_id(act));
	cr_assert_geq(r.duration, 19.0);
	cr_assert_float_eq(r.duration, faas_activation_usage(act)->duration_us / 1000.0, 0.01);
	cr_assert_eq(r.billed, faas_activation_usage(act)->billed_ms);
	cr_assert_geq(r.billed, 20);
	cr_assert_eq(r.size, 256);
	cr_assert_not(r.has_init, "warm calls have no Init Duration");
	faas_activation_free(act);
}

Test(activation, report_format_cold_has_init_duration, .init = setup, .fini = teardown)
{
	faas_activation *act;
	char buf[512];
	struct report r;

	th_register_lib(rt, "ok", FX("ok"), "ok");
	act = th_call(rt, "ok", NULL);
	cr_assert(faas_activation_usage(act)->cold);
	cr_assert_gt(faas_activation_format_report(buf, sizeof(buf), act), 0);
	parse_report(buf, &r);
	cr_assert(r.has_init, "cold calls report Init Duration: \"%s\"", buf);
	cr_assert_float_eq(r.init, faas_activation_usage(act)->init_us / 1000.0, 0.01);
	cr_assert_eq(r.size, 128);
	faas_activation_free(act);
}

Test(activation, report_max_memory_in_mb, .init = setup, .fini = teardown)
{
	faas_activation *act;
	char buf[512];
	struct report r;
	uint64_t peak;

	th_register_lib(rt, "big", FX("alloc_bomb"), "big_result");
	act = th_call(rt, "big", "{\"size\":3000000}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	peak = faas_activation_usage(act)->max_memory_bytes;
	cr_assert_gt(faas_activation_format_report(buf, sizeof(buf), act), 0);
	parse_report(buf, &r);
	/* Rounded either way to whole MB. */
	cr_assert_geq((double)r.used + 1.0, peak / 1048576.0);
	cr_assert_leq((double)r.used, peak / 1048576.0 + 1.0);
	faas_activation_free(act);
}

Test(activation, report_truncates_like_snprintf, .init = setup, .fini = teardown)
{
	faas_activation *act = th_call(rt, "a", NULL);
	char full[512], small[16];
	int need, got;

	need = faas_activation_format_report(full, sizeof(full), act);
	memset(small, 'z', sizeof(small));
	got = faas_activation_format_report(small, sizeof(small), act);
	cr_assert_eq(got, need);
	cr_assert_eq(small[15], '\0');
	cr_assert_eq(strncmp(small, full, 15), 0);
	cr_assert_eq(faas_activation_format_report(NULL, 0, act), need);
	faas_activation_free(act);
}

Test(activation, throttled_and_rejected_not_started, .init = setup, .fini = teardown)
{
	faas_fn *fn = faas_fn_lookup(rt, "c");
	faas_activation *act;
	uint64_t w0 = th_wall_us();

	cr_assert_eq(faas_fn_set_enabled(fn, false), 0);
	act = th_call(rt, "c", NULL);
	cr_assert_not(faas_activation_started(act));
	cr_assert_eq(faas_activation_usage(act)->billed_ms, 0);
	cr_assert_eq(faas_activation_usage(act)->duration_us, 0);
	cr_assert_eq(faas_activation_usage(act)->status, FAAS_STATUS_REJECTED);
	cr_assert(th_is_hex_id(faas_activation_id(act)));
	/* The admission time stands for the start. */
	cr_assert_geq(faas_activation_start_us(act) + 1000, w0);
	cr_assert_leq(faas_activation_start_us(act), faas_activation_end_us(act));
	faas_activation_free(act);
}

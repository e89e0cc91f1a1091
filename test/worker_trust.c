/* What the host believes of a process worker: nothing it says about a
 * call's accounting, and no frame that is not the one its call expects. The
 * fixture (fixtures/forger.c) writes frames on the channel itself, as
 * hostile code would, and leaves threads running. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(worker_trust, .timeout = 120);

static uv_loop_t loop;
static faas_runtime *rt;
static th_billing bill;

static void setup(void)
{
	faas_runtime_options o = th_ropts();
	faas_fn_options fo = th_fopts_lib(FX("forger"), "forger");

	th_billing_init(&bill);
	th_loop_init(&loop);
	o.billing = &bill.hook;
	rt = th_rt_new(&loop, &o);
	fo.isolation = FAAS_ISOLATION_PROCESS;
	fo.timeout_ms = 10000;
	fo.process_max_workers = 1;
	th_register(rt, "f", &fo);
}

static void teardown(void)
{
	th_rt_free(rt, &loop);
}

static double pid_of(const faas_activation *act)
{
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(faas_activation_result(act), "pid");

	cr_assert(cJSON_IsNumber(pid), "no pid in the result: %s: %s",
	          faas_activation_error_type(act), faas_activation_error_message(act));
	return pid->valuedouble;
}

/* One call that must succeed; its worker's pid. */
static double call_pid(void)
{
	faas_activation *act = th_call(rt, "f", "{\"mode\":\"pid\"}");
	double pid;

	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "%s: %s",
	             faas_activation_error_type(act), faas_activation_error_message(act));
	pid = pid_of(act);
	faas_activation_free(act);
	return pid;
}

/* A call that must end developer_error with the protocol violation msg, on
 * a worker that is then replaced. */
static void violation(const char *event, const char *msg)
{
	double before = call_pid();
	faas_activation *act = th_call(rt, "f", event);

	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_DEVELOPER_ERROR, "%s: %s: %s",
	             faas_status_name(faas_activation_status(act)), faas_activation_error_type(act),
	             faas_activation_error_message(act));
	cr_assert(strstr(faas_activation_error_message(act), msg), "message '%s'",
	          faas_activation_error_message(act));
	cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(act)), 1);
	faas_activation_free(act);
	cr_assert_neq(call_pid(), before, "the worker was not replaced");
}

Test(worker_trust, result_for_another_call_kills_the_worker, .init = setup, .fini = teardown)
{
	/* The worker served one call (call_pid): this is its call 2. */
	violation("{\"mode\":\"result_for\",\"seq\":7}",
	          "protocol violation: a RESULT frame for call 7 during call 2");
}

Test(worker_trust, state_request_for_another_call_kills_the_worker, .init = setup, .fini = teardown)
{
	violation("{\"mode\":\"state_for\",\"seq\":1}",
	          "protocol violation: a STATE_REQ frame for call 1 during call 2");
}

Test(worker_trust, second_ready_kills_the_worker, .init = setup, .fini = teardown)
{
	violation("{\"mode\":\"ready\"}", "protocol violation: a READY frame after READY");
}

/* The replay: a handler answers its own call early with the right number,
 * and goes on running. Its forged answer cannot be told from a real one
 * (the handler shares the worker's memory), but the host's clock and the
 * kernel bill only what happened up to it, and the real answer that comes
 * later, during the next call, is refused: that call never receives it. */
Test(worker_trust, replayed_result_never_reaches_the_next_call, .init = setup, .fini = teardown)
{
	double before = call_pid();
	faas_activation *first, *next;

	first = th_call(rt, "f", "{\"mode\":\"result_for\",\"seq\":2,\"ms\":300}");
	cr_assert_eq(faas_activation_status(first), FAAS_STATUS_SUCCESS);
	cr_assert(th_json_eq(faas_activation_result(first), "{\"forged\":true}"));
	cr_assert_lt(faas_activation_usage(first)->duration_us, 300000u,
	             "ended by the forged frame");
	next = th_call(rt, "f", "{\"mode\":\"pid\"}");
	cr_assert_eq(faas_activation_status(next), FAAS_STATUS_DEVELOPER_ERROR, "%s: %s",
	             faas_activation_error_type(next), faas_activation_error_message(next));
	cr_assert(strstr(faas_activation_error_message(next),
	                 "protocol violation: a RESULT frame for call 2 during call 3"),
	          "%s", faas_activation_error_message(next));
	cr_assert_null(faas_activation_result(next), "the earlier call's result was refused");
	faas_activation_free(first);
	faas_activation_free(next);
	cr_assert_neq(call_pid(), before);
}

/* CPU is the kernel's count for the whole worker, threads included. */
Test(worker_trust, cpu_is_the_kernels_count, .init = setup, .fini = teardown)
{
	faas_activation *act = th_call(rt, "f", "{\"mode\":\"spin\",\"ms\":150,\"threads\":2}");
	const faas_usage *u = faas_activation_usage(act);

	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_geq(u->cpu_us, 280000u, "two threads of 150 ms: %llu us",
	              (unsigned long long)u->cpu_us);
	faas_activation_free(act);
	/* Sleeping costs no CPU; the duration is the host's clock. */
	act = th_call(rt, "f", "{\"mode\":\"sleep\",\"ms\":200}");
	u = faas_activation_usage(act);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_geq(u->duration_us, 200000u);
	cr_assert_lt(u->cpu_us, 50000u, "%llu us", (unsigned long long)u->cpu_us);
	cr_assert_geq(u->billed_ms, 200u);
	faas_activation_free(act);
}

/* Max Memory Used is the kernel's peak of this call, reset before it. */
Test(worker_trust, peak_memory_is_the_kernels_and_per_call, .init = setup, .fini = teardown)
{
	faas_activation *act = th_call(rt, "f", "{\"mode\":\"touch\",\"mb\":64}");
	uint64_t big, small;

	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	big = faas_activation_usage(act)->max_memory_bytes;
	faas_activation_free(act);
	act = th_call(rt, "f", "{\"mode\":\"pid\"}");
	small = faas_activation_usage(act)->max_memory_bytes;
	faas_activation_free(act);
	cr_assert_geq(big, 64u << 20, "%llu", (unsigned long long)big);
	cr_assert_lt(small, big - (32u << 20), "the next call's peak is its own: %llu",
	             (unsigned long long)small);
}

/* A thread left running after its call would run unbilled and write into
 * the next call's log: the worker is recycled and the call's log says so. */
Test(worker_trust, leftover_thread_recycles_the_worker, .init = setup, .fini = teardown)
{
	faas_activation *act = th_call(rt, "f", "{\"mode\":\"thread\"}");
	double pid;

	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "%s: %s",
	             faas_activation_error_type(act), faas_activation_error_message(act));
	pid = pid_of(act);
	cr_assert(strstr(faas_activation_logs(act),
	                 "[libfaas] the handler left 1 thread running: worker recycled"),
	          "log: %s", faas_activation_logs(act));
	faas_activation_free(act);
	act = th_call(rt, "f", "{\"mode\":\"sleep\",\"ms\":20}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_neq(pid_of(act), pid, "a new worker");
	cr_assert_null(strstr(faas_activation_logs(act), "leftover"), "log: %s",
	               faas_activation_logs(act));
	faas_activation_free(act);
}

/* A cold call's init is the worker's start up to READY, by the host's clock,
 * and none of it is the call's duration. */
Test(worker_trust, init_is_not_the_calls, .init = setup, .fini = teardown)
{
	faas_activation *act = th_call(rt, "f", "{\"mode\":\"sleep\",\"ms\":1}");
	const faas_usage *u = faas_activation_usage(act);

	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert(u->cold);
	cr_assert_gt(u->init_us, 0u);
	cr_assert_lt(u->duration_us, 1000000u);
	faas_activation_free(act);
	act = th_call(rt, "f", "{\"mode\":\"sleep\",\"ms\":1}");
	cr_assert(!faas_activation_usage(act)->cold);
	cr_assert_eq(faas_activation_usage(act)->init_us, 0u);
	faas_activation_free(act);
}

/* Process isolation: adversarial handlers in faas-worker processes. Every
 * case checks the status and error, exactly one usage record, that the
 * function's next call succeeds on a new worker, and that another function
 * answers while the bad call is in flight. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "helpers.h"

TestSuite(process, .timeout = 120);

#ifndef CHURN_CALLS
/* The 1000 calls; under AddressSanitizer 100, since its quarantine
 * keeps freed memory resident and the RSS check would measure ASan, not us. */
#if defined(__SANITIZE_ADDRESS__)
#define CHURN_CALLS 100
#else
#define CHURN_CALLS 1000
#endif
#endif
/* Growth allowed over the churn: fds must not grow at all beyond a few
 * transient ones, RSS by at most this (allocator noise, activation store). */
#define CHURN_FD_SLACK 2
#define CHURN_RSS_SLACK_KB (16 * 1024)
#define BAD_WAIT_MS 20000
#define LOG_LIMIT 4096

static uv_loop_t loop;
static faas_runtime *rt;
static th_calls calls;
static th_billing bill;

static faas_fn_options popts(uint32_t timeout_ms)
{
	faas_fn_options o = th_fopts_lib(FX("adversarial"), "adv");

	o.isolation = FAAS_ISOLATION_PROCESS;
	o.timeout_ms = timeout_ms;
	return o;
}

static void setup(void)
{
	faas_runtime_options o = th_ropts();
	faas_fn_options fo;

	th_calls_init(&calls);
	th_billing_init(&bill);
	th_loop_init(&loop);
	o.billing = &bill.hook;
	o.log_limit_bytes = LOG_LIMIT;
	rt = th_rt_new(&loop, &o);
	fo = popts(10000);
	th_register(rt, "adv", &fo);
	th_register(rt, "other", &fo);
	fo = popts(500);
	th_register(rt, "spin", &fo);
}

static void teardown(void)
{
	th_rt_free(rt, &loop);
	th_calls_clear(&calls);
}

static double pid_of(const faas_activation *act)
{
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(faas_activation_result(act), "pid");

	cr_assert(cJSON_IsNumber(pid), "no pid in the result");
	return pid->valuedouble;
}

/* A good call; returns the worker's pid. */
static double call_ok(const char *function)
{
	faas_activation *act = th_call(rt, function, "{\"mode\":\"ok\"}");
	double pid;

	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "%s: %s: %s", function,
	             faas_activation_error_type(act), faas_activation_error_message(act));
	pid = pid_of(act);
	faas_activation_free(act);
	return pid;
}

/* Run one bad call of fn with event; check the other function meanwhile and
 * the bad function afterwards. Returns the activation (the caller frees). */
static faas_activation *bad_call(const char *fn, const char *event, faas_status status,
                                 const char *type, const char *msg_part, bool replaced)
{
	double before = call_ok(fn);
	int n0 = atomic_load(&calls.n);
	faas_activation *act;

	cr_assert_eq(th_invoke(rt, fn, event, &calls), 0);
	call_ok("other");
	cr_assert(th_wait(rt, &calls.n, n0 + 1, BAD_WAIT_MS), "%s: no answer", event);
	act = calls.acts[n0];
	cr_assert_eq(faas_activation_status(act), status, "%s: status %s, %s: %s", event,
	             faas_status_name(faas_activation_status(act)), faas_activation_error_type(act),
	             faas_activation_error_message(act));
	if (type)
		cr_assert_str_eq(faas_activation_error_type(act), type);
	if (msg_part)
		cr_assert(strstr(faas_activation_error_message(act), msg_part), "%s: message '%s'",
		          event, faas_activation_error_message(act));
	cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(act)), 1, "%s: one usage record",
	             event);
	cr_assert(faas_activation_started(act));
	/* The function answers again, from a new worker if the old one died. */
	if (replaced)
		cr_assert_neq(call_ok(fn), before, "%s: the worker was not replaced", event);
	else
		call_ok(fn);
	return faas_activation_dup(act);
}

static void crash(const char *event, const char *msg_part)
{
	faas_activation_free(bad_call("adv", event, FAAS_STATUS_DEVELOPER_ERROR,
	                              "Runtime.ExitError", msg_part, true));
}

/* Under AddressSanitizer the worker's own SEGV handler reports the fault and
 * exits with status 1 instead of dying by the signal: still a contained crash,
 * only worded differently. */
#if defined(__SANITIZE_ADDRESS__)
#define SEGV_MESSAGE "worker "
#else
#define SEGV_MESSAGE "worker killed by signal 11 (Segmentation fault)"
#endif

Test(process, segfault, .init = setup, .fini = teardown)
{
	crash("{\"mode\":\"segv\"}", SEGV_MESSAGE);
}

Test(process, abort, .init = setup, .fini = teardown)
{
	crash("{\"mode\":\"abort\"}", "worker killed by signal 6 (Aborted)");
}

Test(process, exit_code, .init = setup, .fini = teardown)
{
	crash("{\"mode\":\"exit3\"}", "worker exited with status 3");
}

Test(process, stack_overflow, .init = setup, .fini = teardown)
{
	crash("{\"mode\":\"recurse\"}", "worker killed by signal 11");
}

Test(process, closes_its_fds, .init = setup, .fini = teardown)
{
	/* Without its channel the worker cannot answer and exits (70). */
	crash("{\"mode\":\"closefds\"}", "worker exited with status 70");
}

Test(process, infinite_loop_killed_at_deadline, .init = setup, .fini = teardown)
{
	uint64_t t0 = th_now_ms();
	faas_activation *act =
	    bad_call("spin", "{\"mode\":\"spin\"}", FAAS_STATUS_TIMEOUT, "Sandbox.Timedout",
	             "Task timed out after 0.50 seconds", true);

	cr_assert_lt(th_now_ms() - t0, 5000);
	cr_assert_leq(faas_activation_usage(act)->duration_us, 500000u);
	cr_assert_gt(faas_activation_usage(act)->billed_ms, 0u);
	faas_activation_free(act);
}

Test(process, allocation_past_the_limit_is_oom, .init = setup, .fini = teardown)
{
	faas_activation *act =
	    bad_call("adv", "{\"mode\":\"alloc\"}", FAAS_STATUS_OOM, "Runtime.OutOfMemory",
	             "memory limit of 128 MB exceeded", true);

	/* Max Memory Used is the worker's peak RSS during the call: near 128 MB. */
	cr_assert_gt(faas_activation_usage(act)->max_memory_bytes, 64u << 20);
	faas_activation_free(act);
}

Test(process, stdout_flood_is_bounded, .init = setup, .fini = teardown)
{
	faas_activation *act =
	    bad_call("adv", "{\"mode\":\"flood\"}", FAAS_STATUS_SUCCESS, NULL, NULL, false);
	const char *logs = faas_activation_logs(act);

	cr_assert_not_null(logs);
	cr_assert_leq(strlen(logs), LOG_LIMIT + 128);
	cr_assert(strstr(logs, "[libfaas] log truncated"), "no truncation marker");
	faas_activation_free(act);
}

Test(process, result_too_big, .init = setup, .fini = teardown)
{
	faas_activation *act = bad_call("adv", "{\"mode\":\"big\"}", FAAS_STATUS_DEVELOPER_ERROR,
	                                "Function.ResponseSizeTooLarge", "exceeded maximum", false);

	/* 7 MiB of text and its two quotes; not counted as bytes out, as in
	 * thread mode, since nothing went out. */
	cr_assert(strstr(faas_activation_error_message(act), "(7340034 bytes)"), "%s",
	          faas_activation_error_message(act));
	cr_assert_eq(faas_activation_usage(act)->bytes_out, 0u);
	faas_activation_free(act);
}

Test(process, logs_from_both_streams, .init = setup, .fini = teardown)
{
	faas_activation *act = th_call(rt, "adv", "{\"mode\":\"logs\"}");
	const char *logs = faas_activation_logs(act);

	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_not_null(logs);
	cr_assert(strstr(logs, "log line 1\n"), "%s", logs);
	cr_assert(strstr(logs, "log line 2\n"), "%s", logs);
	cr_assert(strstr(logs, "from stdout\n"), "%s", logs);
	cr_assert(strstr(logs, "from stderr\n"), "%s", logs);
	faas_activation_free(act);
}

Test(process, state_reaches_the_backend, .init = setup, .fini = teardown)
{
	faas_activation *a = th_call(rt, "adv", "{\"mode\":\"incr\",\"key\":\"k\"}");
	faas_activation *b = th_call(rt, "other", "{\"mode\":\"incr\",\"key\":\"k\"}");
	faas_activation *c = th_call(rt, "adv", "{\"mode\":\"incr\",\"key\":\"k\"}");

	cr_assert(th_json_eq(faas_activation_result(a), "1"));
	/* Namespaced per function, as in thread mode. */
	cr_assert(th_json_eq(faas_activation_result(b), "1"));
	cr_assert(th_json_eq(faas_activation_result(c), "2"));
	faas_activation_free(a);
	faas_activation_free(b);
	faas_activation_free(c);
}

Test(process, init_duration_only_on_cold_calls, .init = setup, .fini = teardown)
{
	faas_activation *a = th_call(rt, "adv", "{}");
	faas_activation *b = th_call(rt, "adv", "{}");

	cr_assert(faas_activation_usage(a)->cold);
	cr_assert_gt(faas_activation_usage(a)->init_us, 0u);
	cr_assert_not(faas_activation_usage(b)->cold);
	cr_assert_eq(faas_activation_usage(b)->init_us, 0u);
	cr_assert_eq(pid_of(a), pid_of(b), "a warm call reuses its worker");
	/* Each worker runs init once, in its own process. */
	cr_assert(th_json_eq(
	    cJSON_GetObjectItemCaseSensitive(faas_activation_result(b), "init_count"), "1"));
	faas_activation_free(a);
	faas_activation_free(b);
}

/* Live faas-worker children of this process. */
static int workers(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	cr_assert_not_null(d);
	while ((e = readdir(d))) {
		char path[300], buf[512], comm[64], state;
		int ppid;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) &&
		    sscanf(buf, "%*d (%63[^)]) %c %d", comm, &state, &ppid) == 3 &&
		    ppid == getpid() && state != 'Z' && strcmp(comm, "faas-worker") == 0)
			n++;
		fclose(f);
	}
	closedir(d);
	return n;
}

typedef struct count_arg {
	int want;
} count_arg;

static bool workers_are(void *arg)
{
	return workers() == ((count_arg *)arg)->want;
}

Test(process, prewarm_and_idle_reaping, .init = setup, .fini = teardown)
{
	faas_fn_options fo = popts(10000);
	count_arg two = {2}, one = {1};
	faas_activation *act;

	fo.process_prewarm = 2;
	fo.process_min_workers = 1;
	fo.process_idle_ms = 100;
	th_register(rt, "warm", &fo);
	cr_assert(th_wait_for(rt, workers_are, &two, TH_WAIT_MS), "%d workers", workers());
	act = th_call(rt, "warm", "{}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert_not(faas_activation_usage(act)->cold, "a prewarmed worker ran init already");
	faas_activation_free(act);
	/* Above the minimum, idle workers go after process_idle_ms. */
	cr_assert(th_wait_for(rt, workers_are, &one, TH_WAIT_MS), "%d workers", workers());
	th_spin(rt, 300);
	cr_assert_eq(workers(), 1, "the minimum stays");
	cr_assert_eq(faas_fn_unregister(rt, "warm"), 0);
}

Test(process, throttled_when_every_worker_is_busy, .init = setup, .fini = teardown)
{
	faas_fn_options fo = popts(500);
	faas_activation *act;

	/* Busy means the worker and the queue: the smallest queue holds one. */
	fo.process_max_workers = 1;
	fo.process_queue = 1;
	th_register(rt, "one", &fo);
	cr_assert_eq(th_invoke(rt, "one", "{\"mode\":\"spin\"}", &calls), 0);
	cr_assert_eq(th_invoke(rt, "one", "{\"mode\":\"spin\"}", &calls), 0);
	act = th_call(rt, "one", "{}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_THROTTLED);
	cr_assert(strstr(faas_activation_error_message(act), "queue of 1 calls is full"), "%s",
	          faas_activation_error_message(act));
	cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(act)), 0);
	faas_activation_free(act);
	cr_assert(th_wait(rt, &calls.n, 2, BAD_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_TIMEOUT);
	cr_assert_eq(faas_activation_status(calls.acts[1]), FAAS_STATUS_TIMEOUT);
}

/* Submit n calls of fn with event in one loop turn: none can finish before
 * the last is admitted, so which wait and which are refused is exact. */
static void invoke_n(const char *fn, const char *event, int n)
{
	for (int i = 0; i < n; i++)
		cr_assert_eq(th_invoke(rt, fn, event, &calls), 0);
}

static int count_status(int n, faas_status status, bool started)
{
	int k = 0;

	for (int i = 0; i < n; i++)
		if (faas_activation_status(calls.acts[i]) == status &&
		    faas_activation_started(calls.acts[i]) == started)
			k++;
	return k;
}

static void queue_fn(const char *name, uint32_t timeout_ms, unsigned int workers,
                     unsigned int queue)
{
	faas_fn_options fo = popts(timeout_ms);

	fo.process_max_workers = workers;
	fo.process_queue = queue;
	th_register(rt, name, &fo);
}

Test(process, busy_pool_queues_calls_until_the_queue_is_full, .init = setup, .fini = teardown)
{
	queue_fn("q", 10000, 2, 4);
	/* 2 run at once and 4 wait: all 6 succeed; the 7th to 9th find the
	 * queue full. */
	invoke_n("q", "{\"mode\":\"ok\"}", 9);
	cr_assert(th_wait(rt, &calls.n, 9, BAD_WAIT_MS), "%d of 9 answered", calls.n);
	cr_assert_eq(count_status(9, FAAS_STATUS_SUCCESS, true), 6);
	cr_assert_eq(count_status(9, FAAS_STATUS_THROTTLED, false), 3);
	for (int i = 0; i < 9; i++) {
		const faas_activation *act = calls.acts[i];
		bool ok = faas_activation_status(act) == FAAS_STATUS_SUCCESS;

		cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(act)), ok ? 1 : 0);
		if (!ok)
			cr_assert(
			    strstr(faas_activation_error_message(act), "queue of 4 calls is full"),
			    "%s", faas_activation_error_message(act));
	}
	cr_assert_leq(workers(), 2, "%d workers for a pool of 2", workers());
}

Test(process, default_queue_is_a_multiple_of_the_workers, .init = setup, .fini = teardown)
{
	int n = 2 + 2 * FAAS_DEFAULT_PROCESS_QUEUE_PER_WORKER;

	queue_fn("q", 10000, 2, 0);
	invoke_n("q", "{\"mode\":\"ok\"}", n + 1);
	cr_assert(th_wait(rt, &calls.n, n + 1, BAD_WAIT_MS));
	cr_assert_eq(count_status(n + 1, FAAS_STATUS_SUCCESS, true), n);
	cr_assert_eq(count_status(n + 1, FAAS_STATUS_THROTTLED, false), 1);
}

Test(process, queued_call_past_its_deadline_ends_unstarted, .init = setup, .fini = teardown)
{
	int late;

	queue_fn("q", 300, 1, 4);
	invoke_n("q", "{\"mode\":\"spin\"}", 1);
	invoke_n("q", "{\"mode\":\"ok\"}", 1);
	th_spin(rt, 50);
	/* Past both deadlines without running the loop: its next turn runs the
	 * deadline timer before it reads the killed worker's exit, so the
	 * waiting call cannot be handed to a replacement first. */
	th_sleep_ms(400);
	cr_assert(th_wait(rt, &calls.n, 2, BAD_WAIT_MS));
	cr_assert_eq(count_status(2, FAAS_STATUS_TIMEOUT, true), 1, "the spinning call");
	cr_assert_eq(count_status(2, FAAS_STATUS_TIMEOUT, false), 1, "the waiting call");
	late = faas_activation_started(calls.acts[0]) ? 1 : 0;
	cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(calls.acts[1 - late])), 1);
	cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(calls.acts[late])), 0,
	             "a call that never started is not billed");
	cr_assert(strstr(faas_activation_error_message(calls.acts[late]), "timed out"), "%s",
	          faas_activation_error_message(calls.acts[late]));
	call_ok("q");
}

Test(process, worker_crash_hands_the_queue_to_a_new_worker, .init = setup, .fini = teardown)
{
	queue_fn("q", 10000, 1, 4);
	invoke_n("q", "{\"mode\":\"segv\"}", 1);
	invoke_n("q", "{\"mode\":\"ok\"}", 2);
	cr_assert(th_wait(rt, &calls.n, 3, BAD_WAIT_MS));
	cr_assert_eq(count_status(3, FAAS_STATUS_DEVELOPER_ERROR, true), 1);
	cr_assert_eq(count_status(3, FAAS_STATUS_SUCCESS, true), 2);
}

Test(process, unregister_runs_the_calls_still_waiting, .init = setup, .fini = teardown)
{
	count_arg none = {0};

	/* The only worker crashes after the unregistration: the waiting calls
	 * still get one. */
	queue_fn("q", 10000, 1, 4);
	invoke_n("q", "{\"mode\":\"segv\"}", 1);
	invoke_n("q", "{\"mode\":\"ok\"}", 3);
	cr_assert_eq(faas_fn_unregister(rt, "q"), 0);
	cr_assert(th_wait(rt, &calls.n, 4, BAD_WAIT_MS));
	cr_assert_eq(count_status(4, FAAS_STATUS_DEVELOPER_ERROR, true), 1);
	cr_assert_eq(count_status(4, FAAS_STATUS_SUCCESS, true), 3);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(calls.acts[i])), 1);
	cr_assert(th_wait_for(rt, workers_are, &none, TH_WAIT_MS), "%d workers", workers());
}

Test(process, unregister_then_deadline_while_waiting, .init = setup, .fini = teardown)
{
	count_arg none = {0};

	/* The closing pool's last call times out still waiting: the pool must
	 * not wait for it, nor keep a worker for it. */
	queue_fn("q", 300, 1, 4);
	invoke_n("q", "{\"mode\":\"spin\"}", 1);
	invoke_n("q", "{\"mode\":\"ok\"}", 1);
	th_spin(rt, 50);
	cr_assert_eq(faas_fn_unregister(rt, "q"), 0);
	th_sleep_ms(400);
	cr_assert(th_wait(rt, &calls.n, 2, BAD_WAIT_MS));
	cr_assert_eq(count_status(2, FAAS_STATUS_TIMEOUT, true), 1);
	cr_assert_eq(count_status(2, FAAS_STATUS_TIMEOUT, false), 1);
	cr_assert(th_wait_for(rt, workers_are, &none, TH_WAIT_MS), "%d workers", workers());
}

Test(process, free_with_a_call_waiting)
{
	faas_runtime_options o = th_ropts();
	faas_fn_options fo = popts(10000);
	faas_runtime *own;
	th_calls c;
	int waiting;

	th_calls_init(&c);
	own = th_rt_new(NULL, &o);
	fo.process_max_workers = 1;
	th_register(own, "spin", &fo);
	cr_assert_eq(th_invoke(own, "spin", "{\"mode\":\"spin\"}", &c), 0);
	cr_assert_eq(th_invoke(own, "spin", "{\"mode\":\"ok\"}", &c), 0);
	th_spin(own, 50);
	faas_runtime_free(own);
	cr_assert_eq(atomic_load(&c.n), 2);
	waiting = faas_activation_started(c.acts[0]) ? 1 : 0;
	cr_assert(faas_activation_started(c.acts[1 - waiting]));
	cr_assert_not(faas_activation_started(c.acts[waiting]));
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(faas_activation_status(c.acts[i]), FAAS_STATUS_INTERNAL_ERROR);
		cr_assert_str_eq(faas_activation_error_type(c.acts[i]), "Runtime.Canceled");
	}
	th_calls_clear(&c);
	cr_assert_eq(workers(), 0, "every worker was reaped");
}

Test(process, stop_cancels_a_waiting_call_unstarted, .init = setup, .fini = teardown)
{
	int waiting;

	queue_fn("q", 10000, 1, 4);
	invoke_n("q", "{\"mode\":\"spin\"}", 1);
	invoke_n("q", "{\"mode\":\"ok\"}", 1);
	th_spin(rt, 50);
	/* The second stop cancels what the drain still waits for. */
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert(th_wait(rt, &calls.n, 2, BAD_WAIT_MS));
	cr_assert_eq(count_status(2, FAAS_STATUS_INTERNAL_ERROR, true), 1, "the spinning call");
	cr_assert_eq(count_status(2, FAAS_STATUS_INTERNAL_ERROR, false), 1, "the waiting call");
	waiting = faas_activation_started(calls.acts[0]) ? 1 : 0;
	cr_assert_str_eq(faas_activation_error_type(calls.acts[waiting]), "Runtime.Canceled");
	cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(calls.acts[waiting])), 0);
}

Test(process, queue_option_bounds, .init = setup, .fini = teardown)
{
	static const char json[] =
	    "{\"functions\":{\"m\":{\"library\":\"libfx_adversarial.so\",\"symbol\":\"adv\","
	    "\"isolation\":\"process\",\"process_max_workers\":1,\"process_queue\":1}}}";
	static const char bad[] = "{\"functions\":{\"m\":{\"library\":\"libfx_adversarial.so\","
	                          "\"isolation\":\"process\",\"process_queue\":4097}}}";
	faas_fn_options fo = popts(1000);
	faas_manifest *m = NULL;
	char err[256];

	fo.process_queue = FAAS_MAX_PROCESS_QUEUE + 1;
	cr_assert_eq(faas_fn_register(NULL, rt, "s", &fo), FAAS_EINVAL);
	cr_assert(strstr(faas_runtime_last_error(rt), "process_queue"), "%s",
	          faas_runtime_last_error(rt));
	fo.process_queue = FAAS_MAX_PROCESS_QUEUE;
	th_register(rt, "s", &fo);
	cr_assert_eq(faas_manifest_parse(&m, json, strlen(json), FIXTURES_DIR, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(faas_manifest_apply(rt, m), 0, "%s", faas_runtime_last_error(rt));
	faas_manifest_free(m);
	/* One worker and a queue of one: a third call at once is refused. */
	invoke_n("m", "{\"mode\":\"ok\"}", 3);
	cr_assert(th_wait(rt, &calls.n, 3, BAD_WAIT_MS));
	cr_assert_eq(count_status(3, FAAS_STATUS_SUCCESS, true), 2);
	cr_assert_eq(count_status(3, FAAS_STATUS_THROTTLED, false), 1);
	cr_assert_eq(faas_manifest_parse(&m, bad, strlen(bad), FIXTURES_DIR, err, sizeof(err)),
	             FAAS_EINVAL);
	cr_assert(strstr(err, "process_queue"), "%s", err);
}

Test(process, load_failure_is_reported_per_call, .init = setup, .fini = teardown)
{
	faas_fn_options fo = popts(10000);
	faas_activation *act;

	fo.symbol = "no_such_handler";
	th_register(rt, "nosym", &fo);
	act = th_call(rt, "nosym", "{}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_DEVELOPER_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Runtime.InitError");
	cr_assert(strstr(faas_activation_error_message(act), "no handler symbol 'no_such_handler'"),
	          "%s", faas_activation_error_message(act));
	cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(act)), 1);
	faas_activation_free(act);
}

static int never(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	(void)event;
	(void)result;
	return 0;
}

Test(process, bad_options, .init = setup, .fini = teardown)
{
	faas_fn_options fo = th_fopts_static(never);

	fo.isolation = FAAS_ISOLATION_PROCESS;
	cr_assert_eq(faas_fn_register(NULL, rt, "s", &fo), FAAS_EINVAL);
	cr_assert(strstr(faas_runtime_last_error(rt), "static handler"));
	fo = popts(1000);
	fo.process_max_workers = 2;
	fo.process_min_workers = 3;
	cr_assert_eq(faas_fn_register(NULL, rt, "s", &fo), FAAS_EINVAL);
	cr_assert(strstr(faas_runtime_last_error(rt), "process_min_workers"));
	fo = popts(1000);
	fo.process_prewarm = FAAS_MAX_PROCESS_WORKERS + 1;
	cr_assert_eq(faas_fn_register(NULL, rt, "s", &fo), FAAS_EINVAL);
	fo = popts(1000);
	fo.process_max_workers = FAAS_MAX_PROCESS_WORKERS + 1;
	cr_assert_eq(faas_fn_register(NULL, rt, "s", &fo), FAAS_EINVAL);
	fo = popts(1000);
	fo.library = FIXTURES_DIR "/no-such-object.so";
	cr_assert_eq(faas_fn_register(NULL, rt, "s", &fo), FAAS_ELOAD);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static long rss_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = atol(line + 6);
	fclose(f);
	return kb;
}

Test(process, crash_churn_does_not_grow_the_host, .init = setup, .fini = teardown)
{
	static const char *events[] = {"{\"mode\":\"segv\"}", "{\"mode\":\"exit3\"}",
	                               "{\"mode\":\"abort\"}"};
	int fds0, n0;
	long rss0;

	/* Warm up allocators and the activation store before measuring. */
	for (int i = 0; i < 10; i++)
		faas_activation_free(th_call(rt, "adv", events[i % 3]));
	th_spin(rt, 50);
	fds0 = count_fds();
	rss0 = rss_kb();
	n0 = bill.records;
	for (int i = 0; i < CHURN_CALLS; i++) {
		faas_activation *act = th_call(rt, "adv", events[i % 3]);

		cr_assert_eq(faas_activation_status(act), FAAS_STATUS_DEVELOPER_ERROR);
		faas_activation_free(act);
	}
	th_spin(rt, 50);
	cr_assert_eq(bill.records - n0, CHURN_CALLS, "one usage record per call");
	cr_log_info("%d crash calls: fds %d -> %d, rss %ld -> %ld kB", CHURN_CALLS, fds0,
	            count_fds(), rss0, rss_kb());
	cr_assert_leq(count_fds(), fds0 + CHURN_FD_SLACK, "fds %d -> %d", fds0, count_fds());
	cr_assert_leq(rss_kb(), rss0 + CHURN_RSS_SLACK_KB, "rss %ld -> %ld kB", rss0, rss_kb());
	call_ok("adv");
}

Test(process, manifest_isolation_process, .init = setup, .fini = teardown)
{
	static const char json[] =
	    "{\"functions\":{\"m\":{\"library\":\"libfx_adversarial.so\",\"symbol\":\"adv\","
	    "\"isolation\":\"process\",\"process_max_workers\":2,\"process_min_workers\":1,"
	    "\"process_prewarm\":1,\"process_idle_ms\":1000,\"process_seccomp\":\"error\"}}}";
	static const char bad[] = "{\"functions\":{\"m\":{\"library\":\"libfx_adversarial.so\","
	                          "\"isolation\":\"process\",\"process_max_workers\":100000}}}";
	faas_manifest *m = NULL;
	char err[256];
	count_arg one = {1};

	cr_assert_eq(faas_manifest_parse(&m, json, strlen(json), FIXTURES_DIR, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(faas_manifest_apply(rt, m), 0, "%s", faas_runtime_last_error(rt));
	faas_manifest_free(m);
	cr_assert(th_wait_for(rt, workers_are, &one, TH_WAIT_MS), "%d workers", workers());
	call_ok("m");
	cr_assert_eq(faas_manifest_parse(&m, bad, strlen(bad), FIXTURES_DIR, err, sizeof(err)),
	             FAAS_EINVAL);
	cr_assert(strstr(err, "process_max_workers"), "%s", err);
}

Test(process, unregister_while_busy_finishes_the_call, .init = setup, .fini = teardown)
{
	count_arg none = {0};

	cr_assert_eq(th_invoke(rt, "spin", "{\"mode\":\"spin\"}", &calls), 0);
	cr_assert_eq(faas_fn_unregister(rt, "spin"), 0);
	cr_assert(th_wait(rt, &calls.n, 1, BAD_WAIT_MS));
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_TIMEOUT);
	cr_assert_eq(th_billing_count_id(&bill, faas_activation_id(calls.acts[0])), 1);
	cr_assert_eq(faas_fn_unregister(rt, "adv"), 0);
	cr_assert_eq(faas_fn_unregister(rt, "other"), 0);
	cr_assert(th_wait_for(rt, workers_are, &none, TH_WAIT_MS), "%d workers", workers());
}

Test(process, free_with_calls_in_flight)
{
	faas_runtime_options o = th_ropts();
	faas_fn_options fo = popts(10000);
	faas_runtime *own;
	th_calls c;

	th_calls_init(&c);
	own = th_rt_new(NULL, &o);
	fo.process_prewarm = 1;
	th_register(own, "spin", &fo);
	cr_assert_eq(th_invoke(own, "spin", "{\"mode\":\"spin\"}", &c), 0);
	cr_assert_eq(th_invoke(own, "spin", "{\"mode\":\"spin\"}", &c), 0);
	th_spin(own, 100);
	faas_runtime_free(own);
	cr_assert_eq(atomic_load(&c.n), 2);
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(faas_activation_status(c.acts[i]), FAAS_STATUS_INTERNAL_ERROR);
		cr_assert_str_eq(faas_activation_error_type(c.acts[i]), "Runtime.Canceled");
	}
	th_calls_clear(&c);
	cr_assert_eq(workers(), 0, "every worker was reaped");
}

Test(process, missing_worker_program)
{
	faas_runtime_options o = th_ropts();
	faas_fn_options fo = popts(1000);
	faas_activation *act;
	faas_runtime *own;

	o.worker_path = "/nonexistent/faas-worker";
	own = th_rt_new(NULL, &o);
	th_register(own, "f", &fo);
	act = th_call(own, "f", "{}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_INTERNAL_ERROR);
	cr_assert(
	    strstr(faas_activation_error_message(act), "cannot start /nonexistent/faas-worker"),
	    "%s", faas_activation_error_message(act));
	faas_activation_free(act);
	fo.process_prewarm = 1;
	cr_assert_eq(faas_fn_register(NULL, own, "g", &fo), FAAS_ESYSTEM);
	faas_runtime_free(own);
}

Test(process, seccomp_denies_fork, .init = setup, .fini = teardown)
{
	faas_fn_options fo = popts(10000);
	faas_activation *act;

	faas_activation_free(
	    bad_call("adv", "{\"mode\":\"fork\"}", FAAS_STATUS_SUCCESS, NULL, NULL, false));
	fo.process_seccomp = FAAS_SECCOMP_ERROR;
	th_register(rt, "sc_error", &fo);
	fo.process_seccomp = FAAS_SECCOMP_KILL;
	th_register(rt, "sc_kill", &fo);
	act = bad_call("sc_error", "{\"mode\":\"fork\"}", FAAS_STATUS_APPLICATION_ERROR, "Fork",
	               "fork failed: Operation not permitted", false);
	faas_activation_free(act);
	act = bad_call("sc_kill", "{\"mode\":\"fork\"}", FAAS_STATUS_DEVELOPER_ERROR,
	               "Runtime.ExitError", "worker killed by signal 31 (Bad system call)", true);
	faas_activation_free(act);
	/* Threads, state and logs still work under the filter. */
	act = th_call(rt, "sc_kill", "{\"mode\":\"logs\"}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	faas_activation_free(act);
	fo.process_seccomp = (faas_seccomp)7;
	cr_assert_eq(faas_fn_register(NULL, rt, "sc_bad", &fo), FAAS_EINVAL);
}

Test(process, waiting_call_fails_when_no_worker_can_start)
{
	char dir[] = "/tmp/faas-pqueue-XXXXXX", link[64];
	faas_runtime_options o = th_ropts();
	faas_fn_options fo = popts(10000);
	faas_runtime *own;
	th_calls c;
	int waiting;

	/* The first worker starts through a link that is gone when its crash
	 * needs a replacement for the call waiting behind it. */
	cr_assert_not_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/faas-worker", dir);
	cr_assert_eq(symlink(FIXTURES_DIR "/../../lib/faas-worker", link), 0);
	th_calls_init(&c);
	o.worker_path = link;
	own = th_rt_new(NULL, &o);
	fo.process_max_workers = 1;
	th_register(own, "f", &fo);
	cr_assert_eq(th_invoke(own, "f", "{\"mode\":\"segv\"}", &c), 0);
	cr_assert_eq(th_invoke(own, "f", "{\"mode\":\"ok\"}", &c), 0);
	cr_assert_eq(unlink(link), 0);
	cr_assert(th_wait(own, &c.n, 2, BAD_WAIT_MS));
	waiting = faas_activation_status(c.acts[0]) == FAAS_STATUS_DEVELOPER_ERROR ? 1 : 0;
	cr_assert_eq(faas_activation_status(c.acts[1 - waiting]), FAAS_STATUS_DEVELOPER_ERROR);
	cr_assert_eq(faas_activation_status(c.acts[waiting]), FAAS_STATUS_INTERNAL_ERROR);
	cr_assert(strstr(faas_activation_error_message(c.acts[waiting]), "cannot start"), "%s",
	          faas_activation_error_message(c.acts[waiting]));
	th_calls_clear(&c);
	faas_runtime_free(own);
	rmdir(dir);
}

/* A stand-in for faas-worker that writes raw bytes to its channel, then
 * waits to be killed: the host must stop it and fail the call cleanly. */
static void fake_worker_case(const char *printf_arg, const char *msg_part)
{
	char path[] = "/tmp/faas-fake-worker-XXXXXX";
	faas_runtime_options o = th_ropts();
	faas_fn_options fo = popts(5000);
	faas_activation *act;
	faas_runtime *own;
	int fd = mkstemp(path);
	FILE *f;

	cr_assert_geq(fd, 0);
	f = fdopen(fd, "w");
	cr_assert_not_null(f);
	fprintf(f, "#!/bin/sh\nprintf '%s' >&3\nexec sleep 5\n", printf_arg);
	fclose(f);
	cr_assert_eq(chmod(path, 0700), 0);
	o.worker_path = path;
	own = th_rt_new(NULL, &o);
	th_register(own, "f", &fo);
	act = th_call(own, "f", "{}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_DEVELOPER_ERROR, "%s: %s",
	             faas_activation_error_type(act), faas_activation_error_message(act));
	cr_assert(strstr(faas_activation_error_message(act), msg_part), "%s",
	          faas_activation_error_message(act));
	cr_assert_lt(faas_activation_usage(act)->duration_us, 4000000u, "killed, not timed out");
	faas_activation_free(act);
	faas_runtime_free(own);
	unlink(path);
}

Test(process, oversized_frame_from_a_worker)
{
	fake_worker_case("\\377\\377\\377\\377\\004",
	                 "worker stopped: it sent a frame of 4294967295 bytes");
}

/* READY, ok, with an empty error and an empty note: a worker that loaded. */
#define FAKE_READY "\\013\\000\\000\\000\\002\\001\\000\\000\\000\\000\\000\\000\\000\\000\\000\\000"

Test(process, unexpected_message_from_a_worker)
{
	fake_worker_case("\\001\\000\\000\\000\\011X",
	                 "worker stopped: protocol violation: a frame of unknown type 9");
}

Test(process, result_before_ready_from_a_worker)
{
	fake_worker_case("\\001\\000\\000\\000\\004X",
	                 "worker stopped: protocol violation: a RESULT frame before READY");
}

Test(process, malformed_result_from_a_worker)
{
	/* Call 1's number, then a kind and nothing more. */
	fake_worker_case(FAKE_READY "\\011\\000\\000\\000\\004\\001\\000\\000\\000\\000\\000\\000\\000\\000",
	                 "worker stopped: protocol violation: a malformed result");
}

Test(process, result_without_a_call_number_from_a_worker)
{
	fake_worker_case(FAKE_READY "\\001\\000\\000\\000\\004X",
	                 "worker stopped: protocol violation: a RESULT frame without a call "
	                 "number");
}

Test(process, second_ready_from_a_worker)
{
	fake_worker_case(FAKE_READY FAKE_READY,
	                 "worker stopped: protocol violation: a READY frame after READY");
}

Test(process, worker_gone_before_answering)
{
	/* The script exits (status 0) before answering the call. */
	fake_worker_case("' ; exit 0; '", "worker exited with status 0");
}

/* ---- the worker's process tree ---- */

/* Dead: no such pid, or a zombie (it exited; its worker, its parent, is gone
 * and whoever inherited it has not reaped it yet). */
static bool pid_gone(int pid)
{
	char path[64], buf[512];
	const char *p;
	FILE *f;
	size_t n;

	if (kill(pid, 0) != 0 && errno == ESRCH)
		return true;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return true;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X');
}

static bool pid_gone_pred(void *arg)
{
	return pid_gone(*(int *)arg);
}

/* The pid a handler wrote to path. */
static int read_pid(const char *path)
{
	FILE *f = fopen(path, "r");
	int pid = 0;

	cr_assert_not_null(f, "the handler wrote no pid to %s", path);
	cr_assert_eq(fscanf(f, "%d", &pid), 1);
	fclose(f);
	unlink(path);
	cr_assert_gt(pid, 1);
	return pid;
}

/* Wait for pid to die; kill it either way, so a failing case leaves nothing
 * running. */
static bool gone_within(int pid, unsigned int ms)
{
	bool gone = th_wait_for(rt, pid_gone_pred, &pid, ms);

	if (!gone)
		kill(pid, SIGKILL);
	return gone;
}

/* A temporary file name for a handler to write a pid to. */
static void pid_file(char *path, size_t size, char *event, size_t esize, const char *mode)
{
	int fd;

	snprintf(path, size, "/tmp/faas-pid-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	close(fd);
	snprintf(event, esize, "{\"mode\":\"%s\",\"file\":\"%s\"}", mode, path);
}

static void deadline_kills(const char *mode)
{
	char path[64], event[160];
	int pid;

	pid_file(path, sizeof(path), event, sizeof(event), mode);
	faas_activation_free(
	    bad_call("spin", event, FAAS_STATUS_TIMEOUT, "Sandbox.Timedout", NULL, true));
	pid = read_pid(path);
	cr_assert(gone_within(pid, 2000), "%s: pid %d outlived its worker's deadline", mode, pid);
}

Test(process, deadline_kills_forked_children, .init = setup, .fini = teardown)
{
	deadline_kills("forksleep");
}

Test(process, deadline_kills_execd_programs, .init = setup, .fini = teardown)
{
	deadline_kills("spawnsleep");
}

Test(process, deadline_kills_children_that_left_the_group, .init = setup, .fini = teardown)
{
	deadline_kills("setsidsleep");
}

Test(process, children_left_after_a_call_are_killed, .init = setup, .fini = teardown)
{
	char path[64], event[160];
	faas_activation *act;
	const char *logs;
	double worker;
	int pid;

	pid_file(path, sizeof(path), event, sizeof(event), "leave");
	act = th_call(rt, "adv", event);
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS, "%s: %s",
	             faas_activation_error_type(act), faas_activation_error_message(act));
	worker = pid_of(act);
	pid = read_pid(path);
	cr_assert(gone_within(pid, 2000), "the leftover child %d lives", pid);
	logs = faas_activation_logs(act);
	cr_assert(logs && strstr(logs, "[libfaas] the handler left 1 process behind"), "log: %s",
	          logs ? logs : "(none)");
	cr_assert(strstr(logs, "killed, worker recycled"), "%s", logs);
	faas_activation_free(act);
	cr_assert_neq(call_ok("adv"), worker, "the worker was not recycled");
}

/* The first faas-worker child of this process; 0 if none. */
static int worker_pid(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;

	if (!d)
		return 0;
	while (!found && (e = readdir(d))) {
		char path[300], buf[512], comm[64];
		int ppid;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(buf, sizeof(buf), f) &&
		    sscanf(buf, "%*d (%63[^)]) %*c %d", comm, &ppid) == 2 && ppid == getpid() &&
		    strcmp(comm, "faas-worker") == 0)
			found = atoi(e->d_name);
		fclose(f);
	}
	closedir(d);
	return found;
}

/* The host is a fork of this test: it starts a worker, gets it running a
 * call that never ends, tells us its pid and dies without cleaning up. */
static void host_that_dies(int out)
{
	faas_runtime_options o = th_ropts();
	faas_fn_options fo = popts(60000);
	faas_runtime *own = th_rt_new(NULL, &o);
	th_calls c;
	int pid = 0;

	th_calls_init(&c);
	fo.process_prewarm = 1;
	th_register(own, "spin", &fo);
	if (th_invoke(own, "spin", "{\"mode\":\"spin\"}", &c) == 0) {
		th_spin(own, 200);
		pid = worker_pid();
	}
	(void)!write(out, &pid, sizeof(pid));
	_exit(0);
}

Test(process, workers_die_with_their_host)
{
	int fds[2], pid = 0, status;
	pid_t host;
	bool gone = false;

	cr_assert_eq(pipe(fds), 0);
	host = fork();
	cr_assert_geq(host, 0);
	if (host == 0) {
		close(fds[0]);
		host_that_dies(fds[1]);
	}
	close(fds[1]);
	cr_assert_eq(read(fds[0], &pid, sizeof(pid)), (ssize_t)sizeof(pid));
	close(fds[0]);
	cr_assert_eq(waitpid(host, &status, 0), host);
	cr_assert_gt(pid, 0, "the host found no worker");
	for (int i = 0; i < 200 && !(gone = pid_gone(pid)); i++)
		th_sleep_ms(10);
	if (!gone)
		kill(pid, SIGKILL);
	cr_assert(gone, "worker %d outlived its host", pid);
}

Test(process, process_limit_is_applied_or_reported, .init = setup, .fini = teardown)
{
	faas_fn_options fo = popts(10000);
	faas_activation *a, *b;
	const cJSON *forked;

	fo.process_max_processes = 4;
	th_register(rt, "few", &fo);
	a = th_call(rt, "few", "{\"mode\":\"forkn\",\"n\":32}");
	b = th_call(rt, "few", "{\"mode\":\"forkn\",\"n\":32}");
	cr_assert_eq(faas_activation_status(a), FAAS_STATUS_SUCCESS);
	forked = cJSON_GetObjectItemCaseSensitive(faas_activation_result(a), "forked");
	cr_assert(cJSON_IsNumber(forked));
	cr_assert_not_null(faas_activation_logs(a));
	if (getuid() == 0) {
		/* Root is not bound by RLIMIT_NPROC: said, not claimed. */
		cr_assert(strstr(faas_activation_logs(a), "[libfaas] process_max_processes 4: "
		                                          "not enforced"),
		          "%s", faas_activation_logs(a));
	} else {
		cr_assert(strstr(faas_activation_logs(a), "[libfaas] process_max_processes 4: "
		                                          "RLIMIT_NPROC"),
		          "%s", faas_activation_logs(a));
		cr_assert_lt(forked->valueint, 32, "the limit let every fork through");
	}
	/* Once per worker, not in every call. */
	cr_assert(!faas_activation_logs(b) || !strstr(faas_activation_logs(b), "process_max"));
	faas_activation_free(a);
	faas_activation_free(b);
	fo.process_max_processes = FAAS_MAX_PROCESS_MAX_PROCESSES + 1;
	cr_assert_eq(faas_fn_register(NULL, rt, "s", &fo), FAAS_EINVAL);
	cr_assert(strstr(faas_runtime_last_error(rt), "process_max_processes"));
}

Test(process, max_processes_in_the_manifest, .init = setup, .fini = teardown)
{
	static const char json[] =
	    "{\"functions\":{\"p\":{\"library\":\"libfx_adversarial.so\",\"symbol\":\"adv\","
	    "\"isolation\":\"process\",\"process_max_processes\":8}}}";
	static const char bad[] = "{\"functions\":{\"p\":{\"library\":\"libfx_adversarial.so\","
	                          "\"isolation\":\"process\",\"process_max_processes\":65537}}}";
	faas_manifest *m = NULL;
	char err[256];

	cr_assert_eq(faas_manifest_parse(&m, json, strlen(json), FIXTURES_DIR, err, sizeof(err)), 0,
	             "%s", err);
	cr_assert_eq(faas_manifest_apply(rt, m), 0, "%s", faas_runtime_last_error(rt));
	faas_manifest_free(m);
	cr_assert_not_null(faas_fn_lookup(rt, "p"));
	cr_assert_eq(faas_manifest_parse(&m, bad, strlen(bad), FIXTURES_DIR, err, sizeof(err)),
	             FAAS_EINVAL);
	cr_assert(strstr(err, "process_max_processes"), "%s", err);
}

/* ---- crash-looping init backs off ---- */

static char init_count[64], init_fixed[80];

/* The crashing-init fixture's files: a counter its init appends to, and a
 * file whose presence "fixes" it. */
static void init_files(bool fixed)
{
	int fd;

	snprintf(init_count, sizeof(init_count), "/tmp/fx_init_count_XXXXXX");
	fd = mkstemp(init_count);
	cr_assert(fd >= 0);
	close(fd);
	snprintf(init_fixed, sizeof(init_fixed), "%s.fixed", init_count);
	if (fixed)
		close(open(init_fixed, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	setenv("FX_INIT_COUNT", init_count, 1);
	setenv("FX_INIT_FIXED", init_fixed, 1);
}

static void init_files_remove(void)
{
	unlink(init_count);
	unlink(init_fixed);
}

static long inits(void)
{
	struct stat st;

	return stat(init_count, &st) == 0 ? (long)st.st_size : -1;
}

static faas_fn_options crash_init_opts(void)
{
	faas_fn_options o = th_fopts_lib(FX("init_crashes"), "init_crashes");

	o.isolation = FAAS_ISOLATION_PROCESS;
	o.timeout_ms = 5000;
	return o;
}

static bool call_succeeds(void *arg)
{
	faas_activation *act = th_call(rt, (const char *)arg, "{}");
	bool ok = faas_activation_status(act) == FAAS_STATUS_SUCCESS;

	faas_activation_free(act);
	return ok;
}

Test(process, crash_looping_init_backs_off_and_recovers, .init = setup, .fini = teardown)
{
	faas_fn_options fo = crash_init_opts();
	faas_activation *act;
	long before, spawned;

	init_files(true);
	fo.process_min_workers = 1;
	th_register(rt, "ci", &fo);
	cr_assert(th_wait_for(rt, call_succeeds, "ci", TH_WAIT_MS), "no first worker");
	/* Break the init, then crash the worker: its replacements' inits crash. */
	unlink(init_fixed);
	act = th_call(rt, "ci", "{\"crash\":true}");
	cr_assert_str_eq(faas_activation_error_type(act), "Runtime.ExitError");
	faas_activation_free(act);
	before = inits();
	th_spin(rt, 1000);
	spawned = inits() - before;
	cr_assert(spawned >= 1 && spawned < 20, "%ld spawns in 1 s", spawned);
	/* While backing off: no spawn, the init's own failure, at once. */
	before = inits();
	act = th_call(rt, "ci", "{}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_DEVELOPER_ERROR, "%s",
	             faas_status_name(faas_activation_status(act)));
	cr_assert_str_eq(faas_activation_error_type(act), "Runtime.InitError");
	cr_assert(strstr(faas_activation_error_message(act), "module init of") &&
	              strstr(faas_activation_error_message(act), "signal 11"),
	          "message '%s'", faas_activation_error_message(act));
	faas_activation_free(act);
	cr_assert_eq(inits(), before, "a call during the backoff spawned a worker");
	/* Fixed: it answers again once the backoff is over. */
	close(open(init_fixed, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	cr_assert(th_wait_for(rt, call_succeeds, "ci", TH_WAIT_MS), "no recovery");
	cr_assert_eq(faas_fn_unregister(rt, "ci"), 0);
	init_files_remove();
}

Test(process, crash_in_a_cold_init_is_an_init_error, .init = setup, .fini = teardown)
{
	faas_fn_options fo = crash_init_opts();
	faas_activation *act;

	init_files(false);
	th_register(rt, "ci", &fo);
	act = th_call(rt, "ci", "{}");
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_DEVELOPER_ERROR);
	cr_assert_str_eq(faas_activation_error_type(act), "Runtime.InitError");
	cr_assert(strstr(faas_activation_error_message(act), "signal 11"), "message '%s'",
	          faas_activation_error_message(act));
	faas_activation_free(act);
	cr_assert_eq(faas_fn_unregister(rt, "ci"), 0);
	init_files_remove();
}

Test(process, prewarm_registration_reports_a_failed_init, .init = setup, .fini = teardown)
{
	faas_fn_options fo = crash_init_opts();

	init_files(false);
	fo.process_prewarm = 1;
	cr_assert_eq(faas_fn_register(NULL, rt, "ci", &fo), FAAS_EINIT);
	cr_assert(strstr(faas_runtime_last_error(rt), "signal 11"), "'%s'",
	          faas_runtime_last_error(rt));
	init_files_remove();
	fo = th_fopts_lib(FX("init_fails"), "never_called");
	fo.isolation = FAAS_ISOLATION_PROCESS;
	fo.prewarm = true;
	cr_assert_eq(faas_fn_register(NULL, rt, "if", &fo), FAAS_EINIT);
	cr_assert(strstr(faas_runtime_last_error(rt), "module init of"), "'%s'",
	          faas_runtime_last_error(rt));
}

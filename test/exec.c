/* The executor contract, driven through a fake executor: faas__exec_set puts
 * it in place of the thread executor, and the calls go through the public
 * faas_invoke from admission to completion. The fake holds what it is given
 * and reports outcomes later from a timer on the runtime's loop, as a real
 * executor does from its own loop callbacks. */
#include <string.h>

#include <criterion/criterion.h>

#include "exec.h"
#include "helpers.h"

#define FAKE_MAX 64

/* What the fake does with a call once its timer fires. */
typedef enum fake_mode {
	FAKE_RUN,    /* run the handler on the loop thread, report "ran to its end" */
	FAKE_REPORT, /* report the outcome below without running anything */
	FAKE_HOLD,   /* never report: only a deadline or a cancel ends the call */
} fake_mode;

typedef struct fake {
	fake_mode mode;
	int submit_rc;        /* what submit returns */
	bool finished_first;  /* abandon answers false: the outcome is on its way */
	faas__outcome report; /* FAKE_REPORT's outcome */
	unsigned int after_ms;
	faas_ctx *held[FAKE_MAX];
	int nheld;
	int submits, abandons, reported;
	faas_ctx *abandoned; /* the last call abandon took back */
	uv_timer_t timer;
	bool timer_open;
} fake;

static fake F;
static uv_loop_t loop;
static faas_runtime *rt;
static th_calls calls;

static void fake_hold(faas_ctx *ctx)
{
	cr_assert_lt(F.nheld, FAKE_MAX);
	F.held[F.nheld++] = ctx;
}

static bool fake_take(faas_ctx *ctx)
{
	for (int i = 0; i < F.nheld; i++) {
		if (F.held[i] == ctx) {
			F.held[i] = F.held[--F.nheld];
			return true;
		}
	}
	return false;
}

static void fake_finish(faas_ctx *ctx)
{
	static const faas__outcome ran_to_end = {FAAS_STATUS_SUCCESS, NULL, NULL};
	faas_runtime *r = ctx->rt;

	if (F.mode == FAKE_RUN)
		faas__ctx_execute(ctx, faas__now_ns(), false);
	atomic_store(&ctx->state, FAAS__DONE);
	F.reported++;
	r->exec_done(r, ctx, F.mode == FAKE_RUN ? &ran_to_end : &F.report);
}

static void on_fake_timer(uv_timer_t *t)
{
	(void)t;
	if (F.mode == FAKE_HOLD)
		return;
	while (F.nheld > 0) {
		faas_ctx *ctx = F.held[0];

		fake_take(ctx);
		fake_finish(ctx);
	}
}

static int fake_submit(faas_ctx *ctx)
{
	F.submits++;
	if (F.submit_rc != 0)
		return faas__fail(ctx->rt, F.submit_rc, "%s: the fake says %s", ctx->fn->name,
				  faas_err_name(F.submit_rc));
	fake_hold(ctx);
	/* As a worker that takes the call: its deadline counts from now. */
	atomic_store(&ctx->state, FAAS__RUNNING);
	atomic_store(&ctx->started_ns, faas__now_ns());
	if (!uv_is_active((uv_handle_t *)&F.timer))
		uv_timer_start(&F.timer, on_fake_timer, F.after_ms, 0);
	return 0;
}

static bool fake_abandon(faas_ctx *ctx, bool *was_running)
{
	F.abandons++;
	*was_running = false;
	if (F.finished_first || !fake_take(ctx))
		return false;
	atomic_store(&ctx->state, FAAS__ABANDONED);
	F.abandoned = ctx;
	*was_running = true;
	return true;
}

static const faas__exec_ops fake_ops = {
	.name = "fake",
	.submit = fake_submit,
	.abandon = fake_abandon,
};

static int echo(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)ctx;
	*result = cJSON_CreateObject();
	cJSON_AddItemToObject(*result, "echo",
			      event ? cJSON_Duplicate(event, true) : cJSON_CreateNull());
	return 0;
}

static int fails(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	(void)event;
	(void)result;
	return faas_ctx_error(ctx, "Fake.HandlerError", "the handler failed");
}

static void setup(void)
{
	faas_runtime_options o = th_ropts();

	memset(&F, 0, sizeof(F));
	F.after_ms = 5;
	cr_assert_eq(faas__exec_set(FAAS_ISOLATION_THREAD, &fake_ops), 0);
	th_calls_init(&calls);
	th_loop_init(&loop);
	o.drain_timeout_ms = 20;
	rt = th_rt_new(&loop, &o);
	cr_assert_eq(uv_timer_init(&loop, &F.timer), 0);
	F.timer_open = true;
	th_register_static(rt, "echo", echo);
	th_register_static(rt, "fails", fails);
}

static void teardown(void)
{
	if (F.timer_open)
		uv_close((uv_handle_t *)&F.timer, NULL);
	th_rt_free(rt, &loop);
	th_calls_clear(&calls);
	cr_assert_eq(faas__exec_set(FAAS_ISOLATION_THREAD, NULL), 0);
}

TestSuite(exec, .init = setup, .fini = teardown, .timeout = 30);

static const faas_activation *only_call(void)
{
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS), "no callback");
	/* Nothing more may come, however long the loop runs. */
	th_spin(rt, 30);
	cr_assert_eq(atomic_load(&calls.n), 1);
	return calls.acts[0];
}

static void expect_error(const faas_activation *act, faas_status status, const char *type,
			 const char *msg)
{
	cr_assert_eq(faas_activation_status(act), status, "status %s, expected %s",
		     faas_status_name(faas_activation_status(act)), faas_status_name(status));
	cr_assert_str_eq(faas_activation_error_type(act), type);
	cr_assert_str_eq(faas_activation_error_message(act), msg);
}

Test(exec, a_run_to_the_end_completes_with_the_handlers_result)
{
	const faas_activation *act;

	cr_assert_eq(th_invoke(rt, "echo", "{\"n\":1}", &calls), 0);
	cr_assert_eq(F.submits, 1);
	cr_assert_eq(F.nheld, 1, "the fake holds the call");
	cr_assert_eq(atomic_load(&calls.n), 0, "no callback before the executor reports");
	act = only_call();
	cr_assert_eq(faas_activation_status(act), FAAS_STATUS_SUCCESS);
	cr_assert(th_json_eq(faas_activation_result(act), "{\"echo\":{\"n\":1}}"));
	cr_assert(faas_activation_started(act));
	cr_assert_eq(calls.sync_calls, 0, "the callback ran inside faas_invoke");
	cr_assert_eq(F.abandons, 0);
	cr_assert_eq(F.reported, 1);
}

Test(exec, a_handler_error_filled_in_by_the_run_is_an_application_error)
{
	cr_assert_eq(th_invoke(rt, "fails", NULL, &calls), 0);
	expect_error(only_call(), FAAS_STATUS_APPLICATION_ERROR, "Fake.HandlerError",
		     "the handler failed");
}

Test(exec, an_outcome_with_a_type_sets_status_type_and_message)
{
	F.mode = FAKE_REPORT;
	F.report = (faas__outcome){FAAS_STATUS_DEVELOPER_ERROR, "Fake.Crash", "the fake crashed"};
	cr_assert_eq(th_invoke(rt, "echo", NULL, &calls), 0);
	expect_error(only_call(), FAAS_STATUS_DEVELOPER_ERROR, "Fake.Crash", "the fake crashed");
	cr_assert_eq(F.abandons, 0);
}

Test(exec, ebusy_from_submit_is_throttled_with_the_executors_message)
{
	const faas_activation *act;

	F.submit_rc = FAAS_EBUSY;
	cr_assert_eq(th_invoke(rt, "echo", NULL, &calls), 0);
	act = only_call();
	expect_error(act, FAAS_STATUS_THROTTLED, "TooManyRequestsException",
		     "echo: the fake says FAAS_EBUSY");
	cr_assert_not(faas_activation_started(act));
	cr_assert_eq(F.submits, 1);
	cr_assert_eq(F.abandons, 0, "a refused call is never taken back");
	cr_assert_eq(F.reported, 0);
}

Test(exec, another_submit_error_is_an_internal_error)
{
	F.submit_rc = FAAS_ESYSTEM;
	cr_assert_eq(th_invoke(rt, "echo", NULL, &calls), 0);
	expect_error(only_call(), FAAS_STATUS_INTERNAL_ERROR, "Runtime.InternalError",
		     "echo: the fake says FAAS_ESYSTEM");
	cr_assert_eq(F.abandons, 0);
}

Test(exec, a_deadline_passing_abandons_the_call_once_and_times_it_out)
{
	faas_fn_options fo = th_fopts_static(echo);
	const faas_activation *act;

	fo.timeout_ms = 40;
	th_register(rt, "slow", &fo);
	F.mode = FAKE_HOLD;
	cr_assert_eq(th_invoke(rt, "slow", NULL, &calls), 0);
	act = only_call();
	expect_error(act, FAAS_STATUS_TIMEOUT, "Sandbox.Timedout",
		     "Task timed out after 0.04 seconds");
	cr_assert_eq(F.abandons, 1);
	cr_assert_eq(F.nheld, 0);
	cr_assert_not_null(F.abandoned);
	cr_assert_eq(F.reported, 0);
}

Test(exec, an_executor_that_finished_first_completes_the_call_itself)
{
	faas_fn_options fo = th_fopts_static(echo);

	fo.timeout_ms = 20;
	th_register(rt, "late", &fo);
	/* The deadline comes while the outcome is on its way: abandon says no,
	 * and the outcome the fake reports later is the one that counts. */
	F.finished_first = true;
	F.after_ms = 80;
	cr_assert_eq(th_invoke(rt, "late", "7", &calls), 0);
	cr_assert(th_wait(rt, &calls.n, 1, TH_WAIT_MS));
	th_spin(rt, 30);
	cr_assert_eq(atomic_load(&calls.n), 1);
	cr_assert_eq(F.abandons, 1);
	cr_assert_eq(F.reported, 1);
	cr_assert_eq(faas_activation_status(calls.acts[0]), FAAS_STATUS_SUCCESS);
	cr_assert(th_json_eq(faas_activation_result(calls.acts[0]), "{\"echo\":7}"));
}

Test(exec, done_runs_exactly_once_per_submitted_call)
{
	enum { N = 20 };

	for (int i = 0; i < N; i++)
		cr_assert_eq(th_invoke(rt, "echo", NULL, &calls), 0);
	cr_assert_eq(F.submits, N);
	cr_assert(th_wait(rt, &calls.n, N, TH_WAIT_MS));
	th_spin(rt, 30);
	cr_assert_eq(atomic_load(&calls.n), N);
	cr_assert_eq(F.reported, N);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(faas_activation_status(calls.acts[i]), FAAS_STATUS_SUCCESS);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(faas_activation_id(calls.acts[i]),
					  faas_activation_id(calls.acts[j]));
	}
}

Test(exec, stopping_the_runtime_cancels_a_held_call)
{
	const faas_activation *act;

	F.mode = FAKE_HOLD;
	cr_assert_eq(th_invoke(rt, "echo", NULL, &calls), 0);
	cr_assert_eq(faas_runtime_stop(rt), 0);
	cr_assert_not(faas_runtime_stopped(rt), "stopped with a call in flight");
	act = only_call();
	expect_error(act, FAAS_STATUS_INTERNAL_ERROR, "Runtime.Canceled",
		     "the runtime stopped before the call finished");
	cr_assert_eq(F.abandons, 1);
	cr_assert_eq(F.nheld, 0);
	cr_assert(faas_runtime_stopped(rt));
}

Test(exec, freeing_the_runtime_cancels_a_held_call)
{
	F.mode = FAKE_HOLD;
	cr_assert_eq(th_invoke(rt, "echo", NULL, &calls), 0);
	uv_close((uv_handle_t *)&F.timer, NULL);
	F.timer_open = false;
	th_rt_free(rt, &loop);
	rt = NULL;
	cr_assert_eq(atomic_load(&calls.n), 1);
	expect_error(calls.acts[0], FAAS_STATUS_INTERNAL_ERROR, "Runtime.Canceled",
		     "the runtime stopped before the call finished");
	cr_assert_eq(F.abandons, 1);
	/* teardown frees NULL and closes a closed loop no more. */
	th_loop_init(&loop);
}

/* faas__exec_set itself, without a runtime. */

Test(exec_set, null_restores_the_builtin_executor)
{
	cr_assert_eq(faas__exec_of(FAAS_ISOLATION_THREAD), &faas__exec_thread);
	cr_assert_eq(faas__exec_set(FAAS_ISOLATION_THREAD, &fake_ops), 0);
	cr_assert_eq(faas__exec_of(FAAS_ISOLATION_THREAD), &fake_ops);
	cr_assert_eq(faas__exec_of(FAAS_ISOLATION_INLINE), &faas__exec_inline,
		     "another mode was touched");
	cr_assert_eq(faas__exec_set(FAAS_ISOLATION_THREAD, NULL), 0);
	cr_assert_eq(faas__exec_of(FAAS_ISOLATION_THREAD), &faas__exec_thread);
}

Test(exec_set, refuses_ops_without_submit_or_abandon)
{
	faas__exec_ops no_submit = fake_ops, no_abandon = fake_ops;

	no_submit.submit = NULL;
	no_abandon.abandon = NULL;
	cr_assert_eq(faas__exec_set(FAAS_ISOLATION_THREAD, &no_submit), FAAS_EINVAL);
	cr_assert_eq(faas__exec_set(FAAS_ISOLATION_THREAD, &no_abandon), FAAS_EINVAL);
	cr_assert_eq(faas__exec_of(FAAS_ISOLATION_THREAD), &faas__exec_thread,
		     "a refused table was installed");
	cr_assert_eq(faas__exec_set((faas_isolation)FAAS__ISOLATION_COUNT, &fake_ops),
		     FAAS_EINVAL);
}

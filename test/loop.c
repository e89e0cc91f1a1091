/* core's loop helpers (core/core.c, loop.h): callbacks deferred to a clean
 * loop turn (order, re-queueing, faas__defer_run) and the counting of the
 * runtime's handles. */
#include <criterion/criterion.h>

#include "core.h"
#include "helpers.h"

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

TestSuite(loop, .init = setup, .fini = teardown, .timeout = 30);

/* A deferred callback that writes its tag into a shared log. */
typedef struct tagged {
	faas__deferred node;
	char tag;
	int again;          /* times it queues itself again from its run */
	struct tagged *add; /* queued from its run, once */
} tagged;

static char order[64];
static int norder;

static void run_tagged(faas__deferred *d)
{
	tagged *t = (tagged *)d; /* node is first */

	cr_assert_lt(norder, (int)sizeof(order) - 1);
	order[norder++] = t->tag;
	order[norder] = '\0';
	if (t->again > 0) {
		t->again--;
		faas__defer(rt, &t->node, run_tagged);
	}
	if (t->add) {
		faas__defer(rt, &t->add->node, run_tagged);
		t->add = NULL;
	}
}

static void reset_order(void)
{
	norder = 0;
	order[0] = '\0';
}

Test(loop, deferred_callbacks_wait_for_the_loop_and_run_in_order)
{
	tagged a = {.tag = 'a'}, b = {.tag = 'b'}, c = {.tag = 'c'};

	reset_order();
	cr_assert_not(faas__defer_pending(rt));
	faas__defer(rt, &a.node, run_tagged);
	faas__defer(rt, &b.node, run_tagged);
	faas__defer(rt, &c.node, run_tagged);
	cr_assert_str_eq(order, "", "a deferred callback ran inside faas__defer");
	cr_assert(faas__defer_pending(rt));
	cr_assert(uv_is_active((uv_handle_t *)&rt->deferred.idle));
	uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_str_eq(order, "abc");
	cr_assert_not(faas__defer_pending(rt));
	cr_assert_not(uv_is_active((uv_handle_t *)&rt->deferred.idle),
		      "the idle handle keeps spinning the loop with nothing queued");
}

Test(loop, a_callback_may_queue_itself_again_from_its_run)
{
	tagged a = {.tag = 'a', .again = 2}, b = {.tag = 'b'};

	reset_order();
	faas__defer(rt, &a.node, run_tagged);
	faas__defer(rt, &b.node, run_tagged);
	faas__defer_run(rt);
	/* Queued again behind b, and run in the same faas__defer_run. */
	cr_assert_str_eq(order, "abaa");
	cr_assert_not(faas__defer_pending(rt));
}

Test(loop, defer_run_runs_what_is_queued_during_the_run)
{
	tagged c = {.tag = 'c'};
	tagged a = {.tag = 'a', .add = &c}, b = {.tag = 'b'};

	reset_order();
	faas__defer(rt, &a.node, run_tagged);
	faas__defer(rt, &b.node, run_tagged);
	faas__defer_run(rt);
	cr_assert_str_eq(order, "abc");
	cr_assert_not(faas__defer_pending(rt));
	cr_assert_not(uv_is_active((uv_handle_t *)&rt->deferred.idle));
	/* Nothing is left for the loop. */
	uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_str_eq(order, "abc");
}

Test(loop, once_closed_only_defer_run_runs_callbacks)
{
	tagged a = {.tag = 'a'};

	reset_order();
	faas__defer_close(rt);
	faas__defer(rt, &a.node, run_tagged);
	uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_str_eq(order, "");
	cr_assert(faas__defer_pending(rt));
	faas__defer_run(rt);
	cr_assert_str_eq(order, "a");
}

Test(loop, handles_are_counted_until_their_close_callback)
{
	int before = rt->open_handles;
	uv_timer_t t;

	cr_assert_gt(before, 0, "the runtime's own handles are counted");
	cr_assert_eq(uv_timer_init(&loop, &t), 0);
	t.data = rt;
	faas__handles_add(rt, 1);
	cr_assert_eq(rt->open_handles, before + 1);
	faas__handle_close((uv_handle_t *)&t);
	cr_assert_eq(rt->open_handles, before + 1, "counted down before libuv is done with it");
	uv_run(&loop, UV_RUN_NOWAIT);
	cr_assert_eq(rt->open_handles, before);
}

Test(loop, handles_closed_counts_down_without_freeing_a_live_runtime)
{
	int before = rt->open_handles;

	faas__handles_add(rt, 2);
	faas__handles_closed(rt);
	faas__handles_closed(rt);
	cr_assert_eq(rt->open_handles, before);
	/* rt is still usable: the teardown frees it. */
	cr_assert_not(faas_runtime_stopped(rt));
}

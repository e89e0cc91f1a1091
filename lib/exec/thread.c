/* The thread executor: calls run on the runtime's own pool (pool.c); their
 * outcomes come back to the loop through one async handle. */
#include "exec.h"

static const faas__outcome ran_to_end = {FAAS_STATUS_SUCCESS, NULL, NULL};

static void on_pool_notify(uv_async_t *h)
{
	faas_runtime *rt = h->data;
	faas_ctx *ctx = faas__pool_take_done(rt->pool);

	while (ctx) {
		faas_ctx *next = ctx->exec.thread.next;

		rt->exec_done(rt, ctx, &ran_to_end);
		ctx = next;
	}
	/* An async callback is a clean point: callers get their answers now
	 * rather than a loop turn later. */
	faas__defer_run(rt);
}

static void notify_loop(void *arg)
{
	uv_async_send(arg);
}

/* 0 means half the pool, so one function's stuck calls leave the other half
 * of the threads to everyone else; at least 1. */
static unsigned int max_stuck_per_function(const faas_runtime_options *o)
{
	unsigned int half = o->threads / 2;

	if (o->max_stuck_per_function)
		return o->max_stuck_per_function;
	return half > 0 ? half : 1;
}

static int thread_start(faas_runtime *rt)
{
	int rc;

	if (uv_async_init(rt->loop, &rt->pool_async, on_pool_notify) != 0)
		return FAAS_ESYSTEM;
	rt->pool_async.data = rt;
	faas__handles_add(rt, 1);
	/* An idle runtime must not keep the host's loop alive. */
	uv_unref((uv_handle_t *)&rt->pool_async);
	rc = faas__pool_new(&rt->pool, rt->opts.threads, rt->opts.max_stuck_threads,
			    max_stuck_per_function(&rt->opts), notify_loop, &rt->pool_async);
	return rc;
}

static void thread_shutdown(faas_runtime *rt)
{
	faas_ctx *done = rt->pool ? faas__pool_shutdown(rt->pool) : NULL;

	rt->pool = NULL;
	while (done) {
		faas_ctx *next = done->exec.thread.next;

		rt->exec_done(rt, done, &ran_to_end);
		done = next;
	}
	/* data is set once the handle was initialised. */
	if (rt->pool_async.data && !uv_is_closing((uv_handle_t *)&rt->pool_async))
		faas__handle_close((uv_handle_t *)&rt->pool_async);
}

static bool thread_warm(const faas_fn *fn)
{
	return faas__fn_loaded_warm(fn);
}

static int thread_submit(faas_ctx *ctx)
{
	faas_runtime *rt = ctx->rt;
	unsigned int stuck = 0;

	switch (faas__pool_submit(rt->pool, ctx, &stuck)) {
	case 0:
		return 0;
	case FAAS__POOL_FN_STUCK:
		rt->exec_refusal = FAAS__ERR_FN_STUCK;
		return faas__fail(rt, FAAS_EBUSY,
				  "Rate Exceeded. (%s: %u call%s stuck past %s deadline)",
				  ctx->fn->name, stuck, stuck == 1 ? " is" : "s are",
				  stuck == 1 ? "its" : "their");
	default:
		rt->exec_refusal = FAAS__ERR_NO_THREADS;
		return faas__fail(rt, FAAS_EBUSY,
				  "Rate Exceeded. (no executor thread is left: all %u are stuck "
				  "past a deadline and max_stuck_threads allows no replacement)",
				  stuck);
	}
}

static bool thread_abandon(faas_ctx *ctx, bool *was_running)
{
	return faas__pool_abandon(ctx->rt->pool, ctx, was_running);
}

static void thread_counts(faas_runtime *rt, faas__exec_counts *out)
{
	unsigned int threads = 0, stuck = 0;

	if (rt->pool)
		faas__pool_counts(rt->pool, &threads, &stuck);
	out->threads += threads;
	out->stuck_threads += stuck;
}

const faas__exec_ops faas__exec_thread = {
	.name = "thread",
	.start = thread_start,
	.shutdown = thread_shutdown,
	.attach = faas__fn_load,
	.warm = thread_warm,
	.submit = thread_submit,
	.abandon = thread_abandon,
	.counts = thread_counts,
};

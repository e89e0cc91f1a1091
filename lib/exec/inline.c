/* The inline executor: the handler runs on the loop thread, inside submit.
 * Fastest, for trusted non-blocking handlers; a deadline can only be
 * reported after the fact, which invoke/ does from FAAS__EXEC_ON_LOOP. */
#include "exec.h"

static bool inline_warm(const faas_fn *fn)
{
	return faas__fn_loaded_warm(fn);
}

static int inline_submit(faas_ctx *ctx)
{
	static const faas__outcome ran_to_end = {FAAS_STATUS_SUCCESS, NULL, NULL};
	faas_runtime *rt = ctx->rt;

	atomic_store(&ctx->state, FAAS__RUNNING);
	faas__ctx_execute(ctx, ctx->admitted_ns, true);
	atomic_store(&ctx->state, FAAS__DONE);
	if (ctx->fn->lib)
		atomic_fetch_sub(&ctx->fn->lib->running, 1);
	rt->exec_done(rt, ctx, &ran_to_end);
	return 0;
}

static bool inline_abandon(faas_ctx *ctx, bool *was_running)
{
	/* Nothing to take back: an inline call is over when submit returns. */
	(void)ctx;
	*was_running = false;
	return false;
}

const faas__exec_ops faas__exec_inline = {
	.name = "inline",
	.flags = FAAS__EXEC_ON_LOOP,
	.attach = faas__fn_load,
	.warm = inline_warm,
	.submit = inline_submit,
	.abandon = inline_abandon,
};

/* Admission: sizing and checking the event, the payload, concurrency and
 * billing checks, and handing the call to its executor; the public
 * faas_invoke calls. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invoke_internal.h"

/* The scratch buffer used to size events is given back past this size, so one
 * huge event does not pin megabytes for the runtime's life. */
#define FAAS__PRINT_BUF_KEEP (64u * 1024u)
#define FAAS__PRINT_BUF_START 4096u
/* cJSON_PrintPreallocated wants a few spare bytes beyond the text. */
#define FAAS__PRINT_SLACK 64u

static const char *print_bounded(faas_runtime *rt, const cJSON *event, size_t limit,
				 size_t *len)
{
	size_t max_cap = limit + FAAS__PRINT_SLACK;

	if (!rt->print_buf) {
		rt->print_cap = FAAS__PRINT_BUF_START;
		rt->print_buf = malloc(rt->print_cap);
		if (!rt->print_buf)
			return NULL;
	}
	for (;;) {
		if (cJSON_PrintPreallocated((cJSON *)event, rt->print_buf, (int)rt->print_cap, 0)) {
			*len = strlen(rt->print_buf);
			return rt->print_buf;
		}
		if (rt->print_cap >= max_cap || rt->print_cap > (size_t)INT32_MAX / 4) {
			*len = SIZE_MAX; /* larger than the limit */
			return rt->print_buf;
		}
		size_t cap = rt->print_cap * 4 < max_cap ? rt->print_cap * 4 : max_cap;
		char *grown = realloc(rt->print_buf, cap);

		if (!grown)
			return NULL;
		rt->print_buf = grown;
		rt->print_cap = cap;
	}
}

static void shrink_print_buf(faas_runtime *rt)
{
	if (rt->print_cap > FAAS__PRINT_BUF_KEEP) {
		free(rt->print_buf);
		rt->print_buf = NULL;
		rt->print_cap = 0;
	}
}

/* Size the event and give the executor what it needs: inline reads the
 * caller's event in place; a worker gets text it parses on its own thread. */
static int prepare_event(faas_runtime *rt, faas_ctx *ctx, const cJSON *event, const char *json,
			 size_t json_len, unsigned int flags)
{
	faas_fn *fn = ctx->fn;
	const char *text;
	size_t len;

	if (json && (flags & FAAS__JSON_TRUSTED) && !faas__invoke_on_loop(fn)) {
		/* Text libfaas wrote is valid JSON: leave the parse to the worker
		 * and keep the loop free. */
		ctx->bytes_in = json_len;
		if (json_len > fn->payload_limit)
			return 0;
		ctx->payload = malloc(json_len + 1);
		if (!ctx->payload)
			return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", fn->name);
		memcpy(ctx->payload, json, json_len);
		ctx->payload[json_len] = '\0';
		ctx->payload_len = json_len;
		return 0;
	}
	if (json) {
		const char *end = NULL;

		ctx->event_owned = cJSON_ParseWithLengthOpts(json, json_len, &end, 0);
		/* cJSON stops at the end of the first value; what follows it may
		 * only be white space, or "{} junk" would pass as {}. */
		while (ctx->event_owned && end < json + json_len &&
		       (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r'))
			end++;
		if (!ctx->event_owned || end != json + json_len)
			return faas__fail(rt, FAAS_EINVAL, "%s: the event is not valid JSON",
					  fn->name);
		ctx->event = ctx->event_owned;
		ctx->bytes_in = json_len;
		return 0;
	}
	if (!event) {
		ctx->bytes_in = 4; /* null */
		return 0;
	}
	text = print_bounded(rt, event, fn->payload_limit, &len);
	if (!text)
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory sizing the event", fn->name);
	ctx->bytes_in = len;
	if (len <= fn->payload_limit) {
		if (faas__invoke_on_loop(fn)) {
			ctx->event = event;
		} else {
			ctx->payload = malloc(len + 1);
			if (!ctx->payload)
				return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", fn->name);
			memcpy(ctx->payload, text, len + 1);
			ctx->payload_len = len;
		}
	}
	shrink_print_buf(rt);
	return 0;
}

/* Returns true if admitted; otherwise ctx was completed unstarted. */
static bool admit(faas_runtime *rt, faas_ctx *ctx)
{
	faas_fn *fn = ctx->fn;
	char msg[FAAS__ERRMSG_SIZE];
	int rc;

	if (!fn->enabled) {
		snprintf(msg, sizeof(msg), "function %s is disabled", fn->name);
		faas__complete_unstarted(rt, ctx, FAAS_STATUS_REJECTED, FAAS__ERR_DISABLED, msg);
		return false;
	}
	if (ctx->bytes_in > fn->payload_limit) {
		snprintf(msg, sizeof(msg),
			 "Request must be smaller than %zu bytes for the InvokeFunction operation",
			 fn->payload_limit + 1);
		faas__complete_unstarted(rt, ctx, FAAS_STATUS_REJECTED, FAAS__ERR_PAYLOAD_SIZE, msg);
		return false;
	}
	if (fn->max_concurrency && fn->in_flight >= fn->max_concurrency) {
		snprintf(msg, sizeof(msg),
			 "Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded: %u)",
			 fn->max_concurrency);
		faas__complete_unstarted(rt, ctx, FAAS_STATUS_THROTTLED, FAAS__ERR_THROTTLED, msg);
		return false;
	}
	if (rt->n_inflight >= rt->opts.max_concurrency) {
		snprintf(msg, sizeof(msg),
			 "Rate Exceeded. (ConcurrentInvocationLimitExceeded: %u)",
			 rt->opts.max_concurrency);
		faas__complete_unstarted(rt, ctx, FAAS_STATUS_THROTTLED, FAAS__ERR_THROTTLED, msg);
		return false;
	}
	if (rt->billing->admit) {
		rc = rt->billing->admit(rt->billing, fn->name, ctx->bytes_in);
		if (rc != 0) {
			bool budget = faas__billing_is_default(rt->billing);

			snprintf(msg, sizeof(msg), "%s: %s",
				 budget ? "the function's budget is spent" : "refused by the billing hook",
				 faas_strerror(rc));
			faas__complete_unstarted(rt, ctx, FAAS_STATUS_REJECTED,
					   budget ? FAAS__ERR_BUDGET : FAAS__ERR_BILLING, msg);
			return false;
		}
	}
	return true;
}

static void start(faas_runtime *rt, faas_ctx *ctx)
{
	faas_fn *fn = ctx->fn;
	const faas__exec_ops *exec = fn->exec;
	char msg[FAAS__ERRMSG_SIZE];
	const char *type;
	int rc;

	ctx->next = rt->inflight;
	ctx->prev = NULL;
	if (rt->inflight)
		rt->inflight->prev = ctx;
	rt->inflight = ctx;
	rt->n_inflight++;
	fn->in_flight++;
	if (fn->lib) {
		/* A module idle past its keep-warm time goes cold now even if the
		 * reaper has not run yet, so this call sees a real cold start. */
		faas__lib_expire_if_idle(fn->lib);
		atomic_fetch_add(&fn->lib->running, 1);
	}
	if (exec->flags & FAAS__EXEC_ON_LOOP) {
		(void)exec->submit(ctx); /* reports inside: cannot fail */
		/* The caller's event must not be reachable after it returns. */
		ctx->event = NULL;
		return;
	}
	ctx->deadline_ns = ctx->admitted_ns + (uint64_t)fn->timeout_ms * 1000000u;
	if (faas__deadline_push(rt, ctx) != 0) {
		/* Without a deadline slot the call cannot be guarded: fail it as
		 * libfaas's own error before it starts. */
		faas__not_started(rt, ctx, FAAS_STATUS_INTERNAL_ERROR, NULL,
				  "out of memory arming the deadline");
		return;
	}
	rc = exec->submit(ctx);
	if (rc != 0) {
		faas__deadline_remove(rt, ctx);
		snprintf(msg, sizeof(msg), "%s", faas_runtime_last_error(rt));
		/* exec.h: a refusal may name its own error type. */
		type = rc == FAAS_EBUSY ? rt->exec_refusal : NULL;
		rt->exec_refusal = NULL;
		faas__not_started(rt, ctx, rc == FAAS_EBUSY ? FAAS_STATUS_THROTTLED : FAAS_STATUS_INTERNAL_ERROR,
			    type, msg);
		faas__deadline_arm(rt);
		return;
	}
	if (faas__heap_peek(&rt->deadlines) == &ctx->deadline_node)
		faas__deadline_arm(rt);
}

int faas__invoke(faas_runtime *rt, const char *function, const cJSON *event, const char *json,
		 size_t json_len, unsigned int flags, faas_invoke_cb cb, void *userdata,
		 faas_ctx **ctx_out)
{
	faas_ctx *ctx;
	faas_fn *fn;
	int rc;

	if (!rt || !function || !cb)
		return FAAS_EINVAL;
	if (rt->stopping)
		return faas__fail(rt, FAAS_ESTOPPED, "%s: the runtime is stopping", function);
	fn = faas_fn_lookup(rt, function);
	if (!fn)
		return faas__fail(rt, FAAS_ENOTFOUND, "%s: no such function", function);
	rc = faas__ctx_new(&ctx, rt, fn);
	if (rc != 0)
		return faas__fail(rt, rc, "%s: out of memory", function);
	ctx->cb = cb;
	ctx->userdata = userdata;
	rc = prepare_event(rt, ctx, event, json, json_len, flags);
	if (rc != 0) {
		faas__ctx_release(ctx);
		return rc;
	}
	if (ctx_out)
		*ctx_out = ctx;
	if (admit(rt, ctx))
		start(rt, ctx);
	return 0;
}

int faas_invoke(faas_runtime *rt, const char *function, const cJSON *event, faas_invoke_cb cb,
		void *userdata)
{
	return faas__invoke(rt, function, event, NULL, 0, 0, cb, userdata, NULL);
}

int faas_invoke_payload(faas_runtime *rt, const char *function, const char *json, size_t len,
			faas_invoke_cb cb, void *userdata)
{
	if (!json)
		return FAAS_EINVAL;
	return faas__invoke(rt, function, NULL, json, len, 0, cb, userdata, NULL);
}

typedef struct sync_wait {
	faas_activation *act;
} sync_wait;

static void on_sync_done(const faas_activation *act, void *userdata)
{
	((sync_wait *)userdata)->act = faas_activation_dup(act);
}

int faas_invoke_sync(faas_activation **out, faas_runtime *rt, const char *function,
		     const cJSON *event)
{
	sync_wait wait = {NULL};
	int rc;

	if (!out)
		return FAAS_EINVAL;
	*out = NULL;
	rc = faas_invoke(rt, function, event, on_sync_done, &wait);
	if (rc != 0)
		return rc;
	/* Completions made on this stack (inline calls, refusals) are delivered
	 * here directly rather than through a loop turn: same order, same single
	 * callback, one system call less. */
	while (!wait.act) {
		if (faas__defer_pending(rt))
			faas__defer_run(rt);
		else
			uv_run(rt->loop, UV_RUN_ONCE);
	}
	*out = wait.act;
	return 0;
}

/* ---- the layer's handles ---- */

int faas__invoke_init(faas_runtime *rt)
{
	uv_timer_init(rt->loop, &rt->deadline_timer);
	uv_timer_init(rt->loop, &rt->drain_timer);
	rt->deadline_timer.data = rt;
	rt->drain_timer.data = rt;
	rt->deadline_expired = faas__deadline_expired;
	faas__deadline_init(rt);
	faas__handles_add(rt, 2);
	return faas__exec_start(rt, faas__on_exec_done);
}

void faas__invoke_close(faas_runtime *rt)
{
	faas__handle_close((uv_handle_t *)&rt->deadline_timer);
	faas__handle_close((uv_handle_t *)&rt->drain_timer);
}

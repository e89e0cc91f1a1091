/* Completion on the loop thread: the activation record, usage, billing, the
 * START/END/REPORT lines, the function's stats, and the caller's callback
 * (always deferred: never inside the call that started the work). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invoke_internal.h"

static void inflight_unlink(faas_runtime *rt, faas_ctx *ctx)
{
	if (ctx->prev)
		ctx->prev->next = ctx->next;
	else
		rt->inflight = ctx->next;
	if (ctx->next)
		ctx->next->prev = ctx->prev;
	ctx->prev = ctx->next = NULL;
	rt->n_inflight--;
	ctx->fn->in_flight--;
}

static char *take_logs(faas_ctx *ctx)
{
	char *logs;

	pthread_mutex_lock(&ctx->log_mu);
	if (ctx->log_dropped) {
		char marker[96];
		int n = snprintf(marker, sizeof(marker),
				 "[libfaas] log truncated: %zu bytes dropped\n", ctx->log_dropped);
		char *grown = realloc(ctx->log, ctx->log_len + (size_t)n + 1);

		if (grown) {
			memcpy(grown + ctx->log_len, marker, (size_t)n + 1);
			ctx->log = grown;
			ctx->log_len += (size_t)n;
		}
		ctx->log_dropped = 0;
	}
	/* A worker still writing after a deadline gets a fresh buffer that nobody
	 * reads; the copy taken here is what the activation keeps. */
	logs = ctx->log;
	ctx->log = NULL;
	ctx->log_len = ctx->log_cap = 0;
	ctx->log_limit = 0;
	pthread_mutex_unlock(&ctx->log_mu);
	return logs;
}

static faas_status status_of_finished(faas_ctx *ctx, const char **type, char *msg, size_t size)
{
	faas_fn *fn = ctx->fn;
	uint64_t ran_ns = ctx->finished_ns - atomic_load(&ctx->handler_start_ns);

	*type = NULL;
	if (atomic_load(&ctx->oom)) {
		*type = FAAS__ERR_OOM;
		snprintf(msg, size, "memory limit of %u MB exceeded", fn->memory_mb);
		return FAAS_STATUS_OOM;
	}
	if (ctx->init_failed) {
		*type = FAAS__ERR_INIT;
		snprintf(msg, size, "module init of %s failed", fn->lib ? fn->lib->path : fn->name);
		return FAAS_STATUS_DEVELOPER_ERROR;
	}
	if (ctx->internal_failure) {
		*type = FAAS__ERR_INTERNAL;
		snprintf(msg, size, "out of memory handling the event or result");
		return FAAS_STATUS_INTERNAL_ERROR;
	}
	if (faas__invoke_on_loop(fn) && ran_ns > (uint64_t)fn->timeout_ms * 1000000u) {
		*type = FAAS__ERR_TIMEOUT;
		snprintf(msg, size, "Task timed out after %.2f seconds", fn->timeout_ms / 1000.0);
		return FAAS_STATUS_TIMEOUT;
	}
	if (ctx->handler_rc != 0) {
		if (ctx->err_type) {
			*type = ctx->err_type;
			snprintf(msg, size, "%s", ctx->err_msg ? ctx->err_msg : "");
		} else {
			*type = FAAS__ERR_DEFAULT;
			snprintf(msg, size, "handler returned %d", ctx->handler_rc);
		}
		return FAAS_STATUS_APPLICATION_ERROR;
	}
	if (ctx->result_too_big) {
		*type = FAAS__ERR_RESULT_SIZE;
		snprintf(msg, size,
			 "Response payload size (%llu bytes) exceeded maximum allowed payload size "
			 "(%zu bytes).",
			 (unsigned long long)ctx->bytes_out, fn->result_limit);
		return FAAS_STATUS_DEVELOPER_ERROR;
	}
	return FAAS_STATUS_SUCCESS;
}

bool faas__invoke_on_loop(const faas_fn *fn)
{
	return (fn->exec->flags & FAAS__EXEC_ON_LOOP) != 0;
}

void faas__deliver(faas_runtime *rt, faas_ctx *ctx)
{
	faas_activation *act = ctx->act;

	ctx->act = NULL;
	ctx->cb(act, ctx->userdata);
	faas_activation_free(act);
	faas__ctx_release(ctx);
	faas__drain_check(rt);
}

static void on_deliver(faas__deferred *d)
{
	faas_ctx *ctx = (faas_ctx *)((char *)d - offsetof(faas_ctx, deliver));

	faas__deliver(ctx->rt, ctx);
}

/* Callbacks never run inside the call that started the work (libuv's rule):
 * completions made on the caller's stack, or inside an executor's own
 * bookkeeping, wait for the next loop turn or the executor's clean point. */
void faas__deliver_later(faas_runtime *rt, faas_ctx *ctx)
{
	faas__defer(rt, &ctx->deliver, on_deliver);
}

/* Build the activation of a started call, bill it and log it. The caller has
 * decided the status; `finished` says whether the executor is done with ctx
 * (its result and error may be read) or the loop abandoned it. */
static void record_started(faas_runtime *rt, faas_ctx *ctx, faas_status status,
			   const char *type, const char *msg, bool finished)
{
	faas_fn *fn = ctx->fn;
	faas_activation *act = ctx->act;
	uint64_t hs = atomic_load_explicit(&ctx->handler_start_ns, memory_order_acquire);
	uint64_t started = atomic_load(&ctx->started_ns);
	uint64_t end = finished ? ctx->finished_ns : faas__now_ns();
	faas_usage *u;

	u = &act->usage;
	act->started = true;
	act->status = status;
	act->start_us = ctx->admitted_wall_us;
	act->end_us = ctx->admitted_wall_us + (end - ctx->admitted_ns) / 1000u;
	if (status == FAAS_STATUS_SUCCESS) {
		act->result = ctx->result ? ctx->result : cJSON_CreateNull();
		ctx->result = NULL;
	} else {
		faas__activation_set_error(act, type, msg);
	}
	act->logs = take_logs(ctx);
	u->duration_us = (end - (hs ? hs : started)) / 1000u;
	/* A timed-out call is billed up to its deadline, not for the moment the
	 * loop got round to noticing. */
	if (status == FAAS_STATUS_TIMEOUT && u->duration_us > (uint64_t)fn->timeout_ms * 1000u)
		u->duration_us = (uint64_t)fn->timeout_ms * 1000u;
	if (hs) {
		u->cold = ctx->cold;
		u->init_us = ctx->init_us;
	}
	u->billed_ms = faas_status_billed(status)
			       ? faas__billed_ms(u->duration_us, rt->opts.pricing.granularity_ms)
			       : 0;
	u->memory_mb = fn->memory_mb;
	u->max_memory_bytes = atomic_load(&ctx->mem_peak);
	u->cpu_us = (finished ? ctx->cpu_ns : ctx->abandoned_cpu_ns) / 1000u;
	u->bytes_in = ctx->bytes_in;
	u->bytes_out = finished && status == FAAS_STATUS_SUCCESS ? ctx->bytes_out : 0;
	u->status = status;

	rt->stats.activations[status]++;
	if (u->cold)
		rt->stats.cold_starts++;
	faas__fn_count(fn, u, true);
	if (rt->billing->record)
		rt->billing->record(rt->billing, fn->name, act->id, u);
	faas__store_put(&rt->store, act);
	faas__log_emit(rt, act, fn->fn_version);

	inflight_unlink(rt, ctx);
	if (fn->lib) {
		fn->lib->last_used_ns = end;
		faas__reaper_schedule(rt, fn->lib);
	}
}

static void complete_finished(faas_runtime *rt, faas_ctx *ctx)
{
	char msg[FAAS__ERRMSG_SIZE];
	const char *type;
	faas_status status = status_of_finished(ctx, &type, msg, sizeof(msg));

	record_started(rt, ctx, status, type, msg, true);
}

static void record_unstarted(faas_runtime *rt, faas_ctx *ctx, faas_status status,
			     const char *type, const char *msg);

void faas__complete_abandoned(faas_runtime *rt, faas_ctx *ctx, faas_status status,
			       bool was_running)
{
	const char *type = FAAS__ERR_CANCELED;
	char msg[128];

	atomic_store(&ctx->cancelled, true);
	if (status == FAAS_STATUS_TIMEOUT) {
		type = FAAS__ERR_TIMEOUT;
		snprintf(msg, sizeof(msg), "Task timed out after %.2f seconds",
			 ctx->fn->timeout_ms / 1000.0);
	} else {
		snprintf(msg, sizeof(msg), "the runtime stopped before the call finished");
	}
	if (was_running) {
		record_started(rt, ctx, status, type, msg, false);
		return;
	}
	/* Its deadline (from admission) passed while it waited for a thread, or
	 * the drain ended first: it never started, so it has no usage record
	 * and costs nothing. */
	inflight_unlink(rt, ctx);
	if (ctx->fn->lib)
		atomic_fetch_sub(&ctx->fn->lib->running, 1);
	record_unstarted(rt, ctx, status, type, msg);
}

/* The executor contract's done: a submitted call ended. */
void faas__on_exec_done(faas_runtime *rt, faas_ctx *ctx, const faas__outcome *o)
{
	/* Inline calls never had a deadline slot: nothing to take out. */
	bool guarded = ctx->deadline_node.index != FAAS__HEAP_NONE;
	bool rearm = guarded && faas__heap_peek(&rt->deadlines) == &ctx->deadline_node;

	if (guarded)
		faas__deadline_remove(rt, ctx);
	if (o->type)
		record_started(rt, ctx, o->status, o->type, o->msg, false);
	else
		complete_finished(rt, ctx);
	faas__deliver_later(rt, ctx);
	if (rearm && !rt->freeing)
		faas__deadline_arm(rt);
}

/* Take a call back from whichever executor runs it (deadline or cancel). */
bool faas__executor_abandon(faas_ctx *ctx, bool *was_running)
{
	return ctx->fn->exec->abandon(ctx, was_running);
}

static void record_unstarted(faas_runtime *rt, faas_ctx *ctx, faas_status status,
			     const char *type, const char *msg)
{
	faas_activation *act = ctx->act;

	act->status = status;
	act->start_us = act->end_us = ctx->admitted_wall_us;
	act->usage.memory_mb = ctx->fn->memory_mb;
	act->usage.bytes_in = ctx->bytes_in;
	act->usage.status = status;
	faas__activation_set_error(act, type, msg);
	rt->stats.activations[status]++;
	faas__fn_count(ctx->fn, &act->usage, false);
	faas__store_put(&rt->store, act);
}

/* Throttled and rejected calls never start: an activation, no usage record. */
void faas__complete_unstarted(faas_runtime *rt, faas_ctx *ctx, faas_status status,
			       const char *type, const char *msg)
{
	record_unstarted(rt, ctx, status, type, msg);
	faas__deliver_later(rt, ctx);
}

/* A call its executor could not take: undo start() and complete it unstarted. */
void faas__not_started(faas_runtime *rt, faas_ctx *ctx, faas_status status, const char *type,
		       const char *msg)
{
	inflight_unlink(rt, ctx);
	if (ctx->fn->lib)
		atomic_fetch_sub(&ctx->fn->lib->running, 1);
	if (!type)
		type = status == FAAS_STATUS_THROTTLED ? FAAS__ERR_THROTTLED : FAAS__ERR_INTERNAL;
	faas__complete_unstarted(rt, ctx, status, type, msg);
}

/* ---- deadlines, cancellation and the drain ---- */

void faas__deadline_expired(faas_runtime *rt, faas_ctx *ctx)
{
	bool was_running;

	if (faas__executor_abandon(ctx, &was_running)) {
		faas__complete_abandoned(rt, ctx, FAAS_STATUS_TIMEOUT, was_running);
		faas__deliver(rt, ctx);
	}
	/* Otherwise the worker finished first; its completion is queued. */
}

void faas__cancel_all(faas_runtime *rt)
{
	faas_ctx *ctx = rt->inflight;
	bool was_running;

	while (ctx) {
		faas_ctx *next = ctx->next;

		if (faas__executor_abandon(ctx, &was_running)) {
			faas__deadline_remove(rt, ctx);
			faas__complete_abandoned(rt, ctx, FAAS_STATUS_INTERNAL_ERROR, was_running);
			faas__deliver_later(rt, ctx);
		}
		ctx = next;
	}
	if (!rt->freeing)
		faas__deadline_arm(rt);
}

void faas__drain_check(faas_runtime *rt)
{
	if (!rt->stopping || rt->stopped || rt->n_inflight > 0 || faas__defer_pending(rt))
		return;
	rt->stopped = true;
	uv_timer_stop(&rt->drain_timer);
	if (rt->on_stopped)
		rt->on_stopped(rt);
}

static void on_drain_timeout(uv_timer_t *t)
{
	faas__cancel_all(t->data);
}

void faas__drain_start(faas_runtime *rt)
{
	if (rt->n_inflight > 0)
		uv_timer_start(&rt->drain_timer, on_drain_timeout, rt->opts.drain_timeout_ms, 0);
	faas__drain_check(rt);
}

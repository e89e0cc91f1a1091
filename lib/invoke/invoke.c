/* Invocation: admission, dispatch to an executor, the deadline heap, and
 * completion on the loop thread (activation, usage, billing, logs, callback). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invoke.h"

/* The scratch buffer used to size events is given back past this size, so one
 * huge event does not pin megabytes for the runtime's life. */
#define FAAS__PRINT_BUF_KEEP (64u * 1024u)
#define FAAS__PRINT_BUF_START 4096u
/* cJSON_PrintPreallocated wants a few spare bytes beyond the text. */
#define FAAS__PRINT_SLACK 64u

/* ---- deadline heap: one uv_timer for every call in flight ---- */

static void heap_set(faas__heap *h, size_t i, faas_ctx *ctx)
{
	h->items[i] = ctx;
	ctx->heap_index = i;
}

static void heap_sift_up(faas__heap *h, size_t i)
{
	faas_ctx *ctx = h->items[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->items[parent]->deadline_ns <= ctx->deadline_ns)
			break;
		heap_set(h, i, h->items[parent]);
		i = parent;
	}
	heap_set(h, i, ctx);
}

static void heap_sift_down(faas__heap *h, size_t i)
{
	faas_ctx *ctx = h->items[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->len)
			break;
		if (child + 1 < h->len &&
		    h->items[child + 1]->deadline_ns < h->items[child]->deadline_ns)
			child++;
		if (ctx->deadline_ns <= h->items[child]->deadline_ns)
			break;
		heap_set(h, i, h->items[child]);
		i = child;
	}
	heap_set(h, i, ctx);
}

static int heap_push(faas__heap *h, faas_ctx *ctx)
{
	if (h->len == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		faas_ctx **items = realloc(h->items, cap * sizeof(*items));

		if (!items)
			return FAAS_ENOMEM;
		h->items = items;
		h->cap = cap;
	}
	h->items[h->len] = ctx;
	heap_sift_up(h, h->len++);
	return 0;
}

static void heap_remove(faas__heap *h, faas_ctx *ctx)
{
	size_t i = ctx->heap_index;

	if (i == SIZE_MAX)
		return;
	ctx->heap_index = SIZE_MAX;
	if (--h->len == i)
		return;
	heap_set(h, i, h->items[h->len]);
	heap_sift_up(h, i);
	heap_sift_down(h, h->items[i]->heap_index);
}

static void on_deadline(uv_timer_t *t);

static void deadline_arm(faas_runtime *rt)
{
	uint64_t now, due, ms;

	if (rt->deadlines.len == 0) {
		uv_timer_stop(&rt->deadline_timer);
		return;
	}
	now = faas__now_ns();
	due = rt->deadlines.items[0]->deadline_ns;
	/* Round up: libuv timers have millisecond resolution and firing early
	 * only costs a re-arm, firing late costs the caller. */
	ms = due > now ? (due - now + 999999u) / 1000000u : 0;
	uv_timer_start(&rt->deadline_timer, on_deadline, ms, 0);
}

/* ---- completion ---- */

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

static void deliver(faas_runtime *rt, faas_ctx *ctx)
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

	deliver(ctx->rt, ctx);
}

/* Callbacks never run inside the call that started the work (libuv's rule):
 * completions made on the caller's stack, or inside an executor's own
 * bookkeeping, wait for the next loop turn or the executor's clean point. */
static void deliver_later(faas_runtime *rt, faas_ctx *ctx)
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

static void complete_abandoned(faas_runtime *rt, faas_ctx *ctx, faas_status status,
			       bool was_running)
{
	char msg[128];

	atomic_store(&ctx->cancelled, true);
	if (status == FAAS_STATUS_TIMEOUT) {
		snprintf(msg, sizeof(msg), "Task timed out after %.2f seconds",
			 ctx->fn->timeout_ms / 1000.0);
		record_started(rt, ctx, status, FAAS__ERR_TIMEOUT, msg, false);
	} else {
		record_started(rt, ctx, status, FAAS__ERR_CANCELED,
			       "the runtime stopped before the call finished", false);
	}
	if (ctx->fn->lib && !was_running)
		atomic_fetch_sub(&ctx->fn->lib->running, 1); /* it never ran */
}

/* The executor contract's done: a submitted call ended. */
static void on_exec_done(faas_runtime *rt, faas_ctx *ctx, const faas__outcome *o)
{
	bool rearm = ctx->heap_index == 0;

	heap_remove(&rt->deadlines, ctx);
	if (o->type)
		record_started(rt, ctx, o->status, o->type, o->msg, false);
	else
		complete_finished(rt, ctx);
	deliver_later(rt, ctx);
	if (rearm && !rt->freeing)
		deadline_arm(rt);
}

/* Take a call back from whichever executor runs it (deadline or cancel). */
static bool executor_abandon(faas_ctx *ctx, bool *was_running)
{
	return faas__exec_of(ctx->fn->isolation)->abandon(ctx, was_running);
}

bool faas__invoke_on_loop(const faas_fn *fn)
{
	return (faas__exec_of(fn->isolation)->flags & FAAS__EXEC_ON_LOOP) != 0;
}

/* A call its executor could not take: undo start() and complete it unstarted. */
static void not_started(faas_runtime *rt, faas_ctx *ctx, faas_status status, const char *msg);

/* Throttled and rejected calls never start: an activation, no usage record. */
static void complete_unstarted(faas_runtime *rt, faas_ctx *ctx, faas_status status,
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
	deliver_later(rt, ctx);
}

static void on_deadline(uv_timer_t *t)
{
	faas_runtime *rt = t->data;
	uint64_t now = faas__now_ns();
	bool was_running;

	while (rt->deadlines.len > 0 && rt->deadlines.items[0]->deadline_ns <= now) {
		faas_ctx *ctx = rt->deadlines.items[0];
		uint64_t started = atomic_load(&ctx->started_ns);
		uint64_t timeout_ns = (uint64_t)ctx->fn->timeout_ms * 1000000u;

		heap_remove(&rt->deadlines, ctx);
		/* The deadline counts from the moment a worker took the call; one
		 * that waited in the queue gets its full time. */
		if (started == 0 || started + timeout_ns > now) {
			ctx->deadline_ns = (started == 0 ? now : started) + timeout_ns;
			if (heap_push(&rt->deadlines, ctx) == 0)
				continue;
		}
		if (executor_abandon(ctx, &was_running)) {
			complete_abandoned(rt, ctx, FAAS_STATUS_TIMEOUT, was_running);
			deliver(rt, ctx);
		}
		/* Otherwise the worker finished first; its completion is queued. */
	}
	deadline_arm(rt);
}

void faas__cancel_all(faas_runtime *rt)
{
	faas_ctx *ctx = rt->inflight;
	bool was_running;

	while (ctx) {
		faas_ctx *next = ctx->next;

		if (executor_abandon(ctx, &was_running)) {
			heap_remove(&rt->deadlines, ctx);
			complete_abandoned(rt, ctx, FAAS_STATUS_INTERNAL_ERROR, was_running);
			deliver_later(rt, ctx);
		}
		ctx = next;
	}
	if (!rt->freeing)
		deadline_arm(rt);
}

/* ---- admission ---- */

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
		complete_unstarted(rt, ctx, FAAS_STATUS_REJECTED, FAAS__ERR_DISABLED, msg);
		return false;
	}
	if (ctx->bytes_in > fn->payload_limit) {
		snprintf(msg, sizeof(msg),
			 "Request must be smaller than %zu bytes for the InvokeFunction operation",
			 fn->payload_limit + 1);
		complete_unstarted(rt, ctx, FAAS_STATUS_REJECTED, FAAS__ERR_PAYLOAD_SIZE, msg);
		return false;
	}
	if (fn->max_concurrency && fn->in_flight >= fn->max_concurrency) {
		snprintf(msg, sizeof(msg),
			 "Rate Exceeded. (ReservedFunctionConcurrentInvocationLimitExceeded: %u)",
			 fn->max_concurrency);
		complete_unstarted(rt, ctx, FAAS_STATUS_THROTTLED, FAAS__ERR_THROTTLED, msg);
		return false;
	}
	if (rt->n_inflight >= rt->opts.max_concurrency) {
		snprintf(msg, sizeof(msg),
			 "Rate Exceeded. (ConcurrentInvocationLimitExceeded: %u)",
			 rt->opts.max_concurrency);
		complete_unstarted(rt, ctx, FAAS_STATUS_THROTTLED, FAAS__ERR_THROTTLED, msg);
		return false;
	}
	if (rt->billing->admit) {
		rc = rt->billing->admit(rt->billing, fn->name, ctx->bytes_in);
		if (rc != 0) {
			bool budget = faas__billing_is_default(rt->billing);

			snprintf(msg, sizeof(msg), "%s: %s",
				 budget ? "the function's budget is spent" : "refused by the billing hook",
				 faas_strerror(rc));
			complete_unstarted(rt, ctx, FAAS_STATUS_REJECTED,
					   budget ? FAAS__ERR_BUDGET : FAAS__ERR_BILLING, msg);
			return false;
		}
	}
	return true;
}

static void not_started(faas_runtime *rt, faas_ctx *ctx, faas_status status, const char *msg)
{
	inflight_unlink(rt, ctx);
	if (ctx->fn->lib)
		atomic_fetch_sub(&ctx->fn->lib->running, 1);
	complete_unstarted(rt, ctx, status,
			   status == FAAS_STATUS_THROTTLED ? FAAS__ERR_THROTTLED : FAAS__ERR_INTERNAL, msg);
}

static void start(faas_runtime *rt, faas_ctx *ctx)
{
	faas_fn *fn = ctx->fn;
	const faas__exec_ops *exec = faas__exec_of(fn->isolation);
	char msg[FAAS__ERRMSG_SIZE];
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
	if (heap_push(&rt->deadlines, ctx) != 0) {
		/* Without a deadline slot the call cannot be guarded: fail it as
		 * libfaas's own error before it starts. */
		not_started(rt, ctx, FAAS_STATUS_INTERNAL_ERROR, "out of memory arming the deadline");
		return;
	}
	rc = exec->submit(ctx);
	if (rc != 0) {
		heap_remove(&rt->deadlines, ctx);
		snprintf(msg, sizeof(msg), "%s", faas_runtime_last_error(rt));
		not_started(rt, ctx, rc == FAAS_EBUSY ? FAAS_STATUS_THROTTLED : FAAS_STATUS_INTERNAL_ERROR,
			    msg);
		deadline_arm(rt);
		return;
	}
	if (ctx->heap_index == 0)
		deadline_arm(rt);
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

/* ---- drain ---- */

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

/* ---- the layer's handles ---- */

int faas__invoke_init(faas_runtime *rt)
{
	uv_timer_init(rt->loop, &rt->deadline_timer);
	uv_timer_init(rt->loop, &rt->drain_timer);
	rt->deadline_timer.data = rt;
	rt->drain_timer.data = rt;
	faas__handles_add(rt, 2);
	return faas__exec_start(rt, on_exec_done);
}

void faas__invoke_close(faas_runtime *rt)
{
	faas__handle_close((uv_handle_t *)&rt->deadline_timer);
	faas__handle_close((uv_handle_t *)&rt->drain_timer);
}

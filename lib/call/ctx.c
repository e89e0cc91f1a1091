/* The call context: what a handler sees (getters, logs, errors, memory) and
 * the code that runs a handler under accounting, shared by every executor. */
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "format.h"
#include "call.h"

/* A log line is formatted on the stack when it fits, which is nearly always. */
#define FAAS__LOG_LINE_STACK 512

/* The ctx whose handler runs on this thread, so that cJSON's allocation hooks
 * know whom to charge. NULL outside handlers: nothing is charged then. */
static _Thread_local faas_ctx *current_ctx;

/* ---- memory accounting ---- */

static void *charge_alloc(faas_ctx *ctx, size_t size)
{
	uint64_t used = atomic_load_explicit(&ctx->mem_used, memory_order_relaxed);
	void *p;
	uint64_t got;

	if (size > ctx->mem_limit || used + size > ctx->mem_limit) {
		atomic_store(&ctx->oom, true);
		return NULL;
	}
	p = malloc(size);
	if (!p)
		return NULL;
	/* Charge what malloc really handed out, so that freeing uncharges the
	 * same amount without a header in front of every block. */
	got = malloc_usable_size(p);
	used = atomic_fetch_add_explicit(&ctx->mem_used, got, memory_order_relaxed) + got;
	if (used > atomic_load_explicit(&ctx->mem_peak, memory_order_relaxed))
		atomic_store_explicit(&ctx->mem_peak, used, memory_order_relaxed);
	return p;
}

static void uncharge_free(faas_ctx *ctx, void *p)
{
	uint64_t size = malloc_usable_size(p);
	uint64_t used = atomic_load_explicit(&ctx->mem_used, memory_order_relaxed);

	/* A handler may free a block it did not allocate under accounting (for
	 * example one detached from the event); never let the count wrap. */
	atomic_store_explicit(&ctx->mem_used, used > size ? used - size : 0,
			      memory_order_relaxed);
	free(p);
}

static void *hook_malloc(size_t size)
{
	faas_ctx *ctx = current_ctx;

	return ctx ? charge_alloc(ctx, size) : malloc(size);
}

static void hook_free(void *p)
{
	faas_ctx *ctx = current_ctx;

	if (ctx && p)
		uncharge_free(ctx, p);
	else
		free(p);
}

static pthread_once_t hooks_once = PTHREAD_ONCE_INIT;

static void install_hooks(void)
{
	cJSON_Hooks hooks = {hook_malloc, hook_free};

	cJSON_InitHooks(&hooks);
}

void faas__alloc_hooks_install(void)
{
	pthread_once(&hooks_once, install_hooks);
}

void *faas_ctx_alloc(faas_ctx *ctx, size_t size)
{
	if (!ctx || size == 0)
		return NULL;
	return charge_alloc(ctx, size);
}

void faas_ctx_free(faas_ctx *ctx, void *ptr)
{
	if (!ptr)
		return;
	if (ctx)
		uncharge_free(ctx, ptr);
	else
		free(ptr);
}

uint64_t faas_ctx_memory_used(const faas_ctx *ctx)
{
	return ctx ? atomic_load_explicit(&((faas_ctx *)ctx)->mem_used, memory_order_relaxed) : 0;
}

/* ---- lifetime ---- */

int faas__ctx_new(faas_ctx **out, faas_runtime *rt, faas_fn *fn)
{
	faas_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return FAAS_ENOMEM;
	atomic_init(&ctx->refs, 1);
	atomic_init(&ctx->state, FAAS__QUEUED);
	pthread_mutex_init(&ctx->log_mu, NULL);
	ctx->rt = rt;
	ctx->fn = fn;
	atomic_fetch_add_explicit(&fn->refs, 1, memory_order_relaxed);
	ctx->state_backend = rt->state;
	faas__idgen_next(&rt->ids, ctx->id);
	ctx->act = faas__activation_new(ctx->id, fn->name);
	if (!ctx->act) {
		faas__ctx_release(ctx);
		return FAAS_ENOMEM;
	}
	ctx->admitted_wall_us = faas__wall_us();
	ctx->admitted_ns = faas__now_ns();
	ctx->mem_limit = (uint64_t)fn->memory_mb << 20;
	ctx->log_limit = rt->opts.log_limit_bytes;
	faas__heap_node_init(&ctx->deadline_node);
	*out = ctx;
	return 0;
}

void faas__ctx_release(faas_ctx *ctx)
{
	if (!ctx || atomic_fetch_sub_explicit(&ctx->refs, 1, memory_order_acq_rel) != 1)
		return;
	cJSON_Delete(ctx->event_owned);
	cJSON_Delete(ctx->result);
	free(ctx->payload);
	free(ctx->err_type);
	free(ctx->err_msg);
	free(ctx->log);
	faas_activation_free(ctx->act);
	pthread_mutex_destroy(&ctx->log_mu);
	faas__fn_release(ctx->fn);
	free(ctx);
}

/* ---- getters ---- */

const char *faas_ctx_request_id(const faas_ctx *ctx)
{
	return ctx ? ctx->id : NULL;
}

const char *faas_ctx_function_name(const faas_ctx *ctx)
{
	return ctx ? ctx->fn->name : NULL;
}

const char *faas_ctx_function_version(const faas_ctx *ctx)
{
	return ctx ? ctx->fn->fn_version : NULL;
}

uint32_t faas_ctx_memory_limit_mb(const faas_ctx *ctx)
{
	return ctx ? ctx->fn->memory_mb : 0;
}

uint64_t faas_ctx_remaining_ms(const faas_ctx *ctx)
{
	uint64_t deadline, now;

	if (!ctx)
		return 0;
	/* The deadline runs from admission (invoke/deadline.c): time the call
	 * waited for a thread is already spent. */
	deadline = ctx->admitted_ns + (uint64_t)ctx->fn->timeout_ms * 1000000u;
	now = faas__now_ns();
	return now >= deadline ? 0 : (deadline - now) / 1000000u;
}

bool faas_ctx_cancelled(const faas_ctx *ctx)
{
	return ctx ? atomic_load(&((faas_ctx *)ctx)->cancelled) : false;
}

/* ---- logs and errors ---- */

static void log_append(faas_ctx *ctx, const char *line, size_t len)
{
	pthread_mutex_lock(&ctx->log_mu);
	if (ctx->log_len + len + 1 > ctx->log_limit) {
		/* Whole lines or nothing: a cut line would read as a different one. */
		ctx->log_dropped += len + 1;
	} else {
		if (ctx->log_len + len + 2 > ctx->log_cap) {
			size_t cap = ctx->log_cap ? ctx->log_cap : 256;
			char *grown;

			while (cap < ctx->log_len + len + 2)
				cap *= 2;
			if (cap > ctx->log_limit + 1)
				cap = ctx->log_limit + 1;
			grown = realloc(ctx->log, cap);
			if (!grown) {
				ctx->log_dropped += len + 1;
				pthread_mutex_unlock(&ctx->log_mu);
				return;
			}
			ctx->log = grown;
			ctx->log_cap = cap;
		}
		memcpy(ctx->log + ctx->log_len, line, len);
		ctx->log_len += len;
		ctx->log[ctx->log_len++] = '\n';
		ctx->log[ctx->log_len] = '\0';
	}
	pthread_mutex_unlock(&ctx->log_mu);
}

void faas__ctx_log_line(faas_ctx *ctx, const char *line, size_t len)
{
	log_append(ctx, line, len);
}

void faas_log(faas_ctx *ctx, const char *fmt, ...)
{
	char stack[FAAS__LOG_LINE_STACK];
	char *line;
	va_list ap;
	size_t n;

	if (!ctx || !fmt)
		return;
	va_start(ap, fmt);
	line = faas__vformat_line(stack, sizeof(stack), &n, fmt, ap);
	va_end(ap);
	if (!line) {
		log_append(ctx, "", 0);
		return;
	}
	log_append(ctx, line, n);
	if (line != stack)
		free(line);
}

static void set_error_v(faas_ctx *ctx, const char *type, const char *fmt, va_list ap)
{
	free(ctx->err_type);
	free(ctx->err_msg);
	ctx->err_type = faas__strdup(type ? type : FAAS__ERR_DEFAULT);
	ctx->err_msg = fmt ? faas__vformat(fmt, ap) : faas__strdup("");
}

void faas__ctx_set_error(faas_ctx *ctx, const char *type, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_error_v(ctx, type, fmt, ap);
	va_end(ap);
}

int faas_ctx_error(faas_ctx *ctx, const char *type, const char *fmt, ...)
{
	va_list ap;

	if (!ctx)
		return -1;
	va_start(ap, fmt);
	set_error_v(ctx, type, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- running a handler ---- */

/* The worker's CPU clock as last read, at the end of its previous call. */
static _Thread_local uint64_t worker_cpu_ns;

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Results are usually small: size them in a stack buffer, and pay for an
 * allocation only when they are not. */
#define FAAS__RESULT_SIZING_STACK 1024

static void measure_result(faas_ctx *ctx)
{
	char stack[FAAS__RESULT_SIZING_STACK];
	char *text;

	if (!ctx->result) {
		ctx->bytes_out = 4; /* "null" */
		return;
	}
	if (cJSON_PrintPreallocated(ctx->result, stack, (int)sizeof(stack), 0)) {
		ctx->bytes_out = strlen(stack);
	} else {
		text = cJSON_PrintUnformatted(ctx->result);
		if (!text) {
			ctx->internal_failure = true;
			return;
		}
		ctx->bytes_out = strlen(text);
		cJSON_free(text);
	}
	if (ctx->bytes_out > ctx->fn->result_limit)
		ctx->result_too_big = true;
}

/* Where the call ended before its handler ran (init failed, no memory). */
static void end_early(faas_ctx *ctx)
{
	ctx->finished_ns = faas__now_ns();
	atomic_store(&ctx->handler_start_ns, ctx->finished_ns);
}

void faas__ctx_execute(faas_ctx *ctx, uint64_t now_ns, bool on_loop)
{
	faas_fn *fn = ctx->fn;
	bool inline_call = on_loop;
	cJSON *result = NULL;
	uint64_t t0 = now_ns, cpu0 = 0;
	int rc;

	atomic_store(&ctx->started_ns, now_ns);
	if (fn->lib) {
		if (faas__lib_warm_up(fn->lib, &ctx->init_us, &ctx->cold) != 0) {
			ctx->init_failed = true;
			end_early(ctx);
			return;
		}
		if (ctx->cold)
			t0 = faas__now_ns();
	} else {
		ctx->cold = !atomic_exchange(&fn->static_warm, true);
	}
	if (ctx->payload) {
		ctx->event_owned = cJSON_ParseWithLength(ctx->payload, ctx->payload_len);
		ctx->event = ctx->event_owned;
		if (!ctx->event_owned) {
			ctx->internal_failure = true;
			end_early(ctx);
			return;
		}
		t0 = faas__now_ns();
	}

	/* Inline calls own the loop thread for their whole duration, so their CPU
	 * time is their duration; reading the thread CPU clock is a system call,
	 * more than an inline hello costs. A worker reads it once per call: a
	 * sleeping worker accrues no CPU time, so the reading taken when its last
	 * call ended stands for this call's start, give or take the executor's
	 * own bookkeeping between the two (a few microseconds). */
	if (!inline_call) {
		if (worker_cpu_ns == 0)
			worker_cpu_ns = thread_cpu_ns();
		cpu0 = worker_cpu_ns;
		atomic_store(&ctx->cpu_start_ns, cpu0);
	}
	atomic_store_explicit(&ctx->handler_start_ns, t0, memory_order_release);
	current_ctx = ctx;
	rc = fn->handler(ctx, ctx->event, &result);
	current_ctx = NULL;
	ctx->finished_ns = faas__now_ns();
	if (inline_call) {
		ctx->cpu_ns = ctx->finished_ns - t0;
	} else {
		worker_cpu_ns = thread_cpu_ns();
		ctx->cpu_ns = worker_cpu_ns - cpu0;
	}
	ctx->handler_rc = rc;
	ctx->result = result;
	if (rc == 0 && !atomic_load(&ctx->oom))
		measure_result(ctx);
}

void faas__ctx_cancel(faas_ctx *ctx)
{
	atomic_store(&ctx->cancelled, true);
}

void faas__ctx_cancel_cb(void *ctx)
{
	faas__ctx_cancel(ctx);
}

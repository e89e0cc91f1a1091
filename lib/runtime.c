/* The runtime: options, creation, the loop handles, stop/drain and free. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* Bounds on runtime options that have no natural limit, so a typo cannot ask
 * for a billion threads or a terabyte of logs. */
#define FAAS__MAX_STUCK_THREADS_LIMIT 4096u
#define FAAS__MAX_ACTIVATION_CAPACITY 10000000u
#define FAAS__MIN_LOG_LIMIT 256u
#define FAAS__MAX_LOG_LIMIT (64u * 1024u * 1024u)
#define FAAS__MAX_GRANULARITY_MS 60000u
#define FAAS__MIN_DEFAULT_THREADS 4u

int faas_runtime_options_init(faas_runtime_options *opts, unsigned int version)
{
	/* Static, so its padding is zero and the bytes match the macro's. */
	static const faas_runtime_options tmpl = FAAS_RUNTIME_OPTIONS_INIT;

	if (!opts || version != FAAS_RUNTIME_OPTIONS_VERSION)
		return FAAS_EINVAL;
	memcpy(opts, &tmpl, sizeof(tmpl));
	return 0;
}

static int check_options(const faas_runtime_options *o)
{
	const faas_pricing *p = &o->pricing;

	if (o->version != FAAS_RUNTIME_OPTIONS_VERSION)
		return faas__fail(NULL, FAAS_EINVAL, "runtime options version %u, expected %u",
				  o->version, FAAS_RUNTIME_OPTIONS_VERSION);
	if (o->threads > FAAS_MAX_THREADS)
		return faas__fail(NULL, FAAS_EINVAL, "threads: expected 0..%u, got %u",
				  FAAS_MAX_THREADS, o->threads);
	if (o->max_concurrency < 1)
		return faas__fail(NULL, FAAS_EINVAL, "max_concurrency: expected >= 1, got 0");
	if (o->max_stuck_threads > FAAS__MAX_STUCK_THREADS_LIMIT)
		return faas__fail(NULL, FAAS_EINVAL, "max_stuck_threads: expected 0..%u, got %u",
				  FAAS__MAX_STUCK_THREADS_LIMIT, o->max_stuck_threads);
	if (o->default_timeout_ms < FAAS_MIN_TIMEOUT_MS || o->default_timeout_ms > FAAS_MAX_TIMEOUT_MS)
		return faas__fail(NULL, FAAS_EINVAL, "default_timeout_ms: expected %u..%u, got %u",
				  FAAS_MIN_TIMEOUT_MS, FAAS_MAX_TIMEOUT_MS, o->default_timeout_ms);
	if (o->default_memory_mb < FAAS_MIN_MEMORY_MB || o->default_memory_mb > FAAS_MAX_MEMORY_MB)
		return faas__fail(NULL, FAAS_EINVAL, "default_memory_mb: expected %u..%u, got %u",
				  FAAS_MIN_MEMORY_MB, FAAS_MAX_MEMORY_MB, o->default_memory_mb);
	if (o->activation_capacity < 1 || o->activation_capacity > FAAS__MAX_ACTIVATION_CAPACITY)
		return faas__fail(NULL, FAAS_EINVAL, "activation_capacity: expected 1..%u, got %u",
				  FAAS__MAX_ACTIVATION_CAPACITY, o->activation_capacity);
	if (o->log_limit_bytes < FAAS__MIN_LOG_LIMIT || o->log_limit_bytes > FAAS__MAX_LOG_LIMIT)
		return faas__fail(NULL, FAAS_EINVAL, "log_limit_bytes: expected %u..%u, got %zu",
				  FAAS__MIN_LOG_LIMIT, FAAS__MAX_LOG_LIMIT, o->log_limit_bytes);
	if (o->drain_timeout_ms > FAAS_MAX_TIMEOUT_MS)
		return faas__fail(NULL, FAAS_EINVAL, "drain_timeout_ms: expected 0..%u, got %u",
				  FAAS_MAX_TIMEOUT_MS, o->drain_timeout_ms);
	if (!isfinite(p->gb_second_usd) || p->gb_second_usd < 0 || !isfinite(p->request_usd) ||
	    p->request_usd < 0)
		return faas__fail(NULL, FAAS_EINVAL,
				  "pricing: prices must be finite and >= 0");
	if (p->granularity_ms < 1 || p->granularity_ms > FAAS__MAX_GRANULARITY_MS)
		return faas__fail(NULL, FAAS_EINVAL,
				  "pricing.granularity_ms: expected 1..%u, got %u",
				  FAAS__MAX_GRANULARITY_MS, p->granularity_ms);
	if (o->log_sink && (o->log_sink->version != FAAS_LOG_SINK_VERSION || !o->log_sink->write))
		return faas__fail(NULL, FAAS_EINVAL, "log_sink: version %u or write missing",
				  o->log_sink->version);
	if (o->state && (o->state->version != FAAS_STATE_BACKEND_VERSION || !o->state->get ||
			 !o->state->put || !o->state->del || !o->state->incr))
		return faas__fail(NULL, FAAS_EINVAL,
				  "state: backend version %u (expected %u) or a function missing",
				  o->state->version, FAAS_STATE_BACKEND_VERSION);
	if (o->billing && o->billing->version != FAAS_BILLING_HOOK_VERSION)
		return faas__fail(NULL, FAAS_EINVAL, "billing: hook version %u, expected %u",
				  o->billing->version, FAAS_BILLING_HOOK_VERSION);
	return 0;
}

static unsigned int default_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int n = cpus > 0 ? (unsigned int)cpus * 2 : FAAS__MIN_DEFAULT_THREADS;

	return n < FAAS__MIN_DEFAULT_THREADS ? FAAS__MIN_DEFAULT_THREADS : n;
}

static void notify_loop(void *arg)
{
	uv_async_send(arg);
}

static void release_memory(faas_runtime *rt)
{
	faas__store_free(&rt->store);
	free(rt->deadlines.items);
	free(rt->print_buf);
	if (rt->owns_billing && rt->billing && rt->billing->free)
		rt->billing->free(rt->billing);
	if (rt->owns_state && rt->state && rt->state->free)
		rt->state->free(rt->state);
}

void faas__runtime_handle_closed(faas_runtime *rt)
{
	/* With a host loop the runtime's memory can only go once libuv is done
	 * with every handle embedded in it, or in its triggers. */
	if (--rt->open_handles == 0 && !rt->owns_loop && rt->freeing)
		free(rt);
}

static void on_handle_closed(uv_handle_t *h)
{
	faas__runtime_handle_closed(h->data);
}

static int init_handles(faas_runtime *rt)
{
	uv_handle_t *handles[5];

	if (uv_async_init(rt->loop, &rt->async, faas__on_pool_notify) != 0)
		return FAAS_ESYSTEM;
	uv_idle_init(rt->loop, &rt->idle);
	uv_timer_init(rt->loop, &rt->deadline_timer);
	uv_timer_init(rt->loop, &rt->drain_timer);
	uv_timer_init(rt->loop, &rt->reaper);
	handles[0] = (uv_handle_t *)&rt->async;
	handles[1] = (uv_handle_t *)&rt->idle;
	handles[2] = (uv_handle_t *)&rt->deadline_timer;
	handles[3] = (uv_handle_t *)&rt->drain_timer;
	handles[4] = (uv_handle_t *)&rt->reaper;
	for (size_t i = 0; i < 5; i++)
		handles[i]->data = rt;
	rt->open_handles = 5;
	/* An idle runtime must not keep the host's loop alive: a call in flight
	 * holds it through its deadline timer, and nothing else needs to. */
	uv_unref(handles[0]);
	uv_unref(handles[4]);
	return 0;
}

static void close_handles(faas_runtime *rt)
{
	uv_close((uv_handle_t *)&rt->async, on_handle_closed);
	uv_close((uv_handle_t *)&rt->idle, on_handle_closed);
	uv_close((uv_handle_t *)&rt->deadline_timer, on_handle_closed);
	uv_close((uv_handle_t *)&rt->drain_timer, on_handle_closed);
	uv_close((uv_handle_t *)&rt->reaper, on_handle_closed);
}

int faas_runtime_new(faas_runtime **out, const faas_runtime_options *opts)
{
	faas_runtime_options defaults = FAAS_RUNTIME_OPTIONS_INIT;
	faas_runtime *rt;
	int rc;

	if (!out)
		return faas__fail(NULL, FAAS_EINVAL, "out is NULL");
	*out = NULL;
	if (!opts)
		opts = &defaults;
	rc = check_options(opts);
	if (rc != 0)
		return rc;
	rt = calloc(1, sizeof(*rt));
	if (!rt)
		return faas__fail(NULL, FAAS_ENOMEM, "out of memory");
	rt->opts = *opts;
	if (rt->opts.threads == 0)
		rt->opts.threads = default_threads();
	faas__alloc_hooks_install();
	faas__idgen_init(&rt->ids);

	if (opts->loop) {
		rt->loop = opts->loop;
	} else {
		if (uv_loop_init(&rt->own_loop) != 0) {
			free(rt);
			return faas__fail(NULL, FAAS_ESYSTEM, "uv_loop_init failed");
		}
		rt->loop = &rt->own_loop;
		rt->owns_loop = true;
	}
	rc = faas__store_init(&rt->store, rt->opts.activation_capacity);
	if (rc == 0 && !opts->billing) {
		rc = faas__billing_default_new(&rt->billing, &rt->opts.pricing);
		rt->owns_billing = rc == 0;
	} else {
		rt->billing = opts->billing;
	}
	if (rc == 0 && !opts->state) {
		rc = faas_state_memory_new(&rt->state);
		rt->owns_state = rc == 0;
	} else if (rc == 0) {
		rt->state = opts->state;
	}
	if (rc != 0) {
		release_memory(rt);
		if (rt->owns_loop)
			uv_loop_close(&rt->own_loop);
		free(rt);
		return faas__fail(NULL, rc, "out of memory");
	}
	rc = init_handles(rt);
	if (rc == 0)
		rc = faas__pool_new(&rt->pool, rt->opts.threads, rt->opts.max_stuck_threads,
				    notify_loop, &rt->async);
	if (rc != 0) {
		/* Handles were initialised: tear down the way free does. */
		rt->freeing = true;
		faas_runtime_free(rt);
		return faas__fail(NULL, rc, "cannot start executor threads");
	}
	*out = rt;
	return 0;
}

uv_loop_t *faas_runtime_loop(faas_runtime *rt)
{
	return rt ? rt->loop : NULL;
}

int faas_runtime_run(faas_runtime *rt)
{
	if (!rt)
		return FAAS_EINVAL;
	if (rt->stopped)
		return faas__fail(rt, FAAS_ESTOPPED, "the runtime is stopped");
	/* Keep the loop alive while idle: a server waits for its stop. */
	uv_ref((uv_handle_t *)&rt->async);
	rt->running = true;
	while (!rt->stopped)
		uv_run(rt->loop, UV_RUN_ONCE);
	rt->running = false;
	uv_unref((uv_handle_t *)&rt->async);
	return 0;
}

static void on_drain_timeout(uv_timer_t *t)
{
	faas_runtime *rt = t->data;

	faas__cancel_all(rt);
}

void faas__runtime_maybe_stopped(faas_runtime *rt)
{
	if (!rt->stopping || rt->stopped || rt->n_inflight > 0 || rt->deliver_head)
		return;
	rt->stopped = true;
	uv_timer_stop(&rt->drain_timer);
}

int faas_runtime_stop(faas_runtime *rt)
{
	if (!rt)
		return FAAS_EINVAL;
	if (rt->stopping) {
		/* A second stop while draining: do not wait any longer. */
		if (!rt->stopped)
			faas__cancel_all(rt);
		return 0;
	}
	rt->stopping = true;
	faas__triggers_stop(rt);
	if (rt->n_inflight > 0)
		uv_timer_start(&rt->drain_timer, on_drain_timeout, rt->opts.drain_timeout_ms, 0);
	faas__runtime_maybe_stopped(rt);
	return 0;
}

bool faas_runtime_stopped(const faas_runtime *rt)
{
	return rt ? rt->stopped : false;
}

int faas_runtime_stats_get(faas_runtime_stats *out, faas_runtime *rt)
{
	if (!out || !rt)
		return FAAS_EINVAL;
	*out = rt->stats;
	out->in_flight = rt->n_inflight;
	faas__pool_counts(rt->pool, &out->threads, &out->stuck_threads);
	return 0;
}

void faas_runtime_free(faas_runtime *rt)
{
	if (!rt)
		return;
	if (!rt->stopping) {
		rt->stopping = true;
		faas__triggers_stop(rt);
	}
	if (rt->pool) {
		/* Cancel what is running (callbacks run now, status internal_error),
		 * then let the threads that are not stuck finish and exit: what they
		 * completed meanwhile is delivered normally. */
		faas__cancel_all(rt);
		faas__deliver_pending(rt);
		rt->freeing = true;
		faas__finish_list(rt, faas__pool_shutdown(rt->pool));
		faas__deliver_pending(rt);
		rt->pool = NULL;
	}
	rt->freeing = true;
	rt->stopped = true;
	faas__triggers_close(rt);
	faas__fn_unregister_all(rt);
	release_memory(rt);
	if (rt->open_handles == 0) {
		/* Creation failed before any handle existed. */
		if (rt->owns_loop)
			uv_loop_close(&rt->own_loop);
		free(rt);
		return;
	}
	close_handles(rt);
	if (rt->owns_loop) {
		/* Runs every close callback, the triggers' included. */
		uv_run(&rt->own_loop, UV_RUN_DEFAULT);
		uv_loop_close(&rt->own_loop);
		free(rt);
	}
}

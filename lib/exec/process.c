/* The process executor: a pool of faas-worker processes per function
 * (`process` isolation). Everything here runs on the loop thread; the host
 * never blocks on a worker: it writes frames with uv_write and reads the
 * channel, stdout and stderr with uv_read_start.
 *
 * A worker is LOADING (spawned, LOAD sent, READY not yet back), IDLE, BUSY
 * (one call), or DEAD (killed or exited; its handles are closing). A call goes
 * to an idle worker, else to a loading one nobody waits for, else to a new
 * worker (a cold start) while the pool is below its maximum; otherwise it
 * waits in the function's FIFO (process_queue), and only a call that finds
 * that full is throttled. Frames to a loading worker queue in the pipe behind
 * LOAD, so a call never waits on the loop.
 *
 * The queue. A waiting call is handed to the first worker that becomes idle,
 * or to a new worker once one has exited and the pool is below its maximum,
 * in admission order. Its deadline runs from admission: one that passes while
 * it waits is taken back by faas__proc_abandon and ends `timeout`, unstarted
 * (no usage record); a waiting call already past its deadline is never handed
 * to a worker, the deadline timer takes it. When the function is
 * unregistered, waiting calls still run: busy workers take them before they
 * stop, and a worker that dies is replaced while calls wait. A waiting call
 * ends `internal_error` only if no worker can be started for it and none is
 * left to free up (the reason is the spawn's error).
 *
 * Completion. A RESULT fills the ctx the way faas__ctx_execute does in a
 * thread and reports it through the executor contract (rt->exec_done), so usage,
 * billing, activations and stats are the thread mode's. A worker that exits
 * or is killed by a signal during a call completes it `developer_error`
 * (Runtime.ExitError) with the exit status or signal. At a deadline invoke/
 * calls faas__proc_abandon: the worker's process group is SIGKILLed (so what
 * the handler forked or exec'd dies with it) and the call completes
 * `timeout` on the usual abandoned path. In every case the ctx is detached
 * from its worker before completion, so a worker never completes twice.
 *
 * A failed init. The module's init runs before READY, for a cold worker too.
 * A worker whose load or init fails (READY not ok, or it dies before READY)
 * makes the function unhealthy: its calls fail fast, developer_error
 * (Runtime.InitError) with that failure's text, and no worker is spawned
 * until a backoff timer (FAAS__PROC_BACKOFF_MIN_MS doubling to _MAX_MS) runs
 * out; a worker that loads fine resets the delay. Registration with prewarm
 * waits for READY and returns FAAS_EINIT instead.
 *
 * Handles. Each worker has four (the process and three pipes), counted in the
 * runtime's open handles; its memory goes in the last close callback. The
 * process handle is closed only after its exit callback, so no zombie is left.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "process_internal.h"
#include "sig.h"

#ifndef FAAS__WORKER_BUILD_PATH
#define FAAS__WORKER_BUILD_PATH ""
#endif
#ifndef FAAS__WORKER_INSTALL_PATH
#define FAAS__WORKER_INSTALL_PATH "/usr/local/libexec/faas-worker"
#endif

static void pool_maybe_free(faas__proc_pool *pool)
{
	if (!pool->closing || pool->workers || pool->timer_open || pool->backoff_open ||
	    pool->wait_head || pool->fail_queued)
		return;
	if (pool->holds_fn)
		faas__fn_release(pool->fn);
	free(pool->library);
	free(pool->symbol);
	free(pool->worker_path);
	free(pool);
}

/* ---- the idle reaper ---- */

static void arm_idle_timer(faas__proc_pool *pool);

static void on_idle_timer(uv_timer_t *t)
{
	faas__proc_pool *pool = t->data;
	uint64_t now = faas__now_ns(), ttl = (uint64_t)pool->idle_ms * 1000000u;

	for (faas__proc_worker *w = pool->workers; w && pool->live > pool->min; w = w->next)
		if (w->st == FAAS__W_IDLE && w->idle_since_ns + ttl <= now)
			faas__proc_worker_kill(w, "idle");
	arm_idle_timer(pool);
}

static void arm_idle_timer(faas__proc_pool *pool)
{
	uint64_t first = 0, now = faas__now_ns(), due;

	if (pool->closing || pool->live <= pool->min)
		return;
	for (faas__proc_worker *w = pool->workers; w; w = w->next)
		if (w->st == FAAS__W_IDLE && (first == 0 || w->idle_since_ns < first))
			first = w->idle_since_ns;
	if (first == 0)
		return;
	due = first + (uint64_t)pool->idle_ms * 1000000u;
	uv_timer_start(&pool->idle_timer, on_idle_timer,
	               due > now ? (due - now + 999999u) / 1000000u : 0, 0);
}

static void pool_pump(faas__proc_pool *pool);

static void become_idle(faas__proc_worker *w)
{
	faas__proc_pool *pool = w->pool;

	/* A closing pool keeps its workers while calls wait for them. */
	if (w->load_failed || (pool->closing && !pool->wait_head)) {
		faas__proc_worker_kill(w, NULL);
		return;
	}
	w->st = FAAS__W_IDLE;
	w->idle_since_ns = faas__now_ns();
	pool_pump(pool);
	if (pool->closing && w->st == FAAS__W_IDLE)
		faas__proc_worker_kill(w, NULL); /* what waited is past its deadline */
	else
		arm_idle_timer(pool);
}

/* ---- the pool ---- */

static const char *worker_program(faas_runtime *rt)
{
	const char *env = getenv("FAAS_WORKER_PATH");

	if (rt->opts.worker_path)
		return rt->opts.worker_path;
	if (env && env[0])
		return env;
	if (FAAS__WORKER_BUILD_PATH[0] && access(FAAS__WORKER_BUILD_PATH, X_OK) == 0)
		return FAAS__WORKER_BUILD_PATH;
	return FAAS__WORKER_INSTALL_PATH;
}

/* Keep the minimum alive: after a worker died, at registration, and when a
 * backoff ends. Never while unhealthy, so a broken init cannot spin. */
static void pool_spawn_to_min(faas__proc_pool *pool)
{
	faas__proc_worker *w;

	if (pool->closing || pool->rt->freeing || pool->unhealthy)
		return;
	while (pool->live < pool->min)
		if (faas__proc_worker_spawn(&w, pool, true) != 0)
			return;
}

static void pool_exited(faas__proc_pool *pool)
{
	pool_spawn_to_min(pool);
	pool_pump(pool);
}

/* ---- crash-looping init: backoff ---- */

/* The pool's state, told to its function (if still its function's pool)
 * for the stats, the health route and the metrics. */
static void set_unhealthy(faas__proc_pool *pool, bool unhealthy)
{
	pool->unhealthy = unhealthy;
	if (pool->fn->proc == pool)
		pool->fn->unhealthy = unhealthy ? pool->init_error : NULL;
}

static void on_backoff(uv_timer_t *t)
{
	faas__proc_pool *pool = t->data;

	if (pool->registering) {
		pool->wait_over = true; /* the prewarm wait's bound */
		return;
	}
	/* Over: the next spawn (the minimum's, or a call's) tries again. */
	set_unhealthy(pool, false);
	pool_spawn_to_min(pool);
}

static void worker_init(faas__proc_worker *w, const char *error)
{
	faas__proc_pool *pool = w->pool;

	if (!error) {
		pool->backoff_ms = 0;
		return;
	}
	snprintf(pool->init_error, sizeof(pool->init_error), "%s", error);
	set_unhealthy(pool, true);
	if (pool->registering || pool->closing)
		return;
	pool->backoff_ms = pool->backoff_ms == 0 ? FAAS__PROC_BACKOFF_MIN_MS
	                   : pool->backoff_ms >= FAAS__PROC_BACKOFF_MAX_MS / 2
	                       ? FAAS__PROC_BACKOFF_MAX_MS
	                       : pool->backoff_ms * 2;
	uv_timer_start(&pool->backoff_timer, on_backoff, pool->backoff_ms, 0);
}

static const faas__proc_pool_ops pool_ops = {
	.worker_idle = become_idle,
	.worker_init = worker_init,
	.worker_exited = pool_exited,
	.worker_freed = pool_maybe_free,
};

static bool any_loading(const faas__proc_pool *pool)
{
	for (const faas__proc_worker *w = pool->workers; w; w = w->next)
		if (w->st == FAAS__W_LOADING)
			return true;
	return false;
}

/* Registration with prewarm: run the loop until the prewarmed workers are
 * READY, as faas_invoke_sync does (so, like it, not from inside a callback
 * of a host loop), bounded by the function's timeout (a slower init goes on
 * after registration). Not inside faas_runtime_run: there a failure shows
 * later, as the backoff. Returns FAAS_EINIT if an init failed, the reason in
 * pool->init_error. */
static int prewarm_wait(faas__proc_pool *pool)
{
	faas_runtime *rt = pool->rt;

	if (rt->running)
		return 0;
	pool->registering = true;
	pool->wait_over = false;
	uv_ref((uv_handle_t *)&pool->backoff_timer);
	uv_timer_start(&pool->backoff_timer, on_backoff, pool->fn->timeout_ms, 0);
	while (!pool->unhealthy && !pool->wait_over && any_loading(pool))
		uv_run(rt->loop, UV_RUN_ONCE);
	uv_timer_stop(&pool->backoff_timer);
	uv_unref((uv_handle_t *)&pool->backoff_timer);
	pool->registering = false;
	return pool->unhealthy ? FAAS_EINIT : 0;
}

int faas__proc_pool_new(faas__proc_pool **out, faas_runtime *rt, faas_fn *fn,
                        const faas_fn_options *o)
{
	faas__proc_pool *pool = calloc(1, sizeof(*pool));
	unsigned int prewarm;
	faas__proc_worker *w;
	size_t big;

	if (!pool)
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", fn->name);
	faas__ignore_sigpipe(); /* a peer gone must not kill the host */
	pool->ops = &pool_ops;
	pool->rt = rt;
	pool->fn = fn;
	pool->library = faas__strdup(o->library);
	pool->symbol = faas__strdup(o->symbol ? o->symbol : fn->name);
	pool->worker_path = faas__strdup(worker_program(rt));
	pool->min = o->process_min_workers;
	pool->max = o->process_max_workers ? o->process_max_workers
	            : fn->max_concurrency  ? fn->max_concurrency
	                                   : FAAS_DEFAULT_PROCESS_MAX_WORKERS;
	if (pool->max > FAAS_MAX_PROCESS_WORKERS)
		pool->max = FAAS_MAX_PROCESS_WORKERS;
	pool->seccomp = o->process_seccomp;
	pool->max_processes = o->process_max_processes ? o->process_max_processes
	                                               : FAAS_DEFAULT_PROCESS_MAX_PROCESSES;
	pool->idle_ms = o->process_idle_ms ? o->process_idle_ms : FAAS_DEFAULT_PROCESS_IDLE_MS;
	pool->queue_max =
	    o->process_queue ? o->process_queue : FAAS_DEFAULT_PROCESS_QUEUE_PER_WORKER * pool->max;
	if (pool->queue_max > FAAS_MAX_PROCESS_QUEUE)
		pool->queue_max = FAAS_MAX_PROCESS_QUEUE;
	big = fn->result_limit > FAAS__WP_STATE_VALUE_MAX ? fn->result_limit
	                                                  : FAAS__WP_STATE_VALUE_MAX;
	pool->max_frame = big + FAAS__WP_SLACK;
	uv_timer_init(rt->loop, &pool->idle_timer);
	pool->idle_timer.data = pool;
	uv_unref((uv_handle_t *)&pool->idle_timer);
	pool->timer_open = true;
	uv_timer_init(rt->loop, &pool->backoff_timer);
	pool->backoff_timer.data = pool;
	uv_unref((uv_handle_t *)&pool->backoff_timer);
	pool->backoff_open = true;
	faas__handles_add(rt, 2);
	*out = pool;
	if (!pool->library || !pool->symbol || !pool->worker_path) {
		faas__proc_pool_close(pool);
		*out = NULL;
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", fn->name);
	}
	prewarm = o->process_prewarm ? o->process_prewarm : o->prewarm ? 1 : 0;
	if (prewarm < pool->min)
		prewarm = pool->min;
	while (pool->live < prewarm) {
		int rc = faas__proc_worker_spawn(&w, pool, true);

		if (rc != 0) {
			faas__proc_pool_close(pool);
			*out = NULL;
			return rc;
		}
	}
	if (prewarm > 0 && prewarm_wait(pool) != 0) {
		faas__proc_pool_close(pool);
		*out = NULL;
		return faas__fail(rt, FAAS_EINIT, "%s: %s", fn->name, pool->init_error);
	}
	/* Workers outlive an unregistration by their call: they need the fn. */
	atomic_fetch_add(&fn->refs, 1);
	pool->holds_fn = true;
	return 0;
}

static void on_backoff_closed(uv_handle_t *h)
{
	faas__proc_pool *pool = h->data;
	faas_runtime *rt = pool->rt;

	pool->backoff_open = false;
	pool_maybe_free(pool);
	faas__handles_closed(rt);
}

static void on_timer_closed(uv_handle_t *h)
{
	faas__proc_pool *pool = h->data;
	faas_runtime *rt = pool->rt;

	pool->timer_open = false;
	pool_maybe_free(pool);
	faas__handles_closed(rt);
}

void faas__proc_pool_close(faas__proc_pool *pool)
{
	if (!pool || pool->closing)
		return;
	pool->closing = true;
	for (faas__proc_worker *w = pool->workers; w; w = w->next)
		if (!w->ctx)
			faas__proc_worker_kill(w, NULL);
	/* Closing the timers last: their callbacks may free the pool. */
	uv_close((uv_handle_t *)&pool->backoff_timer, on_backoff_closed);
	uv_close((uv_handle_t *)&pool->idle_timer, on_timer_closed);
}

bool faas__proc_warm(const faas__proc_pool *pool)
{
	for (const faas__proc_worker *w = pool->workers; w; w = w->next)
		if (w->st == FAAS__W_IDLE && w->loaded)
			return true;
	return false;
}

/* An idle worker, else a loading one that no call waits for; NULL if none. */
static faas__proc_worker *free_worker(faas__proc_pool *pool)
{
	faas__proc_worker *loading = NULL;

	for (faas__proc_worker *x = pool->workers; x; x = x->next) {
		if (x->st == FAAS__W_IDLE)
			return x;
		if (x->st == FAAS__W_LOADING && !x->ctx && !loading)
			loading = x;
	}
	return loading;
}

/* Hand ctx to w, or to a new worker if w is NULL. 0, or an error with the
 * message set and ctx untouched. */
static int dispatch(faas__proc_pool *pool, faas__proc_worker *w, faas_ctx *ctx)
{
	faas__wbuf b;
	char *owned = NULL;
	const char *text = ctx->payload;
	size_t len = ctx->payload_len;
	uint64_t now = faas__now_ns(), left_ms;
	int rc;

	if (!text) {
		if (ctx->event) {
			owned = cJSON_PrintUnformatted(ctx->event);
			if (!owned)
				return faas__fail(pool->rt, FAAS_ENOMEM, "%s: out of memory",
				                  ctx->fn->name);
			text = owned;
			len = strlen(owned);
		} else {
			text = "null";
			len = 4;
		}
	}
	if (!w && (rc = faas__proc_worker_spawn(&w, pool, false)) != 0) {
		free(owned);
		return rc;
	}
	/* The handler's remaining time counts from admission, as its deadline
	 * does: a call that waited has less of it. */
	left_ms = ctx->deadline_ns > now ? (ctx->deadline_ns - now + 999999u) / 1000000u : 1;
	if (left_ms > ctx->fn->timeout_ms)
		left_ms = ctx->fn->timeout_ms;
	faas__wbuf_begin(&b, FAAS__WP_INVOKE);
	faas__wbuf_u64(&b, ++w->seq);
	faas__wbuf_cstr(&b, ctx->id);
	faas__wbuf_u64(&b, left_ms);
	faas__wbuf_str(&b, text, len);
	free(owned);
	/* A loaded worker starts the call now; a loading one at its READY. */
	if (w->loaded)
		faas__proc_watch_begin(w);
	rc = faas__proc_worker_send(w, &b);
	if (rc != 0) {
		faas__proc_worker_kill(w, NULL);
		return faas__fail(pool->rt, rc, "%s: cannot send the call to its worker",
		                  ctx->fn->name);
	}
	w->st = FAAS__W_BUSY;
	w->ctx = ctx;
	ctx->exec.worker = w;
	atomic_store(&ctx->state, FAAS__RUNNING);
	atomic_store(&ctx->started_ns, now);
	return 0;
}

/* ---- the queue of waiting calls ---- */

static int waiter_push(faas__proc_pool *pool, faas_ctx *ctx)
{
	faas__proc_waiter *wt = calloc(1, sizeof(*wt));

	if (!wt)
		return faas__fail(pool->rt, FAAS_ENOMEM, "%s: out of memory", ctx->fn->name);
	wt->ctx = ctx;
	wt->pool = pool;
	wt->prev = pool->wait_tail;
	if (pool->wait_tail)
		pool->wait_tail->next = wt;
	else
		pool->wait_head = wt;
	pool->wait_tail = wt;
	pool->waiting++;
	ctx->exec.worker = wt;
	return 0;
}

/* Unlink and free wt; its call is the caller's again (ctx->exec.worker is
 * the caller's to reset: dispatch has already pointed it at a worker). */
static faas_ctx *waiter_take(faas__proc_waiter *wt)
{
	faas__proc_pool *pool = wt->pool;
	faas_ctx *ctx = wt->ctx;

	if (wt->prev)
		wt->prev->next = wt->next;
	else
		pool->wait_head = wt->next;
	if (wt->next)
		wt->next->prev = wt->prev;
	else
		pool->wait_tail = wt->prev;
	pool->waiting--;
	free(wt);
	return ctx;
}

/* A waiting call that can never get a worker: it ends internal_error with the
 * reason (rt->last_error), or, while the function is unhealthy, with its
 * init's failure. Its handler never ran, so it is given no time. */
static void waiter_fail(faas__proc_waiter *wt)
{
	faas__proc_pool *pool = wt->pool;
	faas_runtime *rt = pool->rt;
	faas_ctx *ctx = waiter_take(wt);
	faas__outcome o = {FAAS_STATUS_INTERNAL_ERROR, FAAS__ERR_INTERNAL, rt->last_error};
	uint64_t now = faas__now_ns();

	if (pool->unhealthy) {
		o.status = FAAS_STATUS_DEVELOPER_ERROR;
		o.type = FAAS__ERR_INIT;
		o.msg = pool->init_error;
	}

	ctx->exec.worker = NULL;
	atomic_store(&ctx->started_ns, now);
	ctx->finished_ns = now;
	atomic_store(&ctx->state, FAAS__DONE);
	rt->exec_done(rt, ctx, &o);
}

/* Give waiting calls, oldest first, to free workers, or to new workers while
 * the pool is below its maximum. A call past its deadline is left to the
 * deadline timer: starting it now could only bill a call its caller has
 * given up on. */
static void pool_pump(faas__proc_pool *pool)
{
	faas__proc_waiter *wt = pool->wait_head, *next;
	uint64_t now = faas__now_ns();

	for (; wt; wt = next) {
		faas__proc_worker *w;

		next = wt->next;
		if (wt->ctx->deadline_ns <= now)
			continue;
		if (pool->rt->freeing) {
			faas__fail(pool->rt, FAAS_ECANCELED, "%s: the runtime is being freed",
			           pool->fn->name);
			waiter_fail(wt);
			continue;
		}
		if (pool->unhealthy) {
			waiter_fail(wt); /* fail fast: no spawn while backing off */
			continue;
		}
		w = free_worker(pool);
		if (!w && pool->live >= pool->max)
			return;
		if (dispatch(pool, w, wt->ctx) == 0) {
			(void)waiter_take(wt);
		} else if (pool->live > 0) {
			return; /* a busy worker will free up for it */
		} else {
			waiter_fail(wt);
		}
	}
}

/* Whether a waiting call may still be handed to a worker. Calls queue in
 * admission order with the same timeout, so their deadlines are in queue
 * order too: those past theirs are a prefix, the newest is the last to go. */
static bool someone_waits(const faas__proc_pool *pool)
{
	return pool->wait_tail && pool->wait_tail->ctx->deadline_ns > faas__now_ns();
}

static void run_fail_fast(faas__deferred *d)
{
	faas__proc_pool *pool =
	    (faas__proc_pool *)((char *)d - offsetof(faas__proc_pool, fail_fast));

	pool->fail_queued = false;
	pool_pump(pool);
	pool_maybe_free(pool);
}

int faas__proc_submit(faas__proc_pool *pool, faas_ctx *ctx)
{
	faas__proc_worker *w = NULL;

	/* Unhealthy: the call waits for the next loop turn (done never runs
	 * inside submit), where the pump fails it with the init's error. */
	if (pool->unhealthy) {
		int rc = waiter_push(pool, ctx);

		if (rc == 0 && !pool->fail_queued) {
			pool->fail_queued = true;
			faas__defer(pool->rt, &pool->fail_fast, run_fail_fast);
		}
		return rc;
	}

	/* Calls still waiting go first. Capacity can be free while one waits
	 * only until the next pump (a killed worker's exit), which serves it. */
	if (!someone_waits(pool)) {
		w = free_worker(pool);
		if (w || pool->live < pool->max)
			return dispatch(pool, w, ctx);
	}
	if (pool->waiting >= pool->queue_max)
		return faas__fail(pool->rt, FAAS_EBUSY,
		                  "Rate Exceeded. (every process worker of %s is busy and its "
		                  "queue of %u calls is full)",
		                  ctx->fn->name, pool->queue_max);
	return waiter_push(pool, ctx);
}

bool faas__proc_abandon(faas_ctx *ctx, bool *was_running)
{
	faas__proc_worker *w = ctx->exec.worker;
	int expected = FAAS__RUNNING;

	*was_running = false;
	if (w && atomic_load(&ctx->state) == FAAS__QUEUED) {
		faas__proc_pool *pool = ((faas__proc_waiter *)ctx->exec.worker)->pool;

		/* Still waiting: it never reached a worker. */
		(void)waiter_take(ctx->exec.worker);
		ctx->exec.worker = NULL;
		atomic_store(&ctx->state, FAAS__ABANDONED);
		pool_maybe_free(pool);
		return true;
	}
	if (!w || !atomic_compare_exchange_strong(&ctx->state, &expected, FAAS__ABANDONED))
		return false;
	*was_running = true;
	/* The kernel's count of the call so far; a worker that loaded but
	 * never started the call (still loading) has used nothing of it. */
	if (!w->exited && w->loaded) {
		faas__proc_usage u;

		faas__proc_watch_end(w, &u);
		atomic_store(&ctx->mem_peak, u.peak_bytes);
		ctx->abandoned_cpu_ns = u.cpu_ns;
	}
	faas__proc_worker_drain(w);
	faas__proc_worker_detach(w);
	faas__proc_worker_kill(w, "its call was abandoned");
	return true;
}

/* ---- the executor ---- */

static int process_check(faas_runtime *rt, const char *name, const faas_fn_options *o)
{
	unsigned int max = o->process_max_workers;

	if (o->handler)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: isolation process needs library and symbol, not a "
				  "static handler",
				  name);
	if (max > FAAS_MAX_PROCESS_WORKERS)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: process_max_workers: expected 0..%u, got %u", name,
				  FAAS_MAX_PROCESS_WORKERS, max);
	if (max == 0)
		max = o->max_concurrency ? o->max_concurrency
					 : FAAS_DEFAULT_PROCESS_MAX_WORKERS;
	if (max > FAAS_MAX_PROCESS_WORKERS)
		max = FAAS_MAX_PROCESS_WORKERS;
	if (o->process_min_workers > max)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: process_min_workers: expected 0..%u, got %u", name,
				  max, o->process_min_workers);
	if (o->process_seccomp != FAAS_SECCOMP_OFF && o->process_seccomp != FAAS_SECCOMP_ERROR &&
	    o->process_seccomp != FAAS_SECCOMP_KILL)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: process_seccomp: expected FAAS_SECCOMP_OFF, _ERROR or "
				  "_KILL, got %d",
				  name, (int)o->process_seccomp);
#if !defined(__linux__) || !(defined(__x86_64__) || defined(__aarch64__))
	if (o->process_seccomp != FAAS_SECCOMP_OFF)
		return faas__fail(rt, FAAS_ENOTSUP,
				  "%s: process_seccomp: not supported on this platform", name);
#endif
	if (o->process_max_processes > FAAS_MAX_PROCESS_MAX_PROCESSES)
		return faas__fail(rt, FAAS_EINVAL,
		                  "%s: process_max_processes: expected 0..%u, got %u", name,
		                  FAAS_MAX_PROCESS_MAX_PROCESSES, o->process_max_processes);
	if (o->process_queue > FAAS_MAX_PROCESS_QUEUE)
		return faas__fail(rt, FAAS_EINVAL, "%s: process_queue: expected 0..%u, got %u",
		                  name, FAAS_MAX_PROCESS_QUEUE, o->process_queue);
	if (o->process_prewarm > max)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: process_prewarm: expected 0..%u, got %u", name, max,
				  o->process_prewarm);
	return 0;
}

static int process_attach(faas_fn *fn, const faas_fn_options *o)
{
	/* The handler's code never runs in the host: the workers load it. What
	 * the host can check without running it is that it exists. */
	if (access(o->library, R_OK) != 0)
		return faas__fail(fn->rt, FAAS_ELOAD, "cannot load %s: %s", o->library,
				  strerror(errno));
	return faas__proc_pool_new(&fn->proc, fn->rt, fn, o);
}

static void process_detach(faas_fn *fn)
{
	fn->unhealthy = NULL;
	faas__proc_pool_close(fn->proc);
	fn->proc = NULL;
}

static bool process_warm(const faas_fn *fn)
{
	return fn->proc && faas__proc_warm(fn->proc);
}

static int process_submit(faas_ctx *ctx)
{
	return faas__proc_submit(ctx->fn->proc, ctx);
}

const faas__exec_ops faas__exec_process = {
	.name = "process",
	.check = process_check,
	.attach = process_attach,
	.detach = process_detach,
	.warm = process_warm,
	.submit = process_submit,
	.abandon = faas__proc_abandon,
};

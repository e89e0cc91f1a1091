/* The thread pool behind the thread executor: a pool owned by the runtime (not libuv's shared one),
 * so a handler stuck past its deadline can be written off and replaced
 * without starving anyone else.
 *
 * Containment: each function queues its calls apart (fn->threadq) and free
 * threads serve the functions with waiting calls in turn (a ring), so a slow
 * function delays only its own calls. A function with max_stuck_fn calls
 * stuck past their deadlines gets no thread and is refused new calls (the
 * calls it has waiting end at their deadlines, unstarted), and every
 * function is refused while no thread is live: submit fails at once rather
 * than queue a call no thread will take.
 *
 * Every thread is detached. The pool is reference counted by the runtime and
 * by every thread, because a thread retired at a deadline may return long
 * after the runtime is gone — or never; it then touches only its ctx and the
 * pool. The mutex guards the queues, the counts and the call-state changes
 * that decide who completes a call (see faas__pool_abandon). */
#include <stdlib.h>
#include <time.h>

#include "exec.h"

struct faas__pool {
	pthread_mutex_t mu;
	pthread_cond_t work;    /* a job arrived, or shutdown */
	pthread_cond_t exited;  /* a live thread exited */
	faas_fn *ring_head, *ring_tail; /* functions with waiting calls, served in turn */
	faas_ctx *done_head, *done_tail;
	unsigned int live;      /* threads able to take jobs */
	unsigned int target;    /* the configured number of threads */
	unsigned int stuck;     /* retired threads still inside a handler */
	unsigned int max_stuck;
	unsigned int max_stuck_fn; /* a function's stuck calls before it is refused */
	unsigned int refs;      /* the runtime + every thread */
	bool shutdown;
	void (*notify)(void *);
	void *notify_arg;
};

static void pool_unref_locked(faas__pool *pool)
{
	bool last = --pool->refs == 0;

	pthread_mutex_unlock(&pool->mu);
	if (last) {
		pthread_mutex_destroy(&pool->mu);
		pthread_cond_destroy(&pool->work);
		pthread_cond_destroy(&pool->exited);
		free(pool);
	}
}

static void *worker_main(void *arg);

/* Called with the mutex held. */
static int spawn_locked(faas__pool *pool)
{
	pthread_attr_t attr;
	pthread_t tid;
	int rc;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &attr, worker_main, pool);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		return FAAS_ESYSTEM;
	pool->live++;
	pool->refs++;
	return 0;
}

static void push_done_locked(faas__pool *pool, faas_ctx *ctx)
{
	bool was_empty = pool->done_head == NULL;

	ctx->exec.thread.next = NULL;
	if (pool->done_tail)
		pool->done_tail->exec.thread.next = ctx;
	else
		pool->done_head = ctx;
	pool->done_tail = ctx;
	/* uv_async_send coalesces anyway; skipping it while the loop has not yet
	 * drained saves a write() per completion under load. */
	if (was_empty && pool->notify)
		pool->notify(pool->notify_arg);
}

/* Returns false when this thread must exit (it was retired and the pool is
 * full again without it). */
static bool run_job(faas__pool *pool, faas_ctx *ctx)
{
	int expected = FAAS__QUEUED;
	uint64_t now = faas__now_ns();
	bool retired;

	/* Past its deadline (from admission) before a thread got to it: leave
	 * it in the queued state for the loop's timer to end unstarted.
	 * Starting it would only write this thread off too. */
	if (now >= ctx->deadline_ns ||
	    !atomic_compare_exchange_strong(&ctx->state, &expected, FAAS__RUNNING)) {
		/* Or cancelled while queued: the loop completed it already. */
		faas__ctx_release(ctx);
		return true;
	}
	faas__ctx_execute(ctx, now, false);
	if (ctx->fn->lib)
		atomic_fetch_sub(&ctx->fn->lib->running, 1);

	pthread_mutex_lock(&pool->mu);
	expected = FAAS__RUNNING;
	if (atomic_compare_exchange_strong(&ctx->state, &expected, FAAS__DONE)) {
		/* The loop's reference travels with the completion. */
		push_done_locked(pool, ctx);
		pthread_mutex_unlock(&pool->mu);
		faas__ctx_release(ctx);
		return true;
	}
	/* Abandoned at its deadline: the caller has its answer and this result
	 * goes nowhere. The thread was written off and perhaps replaced: it
	 * rejoins only if the pool is short of threads (max_stuck_threads was
	 * reached, or shutdown has not begun and a replacement failed). */
	retired = ctx->exec.thread.retired;
	if (retired) {
		pool->stuck--;
		/* Below its stuck limit again, the function's queue may be
		 * served: wake the idle threads for it (this one may be
		 * leaving, and the queue may hold many calls). */
		if (ctx->fn->threadq.stuck-- == pool->max_stuck_fn && ctx->fn->threadq.in_ring)
			pthread_cond_broadcast(&pool->work);
		if (pool->live < pool->target && !pool->shutdown) {
			pool->live++;
			retired = false;
		}
	}
	pthread_mutex_unlock(&pool->mu);
	faas__ctx_release(ctx);
	return !retired;
}

static void ring_append_locked(faas__pool *pool, faas_fn *fn)
{
	fn->threadq.next = NULL;
	fn->threadq.in_ring = true;
	if (pool->ring_tail)
		pool->ring_tail->threadq.next = fn;
	else
		pool->ring_head = fn;
	pool->ring_tail = fn;
}

/* The next call: the oldest of the first function in the ring that is under
 * its stuck limit (one at the limit gets no thread). The function goes to
 * the back of the ring if it has more calls, leaves it if not. NULL if no
 * function may be served. */
static faas_ctx *pop_locked(faas__pool *pool)
{
	faas_fn *prev = NULL, *fn = pool->ring_head;
	faas_ctx *ctx;

	while (fn && fn->threadq.stuck >= pool->max_stuck_fn) {
		prev = fn;
		fn = fn->threadq.next;
	}
	if (!fn)
		return NULL;
	if (prev)
		prev->threadq.next = fn->threadq.next;
	else
		pool->ring_head = fn->threadq.next;
	if (pool->ring_tail == fn)
		pool->ring_tail = prev;
	ctx = fn->threadq.head;
	fn->threadq.head = ctx->exec.thread.next;
	if (fn->threadq.head) {
		ring_append_locked(pool, fn);
	} else {
		fn->threadq.tail = NULL;
		fn->threadq.in_ring = false;
	}
	return ctx;
}

static void *worker_main(void *arg)
{
	faas__pool *pool = arg;

	pthread_mutex_lock(&pool->mu);
	for (;;) {
		faas_ctx *ctx;

		while (!(ctx = pop_locked(pool)) && !pool->shutdown)
			pthread_cond_wait(&pool->work, &pool->mu);
		if (!ctx)
			break;
		ctx->exec.thread.id = pthread_self();
		pthread_mutex_unlock(&pool->mu);
		if (!run_job(pool, ctx)) {
			/* Retired: the pool no longer counts this thread as live. */
			pthread_mutex_lock(&pool->mu);
			pool_unref_locked(pool);
			return NULL;
		}
		pthread_mutex_lock(&pool->mu);
	}
	pool->live--;
	pthread_cond_broadcast(&pool->exited);
	pool_unref_locked(pool);
	return NULL;
}

int faas__pool_new(faas__pool **out, unsigned int threads, unsigned int max_stuck,
		   unsigned int max_stuck_fn, void (*notify)(void *), void *notify_arg)
{
	faas__pool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return FAAS_ENOMEM;
	pthread_mutex_init(&pool->mu, NULL);
	pthread_cond_init(&pool->work, NULL);
	pthread_cond_init(&pool->exited, NULL);
	pool->refs = 1;
	pool->target = threads;
	pool->max_stuck = max_stuck;
	pool->max_stuck_fn = max_stuck_fn;
	pool->notify = notify;
	pool->notify_arg = notify_arg;
	pthread_mutex_lock(&pool->mu);
	for (unsigned int i = 0; i < threads; i++) {
		if (spawn_locked(pool) != 0) {
			pthread_mutex_unlock(&pool->mu);
			(void)faas__pool_shutdown(pool);
			return FAAS_ESYSTEM;
		}
	}
	pthread_mutex_unlock(&pool->mu);
	*out = pool;
	return 0;
}

int faas__pool_submit(faas__pool *pool, faas_ctx *ctx, unsigned int *stuck)
{
	faas_fn *fn = ctx->fn;

	pthread_mutex_lock(&pool->mu);
	if (pool->live == 0) {
		/* Every thread is stuck and none may be replaced: a queued call
		 * would only wait out its deadline. */
		*stuck = pool->stuck;
		pthread_mutex_unlock(&pool->mu);
		return FAAS__POOL_NO_THREADS;
	}
	if (fn->threadq.stuck >= pool->max_stuck_fn) {
		*stuck = fn->threadq.stuck;
		pthread_mutex_unlock(&pool->mu);
		return FAAS__POOL_FN_STUCK;
	}
	/* The worker's own reference; the loop keeps the one it has. */
	atomic_fetch_add_explicit(&ctx->refs, 1, memory_order_relaxed);
	ctx->exec.thread.next = NULL;
	if (fn->threadq.tail)
		fn->threadq.tail->exec.thread.next = ctx;
	else
		fn->threadq.head = ctx;
	fn->threadq.tail = ctx;
	if (!fn->threadq.in_ring)
		ring_append_locked(pool, fn);
	pthread_mutex_unlock(&pool->mu);
	/* Signal after unlocking: a worker woken while we still hold the mutex
	 * would only block on it again, two context switches per call. */
	pthread_cond_signal(&pool->work);
	return 0;
}

bool faas__pool_abandon(faas__pool *pool, faas_ctx *ctx, bool *was_running)
{
	int expected = FAAS__QUEUED;
	bool taken;

	*was_running = false;
	pthread_mutex_lock(&pool->mu);
	if (atomic_compare_exchange_strong(&ctx->state, &expected, FAAS__ABANDONED)) {
		/* Still queued: the worker that pops it will see the state and drop
		 * it, so no thread is lost. */
		pthread_mutex_unlock(&pool->mu);
		return true;
	}
	expected = FAAS__RUNNING;
	taken = atomic_compare_exchange_strong(&ctx->state, &expected, FAAS__ABANDONED);
	if (taken) {
		clockid_t cpu_clock;
		struct timespec ts;

		/* The thread is surely alive here (it has not finished the call and
		 * cannot while we hold the mutex), so its CPU clock can be read. */
		if (pthread_getcpuclockid(ctx->exec.thread.id, &cpu_clock) == 0 &&
		    clock_gettime(cpu_clock, &ts) == 0)
			ctx->abandoned_cpu_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec -
				      atomic_load(&ctx->cpu_start_ns);
		*was_running = true;
		ctx->exec.thread.retired = true;
		pool->live--;
		pool->stuck++;
		ctx->fn->threadq.stuck++;
		/* Replace the stuck thread so other functions keep their capacity,
		 * but only up to max_stuck: a handler that hangs on every call must
		 * not make the process grow threads without bound. */
		if (pool->stuck <= pool->max_stuck && !pool->shutdown)
			(void)spawn_locked(pool);
	}
	pthread_mutex_unlock(&pool->mu);
	return taken;
}

faas_ctx *faas__pool_take_done(faas__pool *pool)
{
	faas_ctx *list;

	pthread_mutex_lock(&pool->mu);
	list = pool->done_head;
	pool->done_head = pool->done_tail = NULL;
	pthread_mutex_unlock(&pool->mu);
	return list;
}

void faas__pool_counts(faas__pool *pool, unsigned int *threads, unsigned int *stuck)
{
	pthread_mutex_lock(&pool->mu);
	*threads = pool->live;
	*stuck = pool->stuck;
	pthread_mutex_unlock(&pool->mu);
}

faas_ctx *faas__pool_shutdown(faas__pool *pool)
{
	faas_ctx *done;

	pthread_mutex_lock(&pool->mu);
	pool->shutdown = true;
	pool->notify = NULL;
	pthread_cond_broadcast(&pool->work);
	while (pool->live > 0)
		pthread_cond_wait(&pool->exited, &pool->mu);
	/* With no live thread left (all were stuck and none replaced), calls can
	 * remain queued. The loop abandoned and answered them already; only the
	 * worker's reference on each is left to drop. A function leaves the ring
	 * before its calls are released: the last of them may free it. */
	while (pool->ring_head) {
		faas_fn *fn = pool->ring_head;
		faas_ctx *ctx = fn->threadq.head;

		pool->ring_head = fn->threadq.next;
		fn->threadq.head = fn->threadq.tail = NULL;
		fn->threadq.in_ring = false;
		while (ctx) {
			faas_ctx *next = ctx->exec.thread.next;

			faas__ctx_release(ctx);
			ctx = next;
		}
	}
	pool->ring_tail = NULL;
	/* Every thread that could still finish a call normally has exited, so
	 * this list is final. */
	done = pool->done_head;
	pool->done_head = pool->done_tail = NULL;
	pool_unref_locked(pool);
	return done;
}

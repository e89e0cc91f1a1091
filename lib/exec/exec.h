/*
 * libfaas exec — the executor contract, and the executors behind it: inline
 * (on the loop thread), thread (a pool the runtime owns) and process
 * (sandboxed worker processes).
 *
 * The contract, which every executor keeps and invoke/ relies on:
 * - submit(ctx) returning 0 means the executor calls rt->exec_done(rt, ctx,
 *   outcome) exactly once, on the loop thread. It does so later, from its own
 *   loop callbacks — except an executor flagged FAAS__EXEC_ON_LOOP, whose
 *   handler runs on the loop thread inside submit and which reports the
 *   outcome there. On an error submit leaves ctx untouched and done is never
 *   called. done never runs the caller's callback (completion defers it), so
 *   an executor may call it in the middle of its own bookkeeping.
 * - submit refusing with FAAS_EBUSY ends the call `throttled`, unstarted; the
 *   error type is rt->exec_refusal if the executor set it.
 * - abandon(ctx) takes a submitted call back (deadline, cancel): true means
 *   the loop now owns its completion and done will not be called for it;
 *   false means the executor finished first and done is on its way.
 *   *was_running false means the handler never started: the call ends
 *   without a usage record.
 * - An executor never calls invoke/ or runtime/ code, and nothing outside
 *   exec/ switches on the isolation mode: what invoke/ must know of an
 *   executor is in its flags.
 */
#ifndef FAAS_LIB_EXEC_EXEC_H
#define FAAS_LIB_EXEC_EXEC_H

#include "call.h"

/* How a call ended, as its executor saw it. */
typedef struct faas__outcome {
	faas_status status;
	const char *type; /* NULL: the handler ran to its end; ctx holds what it did */
	const char *msg;
} faas__outcome;

typedef void (*faas__exec_done_fn)(faas_runtime *rt, faas_ctx *ctx, const faas__outcome *o);

typedef struct faas__exec_counts {
	unsigned int threads;       /* executor threads able to take calls */
	unsigned int stuck_threads; /* retired at a deadline, still inside a handler */
} faas__exec_counts;

/* The handler runs on the loop thread inside submit: it reads the caller's
 * event in place, and its deadline can only be reported after the fact. */
#define FAAS__EXEC_ON_LOOP 0x1u

typedef struct faas__exec_ops {
	const char *name;
	unsigned int flags;
	/* The runtime starts and is freed. Both may be NULL. shutdown reports
	 * every call still finished-but-unreported through exec_done. */
	int (*start)(faas_runtime *rt);
	void (*shutdown)(faas_runtime *rt);
	/* Registration: check the options (may be NULL), attach a registered
	 * function (load its code or start its workers), detach it when it is
	 * unregistered (calls in flight still complete). */
	int (*check)(faas_runtime *rt, const char *name, const faas_fn_options *o);
	int (*attach)(faas_fn *fn, const faas_fn_options *o);
	void (*detach)(faas_fn *fn);
	/* Whether a call now would start warm. */
	bool (*warm)(const faas_fn *fn);
	/* 0, FAAS_EBUSY (no capacity, nothing may be added), or another error
	 * with the message in faas_runtime_last_error. With FAAS_EBUSY the
	 * message says why, and the executor may name the reason's error type in
	 * rt->exec_refusal (a static string; left NULL, the call is
	 * FAAS__ERR_THROTTLED). */
	int (*submit)(faas_ctx *ctx);
	bool (*abandon)(faas_ctx *ctx, bool *was_running);
	/* Add this executor's counts to *out. May be NULL. */
	void (*counts)(faas_runtime *rt, faas__exec_counts *out);
} faas__exec_ops;

/* The executor of an isolation mode. */
const faas__exec_ops *faas__exec_of(faas_isolation isolation);

/* Start every executor; done is where they report outcomes. */
int faas__exec_start(faas_runtime *rt, faas__exec_done_fn done);
/* Free every executor (the thread pool waits for its threads that are not
 * stuck); outcomes still unreported are reported first. */
void faas__exec_shutdown(faas_runtime *rt);
void faas__exec_counts_get(faas_runtime *rt, faas__exec_counts *out);

/* Replace the executor of a mode (tests drive invoke/ with a fake one).
 * FAAS_EINVAL unless submit and abandon are set; NULL restores the real one.
 * Process-wide: only while no runtime exists. */
int faas__exec_set(faas_isolation isolation, const faas__exec_ops *ops);

/* The executors. */
extern const faas__exec_ops faas__exec_inline;
extern const faas__exec_ops faas__exec_thread;
extern const faas__exec_ops faas__exec_process;

/* ---- the thread pool (pool.c), behind faas__exec_thread (thread.c) ---- */
typedef struct faas__pool faas__pool;
/* max_stuck: stuck threads that are replaced; max_stuck_fn (>= 1): a
 * function's calls stuck past their deadlines before its calls are refused. */
int faas__pool_new(faas__pool **out, unsigned int threads, unsigned int max_stuck,
		   unsigned int max_stuck_fn, void (*notify)(void *), void *notify_arg);
/* Why submit refused a call (*stuck then says how many calls are stuck: the
 * function's, or the whole pool's when no thread is live). */
#define FAAS__POOL_FN_STUCK 1
#define FAAS__POOL_NO_THREADS 2
/* Queue ctx on its function's queue: 0, or a refusal above (ctx untouched). */
int faas__pool_submit(faas__pool *pool, faas_ctx *ctx, unsigned int *stuck);
/* Loop: try to take a running or queued call away from the pool (deadline or
 * cancel). Returns true if the loop now owns completion; false if the worker
 * finished first (its completion is on the way). */
bool faas__pool_abandon(faas__pool *pool, faas_ctx *ctx, bool *was_running);
/* Loop: take every finished call, in finishing order (a NULL-terminated list). */
faas_ctx *faas__pool_take_done(faas__pool *pool);
void faas__pool_counts(faas__pool *pool, unsigned int *threads, unsigned int *stuck);
/* Stop idle threads, wait for every thread that is not stuck, drop the
 * runtime's reference and return the calls finished but not yet taken. */
faas_ctx *faas__pool_shutdown(faas__pool *pool);

/* ---- process workers (process.c), behind faas__exec_process ---- */
typedef struct faas__proc_pool faas__proc_pool;
/* Create fn's worker pool and start its prewarmed workers (loop thread). */
int faas__proc_pool_new(faas__proc_pool **out, faas_runtime *rt, faas_fn *fn,
			const faas_fn_options *o);
/* The function is unregistered: stop idle workers now, busy ones once no call
 * waits for them (queued calls still run); the pool frees itself once its
 * last handle closed and its queue is empty. */
void faas__proc_pool_close(faas__proc_pool *pool);
/* Give ctx to a worker, or queue it for one (process_queue). 0, FAAS_EBUSY
 * (every worker busy, none may be added, the queue full) or
 * FAAS_ESYSTEM/FAAS_ENOMEM; on error ctx is untouched. */
int faas__proc_submit(faas__proc_pool *pool, faas_ctx *ctx);
/* Deadline or cancel: kill ctx's worker and take the call back; a call still
 * queued leaves the queue (*was_running false). */
bool faas__proc_abandon(faas_ctx *ctx, bool *was_running);
bool faas__proc_warm(const faas__proc_pool *pool);

#endif /* FAAS_LIB_EXEC_EXEC_H */

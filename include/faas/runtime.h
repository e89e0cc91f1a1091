/*
 * libfaas — the runtime: one libuv loop, a function registry, an executor
 * pool, an activation store, and the state, billing and log hooks.
 *
 * Threads. Every faas_runtime_*, faas_fn_* and faas_invoke* function is called
 * on the loop thread (the thread that runs the loop), unless its comment says
 * otherwise. Callbacks arrive on the loop thread.
 */
#ifndef FAAS_RUNTIME_H
#define FAAS_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* activation.h and billing.h declare what this header declared before 1.0;
 * it keeps including them so existing sources build unchanged. */
#include "activation.h"
#include "billing.h"
#include "common.h"
#include "sys/billing.h"
#include "sys/log.h"
#include "sys/state.h"

/* The libuv loop type, declared rather than included so this header compiles
 * alone under strict -std=c11 (uv.h needs POSIX feature macros). C11 allows
 * repeating the identical typedef that uv.h makes. */
typedef struct uv_loop_s uv_loop_t;

/** The version of faas_runtime_options. */
/* 2 added store_path; a version 1 struct (without it) is still accepted. */
#define FAAS_RUNTIME_OPTIONS_VERSION 2

/* Defaults and bounds, named so hosts and tests can use them. */
#define FAAS_DEFAULT_TIMEOUT_MS 3000u
#define FAAS_MIN_TIMEOUT_MS 1u
#define FAAS_MAX_TIMEOUT_MS 900000u
#define FAAS_DEFAULT_MEMORY_MB 128u
#define FAAS_MIN_MEMORY_MB 128u
#define FAAS_MAX_MEMORY_MB 10240u
#define FAAS_DEFAULT_PAYLOAD_LIMIT (6u * 1024u * 1024u)
#define FAAS_DEFAULT_RESULT_LIMIT (6u * 1024u * 1024u)
#define FAAS_DEFAULT_MAX_CONCURRENCY 1000u
#define FAAS_DEFAULT_ACTIVATION_CAPACITY 1000u
#define FAAS_DEFAULT_LOG_LIMIT (64u * 1024u)
#define FAAS_DEFAULT_DRAIN_TIMEOUT_MS 10000u
#define FAAS_DEFAULT_MAX_STUCK_THREADS 64u
#define FAAS_MAX_THREADS 1024u
/** AWS Lambda x86 list prices. */
#define FAAS_DEFAULT_PRICE_GB_SECOND 0.0000166667
#define FAAS_DEFAULT_PRICE_REQUEST (0.20 / 1000000.0)
#define FAAS_DEFAULT_BILLING_GRANULARITY_MS 1u

/** The pricing model of the default billing hook. */
typedef struct faas_pricing {
	double gb_second_usd;   /**< price of one GB-second of billed duration */
	double request_usd;     /**< price of one started request */
	uint32_t granularity_ms; /**< billed duration rounds up to this (>= 1) */
} faas_pricing;

/** Runtime options. Initialise with FAAS_RUNTIME_OPTIONS_INIT or faas_runtime_options_init(). */
typedef struct faas_runtime_options {
	unsigned int version;
	/** The host's loop, or NULL for one the runtime owns. The host's loop must
	 *  outlive the runtime. */
	uv_loop_t *loop;
	/** Executor threads; 0 means max(4, 2 × online CPUs). 1..FAAS_MAX_THREADS. */
	unsigned int threads;
	/** Runtime-wide cap on concurrent invocations (Lambda's account concurrency). */
	unsigned int max_concurrency;
	/** Threads stuck past their deadline that may be replaced; beyond it the
	 *  pool runs with fewer threads rather than grow without bound. */
	unsigned int max_stuck_threads;
	/** Where START/END/REPORT and handler lines go; NULL discards them. Borrowed. */
	faas_log_sink *log_sink;
	/** State backend; NULL creates an in-memory one owned by the runtime. Borrowed. */
	faas_state_backend *state;
	/** Billing hook; NULL uses the default pricing hook owned by the runtime. Borrowed. */
	faas_billing_hook *billing;
	/** Pricing of the default billing hook, and the billing granularity of usage. */
	faas_pricing pricing;
	/** Defaults for functions that leave these 0. */
	uint32_t default_timeout_ms;
	uint32_t default_memory_mb;
	/** Activations kept for lookup (>= 1); the oldest is evicted. */
	unsigned int activation_capacity;
	/** Bytes of handler log kept per activation (>= 256). */
	size_t log_limit_bytes;
	/** How long faas_runtime_stop() waits for in-flight calls before cancelling them. */
	uint32_t drain_timeout_ms;
	/** The faas-worker program for `process` isolation; NULL = the environment
	 *  variable FAAS_WORKER_PATH if set, else the build tree's program if it
	 *  exists, else the installed one (libexecdir). Borrowed: must outlive the
	 *  runtime's functions' registrations (it is copied at registration). */
	const char *worker_path;
	/** A function's thread-mode calls stuck past their deadline (their
	 *  threads still inside the handler) before its further calls are
	 *  refused `throttled` (Runtime.FunctionStuck) until they return;
	 *  0 = half of `threads`, at least 1. */
	unsigned int max_stuck_per_function;
	/* ---- version 2 ---- */
	/** An SQLite store (include/faas/sys/store.h) the runtime opens, holds
	 *  and closes: the functions' state lives there (unless `state` is set)
	 *  and survives restarts; faas_runtime_backup() copies it. NULL = no
	 *  store, state in memory. Read only by faas_runtime_new(). */
	const char *store_path;
} faas_runtime_options;

#define FAAS_RUNTIME_OPTIONS_INIT                                              \
	{                                                                      \
		FAAS_RUNTIME_OPTIONS_VERSION, NULL, 0, FAAS_DEFAULT_MAX_CONCURRENCY, \
		FAAS_DEFAULT_MAX_STUCK_THREADS, NULL, NULL, NULL,              \
		{FAAS_DEFAULT_PRICE_GB_SECOND, FAAS_DEFAULT_PRICE_REQUEST,     \
		 FAAS_DEFAULT_BILLING_GRANULARITY_MS},                         \
		FAAS_DEFAULT_TIMEOUT_MS, FAAS_DEFAULT_MEMORY_MB,               \
		FAAS_DEFAULT_ACTIVATION_CAPACITY, FAAS_DEFAULT_LOG_LIMIT,      \
		FAAS_DEFAULT_DRAIN_TIMEOUT_MS, NULL, 0, NULL                   \
	}

/** The version of faas_runtime_stats. */
#define FAAS_RUNTIME_STATS_VERSION 2

/**
 * Counters of a runtime, for hosts, tests and metrics. faas_runtime_stats_get()
 * writes the whole struct, version included: the caller need not set anything.
 * Later versions add fields by taking slots of `reserved`, so the size stays
 * the same; `version` says which fields the linked library filled.
 */
typedef struct faas_runtime_stats {
	unsigned int version;      /**< FAAS_RUNTIME_STATS_VERSION of the library that wrote it */
	uint64_t activations[FAAS_STATUS_COUNT]; /**< completed, by status */
	uint64_t cold_starts;      /**< calls that ran a module's init */
	unsigned int in_flight;    /**< admitted calls not yet completed */
	unsigned int threads;      /**< executor threads able to take work */
	unsigned int stuck_threads; /**< threads retired at a deadline, still in a handler */
	/** Functions unhealthy now (see faas_fn_stats.unhealthy). Since version
	 *  2, in what was padding: the size is unchanged. */
	unsigned int unhealthy_functions;
	uint64_t reserved[8];      /**< zero; later versions use it */
} faas_runtime_stats;

FAAS_BEGIN_DECLS

/**
 * Read the runtime's counters.
 * @param out written whole (version = FAAS_RUNTIME_STATS_VERSION, reserved
 *        zero); its input contents are ignored
 * @return 0 or FAAS_EINVAL
 */
FAAS_EXTERN int faas_runtime_stats_get(faas_runtime_stats *out, faas_runtime *rt);

/**
 * Fill opts with the defaults (the same bytes as FAAS_RUNTIME_OPTIONS_INIT).
 * @param version FAAS_RUNTIME_OPTIONS_VERSION
 * @return 0 or FAAS_EINVAL (NULL opts or unknown version). Any thread.
 */
FAAS_EXTERN int faas_runtime_options_init(faas_runtime_options *opts, unsigned int version);

/**
 * Create a runtime. Starts the executor threads.
 * @param out receives the runtime; free it with faas_runtime_free()
 * @param opts options, or NULL for the defaults
 * @return 0, FAAS_EINVAL (a bad option, named with its range by
 *         faas_runtime_last_error(NULL)), FAAS_ENOMEM, FAAS_ESYSTEM
 */
FAAS_EXTERN int faas_runtime_new(faas_runtime **out, const faas_runtime_options *opts);

/**
 * Run the runtime's loop until faas_runtime_stop() has finished draining.
 * With a host loop, prefer running the host's loop yourself.
 * @return 0, FAAS_EINVAL, FAAS_ESTOPPED if already stopped
 */
FAAS_EXTERN int faas_runtime_run(faas_runtime *rt);

/**
 * Stop gracefully: from now on invocations fail with FAAS_ESTOPPED; calls in
 * flight may finish for up to drain_timeout_ms, after which they are cancelled
 * (their callbacks get status `internal_error`, error type "Runtime.Canceled").
 * Returns at once; faas_runtime_run() returns when draining is over.
 * Calling it again while calls are still draining cancels them at once (a
 * server's second SIGINT); after that it is a no-op.
 * @return 0 or FAAS_EINVAL
 */
FAAS_EXTERN int faas_runtime_stop(faas_runtime *rt);

/**
 * Close a runtime that runs on the host's loop, without polling
 * faas_runtime_stopped(): stop it as faas_runtime_stop() does (new invocations
 * fail with FAAS_ESTOPPED, calls in flight drain for up to drain_timeout_ms,
 * then are cancelled), and once it is stopped — every admitted call's
 * callback has run — call on_closed(rt, userdata) on the loop thread, exactly
 * once, on a later loop turn (never inside faas_runtime_close()).
 *
 * Close does not free the runtime: the host does, from on_closed or later.
 * faas_runtime_free() is allowed inside on_closed (its memory goes in the
 * close callbacks of its handles: keep running the loop until uv_run()
 * returns, then uv_loop_close()). If faas_runtime_free() is called before
 * on_closed ran, on_closed runs inside it, after the cancelled calls'
 * callbacks; a faas_runtime_free() from there is a no-op.
 *
 * To stop waiting for calls in flight, call faas_runtime_stop() again.
 *
 * @param on_closed required; userdata is passed to it as is
 * @return 0; FAAS_EINVAL (NULL rt or on_closed; a runtime-owned loop: there
 *         faas_runtime_run() returns once draining is over); FAAS_EBUSY (a
 *         close was already accepted, or the runtime is being freed). On
 *         error on_closed is never called. Loop thread.
 */
FAAS_EXTERN int faas_runtime_close(faas_runtime *rt,
				   void (*on_closed)(faas_runtime *rt, void *userdata),
				   void *userdata);

/** Whether a stop was requested and every in-flight call has ended. */
FAAS_EXTERN bool faas_runtime_stopped(const faas_runtime *rt);

/**
 * Free the runtime. Calls still in flight are cancelled first (their callbacks
 * run, with status `internal_error`). Unloads shared objects once no thread
 * runs their code. With a runtime-owned loop, everything is released before it
 * returns. With a host loop, the runtime closes its handles and its memory is
 * released from their close callbacks: run the host loop once more (uv_run)
 * before uv_loop_close(). NULL is a no-op. Never call it from a libfaas
 * callback — it would free the runtime under the code that called back —
 * except from faas_runtime_close()'s on_closed.
 */
FAAS_EXTERN void faas_runtime_free(faas_runtime *rt);

/** The loop the runtime uses (the host's or its own). Borrowed. */
FAAS_EXTERN uv_loop_t *faas_runtime_loop(faas_runtime *rt);

/**
 * Write a consistent copy of the runtime's store (store_path) to path while
 * calls go on (SQLite's online backup, page by page). A runtime started
 * with store_path = that copy continues from it. Any thread; it blocks the
 * caller for the copy, and state calls wait for each step of it.
 * @return 0, FAAS_EINVAL (NULL rt or path), FAAS_ENOTSUP (the runtime has no
 *         store), FAAS_ESYSTEM (the copy failed), FAAS_ENOMEM; the message
 *         is faas_runtime_last_error(NULL) on the calling thread
 */
FAAS_EXTERN int faas_runtime_backup(faas_runtime *rt, const char *path);

/**
 * The detailed message of the last failed call on this runtime (or, with a
 * NULL rt, of the last failed faas_runtime_new() on this thread).
 * @return a borrowed string valid until the next call that fails; "" if none
 */
FAAS_EXTERN const char *faas_runtime_last_error(const faas_runtime *rt);

FAAS_END_DECLS

#endif /* FAAS_RUNTIME_H */

/*
 * libfaas — functions: a name, a handler, limits and an isolation mode.
 *
 * A function's handler is either a static pointer (opts.handler) or a symbol
 * of a shared object (opts.library + opts.symbol), loaded with
 * dlopen(RTLD_NOW | RTLD_LOCAL). Each shared object is loaded once per
 * runtime, however many functions use it, and unloaded when its last function
 * is unregistered and no thread runs its code any more.
 */
#ifndef FAAS_FN_H
#define FAAS_FN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "handler.h"
#include "runtime.h"

/** A registered function. Opaque; owned by the runtime. */
typedef struct faas_fn faas_fn;

/** Where a handler runs. */
typedef enum faas_isolation {
	/** On a worker thread of the runtime's pool (the default). A deadline is
	 *  delivered on time even if the handler never returns. */
	FAAS_ISOLATION_THREAD = 0,
	/** On the loop thread: fastest, for trusted handlers that never block. A
	 *  deadline can only be reported after the handler returns. */
	FAAS_ISOLATION_INLINE = 1,
	/** In a worker process (the faas-worker program) of the function's pool:
	 *  memory_mb caps the worker's address space, a deadline kills it, and a
	 *  crash, exit or kill ends only the call (`developer_error`, `timeout`,
	 *  `oom`). Needs library + symbol: a static handler cannot cross into
	 *  another process. */
	FAAS_ISOLATION_PROCESS = 2
} faas_isolation;

/** A seccomp filter for `process` isolation workers. */
typedef enum faas_seccomp {
	/** No filter. */
	FAAS_SECCOMP_OFF = 0,
	/** fork, vfork, clone of a new process, execve, execveat, ptrace and
	 *  socket fail with EPERM (the handler sees the error). */
	FAAS_SECCOMP_ERROR = 1,
	/** The same calls kill the worker (SIGSYS): the call ends
	 *  `developer_error`, "worker killed by signal 31 (Bad system call)". */
	FAAS_SECCOMP_KILL = 2
} faas_seccomp;

/** Process isolation defaults and bounds. */
#define FAAS_DEFAULT_PROCESS_MAX_WORKERS 4u
#define FAAS_MAX_PROCESS_WORKERS 256u
#define FAAS_DEFAULT_PROCESS_IDLE_MS 60000u
#define FAAS_DEFAULT_PROCESS_MAX_PROCESSES 64u
#define FAAS_MAX_PROCESS_MAX_PROCESSES 65536u
/** process_queue == 0: this many waiting calls per allowed worker. */
#define FAAS_DEFAULT_PROCESS_QUEUE_PER_WORKER 4u
#define FAAS_MAX_PROCESS_QUEUE 4096u

/** The version of faas_fn_options. */
#define FAAS_FN_OPTIONS_VERSION 1

/** Function options. Initialise with FAAS_FN_OPTIONS_INIT or faas_fn_options_init(). */
typedef struct faas_fn_options {
	unsigned int version;
	/** A static handler, or NULL to load library/symbol. */
	faas_handler_fn handler;
	/** Path of the shared object (with handler == NULL). Copied. */
	const char *library;
	/** Handler symbol in it; NULL means the function's name. Copied. */
	const char *symbol;
	/** Version string reported to the handler; NULL means "$LATEST". Copied. */
	const char *fn_version;
	/** 0 = the runtime default (3000); 1..900000. */
	uint32_t timeout_ms;
	/** 0 = the runtime default (128); 128..10240. */
	uint32_t memory_mb;
	/** 0 = only the runtime-wide cap; else at most this many at once. */
	unsigned int max_concurrency;
	faas_isolation isolation;
	/** Largest accepted event in bytes; 0 = 6 MB. */
	size_t payload_limit;
	/** Largest accepted serialized result in bytes; 0 = 6 MB. */
	size_t result_limit;
	/** Run the module's init at registration instead of on the first call. */
	bool prewarm;
	/** After this long without a call the module's fini runs and the next call
	 *  is cold again; 0 = stay warm until unregistered. */
	uint32_t keep_warm_ms;
	/** State key namespace; NULL = the function's name, "" = no prefix. Copied. */
	const char *state_namespace;
	/** `process` isolation: workers kept alive even when idle (0..max). */
	unsigned int process_min_workers;
	/** `process`: most workers at once; 0 = max_concurrency, or
	 *  FAAS_DEFAULT_PROCESS_MAX_WORKERS when that is 0. A call that finds every
	 *  worker busy and the pool full waits in the function's queue (see
	 *  process_queue). At most FAAS_MAX_PROCESS_WORKERS. */
	unsigned int process_max_workers;
	/** `process`: workers started at registration, with the module's init run
	 *  there, so their first call is warm (0..max; `prewarm` means at least 1;
	 *  process_min_workers are prewarmed too). Registration then waits for
	 *  their init, running the runtime's loop the way faas_invoke_sync() does
	 *  (bounded by timeout_ms), and returns FAAS_EINIT with the init's message
	 *  if it fails: do not register such a function from inside a callback of
	 *  a host's loop (inside faas_runtime_run the wait is skipped and a failed
	 *  init shows as the backoff instead). */
	unsigned int process_prewarm;
	/** `process`: an idle worker above the minimum is stopped after this long;
	 *  0 = FAAS_DEFAULT_PROCESS_IDLE_MS. */
	uint32_t process_idle_ms;
	/** `process`: the worker's seccomp filter, installed before it loads the
	 *  library (x86-64 and aarch64 Linux; elsewhere registration fails with
	 *  FAAS_ENOTSUP). Default FAAS_SECCOMP_OFF. */
	faas_seccomp process_seccomp;
	/** `process`: processes and threads a worker's handler may start, beyond
	 *  the worker itself; 0 = FAAS_DEFAULT_PROCESS_MAX_PROCESSES, at most
	 *  FAAS_MAX_PROCESS_MAX_PROCESSES. Set as RLIMIT_NPROC, which counts every
	 *  task of the user and does not apply to root: where it cannot be
	 *  enforced the first call on each worker says so in its log. */
	unsigned int process_max_processes;
	/** `process`: calls that may wait, oldest first, for a worker when every
	 *  worker is busy and the pool is full; each waits within its deadline
	 *  (from admission): one still waiting then ends `timeout`, unstarted and
	 *  unbilled. A call that finds the queue full is `throttled`. 0 =
	 *  FAAS_DEFAULT_PROCESS_QUEUE_PER_WORKER x the most workers (at most
	 *  FAAS_MAX_PROCESS_QUEUE); 1..FAAS_MAX_PROCESS_QUEUE. */
	unsigned int process_queue;
} faas_fn_options;

#define FAAS_FN_OPTIONS_INIT                                                   \
	{                                                                      \
		FAAS_FN_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, 0, 0,      \
		FAAS_ISOLATION_THREAD, 0, 0, false, 0, NULL, 0, 0, 0, 0,       \
		FAAS_SECCOMP_OFF, 0, 0                                         \
	}

/** Upper bounds (ms) of the duration histogram buckets; a last bucket is +Inf. */
#define FAAS_DURATION_BUCKETS_MS {1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000}
#define FAAS_DURATION_BUCKET_COUNT 14

/** The version of faas_fn_stats. */
#define FAAS_FN_STATS_VERSION 2

/**
 * Counters of one function since registration, for hosts and metrics.
 * faas_fn_stats_get() writes the whole struct, version included: the caller
 * need not set anything. Later versions add fields by taking slots of
 * `reserved`, so the size stays the same; `version` says which fields the
 * linked library filled.
 */
typedef struct faas_fn_stats {
	unsigned int version; /**< FAAS_FN_STATS_VERSION of the library that wrote it */
	uint64_t activations[FAAS_STATUS_COUNT]; /**< completed, by status */
	uint64_t cold_starts;
	/** Started calls whose duration was <= each FAAS_DURATION_BUCKETS_MS
	 *  bound (not cumulative; the last counts the rest). */
	uint64_t duration_buckets[FAAS_DURATION_BUCKET_COUNT];
	uint64_t duration_us_sum;
	unsigned int in_flight;
	/** 1 while its calls fail fast because its module init keeps failing
	 *  (process isolation, between retries); 0 otherwise. Since version 2,
	 *  in what was padding: the size is unchanged. */
	unsigned int unhealthy;
	uint64_t reserved[8]; /**< zero; later versions use it */
} faas_fn_stats;

FAAS_BEGIN_DECLS

/**
 * Fill opts with the defaults (the same bytes as FAAS_FN_OPTIONS_INIT).
 * @return 0 or FAAS_EINVAL. Any thread.
 */
FAAS_EXTERN int faas_fn_options_init(faas_fn_options *opts, unsigned int version);

/**
 * Register a function.
 * @param out receives a borrowed handle valid until faas_fn_unregister()
 *        (may be NULL)
 * @param name 1..128 characters of [A-Za-z0-9_.-]; copied
 * @return 0; FAAS_EINVAL (bad name or option: the message names the option and
 *         its range); FAAS_EEXIST; FAAS_ELOAD (dlopen failed: the message has
 *         dlerror()'s text); FAAS_ESYMBOL; FAAS_EMODULE (no descriptor);
 *         FAAS_EABI (both versions in the message); FAAS_EINIT (prewarm init
 *         failed); FAAS_ESTOPPED; FAAS_ENOMEM
 */
FAAS_EXTERN int faas_fn_register(faas_fn **out, faas_runtime *rt, const char *name,
				 const faas_fn_options *opts);

/**
 * Unregister a function by name. New invocations of it fail at once with
 * FAAS_ENOTFOUND; calls in flight finish normally.
 * @return 0, FAAS_ENOTFOUND, FAAS_EINVAL
 */
FAAS_EXTERN int faas_fn_unregister(faas_runtime *rt, const char *name);

/**
 * Find a registered function.
 * @return a borrowed handle, or NULL
 */
FAAS_EXTERN faas_fn *faas_fn_lookup(faas_runtime *rt, const char *name);

/**
 * Enable or disable a function; invocations of a disabled one are `rejected`.
 * @return 0 or FAAS_EINVAL
 */
FAAS_EXTERN int faas_fn_set_enabled(faas_fn *fn, bool enabled);

/** The function's name. Borrowed, lives with fn. */
FAAS_EXTERN const char *faas_fn_name(const faas_fn *fn);

/** Whether the function's module is initialised (a call now would be warm). */
FAAS_EXTERN bool faas_fn_warm(const faas_fn *fn);

/** Calls of this function now in flight. */
FAAS_EXTERN unsigned int faas_fn_in_flight(const faas_fn *fn);

/**
 * Read the function's counters.
 * @param out written whole (version = FAAS_FN_STATS_VERSION, reserved zero);
 *        its input contents are ignored
 * @return 0 or FAAS_EINVAL
 */
FAAS_EXTERN int faas_fn_stats_get(faas_fn_stats *out, const faas_fn *fn);

/**
 * Visit every registered function, newest first. Stops early if visit
 * returns non-zero. @return 0, FAAS_EINVAL, or visit's non-zero value
 */
FAAS_EXTERN int faas_fn_foreach(faas_runtime *rt, int (*visit)(faas_fn *fn, void *userdata),
				void *userdata);

FAAS_END_DECLS

#endif /* FAAS_FN_H */

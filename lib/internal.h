/*
 * libfaas — internal declarations shared by lib/ files. Names are faas__.
 *
 * Ownership in one paragraph. The runtime owns functions (faas_fn), which own
 * a reference to their shared object (faas__lib). Every in-flight call is a
 * faas_ctx; it holds a reference to its function, so a function unregistered
 * while calls run stays alive until they end. A ctx is reference counted
 * because two threads may hold it: the loop (until the callback has run) and
 * the worker running its handler (until the handler returns, which after a
 * timeout may be much later — or never). A worker never touches the runtime
 * after its call was abandoned, only the ctx, its function and the pool, which
 * are all reference counted for that reason.
 */
#ifndef FAAS_INTERNAL_H
#define FAAS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "faas.h"
#include "faas/trigger.h"

/* Limits that are not options. */
#define FAAS__ERRMSG_SIZE 512
#define FAAS__NAME_MAX 128
#define FAAS__ID_LEN 32

/* Error types, shared with Lambda's vocabulary where it has a word. */
#define FAAS__ERR_TIMEOUT "Sandbox.Timedout"
#define FAAS__ERR_OOM "Runtime.OutOfMemory"
#define FAAS__ERR_INIT "Runtime.InitError"
#define FAAS__ERR_RESULT_SIZE "Function.ResponseSizeTooLarge"
#define FAAS__ERR_THROTTLED "TooManyRequestsException"
#define FAAS__ERR_PAYLOAD_SIZE "RequestEntityTooLargeException"
#define FAAS__ERR_DISABLED "Function.Disabled"
#define FAAS__ERR_BUDGET "Billing.BudgetExceeded"
#define FAAS__ERR_BILLING "Billing.Rejected"
#define FAAS__ERR_CANCELED "Runtime.Canceled"
#define FAAS__ERR_INTERNAL "Runtime.InternalError"
#define FAAS__ERR_DEFAULT "Error"
#define FAAS__ERR_EXIT "Runtime.ExitError"

/* ---- time (clock.c is too small a concern: these live in activation.c) ---- */
uint64_t faas__now_ns(void);      /* CLOCK_MONOTONIC */
uint64_t faas__wall_us(void);     /* CLOCK_REALTIME */

/* ---- errors ---- */
int faas__fail(faas_runtime *rt, int err, const char *fmt, ...) FAAS_PRINTF(3, 4);
char *faas__strdup(const char *s);
/* 1..FAAS__NAME_MAX characters of [A-Za-z0-9_.-]: function and trigger names. */
bool faas__valid_name(const char *name);

/* ---- ids (id.c) ---- */
typedef struct faas__idgen {
	uint64_t key_lo, key_hi, counter;
} faas__idgen;
int faas__idgen_init(faas__idgen *g);
void faas__idgen_next(faas__idgen *g, char out[FAAS__ID_LEN + 1]);

/* ---- shared objects (module.c) ---- */
typedef struct faas__lib {
	atomic_int refs;        /* registry + functions alive */
	char *path;
	void *dl;
	const faas_module *mod;
	pthread_mutex_t init_mu; /* one init or fini at a time */
	atomic_bool warm;
	atomic_uint running;    /* calls dispatched and not yet returned */
	unsigned int nfns;      /* registered functions (loop thread) */
	uint64_t last_used_ns;  /* loop thread */
	uint32_t keep_warm_ms;  /* largest of its functions'; 0 = forever */
	struct faas__lib *next; /* registry list (loop thread) */
} faas__lib;

int faas__lib_acquire(faas__lib **out, faas_runtime *rt, const char *path);
void faas__lib_release(faas__lib *lib);
void faas__lib_unregister_fn(faas_runtime *rt, faas__lib *lib);
/* Run init if cold. Returns 0, or init's non-zero value. *init_us and *cold set. */
int faas__lib_warm_up(faas__lib *lib, uint64_t *init_us, bool *cold);
/* Run fini if warm and idle: loop thread, running == 0. */
void faas__lib_cool_down(faas__lib *lib);
void faas__reaper_schedule(faas_runtime *rt, faas__lib *lib);
/* Loop: cool a module whose idle time has passed even if the reaper is late. */
bool faas__lib_expire_if_idle(faas__lib *lib);

/* ---- functions (fn.c) ---- */
struct faas_fn {
	atomic_int refs;       /* registry + in-flight calls */
	faas_runtime *rt;      /* valid while registered (loop thread use only) */
	char *name;
	char *fn_version;
	char *state_ns;        /* "" for none; else "<ns>/" */
	faas_handler_fn handler;
	faas__lib *lib;        /* NULL for a static handler */
	uint32_t timeout_ms;
	uint32_t memory_mb;
	unsigned int max_concurrency;
	faas_isolation isolation;
	size_t payload_limit;
	size_t result_limit;
	uint32_t keep_warm_ms;
	bool enabled;
	atomic_bool static_warm; /* static handlers: only the first call is cold */
	unsigned int in_flight; /* loop thread */
	struct faas__proc_pool *proc; /* process isolation: its worker pool */
	faas_fn_stats stats;    /* loop thread; in_flight is filled on read */
	struct faas_fn *next;   /* registry list (loop thread) */
};

void faas__fn_release(faas_fn *fn);
/* Loop: count a completed activation in the function's stats. */
void faas__fn_count(faas_fn *fn, const faas_usage *u, bool started);
void faas__fn_unregister_all(faas_runtime *rt);

/* ---- the call context (ctx.c) ---- */
enum faas__call_state {
	FAAS__QUEUED = 0,
	FAAS__RUNNING,
	FAAS__DONE,      /* the worker finished and owns the right to complete */
	FAAS__ABANDONED  /* the loop completed it (timeout, cancel); late results are dropped */
};

struct faas_ctx {
	atomic_int refs;
	atomic_int state;
	atomic_bool cancelled;
	faas_runtime *rt; /* loop side only */
	faas_fn *fn;
	faas_state_backend *state_backend;
	char id[FAAS__ID_LEN + 1];

	/* event: caller's (inline faas_invoke), owned parse, or text parsed by the worker */
	const cJSON *event;
	cJSON *event_owned;
	char *payload;
	size_t payload_len;
	cJSON *result;
	int handler_rc;
	bool init_failed;
	bool result_too_big;
	bool internal_failure;

	/* error set by faas_ctx_error */
	char *err_type;
	char *err_msg;

	/* time: one wall-clock read at admission; the rest is monotonic */
	uint64_t admitted_wall_us;
	uint64_t admitted_ns;
	atomic_uint_fast64_t started_ns; /* 0 until the handler (or init) starts */
	uint64_t deadline_ns;            /* loop: heap key */
	/* Set (release) by the executing thread once init is over, so the loop
	 * may read cold and init_us after seeing it non-zero. */
	atomic_uint_fast64_t handler_start_ns;
	uint64_t finished_ns;
	atomic_uint_fast64_t cpu_start_ns;
	uint64_t cpu_ns;           /* written by the executing thread */
	uint64_t abandoned_cpu_ns; /* written by the loop when it abandons the call */

	/* memory accounting */
	uint64_t mem_limit;
	atomic_uint_fast64_t mem_used;
	atomic_uint_fast64_t mem_peak;
	atomic_bool oom;

	/* logs */
	pthread_mutex_t log_mu;
	char *log;
	size_t log_len, log_cap, log_limit, log_dropped;

	/* usage pieces */
	uint64_t init_us;
	bool cold;
	uint64_t bytes_in, bytes_out;

	/* worker side */
	void *proc_worker; /* process isolation: the worker running it (loop) */
	pthread_t thread;
	bool retired;

	/* loop side */
	faas_invoke_cb cb;
	void *userdata;
	faas_activation *act;               /* allocated up front: completion cannot fail */
	size_t heap_index;                  /* deadline heap slot, SIZE_MAX if none */
	struct faas_ctx *prev, *next;        /* in-flight list */
	struct faas_ctx *queue_next;         /* executor job and done queues (pool mutex) */
	struct faas_ctx *deliver_next;       /* callbacks pending on the loop; a separate
						link, as an abandoned call may still sit
						in the executor's queue */
};

int faas__ctx_new(faas_ctx **out, faas_runtime *rt, faas_fn *fn);
void faas__ctx_release(faas_ctx *ctx);
void faas__ctx_set_error(faas_ctx *ctx, const char *type, const char *fmt, ...)
	FAAS_PRINTF(3, 4);
/* Run the handler on the current thread with accounting on: the executors'
 * core. now_ns is the current monotonic time (the caller usually has it). */
void faas__ctx_execute(faas_ctx *ctx, uint64_t now_ns);
void faas__alloc_hooks_install(void);

/* ---- activations (activation.c) ---- */
struct faas_activation {
	atomic_int refs;
	char id[FAAS__ID_LEN + 1];
	char *function;
	faas_status status;
	cJSON *result;
	char *error_type;
	char *error_message;
	char *logs;
	uint64_t start_us, end_us;
	faas_usage usage;
	bool started;
};

faas_activation *faas__activation_new(const char *id, const char *function);
void faas__activation_set_error(faas_activation *act, const char *type, const char *msg);

/* ---- activation store (store.c) ---- */
typedef struct faas__store {
	faas_activation **ring;
	size_t capacity, head, count;
} faas__store;
int faas__store_init(faas__store *s, size_t capacity);
void faas__store_put(faas__store *s, faas_activation *act);
void faas__store_free(faas__store *s);

/* ---- billing (billing.c) ---- */
int faas__billing_default_new(faas_billing_hook **out, const faas_pricing *pricing);
bool faas__billing_is_default(const faas_billing_hook *hook);
uint64_t faas__billed_ms(uint64_t duration_us, uint32_t granularity_ms);

/* ---- logs (log.c) ---- */
void faas__log_emit(faas_runtime *rt, const faas_activation *act, const char *fn_version);

/* ---- thread executor (executor_thread.c) ---- */
typedef struct faas__pool faas__pool;
int faas__pool_new(faas__pool **out, unsigned int threads, unsigned int max_stuck,
		   void (*notify)(void *), void *notify_arg);
void faas__pool_submit(faas__pool *pool, faas_ctx *ctx);
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

/* ---- process executor (executor_process.c) ---- */
typedef struct faas__proc_pool faas__proc_pool;
/* Create fn's worker pool and start its prewarmed workers (loop thread). */
int faas__proc_pool_new(faas__proc_pool **out, faas_runtime *rt, faas_fn *fn,
			const faas_fn_options *o);
/* The function is unregistered: stop idle workers now, busy ones after their
 * call; the pool frees itself once its last handle closed. */
void faas__proc_pool_close(faas__proc_pool *pool);
/* Give ctx to a worker. 0, FAAS_EBUSY (every worker busy, none may be added)
 * or FAAS_ESYSTEM/FAAS_ENOMEM; on error ctx is untouched. */
int faas__proc_submit(faas__proc_pool *pool, faas_ctx *ctx);
/* Deadline or cancel: kill ctx's worker and take the call back. */
bool faas__proc_abandon(faas_ctx *ctx, bool *was_running);
bool faas__proc_warm(const faas__proc_pool *pool);
/* Loop: a process call ended; complete it like a finished thread call (type
 * NULL: ctx holds the outcome) or with this status and error. */
void faas__call_complete(faas_runtime *rt, faas_ctx *ctx, faas_status status, const char *type,
			 const char *msg);
/* Append one line of handler output to the call's bounded log. */
void faas__ctx_log_line(faas_ctx *ctx, const char *line, size_t len);

/* ---- deadline heap (invoke.c) and runtime internals (runtime.c) ---- */
typedef struct faas__heap {
	faas_ctx **items;
	size_t len, cap;
} faas__heap;

struct faas_runtime {
	uv_loop_t *loop;
	uv_loop_t own_loop;
	bool owns_loop;
	faas_runtime_options opts;
	char last_error[FAAS__ERRMSG_SIZE];

	faas_fn *fns;
	faas__lib *libs;
	faas_trigger *triggers;
	faas__pool *pool;
	faas__idgen ids;
	faas__store store;
	faas__heap deadlines;

	faas_billing_hook *billing;
	bool owns_billing;
	faas_state_backend *state;
	bool owns_state;

	uv_async_t async;       /* workers → loop */
	uv_idle_t idle;         /* deliver loop-local completions */
	uv_timer_t deadline_timer;
	uv_timer_t drain_timer;
	uv_timer_t reaper;
	int open_handles;

	faas_ctx *inflight;     /* doubly linked */
	unsigned int n_inflight;
	faas_ctx *deliver_head, *deliver_tail; /* completed, callback pending */

	char *print_buf;        /* loop-thread scratch for sizing events */
	size_t print_cap;

	faas_runtime_stats stats;
	bool stopping, stopped, freeing, running;
};

/* faas_invoke with the in-flight ctx handed back (borrowed until the callback
 * has run) so a trigger can cancel it, e.g. when an HTTP client goes away.
 * FAAS__JSON_TRUSTED marks json text that libfaas wrote itself: a worker
 * parses it, instead of the loop checking it first. */
#define FAAS__JSON_TRUSTED 0x1u
int faas__invoke(faas_runtime *rt, const char *function, const cJSON *event, const char *json,
		 size_t json_len, unsigned int flags, faas_invoke_cb cb, void *userdata,
		 faas_ctx **ctx_out);
/* Any thread: ask a call to stop (faas_ctx_cancelled() turns true). */
void faas__ctx_cancel(faas_ctx *ctx);

/* ---- triggers and rules (trigger.c); kinds in trigger_<kind>.c ---- */
typedef struct faas__trigger_ops {
	const char *kind;
	/* The runtime is stopping: stop producing events (HTTP answers 503). May be NULL. */
	void (*stop)(faas_trigger *t);
	/* Close every handle; once the last close callback ran, call
	 * faas__trigger_closed(t). */
	void (*close)(faas_trigger *t);
	/* Free the kind's own memory (t itself included) once nothing refers to it. */
	void (*destroy)(faas_trigger *t);
	/* Check a rule's route and parse it into *data (NULL route for kinds
	 * without routes). May be NULL: then a route is refused. */
	int (*route_parse)(faas_trigger *t, const char *route, void **data);
	void (*route_free)(void *data);
} faas__trigger_ops;

struct faas_trigger {
	const faas__trigger_ops *ops;
	faas_runtime *rt;
	char *name;
	unsigned int refs;       /* the runtime until closed, + one per rule */
	faas_rule *rules;        /* in creation order */
	faas_trigger_stats stats;
	bool closing;
	struct faas_trigger *next;
};

struct faas_rule {
	faas_trigger *trigger;
	char *function;
	char *route;             /* as given, or NULL */
	void *route_data;        /* the kind's parse of it */
	bool enabled;
	bool linked;             /* still in its trigger's list */
	unsigned int refs;       /* the trigger's list + one per invocation in flight */
	unsigned int in_flight;
	struct faas_rule *next;
};

/* Kind constructors call this first: checks the name, links t into the runtime. */
int faas__trigger_init(faas_trigger *t, const faas__trigger_ops *ops, faas_runtime *rt,
		       const char *name);
/* Undo faas__trigger_init for a trigger whose kind failed to start (no handle open). */
void faas__trigger_abort(faas_trigger *t);
void faas__trigger_closed(faas_trigger *t);
void faas__triggers_stop(faas_runtime *rt);
void faas__triggers_close(faas_runtime *rt);

/* Fire one rule: invoke its function with event (or JSON text). On success
 * done runs later on the loop with the activation (err 0), exactly once, and
 * the rule stays alive until it returns. If the invocation cannot even be
 * accepted, the error is returned (and counted) and done is never called. */
typedef void (*faas__rule_done_fn)(faas_rule *rule, const faas_activation *act, int err,
				   void *arg);
int faas__rule_fire(faas_rule *rule, const cJSON *event, const char *json, size_t json_len,
		    faas__rule_done_fn done, void *arg, faas_ctx **ctx_out);
void faas__runtime_handle_closed(faas_runtime *rt);
void faas__deliver_pending(faas_runtime *rt);
void faas__runtime_maybe_stopped(faas_runtime *rt);
void faas__cancel_all(faas_runtime *rt);
void faas__finish_list(faas_runtime *rt, faas_ctx *list);
void faas__on_pool_notify(uv_async_t *h);
void faas__on_deadline(uv_timer_t *t);

/* ---- metrics (http_metrics.c), served by http_api.c ---- */
#define FAAS__METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
/* The runtime's counters in the Prometheus text format; *out is malloc'd and
 * the caller's. Returns 0, FAAS_EINVAL or FAAS_ENOMEM (also past the size cap). */
int faas__metrics_render(char **out, size_t *len, faas_runtime *rt);

#endif /* FAAS_INTERNAL_H */

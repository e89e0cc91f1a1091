/*
 * libfaas call — functions, their shared objects (dlopen, ABI, warm/cool),
 * the call context (faas_ctx) with its memory accounting, logs and state.
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
#ifndef FAAS_LIB_CALL_CALL_H
#define FAAS_LIB_CALL_CALL_H

#include "core.h"

/* ---- shared objects (module.c) ---- */
struct faas__lib {
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
};

int faas__lib_acquire(faas__lib **out, faas_runtime *rt, const char *path);
void faas__lib_release(faas__lib *lib);
void faas__lib_unregister_fn(faas_runtime *rt, faas__lib *lib);
/* Run init if cold. Returns 0, or init's non-zero value. *init_us and *cold set. */
int faas__lib_warm_up(faas__lib *lib, uint64_t *init_us, bool *cold);
/* Run fini if warm and idle: loop thread, running == 0. */
void faas__lib_cool_down(faas__lib *lib);
void faas__reaper_schedule(faas_runtime *rt, faas__lib *lib);
/* The reaper's timer: runtime creation and free. */
void faas__reaper_init(faas_runtime *rt);
void faas__reaper_close(faas_runtime *rt);
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
	struct faas__proc_pool *proc; /* exec/'s: the process executor's worker pool */
	/* exec/'s, under the pool mutex: the thread pool's queue of this
	 * function's calls. Every queued ctx holds a reference on the function,
	 * so it stays alive while it is in the pool's ring (it leaves the ring
	 * with its last queued call). */
	struct {
		struct faas_ctx *head, *tail; /* calls waiting for a thread, FIFO */
		struct faas_fn *next;         /* the pool's ring of functions with waiting calls */
		unsigned int stuck;           /* its calls retired at a deadline, still running */
		bool in_ring;
	} threadq;
	const struct faas__exec_ops *exec; /* its executor, set at registration (invoke/) */
	/* exec/'s, loop thread: why its calls fail fast while its module init
	 * keeps failing (process isolation's backoff); NULL while healthy. */
	const char *unhealthy;
	faas_fn_stats stats;    /* loop thread; in_flight is filled on read */
	struct faas_fn *next;   /* registry list (loop thread) */
};

/* The number of isolation modes (faas_isolation's values are 0..N-1). */
#define FAAS__ISOLATION_COUNT 3

/* Check options that do not depend on the executor; 0 or an error (message set). */
int faas__fn_check(faas_runtime *rt, const char *name, const faas_fn_options *o);
/* A new function object, not yet linked or loaded (static handlers are set). */
int faas__fn_new(faas_fn **out, faas_runtime *rt, const char *name, const faas_fn_options *o);
/* Load the handler into the host (dlopen, dlsym, keep-warm, prewarm init). */
int faas__fn_load(faas_fn *fn, const faas_fn_options *o);
/* Whether the host-loaded handler is warm (its module initialised). */
bool faas__fn_loaded_warm(const faas_fn *fn);
/* Link into the registry; unlink (and drop the registry's reference). */
void faas__fn_link(faas_fn *fn);
void faas__fn_unlink(faas_fn *fn);
/* Free a function that was never linked. */
void faas__fn_discard(faas_fn *fn);
void faas__fn_release(faas_fn *fn);
/* Loop: count a completed activation in the function's stats. */
void faas__fn_count(faas_fn *fn, const faas_usage *u, bool started);

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
	uint64_t deadline_ns;            /* admission + timeout, the deadline heap's key: set
					  * on the loop before submit and fixed after, so a
					  * pool thread may read it */
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

	/* The executor's own, per call: nobody outside exec/ reads these. */
	union {
		void *worker;                 /* process: its worker, or its queue entry while QUEUED */
		struct {
			struct faas_ctx *next; /* the pool's job and done queues */
			pthread_t id;         /* the pool thread running it */
			bool retired;         /* written off at its deadline */
		} thread;
	} exec;

	/* loop side */
	faas_invoke_cb cb;
	void *userdata;
	faas_activation *act;               /* allocated up front: completion cannot fail */
	faas__heap_node deadline_node;      /* in rt->deadlines while guarded */
	struct faas_ctx *prev, *next;        /* in-flight list */
	faas__deferred deliver;             /* the callback pending on the loop; apart
						from exec.thread.next, as an abandoned call
						may still sit in the executor's queue */
};

int faas__ctx_new(faas_ctx **out, faas_runtime *rt, faas_fn *fn);
void faas__ctx_release(faas_ctx *ctx);
void faas__ctx_set_error(faas_ctx *ctx, const char *type, const char *fmt, ...)
	FAAS_PRINTF(3, 4);
/* Run the handler on the current thread with accounting on: the executors'
 * core. now_ns is the current monotonic time (the caller usually has it). */
void faas__ctx_execute(faas_ctx *ctx, uint64_t now_ns, bool on_loop);
void faas__alloc_hooks_install(void);
/* Any thread: ask a call to stop (faas_ctx_cancelled() turns true). */
void faas__ctx_cancel(faas_ctx *ctx);
/* The same as a callback taking the ctx as void * (an HTTP client went away). */
void faas__ctx_cancel_cb(void *ctx);

/* Append one line of handler output to the call's bounded log. */
void faas__ctx_log_line(faas_ctx *ctx, const char *line, size_t len);

/* The call's state key as its backend sees it ("<namespace>/<key>"),
 * malloc'd into *out, after the checks faas_state_* make: 0, FAAS_EINVAL
 * (NULL ctx, an empty or too long key) or FAAS_ENOMEM. */
int faas__state_scoped_key(const faas_ctx *ctx, const char *key, char **out);

#endif /* FAAS_LIB_CALL_CALL_H */

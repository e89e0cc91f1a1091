/*
 * libfaas core — what every layer above shares: limits and error types,
 * errors and the last-error message, activation records and their bounded
 * store, and the runtime record itself.
 *
 * struct faas_runtime is one record with a section per layer, like libuv's
 * uv_loop_t: each field is written only by the layer its section names
 * (others may read it). Fields that point to a higher layer's objects use
 * incomplete types, so this header depends on nothing above it.
 */
#ifndef FAAS_LIB_CORE_CORE_H
#define FAAS_LIB_CORE_CORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "faas.h"
#include "faas/trigger.h"

#include "clock.h"
#include "heap.h"
#include "id.h"
#include "loop.h"

/* Limits that are not options. */
#define FAAS__ERRMSG_SIZE 512
#define FAAS__NAME_MAX 128

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
/* Throttled by the thread pool's containment (exec/pool.c): the function has
 * too many calls stuck past their deadlines, or no thread is left at all. */
#define FAAS__ERR_FN_STUCK "Runtime.FunctionStuck"
#define FAAS__ERR_NO_THREADS "Runtime.NoThreadAvailable"

/* ---- errors ---- */
int faas__fail(faas_runtime *rt, int err, const char *fmt, ...) FAAS_PRINTF(3, 4);
char *faas__strdup(const char *s);
/* 1..FAAS__NAME_MAX characters of [A-Za-z0-9_.-]: function and trigger names. */
bool faas__valid_name(const char *name);

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

/* ---- the runtime record ---- */

typedef struct faas__lib faas__lib;       /* call/ */
typedef struct faas__pool faas__pool;     /* exec/ */
struct faas__outcome;                    /* exec/ */


struct faas_runtime {
	/* core: the loop, options, errors, ids, activations, lifecycle */
	uv_loop_t *loop;
	uv_loop_t own_loop;
	bool owns_loop;
	faas_runtime_options opts;
	char last_error[FAAS__ERRMSG_SIZE];
	faas__idgen ids;
	faas__store store;
	int open_handles;            /* loop.c */
	faas__defer_queue deferred;  /* loop.c */
	faas_runtime_stats stats;    /* activation counts (invoke/ writes) */
	bool stopping, stopped, freeing, running; /* runtime/ writes; stopped: invoke/ too */

	/* hooks: billing and state backends */
	faas_billing_hook *billing;
	bool owns_billing;
	faas_state_backend *state;
	bool owns_state;
	/* The store (store_path), the runtime's to close; NULL without one. */
	faas_store_backend *db;
	/* Whether a state call may block (any backend but the built-in memory
	 * one): then the loop hands it to libuv's threadpool. */
	bool state_may_block;

	/* call: registered functions and their shared objects */
	faas_fn *fns;
	faas__lib *libs;
	uv_timer_t reaper;           /* cools idle modules */

	/* exec: the executors' own state */
	faas__pool *pool;            /* the thread executor */
	uv_async_t pool_async;       /* thread pool -> loop */
	void (*exec_done)(faas_runtime *rt, faas_ctx *ctx, const struct faas__outcome *o);
	/* Set by a submit that returns FAAS_EBUSY for a reason with an error type
	 * of its own (a static string); NULL means FAAS__ERR_THROTTLED. invoke/
	 * reads and clears it. */
	const char *exec_refusal;

	/* invoke: calls in flight, deadlines, drain */
	faas_ctx *inflight;          /* doubly linked */
	unsigned int n_inflight;
	faas__heap deadlines;        /* of faas_ctx, by deadline_ns */
	uv_timer_t deadline_timer;
	void (*deadline_expired)(faas_runtime *rt, faas_ctx *ctx); /* set by invoke/admission.c */
	uv_timer_t drain_timer;
	char *print_buf;             /* scratch for sizing events */
	size_t print_cap;

	/* trigger: every trigger */
	faas_trigger *triggers;

	/* runtime: keeps the loop alive while faas_runtime_run waits */
	uv_async_t keepalive;
	/* runtime: faas_runtime_close. on_stopped is set by runtime/ and called
	 * by invoke/ when stopped turns true, so invoke/ never calls upward. */
	void (*on_stopped)(faas_runtime *rt);
	void (*on_closed)(faas_runtime *rt, void *userdata); /* pending until run */
	void *closed_userdata;
	faas__deferred closed_deferred;
	bool closing;                /* faas_runtime_close was accepted */
	bool in_free;                /* inside faas_runtime_free: a nested call is a no-op */
};

#endif /* FAAS_LIB_CORE_CORE_H */

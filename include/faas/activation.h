/*
 * libfaas — activations: the record of one invocation, its status and usage.
 *
 * An activation is immutable once complete. The runtime keeps the newest ones
 * in a bounded store (runtime option activation_capacity; the oldest is
 * evicted). Activations are reference counted: a pointer handed to a callback
 * is borrowed for the callback's duration; faas_activation_dup() keeps it
 * longer, and every `**out` activation is the caller's, released with
 * faas_activation_free(). Getters may be called from any thread; the store
 * (faas_activation_lookup, faas_activation_list) only from the loop thread.
 */
#ifndef FAAS_ACTIVATION_H
#define FAAS_ACTIVATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common.h"

/** How an activation ended; see DESIGN.md "Statuses". */
typedef enum faas_status {
	FAAS_STATUS_SUCCESS = 0,        /**< handler returned 0 */
	FAAS_STATUS_APPLICATION_ERROR,  /**< handler returned faas_ctx_error() */
	FAAS_STATUS_DEVELOPER_ERROR,    /**< init failed, bad result, result too large */
	FAAS_STATUS_TIMEOUT,            /**< deadline passed */
	FAAS_STATUS_OOM,                /**< memory limit exceeded */
	FAAS_STATUS_THROTTLED,          /**< concurrency cap reached; never started */
	FAAS_STATUS_REJECTED,           /**< payload too large, budget, disabled; never started */
	FAAS_STATUS_INTERNAL_ERROR      /**< libfaas failed, or the runtime stopped first */
} faas_status;

/** Number of statuses (for arrays indexed by status). */
#define FAAS_STATUS_COUNT 8

/**
 * The usage of one invocation: what the billing hook receives and what the
 * REPORT line prints. Plain data, filled by libfaas.
 */
typedef struct faas_usage {
	uint64_t duration_us;      /**< handler run time (init excluded) */
	uint64_t billed_ms;        /**< duration rounded up to the billing granularity; 0 if not billed */
	uint64_t init_us;          /**< module init time on a cold start, else 0; never billed */
	uint32_t memory_mb;        /**< the function's memory limit (Memory Size) */
	uint64_t max_memory_bytes; /**< peak of the call's memory accounting (Max Memory Used) */
	uint64_t cpu_us;           /**< CPU time of the thread that ran the handler */
	uint64_t bytes_in;         /**< event payload size */
	uint64_t bytes_out;        /**< serialized result size */
	bool cold;                 /**< this call ran the module's init */
	faas_status status;        /**< the activation's status */
} faas_usage;

/** One completed invocation. */
typedef struct faas_activation faas_activation;

FAAS_BEGIN_DECLS

/** The status's name as DESIGN.md spells it ("success", "oom", ...); "unknown" otherwise. */
FAAS_EXTERN const char *faas_status_name(faas_status status);

/** Whether a status is billed (DESIGN.md's "billed" column: started and not internal). */
FAAS_EXTERN bool faas_status_billed(faas_status status);

/** The activation id: 32 lowercase hex digits (128 bits). Borrowed, lives with act. */
FAAS_EXTERN const char *faas_activation_id(const faas_activation *act);

/** The function's name. Borrowed, lives with act. */
FAAS_EXTERN const char *faas_activation_function(const faas_activation *act);

/** The status. */
FAAS_EXTERN faas_status faas_activation_status(const faas_activation *act);

/** The result on success (a JSON null if the handler left it NULL), else NULL. Borrowed. */
FAAS_EXTERN const cJSON *faas_activation_result(const faas_activation *act);

/** The error type ("BadInput", "Sandbox.Timedout", "Runtime.OutOfMemory", ...)
 *  or NULL on success. Borrowed. */
FAAS_EXTERN const char *faas_activation_error_type(const faas_activation *act);

/** The error message or NULL on success. Borrowed. */
FAAS_EXTERN const char *faas_activation_error_message(const faas_activation *act);

/** The handler's log lines, newline-separated ("" if none). Borrowed. */
FAAS_EXTERN const char *faas_activation_logs(const faas_activation *act);

/** Start time, microseconds since the Unix epoch (admission time if never started). */
FAAS_EXTERN uint64_t faas_activation_start_us(const faas_activation *act);

/** End time, microseconds since the Unix epoch. */
FAAS_EXTERN uint64_t faas_activation_end_us(const faas_activation *act);

/** The usage. Borrowed, lives with act. */
FAAS_EXTERN const faas_usage *faas_activation_usage(const faas_activation *act);

/** Whether the invocation started (false for throttled and rejected ones). */
FAAS_EXTERN bool faas_activation_started(const faas_activation *act);

/**
 * Format the activation's REPORT line, Lambda's way:
 * "REPORT RequestId: <id>\tDuration: 1.32 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
 *  Max Memory Used: 1 MB[\tInit Duration: 3.10 ms]".
 *
 * @return the length the full line needs (snprintf's rule), or FAAS_EINVAL
 */
FAAS_EXTERN int faas_activation_format_report(char *buf, size_t size,
					      const faas_activation *act);

/**
 * Take a reference to an activation.
 * @return act (NULL if act is NULL). Any thread may call it.
 */
FAAS_EXTERN faas_activation *faas_activation_dup(const faas_activation *act);

/** Release a reference. NULL is a no-op. Any thread may call it. */
FAAS_EXTERN void faas_activation_free(faas_activation *act);

/**
 * Look up a kept activation by id. Loop thread.
 * @param out receives a new reference; release it with faas_activation_free()
 * @return 0, FAAS_ENOTFOUND (never existed or evicted), FAAS_EINVAL
 */
FAAS_EXTERN int faas_activation_lookup(faas_activation **out, faas_runtime *rt, const char *id);

/**
 * List kept activations, newest first. Loop thread.
 * @param out receives up to max new references, one per element written: they
 *        stay valid after the store evicts them and after the runtime is
 *        freed. Release them with faas_activation_list_free(out, n) (or each
 *        with faas_activation_free()). The array itself is the caller's.
 * @param function only this function's activations, or NULL for all
 * @return the number written (>= 0), or FAAS_EINVAL (nothing written)
 */
FAAS_EXTERN int faas_activation_list(const faas_activation **out, size_t max,
				     faas_runtime *rt, const char *function);

/**
 * Release the n references faas_activation_list() wrote to list and set each
 * element to NULL; the array itself is not freed. NULL elements are skipped;
 * a NULL list is a no-op. Any thread.
 */
FAAS_EXTERN void faas_activation_list_free(const faas_activation **list, size_t n);

FAAS_END_DECLS

#endif /* FAAS_ACTIVATION_H */

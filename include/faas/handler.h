/*
 * libfaas — what a handler sees: the handler signature, the module
 * descriptor a shared object exports, and the context API.
 *
 * A handler is
 *
 *     int my_handler(faas_ctx *ctx, const cJSON *event, cJSON **result);
 *
 * It returns 0 with *result set (or left NULL for a JSON null), or the value
 * of faas_ctx_error() to end the call as an `application_error`. Any other
 * non-zero return is an `application_error` too, of type "Error" with the
 * message "handler returned <n>". The event (NULL for a JSON null) belongs to
 * libfaas and is valid only during the call; *result becomes libfaas's and
 * must not be touched after the handler returns.
 *
 * Exporting. The runtime finds handlers with dlsym(); a shared object built
 * with -fvisibility=hidden must mark them FAAS_EXTERN. Handler objects do not
 * link libfaas: the faas_ctx_* symbols resolve against the host at load time.
 *
 * Threads. In `thread` isolation the handler runs on a worker thread owned by
 * the runtime; in `inline` isolation on the loop thread. Every faas_ctx_*
 * function is meant to be called from the thread running the handler, with
 * the ctx it was given, during the call.
 *
 * Memory accounting (thread and inline modes). The bytes the handler holds
 * through faas_ctx_alloc() and the cJSON values it creates on its own thread
 * are charged to the call. When a new allocation would pass the function's
 * memory_mb, it fails (NULL) and the call ends `oom`, whatever the handler
 * returns afterwards. Max Memory Used is the peak of this count. What thread
 * mode cannot see: plain malloc(), static data, stacks, memory of threads the
 * handler starts, or mmap. Only `process` isolation caps the whole address
 * space and can stop a handler that ignores the limit.
 *
 * Process isolation. The handler runs in a faas-worker process that loaded
 * its shared object; the faas_ctx_* functions are the worker's own:
 * faas_log() writes the line to the worker's stderr, which, like its stdout,
 * goes to the call's log; faas_ctx_alloc() is malloc() (the hard limit is the
 * worker's RLIMIT_AS, set to its size after loading plus memory_mb MiB);
 * faas_ctx_cancelled() stays false (at the deadline the worker is killed);
 * faas_state_* travel to the runtime's backend and block until it answers.
 * The module's fini is not run: workers are stopped with SIGKILL.
 */
#ifndef FAAS_HANDLER_H
#define FAAS_HANDLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common.h"
#include "errors.h"

/**
 * The ABI version of the handler interface. A shared object records the value
 * it was compiled with in its module descriptor; loading one whose value differs
 * from the runtime's fails with FAAS_EABI.
 */
#define FAAS_ABI_VERSION 1

/** The context of one call, owned by libfaas. */
typedef struct faas_ctx faas_ctx;

/** The handler signature; see the top of this header. */
typedef int (*faas_handler_fn)(faas_ctx *ctx, const cJSON *event, cJSON **result);

/**
 * Module initialisation: run once before the first call of any function of the
 * shared object (a cold start), or at registration with `prewarm`.
 * @return 0, or non-zero to fail the call that triggered it (`developer_error`).
 */
typedef int (*faas_module_init_fn)(void);

/** Module finalisation: run when the module goes cold (idle) or is unloaded. */
typedef void (*faas_module_fini_fn)(void);

/** The descriptor every handler shared object exports; see FAAS_MODULE. */
typedef struct faas_module {
	unsigned int abi_version; /**< FAAS_ABI_VERSION at compile time. */
	faas_module_init_fn init; /**< may be NULL */
	faas_module_fini_fn fini; /**< may be NULL */
} faas_module;

/** The name of the exported descriptor symbol. */
#define FAAS_MODULE_SYMBOL "faas_module_descriptor"

#if defined(__GNUC__) && __GNUC__ >= 4
#define FAAS__MODULE_EXPORT __attribute__((visibility("default")))
#else
#define FAAS__MODULE_EXPORT
#endif

/**
 * Export the module descriptor of a handler shared object. Use it once, at file
 * scope, in one source file of the shared object:
 *
 *     FAAS_MODULE(my_init, my_fini);   or   FAAS_MODULE(NULL, NULL);
 */
#ifdef __cplusplus
#define FAAS_MODULE(init_fn, fini_fn)                                          \
	extern "C" FAAS__MODULE_EXPORT const faas_module                        \
		faas_module_descriptor = {FAAS_ABI_VERSION, init_fn, fini_fn}
#else
#define FAAS_MODULE(init_fn, fini_fn)                                          \
	FAAS__MODULE_EXPORT const faas_module faas_module_descriptor = {        \
		FAAS_ABI_VERSION, init_fn, fini_fn}
#endif

FAAS_BEGIN_DECLS

/** The activation (request) id of the call: 32 lowercase hex digits. Borrowed, valid during the call. */
FAAS_EXTERN const char *faas_ctx_request_id(const faas_ctx *ctx);

/** The function's registered name. Borrowed, valid during the call. */
FAAS_EXTERN const char *faas_ctx_function_name(const faas_ctx *ctx);

/** The function's version string ("$LATEST" unless registered with another). Borrowed. */
FAAS_EXTERN const char *faas_ctx_function_version(const faas_ctx *ctx);

/** The function's memory limit in MB. */
FAAS_EXTERN uint32_t faas_ctx_memory_limit_mb(const faas_ctx *ctx);

/** Milliseconds left before the deadline; 0 once it has passed. */
FAAS_EXTERN uint64_t faas_ctx_remaining_ms(const faas_ctx *ctx);

/**
 * Whether the call has been cancelled: its deadline passed, the runtime is
 * stopping past its drain timeout, or the caller went away. A handler doing
 * long work should poll it and return early; its result is discarded anyway.
 */
FAAS_EXTERN bool faas_ctx_cancelled(const faas_ctx *ctx);

/**
 * Append one line to the call's log (a newline is added). The log is bounded
 * (runtime option log_limit_bytes); past the bound the rest is dropped and one
 * marker line records how many bytes were lost.
 */
FAAS_EXTERN void faas_log(faas_ctx *ctx, const char *fmt, ...) FAAS_PRINTF(2, 3);

/**
 * Record an application error for the call and return the value the handler
 * should return:
 *
 *     return faas_ctx_error(ctx, "BadInput", "missing field %s", "name");
 *
 * A later call replaces the recorded error. Whatever non-zero value the
 * handler then returns, the activation ends `application_error` with this
 * type and message. Call it on the thread that runs the handler, during the
 * call.
 * @param type short error type (like Lambda's errorType); NULL means "Error". Copied.
 * @param fmt printf-style message; NULL means an empty message
 * @return always -1, also for a NULL ctx (which records nothing)
 */
FAAS_EXTERN int faas_ctx_error(faas_ctx *ctx, const char *type, const char *fmt, ...)
	FAAS_PRINTF(3, 4);

/**
 * Allocate memory charged to the call. NULL when size is 0, when the memory
 * limit would be passed (the call then ends `oom`), or when malloc fails.
 * Like malloc(), the block is the handler's to free, with faas_ctx_free().
 */
FAAS_EXTERN void *faas_ctx_alloc(faas_ctx *ctx, size_t size);

/** Free memory from faas_ctx_alloc() and uncharge it. NULL is a no-op. */
FAAS_EXTERN void faas_ctx_free(faas_ctx *ctx, void *ptr);

/** Bytes currently charged to the call. */
FAAS_EXTERN uint64_t faas_ctx_memory_used(const faas_ctx *ctx);

/* State, through the runtime's state backend (include/faas/sys/state.h).
 * Keys are namespaced per function ("<namespace>/<key>", the namespace being
 * the function name unless the function sets state_namespace). Any thread of
 * the handler may call them; they block on the backend. */

/** Version meaning "the key must not exist" for faas_state_put(). */
#define FAAS_STATE_ABSENT 0u
/** Version meaning "whatever the current version" for faas_state_put()/delete(). */
#define FAAS_STATE_ANY UINT64_MAX

/**
 * Read a value.
 * @param value_out receives a malloc()ed copy, NUL-terminated for convenience;
 *        the caller frees it with faas_state_free()
 * @param len_out receives its length (may be NULL)
 * @param version_out receives its version, >= 1 (may be NULL)
 * @return 0, FAAS_ENOTFOUND, FAAS_EINVAL, or the backend's error
 */
FAAS_EXTERN int faas_state_get(faas_ctx *ctx, const char *key, char **value_out,
			       size_t *len_out, uint64_t *version_out);

/**
 * Write a value with compare-and-set on its version.
 * @param expected_version FAAS_STATE_ANY, FAAS_STATE_ABSENT (must not exist),
 *        or the version last read
 * @param version_out receives the new version (may be NULL)
 * @return 0, FAAS_ECONFLICT when the version did not match, FAAS_EINVAL
 */
FAAS_EXTERN int faas_state_put(faas_ctx *ctx, const char *key, const void *value,
			       size_t len, uint64_t expected_version,
			       uint64_t *version_out);

/**
 * Delete a value, with compare-and-set on its version (FAAS_STATE_ANY for none).
 * @return 0, FAAS_ENOTFOUND, FAAS_ECONFLICT, FAAS_EINVAL
 */
FAAS_EXTERN int faas_state_delete(faas_ctx *ctx, const char *key, uint64_t expected_version);

/**
 * Atomically add delta to an integer value (a missing key counts as 0).
 * @param value_out receives the new value (may be NULL)
 * @return 0, FAAS_EINVAL if the stored value is not a decimal integer
 */
FAAS_EXTERN int faas_state_incr(faas_ctx *ctx, const char *key, int64_t delta,
				int64_t *value_out);

/** Free a value from faas_state_get(). NULL is a no-op. */
FAAS_EXTERN void faas_state_free(char *value);

FAAS_END_DECLS

#endif /* FAAS_HANDLER_H */

/*
 * libfaas — invoking functions.
 *
 * Every invocation goes admission → executor → completion:
 * admission refuses an event over the payload limit or a disabled function
 * (`rejected`), a function or runtime at its concurrency cap (`throttled`),
 * and whatever the billing hook refuses (`rejected`); then the handler runs
 * under its deadline and memory limit; then, on the loop thread, the
 * activation is recorded, the usage billed, the log lines emitted and the
 * callback called.
 */
#ifndef FAAS_INVOKE_H
#define FAAS_INVOKE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "activation.h"
#include "common.h"
#include "runtime.h"

/**
 * Completion callback, called on the loop thread exactly once per accepted
 * invocation. act is borrowed for the callback's duration (faas_activation_dup()
 * keeps it). Throttled and rejected invocations arrive here too, with that status.
 */
typedef void (*faas_invoke_cb)(const faas_activation *act, void *userdata);

FAAS_BEGIN_DECLS

/**
 * Invoke a function asynchronously. The caller keeps ownership of the event:
 * a `thread` function gets a private copy; an `inline` function runs on this
 * thread before faas_invoke returns and reads the event in place.
 *
 * When this returns an error, cb is never called. Otherwise cb is called
 * exactly once, later, from the loop (never from inside faas_invoke).
 *
 * @param event the event, or NULL for a JSON null
 * @return 0; FAAS_EINVAL; FAAS_ENOTFOUND (no such function); FAAS_ESTOPPED;
 *         FAAS_ENOMEM
 */
FAAS_EXTERN int faas_invoke(faas_runtime *rt, const char *function, const cJSON *event,
			    faas_invoke_cb cb, void *userdata);

/**
 * The same with the event as JSON text, as it arrives from a socket or a file.
 * The text is parsed before this returns; it is not kept.
 * @return as faas_invoke(); FAAS_EINVAL also for text that is not JSON
 */
FAAS_EXTERN int faas_invoke_payload(faas_runtime *rt, const char *function,
				    const char *json, size_t len, faas_invoke_cb cb,
				    void *userdata);

/**
 * Invoke and wait: runs the runtime's loop (the host's too) until the call
 * completes. For tests and command-line tools; never call it from a callback
 * running on that loop.
 *
 * @param out receives the activation; release it with faas_activation_free()
 * @return as faas_invoke(); on error *out is NULL
 */
FAAS_EXTERN int faas_invoke_sync(faas_activation **out, faas_runtime *rt,
				 const char *function, const cJSON *event);

FAAS_END_DECLS

#endif /* FAAS_INVOKE_H */

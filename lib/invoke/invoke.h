/*
 * libfaas invoke — admission, dispatch to an executor under a deadline,
 * completion (activation, usage, billing, logs, the caller's callback), the
 * drain at stop, and registering functions with their executors.
 * Loop thread only.
 */
#ifndef FAAS_LIB_INVOKE_INVOKE_H
#define FAAS_LIB_INVOKE_INVOKE_H

#include "exec.h"
#include "hooks.h"

/* faas_invoke with the in-flight ctx handed back (borrowed until the callback
 * has run) so a trigger can cancel it, e.g. when an HTTP client goes away.
 * FAAS__JSON_TRUSTED marks json text that libfaas wrote itself: a worker
 * parses it, instead of the loop checking it first. */
#define FAAS__JSON_TRUSTED 0x1u
int faas__invoke(faas_runtime *rt, const char *function, const cJSON *event, const char *json,
		 size_t json_len, unsigned int flags, faas_invoke_cb cb, void *userdata,
		 faas_ctx **ctx_out);

/* Whether calls of fn run on the loop thread (their event is read in place). */
bool faas__invoke_on_loop(const faas_fn *fn);

/* The layer's handles and the executors: runtime creation and free. */
int faas__invoke_init(faas_runtime *rt);
void faas__invoke_close(faas_runtime *rt);

/* Stop: arm the drain timer if calls are in flight; rt->stopped turns true
 * once the last one was delivered (faas__drain_check), which then calls
 * rt->on_stopped if set. */
void faas__drain_start(faas_runtime *rt);
void faas__drain_check(faas_runtime *rt);
/* Take every call in flight back from its executor and complete it
 * internal_error "Runtime.Canceled"; callbacks are deferred. */
void faas__cancel_all(faas_runtime *rt);

/* Unregister every function (runtime free). */
void faas__fn_unregister_all(faas_runtime *rt);

#endif /* FAAS_LIB_INVOKE_INVOKE_H */

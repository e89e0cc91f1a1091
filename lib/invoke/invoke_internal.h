/*
 * libfaas invoke — what the layer's files share: admission (admission.c) hands
 * calls to executors under a deadline (deadline.c); completion (complete.c)
 * records and delivers them. Loop thread only.
 */
#ifndef FAAS_LIB_INVOKE_INVOKE_INTERNAL_H
#define FAAS_LIB_INVOKE_INVOKE_INTERNAL_H

#include "invoke.h"

/* ---- deadline.c ---- */
void faas__deadline_init(faas_runtime *rt);
/* Add a call to the deadline heap (ctx->deadline_ns set); FAAS_ENOMEM. */
int faas__deadline_push(faas_runtime *rt, faas_ctx *ctx);
/* Remove it if it is there. */
void faas__deadline_remove(faas_runtime *rt, faas_ctx *ctx);
/* Arm the timer for the earliest deadline, or stop it. */
void faas__deadline_arm(faas_runtime *rt);

/* ---- complete.c ---- */
/* The executor contract's done: a submitted call ended. */
void faas__on_exec_done(faas_runtime *rt, faas_ctx *ctx, const faas__outcome *o);
/* Take a call back from whichever executor runs it (deadline or cancel). */
bool faas__executor_abandon(faas_ctx *ctx, bool *was_running);
/* The loop completed a call it took back: timeout, or canceled. One that
 * never started (!was_running) gets no usage record. */
void faas__complete_abandoned(faas_runtime *rt, faas_ctx *ctx, faas_status status,
			      bool was_running);
/* Throttled and rejected calls never start: an activation, no usage record. */
void faas__complete_unstarted(faas_runtime *rt, faas_ctx *ctx, faas_status status,
			      const char *type, const char *msg);
/* A call its executor could not take: undo start() and complete it unstarted.
 * type NULL: FAAS__ERR_THROTTLED or FAAS__ERR_INTERNAL, by status. */
void faas__not_started(faas_runtime *rt, faas_ctx *ctx, faas_status status, const char *type,
		       const char *msg);
/* Run the caller's callback now (a clean point), or on the next loop turn. */
void faas__deliver(faas_runtime *rt, faas_ctx *ctx);
void faas__deliver_later(faas_runtime *rt, faas_ctx *ctx);
/* A call is past its deadline (rt->deadline_expired). */
void faas__deadline_expired(faas_runtime *rt, faas_ctx *ctx);

#endif /* FAAS_LIB_INVOKE_INVOKE_INTERNAL_H */

/*
 * libfaas core — the loop helpers every layer uses instead of counting by
 * hand: the handles that keep the runtime's memory alive, and callbacks
 * deferred to a clean loop turn. Loop thread only.
 */
#ifndef FAAS_LIB_CORE_LOOP_H
#define FAAS_LIB_CORE_LOOP_H

#include <stdbool.h>

#include <uv.h>

#include "faas/common.h"

/* ---- handle counting ----
 * Every libuv handle that lives in the runtime's memory, or in an object that
 * points to the runtime, is counted from its init to its close callback. With
 * a host loop the runtime's memory is freed only once the last one closed
 * after faas_runtime_free (libuv's rule: memory of a handle goes in its close
 * callback, not before). */
void faas__handles_add(faas_runtime *rt, int n);
/* A counted handle's close callback ran. Last call: may free rt. */
void faas__handles_closed(faas_runtime *rt);
/* uv_close h with a callback that counts it; h->data must be the runtime. */
void faas__handle_close(uv_handle_t *h);

/* ---- deferred callbacks ----
 * libuv's rule, libfaas's too: a callback never runs inside the call that
 * started the work. What completes on the caller's stack is queued here and
 * run on the next loop turn (an idle handle), in order, or at once by a
 * caller that knows it is at a clean point (faas__defer_run). The node is
 * embedded in the deferred object; it may be queued again from its run. */
typedef struct faas__deferred faas__deferred;
struct faas__deferred {
	faas__deferred *next;
	void (*run)(faas__deferred *d);
};

typedef struct faas__defer_queue {
	uv_idle_t idle;
	faas__deferred *head, *tail;
	bool closed; /* no more loop turns: only faas__defer_run runs them */
} faas__defer_queue;

int faas__defer_init(faas_runtime *rt);
void faas__defer(faas_runtime *rt, faas__deferred *d, void (*run)(faas__deferred *d));
/* Run every queued callback now, including those they queue. */
void faas__defer_run(faas_runtime *rt);
bool faas__defer_pending(const faas_runtime *rt);
/* The runtime is being freed: close the idle handle; callbacks queued from
 * now on run only through faas__defer_run. */
void faas__defer_close(faas_runtime *rt);

#endif /* FAAS_LIB_CORE_LOOP_H */

/* Deadlines: one heap of the calls in flight and one timer for all of them.
 * A call past its deadline goes to rt->deadline_expired (completion takes it
 * back from its executor and ends it `timeout`). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invoke_internal.h"

static faas_ctx *ctx_of(const faas__heap_node *n)
{
	return (faas_ctx *)((const char *)n - offsetof(faas_ctx, deadline_node));
}

static bool earlier(const faas__heap_node *a, const faas__heap_node *b)
{
	return ctx_of(a)->deadline_ns < ctx_of(b)->deadline_ns;
}

void faas__deadline_init(faas_runtime *rt)
{
	faas__heap_init(&rt->deadlines, earlier);
}

static void on_deadline(uv_timer_t *t);

void faas__deadline_arm(faas_runtime *rt)
{
	uint64_t now, due, ms;

	if (faas__heap_len(&rt->deadlines) == 0) {
		uv_timer_stop(&rt->deadline_timer);
		return;
	}
	now = faas__now_ns();
	due = ctx_of(faas__heap_peek(&rt->deadlines))->deadline_ns;
	/* Round up: libuv timers have millisecond resolution and firing early
	 * only costs a re-arm, firing late costs the caller. */
	ms = due > now ? (due - now + 999999u) / 1000000u : 0;
	uv_timer_start(&rt->deadline_timer, on_deadline, ms, 0);
}

int faas__deadline_push(faas_runtime *rt, faas_ctx *ctx)
{
	return faas__heap_push(&rt->deadlines, &ctx->deadline_node) == 0 ? 0 : FAAS_ENOMEM;
}

void faas__deadline_remove(faas_runtime *rt, faas_ctx *ctx)
{
	faas__heap_remove(&rt->deadlines, &ctx->deadline_node);
}

/* ---- the timer ---- */

static void on_deadline(uv_timer_t *t)
{
	faas_runtime *rt = t->data;
	uint64_t now = faas__now_ns();

	while (faas__heap_len(&rt->deadlines) > 0 &&
	       ctx_of(faas__heap_peek(&rt->deadlines))->deadline_ns <= now) {
		faas_ctx *ctx = ctx_of(faas__heap_peek(&rt->deadlines));

		/* The deadline counts from admission: time spent waiting for a
		 * thread is the caller's time too, so a queue can never hold a
		 * call past it (one that never started ends unbilled). */
		faas__deadline_remove(rt, ctx);
		rt->deadline_expired(rt, ctx);
	}
	faas__deadline_arm(rt);
}

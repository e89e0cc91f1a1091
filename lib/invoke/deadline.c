/* Deadlines: one heap of the calls in flight and one timer for all of them.
 * A call past its deadline goes to rt->deadline_expired (completion takes it
 * back from its executor and ends it `timeout`). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "invoke_internal.h"

static void heap_set(faas__heap *h, size_t i, faas_ctx *ctx)
{
	h->items[i] = ctx;
	ctx->heap_index = i;
}

static void heap_sift_up(faas__heap *h, size_t i)
{
	faas_ctx *ctx = h->items[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->items[parent]->deadline_ns <= ctx->deadline_ns)
			break;
		heap_set(h, i, h->items[parent]);
		i = parent;
	}
	heap_set(h, i, ctx);
}

static void heap_sift_down(faas__heap *h, size_t i)
{
	faas_ctx *ctx = h->items[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->len)
			break;
		if (child + 1 < h->len &&
		    h->items[child + 1]->deadline_ns < h->items[child]->deadline_ns)
			child++;
		if (ctx->deadline_ns <= h->items[child]->deadline_ns)
			break;
		heap_set(h, i, h->items[child]);
		i = child;
	}
	heap_set(h, i, ctx);
}

static int heap_push(faas__heap *h, faas_ctx *ctx)
{
	if (h->len == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 64;
		faas_ctx **items = realloc(h->items, cap * sizeof(*items));

		if (!items)
			return FAAS_ENOMEM;
		h->items = items;
		h->cap = cap;
	}
	h->items[h->len] = ctx;
	heap_sift_up(h, h->len++);
	return 0;
}

static void heap_remove(faas__heap *h, faas_ctx *ctx)
{
	size_t i = ctx->heap_index;

	if (i == SIZE_MAX)
		return;
	ctx->heap_index = SIZE_MAX;
	if (--h->len == i)
		return;
	heap_set(h, i, h->items[h->len]);
	heap_sift_up(h, i);
	heap_sift_down(h, h->items[i]->heap_index);
}

static void on_deadline(uv_timer_t *t);

void faas__deadline_arm(faas_runtime *rt)
{
	uint64_t now, due, ms;

	if (rt->deadlines.len == 0) {
		uv_timer_stop(&rt->deadline_timer);
		return;
	}
	now = faas__now_ns();
	due = rt->deadlines.items[0]->deadline_ns;
	/* Round up: libuv timers have millisecond resolution and firing early
	 * only costs a re-arm, firing late costs the caller. */
	ms = due > now ? (due - now + 999999u) / 1000000u : 0;
	uv_timer_start(&rt->deadline_timer, on_deadline, ms, 0);
}

int faas__deadline_push(faas_runtime *rt, faas_ctx *ctx)
{
	return heap_push(&rt->deadlines, ctx);
}

void faas__deadline_remove(faas_runtime *rt, faas_ctx *ctx)
{
	heap_remove(&rt->deadlines, ctx);
}

/* ---- the timer ---- */

static void on_deadline(uv_timer_t *t)
{
	faas_runtime *rt = t->data;
	uint64_t now = faas__now_ns();

	while (rt->deadlines.len > 0 && rt->deadlines.items[0]->deadline_ns <= now) {
		faas_ctx *ctx = rt->deadlines.items[0];
		uint64_t started = atomic_load(&ctx->started_ns);
		uint64_t timeout_ns = (uint64_t)ctx->fn->timeout_ms * 1000000u;

		faas__deadline_remove(rt, ctx);
		/* The deadline counts from the moment a worker took the call; one
		 * that waited in the queue gets its full time. */
		if (started == 0 || started + timeout_ns > now) {
			ctx->deadline_ns = (started == 0 ? now : started) + timeout_ns;
			if (faas__deadline_push(rt, ctx) == 0)
				continue;
		}
		rt->deadline_expired(rt, ctx);
	}
	faas__deadline_arm(rt);
}

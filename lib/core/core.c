/* The loop helpers declared in loop.h: handle counting for the runtime's
 * memory, and the queue of callbacks deferred to a clean loop turn. They live
 * beside core.h because they work on the runtime record it defines. */
#include <stdlib.h>

#include "core.h"

void faas__handles_add(faas_runtime *rt, int n)
{
	rt->open_handles += n;
}

void faas__handles_closed(faas_runtime *rt)
{
	/* With a host loop the runtime's memory can only go once libuv is done
	 * with every handle embedded in it, or in its triggers and workers. */
	if (--rt->open_handles == 0 && !rt->owns_loop && rt->freeing)
		free(rt);
}

static void on_counted_close(uv_handle_t *h)
{
	faas__handles_closed(h->data);
}

void faas__handle_close(uv_handle_t *h)
{
	uv_close(h, on_counted_close);
}

static void on_idle(uv_idle_t *idle)
{
	faas__defer_run(idle->data);
}

int faas__defer_init(faas_runtime *rt)
{
	faas__defer_queue *q = &rt->deferred;

	if (uv_idle_init(rt->loop, &q->idle) != 0)
		return FAAS_ESYSTEM;
	q->idle.data = rt;
	faas__handles_add(rt, 1);
	return 0;
}

void faas__defer(faas_runtime *rt, faas__deferred *d, void (*run)(faas__deferred *d))
{
	faas__defer_queue *q = &rt->deferred;

	d->next = NULL;
	d->run = run;
	if (q->tail)
		q->tail->next = d;
	else
		q->head = d;
	q->tail = d;
	if (!q->closed)
		uv_idle_start(&q->idle, on_idle);
}

void faas__defer_run(faas_runtime *rt)
{
	faas__defer_queue *q = &rt->deferred;

	while (q->head) {
		faas__deferred *d = q->head;

		q->head = d->next;
		if (!q->head)
			q->tail = NULL;
		d->run(d);
	}
	if (!q->closed)
		uv_idle_stop(&q->idle);
}

bool faas__defer_pending(const faas_runtime *rt)
{
	return rt->deferred.head != NULL;
}

void faas__defer_close(faas_runtime *rt)
{
	faas__defer_queue *q = &rt->deferred;

	if (q->closed)
		return;
	q->closed = true;
	faas__handle_close((uv_handle_t *)&q->idle);
}

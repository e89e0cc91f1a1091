/* The heap: slot 0 is the least, slot i's children are 2i+1 and 2i+2, and
 * every move writes the node's new slot into it. */
#include <stdint.h>
#include <stdlib.h>

#include "heap.h"

/* The array's first size; it doubles from there. */
#define FAAS__HEAP_START 16u

void faas__heap_init(faas__heap *h, faas__heap_less less)
{
	h->items = NULL;
	h->len = 0;
	h->cap = 0;
	h->less = less;
}

void faas__heap_node_init(faas__heap_node *node)
{
	node->index = FAAS__HEAP_NONE;
}

bool faas__heap_node_queued(const faas__heap_node *node)
{
	return node->index != FAAS__HEAP_NONE;
}

static void place(faas__heap *h, size_t i, faas__heap_node *node)
{
	h->items[i] = node;
	node->index = i;
}

/* Move the node at i up until its parent is not greater. */
static void sift_up(faas__heap *h, size_t i)
{
	faas__heap_node *node = h->items[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (!h->less(node, h->items[parent]))
			break;
		place(h, i, h->items[parent]);
		i = parent;
	}
	place(h, i, node);
}

/* Move the node at i down until no child is less. */
static void sift_down(faas__heap *h, size_t i)
{
	faas__heap_node *node = h->items[i];

	for (;;) {
		size_t child = 2 * i + 1;

		if (child >= h->len)
			break;
		if (child + 1 < h->len && h->less(h->items[child + 1], h->items[child]))
			child++;
		if (!h->less(h->items[child], node))
			break;
		place(h, i, h->items[child]);
		i = child;
	}
	place(h, i, node);
}

int faas__heap_push(faas__heap *h, faas__heap_node *node)
{
	if (h->len == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : FAAS__HEAP_START;
		faas__heap_node **items;

		if (h->cap > SIZE_MAX / 2 / sizeof(*items))
			return -1;
		items = realloc(h->items, cap * sizeof(*items));
		if (!items)
			return -1;
		h->items = items;
		h->cap = cap;
	}
	place(h, h->len, node);
	sift_up(h, h->len++);
	return 0;
}

void faas__heap_remove(faas__heap *h, faas__heap_node *node)
{
	size_t i = node->index;
	faas__heap_node *last;

	if (i == FAAS__HEAP_NONE)
		return;
	node->index = FAAS__HEAP_NONE;
	if (--h->len == i)
		return;
	/* The last node fills the hole; it may belong above or below it (at
	 * most one of the two sifts moves it). */
	last = h->items[h->len];
	place(h, i, last);
	sift_up(h, i);
	sift_down(h, last->index);
}

faas__heap_node *faas__heap_peek(const faas__heap *h)
{
	return h->len ? h->items[0] : NULL;
}

faas__heap_node *faas__heap_pop(faas__heap *h)
{
	faas__heap_node *min = faas__heap_peek(h);

	if (min)
		faas__heap_remove(h, min);
	return min;
}

size_t faas__heap_len(const faas__heap *h)
{
	return h->len;
}

void faas__heap_free(faas__heap *h)
{
	if (!h)
		return;
	free(h->items);
	h->items = NULL;
	h->len = 0;
	h->cap = 0;
}

/* A binary min-heap that does not know its items: each item embeds a
 * faas__heap_node, which records the item's slot so that any item can be
 * removed in O(log n). The heap holds pointers to the nodes and orders them
 * with the caller's less(); it never allocates or frees items. Array-backed.
 * Libc only; not thread-safe (one thread, or the caller's lock). */
#ifndef FAAS_UTIL_HEAP_H
#define FAAS_UTIL_HEAP_H

#include <stdbool.h>
#include <stddef.h>

/* Embed one in each item (get the item back with offsetof/container_of).
 * index is the node's slot, FAAS__HEAP_NONE while it is in no heap. */
typedef struct faas__heap_node {
	size_t index;
} faas__heap_node;

#define FAAS__HEAP_NONE ((size_t)-1)
#define FAAS__HEAP_NODE_INIT {FAAS__HEAP_NONE}

/* True if a is to come out before b. A strict weak order; items that
 * compare equal come out in no particular order. */
typedef bool (*faas__heap_less)(const faas__heap_node *a, const faas__heap_node *b);

/* Fields are private but for reading len. */
typedef struct faas__heap {
	faas__heap_node **items;
	size_t len, cap;
	faas__heap_less less;
} faas__heap;

/* An empty heap ordered by less. Allocates nothing. */
void faas__heap_init(faas__heap *h, faas__heap_less less);

/* Mark node as in no heap (what FAAS__HEAP_NODE_INIT does statically). */
void faas__heap_node_init(faas__heap_node *node);

/* True if node is in a heap (pushed and not yet removed or popped). */
bool faas__heap_node_queued(const faas__heap_node *node);

/* Add node, which must be in no heap. Returns 0, or -1 if the array could
 * not grow (the heap and node are then unchanged). O(log n). */
int faas__heap_push(faas__heap *h, faas__heap_node *node);

/* Take node out of h. A node in no heap is left alone, so removing twice is
 * harmless; node must not be in a different heap. O(log n). */
void faas__heap_remove(faas__heap *h, faas__heap_node *node);

/* The least node, or NULL if h is empty; it stays in the heap. */
faas__heap_node *faas__heap_peek(const faas__heap *h);

/* Remove and return the least node, or NULL if h is empty. */
faas__heap_node *faas__heap_pop(faas__heap *h);

size_t faas__heap_len(const faas__heap *h);

/* Free the array (not the items, which are the caller's; nodes still in
 * the heap are not reset) and leave h empty and usable. h may be NULL. */
void faas__heap_free(faas__heap *h);

#endif /* FAAS_UTIL_HEAP_H */

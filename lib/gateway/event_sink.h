/*
 * libfaas gateway — where the proxy event goes (event_sink.c): a small
 * writer interface (begin an object or array, a key, a string, base64 bytes,
 * null, a boolean, a number, end) that proxy_event.c's one walk of the
 * request writes to, and its two implementations:
 *
 * - the text sink appends JSON text to a growable buffer (thread and
 *   process functions get text);
 * - the tree sink builds a cJSON tree in place (inline functions read it
 *   without parsing), its nodes and the strings it had to rewrite taken
 *   from an arena that the trigger keeps between requests.
 *
 * Both follow one string rule (RFC 8259): valid UTF-8 passes through, each
 * byte that does not start a valid UTF-8 sequence becomes U+FFFD, '"' and
 * '\\' are escaped, control bytes are \b \f \n \r \t or \u00xx (lowercase).
 * The tree holds the same strings the text says, so cJSON_Print of the tree
 * is the text and parsing the text gives the tree; the one exception is a
 * NUL byte, which the text writes as \u0000 and a cJSON string (a C
 * string) cannot hold past it: there the tree's string ends, as the string
 * parsed from the text does.
 */
#ifndef FAAS_LIB_GATEWAY_EVENT_SINK_H
#define FAAS_LIB_GATEWAY_EVENT_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "buf.h"
#include "json.h" /* faas__utf8_valid/_text/_sanitize: the one UTF-8 rule */

/* ---- an arena for tree nodes and strings ---- */

typedef struct faas__arena_block faas__arena_block;
typedef struct faas__arena {
	faas__arena_block *head, *cur;
	size_t total; /* bytes in all blocks */
} faas__arena;

/* Everything allocated is dropped; the blocks are kept for the next tree,
 * unless they add up past keep bytes. */
void faas__arena_reset(faas__arena *a, size_t keep);
void faas__arena_free(faas__arena *a);

/* ---- the sink ---- */

typedef struct faas__event_sink faas__event_sink;

typedef struct faas__event_sink_ops {
	void (*begin)(faas__event_sink *s, bool array);
	void (*end)(faas__event_sink *s);
	/* The next value's member name, inside an object (z as for string). */
	void (*key)(faas__event_sink *s, const char *k, size_t n, bool z);
	/* The same for a name the event's shape fixes ("headers"): a string
	 * literal, ASCII with nothing to escape, so it is neither checked nor
	 * copied (most of an event's keys are these). */
	void (*key_literal)(faas__event_sink *s, const char *k);
	/* A string of n bytes, or null if v is NULL. z: v[n] is a NUL byte
	 * that may be read (the tree can then point at v instead of copying). */
	void (*string)(faas__event_sink *s, const char *v, size_t n, bool z);
	/* n bytes as a base64 string. */
	void (*base64)(faas__event_sink *s, const void *bytes, size_t n);
	void (*null)(faas__event_sink *s);
	void (*boolean)(faas__event_sink *s, bool v);
	void (*number)(faas__event_sink *s, uint64_t v);
} faas__event_sink_ops;

/* Containers nest at most this deep (the event needs 3). */
#define FAAS__SINK_DEPTH 8u

struct faas__event_sink {
	const faas__event_sink_ops *ops;
	bool failed; /* out of memory or too deep: the output is unusable */
};

typedef struct faas__text_sink {
	faas__event_sink base;
	faas__buf *out;
	unsigned depth;
	uint32_t nonempty; /* bit d: the container at depth d has a member */
	uint32_t arrays;   /* bit d: the container at depth d is an array */
	bool after_key;
} faas__text_sink;

typedef struct faas__tree_sink {
	faas__event_sink base;
	faas__arena *arena;
	cJSON *root;
	cJSON *stack[FAAS__SINK_DEPTH];
	unsigned depth;
	const char *key; /* the pending member name */
} faas__tree_sink;

/* Write into out, from its start. When the walk is done, out->buf holds
 * out->len bytes of JSON, NUL-terminated, unless base.failed. */
void faas__text_sink_init(faas__text_sink *t, faas__buf *out);

/* Build into the arena (reset first, keeping up to keep bytes of blocks).
 * When the walk is done, t->root is the tree, unless base.failed. The tree's
 * strings may point into the walk's inputs and the arena: it is valid while
 * they are unchanged, and must never be given to cJSON_Delete. */
void faas__tree_sink_init(faas__tree_sink *t, faas__arena *arena, size_t keep);

#endif /* FAAS_LIB_GATEWAY_EVENT_SINK_H */

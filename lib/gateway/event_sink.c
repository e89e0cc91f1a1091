/* The proxy event's two sinks, JSON text (util's JSON escaping) and a cJSON
 * tree (in an arena, with strings made valid UTF-8 by the same rule), so the
 * two outputs agree; event_sink.h says what each produces. */
#include <limits.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "event_sink.h"
#include "json.h"

/* A new arena block holds at least this much. */
#define FAAS__ARENA_BLOCK (16u * 1024u)

/* ---- the arena ---- */

struct faas__arena_block {
	faas__arena_block *next;
	size_t size, used;
	max_align_t data[];
};

/* A new block for n bytes (rounded already) after the current one. */
static void *arena_grow(faas__arena *a, size_t n)
{
	faas__arena_block *b = a->cur;
	size_t size;

	while (b && b->size - b->used < n)
		b = b->next;
	if (!b) {
		size = n > FAAS__ARENA_BLOCK ? n : FAAS__ARENA_BLOCK;
		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->size = size;
		b->used = 0;
		/* After the current block: the ones after it are still empty. */
		b->next = a->cur ? a->cur->next : NULL;
		if (a->cur)
			a->cur->next = b;
		else
			a->head = b;
		a->total += size;
	}
	a->cur = b;
	b->used += n;
	return (char *)b->data + b->used - n;
}

/* A bump in the current block, the case of every node but a block's first. */
static inline void *arena_alloc(faas__arena *a, size_t n)
{
	faas__arena_block *b = a->cur;

	n = (n + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t);
	if (b && b->size - b->used >= n) {
		b->used += n;
		return (char *)b->data + b->used - n;
	}
	return arena_grow(a, n);
}

void faas__arena_free(faas__arena *a)
{
	faas__arena_block *b = a->head;

	while (b) {
		faas__arena_block *next = b->next;

		free(b);
		b = next;
	}
	a->head = a->cur = NULL;
	a->total = 0;
}

void faas__arena_reset(faas__arena *a, size_t keep)
{
	if (a->total > keep) {
		faas__arena_free(a);
		return;
	}
	for (faas__arena_block *b = a->head; b; b = b->next)
		b->used = 0;
	a->cur = a->head;
}

/* ---- the text sink ---- */

static faas__text_sink *text_of(faas__event_sink *s)
{
	return (faas__text_sink *)s;
}

/* A comma before every member but the first (a key's value has had it). */
static void text_prefix(faas__text_sink *t)
{
	if (t->after_key) {
		t->after_key = false;
		return;
	}
	if (t->depth == 0)
		return;
	if (t->nonempty & (1u << t->depth))
		faas__buf_append(t->out, ",", 1);
	t->nonempty |= 1u << t->depth;
}

static void text_check(faas__text_sink *t)
{
	if (t->out->failed)
		t->base.failed = true;
}

static void text_begin(faas__event_sink *s, bool array)
{
	faas__text_sink *t = text_of(s);

	if (t->depth + 1 >= FAAS__SINK_DEPTH) {
		s->failed = true;
		return;
	}
	text_prefix(t);
	faas__buf_append(t->out, array ? "[" : "{", 1);
	t->depth++;
	t->nonempty &= ~(1u << t->depth);
	if (array)
		t->arrays |= 1u << t->depth;
	else
		t->arrays &= ~(1u << t->depth);
	text_check(t);
}

static void text_end(faas__event_sink *s)
{
	faas__text_sink *t = text_of(s);

	if (t->depth == 0) {
		s->failed = true;
		return;
	}
	faas__buf_append(t->out, (t->arrays & (1u << t->depth)) ? "]" : "}", 1);
	t->depth--;
	if (t->depth == 0) {
		/* The whole event; faas__buf keeps it NUL-terminated. */
	}
	text_check(t);
}

static void text_key(faas__event_sink *s, const char *k, size_t n, bool z)
{
	faas__text_sink *t = text_of(s);

	(void)z;
	text_prefix(t);
	faas__json_escape(t->out, k, n);
	faas__buf_append(t->out, ":", 1);
	t->after_key = true;
	text_check(t);
}

static void text_raw_value(faas__text_sink *t, const char *text, size_t n)
{
	text_prefix(t);
	faas__buf_append(t->out, text, n);
	text_check(t);
}

static void text_string(faas__event_sink *s, const char *v, size_t n, bool z)
{
	faas__text_sink *t = text_of(s);

	(void)z;
	if (!v)
		return text_raw_value(t, "null", 4);
	text_prefix(t);
	faas__json_escape(t->out, v, n);
	text_check(t);
}

static void text_base64(faas__event_sink *s, const void *bytes, size_t n)
{
	faas__text_sink *t = text_of(s);
	faas__buf *w = t->out;

	text_prefix(t);
	if (faas__buf_reserve(w, faas__base64_encoded_len(n) + 3)) {
		w->data[w->len++] = '"';
		w->len += faas__base64_encode(w->data + w->len, bytes, n);
		w->data[w->len++] = '"';
		w->data[w->len] = '\0';
	}
	text_check(t);
}

static void text_null(faas__event_sink *s)
{
	text_raw_value(text_of(s), "null", 4);
}

static void text_boolean(faas__event_sink *s, bool v)
{
	text_raw_value(text_of(s), v ? "true" : "false", v ? 4 : 5);
}

static void text_number(faas__event_sink *s, uint64_t v)
{
	char tmp[24];
	size_t n = sizeof(tmp);

	do {
		tmp[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	text_raw_value(text_of(s), tmp + n, sizeof(tmp) - n);
}

static void text_key_literal(faas__event_sink *s, const char *k)
{
	faas__text_sink *t = text_of(s);
	size_t n = strlen(k);

	text_prefix(t);
	if (faas__buf_reserve(t->out, n + 3)) {
		char *o = t->out->data + t->out->len;

		o[0] = '"';
		memcpy(o + 1, k, n);
		o[n + 1] = '"';
		o[n + 2] = ':';
		t->out->len += n + 3;
		t->out->data[t->out->len] = '\0';
	}
	t->after_key = true;
	text_check(t);
}

static const faas__event_sink_ops text_ops = {
    text_begin,   text_end,  text_key,     text_key_literal, text_string,
    text_base64,  text_null, text_boolean, text_number,
};

void faas__text_sink_init(faas__text_sink *t, faas__buf *out)
{
	memset(t, 0, sizeof(*t));
	t->base.ops = &text_ops;
	t->out = out;
	faas__buf_reset(out);
}

/* ---- the tree sink ---- */

static faas__tree_sink *tree_of(faas__event_sink *s)
{
	return (faas__tree_sink *)s;
}

/* The tree's form of a string: v itself when the text would carry its bytes
 * unchanged and a NUL ends it, else a copy in the arena, made valid UTF-8 by
 * the rule of the text sink's escaping. NULL when out of memory. */
static const char *tree_string(faas__tree_sink *t, const char *v, size_t n, bool z)
{
	bool valid = faas__utf8_valid(v, n);
	char *copy;

	if (valid && z)
		return v;
	copy = arena_alloc(t->arena, valid ? n + 1 : 3 * n + 1);
	if (!copy)
		return NULL;
	if (valid)
		memcpy(copy, v, n);
	else
		n = faas__utf8_sanitize(copy, v, n);
	copy[n] = '\0';
	return copy;
}

/* Append item to an object (with the pending key) or an array, keeping
 * cJSON's links: the first child's prev is the last one. The key is not
 * marked cJSON_StringIsConst: cJSON_Duplicate would then share it, and a
 * handler's copy of the event (a result, kept in the store) would point
 * into this request's buffers. */
static void tree_link(faas__tree_sink *t, cJSON *item)
{
	cJSON *parent, *first;

	item->string = (char *)t->key;
	t->key = NULL;
	if (t->depth == 0) {
		if (t->root)
			t->base.failed = true;
		t->root = item;
		return;
	}
	parent = t->stack[t->depth - 1];
	first = parent->child;
	if (!first) {
		parent->child = item;
		item->prev = item;
	} else {
		first->prev->next = item;
		item->prev = first->prev;
		first->prev = item;
	}
}

/* A node linked in its place, or NULL (then failed is set). */
static cJSON *tree_node(faas__tree_sink *t, int type)
{
	cJSON *n;

	if (t->base.failed)
		return NULL;
	n = arena_alloc(t->arena, sizeof(*n));
	if (!n) {
		t->base.failed = true;
		return NULL;
	}
	memset(n, 0, sizeof(*n));
	n->type = type;
	tree_link(t, n);
	return n;
}

static void tree_begin(faas__event_sink *s, bool array)
{
	faas__tree_sink *t = tree_of(s);
	cJSON *n;

	if (t->depth + 1 >= FAAS__SINK_DEPTH) {
		s->failed = true;
		return;
	}
	n = tree_node(t, array ? cJSON_Array : cJSON_Object);
	if (n)
		t->stack[t->depth++] = n;
}

static void tree_end(faas__event_sink *s)
{
	faas__tree_sink *t = tree_of(s);

	if (t->depth == 0)
		s->failed = true;
	else
		t->depth--;
}

static void tree_key(faas__event_sink *s, const char *k, size_t n, bool z)
{
	faas__tree_sink *t = tree_of(s);

	if (s->failed)
		return;
	t->key = tree_string(t, k, n, z);
	if (!t->key)
		s->failed = true;
}

/* A string node for text that is already in its tree form. */
static void tree_text(faas__tree_sink *t, const char *text)
{
	cJSON *n;

	if (!text) {
		t->base.failed = true;
		return;
	}
	n = tree_node(t, cJSON_String | cJSON_IsReference);
	if (n)
		n->valuestring = (char *)text;
}

static void tree_string_op(faas__event_sink *s, const char *v, size_t n, bool z)
{
	faas__tree_sink *t = tree_of(s);

	if (s->failed)
		return;
	if (!v) {
		tree_node(t, cJSON_NULL);
		return;
	}
	tree_text(t, tree_string(t, v, n, z));
}

static void tree_base64(faas__event_sink *s, const void *bytes, size_t n)
{
	faas__tree_sink *t = tree_of(s);
	char *text;

	if (s->failed)
		return;
	text = arena_alloc(t->arena, faas__base64_encoded_len(n) + 1);
	if (text)
		text[faas__base64_encode(text, bytes, n)] = '\0';
	tree_text(t, text);
}

static void tree_null(faas__event_sink *s)
{
	tree_node(tree_of(s), cJSON_NULL);
}

static void tree_boolean(faas__event_sink *s, bool v)
{
	tree_node(tree_of(s), v ? cJSON_True : cJSON_False);
}

static void tree_number(faas__event_sink *s, uint64_t v)
{
	cJSON *n = tree_node(tree_of(s), cJSON_Number);

	if (!n)
		return;
	n->valuedouble = (double)v;
	n->valueint = v >= (uint64_t)INT_MAX ? INT_MAX : (int)v;
}

static void tree_key_literal(faas__event_sink *s, const char *k)
{
	if (!s->failed)
		tree_of(s)->key = k; /* a literal outlives every tree */
}

static const faas__event_sink_ops tree_ops = {
    tree_begin,  tree_end,  tree_key,     tree_key_literal, tree_string_op,
    tree_base64, tree_null, tree_boolean, tree_number,
};

void faas__tree_sink_init(faas__tree_sink *t, faas__arena *arena, size_t keep)
{
	memset(t, 0, sizeof(*t));
	t->base.ops = &tree_ops;
	t->arena = arena;
	faas__arena_reset(arena, keep);
}

/* The proxy event's two sinks, JSON text and a cJSON tree, and what they
 * share: the growable buffer, the arena, and the UTF-8 rule (event_sink.h
 * says what each produces). */
#include <limits.h>
#include <stdalign.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "event_sink.h"

/* A new arena block holds at least this much. */
#define FAAS__ARENA_BLOCK (16u * 1024u)

/* ---- the buffer ---- */

void faas__jbuf_reserve(faas__jbuf *w, size_t n)
{
	size_t cap;
	char *p;

	if (w->oom || w->len + n <= w->cap)
		return;
	cap = w->cap ? w->cap : 1024;
	while (cap < w->len + n)
		cap *= 2;
	p = realloc(w->buf, cap);
	if (!p) {
		w->oom = true;
		return;
	}
	w->buf = p;
	w->cap = cap;
}

static void jbuf_raw(faas__jbuf *w, const char *s, size_t n)
{
	faas__jbuf_reserve(w, n);
	if (w->oom)
		return;
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

void faas__jbuf_trim(faas__jbuf *w, size_t keep)
{
	if (w->cap <= keep)
		return;
	free(w->buf);
	w->buf = NULL;
	w->cap = w->len = 0;
}

/* ---- the arena ---- */

struct faas__arena_block {
	faas__arena_block *next;
	size_t size, used;
	max_align_t data[];
};

static void *arena_alloc(faas__arena *a, size_t n)
{
	faas__arena_block *b = a->cur;
	size_t size;

	n = (n + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t);
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

/* ---- UTF-8 ---- */

/* The length of the valid UTF-8 sequence at p (n bytes left), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	unsigned char c = p[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f))
			return 0; /* overlong, surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (p[1] & 0xc0) != 0x80 || (p[2] & 0xc0) != 0x80 ||
		    (p[3] & 0xc0) != 0x80)
			return 0;
		if ((c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

/* Whether s is valid UTF-8; nul: NUL bytes are allowed. */
static bool utf8_valid(const char *s, size_t n, bool nul)
{
	const unsigned char *p = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k;

		if (p[i] == 0 && !nul)
			return false;
		k = utf8_seq(p + i, n - i);
		if (k == 0)
			return false;
		i += k;
	}
	return true;
}

bool faas__utf8_text(const char *s, size_t n)
{
	return utf8_valid(s, n, false);
}

#define FAAS__REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

bool faas__utf8_valid(const char *s, size_t n)
{
	return utf8_valid(s, n, true);
}

size_t faas__utf8_sanitize(char *dst, const char *src, size_t n)
{
	const unsigned char *p = (const unsigned char *)src;
	char *o = dst;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(p + i, n - i);

		if (k == 0) {
			memcpy(o, FAAS__REPLACEMENT, 3);
			o += 3;
			i++;
		} else {
			memcpy(o, p + i, k);
			o += k;
			i += k;
		}
	}
	return (size_t)(o - dst);
}

/* ---- the text sink ---- */

/* The one escaping rule of the event's text (see event_sink.h). */
static void text_escape(faas__jbuf *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	char *o;

	faas__jbuf_reserve(w, n * 6 + 2);
	if (w->oom)
		return;
	o = w->buf + w->len;
	*o++ = '"';
	for (size_t i = 0; i < n;) {
		unsigned char c = p[i];
		size_t k;

		if (c >= 0x20) {
			k = utf8_seq(p + i, n - i);
			if (c == '"' || c == '\\')
				*o++ = '\\';
			if (k == 0) {
				memcpy(o, FAAS__REPLACEMENT, 3);
				o += 3;
				i++;
			} else {
				memcpy(o, p + i, k);
				o += k;
				i += k;
			}
			continue;
		}
		*o++ = '\\';
		switch (c) {
		case '\b':
			*o++ = 'b';
			break;
		case '\f':
			*o++ = 'f';
			break;
		case '\n':
			*o++ = 'n';
			break;
		case '\r':
			*o++ = 'r';
			break;
		case '\t':
			*o++ = 't';
			break;
		default:
			memcpy(o, "u00", 3);
			o[3] = hex[c >> 4];
			o[4] = hex[c & 15];
			o += 5;
			break;
		}
		i++;
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

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
		jbuf_raw(t->out, ",", 1);
	t->nonempty |= 1u << t->depth;
}

static void text_check(faas__text_sink *t)
{
	if (t->out->oom)
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
	jbuf_raw(t->out, array ? "[" : "{", 1);
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
	jbuf_raw(t->out, (t->arrays & (1u << t->depth)) ? "]" : "}", 1);
	t->depth--;
	if (t->depth == 0) {
		/* The whole event: NUL-terminate it, uncounted. */
		faas__jbuf_reserve(t->out, 1);
		if (!t->out->oom)
			t->out->buf[t->out->len] = '\0';
	}
	text_check(t);
}

static void text_key(faas__event_sink *s, const char *k, size_t n, bool z)
{
	faas__text_sink *t = text_of(s);

	(void)z;
	text_prefix(t);
	text_escape(t->out, k, n);
	jbuf_raw(t->out, ":", 1);
	t->after_key = true;
	text_check(t);
}

static void text_raw_value(faas__text_sink *t, const char *text, size_t n)
{
	text_prefix(t);
	jbuf_raw(t->out, text, n);
	text_check(t);
}

static void text_string(faas__event_sink *s, const char *v, size_t n, bool z)
{
	faas__text_sink *t = text_of(s);

	(void)z;
	if (!v)
		return text_raw_value(t, "null", 4);
	text_prefix(t);
	text_escape(t->out, v, n);
	text_check(t);
}

static void text_base64(faas__event_sink *s, const void *bytes, size_t n)
{
	faas__text_sink *t = text_of(s);
	faas__jbuf *w = t->out;

	text_prefix(t);
	faas__jbuf_reserve(w, faas__base64_encoded_len(n) + 3);
	if (!w->oom) {
		w->buf[w->len++] = '"';
		w->len += faas__base64_encode(w->buf + w->len, bytes, n);
		w->buf[w->len++] = '"';
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

static const faas__event_sink_ops text_ops = {
    text_begin, text_end, text_key, text_string, text_base64, text_null, text_boolean, text_number,
};

void faas__text_sink_init(faas__text_sink *t, faas__jbuf *out)
{
	memset(t, 0, sizeof(*t));
	t->base.ops = &text_ops;
	t->out = out;
	out->len = 0;
	out->oom = false;
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
	bool valid = utf8_valid(v, n, true);
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

static const faas__event_sink_ops tree_ops = {
    tree_begin,  tree_end,  tree_key,     tree_string_op,
    tree_base64, tree_null, tree_boolean, tree_number,
};

void faas__tree_sink_init(faas__tree_sink *t, faas__arena *arena, size_t keep)
{
	memset(t, 0, sizeof(*t));
	t->base.ops = &tree_ops;
	t->arena = arena;
	faas__arena_reset(arena, keep);
}

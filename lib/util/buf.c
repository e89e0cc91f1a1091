/* faas__buf: growth by doubling, the max bound, and the sticky failed flag. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

/* The first allocation: enough for most short texts without a regrowth. */
#define FAAS__BUF_START 64u

void faas__buf_init(faas__buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
	b->failed = false;
}

static bool fail(faas__buf *b)
{
	b->failed = true;
	return false;
}

bool faas__buf_reserve(faas__buf *b, size_t extra)
{
	size_t need, cap;
	char *grown;

	if (b->failed)
		return false;
	if (extra > SIZE_MAX - 1 - b->len)
		return fail(b);
	if (b->max && b->len + extra > b->max)
		return fail(b);
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : FAAS__BUF_START;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	/* A bounded buffer never allocates past what it may hold. */
	if (b->max && cap > b->max + 1)
		cap = b->max + 1;
	grown = realloc(b->data, cap);
	if (!grown)
		return fail(b);
	if (!b->data)
		grown[0] = '\0';
	b->data = grown;
	b->cap = cap;
	return true;
}

void faas__buf_append(faas__buf *b, const void *bytes, size_t n)
{
	if (!faas__buf_reserve(b, n))
		return;
	if (n)
		memcpy(b->data + b->len, bytes, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void faas__buf_append_char(faas__buf *b, char c)
{
	if (!faas__buf_reserve(b, 1))
		return;
	b->data[b->len++] = c;
	b->data[b->len] = '\0';
}

void faas__buf_append_str(faas__buf *b, const char *s)
{
	faas__buf_append(b, s, strlen(s));
}

void faas__buf_vappendf(faas__buf *b, const char *fmt, va_list ap)
{
	size_t room;
	va_list again;
	int n;

	if (b->failed)
		return;
	/* Format straight into the spare room; only text longer than that is
	 * formatted twice. */
	room = b->data ? b->cap - b->len : 0;
	va_copy(again, ap);
	n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
	if (n < 0) {
		if (b->data)
			b->data[b->len] = '\0';
		fail(b);
	} else if ((size_t)n < room && (!b->max || b->len + (size_t)n <= b->max)) {
		b->len += (size_t)n;
	} else if (!faas__buf_reserve(b, (size_t)n)) {
		/* vsnprintf may have written into the spare room. */
		if (b->data)
			b->data[b->len] = '\0';
	} else {
		vsnprintf(b->data + b->len, b->cap - b->len, fmt, again);
		b->len += (size_t)n;
	}
	va_end(again);
}

void faas__buf_appendf(faas__buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	faas__buf_vappendf(b, fmt, ap);
	va_end(ap);
}

char *faas__buf_take(faas__buf *b, size_t *len_out)
{
	char *data = b->data;
	size_t len = b->len;

	if (b->failed) {
		free(data);
		data = NULL;
		len = 0;
	} else if (!data) {
		data = calloc(1, 1);
	}
	faas__buf_init(b, b->max);
	if (len_out)
		*len_out = data ? len : 0;
	return data;
}

void faas__buf_reset(faas__buf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->data)
		b->data[0] = '\0';
}

void faas__buf_free(faas__buf *b)
{
	if (!b)
		return;
	free(b->data);
	faas__buf_init(b, b->max);
}

void faas__buf_shrink(faas__buf *b, size_t keep)
{
	if (b->cap > keep)
		faas__buf_free(b);
	else
		faas__buf_reset(b);
}

void faas__buf_truncate(faas__buf *b, size_t len)
{
	if (len > b->len)
		return;
	b->len = len;
	b->failed = false;
	if (b->data)
		b->data[len] = '\0';
}

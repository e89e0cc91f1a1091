/* faas__buf: a growable byte buffer for building text (JSON, metrics, log
 * lines, frames). Appends never report errors one by one: an allocation
 * failure, or growing past the optional maximum, sets `failed` and turns
 * every later append into a no-op, so a caller checks once at the end.
 * Libc only. */
#ifndef FAAS_UTIL_BUF_H
#define FAAS_UTIL_BUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#if defined(__GNUC__)
#define FAAS__BUF_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define FAAS__BUF_PRINTF(fmt, args)
#endif

/* data is NULL until the first byte is needed, and NUL-terminated whenever
 * it is not NULL (data[len] == '\0'). len never exceeds max when max is not
 * 0. Read the fields; change them only through the functions below. */
typedef struct faas__buf {
	char *data;
	size_t len; /* bytes written, not counting the terminating NUL */
	size_t cap; /* bytes allocated, the NUL's included */
	size_t max; /* most bytes len may reach; 0 for no limit */
	bool failed;
} faas__buf;

/* An empty, unbounded buffer, the same as faas__buf_init(&b, 0). */
#define FAAS__BUF_INIT {NULL, 0, 0, 0, false}

/* Make b empty; max is the most bytes it may hold (the terminating NUL not
 * counted), 0 for no limit. Allocates nothing. */
void faas__buf_init(faas__buf *b, size_t max);

/* Make room for extra more bytes (and the NUL) without changing len.
 * Returns false, with failed set, if that fails or would pass max; false
 * at once if failed is already set. */
bool faas__buf_reserve(faas__buf *b, size_t extra);

/* Append n bytes (which may contain NULs). All or nothing: if they do not
 * fit, nothing is appended and failed is set. */
void faas__buf_append(faas__buf *b, const void *bytes, size_t n);

/* Append one byte. */
void faas__buf_append_char(faas__buf *b, char c);

/* Append a NUL-terminated string (without its NUL). */
void faas__buf_append_str(faas__buf *b, const char *s);

/* Append printf-formatted text, all or nothing like faas__buf_append. An
 * encoding error from vsnprintf sets failed. */
void faas__buf_appendf(faas__buf *b, const char *fmt, ...) FAAS__BUF_PRINTF(2, 3);
void faas__buf_vappendf(faas__buf *b, const char *fmt, va_list ap) FAAS__BUF_PRINTF(2, 0);

/* Detach the text: returns the NUL-terminated data (the caller's, freed
 * with free()) and its length in *len_out (if not NULL); an empty buffer
 * gives a freshly allocated "". Returns NULL if failed was set (or that
 * allocation fails); the memory is then freed. Either way b is left empty,
 * with the same max and failed cleared, ready for reuse. */
char *faas__buf_take(faas__buf *b, size_t *len_out);

/* Empty b and clear failed, keeping its memory for the next text. */
void faas__buf_reset(faas__buf *b);

/* Cut b back to its first len bytes (len <= b->len) and clear failed: undo
 * what was appended after a mark, e.g. a record that did not fit. */
void faas__buf_truncate(faas__buf *b, size_t len);

/* Give b's memory back if its capacity passed keep (one huge text must not
 * pin megabytes); else keep it. Either way b is left empty. */
void faas__buf_shrink(faas__buf *b, size_t keep);

/* Free b's memory and leave it empty (same max, failed cleared). b may be
 * NULL, and a freed buffer may be freed again. */
void faas__buf_free(faas__buf *b);

#endif /* FAAS_UTIL_BUF_H */

/* The JSON text writer: values appended to a faas__buf, with the commas put
 * in by the writer, and the one string escaping rule every event and answer
 * uses. Libc only.
 *
 * Strings (RFC 8259): '"' and '\' are escaped, \b \f \n \r \t get their
 * short forms, every other byte below 0x20 is written \u00xx (lowercase
 * hex, as cJSON prints it, so cJSON's text and ours agree byte for byte);
 * 0x7f and valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * past U+10FFFF) pass unchanged. Each maximal subpart of an invalid sequence
 * (Unicode ch. 3 "U+FFFD substitution of maximal subparts", as WHATWG
 * decodes) becomes one U+FFFD, so the text is always valid UTF-8. */
#ifndef FAAS_UTIL_JSON_H
#define FAAS_UTIL_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Deepest nesting of objects and arrays a writer follows. */
#define FAAS__JSON_DEPTH_MAX 64u

/* A writer appending one JSON value (usually an object) to buf. Misuse
 * (a key outside an object, a value in an object without its key, an end
 * that does not match, nesting past FAAS__JSON_DEPTH_MAX, a second top-level
 * value) sets buf->failed, as running out of memory does: the text is then
 * not to be used. Fields are private. */
typedef struct faas__json {
	faas__buf *buf;
	uint64_t objects; /* bit d set: level d + 1 is an object (else an array) */
	unsigned int depth;
	bool comma;      /* the next key or value needs a ',' before it */
	bool want_value; /* a key was written; its value comes next */
} faas__json;

/* Start a writer on buf (which keeps its contents: the value is appended). */
void faas__json_init(faas__json *w, faas__buf *buf);

/* True if exactly one whole value was written and buf has not failed. */
bool faas__json_done(const faas__json *w);

void faas__json_begin_object(faas__json *w);
void faas__json_end_object(faas__json *w);
void faas__json_begin_array(faas__json *w);
void faas__json_end_array(faas__json *w);

/* An object's key (escaped like a string), n bytes at k. */
void faas__json_key(faas__json *w, const char *k, size_t n);
/* The same for a NUL-terminated key. */
void faas__json_key_str(faas__json *w, const char *k);

/* A string value of n bytes at s (which may contain NULs: \u0000). */
void faas__json_string(faas__json *w, const char *s, size_t n);
/* A NUL-terminated string value; NULL writes null. */
void faas__json_cstring(faas__json *w, const char *s);
/* n bytes of text that already is one JSON value, copied as they are. */
void faas__json_raw(faas__json *w, const char *json, size_t n);
void faas__json_int64(faas__json *w, int64_t v);
void faas__json_uint64(faas__json *w, uint64_t v);
/* A finite v as the shortest of %.15g, %.16g, %.17g that reads back as v
 * (with '.' whatever the locale); NaN and infinities as null. */
void faas__json_double(faas__json *w, double v);
void faas__json_bool(faas__json *w, bool v);
void faas__json_null(faas__json *w);

/* Append s (n bytes) as a JSON string, quotes included, by the rule above.
 * Needs no writer: for callers that lay out the rest of the text
 * themselves. */
void faas__json_escape(faas__buf *b, const char *s, size_t n);

/* True if the n bytes at s are valid UTF-8 (RFC 3629). NUL bytes are valid
 * UTF-8; a caller that refuses them checks for them itself. */
bool faas__utf8_valid(const char *s, size_t n);
/* Valid UTF-8 with no NUL byte: text as HTTP bodies are told from binary. */
bool faas__utf8_text(const char *s, size_t n);
/* src made valid UTF-8 by the escaping rule (each maximal invalid subpart
 * becomes one U+FFFD) into dst, which has room for 3 * n bytes; returns the
 * length written. The string a JSON parser reads from faas__json_escape's
 * text is exactly this. */
size_t faas__utf8_sanitize(char *dst, const char *src, size_t n);

#endif /* FAAS_UTIL_JSON_H */

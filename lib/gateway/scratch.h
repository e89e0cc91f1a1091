/*
 * libfaas gateway — the HTTP trigger's per-request scratch (scratch.c): the
 * decode buffer for path segments and query pairs, and the arrays of pieces
 * (segments, query pairs, headers) that the route matcher and the proxy
 * event read. The loop runs one request at a time, so one scratch per
 * trigger is reused from request to request.
 */
#ifndef FAAS_LIB_GATEWAY_SCRATCH_H
#define FAAS_LIB_GATEWAY_SCRATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "pct.h"

/* A piece of the request: a path segment, a query pair or a header. */
typedef struct faas__piece {
	size_t key, key_len; /* offsets into the decode buffer (segments, pairs) */
	size_t value, value_len;
	size_t raw;          /* path segments: offset in the raw path */
	size_t index;        /* original order */
	const char *kp, *vp; /* resolved pointers */
} faas__piece;

typedef struct faas__scratch {
	char *dec; /* decoded path segments and query pairs, each NUL-terminated */
	size_t dec_len, dec_cap;
	faas__piece *segs, *pairs, *hdrs;
	size_t nsegs, segs_cap, npairs, pairs_cap, nhdrs, hdrs_cap;
} faas__scratch;

/* Grow *buf (of *cap elements of size bytes) to hold need elements, doubling.
 * Returns 0 or FAAS_ENOMEM (*buf unchanged). */
int faas__grow(void **buf, size_t *cap, size_t need, size_t size);

/* Append the decoded form of src to the decode buffer, NUL-terminated;
 * returns its offset (the buffer may move: keep offsets, not pointers).
 * On failure sets *oom and *len = 0. */
size_t faas__scratch_dec_push(faas__scratch *s, const char *src, size_t n, bool plus, size_t *len,
                              bool *oom);

/* A zeroed piece at the end of *arr, or NULL with *oom set. */
faas__piece *faas__scratch_piece_push(faas__piece **arr, size_t *n, size_t *cap, bool *oom);

void faas__scratch_free(faas__scratch *s);

#endif /* FAAS_LIB_GATEWAY_SCRATCH_H */

/* The HTTP trigger's per-request scratch: growth, percent-decoding into the
 * decode buffer, and piece arrays (see scratch.h). */
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "faas/errors.h"
#include "scratch.h"

int faas__grow(void **buf, size_t *cap, size_t need, size_t size)
{
	size_t n;
	void *p;

	if (need <= *cap)
		return 0;
	n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n * size);
	if (!p)
		return FAAS_ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

size_t faas__scratch_dec_push(faas__scratch *s, const char *src, size_t n, bool plus, size_t *len,
                              bool *oom)
{
	size_t at = s->dec_len;

	if (faas__grow((void **)&s->dec, &s->dec_cap, s->dec_len + n + 1, 1) != 0) {
		*oom = true;
		*len = 0;
		return 0;
	}
	*len = faas__pct_decode(s->dec + at, src, n, plus ? FAAS__PCT_PLUS_SPACE : 0);
	s->dec_len += *len;
	s->dec[s->dec_len++] = '\0';
	return at;
}

faas__piece *faas__scratch_piece_push(faas__piece **arr, size_t *n, size_t *cap, bool *oom)
{
	if (faas__grow((void **)arr, cap, *n + 1, sizeof(faas__piece)) != 0) {
		*oom = true;
		return NULL;
	}
	memset(&(*arr)[*n], 0, sizeof(faas__piece));
	return &(*arr)[(*n)++];
}

void faas__scratch_free(faas__scratch *s)
{
	free(s->dec);
	free(s->segs);
	free(s->pairs);
	free(s->hdrs);
	memset(s, 0, sizeof(*s));
}

/* Frame encoding and decoding for the process-isolation channel; shared,
 * source for source, by the runtime and faas-worker. */
#include <stdlib.h>
#include <string.h>

#include "worker_proto.h"

static void put(faas__wbuf *b, const void *src, size_t n)
{
	faas__buf_append(b, src, n);
}

static void put_le(faas__wbuf *b, uint64_t v, size_t n)
{
	unsigned char bytes[8];

	for (size_t i = 0; i < n; i++)
		bytes[i] = (unsigned char)(v >> (8 * i));
	put(b, bytes, n);
}

void faas__wbuf_begin(faas__wbuf *b, uint8_t type)
{
	unsigned char header[FAAS__WP_HEADER] = {0, 0, 0, 0, type};

	faas__buf_init(b, 0);
	put(b, header, sizeof(header));
}

void faas__wbuf_u8(faas__wbuf *b, uint8_t v)
{
	put(b, &v, 1);
}

void faas__wbuf_u32(faas__wbuf *b, uint32_t v)
{
	put_le(b, v, 4);
}

void faas__wbuf_u64(faas__wbuf *b, uint64_t v)
{
	put_le(b, v, 8);
}

void faas__wbuf_str(faas__wbuf *b, const char *s, size_t len)
{
	/* NULL with a length is a caller's bug: fail the frame, read nothing. */
	if (len > UINT32_MAX - 1 || (!s && len > 0)) {
		b->failed = true;
		return;
	}
	put_le(b, len, 4);
	put(b, s ? s : "", len);
	put(b, "", 1);
}

void faas__wbuf_cstr(faas__wbuf *b, const char *s)
{
	faas__wbuf_str(b, s ? s : "", s ? strlen(s) : 0);
}

int faas__wbuf_finish(faas__wbuf *b)
{
	uint64_t n;

	if (b->failed || b->len - FAAS__WP_HEADER > UINT32_MAX) {
		faas__wbuf_free(b);
		return -1;
	}
	n = b->len - FAAS__WP_HEADER;
	for (size_t i = 0; i < 4; i++)
		b->data[i] = (char)(unsigned char)(n >> (8 * i));
	return 0;
}

void faas__wbuf_free(faas__wbuf *b)
{
	faas__buf_free(b);
}

static uint64_t get_le(faas__rbuf *r, size_t n)
{
	uint64_t v = 0;

	if (r->bad || r->left < n) {
		r->bad = true;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)(unsigned char)r->p[i] << (8 * i);
	r->p += n;
	r->left -= n;
	return v;
}

uint8_t faas__rbuf_u8(faas__rbuf *r)
{
	return (uint8_t)get_le(r, 1);
}

uint32_t faas__rbuf_u32(faas__rbuf *r)
{
	return (uint32_t)get_le(r, 4);
}

uint64_t faas__rbuf_u64(faas__rbuf *r)
{
	return get_le(r, 8);
}

const char *faas__rbuf_str(faas__rbuf *r, size_t *len)
{
	uint32_t n = faas__rbuf_u32(r);
	const char *s;

	if (len)
		*len = 0;
	if (r->bad || r->left < (size_t)n + 1 || r->p[n] != '\0') {
		r->bad = true;
		return "";
	}
	s = r->p;
	r->p += (size_t)n + 1;
	r->left -= (size_t)n + 1;
	if (len)
		*len = n;
	return s;
}

uint32_t faas__wp_get_u32(const void *p)
{
	const unsigned char *b = p;

	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

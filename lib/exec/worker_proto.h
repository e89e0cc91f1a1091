/*
 * libfaas — the framing shared by the runtime and faas-worker (process
 * isolation). Both sides include this header; it depends on nothing of
 * libfaas but util's buffer, because the worker is a separate program that
 * does not link the library (it links util).
 *
 * A frame is a 4-byte little-endian payload length, a 1-byte type, then the
 * payload. Payload fields are fixed-width little-endian integers and strings
 * written as a u32 length, the bytes and a NUL (not counted in the length), so
 * a reader can hand out pointers into the frame. Messages:
 *
 *   LOAD      host → worker  u32 memory_mb, u32 result_limit, u8 init_now,
 *                            str library, str symbol, str name, str version,
 *                            u8 seccomp (faas_seccomp), u32 max_processes
 *   READY     worker → host  u8 ok, str error, str limit note
 *   INVOKE    host → worker  u64 seq, str request_id, u64 remaining_ms,
 *                            str event JSON
 *   RESULT    worker → host  u64 seq, u8 kind, i32 rc, u64 bytes_out,
 *                            str a, str b   (see faas__wp_result_kind)
 *   STATE_REQ worker → host  u64 seq, u8 op, str key, str value, u64 version,
 *                            i64 delta
 *   STATE_RESP host → worker u64 seq, i32 rc, str value, u64 version,
 *                            i64 number
 *
 * seq numbers a worker's calls 1, 2, 3...: every frame of a call carries its
 * call's, and the host kills a worker that sends a frame for no call, for
 * another call or out of turn (a handler can write on fd 3 itself). Nothing
 * a worker says is used for accounting: the host takes the duration from its
 * own clock, and CPU and memory from the kernel.
 */
#ifndef FAAS_WORKER_PROTO_H
#define FAAS_WORKER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The channel is the worker's fd 3 (0..2 are stdin, stdout, stderr). */
#define FAAS__WP_CHANNEL_FD 3
#define FAAS__WP_HEADER 5u
/* Room in a frame beyond the result (or event) text: the fixed fields and the
 * error strings. A frame longer than its bound is a protocol error. */
#define FAAS__WP_SLACK (64u * 1024u)
/* Error texts crossing the channel are cut to this. */
#define FAAS__WP_ERRTEXT_MAX 4096u
/* A state value crossing the channel; larger ones are refused (FAAS_ETOOBIG). */
#define FAAS__WP_STATE_VALUE_MAX (1024u * 1024u)

enum faas__wp_type {
	FAAS__WP_LOAD = 1,
	FAAS__WP_READY,
	FAAS__WP_INVOKE,
	FAAS__WP_RESULT,
	FAAS__WP_STATE_REQ,
	FAAS__WP_STATE_RESP
};

enum faas__wp_result_kind {
	FAAS__WPR_OK = 0,      /* a = result JSON text */
	FAAS__WPR_ERROR,       /* a = error type ("" if none), b = message */
	FAAS__WPR_TOO_BIG,     /* bytes_out = the result's size */
	FAAS__WPR_OOM,         /* the result could not be printed: no memory */
	FAAS__WPR_BAD_EVENT,   /* the event text did not parse */
	FAAS__WPR_LOAD_FAILED  /* b = message (dlopen, symbol, ABI, init) */
};

enum faas__wp_state_op { FAAS__WPS_GET = 1, FAAS__WPS_PUT, FAAS__WPS_DELETE, FAAS__WPS_INCR };

/* A frame being written: begin, add fields, finish (fills the length). A
 * util buffer: failed is set once an allocation failed (finish returns -1). */
typedef faas__buf faas__wbuf;

void faas__wbuf_begin(faas__wbuf *b, uint8_t type);
void faas__wbuf_u8(faas__wbuf *b, uint8_t v);
void faas__wbuf_u32(faas__wbuf *b, uint32_t v);
void faas__wbuf_u64(faas__wbuf *b, uint64_t v);
void faas__wbuf_str(faas__wbuf *b, const char *s, size_t len);
void faas__wbuf_cstr(faas__wbuf *b, const char *s); /* NULL writes "" */
/* 0, or -1 if an allocation failed (the buffer is then freed). */
int faas__wbuf_finish(faas__wbuf *b);
void faas__wbuf_free(faas__wbuf *b);

/* A frame being read. A short or malformed field sets bad and reads as 0/"". */
typedef struct faas__rbuf {
	const char *p;
	size_t left;
	bool bad;
} faas__rbuf;

uint8_t faas__rbuf_u8(faas__rbuf *r);
uint32_t faas__rbuf_u32(faas__rbuf *r);
uint64_t faas__rbuf_u64(faas__rbuf *r);
const char *faas__rbuf_str(faas__rbuf *r, size_t *len);

uint32_t faas__wp_get_u32(const void *p);

#endif /* FAAS_WORKER_PROTO_H */

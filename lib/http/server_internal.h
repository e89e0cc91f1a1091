/*
 * libfaas — what the server's own files share: the exchange, connection and
 * server records, and the calls between those files. Nothing outside
 * lib/http/ includes this.
 *
 * Order. Each file calls only the files below it, bottom to top: server.c
 * (the server's memory, references and open handles), conn_life.c (a
 * connection's references, its exchange queue, closing at once),
 * respond.c (answers, written in request order), conn.c (reading and
 * parsing, timeouts, the server's own answers, lingering) and listener.c
 * (binding, accepting, closing). Where a lower file must have a higher one
 * act, to read on or linger once an answer left, it calls through the
 * connection's ops, which conn.c sets when it creates the connection.
 *
 * Memory. Each connection parses into exchanges: one per request, holding
 * the parsed message (request_parser.h) and, once answered, the response
 * bytes. Exchanges are queued per connection in request order and answers
 * leave in that order, whatever order they are made in. A connection keeps
 * a couple of spent exchanges with their buffers for its next requests, so a
 * keep-alive connection in steady state allocates nothing here. All
 * connections of a server read into one buffer: reads are consumed before
 * the next one, and only bytes left unprocessed when reading pauses are
 * copied.
 *
 * Lifetimes are in http_server.h. The rule that keeps it safe: a connection
 * is freed only once its handles' close callbacks ran and no exchange,
 * write or shutdown refers to it.
 */
#ifndef FAAS_HTTP_SERVER_INTERNAL_H
#define FAAS_HTTP_SERVER_INTERNAL_H

#include <time.h>

#include "date.h"
#include "request_parser.h"

enum {
	X_PARSING = 0, /* request being read */
	X_WAITING,     /* complete, handed to the owner, no answer yet */
	X_READY,       /* answered, waiting for the answers before it */
	X_WRITING      /* handed to uv_write (or the detached written list) */
};

struct faas__http_exchange {
	faas__http_conn *c;
	faas__http_exchange *next; /* the connection's queue, or its spares */
	int state;
	faas__http_message msg;
	faas__http_abort_fn abort; /* called if the client goes before the answer */
	void *abort_arg;
	char *out; /* the response: head and body */
	size_t out_len, out_cap;
	uv_write_t wr;
};

/* What conn.c does for the files below it, through each connection. */
typedef struct faas__http_conn_ops {
	/* Reading may go on: fewer requests wait, or an answer was written. */
	void (*resume)(faas__http_conn *c);
	/* The last answer is written: send FIN, linger, close. */
	void (*linger)(faas__http_conn *c);
} faas__http_conn_ops;

struct faas__http_conn {
	uv_tcp_t tcp;
	uv_timer_t timer;
	faas__http_server *srv;
	const faas__http_conn_ops *ops; /* conn.c's, set at creation */
	unsigned int refs;              /* handles (until closed) + exchanges + requests */
	unsigned int handles_open;
	faas__http_reader reader;
	faas__http_exchange *cur; /* being parsed; also in the queue */
	faas__http_exchange *qhead, *qtail;
	faas__http_exchange *spare;
	unsigned int nspare;
	unsigned int nx;                             /* exchanges alive (queued or being written) */
	faas__http_exchange *written, *written_tail; /* detached: awaiting completion */

	char *left; /* unprocessed input kept while paused */
	size_t left_len, left_off;

	uint64_t accepted_ms, msg_start_ms, body_start_ms, last_active_ms, timer_due;
	size_t linger_bytes;
	uv_shutdown_t shut;

	unsigned int in_process; /* conn_process frames on the stack */
	bool detached, reading, closing, lingering, stop_parsing, served;
	bool client_loopback;
	char client_ip[48];
	struct faas__http_conn *prev, *next;
};

struct faas__http_server {
	uv_loop_t *loop;
	uv_tcp_t *listener;             /* NULL when detached */
	faas__http_server_options opts; /* host points at a copy */
	faas__http_server_cbs cbs;      /* zeroed once the owner let go */
	void *arg;
	unsigned int refs;         /* owner + listener + connections in memory */
	unsigned int open_handles; /* listener + connections not yet closed */
	unsigned int nconns;
	faas__http_conn *conns;
	bool stopping, closing, closed_reported;
	uint16_t port;
	char *rbuf;
	time_t date_sec; /* the Date header's second, formatted once */
	char date[FAAS__DATE_IMF_SIZE];
};

/* ---- server.c ---- */

faas__http_server *faas__http_server_alloc(const faas__http_server_options *opts,
                                           const faas__http_server_cbs *cbs, void *arg);
/* Free at once, whatever the references (a server that never started). */
void faas__http_server_free(faas__http_server *srv);
void faas__http_server_unref(faas__http_server *srv);
/* A handle of the server closed: report closed after the last one. */
void faas__http_server_handle_closed(faas__http_server *srv);
/* Run the owner's closed callback (once: it sets closed_reported). */
void faas__http_server_report_closed(faas__http_server *srv);

/* ---- conn_life.c ---- */

/* Close at once: the client is gone, or must go. */
void faas__http_conn_close_now(faas__http_conn *c);
void faas__http_conn_unref(faas__http_conn *c);
/* The loop's time in ms; 0 on a detached connection. */
uint64_t faas__http_conn_now(const faas__http_conn *c);
/* A new exchange at the end of the queue (a spare if there is one), or
 * NULL without memory. */
faas__http_exchange *faas__http_exchange_new(faas__http_conn *c);
void faas__http_queue_remove(faas__http_conn *c, faas__http_exchange *x);
/* The exchange is out of every list: give it back. */
void faas__http_exchange_release(faas__http_exchange *x);

/* ---- respond.c ---- */

/* Write "100 Continue" for the exchange whose body the client holds back. */
void faas__http_send_continue(faas__http_conn *c, faas__http_exchange *x);
/* An answer's write finished (status < 0: failed); reading may resume. */
void faas__http_write_done(faas__http_exchange *x, int status);

/* ---- conn.c ---- */

/* Accept a client from the listener (the caller checked the caps). */
void faas__http_conn_accept(faas__http_server *srv, uv_stream_t *listener);

#endif /* FAAS_HTTP_SERVER_INTERNAL_H */

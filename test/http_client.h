/*
 * A tiny blocking HTTP client for the HTTP trigger's tests. It runs a script
 * (send bytes, read N responses, sleep, wait for a flag, expect the server to
 * close, close) on its own thread against 127.0.0.1, while the test's thread
 * drives the runtime's loop until the script is done. It sends raw bytes and
 * keeps the raw answer, so malformed requests can be sent on purpose.
 *
 * Every blocking call is bounded (TH_WAIT_MS), so a server bug fails the
 * test instead of hanging it.
 */
#ifndef FAAS_TEST_HTTP_CLIENT_H
#define FAAS_TEST_HTTP_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <faas.h>

#define HC_MAX_STEPS 16
#define HC_MAX_RESPONSES 64

typedef enum hc_op {
	HC_SEND,         /* send data[0..len) */
	HC_READ,         /* read n responses (a 1xx interim answer counts as one) */
	HC_SLEEP,        /* sleep n ms */
	HC_WAIT_FLAG,    /* wait until *flag != 0 */
	HC_EXPECT_CLOSE, /* read until the server closes (EOF or reset) */
	HC_CLOSE,        /* close the socket now */
	HC_HEAD          /* the next response answers HEAD: no body */
} hc_op;

typedef struct hc_step {
	hc_op op;
	const char *data;
	size_t len;
	unsigned int n;
	atomic_int *flag;
} hc_step;

typedef struct hc_response {
	int status;
	char *head; /* status line and headers, NUL-terminated */
	char *body; /* NUL-terminated; may contain NULs */
	size_t body_len;
} hc_response;

typedef struct hc {
	uint16_t port;
	hc_step steps[HC_MAX_STEPS];
	size_t nsteps;

	/* results */
	hc_response resp[HC_MAX_RESPONSES];
	int nresp;
	atomic_int nread; /* nresp, for the test's thread while the script runs */
	bool connected;
	bool closed; /* the server closed (EOF or reset) */
	uint64_t closed_at_ms;
	char error[256]; /* a step failed: what happened */

	/* internal */
	int fd;
	char *buf;
	size_t len, cap;
	bool head_next;
	atomic_bool done;
	atomic_bool started;
	pthread_t thread;
} hc;

void hc_init(hc *c, uint16_t port);
void hc_send(hc *c, const char *data, size_t len);
void hc_send_str(hc *c, const char *text);
void hc_read(hc *c, unsigned int n);
void hc_sleep(hc *c, unsigned int ms);
void hc_wait_flag(hc *c, atomic_int *flag);
void hc_expect_close(hc *c);
void hc_close(hc *c);
void hc_head(hc *c);

/* Start the script on its own thread. */
void hc_start(hc *c);
/* Whether the script finished (for th_wait_for). */
bool hc_done(void *c);
/* Drive rt's loop until the script is done (asserting it finished in
 * TH_WAIT_MS), then join the thread. */
void hc_run(hc *c, faas_runtime *rt);
/* Join without driving a loop (the script must be done). */
void hc_join(hc *c);
void hc_free(hc *c);

/* The value of a header of a response (case-insensitive), copied into out;
 * NULL if absent. */
const char *hc_header(const hc_response *r, const char *name, char *out, size_t size);

#endif /* FAAS_TEST_HTTP_CLIENT_H */

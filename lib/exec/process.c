/* The process executor: a pool of faas-worker processes per function
 * (`process` isolation). Everything here runs on the loop thread; the host
 * never blocks on a worker: it writes frames with uv_write and reads the
 * channel, stdout and stderr with uv_read_start.
 *
 * A worker is LOADING (spawned, LOAD sent, READY not yet back), IDLE, BUSY
 * (one call), or DEAD (killed or exited; its handles are closing). A call goes
 * to an idle worker, else to a loading one nobody waits for, else to a new
 * worker (a cold start) while the pool is below its maximum; otherwise it is
 * throttled. Frames to a loading worker queue in the pipe behind LOAD, so a
 * call never waits on the loop.
 *
 * Completion. A RESULT fills the ctx the way faas__ctx_execute does in a
 * thread and reports it through the executor contract (rt->exec_done), so usage,
 * billing, activations and stats are the thread mode's. A worker that exits
 * or is killed by a signal during a call completes it `developer_error`
 * (Runtime.ExitError) with the exit status or signal. At a deadline invoke.c
 * calls faas__proc_abandon: the worker is SIGKILLed and the call completes
 * `timeout` on the usual abandoned path. In every case the ctx is detached
 * from its worker before completion, so a worker never completes twice.
 *
 * Handles. Each worker has four (the process and three pipes), counted in the
 * runtime's open handles; its memory goes in the last close callback. The
 * process handle is closed only after its exit callback, so no zombie is left.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec.h"
#include "worker_proto.h"

#ifndef FAAS__WORKER_BUILD_PATH
#define FAAS__WORKER_BUILD_PATH ""
#endif
#ifndef FAAS__WORKER_INSTALL_PATH
#define FAAS__WORKER_INSTALL_PATH "/usr/local/libexec/faas-worker"
#endif

/* One read of a worker's pipes. */
#define FAAS__PROC_READ_CHUNK (64u * 1024u)
/* A line of handler output longer than this is logged in pieces. */
#define FAAS__PROC_LINE_MAX 4096u
/* What is left in a finished worker's stdout and stderr is read at once
 * (nonblocking); a worker blocked in write cannot have more than its pipe
 * buffer pending, this bounds the reads all the same. */
#define FAAS__PROC_DRAIN_READS 64u
/* The channel's input buffer is given back when empty past this size. */
#define FAAS__PROC_INBUF_KEEP (64u * 1024u)

typedef enum wstate { W_LOADING, W_IDLE, W_BUSY, W_DEAD } wstate;

typedef struct proc_worker {
	uv_process_t proc;
	uv_pipe_t chan, out, err;
	struct faas__proc_pool *pool;
	wstate st;
	int open;    /* handles not yet closed */
	bool exited; /* the exit callback ran */
	bool loaded; /* READY came back ok */
	bool load_failed;
	faas_ctx *ctx; /* the call it runs, NULL if none */
	char *in;      /* channel bytes not yet parsed */
	size_t in_len, in_cap;
	char line[2][FAAS__PROC_LINE_MAX];
	size_t line_len[2];
	char fail[160]; /* why the host killed it, "" if it did not */
	uint64_t idle_since_ns;
	struct proc_worker *next;
	char readbuf[FAAS__PROC_READ_CHUNK];
} proc_worker;

struct faas__proc_pool {
	faas_runtime *rt;
	faas_fn *fn; /* a reference, released with the pool */
	char *library, *symbol, *worker_path;
	unsigned int min, max;
	uint32_t idle_ms;
	faas_seccomp seccomp;
	size_t max_frame;
	proc_worker *workers; /* every worker whose handles are not all closed */
	unsigned int live;    /* workers not DEAD */
	uv_timer_t idle_timer;
	bool timer_open, closing;
	bool holds_fn; /* the fn reference is taken once creation succeeded */
};

/* Hand a call's outcome to the runtime (the executor contract). type NULL:
 * the RESULT frame filled ctx the way a handler run in the host would. */
static void report(faas_runtime *rt, faas_ctx *ctx, faas_status status, const char *type,
		   const char *msg)
{
	faas__outcome o = {status, type, msg};

	rt->exec_done(rt, ctx, &o);
}

static void pool_maybe_free(faas__proc_pool *pool)
{
	if (!pool->closing || pool->workers || pool->timer_open)
		return;
	if (pool->holds_fn)
		faas__fn_release(pool->fn);
	free(pool->library);
	free(pool->symbol);
	free(pool->worker_path);
	free(pool);
}

static void on_worker_handle_closed(uv_handle_t *h)
{
	proc_worker *w = h->data;
	faas__proc_pool *pool = w->pool;
	faas_runtime *rt = pool->rt;

	if (--w->open == 0) {
		for (proc_worker **p = &pool->workers; *p; p = &(*p)->next) {
			if (*p == w) {
				*p = w->next;
				break;
			}
		}
		free(w->in);
		free(w);
		pool_maybe_free(pool);
	}
	/* Last: with a host loop this may free the runtime. */
	faas__handles_closed(rt);
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, on_worker_handle_closed);
}

static void close_pipes(proc_worker *w)
{
	close_handle((uv_handle_t *)&w->chan);
	close_handle((uv_handle_t *)&w->out);
	close_handle((uv_handle_t *)&w->err);
}

/* ---- handler output → the call's log ---- */

static void emit_line(proc_worker *w, int s)
{
	if (w->ctx)
		faas__ctx_log_line(w->ctx, w->line[s], w->line_len[s]);
	w->line_len[s] = 0;
}

static void take_output(proc_worker *w, int s, const char *p, size_t n)
{
	/* Between calls there is nobody to charge: the output is dropped. */
	if (!w->ctx)
		return;
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t take = nl ? (size_t)(nl - p) : n;
		size_t room = FAAS__PROC_LINE_MAX - w->line_len[s];

		if (take > room)
			take = room;
		memcpy(w->line[s] + w->line_len[s], p, take);
		w->line_len[s] += take;
		p += take;
		n -= take;
		if (n > 0 && *p == '\n') {
			p++;
			n--;
			emit_line(w, s);
		} else if (w->line_len[s] == FAAS__PROC_LINE_MAX) {
			emit_line(w, s);
		}
	}
}

static void flush_lines(proc_worker *w)
{
	for (int s = 0; s < 2; s++)
		if (w->line_len[s] > 0)
			emit_line(w, s);
}

/* Read what a worker that has stopped writing left in a pipe. libuv's pipe
 * ends are nonblocking, so this never waits. */
static void drain(proc_worker *w, uv_pipe_t *p, int s)
{
	uv_os_fd_t fd;

	if (uv_is_closing((uv_handle_t *)p) || uv_fileno((uv_handle_t *)p, &fd) != 0)
		return;
	for (unsigned int i = 0; i < FAAS__PROC_DRAIN_READS; i++) {
		ssize_t n = read(fd, w->readbuf, sizeof(w->readbuf));

		if (n <= 0)
			break;
		take_output(w, s, w->readbuf, (size_t)n);
	}
}

static void drain_output(proc_worker *w)
{
	drain(w, &w->out, 0);
	drain(w, &w->err, 1);
	flush_lines(w);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	proc_worker *w = h->data;

	(void)suggested;
	*buf = uv_buf_init(w->readbuf, sizeof(w->readbuf));
}

static void on_output(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	proc_worker *w = s->data;

	if (nread < 0) {
		uv_read_stop(s);
		return;
	}
	take_output(w, s == (uv_stream_t *)&w->out ? 0 : 1, buf->base, (size_t)nread);
}

/* ---- killing and exit ---- */

static void pool_spawn_to_min(faas__proc_pool *pool);

static void kill_worker(proc_worker *w, const char *why)
{
	if (w->st == W_DEAD)
		return;
	if (why && !w->fail[0])
		snprintf(w->fail, sizeof(w->fail), "%s", why);
	w->st = W_DEAD;
	w->pool->live--;
	if (!w->exited) {
		uv_process_kill(&w->proc, SIGKILL);
		/* Shutdown waits for the exit, so that the child is reaped. */
		uv_ref((uv_handle_t *)&w->proc);
	}
	close_pipes(w);
}

/* Detach the call from its worker: from here on only the loop completes it. */
static faas_ctx *detach(proc_worker *w)
{
	faas_ctx *ctx = w->ctx;

	if (ctx)
		ctx->exec.worker = NULL;
	w->ctx = NULL;
	w->line_len[0] = w->line_len[1] = 0;
	return ctx;
}

static void on_worker_exit(uv_process_t *proc, int64_t status, int term_signal)
{
	proc_worker *w = proc->data;
	faas__proc_pool *pool = w->pool;
	faas_ctx *ctx;
	char msg[FAAS__ERRMSG_SIZE];

	w->exited = true;
	if (w->ctx) {
		drain_output(w);
		if (w->fail[0])
			snprintf(msg, sizeof(msg), "worker stopped: %s", w->fail);
		else if (term_signal)
			snprintf(msg, sizeof(msg), "worker killed by signal %d (%s)", term_signal,
			         strsignal(term_signal));
		else
			snprintf(msg, sizeof(msg), "worker exited with status %lld",
			         (long long)status);
		ctx = detach(w);
		atomic_store(&ctx->state, FAAS__DONE);
		report(pool->rt, ctx, FAAS_STATUS_DEVELOPER_ERROR, FAAS__ERR_EXIT,
		                    msg);
	}
	kill_worker(w, NULL);
	close_handle((uv_handle_t *)&w->proc);
	pool_spawn_to_min(pool);
}

/* ---- sending ---- */

typedef struct send_req {
	uv_write_t req;
	char *data;
} send_req;

static void on_sent(uv_write_t *req, int status)
{
	send_req *r = (send_req *)req;

	(void)status; /* a failed write shows up as the worker's exit */
	free(r->data);
	free(r);
}

static int send_frame(proc_worker *w, faas__wbuf *b)
{
	send_req *r;
	uv_buf_t buf;

	if (faas__wbuf_finish(b) != 0)
		return FAAS_ENOMEM;
	r = malloc(sizeof(*r));
	if (!r) {
		faas__wbuf_free(b);
		return FAAS_ENOMEM;
	}
	r->data = b->data;
	buf = uv_buf_init(b->data, (unsigned int)b->len);
	if (uv_write(&r->req, (uv_stream_t *)&w->chan, &buf, 1, on_sent) != 0) {
		free(r->data);
		free(r);
		return FAAS_ESYSTEM;
	}
	return 0;
}

/* ---- the idle reaper ---- */

static void arm_idle_timer(faas__proc_pool *pool);

static void on_idle_timer(uv_timer_t *t)
{
	faas__proc_pool *pool = t->data;
	uint64_t now = faas__now_ns(), ttl = (uint64_t)pool->idle_ms * 1000000u;

	for (proc_worker *w = pool->workers; w && pool->live > pool->min; w = w->next)
		if (w->st == W_IDLE && w->idle_since_ns + ttl <= now)
			kill_worker(w, "idle");
	arm_idle_timer(pool);
}

static void arm_idle_timer(faas__proc_pool *pool)
{
	uint64_t first = 0, now = faas__now_ns(), due;

	if (pool->closing || pool->live <= pool->min)
		return;
	for (proc_worker *w = pool->workers; w; w = w->next)
		if (w->st == W_IDLE && (first == 0 || w->idle_since_ns < first))
			first = w->idle_since_ns;
	if (first == 0)
		return;
	due = first + (uint64_t)pool->idle_ms * 1000000u;
	uv_timer_start(&pool->idle_timer, on_idle_timer,
	               due > now ? (due - now + 999999u) / 1000000u : 0, 0);
}

static void become_idle(proc_worker *w)
{
	if (w->pool->closing || w->load_failed) {
		kill_worker(w, NULL);
		return;
	}
	w->st = W_IDLE;
	w->idle_since_ns = faas__now_ns();
	arm_idle_timer(w->pool);
}

/* ---- frames from a worker ---- */

static void fill_result(proc_worker *w, faas__rbuf *r)
{
	faas_ctx *ctx = w->ctx;
	uint8_t kind = faas__rbuf_u8(r);
	int rc = (int)(int32_t)faas__rbuf_u32(r);
	uint64_t peak = faas__rbuf_u64(r), cpu = faas__rbuf_u64(r);
	uint64_t init_us = faas__rbuf_u64(r);
	bool cold = faas__rbuf_u8(r) != 0;
	uint64_t run_us = faas__rbuf_u64(r), bytes_out = faas__rbuf_u64(r);
	size_t alen;
	const char *a = faas__rbuf_str(r, &alen), *b = faas__rbuf_str(r, NULL);
	uint64_t now = faas__now_ns(), started = atomic_load(&ctx->started_ns), hs;
	char msg[FAAS__ERRMSG_SIZE];

	if (r->bad) {
		kill_worker(w, "it sent a malformed result");
		return;
	}
	drain_output(w);
	detach(w);
	ctx->finished_ns = now;
	hs = now - (run_us * 1000u < now - started ? run_us * 1000u : now - started);
	ctx->cold = cold;
	ctx->init_us = init_us;
	ctx->cpu_ns = cpu * 1000u;
	atomic_store(&ctx->mem_peak, peak);
	ctx->bytes_out = bytes_out;
	atomic_store_explicit(&ctx->handler_start_ns, hs, memory_order_release);
	atomic_store(&ctx->state, FAAS__DONE);
	switch (kind) {
	case FAAS__WPR_OK:
		if (!(alen == 4 && memcmp(a, "null", 4) == 0)) {
			ctx->result = cJSON_ParseWithLength(a, alen);
			if (!ctx->result)
				ctx->internal_failure = true;
		}
		break;
	case FAAS__WPR_ERROR:
		ctx->handler_rc = rc ? rc : -1;
		if (a[0]) {
			ctx->err_type = faas__strdup(a);
			ctx->err_msg = faas__strdup(b);
		}
		break;
	case FAAS__WPR_TOO_BIG:
		ctx->result_too_big = true;
		break;
	case FAAS__WPR_OOM:
		/* Its VmPeak stays at the limit: every later call would read as
		 * `oom` too, so the worker is retired. */
		atomic_store(&ctx->oom, true);
		kill_worker(w, NULL);
		report(w->pool->rt, ctx, FAAS_STATUS_SUCCESS, NULL, NULL);
		return;
	case FAAS__WPR_INIT_FAILED:
	case FAAS__WPR_LOAD_FAILED:
		if (kind == FAAS__WPR_LOAD_FAILED) {
			w->load_failed = true;
			snprintf(msg, sizeof(msg), "%s", b);
		} else {
			snprintf(msg, sizeof(msg), "module init of %s failed", w->pool->library);
		}
		become_idle(w);
		report(w->pool->rt, ctx, FAAS_STATUS_DEVELOPER_ERROR, FAAS__ERR_INIT,
		                    msg);
		return;
	default:
		ctx->internal_failure = true;
		break;
	}
	become_idle(w);
	report(w->pool->rt, ctx, FAAS_STATUS_SUCCESS, NULL, NULL);
}

static void answer_state(proc_worker *w, faas__rbuf *r)
{
	uint8_t op = faas__rbuf_u8(r);
	const char *key = faas__rbuf_str(r, NULL);
	size_t vlen;
	const char *value = faas__rbuf_str(r, &vlen);
	uint64_t version = faas__rbuf_u64(r), out_version = 0;
	int64_t delta = (int64_t)faas__rbuf_u64(r), number = 0;
	char *got = NULL;
	size_t got_len = 0;
	faas__wbuf b;
	int rc;

	if (r->bad) {
		kill_worker(w, "it sent a malformed state request");
		return;
	}
	if (!w->ctx) {
		rc = FAAS_EINVAL;
	} else if (op == FAAS__WPS_GET) {
		rc = faas_state_get(w->ctx, key, &got, &got_len, &out_version);
		if (rc == 0 && got_len > FAAS__WP_STATE_VALUE_MAX) {
			rc = FAAS_ETOOBIG;
			got_len = 0;
		}
	} else if (op == FAAS__WPS_PUT) {
		rc = faas_state_put(w->ctx, key, value, vlen, version, &out_version);
	} else if (op == FAAS__WPS_DELETE) {
		rc = faas_state_delete(w->ctx, key, version);
	} else if (op == FAAS__WPS_INCR) {
		rc = faas_state_incr(w->ctx, key, delta, &number);
	} else {
		rc = FAAS_EINVAL;
	}
	faas__wbuf_begin(&b, FAAS__WP_STATE_RESP);
	faas__wbuf_u32(&b, (uint32_t)rc);
	faas__wbuf_str(&b, rc == 0 ? got : NULL, rc == 0 ? got_len : 0);
	faas__wbuf_u64(&b, out_version);
	faas__wbuf_u64(&b, (uint64_t)number);
	faas_state_free(got);
	if (send_frame(w, &b) != 0)
		kill_worker(w, "out of memory answering a state request");
}

static void handle_frame(proc_worker *w, uint8_t type, const char *p, size_t n)
{
	faas__rbuf r = {p, n, false};

	if (type == FAAS__WP_READY && w->st != W_DEAD && !w->loaded && !w->load_failed) {
		bool ok = faas__rbuf_u8(&r) != 0;

		(void)faas__rbuf_u64(&r);
		(void)faas__rbuf_str(&r, NULL);
		w->loaded = ok;
		w->load_failed = !ok;
		/* A failed load is reported to the call that comes to it. */
		if (w->st == W_LOADING)
			become_idle(w);
	} else if (type == FAAS__WP_RESULT && w->st == W_BUSY && w->ctx) {
		fill_result(w, &r);
	} else if (type == FAAS__WP_STATE_REQ && w->st == W_BUSY) {
		answer_state(w, &r);
	} else {
		kill_worker(w, "it sent an unexpected message");
	}
}

static void on_channel(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	proc_worker *w = s->data;
	size_t off = 0;

	if (nread < 0) {
		/* The worker closed its end: its exit will tell why. */
		uv_read_stop(s);
		return;
	}
	if (w->st == W_DEAD)
		return;
	if (w->in_len + (size_t)nread > w->in_cap) {
		size_t cap = w->in_cap ? w->in_cap : 4096;
		char *grown;

		while (cap < w->in_len + (size_t)nread)
			cap *= 2;
		grown = realloc(w->in, cap);
		if (!grown) {
			kill_worker(w, "out of memory reading its answer");
			return;
		}
		w->in = grown;
		w->in_cap = cap;
	}
	memcpy(w->in + w->in_len, buf->base, (size_t)nread);
	w->in_len += (size_t)nread;
	while (w->st != W_DEAD && w->in_len - off >= FAAS__WP_HEADER) {
		uint32_t n = faas__wp_get_u32(w->in + off);

		if (n > w->pool->max_frame) {
			char why[128];

			snprintf(why, sizeof(why), "it sent a frame of %u bytes (limit %zu)", n,
			         w->pool->max_frame);
			kill_worker(w, why);
			return;
		}
		if (w->in_len - off - FAAS__WP_HEADER < n)
			break;
		handle_frame(w, (uint8_t)w->in[off + 4], w->in + off + FAAS__WP_HEADER, n);
		off += FAAS__WP_HEADER + n;
	}
	if (w->st == W_DEAD)
		return;
	memmove(w->in, w->in + off, w->in_len - off);
	w->in_len -= off;
	if (w->in_len == 0 && w->in_cap > FAAS__PROC_INBUF_KEEP) {
		free(w->in);
		w->in = NULL;
		w->in_cap = 0;
	}
}

/* ---- spawning ---- */

static const char *worker_program(faas_runtime *rt)
{
	const char *env = getenv("FAAS_WORKER_PATH");

	if (rt->opts.worker_path)
		return rt->opts.worker_path;
	if (env && env[0])
		return env;
	if (FAAS__WORKER_BUILD_PATH[0] && access(FAAS__WORKER_BUILD_PATH, X_OK) == 0)
		return FAAS__WORKER_BUILD_PATH;
	return FAAS__WORKER_INSTALL_PATH;
}

static int spawn_worker(proc_worker **out, faas__proc_pool *pool, bool init_now)
{
	faas_runtime *rt = pool->rt;
	proc_worker *w = calloc(1, sizeof(*w));
	uv_process_options_t po;
	uv_stdio_container_t io[4];
	char *args[2];
	faas__wbuf b;
	int rc;

	if (!w)
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", pool->fn->name);
	w->pool = pool;
	w->st = W_LOADING;
	uv_pipe_init(rt->loop, &w->chan, 0);
	uv_pipe_init(rt->loop, &w->out, 0);
	uv_pipe_init(rt->loop, &w->err, 0);
	w->proc.data = w->chan.data = w->out.data = w->err.data = w;
	memset(&po, 0, sizeof(po));
	args[0] = pool->worker_path;
	args[1] = NULL;
	po.file = pool->worker_path;
	po.args = args;
	po.exit_cb = on_worker_exit;
	io[0].flags = UV_IGNORE;
	io[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[1].data.stream = (uv_stream_t *)&w->out;
	io[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	io[2].data.stream = (uv_stream_t *)&w->err;
	io[3].flags = UV_CREATE_PIPE | UV_READABLE_PIPE | UV_WRITABLE_PIPE;
	io[3].data.stream = (uv_stream_t *)&w->chan;
	po.stdio = io;
	po.stdio_count = 4;
	rc = uv_spawn(rt->loop, &w->proc, &po);
	w->next = pool->workers;
	pool->workers = w;
	w->open = 4;
	faas__handles_add(rt, 4);
	if (rc != 0) {
		/* The handles are initialised either way; the process never ran. */
		w->st = W_DEAD;
		w->exited = true;
		close_pipes(w);
		close_handle((uv_handle_t *)&w->proc);
		return faas__fail(rt, FAAS_ESYSTEM, "%s: cannot start %s: %s", pool->fn->name,
		                  pool->worker_path, uv_strerror(rc));
	}
	pool->live++;
	uv_read_start((uv_stream_t *)&w->chan, on_alloc, on_channel);
	uv_read_start((uv_stream_t *)&w->out, on_alloc, on_output);
	uv_read_start((uv_stream_t *)&w->err, on_alloc, on_output);
	/* Workers do not keep the host's loop alive; a call in flight does,
	 * through its deadline timer. */
	uv_unref((uv_handle_t *)&w->proc);
	uv_unref((uv_handle_t *)&w->chan);
	uv_unref((uv_handle_t *)&w->out);
	uv_unref((uv_handle_t *)&w->err);

	faas__wbuf_begin(&b, FAAS__WP_LOAD);
	faas__wbuf_u32(&b, pool->fn->memory_mb);
	faas__wbuf_u32(&b, (uint32_t)(pool->fn->result_limit < UINT32_MAX ? pool->fn->result_limit
	                                                                  : UINT32_MAX));
	faas__wbuf_u8(&b, init_now);
	faas__wbuf_cstr(&b, pool->library);
	faas__wbuf_cstr(&b, pool->symbol);
	faas__wbuf_cstr(&b, pool->fn->name);
	faas__wbuf_cstr(&b, pool->fn->fn_version);
	faas__wbuf_u8(&b, (uint8_t)pool->seccomp);
	if (send_frame(w, &b) != 0) {
		kill_worker(w, NULL);
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", pool->fn->name);
	}
	*out = w;
	return 0;
}

/* Keep the minimum alive: after a worker died, and at registration. Only
 * workers that load are replaced, so a broken library cannot spin. */
static void pool_spawn_to_min(faas__proc_pool *pool)
{
	proc_worker *w;

	if (pool->closing || pool->rt->freeing)
		return;
	for (proc_worker *x = pool->workers; x; x = x->next)
		if (x->load_failed)
			return;
	while (pool->live < pool->min)
		if (spawn_worker(&w, pool, true) != 0)
			return;
}

/* A worker that dies while the host writes to its channel makes write(2)
 * raise SIGPIPE, whose default action would kill the host: exactly what
 * process isolation must prevent. libuv leaves it to the application; a host
 * that chose a handler of its own keeps it (the HTTP server does the same). */
static void ignore_sigpipe(void)
{
	struct sigaction sa;

	if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL &&
	    !(sa.sa_flags & SA_SIGINFO)) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_IGN;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGPIPE, &sa, NULL);
	}
}

int faas__proc_pool_new(faas__proc_pool **out, faas_runtime *rt, faas_fn *fn,
                        const faas_fn_options *o)
{
	faas__proc_pool *pool = calloc(1, sizeof(*pool));
	unsigned int prewarm;
	proc_worker *w;
	size_t big;

	if (!pool)
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", fn->name);
	ignore_sigpipe();
	pool->rt = rt;
	pool->fn = fn;
	pool->library = faas__strdup(o->library);
	pool->symbol = faas__strdup(o->symbol ? o->symbol : fn->name);
	pool->worker_path = faas__strdup(worker_program(rt));
	pool->min = o->process_min_workers;
	pool->max = o->process_max_workers ? o->process_max_workers
	            : fn->max_concurrency  ? fn->max_concurrency
	                                   : FAAS_DEFAULT_PROCESS_MAX_WORKERS;
	if (pool->max > FAAS_MAX_PROCESS_WORKERS)
		pool->max = FAAS_MAX_PROCESS_WORKERS;
	pool->seccomp = o->process_seccomp;
	pool->idle_ms = o->process_idle_ms ? o->process_idle_ms : FAAS_DEFAULT_PROCESS_IDLE_MS;
	big = fn->result_limit > FAAS__WP_STATE_VALUE_MAX ? fn->result_limit
	                                                  : FAAS__WP_STATE_VALUE_MAX;
	pool->max_frame = big + FAAS__WP_SLACK;
	uv_timer_init(rt->loop, &pool->idle_timer);
	pool->idle_timer.data = pool;
	uv_unref((uv_handle_t *)&pool->idle_timer);
	pool->timer_open = true;
	faas__handles_add(rt, 1);
	*out = pool;
	if (!pool->library || !pool->symbol || !pool->worker_path) {
		faas__proc_pool_close(pool);
		*out = NULL;
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", fn->name);
	}
	prewarm = o->process_prewarm ? o->process_prewarm : o->prewarm ? 1 : 0;
	if (prewarm < pool->min)
		prewarm = pool->min;
	while (pool->live < prewarm) {
		int rc = spawn_worker(&w, pool, true);

		if (rc != 0) {
			faas__proc_pool_close(pool);
			*out = NULL;
			return rc;
		}
	}
	/* Workers outlive an unregistration by their call: they need the fn. */
	atomic_fetch_add(&fn->refs, 1);
	pool->holds_fn = true;
	return 0;
}

static void on_timer_closed(uv_handle_t *h)
{
	faas__proc_pool *pool = h->data;
	faas_runtime *rt = pool->rt;

	pool->timer_open = false;
	pool_maybe_free(pool);
	faas__handles_closed(rt);
}

void faas__proc_pool_close(faas__proc_pool *pool)
{
	if (!pool || pool->closing)
		return;
	pool->closing = true;
	for (proc_worker *w = pool->workers; w; w = w->next)
		if (!w->ctx)
			kill_worker(w, NULL);
	/* Closing the timer last: its callback may free the pool. */
	uv_close((uv_handle_t *)&pool->idle_timer, on_timer_closed);
}

bool faas__proc_warm(const faas__proc_pool *pool)
{
	for (const proc_worker *w = pool->workers; w; w = w->next)
		if (w->st == W_IDLE && w->loaded)
			return true;
	return false;
}

int faas__proc_submit(faas__proc_pool *pool, faas_ctx *ctx)
{
	proc_worker *w = NULL, *loading = NULL;
	faas__wbuf b;
	char *owned = NULL;
	const char *text = ctx->payload;
	size_t len = ctx->payload_len;
	int rc;

	for (proc_worker *x = pool->workers; x; x = x->next) {
		if (x->st == W_IDLE && !w)
			w = x;
		else if (x->st == W_LOADING && !x->ctx && !loading)
			loading = x;
	}
	if (!w)
		w = loading;
	if (!w && pool->live >= pool->max)
		return faas__fail(pool->rt, FAAS_EBUSY,
				  "Rate Exceeded. (every process worker of %s is busy)", ctx->fn->name);
	if (!text) {
		if (ctx->event) {
			owned = cJSON_PrintUnformatted(ctx->event);
			if (!owned)
				return faas__fail(pool->rt, FAAS_ENOMEM, "%s: out of memory",
				                  ctx->fn->name);
			text = owned;
			len = strlen(owned);
		} else {
			text = "null";
			len = 4;
		}
	}
	if (!w && (rc = spawn_worker(&w, pool, false)) != 0) {
		free(owned);
		return rc;
	}
	faas__wbuf_begin(&b, FAAS__WP_INVOKE);
	faas__wbuf_cstr(&b, ctx->id);
	faas__wbuf_u64(&b, ctx->fn->timeout_ms);
	faas__wbuf_str(&b, text, len);
	free(owned);
	rc = send_frame(w, &b);
	if (rc != 0) {
		kill_worker(w, NULL);
		return faas__fail(pool->rt, rc, "%s: cannot send the call to its worker",
		                  ctx->fn->name);
	}
	w->st = W_BUSY;
	w->ctx = ctx;
	ctx->exec.worker = w;
	atomic_store(&ctx->state, FAAS__RUNNING);
	atomic_store(&ctx->started_ns, faas__now_ns());
	return 0;
}

/* /proc/<pid>/status "VmHWM:" of a live worker, in bytes; 0 if unreadable. */
static uint64_t worker_hwm(int pid)
{
	char path[64], line[256];
	uint64_t v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, "VmHWM:", 6) == 0)
			v = strtoull(line + 6, NULL, 10) * 1024u;
	fclose(f);
	return v;
}

/* utime + stime of a live worker from /proc/<pid>/stat, in ns; 0 if unreadable. */
static uint64_t worker_cpu_ns(int pid)
{
	char path[64], buf[1024];
	unsigned long long ut = 0, st = 0;
	long hz = sysconf(_SC_CLK_TCK);
	const char *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15, counted after the command name's closing paren. */
	p = strrchr(buf, ')');
	if (!p || hz <= 0 ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
		return 0;
	return (ut + st) * (1000000000ull / (unsigned long long)hz);
}

bool faas__proc_abandon(faas_ctx *ctx, bool *was_running)
{
	proc_worker *w = ctx->exec.worker;
	int expected = FAAS__RUNNING;

	*was_running = false;
	if (!w || !atomic_compare_exchange_strong(&ctx->state, &expected, FAAS__ABANDONED))
		return false;
	*was_running = true;
	if (!w->exited) {
		atomic_store(&ctx->mem_peak, worker_hwm(w->proc.pid));
		ctx->abandoned_cpu_ns = worker_cpu_ns(w->proc.pid);
	}
	drain_output(w);
	detach(w);
	kill_worker(w, "its call was abandoned");
	return true;
}

/* ---- the executor ---- */

static int process_check(faas_runtime *rt, const char *name, const faas_fn_options *o)
{
	unsigned int max = o->process_max_workers;

	if (o->handler)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: isolation process needs library and symbol, not a "
				  "static handler",
				  name);
	if (max > FAAS_MAX_PROCESS_WORKERS)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: process_max_workers: expected 0..%u, got %u", name,
				  FAAS_MAX_PROCESS_WORKERS, max);
	if (max == 0)
		max = o->max_concurrency ? o->max_concurrency
					 : FAAS_DEFAULT_PROCESS_MAX_WORKERS;
	if (max > FAAS_MAX_PROCESS_WORKERS)
		max = FAAS_MAX_PROCESS_WORKERS;
	if (o->process_min_workers > max)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: process_min_workers: expected 0..%u, got %u", name,
				  max, o->process_min_workers);
	if (o->process_seccomp != FAAS_SECCOMP_OFF && o->process_seccomp != FAAS_SECCOMP_ERROR &&
	    o->process_seccomp != FAAS_SECCOMP_KILL)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: process_seccomp: expected FAAS_SECCOMP_OFF, _ERROR or "
				  "_KILL, got %d",
				  name, (int)o->process_seccomp);
#if !defined(__linux__) || !(defined(__x86_64__) || defined(__aarch64__))
	if (o->process_seccomp != FAAS_SECCOMP_OFF)
		return faas__fail(rt, FAAS_ENOTSUP,
				  "%s: process_seccomp: not supported on this platform", name);
#endif
	if (o->process_prewarm > max)
		return faas__fail(rt, FAAS_EINVAL,
				  "%s: process_prewarm: expected 0..%u, got %u", name, max,
				  o->process_prewarm);
	return 0;
}

static int process_attach(faas_fn *fn, const faas_fn_options *o)
{
	/* The handler's code never runs in the host: the workers load it. What
	 * the host can check without running it is that it exists. */
	if (access(o->library, R_OK) != 0)
		return faas__fail(fn->rt, FAAS_ELOAD, "cannot load %s: %s", o->library,
				  strerror(errno));
	return faas__proc_pool_new(&fn->proc, fn->rt, fn, o);
}

static void process_detach(faas_fn *fn)
{
	faas__proc_pool_close(fn->proc);
	fn->proc = NULL;
}

static bool process_warm(const faas_fn *fn)
{
	return fn->proc && faas__proc_warm(fn->proc);
}

static int process_submit(faas_ctx *ctx)
{
	return faas__proc_submit(ctx->fn->proc, ctx);
}

const faas__exec_ops faas__exec_process = {
	.name = "process",
	.check = process_check,
	.attach = process_attach,
	.detach = process_detach,
	.warm = process_warm,
	.submit = process_submit,
	.abandon = faas__proc_abandon,
};

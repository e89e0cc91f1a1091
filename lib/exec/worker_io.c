/* A process worker's side of the process executor: spawning a faas-worker,
 * its three pipes and four handles, the handler's output turned into log
 * lines, and the frames to and from it (LOAD and INVOKE out; READY, RESULT
 * and state requests in). A RESULT completes its call through the executor
 * contract. The pool and the executor are process.c's. Loop thread only. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "process_internal.h"

/* A state request being answered on libuv's threadpool (see "state
 * requests" below). */
struct faas__proc_state_job {
	uv_work_t req;
	faas_runtime *rt;
	faas__proc_worker *w; /* cleared when the worker is freed first */
	uint64_t seq;
	faas_state_backend *b;
	uint8_t op;
	char *key, *value;
	size_t value_len;
	uint64_t version;
	int64_t delta;
	/* the answer */
	int rc;
	char *got;
	size_t got_len;
	uint64_t out_version;
	int64_t number;
};

/* Hand a call's outcome to the runtime (the executor contract). type NULL:
 * the RESULT frame filled ctx the way a handler run in the host would. */
static void report(faas_runtime *rt, faas_ctx *ctx, faas_status status, const char *type,
		   const char *msg)
{
	faas__outcome o = {status, type, msg};

	rt->exec_done(rt, ctx, &o);
}

static void on_worker_handle_closed(uv_handle_t *h)
{
	faas__proc_worker *w = h->data;
	faas__proc_pool *pool = w->pool;
	faas_runtime *rt = pool->rt;

	if (--w->open == 0) {
		for (faas__proc_worker **p = &pool->workers; *p; p = &(*p)->next) {
			if (*p == w) {
				*p = w->next;
				break;
			}
		}
		faas__proc_watch_close(w);
		/* A state job still on the threadpool must not touch it. */
		if (w->state_job)
			w->state_job->w = NULL;
		free(w->in);
		free(w);
		pool->ops->worker_freed(pool);
	}
	/* Last: with a host loop this may free the runtime. */
	faas__handles_closed(rt);
}

static void close_handle(uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, on_worker_handle_closed);
}

static void close_pipes(faas__proc_worker *w)
{
	close_handle((uv_handle_t *)&w->chan);
	close_handle((uv_handle_t *)&w->out);
	close_handle((uv_handle_t *)&w->err);
}

/* ---- handler output → the call's log ---- */

static void emit_line(faas__proc_worker *w, int s)
{
	if (w->ctx)
		faas__ctx_log_line(w->ctx, w->line[s], w->line_len[s]);
	w->line_len[s] = 0;
}

static void take_output(faas__proc_worker *w, int s, const char *p, size_t n)
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

static void flush_lines(faas__proc_worker *w)
{
	for (int s = 0; s < 2; s++)
		if (w->line_len[s] > 0)
			emit_line(w, s);
}

/* Read what a worker that has stopped writing left in a pipe. libuv's pipe
 * ends are nonblocking, so this never waits. */
static void drain(faas__proc_worker *w, uv_pipe_t *p, int s)
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

void faas__proc_worker_drain(faas__proc_worker *w)
{
	drain(w, &w->out, 0);
	drain(w, &w->err, 1);
	flush_lines(w);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	faas__proc_worker *w = h->data;

	(void)suggested;
	*buf = uv_buf_init(w->readbuf, sizeof(w->readbuf));
}

static void on_output(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	faas__proc_worker *w = s->data;

	if (nread < 0) {
		uv_read_stop(s);
		return;
	}
	take_output(w, s == (uv_stream_t *)&w->out ? 0 : 1, buf->base, (size_t)nread);
}

/* ---- killing and exit ---- */

/* Its children could hold at most this many pids worth killing one by one. */
#define KILL_BY_PID_MAX 64

void faas__proc_worker_kill(faas__proc_worker *w, const char *why)
{
	if (w->st == FAAS__W_DEAD)
		return;
	if (why && !w->fail[0])
		snprintf(w->fail, sizeof(w->fail), "%s", why);
	w->st = FAAS__W_DEAD;
	w->pool->live--;
	/* The worker leads its own group (it is spawned detached, in a session
	 * of its own), so this reaches what its handler forked and exec'd too.
	 * After the exit it still matters: a child may outlive its worker. The
	 * group's id cannot be reused while a member lives, and an empty group
	 * answers ESRCH. */
	if (w->proc.pid > 0)
		kill(-w->proc.pid, SIGKILL);
	if (!w->exited) {
		int pids[KILL_BY_PID_MAX];
		int n = faas__proc_children(w->proc.pid, pids, KILL_BY_PID_MAX);

		/* A child that left the group (setsid, setpgid) is still the
		 * worker's child while the worker lives: by pid, then. */
		for (int i = 0; i < n && i < KILL_BY_PID_MAX; i++)
			kill(pids[i], SIGKILL);
		uv_process_kill(&w->proc, SIGKILL);
		/* Shutdown waits for the exit, so that the child is reaped. */
		uv_ref((uv_handle_t *)&w->proc);
	}
	close_pipes(w);
}

/* After a call a worker must be back to one thread and no children: a
 * thread the handler started would run on unbilled and write into the next
 * call's log, a child would outlive its call. Otherwise the worker is
 * retired (its group killed) and the call's log says why. A zombie the
 * worker did not reap counts too: the worker reaps its own before it
 * answers. Returns true if it was retired. */
static bool retire_if_not_alone(faas__proc_worker *w, faas_ctx *ctx, int threads)
{
	int pids[8], n = faas__proc_watch_children(w, threads, pids, 8);
	char line[256]; /* fits: a prefix, 8 pids of 11 characters, a suffix */
	size_t len = 0;

	if (threads > 1) {
		len = (size_t)snprintf(line, sizeof(line),
		                       "[libfaas] the handler left %d thread%s running: worker "
		                       "recycled",
		                       threads - 1, threads == 2 ? "" : "s");
		faas__ctx_log_line(ctx, line, len < sizeof(line) ? len : sizeof(line) - 1);
	}
	if (n > 0) {
		len = (size_t)snprintf(line, sizeof(line),
		                       "[libfaas] the handler left %d process%s behind (pid", n,
		                       n == 1 ? "" : "es");
		for (int i = 0; i < n && i < 8; i++)
			len += (size_t)snprintf(line + len, sizeof(line) - len, " %d", pids[i]);
		len += (size_t)snprintf(line + len, sizeof(line) - len,
		                        "%s): killed, worker recycled", n > 8 ? " ..." : "");
		faas__ctx_log_line(ctx, line, len < sizeof(line) ? len : sizeof(line) - 1);
	}
	if (threads <= 1 && n <= 0)
		return false;
	faas__proc_worker_kill(w, NULL);
	return true;
}

/* The first call a worker serves carries what READY said of its limits. */
static void note_limits(faas__proc_worker *w, faas_ctx *ctx)
{
	if (!w->served && w->limit_note[0])
		faas__ctx_log_line(ctx, w->limit_note, strlen(w->limit_note));
	w->served = true;
}

/* Detach the call from its worker: from here on only the loop completes it. */
faas_ctx *faas__proc_worker_detach(faas__proc_worker *w)
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
	faas__proc_worker *w = proc->data;
	faas__proc_pool *pool = w->pool;
	faas_ctx *ctx;
	char msg[FAAS__ERRMSG_SIZE];
	/* Dead before READY, and not by the host's hand: its load or init crashed. */
	bool init_died = w->st != FAAS__W_DEAD && !w->loaded && !w->load_failed;

	w->exited = true;
	if (init_died) {
		if (term_signal)
			snprintf(msg, sizeof(msg),
			         "module init of %s failed: worker killed by signal %d (%s)",
			         pool->library, term_signal, strsignal(term_signal));
		else
			snprintf(msg, sizeof(msg),
			         "module init of %s failed: worker exited with status %lld",
			         pool->library, (long long)status);
		if (w->ctx) {
			faas__proc_worker_drain(w);
			ctx = faas__proc_worker_detach(w);
			atomic_store(&ctx->state, FAAS__DONE);
			report(pool->rt, ctx, FAAS_STATUS_DEVELOPER_ERROR, FAAS__ERR_INIT, msg);
		}
		faas__proc_worker_kill(w, NULL);
		close_handle((uv_handle_t *)&w->proc);
		pool->ops->worker_init(w, msg);
		pool->ops->worker_exited(pool);
		return;
	}
	if (w->ctx) {
		faas__proc_worker_drain(w);
		if (w->fail[0])
			snprintf(msg, sizeof(msg), "worker stopped: %s", w->fail);
		else if (term_signal)
			snprintf(msg, sizeof(msg), "worker killed by signal %d (%s)", term_signal,
			         strsignal(term_signal));
		else
			snprintf(msg, sizeof(msg), "worker exited with status %lld",
			         (long long)status);
		ctx = faas__proc_worker_detach(w);
		atomic_store(&ctx->state, FAAS__DONE);
		report(pool->rt, ctx, FAAS_STATUS_DEVELOPER_ERROR, FAAS__ERR_EXIT,
		                    msg);
	}
	faas__proc_worker_kill(w, NULL);
	close_handle((uv_handle_t *)&w->proc);
	pool->ops->worker_exited(pool);
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

int faas__proc_worker_send(faas__proc_worker *w, faas__wbuf *b)
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

/* ---- frames from a worker ---- */

/* The call's accounting, all of it the host's: its clock for the duration
 * and the init, the kernel for CPU and memory. */
static void account(faas__proc_worker *w, faas_ctx *ctx, const faas__proc_usage *u)
{
	uint64_t now = faas__now_ns();

	ctx->finished_ns = now;
	/* A worker spawned for this call ran the init before READY: the call
	 * is its cold start, and the init is the worker's start up to READY. */
	ctx->cold = w->for_call && !w->served;
	ctx->init_us = ctx->cold ? (w->ready_ns - w->spawned_ns + 999u) / 1000u : 0;
	ctx->cpu_ns = u->cpu_ns;
	atomic_store(&ctx->mem_peak, u->peak_bytes);
	if (w->as_limit && u->vm_peak_bytes + FAAS__PROC_OOM_SLACK >= w->as_limit)
		atomic_store(&ctx->oom, true);
	atomic_store_explicit(&ctx->handler_start_ns,
	                      w->call_start_ns < now ? w->call_start_ns : now,
	                      memory_order_release);
}

static void fill_result(faas__proc_worker *w, faas__rbuf *r)
{
	faas_ctx *ctx = w->ctx;
	uint8_t kind = faas__rbuf_u8(r);
	int rc = (int)(int32_t)faas__rbuf_u32(r);
	uint64_t bytes_out = faas__rbuf_u64(r);
	size_t alen;
	const char *a = faas__rbuf_str(r, &alen), *b = faas__rbuf_str(r, NULL);
	faas__proc_usage u;

	/* LOAD_FAILED is an answer only a worker whose READY failed gives,
	 * and the host never serves one. */
	if (r->bad || kind >= FAAS__WPR_LOAD_FAILED) {
		faas__proc_worker_kill(w, "protocol violation: a malformed result");
		return;
	}
	faas__proc_watch_end(w, &u);
	faas__proc_worker_drain(w);
	faas__proc_worker_detach(w);
	account(w, ctx, &u);
	ctx->bytes_out = bytes_out;
	note_limits(w, ctx);
	atomic_store(&ctx->state, FAAS__DONE);
	if (atomic_load(&ctx->oom) || kind == FAAS__WPR_OOM) {
		/* Its VmPeak stays at the limit: every later call would read as
		 * `oom` too, so the worker is retired. */
		atomic_store(&ctx->oom, true);
		faas__proc_worker_kill(w, NULL);
		report(w->pool->rt, ctx, FAAS_STATUS_SUCCESS, NULL, NULL);
		return;
	}
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
	default: /* FAAS__WPR_BAD_EVENT: the host sent what it could not parse */
		ctx->internal_failure = true;
		break;
	}
	if (!retire_if_not_alone(w, ctx, u.threads))
		w->pool->ops->worker_idle(w);
	report(w->pool->rt, ctx, FAAS_STATUS_SUCCESS, NULL, NULL);
}

/* ---- state requests ----
 *
 * Answered by the runtime's backend. The built-in memory backend answers at
 * once, on the loop; any other (the SQLite store, a host's) may block on a
 * disk or a server, so the request runs on libuv's threadpool and its
 * answer is sent from the loop when it is done. The job owns copies of all
 * it needs (the scoped key, the value): the call may end, by its deadline
 * or its worker's death, while the job runs, and then the answer is
 * dropped. A worker waits for each answer, so it has at most one job; a
 * second request before the answer is a protocol violation. */


static void job_free(faas__proc_state_job *j)
{
	free(j->key);
	free(j->value);
	free(j->got);
	free(j);
}

/* The backend call; any thread. */
static void run_job(faas__proc_state_job *j)
{
	faas_state_backend *b = j->b;

	switch (j->op) {
	case FAAS__WPS_GET:
		j->rc = b->get(b, j->key, &j->got, &j->got_len, &j->out_version);
		if (j->rc == 0 && j->got_len > FAAS__WP_STATE_VALUE_MAX) {
			j->rc = FAAS_ETOOBIG;
			j->got_len = 0;
		}
		break;
	case FAAS__WPS_PUT:
		j->rc = b->put(b, j->key, j->value, j->value_len, j->version, &j->out_version);
		break;
	case FAAS__WPS_DELETE:
		j->rc = b->del(b, j->key, j->version);
		break;
	case FAAS__WPS_INCR:
		j->rc = b->incr(b, j->key, j->delta, &j->number);
		break;
	default:
		j->rc = FAAS_EINVAL;
		break;
	}
}

static void answer(faas__proc_worker *w, const faas__proc_state_job *j)
{
	faas__wbuf b;

	faas__wbuf_begin(&b, FAAS__WP_STATE_RESP);
	faas__wbuf_u64(&b, j->seq);
	faas__wbuf_u32(&b, (uint32_t)j->rc);
	faas__wbuf_str(&b, j->rc == 0 ? j->got : NULL, j->rc == 0 ? j->got_len : 0);
	faas__wbuf_u64(&b, j->out_version);
	faas__wbuf_u64(&b, (uint64_t)j->number);
	if (faas__proc_worker_send(w, &b) != 0)
		faas__proc_worker_kill(w, "out of memory answering a state request");
}

static void on_job_work(uv_work_t *req)
{
	run_job(req->data);
}

static void on_job_done(uv_work_t *req, int status)
{
	faas__proc_state_job *j = req->data;
	faas__proc_worker *w = j->w;
	faas_runtime *rt = j->rt;

	if (w) {
		w->state_job = NULL;
		/* Still the call that asked, on a worker that lives. */
		if (status == 0 && w->st == FAAS__W_BUSY && w->ctx && w->seq == j->seq)
			answer(w, j);
	}
	job_free(j);
	/* Counted as a handle, so a closing runtime waits for the job. */
	faas__handles_closed(rt);
}

/* The job of a request, its fields copied and the key scoped to the call's
 * namespace; *out NULL without memory. Returns 0, or the answer to give at
 * once (FAAS_EINVAL for a bad key, FAAS_ENOMEM). */
static int job_new(faas__proc_state_job **out, faas__proc_worker *w, uint8_t op,
                   const char *key, const char *value, size_t vlen, uint64_t version,
                   int64_t delta)
{
	faas__proc_state_job *j = calloc(1, sizeof(*j));

	*out = j;
	if (!j)
		return FAAS_ENOMEM;
	j->rt = w->pool->rt;
	j->w = w;
	j->seq = w->seq;
	j->b = w->ctx->state_backend;
	j->op = op;
	j->version = version;
	j->delta = delta;
	if (op == FAAS__WPS_PUT) {
		if (!(j->value = malloc(vlen ? vlen : 1)))
			return FAAS_ENOMEM;
		memcpy(j->value, value, vlen);
		j->value_len = vlen;
	}
	return faas__state_scoped_key(w->ctx, key, &j->key);
}

static void answer_state(faas__proc_worker *w, faas__rbuf *r)
{
	uint8_t op = faas__rbuf_u8(r);
	const char *key = faas__rbuf_str(r, NULL);
	size_t vlen;
	const char *value = faas__rbuf_str(r, &vlen);
	uint64_t version = faas__rbuf_u64(r);
	int64_t delta = (int64_t)faas__rbuf_u64(r);
	faas__proc_state_job *j;
	int rc;

	if (r->bad) {
		faas__proc_worker_kill(w, "protocol violation: a malformed state request");
		return;
	}
	if (w->state_job) {
		faas__proc_worker_kill(w, "protocol violation: a state request before the answer "
		                          "to the last one");
		return;
	}
	rc = job_new(&j, w, op, key, value, vlen, version, delta);
	if (!j) {
		faas__proc_worker_kill(w, "out of memory answering a state request");
		return;
	}
	if (rc != 0) {
		j->rc = rc;
	} else if (!w->pool->rt->state_may_block) {
		run_job(j);
	} else if ((j->req.data = j),
	           uv_queue_work(w->pool->rt->loop, &j->req, on_job_work, on_job_done) == 0) {
		w->state_job = j;
		faas__handles_add(w->pool->rt, 1);
		return;
	} else {
		j->rc = FAAS_ESYSTEM;
	}
	answer(w, j);
	job_free(j);
}

static void on_ready(faas__proc_worker *w, faas__rbuf *r)
{
	bool ok = faas__rbuf_u8(r) != 0;
	const char *error = faas__rbuf_str(r, NULL), *note = faas__rbuf_str(r, NULL);
	char msg[FAAS__ERRMSG_SIZE];

	w->ready_ns = faas__now_ns();
	if (!r->bad && note[0])
		snprintf(w->limit_note, sizeof(w->limit_note), "[libfaas] %.140s", note);
	snprintf(msg, sizeof(msg), "%s", !r->bad && error[0] ? error : "the worker failed to load");
	w->loaded = ok && !r->bad;
	w->load_failed = !w->loaded;
	if (w->loaded) {
		faas__proc_watch_open(w);
		/* A call sent while it loaded starts now. */
		if (w->ctx)
			faas__proc_watch_begin(w);
	}
	w->pool->ops->worker_init(w, w->loaded ? NULL : msg);
	if (!w->loaded && w->ctx) {
		/* The call that came to it gets the failure; the worker
		 * is not left to retry the init inside the call. */
		faas_ctx *ctx;

		faas__proc_worker_drain(w);
		ctx = faas__proc_worker_detach(w);
		atomic_store(&ctx->state, FAAS__DONE);
		faas__proc_worker_kill(w, NULL);
		report(w->pool->rt, ctx, FAAS_STATUS_DEVELOPER_ERROR, FAAS__ERR_INIT, msg);
	} else if (w->st == FAAS__W_LOADING) {
		w->pool->ops->worker_idle(w);
	}
}

static const char *frame_name(uint8_t type)
{
	switch (type) {
	case FAAS__WP_READY:
		return "READY";
	case FAAS__WP_RESULT:
		return "RESULT";
	case FAAS__WP_STATE_REQ:
		return "STATE_REQ";
	default:
		return NULL;
	}
}

/* A frame a worker sends must be the one its state allows: READY once,
 * before anything else; then, for the call it runs and only that call (by
 * its sequence number), state requests and one RESULT. Anything else kills
 * it, and the call it runs ends `developer_error`. */
static void handle_frame(faas__proc_worker *w, uint8_t type, const char *p, size_t n)
{
	faas__rbuf r = {p, n, false};
	const char *name = frame_name(type);
	char why[160];
	uint64_t seq;

	if (!name) {
		snprintf(why, sizeof(why), "protocol violation: a frame of unknown type %u", type);
		faas__proc_worker_kill(w, why);
		return;
	}
	if (type == FAAS__WP_READY || !w->loaded) {
		if (type == FAAS__WP_READY && !w->loaded && !w->load_failed) {
			on_ready(w, &r);
			return;
		}
		snprintf(why, sizeof(why), "protocol violation: a %s frame %s", name,
		         w->loaded ? "after READY" : "before READY");
		faas__proc_worker_kill(w, why);
		return;
	}
	seq = faas__rbuf_u64(&r);
	if (r.bad || !w->ctx || w->st != FAAS__W_BUSY || seq != w->seq) {
		if (r.bad)
			snprintf(why, sizeof(why),
			         "protocol violation: a %s frame without a call number", name);
		else if (!w->ctx || w->st != FAAS__W_BUSY)
			snprintf(why, sizeof(why),
			         "protocol violation: a %s frame for call %llu while no call runs",
			         name, (unsigned long long)seq);
		else
			snprintf(why, sizeof(why),
			         "protocol violation: a %s frame for call %llu during call %llu",
			         name, (unsigned long long)seq, (unsigned long long)w->seq);
		faas__proc_worker_kill(w, why);
		return;
	}
	if (type == FAAS__WP_RESULT)
		fill_result(w, &r);
	else
		answer_state(w, &r);
}

static void on_channel(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	faas__proc_worker *w = s->data;
	size_t off = 0;

	if (nread < 0) {
		/* The worker closed its end: its exit will tell why. */
		uv_read_stop(s);
		return;
	}
	if (w->st == FAAS__W_DEAD)
		return;
	if (w->in_len + (size_t)nread > w->in_cap) {
		size_t cap = w->in_cap ? w->in_cap : 4096;
		char *grown;

		while (cap < w->in_len + (size_t)nread)
			cap *= 2;
		grown = realloc(w->in, cap);
		if (!grown) {
			faas__proc_worker_kill(w, "out of memory reading its answer");
			return;
		}
		w->in = grown;
		w->in_cap = cap;
	}
	memcpy(w->in + w->in_len, buf->base, (size_t)nread);
	w->in_len += (size_t)nread;
	while (w->st != FAAS__W_DEAD && w->in_len - off >= FAAS__WP_HEADER) {
		uint32_t n = faas__wp_get_u32(w->in + off);

		if (n > w->pool->max_frame) {
			char why[128];

			snprintf(why, sizeof(why), "it sent a frame of %u bytes (limit %zu)", n,
			         w->pool->max_frame);
			faas__proc_worker_kill(w, why);
			return;
		}
		if (w->in_len - off - FAAS__WP_HEADER < n)
			break;
		handle_frame(w, (uint8_t)w->in[off + 4], w->in + off + FAAS__WP_HEADER, n);
		off += FAAS__WP_HEADER + n;
	}
	if (w->st == FAAS__W_DEAD)
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

int faas__proc_worker_spawn(faas__proc_worker **out, faas__proc_pool *pool, bool init_now)
{
	faas_runtime *rt = pool->rt;
	faas__proc_worker *w = calloc(1, sizeof(*w));
	uv_process_options_t po;
	uv_stdio_container_t io[4];
	char *args[3], host_pid[24];
	faas__wbuf b;
	int rc;

	if (!w)
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", pool->fn->name);
	w->pool = pool;
	w->for_call = !init_now;
	w->st = FAAS__W_LOADING;
	w->status_fd = w->clear_refs_fd = w->children_fd = -1;
	w->spawned_ns = faas__now_ns();
	uv_pipe_init(rt->loop, &w->chan, 0);
	uv_pipe_init(rt->loop, &w->out, 0);
	uv_pipe_init(rt->loop, &w->err, 0);
	w->proc.data = w->chan.data = w->out.data = w->err.data = w;
	memset(&po, 0, sizeof(po));
	/* The worker checks its parent against this after asking to die with
	 * it, which closes the race with a host that dies during the spawn. */
	snprintf(host_pid, sizeof(host_pid), "%ld", (long)getpid());
	args[0] = pool->worker_path;
	args[1] = host_pid;
	args[2] = NULL;
	po.file = pool->worker_path;
	po.args = args;
	/* A session of its own, hence a process group led by the worker, made
	 * before exec: a kill of the group then reaches everything the handler
	 * starts, with no window in which the worker runs in the host's group
	 * (as it would if it called setpgid itself), and the terminal's signals
	 * (Ctrl-C) go to the host alone, which decides about its workers. */
	po.flags = UV_PROCESS_DETACHED;
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
		w->st = FAAS__W_DEAD;
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
	/* The init always runs before READY, for a call too: then a crash in
	 * it is told from the handler's, and its CPU is not the call's. */
	faas__wbuf_u8(&b, 1);
	faas__wbuf_cstr(&b, pool->library);
	faas__wbuf_cstr(&b, pool->symbol);
	faas__wbuf_cstr(&b, pool->fn->name);
	faas__wbuf_cstr(&b, pool->fn->fn_version);
	faas__wbuf_u8(&b, (uint8_t)pool->seccomp);
	faas__wbuf_u32(&b, pool->max_processes);
	if (faas__proc_worker_send(w, &b) != 0) {
		faas__proc_worker_kill(w, NULL);
		return faas__fail(rt, FAAS_ENOMEM, "%s: out of memory", pool->fn->name);
	}
	*out = w;
	return 0;
}


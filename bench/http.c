/*
 * bench/http — what an HTTP-triggered invocation costs the server, against a
 * bare libuv HTTP responder measured in the same run:
 *
 *   http_cpu_per_request_inline  server CPU (user+sys, getrusage of the
 *   http_cpu_per_request_thread  server process) per request answered, for
 *                                GET /hello/{name} routed by an HTTP trigger
 *                                to the dlopen'd hello in inline or thread
 *                                isolation, against the same for the floor;
 *   http_latency_p50/p99_inline  wrk's latency percentiles of the same runs,
 *   http_latency_p50/p99_thread  against the floor's.
 *
 * The floor is a responder written here on libuv alone: accept, read until
 * "\r\n\r\n" (GET without a body; several requests in one read are answered
 * in order), write a fixed 200 with Content-Length, keep the connection.
 *
 * Processes. Each server runs in a child forked before anything else exists
 * (no threads, no loop), so getrusage(RUSAGE_SELF) of the child is the
 * server's own CPU and nothing else's: not the parent's, not wrk's, and it
 * includes the executor threads of thread isolation. The parent tells a child
 * when a measured window opens and closes through a pipe; the child answers
 * with its rusage delta. wrk (-t1 -c16, --latency) is a third process on the
 * same machine: with few cores it competes with the server for CPU, which
 * raises latency alike for every server but leaves CPU per request honest.
 * Nothing is pinned.
 *
 * Usage: http [--quick] [--only floor|inline|thread] [--wrk PATH] [libhello.so]
 *   --quick  1 round of 1 s per server instead of 3 rounds of 3 s
 *   --only   run one server (and no figures): for `perf record -g`
 * Exits 77 (meson's "skipped") when wrk is not installed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <uv.h>

#include <faas.h>

#include "bench.h"

#ifndef HELLO_SO
#define HELLO_SO "build/examples/handlers/libhello.so"
#endif

#define HELLO_SYMBOL "hello"
#define HELLO_FUNCTION "hello"
#define HELLO_ROUTE "GET /hello/{name}"
#define HELLO_PATH "/hello/world"
#define TRIGGER_NAME "bench_http"

#define EXIT_SKIP 77

/* Rounds and seconds per measured wrk run; --quick takes the short ones. */
#define BENCH_ROUNDS 3u
#define BENCH_SECONDS 3u
#define BENCH_QUICK_ROUNDS 1u
#define BENCH_QUICK_SECONDS 1u
/* An unmeasured run per server first (full mode): the module's cold start,
 * the allocator's first growth and the activation store filling up. */
#define BENCH_WARMUP_SECONDS 1u
#define WRK_THREADS "1"
#define WRK_CONNECTIONS "16"

#define GOAL_INLINE "1.15"
#define GOAL_THREAD "1.5"

/* The floor's answer: what hello's result looks like on the wire. */
#define FLOOR_BODY "\"Hello, world!\""
#define FLOOR_RESPONSE                                                         \
	"HTTP/1.1 200 OK\r\n"                                                  \
	"Content-Type: application/json\r\n"                                   \
	"Content-Length: 15\r\n"                                               \
	"Connection: keep-alive\r\n"                                           \
	"\r\n" FLOOR_BODY
/* A request head larger than this closes the floor's connection. */
#define FLOOR_HEAD_MAX (8u * 1024u)
#define FLOOR_BACKLOG 511

/* wrk's whole output is a few hundred bytes. */
#define WRK_OUTPUT_MAX (64u * 1024u)

/* Commands from the parent to a server child. */
#define CMD_START 'S'
#define CMD_END 'E'
#define CMD_QUIT 'Q'

typedef enum server_kind { SERVER_FLOOR = 0, SERVER_INLINE = 1, SERVER_THREAD = 2 } server_kind;
#define SERVER_COUNT 3

static const char *const server_names[SERVER_COUNT] = {"floor", "inline", "thread"};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench/http: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static void die_errno(const char *what)
{
	die(what, strerror(errno));
}

/* What a child reports for one measured window. */
typedef struct usage_report {
	uint64_t cpu_us;   /* user + system */
	uint64_t user_us;
	uint64_t sys_us;
	uint64_t switches; /* voluntary + involuntary context switches */
} usage_report;

static uint64_t tv_us(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* ---- the floor: a bare libuv responder ---- */

typedef struct floor_conn {
	uv_tcp_t tcp;
	char buf[FLOOR_HEAD_MAX];
	size_t len;
} floor_conn;

static void floor_closed(uv_handle_t *h)
{
	free(h->data);
}

static void floor_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
	floor_conn *c = h->data;

	(void)hint;
	*buf = uv_buf_init(c->buf + c->len, (unsigned int)(sizeof(c->buf) - c->len));
}

static void floor_written(uv_write_t *req, int status)
{
	(void)status;
	free(req);
}

static void floor_answer(floor_conn *c)
{
	static const char resp[] = FLOOR_RESPONSE;
	uv_buf_t b = uv_buf_init((char *)resp, sizeof(resp) - 1);
	int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
	uv_write_t *req;

	if (n == (int)b.len)
		return;
	if (n < 0 && n != UV_EAGAIN) {
		uv_close((uv_handle_t *)&c->tcp, floor_closed);
		return;
	}
	if (n > 0) {
		b.base += n;
		b.len -= (size_t)n;
	}
	/* The rest goes through a queued write; resp is static, so it lives. */
	req = malloc(sizeof(*req));
	if (!req || uv_write(req, (uv_stream_t *)&c->tcp, &b, 1, floor_written) != 0) {
		free(req);
		uv_close((uv_handle_t *)&c->tcp, floor_closed);
	}
}

static void floor_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	floor_conn *c = s->data;
	size_t start = 0;
	char *end;

	(void)buf;
	if (nread < 0) {
		uv_close((uv_handle_t *)s, floor_closed);
		return;
	}
	c->len += (size_t)nread;
	/* Answer every complete head in order (pipelining), keep the rest. */
	while ((end = memmem(c->buf + start, c->len - start, "\r\n\r\n", 4)) != NULL) {
		floor_answer(c);
		if (uv_is_closing((uv_handle_t *)s))
			return;
		start = (size_t)(end - c->buf) + 4;
	}
	memmove(c->buf, c->buf + start, c->len - start);
	c->len -= start;
	if (c->len == sizeof(c->buf))
		uv_close((uv_handle_t *)s, floor_closed);
}

static void floor_accept(uv_stream_t *server, int status)
{
	floor_conn *c;

	if (status < 0)
		return;
	c = calloc(1, sizeof(*c));
	if (!c)
		return;
	uv_tcp_init(server->loop, &c->tcp);
	c->tcp.data = c;
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
		uv_close((uv_handle_t *)&c->tcp, floor_closed);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	uv_read_start((uv_stream_t *)&c->tcp, floor_alloc, floor_read);
}

/* ---- a server child ---- */

typedef struct child_state {
	uv_loop_t loop;
	uv_poll_t control;
	uv_tcp_t floor_listener;
	faas_runtime *rt;
	int cmd_fd, report_fd;
	server_kind kind;
	struct rusage start;
} child_state;

static void child_report(child_state *cs, const void *p, size_t n)
{
	if (write(cs->report_fd, p, n) != (ssize_t)n)
		die_errno("child: write to the parent");
}

static void close_walk(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, h->data && h->type == UV_TCP ? floor_closed : NULL);
}

static void child_quit(child_state *cs)
{
	uv_poll_stop(&cs->control);
	uv_close((uv_handle_t *)&cs->control, NULL);
	if (cs->rt) {
		faas_runtime_free(cs->rt);
		cs->rt = NULL;
	} else {
		/* The listener has no data; connections free theirs. */
		uv_walk(&cs->loop, close_walk, NULL);
	}
}

static void on_command(uv_poll_t *h, int status, int events)
{
	child_state *cs = h->data;
	struct rusage now;
	usage_report r;
	char cmd;

	(void)events;
	if (status < 0 || read(cs->cmd_fd, &cmd, 1) != 1) {
		child_quit(cs); /* the parent went away */
		return;
	}
	switch (cmd) {
	case CMD_START:
		getrusage(RUSAGE_SELF, &cs->start);
		break;
	case CMD_END:
		getrusage(RUSAGE_SELF, &now);
		r.user_us = tv_us(now.ru_utime) - tv_us(cs->start.ru_utime);
		r.sys_us = tv_us(now.ru_stime) - tv_us(cs->start.ru_stime);
		r.cpu_us = r.user_us + r.sys_us;
		r.switches = (uint64_t)(now.ru_nvcsw - cs->start.ru_nvcsw) +
			     (uint64_t)(now.ru_nivcsw - cs->start.ru_nivcsw);
		child_report(cs, &r, sizeof(r));
		break;
	default:
		child_quit(cs);
		break;
	}
}

static void child_die_faas(faas_runtime *rt, const char *what, int rc)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s (%s) %s", faas_err_name(rc), faas_strerror(rc),
		 faas_runtime_last_error(rt));
	die(what, msg);
}

static uint16_t start_faas(child_state *cs, const char *library)
{
	faas_runtime_options ro = FAAS_RUNTIME_OPTIONS_INIT;
	faas_fn_options fo = FAAS_FN_OPTIONS_INIT;
	faas_http_options ho = FAAS_HTTP_OPTIONS_INIT;
	faas_trigger *trig = NULL;
	faas_rule *rule = NULL;
	int rc;

	ro.loop = &cs->loop;
	ro.log_sink = NULL;
	rc = faas_runtime_new(&cs->rt, &ro);
	if (rc != 0)
		child_die_faas(NULL, "faas_runtime_new", rc);
	fo.library = library;
	fo.symbol = HELLO_SYMBOL;
	fo.isolation = cs->kind == SERVER_INLINE ? FAAS_ISOLATION_INLINE : FAAS_ISOLATION_THREAD;
	rc = faas_fn_register(NULL, cs->rt, HELLO_FUNCTION, &fo);
	if (rc != 0)
		child_die_faas(cs->rt, "faas_fn_register", rc);
	/* Defaults: 127.0.0.1, a free port, the management API on. */
	rc = faas_trigger_http_new(&trig, cs->rt, TRIGGER_NAME, &ho);
	if (rc != 0)
		child_die_faas(cs->rt, "faas_trigger_http_new", rc);
	rc = faas_rule_new(&rule, trig, HELLO_ROUTE, HELLO_FUNCTION);
	if (rc != 0)
		child_die_faas(cs->rt, "faas_rule_new", rc);
	return faas_trigger_http_port(trig);
}

static uint16_t start_floor(child_state *cs)
{
	struct sockaddr_storage ss;
	struct sockaddr_in addr;
	int len = sizeof(ss);

	uv_ip4_addr("127.0.0.1", 0, &addr);
	if (uv_tcp_init(&cs->loop, &cs->floor_listener) != 0 ||
	    uv_tcp_bind(&cs->floor_listener, (const struct sockaddr *)&addr, 0) != 0 ||
	    uv_listen((uv_stream_t *)&cs->floor_listener, FLOOR_BACKLOG, floor_accept) != 0 ||
	    uv_tcp_getsockname(&cs->floor_listener, (struct sockaddr *)&ss, &len) != 0)
		die("floor: cannot listen on 127.0.0.1", NULL);
	cs->floor_listener.data = NULL;
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static int child_main(server_kind kind, const char *library, int cmd_fd, int report_fd)
{
	child_state cs;
	uint16_t port;

	memset(&cs, 0, sizeof(cs));
	cs.kind = kind;
	cs.cmd_fd = cmd_fd;
	cs.report_fd = report_fd;
	if (uv_loop_init(&cs.loop) != 0)
		die("child: uv_loop_init", NULL);
	port = kind == SERVER_FLOOR ? start_floor(&cs) : start_faas(&cs, library);
	if (uv_poll_init(&cs.loop, &cs.control, cmd_fd) != 0)
		die("child: uv_poll_init", NULL);
	cs.control.data = &cs;
	uv_poll_start(&cs.control, UV_READABLE, on_command);
	child_report(&cs, &port, sizeof(port));
	uv_run(&cs.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&cs.loop) != 0)
		die("child: the loop still has handles at exit", NULL);
	return 0;
}

/* ---- the parent's side of a child ---- */

typedef struct server {
	server_kind kind;
	pid_t pid;
	int cmd_fd;    /* parent writes commands */
	int report_fd; /* parent reads ports and reports */
	uint16_t port;
} server;

static void read_full(int fd, void *p, size_t n, const char *what)
{
	char *c = p;

	while (n > 0) {
		ssize_t r = read(fd, c, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die(what, r == 0 ? "the server exited (see its message above)"
					 : strerror(errno));
		c += r;
		n -= (size_t)r;
	}
}

static void server_start(server *s, server_kind kind, const char *library)
{
	int cmd[2], rep[2];

	if (pipe2(cmd, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0)
		die_errno("pipe");
	fflush(NULL);
	s->kind = kind;
	s->pid = fork();
	if (s->pid < 0)
		die_errno("fork");
	if (s->pid == 0) {
		close(cmd[1]);
		close(rep[0]);
		exit(child_main(kind, library, cmd[0], rep[1]));
	}
	close(cmd[0]);
	close(rep[1]);
	s->cmd_fd = cmd[1];
	s->report_fd = rep[0];
	read_full(s->report_fd, &s->port, sizeof(s->port), "waiting for a server's port");
}

static void server_command(server *s, char cmd)
{
	if (write(s->cmd_fd, &cmd, 1) != 1)
		die_errno("writing to a server");
}

static void server_stop(server *s)
{
	int status;

	server_command(s, CMD_QUIT);
	if (waitpid(s->pid, &status, 0) != s->pid)
		die_errno("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fprintf(stderr, "bench/http: the %s server ended badly (status %d)\n",
			server_names[s->kind], status);
	close(s->cmd_fd);
	close(s->report_fd);
}

/* ---- wrk ---- */

typedef struct wrk_result {
	double requests;     /* answered in the run */
	double rps;
	double p50_us, p99_us;
	double bad;          /* non-2xx/3xx answers */
	double socket_errors;
} wrk_result;

/* Whether an executable named name is on PATH (or name is a path to one). */
static bool find_program(const char *name)
{
	const char *path = getenv("PATH");
	char buf[4096];

	if (strchr(name, '/'))
		return access(name, X_OK) == 0;
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");

		if (n > 0 && snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, path, name) <
				     (int)sizeof(buf) &&
		    access(buf, X_OK) == 0)
			return true;
		path += n;
		if (*path == ':')
			path++;
	}
	return false;
}

/* "123.45us", "1.20ms", "2.00s", "0.00us" in microseconds; -1 if unparsable. */
static double parse_duration_us(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return -1;
	if (strncmp(end, "us", 2) == 0)
		return v;
	if (strncmp(end, "ms", 2) == 0)
		return v * 1000.0;
	if (strncmp(end, "s", 1) == 0)
		return v * 1000000.0;
	if (strncmp(end, "m", 1) == 0)
		return v * 60000000.0;
	return -1;
}

/* Parse wrk --latency output. Returns false if a figure is missing. */
static bool parse_wrk(const char *out, wrk_result *r)
{
	const char *p;
	double c, rd, w, t;

	memset(r, 0, sizeof(*r));
	r->p50_us = r->p99_us = -1;
	if ((p = strstr(out, "\n     50%")) != NULL)
		r->p50_us = parse_duration_us(p + strlen("\n     50%") + strspn(p + 9, " "));
	if ((p = strstr(out, "\n     99%")) != NULL)
		r->p99_us = parse_duration_us(p + strlen("\n     99%") + strspn(p + 9, " "));
	if ((p = strstr(out, " requests in ")) != NULL) {
		while (p > out && p[-1] != '\n' && p[-1] != ' ')
			p--;
		r->requests = strtod(p, NULL);
	}
	if ((p = strstr(out, "Requests/sec:")) != NULL)
		r->rps = strtod(p + strlen("Requests/sec:"), NULL);
	if ((p = strstr(out, "Non-2xx or 3xx responses:")) != NULL)
		r->bad = strtod(p + strlen("Non-2xx or 3xx responses:"), NULL);
	if ((p = strstr(out, "Socket errors:")) != NULL &&
	    sscanf(p, "Socket errors: connect %lf, read %lf, write %lf, timeout %lf", &c, &rd, &w,
		   &t) == 4)
		r->socket_errors = c + rd + w + t;
	return r->p50_us >= 0 && r->p99_us >= 0 && r->requests > 0 && r->rps > 0;
}

static void run_wrk(const char *wrk, uint16_t port, unsigned int seconds, wrk_result *r)
{
	char url[64], dur[16], *out = malloc(WRK_OUTPUT_MAX);
	size_t len = 0;
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (!out)
		die("out of memory", NULL);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u" HELLO_PATH, (unsigned int)port);
	snprintf(dur, sizeof(dur), "%us", seconds);
	if (pipe2(fds, O_CLOEXEC) != 0)
		die_errno("pipe");
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execlp(wrk, wrk, "-t" WRK_THREADS, "-c" WRK_CONNECTIONS, "-d", dur, "--latency",
		       url, (char *)NULL);
		fprintf(stderr, "bench/http: cannot run %s: %s\n", wrk, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], out + len, WRK_OUTPUT_MAX - 1 - len)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("wrk failed", out);
	if (!parse_wrk(out, r))
		die("cannot read wrk's output", out);
	if (r->bad > 0 || r->socket_errors > 0) {
		fprintf(stderr, "%s", out);
		die("the server answered errors under load", NULL);
	}
	free(out);
}

/* ---- figures ---- */

typedef struct run_stats {
	double cpu_per_req[BENCH_ROUNDS];
	double user_per_req[BENCH_ROUNDS];
	double sys_per_req[BENCH_ROUNDS];
	double switches_per_req[BENCH_ROUNDS];
	double rps[BENCH_ROUNDS];
	double p50[BENCH_ROUNDS];
	double p99[BENCH_ROUNDS];
	unsigned int n;
} run_stats;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The median of n values (the lower middle for even n); sorts a copy. */
static double median(const double *v, unsigned int n)
{
	double c[BENCH_ROUNDS];

	if (n == 0)
		return 0;
	memcpy(c, v, n * sizeof(*v));
	qsort(c, n, sizeof(*c), cmp_double);
	return c[(n - 1) / 2];
}

static void measure(server *s, const char *wrk, unsigned int seconds, run_stats *st)
{
	usage_report u;
	wrk_result w;
	unsigned int i = st->n++;

	server_command(s, CMD_START);
	run_wrk(wrk, s->port, seconds, &w);
	server_command(s, CMD_END);
	read_full(s->report_fd, &u, sizeof(u), "waiting for a server's usage");
	st->cpu_per_req[i] = (double)u.cpu_us / w.requests;
	st->user_per_req[i] = (double)u.user_us / w.requests;
	st->sys_per_req[i] = (double)u.sys_us / w.requests;
	st->switches_per_req[i] = (double)u.switches / w.requests;
	st->rps[i] = w.rps;
	st->p50[i] = w.p50_us;
	st->p99[i] = w.p99_us;
	printf("# round %u %-6s requests %.0f rps %.0f cpu/req %.3f us (user %.3f sys %.3f) "
	       "switches/req %.3f p50 %.1f us p99 %.1f us\n",
	       i + 1, server_names[s->kind], w.requests, w.rps, st->cpu_per_req[i],
	       st->user_per_req[i], st->sys_per_req[i], st->switches_per_req[i], w.p50_us,
	       w.p99_us);
	fflush(stdout);
}

static void print_server(const run_stats *st, const char *name)
{
	printf("# %-6s median of %u: cpu/req %.3f us (user %.3f sys %.3f) switches/req %.3f "
	       "rps %.0f\n",
	       name, st->n, median(st->cpu_per_req, st->n), median(st->user_per_req, st->n),
	       median(st->sys_per_req, st->n), median(st->switches_per_req, st->n),
	       median(st->rps, st->n));
}

static void print_figures(const run_stats *v, const run_stats *f, const char *mode,
			  const char *goal)
{
	char name[64];

	snprintf(name, sizeof(name), "http_cpu_per_request_%s", mode);
	bench_print_figure_goal(name, median(v->cpu_per_req, v->n), median(f->cpu_per_req, f->n),
				"us", goal);
	snprintf(name, sizeof(name), "http_latency_p50_%s", mode);
	bench_print_figure_goal(name, median(v->p50, v->n), median(f->p50, f->n), "us", goal);
	snprintf(name, sizeof(name), "http_latency_p99_%s", mode);
	bench_print_figure_goal(name, median(v->p99, v->n), median(f->p99, f->n), "us", goal);
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--quick] [--only floor|inline|thread] [--wrk PATH] "
		"[path/to/libhello.so]\n",
		argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *library = HELLO_SO, *wrk = "wrk", *only = NULL;
	server servers[SERVER_COUNT];
	run_stats stats[SERVER_COUNT];
	unsigned int rounds = BENCH_ROUNDS, seconds = BENCH_SECONDS;
	int quick = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "--wrk") == 0 && i + 1 < argc)
			wrk = argv[++i];
		else if (argv[i][0] == '-')
			usage(argv[0]);
		else
			library = argv[i];
	}
	if (only && strcmp(only, "floor") != 0 && strcmp(only, "inline") != 0 &&
	    strcmp(only, "thread") != 0)
		usage(argv[0]);
	if (!find_program(wrk)) {
		fprintf(stderr,
			"bench/http: %s not found: this benchmark drives the server with wrk "
			"(Debian: apt-get install wrk); skipped\n",
			wrk);
		return EXIT_SKIP;
	}
	if (access(library, R_OK) != 0) {
		fprintf(stderr, "bench/http: %s: %s\n", library, strerror(errno));
		return 1;
	}
	if (quick) {
		rounds = BENCH_QUICK_ROUNDS;
		seconds = BENCH_QUICK_SECONDS;
	}
	/* A client gone mid-answer must not kill a server with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);

	bench_print_header("bench/http", quick);
	printf("# library %s route \"%s\" GET %s\n", library, HELLO_ROUTE, HELLO_PATH);
	printf("# wrk -t%s -c%s -d%us --latency; %u round(s) per server, medians reported\n",
	       WRK_THREADS, WRK_CONNECTIONS, seconds, rounds);
	printf("# each server is a forked child measured by its own getrusage(RUSAGE_SELF); "
	       "wrk runs on the same machine and nothing is pinned, so with few cores wrk "
	       "and the server share them (latency includes that contention)\n");
	fflush(stdout);

	memset(stats, 0, sizeof(stats));
	for (int k = 0; k < SERVER_COUNT; k++) {
		if (only && strcmp(only, server_names[k]) != 0)
			continue;
		/* Each child is forked from this single-threaded process before
		 * any runtime exists. */
		server_start(&servers[k], (server_kind)k, library);
		printf("# server %s pid %ld port %u\n", server_names[k], (long)servers[k].pid,
		       (unsigned int)servers[k].port);
		fflush(stdout);
		if (!quick) {
			wrk_result w;

			run_wrk(wrk, servers[k].port, BENCH_WARMUP_SECONDS, &w);
		}
	}
	for (unsigned int r = 0; r < rounds; r++) {
		/* Rotate the order each round so drift falls on every server alike. */
		for (unsigned int j = 0; j < SERVER_COUNT; j++) {
			unsigned int k = (j + r) % SERVER_COUNT;

			if (only && strcmp(only, server_names[k]) != 0)
				continue;
			measure(&servers[k], wrk, seconds, &stats[k]);
		}
	}
	for (int k = 0; k < SERVER_COUNT; k++) {
		if (only && strcmp(only, server_names[k]) != 0)
			continue;
		print_server(&stats[k], server_names[k]);
		server_stop(&servers[k]);
	}
	if (!only) {
		print_figures(&stats[SERVER_INLINE], &stats[SERVER_FLOOR], "inline", GOAL_INLINE);
		print_figures(&stats[SERVER_THREAD], &stats[SERVER_FLOOR], "thread", GOAL_THREAD);
	}
	return 0;
}

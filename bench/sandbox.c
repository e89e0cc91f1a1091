/*
 * bench/sandbox — what `process` isolation costs over the least the same
 * mechanism could cost, measured in one run:
 *
 *   sandbox_warm_p50/p99    faas_invoke_sync() of hello in a prewarmed
 *                           faas-worker, against one framed echo over an
 *                           AF_UNIX stream socketpair (what libuv's
 *                           UV_CREATE_PIPE makes for the worker's fd 3) with a
 *                           child forked before any runtime exists: the
 *                           parent writes and reads through libuv (uv_write,
 *                           uv_read_start on a uv_pipe_t), the child echoes
 *                           with blocking read()/write(), as faas-worker does;
 *   sandbox_cold_start_p50  register (process_prewarm 0, process_min_workers
 *                           0) + first call: a new worker, its dlopen, the
 *                           module init and the call; against uv_spawn() of
 *                           the faas-worker binary itself without a channel
 *                           on fd 3 (it exits at its first read), waited for
 *                           through its exit callback;
 *   sandbox_idle_pss_kib    Pss (/proc/PID/smaps_rollup) of an idle
 *                           prewarmed worker after one call, against a child
 *                           forked from this program that only pause()s.
 *
 * Usage: sandbox [--quick] [path/to/libhello.so]
 *   --quick  a tenth of the samples, for CI smoke runs
 *
 * Each figure and its floor are sampled in alternating rounds so that drift in
 * the machine (frequency, other tenants) falls on both alike.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <uv.h>

#include <faas.h>

#include "bench.h"

#ifndef HELLO_SO
#define HELLO_SO "build/examples/handlers/libhello.so"
#endif
#ifndef FAAS_WORKER_BIN
#define FAAS_WORKER_BIN "build/lib/faas-worker"
#endif

#define HELLO_SYMBOL "hello"
#define HELLO_EVENT_NAME "bench"
#define HELLO_EXPECTED "Hello, bench!"
#define WORKER_COMM "faas-worker"

#define FN_WARM "hello_proc_warm"
#define FN_COLD "hello_proc_cold"
#define FN_IDLE "hello_proc_idle"

/* Sample counts of a full run; --quick divides them all by BENCH_QUICK_DIVISOR
 * (at least one each). */
#define BENCH_WARM_SAMPLES 20000u
#define BENCH_WARM_WARMUP 2000u
#define BENCH_COLD_SAMPLES 200u
#define BENCH_COLD_WARMUP 10u
#define BENCH_PSS_SAMPLES 20u
#define BENCH_QUICK_DIVISOR 10u
/* Rounds alternate the measured thing and its floor (and which goes first). */
#define BENCH_ROUNDS 5u

/* The echo frame: the 5-byte header of worker_proto.h plus a payload the size
 * of a hello INVOKE frame (request id, deadline, event text). */
#define ECHO_HEADER 5u
#define ECHO_PAYLOAD 96u
#define ECHO_FRAME (ECHO_HEADER + ECHO_PAYLOAD)

/* How long to wait for a worker to exit or to appear, and how often to look. */
#define WAIT_LIMIT_MS 5000u
#define WAIT_STEP_US 1000u
/* A freshly forked child is given this long to reach pause(). */
#define PAUSE_SETTLE_US 20000u
#define MAX_CHILDREN 64u

#define GOAL_WARM 1.3
#define GOAL_COLD 1.2
#define GOAL_PSS 1.5

#define PCT_MEDIAN 50.0
#define PCT_TAIL 99.0
#define PCT_LOW 10.0
#define PCT_HIGH 90.0

typedef void (*bench_op)(void *arg);

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench/sandbox: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
	exit(1);
}

static void die_faas(const char *what, faas_runtime *rt, int rc)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s (%s) %s", faas_err_name(rc), faas_strerror(rc),
		 rt ? faas_runtime_last_error(rt) : "");
	die(what, msg);
}

static void sleep_us(unsigned int us)
{
	struct timespec ts = {us / 1000000u, (long)(us % 1000000u) * 1000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- children of this process ---- */

/* The pids of this process's children (every thread's: uv_spawn forks from
 * whichever thread runs the loop) whose comm is `comm`. */
static size_t children_named(int *pids, size_t max, const char *comm)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	size_t n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		char path[320];
		FILE *f;
		int pid;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		while (n < max && fscanf(f, "%d", &pid) == 1) {
			char cpath[64], name[64] = "";
			FILE *c;

			snprintf(cpath, sizeof(cpath), "/proc/%d/comm", pid);
			c = fopen(cpath, "r");
			if (!c)
				continue;
			if (fgets(name, sizeof(name), c))
				name[strcspn(name, "\n")] = '\0';
			fclose(c);
			if (strcmp(name, comm) == 0)
				pids[n++] = pid;
		}
		fclose(f);
	}
	closedir(d);
	return n;
}

/* Run the runtime's loop without blocking until no worker is left, so that
 * one sample's worker does not overlap the next. */
static void wait_workers_gone(faas_runtime *rt)
{
	int pids[MAX_CHILDREN];

	for (unsigned int waited = 0; waited < WAIT_LIMIT_MS * 1000u; waited += WAIT_STEP_US) {
		uv_run(faas_runtime_loop(rt), UV_RUN_NOWAIT);
		if (children_named(pids, MAX_CHILDREN, WORKER_COMM) == 0)
			return;
		sleep_us(WAIT_STEP_US);
	}
	die("a worker did not exit after faas_fn_unregister", NULL);
}

/* Pss of a process in KiB from /proc/PID/smaps_rollup; exits if unreadable. */
static uint64_t pss_kib(int pid)
{
	char path[64], line[256];
	uint64_t kib = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", pid);
	f = fopen(path, "r");
	if (!f)
		die("cannot open smaps_rollup", path);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (sscanf(line, "Pss: %llu kB", &v) == 1) {
			kib = v;
			found = true;
			break;
		}
	}
	fclose(f);
	if (!found)
		die("no Pss line in", path);
	return kib;
}

/* ---- the measured operations ---- */

static void check_activation(faas_activation *act)
{
	const cJSON *result;

	if (faas_activation_status(act) != FAAS_STATUS_SUCCESS) {
		fprintf(stderr, "bench/sandbox: %s ended %s: %s: %s\n",
			faas_activation_function(act),
			faas_status_name(faas_activation_status(act)),
			faas_activation_error_type(act) ? faas_activation_error_type(act) : "-",
			faas_activation_error_message(act) ? faas_activation_error_message(act)
							   : "-");
		exit(1);
	}
	result = faas_activation_result(act);
	if (!cJSON_IsString(result) || strcmp(result->valuestring, HELLO_EXPECTED) != 0)
		die("unexpected result from hello", NULL);
}

typedef struct invoke_arg {
	faas_runtime *rt;
	const char *function;
	const cJSON *event;
} invoke_arg;

static void call_once(faas_runtime *rt, const char *function, const cJSON *event, bool *cold)
{
	faas_activation *act = NULL;
	int rc = faas_invoke_sync(&act, rt, function, event);

	if (rc != 0)
		die_faas("faas_invoke_sync", rt, rc);
	if (faas_activation_status(act) != FAAS_STATUS_SUCCESS)
		check_activation(act);
	if (cold)
		*cold = faas_activation_usage(act)->cold;
	faas_activation_free(act);
}

static void op_invoke(void *arg)
{
	invoke_arg *a = arg;

	call_once(a->rt, a->function, a->event, NULL);
}

/* The warm floor: a framed echo with a pre-forked child over a socketpair. */
typedef struct echo {
	uv_loop_t loop;
	uv_pipe_t pipe;
	int child;
	char frame[ECHO_FRAME];
	/* Room beyond one frame: libuv asks for a buffer again after the last
	 * bytes, until the socket has nothing left. */
	char got[2 * ECHO_FRAME];
	size_t have;
	bool done;
	uv_write_t req;
} echo;

static void echo_child(int fd)
{
	char buf[ECHO_FRAME];

	for (;;) {
		size_t have = 0;

		while (have < ECHO_FRAME) {
			ssize_t n = read(fd, buf + have, ECHO_FRAME - have);

			if (n == 0)
				_exit(0);
			if (n < 0) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			have += (size_t)n;
		}
		for (size_t put = 0; put < ECHO_FRAME;) {
			ssize_t n = write(fd, buf + put, ECHO_FRAME - put);

			if (n < 0) {
				if (errno == EINTR)
					continue;
				_exit(1);
			}
			put += (size_t)n;
		}
	}
}

/* Fork the echo child; must run before any runtime or thread exists. */
static void echo_fork(echo *e)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		die("socketpair", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		close(sv[0]);
		echo_child(sv[1]);
	}
	close(sv[1]);
	e->child = pid;
	memset(e->frame, 'x', sizeof(e->frame));
	/* The length prefix of worker_proto.h: little-endian payload size. */
	e->frame[0] = (char)ECHO_PAYLOAD;
	e->frame[1] = e->frame[2] = e->frame[3] = 0;
	e->frame[4] = 3; /* FAAS__WP_INVOKE */
	if (uv_loop_init(&e->loop) != 0 || uv_pipe_init(&e->loop, &e->pipe, 0) != 0 ||
	    uv_pipe_open(&e->pipe, sv[0]) != 0)
		die("uv_pipe_open of the echo socket", NULL);
	e->pipe.data = e;
}

static void echo_alloc(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
	echo *e = h->data;

	(void)size;
	*buf = uv_buf_init(e->got + e->have, (unsigned int)(sizeof(e->got) - e->have));
}

static void echo_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	echo *e = s->data;

	(void)buf;
	if (n < 0)
		die("echo read", uv_strerror((int)n));
	e->have += (size_t)n;
	if (e->have > ECHO_FRAME)
		die("the echo is longer than the frame", NULL);
	if (e->have == ECHO_FRAME)
		e->done = true;
}

static void echo_written(uv_write_t *req, int status)
{
	(void)req;
	if (status != 0)
		die("echo write", uv_strerror(status));
}

static void op_echo(void *arg)
{
	echo *e = arg;
	uv_buf_t b = uv_buf_init(e->frame, ECHO_FRAME);

	e->have = 0;
	e->done = false;
	if (uv_write(&e->req, (uv_stream_t *)&e->pipe, &b, 1, echo_written) != 0)
		die("uv_write", NULL);
	while (!e->done)
		uv_run(&e->loop, UV_RUN_ONCE);
	if (memcmp(e->got, e->frame, ECHO_FRAME) != 0)
		die("the echo differs from the frame", NULL);
}

static void echo_start(echo *e)
{
	if (uv_read_start((uv_stream_t *)&e->pipe, echo_alloc, echo_read) != 0)
		die("uv_read_start", NULL);
}

static void echo_stop(echo *e)
{
	int status;

	uv_read_stop((uv_stream_t *)&e->pipe);
	uv_close((uv_handle_t *)&e->pipe, NULL);
	uv_run(&e->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&e->loop) != 0)
		die("uv_loop_close of the echo loop", NULL);
	if (waitpid(e->child, &status, 0) != e->child || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		die("the echo child did not exit cleanly", NULL);
}

typedef struct cold_arg {
	faas_runtime *rt;
	const char *library;
	const cJSON *event;
	unsigned int not_cold; /* calls that did not run the module's init */
} cold_arg;

static void register_hello(faas_runtime *rt, const char *name, const char *library,
			   unsigned int prewarm)
{
	faas_fn_options opts = FAAS_FN_OPTIONS_INIT;
	int rc;

	opts.library = library;
	opts.symbol = HELLO_SYMBOL;
	opts.isolation = FAAS_ISOLATION_PROCESS;
	opts.process_prewarm = prewarm;
	opts.process_min_workers = prewarm;
	opts.process_max_workers = 1;
	rc = faas_fn_register(NULL, rt, name, &opts);
	if (rc != 0)
		die_faas("faas_fn_register", rt, rc);
}

static void unregister(faas_runtime *rt, const char *name)
{
	int rc = faas_fn_unregister(rt, name);

	if (rc != 0)
		die_faas("faas_fn_unregister", rt, rc);
	wait_workers_gone(rt);
}

/* Timed: a new worker, its dlopen and init, and the first call. */
static void op_cold(void *arg)
{
	cold_arg *a = arg;
	bool cold = false;

	register_hello(a->rt, FN_COLD, a->library, 0);
	call_once(a->rt, FN_COLD, a->event, &cold);
	if (!cold)
		a->not_cold++;
}

/* Untimed: the worker goes away before the next sample. */
static void after_cold(void *arg)
{
	cold_arg *a = arg;

	unregister(a->rt, FN_COLD);
}

/* The cold floor: the worker binary started and gone, through libuv. */
typedef struct spawn_arg {
	uv_loop_t loop;
	const char *program;
	bool exited;
	int64_t status;
	int64_t first_status; /* of the first spawn, reported */
	bool any;
} spawn_arg;

static void on_spawned_exit(uv_process_t *p, int64_t status, int sig)
{
	spawn_arg *s = p->data;

	s->exited = true;
	s->status = sig ? -sig : status;
	uv_close((uv_handle_t *)p, NULL);
}

static void op_spawn(void *arg)
{
	spawn_arg *s = arg;
	uv_process_t proc;
	uv_process_options_t po;
	uv_stdio_container_t io[3];
	char *args[2];
	int rc;

	memset(&po, 0, sizeof(po));
	args[0] = (char *)s->program;
	args[1] = NULL;
	po.file = s->program;
	po.args = args;
	po.exit_cb = on_spawned_exit;
	/* No fd 3: libuv marks its own descriptors close-on-exec, so the
	 * worker's first read of its channel fails and it leaves at once. */
	io[0].flags = io[1].flags = io[2].flags = UV_IGNORE;
	po.stdio = io;
	po.stdio_count = 3;
	s->exited = false;
	proc.data = s;
	rc = uv_spawn(&s->loop, &proc, &po);
	if (rc != 0)
		die("uv_spawn of the worker binary", uv_strerror(rc));
	while (!s->exited)
		uv_run(&s->loop, UV_RUN_ONCE);
	uv_run(&s->loop, UV_RUN_NOWAIT); /* the close callback */
	if (!s->any) {
		s->first_status = s->status;
		s->any = true;
	}
}

/* ---- sampling ---- */

/* One side of a comparison: the measured thing or its floor. */
typedef struct side {
	bench_op op;
	bench_op after; /* untimed clean-up after each sample, or NULL */
	void *arg;
	bench_samples samples;
} side;

static void run_n(side *s, unsigned int n, bool record)
{
	for (unsigned int i = 0; i < n; i++) {
		uint64_t t0 = bench_now_ns();

		s->op(s->arg);
		if (record)
			bench_samples_add(&s->samples, bench_now_ns() - t0);
		if (s->after)
			s->after(s->arg);
	}
}

/* Warm both up, then sample them in BENCH_ROUNDS alternating rounds. */
static void run_pair(side *value, side *floor, unsigned int samples, unsigned int warmup)
{
	unsigned int per_round = samples / BENCH_ROUNDS ? samples / BENCH_ROUNDS : 1;

	bench_samples_init(&value->samples, samples);
	bench_samples_init(&floor->samples, samples);
	run_n(value, warmup, false);
	run_n(floor, warmup, false);
	for (unsigned int r = 0; r < BENCH_ROUNDS; r++) {
		if (r % 2 == 0) {
			run_n(value, per_round, true);
			run_n(floor, per_round, true);
		} else {
			run_n(floor, per_round, true);
			run_n(value, per_round, true);
		}
	}
}

static void print_spread(const char *name, side *value, side *floor)
{
	printf("# %s p10 value %.3f floor %.3f p90 value %.3f floor %.3f (us)\n", name,
	       bench_percentile_us(&value->samples, PCT_LOW),
	       bench_percentile_us(&floor->samples, PCT_LOW),
	       bench_percentile_us(&value->samples, PCT_HIGH),
	       bench_percentile_us(&floor->samples, PCT_HIGH));
}

/* ---- where the warm time goes ---- */

/* The first number after `field` in /proc/self/status, as faas-worker reads
 * it after every call. */
static unsigned long status_field(const char *field)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned long v = 0;
	size_t n = strlen(field);

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, field, n) == 0) {
			v = strtoul(line + n, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* Not a figure: the per-call bookkeeping faas-worker does around a handler
 * (clear_refs "5", two CPU clock reads, /proc/self/status read for VmHWM and
 * again for VmPeak), timed in this process, to say how much of the warm
 * figure above its floor it explains. */
static void print_bookkeeping(unsigned int n)
{
	struct timespec ts;
	unsigned long sink = 0;
	uint64_t t0, t1, t2;

	t0 = bench_now_ns();
	for (unsigned int i = 0; i < n; i++) {
		FILE *f = fopen("/proc/self/clear_refs", "we");

		if (f) {
			fputs("5", f);
			fclose(f);
		}
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	}
	t1 = bench_now_ns();
	for (unsigned int i = 0; i < n; i++)
		sink += status_field("VmHWM:") + status_field("VmPeak:");
	t2 = bench_now_ns();
	printf("# sandbox_warm worker bookkeeping per call, timed here: clear_refs + cpu clocks "
	       "%.2f us, two /proc/self/status reads %.2f us%s\n",
	       (double)(t1 - t0) / 1000.0 / n, (double)(t2 - t1) / 1000.0 / n,
	       sink ? "" : " (status unreadable)");
}

/* ---- the phases ---- */

typedef struct bench_config {
	const char *library;
	const char *worker;
	const cJSON *event;
	unsigned int warm_n, warm_up, cold_n, cold_up, pss_n;
} bench_config;

static faas_runtime *runtime_new(const char *worker)
{
	faas_runtime_options ro = FAAS_RUNTIME_OPTIONS_INIT;
	faas_runtime *rt = NULL;
	int rc;

	ro.loop = NULL;
	ro.log_sink = NULL;
	ro.worker_path = worker;
	rc = faas_runtime_new(&rt, &ro);
	if (rc != 0)
		die_faas("faas_runtime_new", NULL, rc);
	return rt;
}

static void bench_warm(const bench_config *cfg, echo *e)
{
	faas_runtime *rt = runtime_new(cfg->worker);
	invoke_arg inv = {rt, FN_WARM, cfg->event};
	side value = {.op = op_invoke, .arg = &inv};
	side floor = {.op = op_echo, .arg = e};

	register_hello(rt, FN_WARM, cfg->library, 1);
	call_once(rt, FN_WARM, cfg->event, NULL);
	echo_start(e);
	run_pair(&value, &floor, cfg->warm_n, cfg->warm_up);
	echo_stop(e);
	bench_print_figure("sandbox_warm_p50", bench_percentile_us(&value.samples, PCT_MEDIAN),
			   bench_percentile_us(&floor.samples, PCT_MEDIAN), "us", GOAL_WARM);
	bench_print_figure("sandbox_warm_p99", bench_percentile_us(&value.samples, PCT_TAIL),
			   bench_percentile_us(&floor.samples, PCT_TAIL), "us", GOAL_WARM);
	print_spread("sandbox_warm", &value, &floor);
	print_bookkeeping(cfg->warm_up);
	bench_samples_free(&value.samples);
	bench_samples_free(&floor.samples);
	unregister(rt, FN_WARM);
	faas_runtime_free(rt);
}

static void bench_cold(const bench_config *cfg)
{
	faas_runtime *rt = runtime_new(cfg->worker);
	cold_arg cold = {rt, cfg->library, cfg->event, 0};
	spawn_arg sp;
	side value = {.op = op_cold, .after = after_cold, .arg = &cold};
	side floor = {.op = op_spawn, .arg = &sp};

	memset(&sp, 0, sizeof(sp));
	sp.program = cfg->worker;
	if (uv_loop_init(&sp.loop) != 0)
		die("uv_loop_init", NULL);
	run_pair(&value, &floor, cfg->cold_n, cfg->cold_up);
	if (cold.not_cold)
		printf("# warning: %u cold calls did not run the module init\n", cold.not_cold);
	printf("# sandbox_cold_start floor: %s without fd 3 exited with status %lld\n",
	       cfg->worker, (long long)sp.first_status);
	bench_print_figure("sandbox_cold_start_p50",
			   bench_percentile_us(&value.samples, PCT_MEDIAN),
			   bench_percentile_us(&floor.samples, PCT_MEDIAN), "us", GOAL_COLD);
	print_spread("sandbox_cold_start", &value, &floor);
	bench_samples_free(&value.samples);
	bench_samples_free(&floor.samples);
	if (uv_loop_close(&sp.loop) != 0)
		die("uv_loop_close of the spawn loop", NULL);
	faas_runtime_free(rt);
}

static int fork_pauser(void)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork", strerror(errno));
	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void reap(int pid)
{
	int status;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* The worker of FN_IDLE: the only faas-worker child once it is prewarmed. */
static int idle_worker_pid(void)
{
	int pids[MAX_CHILDREN];
	size_t n = children_named(pids, MAX_CHILDREN, WORKER_COMM);

	if (n != 1)
		die("expected exactly one faas-worker child", NULL);
	return pids[0];
}

static void bench_pss(const bench_config *cfg)
{
	bench_samples value, floor;

	/* The samples are KiB stored as thousandths, so that the
	 * percentile helper (which divides by 1000) yields KiB. */
	bench_samples_init(&value, cfg->pss_n);
	bench_samples_init(&floor, cfg->pss_n);
	for (unsigned int i = 0; i < cfg->pss_n; i++) {
		/* A fresh pauser and a fresh runtime each round; the order
		 * alternates. The pauser is forked before the runtime so that
		 * it carries none of the runtime's threads or pages. */
		int pauser = fork_pauser();
		faas_runtime *rt = runtime_new(cfg->worker);
		int worker;
		uint64_t v, f;

		register_hello(rt, FN_IDLE, cfg->library, 1);
		call_once(rt, FN_IDLE, cfg->event, NULL);
		worker = idle_worker_pid();
		sleep_us(PAUSE_SETTLE_US);
		if (i % 2 == 0) {
			v = pss_kib(worker);
			f = pss_kib(pauser);
		} else {
			f = pss_kib(pauser);
			v = pss_kib(worker);
		}
		bench_samples_add(&value, v * 1000u);
		bench_samples_add(&floor, f * 1000u);
		if (i == 0)
			printf("# sandbox_idle_pss worker pid %d Pss %llu KiB, pauser pid %d Pss "
			       "%llu KiB\n",
			       worker, (unsigned long long)v, pauser, (unsigned long long)f);
		reap(pauser);
		unregister(rt, FN_IDLE);
		faas_runtime_free(rt);
	}
	bench_print_figure("sandbox_idle_pss_kib", bench_percentile_us(&value, PCT_MEDIAN),
			   bench_percentile_us(&floor, PCT_MEDIAN), "KiB", GOAL_PSS);
	bench_samples_free(&value);
	bench_samples_free(&floor);
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--quick] [path/to/libhello.so]\n", argv0);
	exit(2);
}

static unsigned int at_least_one(unsigned int n)
{
	return n ? n : 1;
}

int main(int argc, char **argv)
{
	bench_config cfg = {HELLO_SO, FAAS_WORKER_BIN, NULL, 0, 0, 0, 0, 0};
	unsigned int div = 1;
	const char *env = getenv("FAAS_WORKER_PATH");
	cJSON *event;
	int quick = 0;
	echo e;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
		else if (argv[i][0] == '-')
			usage(argv[0]);
		else
			cfg.library = argv[i];
	}
	if (env && env[0])
		cfg.worker = env;
	if (quick)
		div = BENCH_QUICK_DIVISOR;
	cfg.warm_n = at_least_one(BENCH_WARM_SAMPLES / div);
	cfg.warm_up = at_least_one(BENCH_WARM_WARMUP / div);
	cfg.cold_n = at_least_one(BENCH_COLD_SAMPLES / div);
	cfg.cold_up = at_least_one(BENCH_COLD_WARMUP / div);
	cfg.pss_n = at_least_one(BENCH_PSS_SAMPLES / div);

	/* Before any runtime, loop or thread exists. */
	memset(&e, 0, sizeof(e));
	echo_fork(&e);

	bench_print_header("bench/sandbox", quick);
	printf("# library %s worker %s warm %u cold %u pss %u rounds %u\n", cfg.library,
	       cfg.worker, cfg.warm_n, cfg.cold_n, cfg.pss_n, BENCH_ROUNDS);
	printf("# warm floor: %u-byte frame echoed over an AF_UNIX SOCK_STREAM socketpair "
	       "(libuv uv_pipe_t in the parent, blocking read/write in a pre-forked child)\n",
	       ECHO_FRAME);

	event = cJSON_CreateObject();
	if (!event || !cJSON_AddStringToObject(event, "name", HELLO_EVENT_NAME))
		die("cannot build the event", NULL);
	cfg.event = event;

	bench_warm(&cfg, &e);
	bench_cold(&cfg);
	bench_pss(&cfg);
	cJSON_Delete(event);
	return 0;
}

/*
 * faas-worker: the program that runs one function's handler for the runtime
 * in `process` isolation. The runtime spawns it (exec, not a fork of the
 * host: the host has threads, and a forked copy of a threaded process may
 * hold locks nobody will release), talks to it over fd 3 with the frames of
 * worker_proto.h, and reads its stdout and stderr into the call's log.
 *
 * The worker is single-threaded and strictly request/response: it blocks on
 * its channel, runs one call at a time, and answers. It provides its own
 * implementation of the handler API (faas_ctx_*, faas_log, faas_state_*),
 * exported so that the handler's shared object resolves against it:
 *   - faas_log writes the line to fd 2, which the runtime captures;
 *   - faas_ctx_alloc is plain malloc: RLIMIT_AS is the hard limit here;
 *   - faas_ctx_cancelled is always false (at its deadline the worker is killed);
 *   - faas_state_* are proxied synchronously over the channel.
 *
 * Memory rule: after loading the shared object the worker reads its own
 * address-space size (VmSize) and sets RLIMIT_AS to that baseline plus
 * memory_mb MiB. The host reads the limit and the call's peaks from the
 * kernel, and tells `oom` itself: the worker reports no measure at all (its
 * handler could forge any), only what the call returned.
 *
 * Lifetime: the host spawns it in a session (and process group) of its own
 * and kills the whole group, so what a handler forks or execs dies with the
 * worker. The worker asks for SIGKILL when the host dies (PR_SET_PDEATHSIG)
 * and is a child subreaper, so the host can list every live descendant after
 * a call. process_max_processes is applied as RLIMIT_NPROC where the kernel
 * honours it, and the worker says so either way in READY.
 *
 * Exit statuses of its own (the handler's exit() codes pass through as they
 * are): FAAS__WORKER_EXIT_CHANNEL when the channel breaks (short read or
 * failed write), FAAS__WORKER_EXIT_PROTOCOL on a malformed frame. It always
 * leaves with _exit: atexit handlers belong to the handler's world.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#include <malloc.h>

#include <faas/errors.h>
#include <faas/fn.h>

#include "format.h"
#include <faas/handler.h>

#include "worker_proto.h"

#define FAAS__WORKER_EXIT_CHANNEL 70
#define FAAS__WORKER_EXIT_PROTOCOL 71
/* A frame from the host is at most this (an event is bounded by the host's
 * payload limit, at most this minus the slack). */
#define FAAS__WORKER_MAX_FRAME (256u * 1024u * 1024u)
#define FAAS__WORKER_LINE_STACK 512

/* Sanitizer builds: a crash must look like a crash (a signal), not like the
 * sanitizer's report and abort, and a failed allocation must return NULL as
 * it does under RLIMIT_AS without one. Ignored by normal builds. */
FAAS_EXTERN const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "handle_segv=0:handle_sigbus=0:handle_abort=0:handle_sigfpe=0:"
	       "allocator_may_return_null=1:detect_leaks=0";
}

struct faas_ctx {
	char request_id[64];
	uint64_t deadline_ns;
	char *err_type, *err_msg;
	uint64_t mem_used;
};

static struct {
	void *dl;
	const faas_module *mod;
	faas_handler_fn handler;
	char *name, *version, *load_error;
	uint32_t memory_mb, result_limit;
	uint64_t seq; /* the call being run: its frames carry this */
} W;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* One "VmXxx:   123 kB" field of /proc/self/status, in bytes; 0 if absent. */
static uint64_t status_bytes(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	uint64_t v = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (!f)
		return 0;
	while (v == 0 && fgets(line, sizeof(line), f))
		if (strncmp(line, field, n) == 0)
			v = strtoull(line + n, NULL, 10) * 1024u;
	fclose(f);
	return v;
}

/* ---- the channel ---- */

static void read_full(void *buf, size_t n)
{
	char *p = buf;

	while (n > 0) {
		ssize_t got = read(FAAS__WP_CHANNEL_FD, p, n);

		if (got == 0)
			_exit(0); /* the host closed the channel: it wants us gone */
		if (got < 0) {
			if (errno == EINTR)
				continue;
			_exit(FAAS__WORKER_EXIT_CHANNEL);
		}
		p += got;
		n -= (size_t)got;
	}
}

static void write_full(const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t put = write(FAAS__WP_CHANNEL_FD, p, n);

		if (put < 0) {
			if (errno == EINTR)
				continue;
			_exit(FAAS__WORKER_EXIT_CHANNEL);
		}
		p += put;
		n -= (size_t)put;
	}
}

static void send_frame(faas__wbuf *b)
{
	if (faas__wbuf_finish(b) != 0)
		_exit(FAAS__WORKER_EXIT_CHANNEL);
	write_full(b->data, b->len);
	faas__wbuf_free(b);
}

/* Returns the payload (malloc'd) and its type. */
static char *read_frame(uint8_t *type, size_t *len)
{
	char header[FAAS__WP_HEADER];
	uint32_t n;
	char *payload;

	read_full(header, sizeof(header));
	n = faas__wp_get_u32(header);
	if (n > FAAS__WORKER_MAX_FRAME)
		_exit(FAAS__WORKER_EXIT_PROTOCOL);
	payload = malloc((size_t)n + 1);
	if (!payload)
		_exit(FAAS__WORKER_EXIT_CHANNEL);
	read_full(payload, n);
	payload[n] = '\0';
	*type = (uint8_t)header[4];
	*len = n;
	return payload;
}

/* ---- the handler API ---- */

const char *faas_ctx_request_id(const faas_ctx *ctx)
{
	return ctx ? ctx->request_id : NULL;
}

const char *faas_ctx_function_name(const faas_ctx *ctx)
{
	return ctx ? W.name : NULL;
}

const char *faas_ctx_function_version(const faas_ctx *ctx)
{
	return ctx ? W.version : NULL;
}

uint32_t faas_ctx_memory_limit_mb(const faas_ctx *ctx)
{
	return ctx ? W.memory_mb : 0;
}

uint64_t faas_ctx_remaining_ms(const faas_ctx *ctx)
{
	uint64_t now = now_ns();

	if (!ctx || now >= ctx->deadline_ns)
		return 0;
	return (ctx->deadline_ns - now) / 1000000u;
}

bool faas_ctx_cancelled(const faas_ctx *ctx)
{
	(void)ctx;
	return false;
}

void faas_log(faas_ctx *ctx, const char *fmt, ...)
{
	char stack[FAAS__WORKER_LINE_STACK];
	char *line;
	va_list ap;
	size_t n;

	if (!ctx || !fmt)
		return;
	va_start(ap, fmt);
	line = faas__vformat_line(stack, sizeof(stack), &n, fmt, ap);
	va_end(ap);
	if (!line)
		return;
	line[n] = '\n';
	/* One write per line, so lines from stdout and stderr do not interleave
	 * inside each other. A closed fd 2 loses the line, nothing more. */
	(void)!write(STDERR_FILENO, line, n + 1);
	if (line != stack)
		free(line);
}

int faas_ctx_error(faas_ctx *ctx, const char *type, const char *fmt, ...)
{
	va_list ap;

	if (!ctx)
		return -1;
	free(ctx->err_type);
	free(ctx->err_msg);
	ctx->err_type = strdup(type ? type : "Error");
	va_start(ap, fmt);
	ctx->err_msg = fmt ? faas__vformat(fmt, ap) : strdup("");
	va_end(ap);
	return -1;
}

void *faas_ctx_alloc(faas_ctx *ctx, size_t size)
{
	void *p;

	if (!ctx || size == 0)
		return NULL;
	p = malloc(size);
	if (p)
		ctx->mem_used += malloc_usable_size(p);
	return p;
}

void faas_ctx_free(faas_ctx *ctx, void *ptr)
{
	if (!ptr)
		return;
	if (ctx) {
		uint64_t n = malloc_usable_size(ptr);

		ctx->mem_used = ctx->mem_used > n ? ctx->mem_used - n : 0;
	}
	free(ptr);
}

uint64_t faas_ctx_memory_used(const faas_ctx *ctx)
{
	return ctx ? ctx->mem_used : 0;
}

/* One state call: a STATE_REQ, then block for the STATE_RESP. */
static int state_call(uint8_t op, const char *key, const void *value, size_t len, uint64_t version,
                      int64_t delta, char **value_out, size_t *len_out, uint64_t *version_out,
                      int64_t *number_out)
{
	faas__wbuf b;
	faas__rbuf r;
	uint8_t type;
	size_t n, vlen;
	char *frame;
	const char *v;
	int rc;

	if (len > FAAS__WP_STATE_VALUE_MAX)
		return FAAS_ETOOBIG;
	faas__wbuf_begin(&b, FAAS__WP_STATE_REQ);
	faas__wbuf_u64(&b, W.seq);
	faas__wbuf_u8(&b, op);
	faas__wbuf_cstr(&b, key);
	faas__wbuf_str(&b, value, len);
	faas__wbuf_u64(&b, version);
	faas__wbuf_u64(&b, (uint64_t)delta);
	send_frame(&b);
	frame = read_frame(&type, &n);
	if (type != FAAS__WP_STATE_RESP)
		_exit(FAAS__WORKER_EXIT_PROTOCOL);
	r = (faas__rbuf){frame, n, false};
	if (faas__rbuf_u64(&r) != W.seq)
		_exit(FAAS__WORKER_EXIT_PROTOCOL);
	rc = (int)(int32_t)faas__rbuf_u32(&r);
	v = faas__rbuf_str(&r, &vlen);
	if (version_out)
		*version_out = faas__rbuf_u64(&r);
	else
		(void)faas__rbuf_u64(&r);
	if (number_out)
		*number_out = (int64_t)faas__rbuf_u64(&r);
	if (r.bad)
		_exit(FAAS__WORKER_EXIT_PROTOCOL);
	if (rc == 0 && value_out) {
		*value_out = malloc(vlen + 1);
		if (!*value_out) {
			rc = FAAS_ENOMEM;
		} else {
			memcpy(*value_out, v, vlen + 1);
			if (len_out)
				*len_out = vlen;
		}
	}
	free(frame);
	return rc;
}

int faas_state_get(faas_ctx *ctx, const char *key, char **value_out, size_t *len_out,
                   uint64_t *version_out)
{
	if (value_out)
		*value_out = NULL;
	if (len_out)
		*len_out = 0;
	if (version_out)
		*version_out = 0;
	if (!ctx || !key || !value_out)
		return FAAS_EINVAL;
	return state_call(FAAS__WPS_GET, key, NULL, 0, 0, 0, value_out, len_out, version_out, NULL);
}

int faas_state_put(faas_ctx *ctx, const char *key, const void *value, size_t len,
                   uint64_t expected_version, uint64_t *version_out)
{
	if (!ctx || !key || (!value && len > 0))
		return FAAS_EINVAL;
	return state_call(FAAS__WPS_PUT, key, value, len, expected_version, 0, NULL, NULL,
	                  version_out, NULL);
}

int faas_state_delete(faas_ctx *ctx, const char *key, uint64_t expected_version)
{
	if (!ctx || !key)
		return FAAS_EINVAL;
	return state_call(FAAS__WPS_DELETE, key, NULL, 0, expected_version, 0, NULL, NULL, NULL,
	                  NULL);
}

int faas_state_incr(faas_ctx *ctx, const char *key, int64_t delta, int64_t *value_out)
{
	if (!ctx || !key)
		return FAAS_EINVAL;
	return state_call(FAAS__WPS_INCR, key, NULL, 0, 0, delta, NULL, NULL, NULL, value_out);
}

void faas_state_free(char *value)
{
	free(value);
}

/* ---- seccomp ---- */

#if defined(__x86_64__)
#define FAAS__AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define FAAS__AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#define DENY_NR(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, deny)

/* Deny new processes, exec, ptrace and new sockets; threads stay allowed
 * (clone with CLONE_THREAD). clone3 answers ENOSYS whatever the mode: its
 * flags live in memory a filter cannot read, and glibc then falls back to
 * clone, whose flags it can. Returns 0, or -1 (errno set). */
static int install_seccomp(uint8_t mode)
{
#ifdef FAAS__AUDIT_ARCH
	uint32_t deny =
	    mode == FAAS_SECCOMP_KILL ? SECCOMP_RET_KILL_PROCESS : SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, FAAS__AUDIT_ARCH, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
#ifdef __x86_64__
	    /* x32 system calls (numbers with bit 30 set) would bypass the list. */
	    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, deny),
#endif
#ifdef __NR_fork
	    DENY_NR(__NR_fork),
#endif
#ifdef __NR_vfork
	    DENY_NR(__NR_vfork),
#endif
	    DENY_NR(__NR_execve),
	    DENY_NR(__NR_execveat),
	    DENY_NR(__NR_ptrace),
	    DENY_NR(__NR_socket),
#ifdef __NR_clone3
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
#endif
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 3),
	    /* The low word of the flags (args[0]) on a little-endian machine. */
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
	    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 1, 0),
	    BPF_STMT(BPF_RET | BPF_K, deny),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {(unsigned short)(sizeof(f) / sizeof(f[0])), f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
#else
	(void)mode;
	errno = ENOSYS;
	return -1;
#endif
}

/* ---- the process limit ---- */

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Tasks (processes and threads) whose real uid is uid, from /proc: what
 * RLIMIT_NPROC counts against. Processes hidden from us are missed, which
 * only makes the limit stricter. */
static unsigned long user_tasks(uid_t uid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	unsigned long n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		char path[300], line[256];
		unsigned long threads = 0;
		long real = -1;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/status", e->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			if (strncmp(line, "Uid:", 4) == 0)
				real = strtol(line + 4, NULL, 10);
			else if (strncmp(line, "Threads:", 8) == 0)
				threads = strtoul(line + 8, NULL, 10);
		}
		fclose(f);
		if (real == (long)uid)
			n += threads;
	}
	closedir(d);
	return n;
}

/* Let the handler start at most max processes and threads beyond the worker,
 * with RLIMIT_NPROC, before its library is loaded. The kernel counts every
 * task of the real uid against it and ignores it for uid 0, so the limit is
 * at best approximate: what was done is said, never assumed. Returns that
 * note for the host to log (malloc'd; NULL without memory). */
static char *limit_processes(uint32_t max)
{
	uid_t uid = getuid();
	unsigned long others;
	struct rlimit rl;

	if (uid == 0)
		return format("process_max_processes %u: not enforced (RLIMIT_NPROC does not "
		              "apply to uid 0)",
		              max);
	others = user_tasks(uid);
	rl.rlim_cur = rl.rlim_max = (rlim_t)others + max;
	if (setrlimit(RLIMIT_NPROC, &rl) != 0)
		return format("process_max_processes %u: not enforced (setrlimit RLIMIT_NPROC: "
		              "%s)",
		              max, strerror(errno));
	return format("process_max_processes %u: RLIMIT_NPROC %lu, shared with the %lu "
	              "other tasks of uid %ld (approximate)",
	              max, (unsigned long)rl.rlim_cur, others, (long)uid);
}

/* ---- LOAD ---- */

static char *format(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *format(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	s = faas__vformat(fmt, ap);
	va_end(ap);
	return s;
}

static void do_load(faas__rbuf *r)
{
	const char *path, *symbol;
	uint64_t base, limit;
	uint8_t seccomp;
	uint32_t max_processes;
	char *limit_note;
	faas__wbuf b;

	W.memory_mb = faas__rbuf_u32(r);
	W.result_limit = faas__rbuf_u32(r);
	(void)faas__rbuf_u8(r); /* init_now: the init always runs here */
	path = faas__rbuf_str(r, NULL);
	symbol = faas__rbuf_str(r, NULL);
	W.name = strdup(faas__rbuf_str(r, NULL));
	W.version = strdup(faas__rbuf_str(r, NULL));
	seccomp = faas__rbuf_u8(r);
	max_processes = faas__rbuf_u32(r);
	if (r->bad || !W.name || !W.version || W.dl)
		_exit(FAAS__WORKER_EXIT_PROTOCOL);
	/* Before the library: its constructors are the handler's code too. */
	limit_note = limit_processes(max_processes);
	if (seccomp && install_seccomp(seccomp) != 0)
		W.load_error = format("cannot install the seccomp filter: %s", strerror(errno));

	if (W.load_error) {
		/* reported below */
	} else if (!(W.dl = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
		W.load_error = format("cannot load %s: %s", path, dlerror());
	} else if (!(W.mod = dlsym(W.dl, FAAS_MODULE_SYMBOL))) {
		W.load_error =
		    format("%s has no module descriptor (%s): build it with FAAS_MODULE()", path,
		           FAAS_MODULE_SYMBOL);
	} else if (W.mod->abi_version != FAAS_ABI_VERSION) {
		W.load_error =
		    format("%s was built for handler ABI version %u, this libfaas has %u", path,
		           W.mod->abi_version, (unsigned int)FAAS_ABI_VERSION);
	} else if (!(*(void **)&W.handler = dlsym(W.dl, symbol))) {
		W.load_error = format("no handler symbol '%s' in %s", symbol, path);
	}
	if (!W.load_error) {
		struct rlimit rl;

		/* The baseline (program, libraries, the handler's object) plus
		 * the function's memory: the handler gets memory_mb of its own. */
		base = status_bytes("VmSize:");
		limit = base + ((uint64_t)W.memory_mb << 20);
		rl.rlim_cur = rl.rlim_max = limit;
		/* The host reads the limit back; without it no call is `oom`. */
		if (base != 0)
			(void)setrlimit(RLIMIT_AS, &rl);
		/* Before READY: a crash in it is told from the handler's, and its
		 * time and CPU are the worker's start, never a call's. */
		if (W.mod->init && W.mod->init() != 0)
			W.load_error = format("module init of %s failed", path);
	}
	faas__wbuf_begin(&b, FAAS__WP_READY);
	faas__wbuf_u8(&b, W.load_error == NULL);
	faas__wbuf_cstr(&b, W.load_error);
	faas__wbuf_cstr(&b, limit_note);
	send_frame(&b);
	free(limit_note);
}

/* ---- INVOKE ---- */

static void send_result(uint8_t kind, int rc, uint64_t bytes_out, const char *a, size_t alen,
                        const char *b_text)
{
	faas__wbuf b;
	size_t blen = b_text ? strlen(b_text) : 0;

	if (blen > FAAS__WP_ERRTEXT_MAX)
		blen = FAAS__WP_ERRTEXT_MAX;
	if (kind != FAAS__WPR_OK && a && alen > FAAS__WP_ERRTEXT_MAX)
		alen = FAAS__WP_ERRTEXT_MAX;
	faas__wbuf_begin(&b, FAAS__WP_RESULT);
	faas__wbuf_u64(&b, W.seq);
	faas__wbuf_u8(&b, kind);
	faas__wbuf_u32(&b, (uint32_t)rc);
	faas__wbuf_u64(&b, bytes_out);
	faas__wbuf_str(&b, a ? a : "", a ? alen : 0);
	faas__wbuf_str(&b, b_text ? b_text : "", blen);
	send_frame(&b);
}

/* The event of an INVOKE; false if the text is not JSON. "null" is no event. */
static bool parse_event(const char *text, size_t text_len, cJSON **event)
{
	*event = cJSON_ParseWithLength(text, text_len);
	if (!*event && !(text_len == 4 && memcmp(text, "null", 4) == 0))
		return false;
	if (*event && cJSON_IsNull(*event)) {
		cJSON_Delete(*event);
		*event = NULL;
	}
	return true;
}

/* A successful run's result, printed: ok, too big, or out of memory. */
static void send_success(cJSON *result)
{
	char *out = result ? cJSON_PrintUnformatted(result) : NULL;
	const char *t = out ? out : "null";
	size_t n = strlen(t);

	cJSON_Delete(result);
	if (result && !out)
		send_result(FAAS__WPR_OOM, 0, 0, NULL, 0, NULL);
	else if (n > W.result_limit)
		send_result(FAAS__WPR_TOO_BIG, 0, n, NULL, 0, NULL);
	else
		send_result(FAAS__WPR_OK, 0, n, t, n, NULL);
	free(out);
}

/* Run the handler on event (taken) and answer: its error, or its result. */
static void run_handler(faas_ctx *ctx, cJSON *event)
{
	cJSON *result = NULL;
	int rc = W.handler(ctx, event, &result);

	/* Whatever the handler printed reaches the host before its answer. */
	fflush(stdout);
	fflush(stderr);
	/* Children that ended are reaped; the host kills those still running
	 * (and retires this worker) when it sees them. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	cJSON_Delete(event);
	if (rc != 0) {
		cJSON_Delete(result);
		send_result(FAAS__WPR_ERROR, rc, 0, ctx->err_type,
		            ctx->err_type ? strlen(ctx->err_type) : 0, ctx->err_msg);
	} else {
		send_success(result);
	}
}

static void do_invoke(faas__rbuf *r)
{
	faas_ctx ctx = {0};
	const char *id, *text;
	size_t text_len;
	uint64_t remaining;
	cJSON *event;

	W.seq = faas__rbuf_u64(r);
	id = faas__rbuf_str(r, NULL);
	remaining = faas__rbuf_u64(r);
	text = faas__rbuf_str(r, &text_len);
	if (r->bad)
		_exit(FAAS__WORKER_EXIT_PROTOCOL);
	snprintf(ctx.request_id, sizeof(ctx.request_id), "%s", id);
	ctx.deadline_ns = now_ns() + remaining * 1000000u;
	if (W.load_error || !W.handler) {
		send_result(FAAS__WPR_LOAD_FAILED, 0, 0, NULL, 0,
		            W.load_error ? W.load_error : "the function was never loaded");
		return;
	}
	if (!parse_event(text, text_len, &event)) {
		send_result(FAAS__WPR_BAD_EVENT, 0, 0, NULL, 0, NULL);
		return;
	}
	run_handler(&ctx, event);
	free(ctx.err_type);
	free(ctx.err_msg);
}

/* Die with the host, and keep the handler's orphans as our children. */
static void bind_to_host(int argc, char **argv)
{
	long host = argc > 1 ? strtol(argv[1], NULL, 10) : 0;

	/* SIGKILL when the thread that spawned us ends: the host's loop thread,
	 * which outlives its workers, or the whole host. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		_exit(FAAS__WORKER_EXIT_CHANNEL);
	/* The host may have died before the line above: then our parent is
	 * already someone else, and nobody would ever signal us. */
	if (host > 0 ? getppid() != (pid_t)host : getppid() == 1)
		_exit(FAAS__WORKER_EXIT_CHANNEL);
	/* A grandchild whose parent exits is reparented to us instead of
	 * leaving the worker's view: the host lists our children after each
	 * call, and kills any it finds. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1);
}

int main(int argc, char **argv)
{
	bind_to_host(argc, argv);
	/* A closed channel must show up as a failed write, not a kill. */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		uint8_t type;
		size_t n;
		char *frame = read_frame(&type, &n);
		faas__rbuf r = {frame, n, false};

		if (type == FAAS__WP_LOAD)
			do_load(&r);
		else if (type == FAAS__WP_INVOKE)
			do_invoke(&r);
		else
			_exit(FAAS__WORKER_EXIT_PROTOCOL);
		free(frame);
	}
}

/*
 * libfaas exec — what the two halves of the process executor share: the
 * worker record, the pool record, what process.c (the pool, submit,
 * abandon, the executor) calls in worker_io.c (one worker: spawn, pipes,
 * output, frames), and the table through which a worker calls back. Loop
 * thread only.
 */
#ifndef FAAS_LIB_EXEC_PROCESS_INTERNAL_H
#define FAAS_LIB_EXEC_PROCESS_INTERNAL_H

#include <time.h>

#include "exec.h"
#include "worker_proto.h"

/* One read of a worker's pipes. */
#define FAAS__PROC_READ_CHUNK (64u * 1024u)
/* A line of handler output longer than this is logged in pieces. */
#define FAAS__PROC_LINE_MAX 4096u
/* What is left in a finished worker's stdout and stderr is read at once
 * (nonblocking); a worker blocked in write cannot have more than its pipe
 * buffer pending, this bounds the reads all the same. */
#define FAAS__PROC_DRAIN_READS 64u
/* The first and the largest delay before a respawn after a failed init. */
#define FAAS__PROC_BACKOFF_MIN_MS 100u
#define FAAS__PROC_BACKOFF_MAX_MS 30000u
/* The channel's input buffer is given back when empty past this size. */
#define FAAS__PROC_INBUF_KEEP (64u * 1024u)
/* A call whose VmPeak came this close to the worker's RLIMIT_AS hit it. */
#define FAAS__PROC_OOM_SLACK (1024u * 1024u)
/* /proc/<pid>/status is about 1.5 KiB; this holds it whole. */
#define FAAS__PROC_STATUS_MAX 4096u

typedef enum faas__proc_wstate {
	FAAS__W_LOADING,
	FAAS__W_IDLE,
	FAAS__W_BUSY,
	FAAS__W_DEAD
} faas__proc_wstate;

typedef struct faas__proc_worker faas__proc_worker;
/* A state request on libuv's threadpool (worker_io.c). */
typedef struct faas__proc_state_job faas__proc_state_job;

/* A call waiting for a worker (process_queue). While a call waits its state
 * is FAAS__QUEUED and ctx->exec.worker points to its waiter, not to a
 * worker: the state tells the two apart. The waiter names the pool, since an
 * unregistered function no longer does. */
typedef struct faas__proc_waiter {
	faas_ctx *ctx;
	struct faas__proc_pool *pool;
	struct faas__proc_waiter *prev, *next;
} faas__proc_waiter;

struct faas__proc_worker {
	uv_process_t proc;
	uv_pipe_t chan, out, err;
	struct faas__proc_pool *pool;
	faas__proc_wstate st;
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
	/* What READY said of the process limit when it is not fully in force,
	 * logged once, in the first call the worker serves; "" if nothing. */
	char limit_note[160];
	bool served; /* it has answered a call */
	bool for_call;          /* spawned for a call: that call is its cold start */
	uint64_t spawned_ns, ready_ns; /* the host's clock */
	/* The call it runs (or ran last): its frames must carry this. */
	uint64_t seq;
	/* What the kernel says of it (worker_watch.c): /proc/<pid>/status,
	 * clear_refs and the main thread's children, opened at READY and kept
	 * (-1 while not open); its CPU clock; RLIMIT_AS (0: none). */
	int status_fd, clear_refs_fd, children_fd;
	clockid_t cpu_clock;
	bool has_cpu_clock;
	uint64_t as_limit;
	uint64_t call_start_ns, cpu0_ns; /* the call's start, by the host */
	faas__proc_state_job *state_job;  /* its state request being answered */
	uint64_t idle_since_ns;
	faas__proc_worker *next;
	char readbuf[FAAS__PROC_READ_CHUNK];
};

/* What a worker tells its pool. worker_io.c reaches process.c only through
 * this table, which faas__proc_pool_new sets: the pool uses its workers, and
 * the workers call back up, like a libuv handle's callbacks. */
typedef struct faas__proc_pool_ops {
	/* The worker loaded, or its call ended: idle it, or retire it. */
	void (*worker_idle)(faas__proc_worker *w);
	/* A worker exited: start others up to the pool's minimum, and for the
	 * calls waiting. */
	void (*worker_exited)(faas__proc_pool *pool);
	/* A worker's load and init ended: error NULL if it is ready to serve,
	 * else what failed (its LOAD_FAILED text, the failed init, or how it
	 * died before READY). */
	void (*worker_init)(faas__proc_worker *w, const char *error);
	/* A worker's last handle closed and its memory is gone: the pool may
	 * have been waiting for that to free itself. */
	void (*worker_freed)(faas__proc_pool *pool);
} faas__proc_pool_ops;

struct faas__proc_pool {
	const faas__proc_pool_ops *ops;
	faas_runtime *rt;
	faas_fn *fn; /* a reference, released with the pool */
	char *library, *symbol, *worker_path;
	unsigned int min, max;
	uint32_t idle_ms;
	faas_seccomp seccomp;
	unsigned int max_processes; /* process_max_processes, default applied */
	size_t max_frame;
	faas__proc_worker *workers; /* every worker whose handles are not all closed */
	unsigned int live;          /* workers not DEAD */
	faas__proc_waiter *wait_head, *wait_tail; /* calls waiting for a worker, FIFO */
	unsigned int waiting, queue_max;
	uv_timer_t idle_timer;
	bool timer_open, closing;
	/* Crash-looping init: after a failed load or init the next spawn waits
	 * backoff_ms (doubling up to FAAS__PROC_BACKOFF_MAX_MS, 0 once a worker
	 * loads fine); while the timer runs the function is unhealthy and its
	 * calls fail fast with init_error. The timer also bounds the wait of a
	 * prewarming registration. */
	uv_timer_t backoff_timer;
	bool backoff_open, unhealthy, registering, wait_over, fail_queued;
	uint32_t backoff_ms;
	char init_error[FAAS__ERRMSG_SIZE];
	faas__deferred fail_fast; /* fails the calls that came while unhealthy */
	bool holds_fn; /* the fn reference is taken once creation succeeded */
};

/* What a call used, as the kernel counts it. */
typedef struct faas__proc_usage {
	uint64_t cpu_ns;        /* the whole worker's CPU clock over the call */
	uint64_t peak_bytes;    /* VmHWM: the call's peak resident memory */
	uint64_t vm_peak_bytes; /* VmPeak: against as_limit, for `oom` */
	int threads;            /* after the call; -1 if unknown */
} faas__proc_usage;

/* ---- worker_watch.c ---- */

/* Open what the kernel shows of a worker that is READY. Whatever fails to
 * open reads as 0 (or threads -1) later: the call is then under-measured,
 * never measured by the worker. */
void faas__proc_watch_open(faas__proc_worker *w);
void faas__proc_watch_close(faas__proc_worker *w);
/* A call starts on w: reset its memory peak, note the host's clock and the
 * worker's CPU clock. */
void faas__proc_watch_begin(faas__proc_worker *w);
/* The call's usage since faas__proc_watch_begin. */
void faas__proc_watch_end(faas__proc_worker *w, faas__proc_usage *u);
/* A worker's live children (it is a child subreaper, so every live
 * descendant whose parent exited is its child too): up to max pids into
 * pids; returns how many there are, or -1 if /proc cannot tell. By path,
 * through every thread's list. */
int faas__proc_children(int pid, int *pids, int max);
/* The same after a call, through the kept file when the worker has one
 * thread (threads, from faas__proc_watch_end). */
int faas__proc_watch_children(faas__proc_worker *w, int threads, int *pids, int max);

/* ---- worker_io.c ---- */

/* Start a worker and send it LOAD; the module's init runs before READY
 * (init_now false: a cold start for a call, which is reported cold).
 * On error the worker, if any, is already closing. */
int faas__proc_worker_spawn(faas__proc_worker **out, faas__proc_pool *pool, bool init_now);
/* SIGKILL its whole process group (why: the reason its call is given, if
 * none yet) and close its pipes; its memory goes with its last handle. No-op
 * if already dead. */
void faas__proc_worker_kill(faas__proc_worker *w, const char *why);
/* Detach the call from its worker: from here on only the loop completes it. */
faas_ctx *faas__proc_worker_detach(faas__proc_worker *w);
/* Read what is left in its stdout and stderr into the call's log. */
void faas__proc_worker_drain(faas__proc_worker *w);
/* Queue a frame on its channel; b is consumed either way. */
int faas__proc_worker_send(faas__proc_worker *w, faas__wbuf *b);

#endif /* FAAS_LIB_EXEC_PROCESS_INTERNAL_H */

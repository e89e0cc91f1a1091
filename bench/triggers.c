/*
 * bench/triggers — the latency a trigger adds between its event and the
 * start of an inline handler, against the same event seen raw by libuv in the
 * same loop:
 *
 *   timer_dispatch_added_us  an interval timer trigger (period 5 ms): handler
 *                            start − the tick's due time, against a raw
 *                            uv_timer due at the same instant: its callback
 *                            time − the due time;
 *   file_dispatch_added_us   a file trigger (debounce_ms 0): handler start −
 *                            the moment before write(), against a raw inotify
 *                            watch polled with uv_poll: the return of its
 *                            read() − the moment before write().
 *
 * The goal is additive: at most 10 µs more than the floor ("goal +10us").
 * For the timer, the printed value is the floor's median plus the median of
 * the per-tick differences (see below); the plain medians are on a '#' line.
 *
 * Timer method. libuv timers have millisecond resolution, so a timer's own
 * latency wanders over a millisecond, far more than a dispatch costs, and
 * medians of two separate runs would compare noise. Instead every tick is
 * measured twice at once: the raw uv_timer is armed for the same due instant
 * (start + k × period, by the trigger's own formula) from inside the handler,
 * before the trigger re-arms itself, so libuv runs it first in the same timer
 * pass (equal timeouts run in start order). Per tick, floor = raw callback −
 * due, value = handler start − due, and value − floor is what the trigger
 * added. A tick where a millisecond boundary fell between the two armings
 * (they then fire in different passes) is not paired, and counted. The due
 * times use the trigger's start as bracketed around faas_trigger_timer_new()
 * (its end, where the trigger reads the clock); the bracket is printed.
 *
 * File method. Writes alternate between a directory under the raw watch and
 * directories under file triggers, one at a time, from a pacing timer on the
 * loop thread (open, then the clock, then write and close). The file trigger
 * attributes records arriving within 100 ms of its last invocation to that
 * invocation's chain (loop prevention), so the writes rotate over several
 * triggers, each seeing one write well past that window.
 *
 * Usage: triggers [--quick] [--only timer|file] [--period MS]
 *   --period  the timer's period (5 ms): shorter keeps caches warmer
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <uv.h>

#include <faas.h>

#include "bench.h"

/* Sample counts of a full run; --quick divides them by BENCH_QUICK_DIVISOR. */
#define TIMER_SAMPLES 500u
#define TIMER_WARMUP 20u
#define FILE_SAMPLES 300u
#define FILE_WARMUP 10u
#define BENCH_QUICK_DIVISOR 10u

#define TIMER_PERIOD_MS 5u /* default of --period */
#define NS_PER_MS 1000000u
/* A throwaway trigger that never fires before it is freed. */
#define TIMER_WARM_TRIGGER_MS 3600000u

/* The file trigger's loop-prevention window (FAAS__FILE_CHAIN_QUIET_MS in
 * lib/trigger/file.c); each trigger must see writes further apart. */
#define FILE_CHAIN_QUIET_MS 100u
/* Writes every FILE_PACE_MS, alternating raw and trigger, rotating over
 * FILE_TRIGGERS triggers: each sees one every 2 × 8 × 8 = 128 ms. */
#define FILE_PACE_MS 8u
#define FILE_TRIGGERS 8u
/* A write whose event has not arrived after this many pacing ticks fails the run. */
#define FILE_MAX_WAIT_TICKS 250u
#define FILE_NAME "f"
#define FILE_DATA "0123456789abcdef"

/* What file_watch.c watches a directory for: the raw floor asks the same. */
#define RAW_MASK                                                                               \
	(IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE |    \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)
#define RAW_READ_BUF 4096u

#define GOAL_ADDED "+10us"
#define PCT_MEDIAN 50.0
#define PCT_HIGH 90.0
#define PCT_TAIL 99.0

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench/triggers: %s%s%s\n", what, detail ? ": " : "",
		detail ? detail : "");
	exit(1);
}

static void die_faas(faas_runtime *rt, const char *what, int rc)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s (%s) %s", faas_err_name(rc), faas_strerror(rc),
		 faas_runtime_last_error(rt));
	die(what, msg);
}

static faas_runtime *runtime_new(uv_loop_t *loop)
{
	faas_runtime_options ro = FAAS_RUNTIME_OPTIONS_INIT;
	faas_runtime *rt = NULL;
	int rc;

	if (uv_loop_init(loop) != 0)
		die("uv_loop_init", NULL);
	ro.loop = loop;
	ro.log_sink = NULL;
	rc = faas_runtime_new(&rt, &ro);
	if (rc != 0)
		die_faas(NULL, "faas_runtime_new", rc);
	return rt;
}

static void register_inline(faas_runtime *rt, const char *name, faas_handler_fn handler)
{
	faas_fn_options fo = FAAS_FN_OPTIONS_INIT;
	int rc;

	fo.handler = handler;
	fo.isolation = FAAS_ISOLATION_INLINE;
	rc = faas_fn_register(NULL, rt, name, &fo);
	if (rc != 0)
		die_faas(rt, "faas_fn_register", rc);
}

static void runtime_end(faas_runtime *rt, uv_loop_t *loop)
{
	faas_runtime_free(rt);
	uv_run(loop, UV_RUN_DEFAULT);
	if (uv_loop_close(loop) != 0)
		die("uv_loop_close: handles left open", NULL);
}

/* The timer's figure: floor = the raw timer's median latency; value = that
 * plus the median of the per-tick differences. The two latencies wander over
 * a millisecond together, so the difference of their separate medians would
 * carry that noise; the paired difference does not. */
static void print_paired(const char *name, bench_samples *value, bench_samples *floor,
			 bench_samples *added)
{
	double f50 = bench_percentile_us(floor, PCT_MEDIAN);
	double a50 = bench_percentile_us(added, PCT_MEDIAN);

	printf("# %s samples %zu added per event: p50 %.3f p90 %.3f p99 %.3f us; "
	       "latency medians: trigger %.3f raw %.3f us, p99: trigger %.3f raw %.3f us\n",
	       name, value->len, a50, bench_percentile_us(added, PCT_HIGH),
	       bench_percentile_us(added, PCT_TAIL), bench_percentile_us(value, PCT_MEDIAN), f50,
	       bench_percentile_us(value, PCT_TAIL), bench_percentile_us(floor, PCT_TAIL));
	bench_print_figure_goal(name, f50 + a50, f50, "us", GOAL_ADDED);
}

/* ---- timer ---- */

typedef struct timer_bench {
	uv_loop_t loop;
	faas_runtime *rt;
	faas_trigger *trigger;
	uv_timer_t raw;
	uint64_t start_ns, period_ns;
	uint64_t raw_tick;  /* the tick the raw timer is armed for */
	uint64_t raw_fired; /* the tick it last fired for */
	uint64_t raw_ns;    /* when */
	unsigned int warmup, want;
	unsigned int seen, unpaired;
	bool done;
	bench_samples value, floor, added;
} timer_bench;

/* Static handlers have no userdata: the one benchmark in progress. */
static timer_bench *g_timer;

static uint64_t due_ns(const timer_bench *tb, uint64_t tick)
{
	return tb->start_ns + tick * tb->period_ns;
}

static void on_raw(uv_timer_t *h)
{
	timer_bench *tb = h->data;

	tb->raw_ns = uv_hrtime();
	tb->raw_fired = tb->raw_tick;
}

/* Arm the raw timer for tick by the same formula the trigger uses. */
static void arm_raw(timer_bench *tb, uint64_t tick)
{
	uint64_t due = due_ns(tb, tick), now, delay_ms = 0;

	uv_update_time(&tb->loop);
	now = uv_hrtime();
	if (due > now)
		delay_ms = (due - now + NS_PER_MS - 1) / NS_PER_MS;
	tb->raw_tick = tick;
	uv_timer_start(&tb->raw, on_raw, delay_ms, 0);
}

static int timer_handler(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	uint64_t now = uv_hrtime();
	timer_bench *tb = g_timer;
	uint64_t tick;

	(void)ctx;
	(void)event;
	*result = NULL;
	if (tb->done)
		return 0;
	/* The tick this is: the nearest due time (latencies are far below P/2). */
	tick = (now - tb->start_ns + tb->period_ns / 2) / tb->period_ns;
	if (tb->raw_fired == tick && tb->raw_ns <= now) {
		if (tb->seen >= tb->warmup) {
			uint64_t due = due_ns(tb, tick);

			/* The estimated start may lie a little after the real
			 * one: clamp rather than wrap. */
			bench_samples_add(&tb->value, now > due ? now - due : 0);
			bench_samples_add(&tb->floor, tb->raw_ns > due ? tb->raw_ns - due : 0);
			bench_samples_add(&tb->added, now - tb->raw_ns);
		}
		tb->seen++;
	} else if (tick > 1) {
		/* The first tick was armed before the raw timer could be. */
		tb->unpaired++;
	}
	if (tb->value.len >= tb->want) {
		tb->done = true;
		uv_stop(&tb->loop);
		return 0;
	}
	/* Before the trigger re-arms: equal timeouts run in start order. */
	arm_raw(tb, tick + 1);
	return 0;
}

static void bench_timer(unsigned int want, unsigned int warmup, unsigned int period_ms)
{
	faas_timer_options to = FAAS_TIMER_OPTIONS_INIT;
	timer_bench tb;
	faas_rule *rule = NULL;
	faas_trigger_stats ts;
	uint64_t before, after;
	int rc;

	memset(&tb, 0, sizeof(tb));
	g_timer = &tb;
	tb.want = want;
	tb.warmup = warmup;
	tb.period_ns = (uint64_t)period_ms * NS_PER_MS;
	bench_samples_init(&tb.value, want);
	bench_samples_init(&tb.floor, want);
	bench_samples_init(&tb.added, want);
	tb.rt = runtime_new(&tb.loop);
	register_inline(tb.rt, "tick", timer_handler);
	uv_timer_init(&tb.loop, &tb.raw);
	tb.raw.data = &tb;

	to.kind = FAAS_TIMER_INTERVAL;
	to.interval_ms = TIMER_PERIOD_MS;
	/* A first trigger takes the first-use costs (page faults, the id
	 * generator's seeding), so that the bracket around the measured one is
	 * tight. */
	to.interval_ms = TIMER_WARM_TRIGGER_MS;
	rc = faas_trigger_timer_new(&tb.trigger, tb.rt, "bench_timer_warm", &to);
	if (rc != 0)
		die_faas(tb.rt, "faas_trigger_timer_new", rc);
	faas_trigger_free(tb.trigger);
	to.interval_ms = period_ms;
	uv_update_time(&tb.loop);
	before = uv_hrtime();
	rc = faas_trigger_timer_new(&tb.trigger, tb.rt, "bench_timer", &to);
	after = uv_hrtime();
	if (rc != 0)
		die_faas(tb.rt, "faas_trigger_timer_new", rc);
	/* The trigger reads the clock for its start near its end. */
	tb.start_ns = after;
	rc = faas_rule_new(&rule, tb.trigger, NULL, "tick");
	if (rc != 0)
		die_faas(tb.rt, "faas_rule_new", rc);

	uv_run(&tb.loop, UV_RUN_DEFAULT);

	faas_trigger_stats_get(&ts, tb.trigger);
	printf("# timer period %u ms, ticks %llu (skipped %llu), paired %zu after %u warm-up, "
	       "unpaired %u; start bracket %.3f us\n",
	       period_ms, (unsigned long long)ts.fired, (unsigned long long)ts.skipped,
	       tb.value.len, tb.warmup, tb.unpaired, (double)(after - before) / 1000.0);
	print_paired("timer_dispatch_added_us", &tb.value, &tb.floor, &tb.added);
	uv_close((uv_handle_t *)&tb.raw, NULL);
	runtime_end(tb.rt, &tb.loop);
	bench_samples_free(&tb.value);
	bench_samples_free(&tb.floor);
	bench_samples_free(&tb.added);
	g_timer = NULL;
}

/* ---- file ---- */

typedef struct file_bench {
	uv_loop_t loop;
	faas_runtime *rt;
	faas_trigger *triggers[FILE_TRIGGERS];
	uv_timer_t pace;
	uv_poll_t raw_poll;
	int raw_fd;
	char root[64];
	char raw_file[256];
	char trig_file[FILE_TRIGGERS][256];
	/* The sample in progress. */
	bool pending;
	bool pending_raw;
	uint64_t t0;
	unsigned int waited;
	/* Counts. */
	unsigned int raw_n, trig_n; /* writes done, warm-up included */
	unsigned int extra;         /* handler calls or raw reads with no write pending */
	unsigned int warmup, want;
	bench_samples value, floor;
} file_bench;

static file_bench *g_file;

static void sample_done(file_bench *fb, bool raw, uint64_t now)
{
	bench_samples *s = raw ? &fb->floor : &fb->value;
	unsigned int n = raw ? fb->raw_n : fb->trig_n;

	if (!fb->pending || fb->pending_raw != raw) {
		fb->extra++;
		return;
	}
	fb->pending = false;
	if (n > fb->warmup)
		bench_samples_add(s, now - fb->t0);
}

static int file_handler(faas_ctx *ctx, const cJSON *event, cJSON **result)
{
	uint64_t now = bench_now_ns();

	(void)ctx;
	(void)event;
	*result = NULL;
	sample_done(g_file, false, now);
	return 0;
}

static void on_raw_inotify(uv_poll_t *h, int status, int events)
{
	file_bench *fb = h->data;
	char buf[RAW_READ_BUF] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool got = false;
	uint64_t now = 0;
	ssize_t n;

	(void)events;
	if (status < 0)
		die("uv_poll on inotify", uv_strerror(status));
	/* The first read that returns events is the floor's moment; the rest
	 * of the burst (modify, close) is drained. */
	while ((n = read(fb->raw_fd, buf, sizeof(buf))) > 0) {
		if (!got)
			now = bench_now_ns();
		got = true;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		die("read inotify", strerror(errno));
	if (got)
		sample_done(fb, true, now);
}

static void write_one(file_bench *fb, const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		die(path, strerror(errno));
	/* Opening is not watched for: the clock starts at the write. */
	fb->t0 = bench_now_ns();
	if (write(fd, FILE_DATA, sizeof(FILE_DATA) - 1) != (ssize_t)(sizeof(FILE_DATA) - 1))
		die("write", strerror(errno));
	if (close(fd) != 0)
		die("close", strerror(errno));
}

static void on_pace(uv_timer_t *h)
{
	file_bench *fb = h->data;
	unsigned int total = fb->raw_n + fb->trig_n;
	bool raw;

	if (fb->pending) {
		if (++fb->waited > FILE_MAX_WAIT_TICKS)
			die("a file write got no event", fb->pending_raw ? "raw inotify" : "trigger");
		return;
	}
	fb->waited = 0;
	if (fb->floor.len >= fb->want && fb->value.len >= fb->want) {
		uv_stop(&fb->loop);
		return;
	}
	/* Pairs alternate which side goes first. */
	raw = ((total / 2) % 2 == 0) == (total % 2 == 0);
	fb->pending = true;
	fb->pending_raw = raw;
	if (raw) {
		fb->raw_n++;
		write_one(fb, fb->raw_file);
	} else {
		write_one(fb, fb->trig_file[fb->trig_n % FILE_TRIGGERS]);
		fb->trig_n++;
	}
}

static void make_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0 || write(fd, FILE_DATA, sizeof(FILE_DATA) - 1) < 0 || close(fd) != 0)
		die(path, strerror(errno));
}

static void make_dir(char *out, size_t size, const char *root, const char *name)
{
	char dir[192];

	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	if (mkdir(dir, 0755) != 0)
		die(dir, strerror(errno));
	snprintf(out, size, "%s/" FILE_NAME, dir);
	make_file(out);
}

static void remove_tree(file_bench *fb)
{
	char dir[128];

	unlink(fb->raw_file);
	snprintf(dir, sizeof(dir), "%s/raw", fb->root);
	rmdir(dir);
	for (unsigned int i = 0; i < FILE_TRIGGERS; i++) {
		unlink(fb->trig_file[i]);
		snprintf(dir, sizeof(dir), "%s/t%u", fb->root, i);
		rmdir(dir);
	}
	rmdir(fb->root);
}

static void bench_file(unsigned int want, unsigned int warmup)
{
	file_bench fb;
	faas_trigger_stats sum;
	char dir[128], name[32];
	int rc;

	memset(&fb, 0, sizeof(fb));
	memset(&sum, 0, sizeof(sum));
	g_file = &fb;
	fb.want = want;
	fb.warmup = warmup;
	bench_samples_init(&fb.value, want);
	bench_samples_init(&fb.floor, want);
	snprintf(fb.root, sizeof(fb.root), "/tmp/faas-bench-triggers-XXXXXX");
	if (!mkdtemp(fb.root))
		die("mkdtemp", strerror(errno));
	/* Files exist before the watches, so writes are "modified" records. */
	make_dir(fb.raw_file, sizeof(fb.raw_file), fb.root, "raw");
	for (unsigned int i = 0; i < FILE_TRIGGERS; i++) {
		snprintf(name, sizeof(name), "t%u", i);
		make_dir(fb.trig_file[i], sizeof(fb.trig_file[i]), fb.root, name);
	}

	fb.rt = runtime_new(&fb.loop);
	register_inline(fb.rt, "sink", file_handler);
	for (unsigned int i = 0; i < FILE_TRIGGERS; i++) {
		faas_file_options fo = FAAS_FILE_OPTIONS_INIT;
		faas_rule *rule = NULL;

		snprintf(dir, sizeof(dir), "%s/t%u", fb.root, i);
		snprintf(name, sizeof(name), "bench_file_%u", i);
		fo.path = dir;
		fo.debounce_ms = 0;
		rc = faas_trigger_file_new(&fb.triggers[i], fb.rt, name, &fo);
		if (rc != 0)
			die_faas(fb.rt, "faas_trigger_file_new", rc);
		rc = faas_rule_new(&rule, fb.triggers[i], NULL, "sink");
		if (rc != 0)
			die_faas(fb.rt, "faas_rule_new", rc);
	}
	fb.raw_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	snprintf(dir, sizeof(dir), "%s/raw", fb.root);
	if (fb.raw_fd < 0 || inotify_add_watch(fb.raw_fd, dir, RAW_MASK) < 0)
		die("inotify", strerror(errno));
	uv_poll_init(&fb.loop, &fb.raw_poll, fb.raw_fd);
	fb.raw_poll.data = &fb;
	uv_poll_start(&fb.raw_poll, UV_READABLE, on_raw_inotify);
	uv_timer_init(&fb.loop, &fb.pace);
	fb.pace.data = &fb;
	uv_timer_start(&fb.pace, on_pace, FILE_PACE_MS, FILE_PACE_MS);

	uv_run(&fb.loop, UV_RUN_DEFAULT);

	for (unsigned int i = 0; i < FILE_TRIGGERS; i++) {
		faas_trigger_stats ts;

		faas_trigger_stats_get(&ts, fb.triggers[i]);
		sum.fired += ts.fired;
		sum.invoked += ts.invoked;
		sum.skipped += ts.skipped;
		sum.dropped += ts.dropped;
		sum.errors += ts.errors;
	}
	printf("# file: %u triggers, a write every %u ms (each trigger every %u ms, > %u ms "
	       "loop-prevention window); writes raw %u trigger %u, warm-up %u each; trigger "
	       "batches %llu invoked %llu skipped %llu dropped %llu errors %llu; unexpected "
	       "events %u\n",
	       FILE_TRIGGERS, FILE_PACE_MS, 2 * FILE_PACE_MS * FILE_TRIGGERS, FILE_CHAIN_QUIET_MS,
	       fb.raw_n, fb.trig_n, fb.warmup, (unsigned long long)sum.fired,
	       (unsigned long long)sum.invoked, (unsigned long long)sum.skipped,
	       (unsigned long long)sum.dropped, (unsigned long long)sum.errors, fb.extra);
	/* Unpaired by nature (each side sees its own writes): the added time
	 * is the difference of the medians. */
	printf("# file_dispatch_added_us samples %zu added %.3f us; value p90 %.3f p99 %.3f "
	       "floor p90 %.3f p99 %.3f us\n",
	       fb.value.len,
	       bench_percentile_us(&fb.value, PCT_MEDIAN) -
		       bench_percentile_us(&fb.floor, PCT_MEDIAN),
	       bench_percentile_us(&fb.value, PCT_HIGH), bench_percentile_us(&fb.value, PCT_TAIL),
	       bench_percentile_us(&fb.floor, PCT_HIGH), bench_percentile_us(&fb.floor, PCT_TAIL));
	bench_print_figure_goal("file_dispatch_added_us", bench_percentile_us(&fb.value, PCT_MEDIAN),
				bench_percentile_us(&fb.floor, PCT_MEDIAN), "us", GOAL_ADDED);

	uv_close((uv_handle_t *)&fb.raw_poll, NULL);
	uv_close((uv_handle_t *)&fb.pace, NULL);
	runtime_end(fb.rt, &fb.loop);
	close(fb.raw_fd);
	remove_tree(&fb);
	bench_samples_free(&fb.value);
	bench_samples_free(&fb.floor);
	g_file = NULL;
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--quick] [--only timer|file] [--period MS]\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	unsigned int div = 1, period_ms = TIMER_PERIOD_MS;
	int quick = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			quick = 1;
		else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc)
			only = argv[++i];
		else if (strcmp(argv[i], "--period") == 0 && i + 1 < argc &&
			 atoi(argv[i + 1]) > 0)
			period_ms = (unsigned int)atoi(argv[++i]);
		else
			usage(argv[0]);
	}
	if (only && strcmp(only, "timer") != 0 && strcmp(only, "file") != 0)
		usage(argv[0]);
	if (quick)
		div = BENCH_QUICK_DIVISOR;
	bench_print_header("bench/triggers", quick);
	if (!only || strcmp(only, "timer") == 0)
		bench_timer(TIMER_SAMPLES / div, TIMER_WARMUP / div, period_ms);
	if (!only || strcmp(only, "file") == 0)
		bench_file(FILE_SAMPLES / div, FILE_WARMUP / div);
	return 0;
}

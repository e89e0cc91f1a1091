/* Clock, samples and output shared by the benchmarks. */
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <faas.h>

#include "bench.h"

#define BENCH_NS_PER_S 1000000000ull
#define BENCH_NS_PER_US 1000.0

uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * BENCH_NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n);

	if (!q) {
		fprintf(stderr, "bench: out of memory\n");
		exit(1);
	}
	return q;
}

void bench_samples_init(bench_samples *s, size_t cap)
{
	s->len = 0;
	s->cap = cap ? cap : 1;
	s->ns = xrealloc(NULL, s->cap * sizeof(*s->ns));
}

void bench_samples_add(bench_samples *s, uint64_t ns)
{
	if (s->len == s->cap) {
		s->cap *= 2;
		s->ns = xrealloc(s->ns, s->cap * sizeof(*s->ns));
	}
	s->ns[s->len++] = ns;
}

void bench_samples_free(bench_samples *s)
{
	free(s->ns);
	s->ns = NULL;
	s->len = s->cap = 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

double bench_percentile_us(bench_samples *s, double p)
{
	size_t rank;

	if (s->len == 0)
		return 0;
	qsort(s->ns, s->len, sizeof(*s->ns), cmp_u64);
	/* Nearest rank: the smallest sample with at least p% of them at or below it. */
	rank = (size_t)ceil(p / 100.0 * (double)s->len);
	if (rank < 1)
		rank = 1;
	if (rank > s->len)
		rank = s->len;
	return (double)s->ns[rank - 1] / BENCH_NS_PER_US;
}

/* What nproc(1) prints: the CPUs this process may run on, not the machine's. */
static int cpus_available(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		return CPU_COUNT(&set);
	return (int)sysconf(_SC_NPROCESSORS_ONLN);
}

void bench_print_header(const char *program, int quick)
{
	char date[64] = "unknown";
	time_t now = time(NULL);
	struct tm tm;

	if (gmtime_r(&now, &tm))
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", &tm);
	printf("# %s date %s nproc %d libfaas %s mode %s\n", program, date, cpus_available(),
	       faas_version(), quick ? "quick" : "full");
}

void bench_print_figure(const char *name, double value, double floor_value, const char *unit,
			double goal)
{
	printf("figure %s value %.3f %s floor %.3f %s ratio %.2f goal %.1f\n", name, value, unit,
	       floor_value, unit, floor_value > 0 ? value / floor_value : 0.0, goal);
	fflush(stdout);
}

void bench_print_figure_goal(const char *name, double value, double floor_value,
			     const char *unit, const char *goal)
{
	printf("figure %s value %.3f %s floor %.3f %s ratio %.2f goal %s\n", name, value, unit,
	       floor_value, unit, floor_value > 0 ? value / floor_value : 0.0, goal);
	fflush(stdout);
}

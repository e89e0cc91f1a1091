/*
 * Helpers shared by the benchmarks: a monotonic clock, sample buffers with
 * percentiles, and the one output format every figure is printed in.
 */
#ifndef FAAS_BENCH_H
#define FAAS_BENCH_H

#include <stddef.h>
#include <stdint.h>

/** A growable buffer of durations in nanoseconds. */
typedef struct bench_samples {
	uint64_t *ns;
	size_t len;
	size_t cap;
} bench_samples;

/** Nanoseconds of CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);

/** Reserve room for cap samples; exits the program when memory runs out. */
void bench_samples_init(bench_samples *s, size_t cap);

/** Append one sample; exits the program when memory runs out. */
void bench_samples_add(bench_samples *s, uint64_t ns);

/** Release the buffer. */
void bench_samples_free(bench_samples *s);

/**
 * The p-th percentile (0 < p <= 100) by the nearest-rank rule, in
 * microseconds. Sorts the samples in place. 0 for an empty buffer.
 */
double bench_percentile_us(bench_samples *s, double p);

/** Print the header line: date, online CPUs, library version, mode. */
void bench_print_header(const char *program, int quick);

/**
 * Print one figure:
 * "figure <name> value <v> <unit> floor <f> <unit> ratio <r> goal <g>".
 */
void bench_print_figure(const char *name, double value, double floor_value, const char *unit,
			double goal);

/**
 * Print one figure like bench_print_figure(), with the goal written as given:
 * a ratio with more digits ("1.15") or an additive goal ("+10us").
 */
void bench_print_figure_goal(const char *name, double value, double floor_value,
			     const char *unit, const char *goal);

#endif /* FAAS_BENCH_H */

/*
 * libfaas util — clocks. Monotonic time for durations and deadlines, wall
 * time for the timestamps users read.
 */
#ifndef FAAS_UTIL_CLOCK_H
#define FAAS_UTIL_CLOCK_H

#include <stdint.h>

uint64_t faas__now_ns(void);  /* CLOCK_MONOTONIC, nanoseconds */
uint64_t faas__wall_us(void); /* CLOCK_REALTIME, microseconds since the epoch */

#endif /* FAAS_UTIL_CLOCK_H */

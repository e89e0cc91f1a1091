/* The two clocks every record is stamped with. Libc only. */
#ifndef FAAS_UTIL_CLOCK_H
#define FAAS_UTIL_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in nanoseconds: durations and deadlines. */
uint64_t faas__now_ns(void);

/* CLOCK_REALTIME in microseconds since the Unix epoch: timestamps shown to
 * people and handlers. */
uint64_t faas__wall_us(void);

#endif /* FAAS_UTIL_CLOCK_H */

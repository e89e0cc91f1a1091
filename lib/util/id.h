/*
 * libfaas util — activation ids: 128 bits written as 32 lowercase hex digits,
 * unique within a generator and unpredictable across processes.
 */
#ifndef FAAS_UTIL_ID_H
#define FAAS_UTIL_ID_H

#include <stdint.h>

#define FAAS__ID_LEN 32

typedef struct faas__idgen {
	uint64_t key_lo, key_hi, counter;
} faas__idgen;

/* Seed a generator (getrandom, or the clock and pid without entropy). */
int faas__idgen_init(faas__idgen *g);
/* The next id, NUL-terminated. Not thread-safe: one generator per thread. */
void faas__idgen_next(faas__idgen *g, char out[FAAS__ID_LEN + 1]);

#endif /* FAAS_UTIL_ID_H */

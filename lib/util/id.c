/* Activation ids: 128 bits as 32 hex digits.
 *
 * The low half is a bijective mix of a per-runtime counter, so ids never
 * repeat within a runtime (until 2^64 calls); the high half mixes in a random
 * key drawn once, so ids from different runtimes or processes do not collide
 * in practice and cannot be guessed from one another. This costs a few
 * multiplications per call instead of a getrandom() system call. */
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <stddef.h>

#include "clock.h"
#include "hex.h"
#include "id.h"

static uint64_t mix64(uint64_t z)
{
	/* splitmix64's finaliser: a bijection on 64-bit integers. */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

int faas__idgen_init(faas__idgen *g)
{
	uint64_t seed[2];

	if (getrandom(seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
		/* Without entropy (very early boot) ids stay unique per runtime; only
		 * their unpredictability suffers. */
		seed[0] = faas__now_ns() ^ ((uint64_t)getpid() << 32);
		seed[1] = mix64(seed[0] + (uint64_t)(uintptr_t)g);
	}
	g->key_lo = seed[0];
	g->key_hi = seed[1];
	g->counter = 0;
	return 0;
}

void faas__idgen_next(faas__idgen *g, char out[FAAS__ID_LEN + 1])
{
	uint64_t lo = mix64(++g->counter + g->key_lo);
	uint64_t hi = mix64(lo ^ g->key_hi);

	faas__hex_u64(out, hi);
	faas__hex_u64(out + 16, lo);
	out[FAAS__ID_LEN] = '\0';
}

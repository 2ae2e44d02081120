/*
 * Seeded pseudo-random numbers.  splitmix64 is tiny, fast and good enough to
 * pick which requests fail; it is not for secrets (the simulator has none to
 * make).  Reproducibility is the point: --seed fixes every choice.
 */
#include "metal_sim.h"

#include <stdio.h>

void rng_seed(struct rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

double rng_uniform(struct rng *r)
{
	/* 53 random bits into the mantissa: uniform in [0, 1). */
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

void rng_uuid(struct rng *r, char out[37])
{
	uint64_t hi = rng_next(r), lo = rng_next(r);

	/* RFC 4122 version 4, variant 10xx, as the API's ids are. */
	hi = (hi & ~0xf000ULL) | 0x4000ULL;
	lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
	snprintf(out, 37, "%08x-%04x-%04x-%04x-%012llx",
		 (unsigned)(hi >> 32), (unsigned)((hi >> 16) & 0xffff),
		 (unsigned)(hi & 0xffff), (unsigned)(lo >> 48),
		 (unsigned long long)(lo & 0xffffffffffffULL));
}

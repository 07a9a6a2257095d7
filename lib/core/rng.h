/*
 * rng.h: seeded pseudo-random numbers (xoshiro256**, seeded by splitmix64).
 * The same seed gives the same sequence on every machine.
 */
#ifndef MRT_RNG_H
#define MRT_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint64_t s[4];
} mrt_rng;

void mrt_rng_seed(mrt_rng *r, uint64_t seed);
uint64_t mrt_rng_next(mrt_rng *r);
/* Uniform in [0, n), unbiased; n > 0. */
uint64_t mrt_rng_below(mrt_rng *r, uint64_t n);
/* Uniform in [0, 1), 53 bits. */
double mrt_rng_uniform(mrt_rng *r);
/* Standard normal (Box-Muller, one value per call). */
double mrt_rng_normal(mrt_rng *r);
/*
 * Fisher-Yates: shuffle n elements of size bytes at base in place (i from
 * n-1 down to 1 swaps i with a uniform j <= i).
 */
void mrt_rng_shuffle(mrt_rng *r, void *base, size_t n, size_t size);
/*
 * The forward, partial form: afterwards base[0..m) is a uniform random
 * m-subset of the n elements in random order (i from 0 to m-1 swaps i with
 * a uniform j in [i, n)).  m >= n shuffles all of them.
 */
void mrt_rng_choose(mrt_rng *r, void *base, size_t n, size_t m, size_t size);
/* A 64-bit hash of (seed, bytes): seeds per-record generators. */
uint64_t mrt_rng_hash(uint64_t seed, const void *p, size_t n);

#endif

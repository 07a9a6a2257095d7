#include <math.h>

#include "core/rng.h"

static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void
mrt_rng_seed(mrt_rng *r, uint64_t seed)
{
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t
mrt_rng_next(mrt_rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

uint64_t
mrt_rng_below(mrt_rng *r, uint64_t n)
{
	/* rejection from the top of the range: no modulo bias */
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, x;
	do
		x = mrt_rng_next(r);
	while (x >= lim);
	return x % n;
}

double
mrt_rng_uniform(mrt_rng *r)
{
	return (double)(mrt_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double
mrt_rng_normal(mrt_rng *r)
{
	double u = mrt_rng_uniform(r), v = mrt_rng_uniform(r);
	return sqrt(-2.0 * log(1.0 - u)) * cos(6.283185307179586 * v);
}

uint64_t
mrt_rng_hash(uint64_t seed, const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ULL ^ splitmix(&seed);
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return splitmix(&h);
}

static void
swap(unsigned char *a, unsigned char *b, size_t size)
{
	for (size_t k = 0; k < size; k++) {
		unsigned char t = a[k];
		a[k] = b[k];
		b[k] = t;
	}
}

void
mrt_rng_shuffle(mrt_rng *r, void *base, size_t n, size_t size)
{
	unsigned char *p = base;
	for (size_t i = n; i-- > 1;) {
		size_t j = (size_t)mrt_rng_below(r, (uint64_t)i + 1);
		swap(p + i * size, p + j * size, size);
	}
}

void
mrt_rng_choose(mrt_rng *r, void *base, size_t n, size_t m, size_t size)
{
	unsigned char *p = base;
	if (m > n)
		m = n;
	for (size_t i = 0; i < m; i++) {
		size_t j = i + (size_t)mrt_rng_below(r, (uint64_t)(n - i));
		swap(p + i * size, p + j * size, size);
	}
}

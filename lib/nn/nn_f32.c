/* nn_f32.c: the float build of nn_core.inc (the model everyone uses). */
/* -O3 without trapping math if-converts the clamps of nn_fexp so that the
 * GELU and softmax loops vectorise (the Makefile builds with -O2).  Neither
 * changes results: no fast-math, NaN and rounding semantics are kept. */
#pragma GCC optimize("O3", "no-trapping-math")

#include <stdint.h>
#include <string.h>

#include "nn/nn_impl.h"

/*
 * exp for float that vectorises (no libm call): x = n ln2 + r with
 * |r| <= ln2/2, exp(r) by its Taylor polynomial to degree 7 (truncation
 * below 1e-8 relative), 2^n built in the exponent bits.  Inputs are
 * clamped to [-80, 80] so that neither the result nor what GELU and
 * softmax compute from it is ever subnormal (subnormal arithmetic is ~100
 * times slower): below -80 the result is 1.8e-35 instead of less.
 * Relative error within 3e-7 of expf (test_nn_layers).
 */
static inline float
nn_fexp(float x)
{
	x = x < -80.0f ? -80.0f : x > 80.0f ? 80.0f : x;
	float t = x * 1.44269504088896341f;
	float n = (t + 12582912.0f) - 12582912.0f;     /* round to nearest */
	float r = x - n * 0.693145751953125f - n * 1.42860682030941723e-6f;
	float p = 1.0f + r * (1.0f + r * (0.5f + r * (1.0f / 6 + r * (1.0f / 24 +
		  r * (1.0f / 120 + r * (1.0f / 720 + r * (1.0f / 5040)))))));
	int32_t e = ((int32_t)n + 127) << 23;
	float s;
	memcpy(&s, &e, sizeof s);
	return p * s;
}

float
nn_expf_fast(float x)
{
	return nn_fexp(x);
}

#define NN_R float
#define NN_(x) nn_##x##_f
#define NN_GEMM cblas_sgemm
#define NN_EXP nn_fexp
/* the elementwise loops (GELU, softmax) in AVX-512, AVX2 and baseline
 * versions chosen at load time.  Without FMA contraction (-std=c11) the
 * elementwise operations are the same IEEE operations in every version; the
 * softmax sum is added in an order that follows the vector width, so two
 * machines of different widths may differ in the last bits (runs on one
 * machine never do). */
#define NN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#include "nn/nn_core.inc"

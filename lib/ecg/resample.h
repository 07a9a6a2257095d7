/*
 * resample.h: band-limited resampling of one signal (libsoxr, high
 * quality: linear phase, anti-aliasing filter with about 0.91 of the lower
 * Nyquist frequency passed and more than 100 dB stop-band rejection).
 */
#ifndef MRT_RESAMPLE_H
#define MRT_RESAMPLE_H

#include <stdint.h>

#include "core/err.h"

/* Output length for n samples from fsin to fsout: round(n * fsout / fsin). */
int64_t mrt_resample_len(int64_t n, double fsin, double fsout);
/*
 * Resample in[n] at fsin Hz into out[mrt_resample_len(n, fsin, fsout)] at
 * fsout Hz (aligned at time 0, delay compensated).  in must be finite.
 * Returns 0, MRT_EINVAL (bad rates) or MRT_ENOMEM.
 */
int mrt_resample(const float *in, int64_t n, double fsin, double fsout,
    float *out);

#endif

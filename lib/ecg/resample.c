/*
 * resample.c: one-shot resampling through libsoxr (see resample.h).
 */
#include <math.h>
#include <soxr.h>

#include "ecg/resample.h"

int64_t
mrt_resample_len(int64_t n, double fsin, double fsout)
{
	return (int64_t)llround((double)n * fsout / fsin);
}

int
mrt_resample(const float *in, int64_t n, double fsin, double fsout,
    float *out)
{
	soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
	soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
	size_t done = 0;
	int64_t nout;
	soxr_error_t err;
	if (!(fsin > 0) || !(fsout > 0) || !isfinite(fsin) || !isfinite(fsout)
	    || n < 0)
		return MRT_EINVAL;
	nout = mrt_resample_len(n, fsin, fsout);
	if (nout == 0)
		return 0;
	err = soxr_oneshot(fsin, fsout, 1, in, (size_t)n, NULL, out,
	    (size_t)nout, &done, &io, &q, NULL);
	if (err)
		return MRT_ENOMEM;
	for (size_t i = done; i < (size_t)nout; i++)
		out[i] = 0;   /* soxr may stop a sample short at the end */
	return 0;
}

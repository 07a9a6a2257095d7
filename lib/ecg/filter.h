/*
 * filter.h: zero-phase Butterworth filtering of a signal in second-order
 * sections, as scipy.signal defines it.
 *
 *   mrt_butter()       butter(N, Wn, btype, fs=fs, output='sos'): the
 *                      analog prototype, pre-warped bilinear transform,
 *                      sections paired and ordered as zpk2sos('nearest')
 *   mrt_notch()        iirnotch(f0, Q, fs), appended as one more section
 *   mrt_sos_padlen()   sosfiltfilt's default padlen
 *   mrt_sos_zi()       sosfilt_zi
 *   mrt_sosfilt()      sosfilt with initial state
 *   mrt_sosfiltfilt()  sosfiltfilt with padtype='odd' and the default padlen
 *
 * Everything is computed in double.  A band-pass of order N has 2N poles
 * (N sections), a low- or high-pass of order N has N poles ((N + 1) / 2
 * sections), as in scipy.
 */
#ifndef MRT_ECG_FILTER_H
#define MRT_ECG_FILTER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define MRT_FILT_MAXORDER 10
/* a band-pass of the largest order and a notch */
#define MRT_FILT_MAXSEC   (MRT_FILT_MAXORDER + 1)

typedef enum { MRT_LOWPASS, MRT_HIGHPASS, MRT_BANDPASS } mrt_band;

/* Second-order sections: s[i] = {b0, b1, b2, 1, a1, a2}. */
typedef struct {
	int n;
	double s[MRT_FILT_MAXSEC][6];
} mrt_sos;

/* "lowpass", "highpass", "bandpass". */
const char *mrt_band_name(mrt_band type);

/*
 * Design a digital Butterworth filter of order 1 to MRT_FILT_MAXORDER at
 * fs Hz into sos (replacing its sections): cut-off lo for a high-pass, hi
 * for a low-pass, lo and hi (lo < hi) for a band-pass, in Hz, each above
 * 0 and below fs / 2.  Returns 0, MRT_EINVAL (order, lo >= hi, fs) or
 * MRT_ERANGE (a cut-off at or above the Nyquist frequency, or not above
 * 0), with the reason in err[cap].
 */
int mrt_butter(mrt_sos *sos, int order, mrt_band type, double lo, double hi,
    double fs, char *err, size_t cap);
/*
 * Append the notch of iirnotch(f0, q, fs) (0 < f0 < fs / 2, q > 0) to sos
 * as one more section.  Returns 0, MRT_ERANGE or MRT_ENOMEM (no room).
 */
int mrt_notch(mrt_sos *sos, double f0, double q, double fs, char *err,
    size_t cap);

/* sosfiltfilt's padlen: 3 (2 n + 1 - the first-order sections). */
int64_t mrt_sos_padlen(const mrt_sos *sos);
/* The steady state of a unit step, as sosfilt_zi: zi[sos->n][2]. */
void mrt_sos_zi(const mrt_sos *sos, double (*zi)[2]);
/* Filter x[n] in place from state zi[sos->n][2], which is updated. */
void mrt_sosfilt(const mrt_sos *sos, double *x, int64_t n, double (*zi)[2]);
/*
 * Zero-phase filtering of x[n] in place: odd extension by padlen samples
 * at each end, forward and backward passes from the steady state scaled
 * by the first sample of each pass.  work holds n + 2 padlen doubles.
 * Returns 0, MRT_ERANGE (n <= padlen) or MRT_ENUM (a sample not finite),
 * with the reason in err[cap].
 */
int mrt_sosfiltfilt(const mrt_sos *sos, double *x, int64_t n, double *work,
    char *err, size_t cap);

#endif

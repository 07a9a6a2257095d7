/*
 * noise.h: ECG noise as the electrodes pick it up (ecg-synth's noise, and
 * what ecg-noise adds to recorded signals).
 *
 * Noise is made per electrode, E [9][n] for RA, LA, LL, V1-V6 (mV), then
 * derived into the leads the way a recorder derives them: I = LA - RA,
 * II = LL - RA, III = LL - LA, aVR = RA - (LA + LL) / 2, aVL = LA -
 * (RA + LL) / 2, aVF = LL - (RA + LA) / 2, Vi = Ei - (RA + LA + LL) / 3
 * (Wilson's central terminal).  Einthoven's and Goldberger's relations
 * (III = II - I, aVR = -(I + II) / 2, aVL = I - II / 2, aVF = II - I / 2)
 * hold for the noise.
 *
 * Each generator ADDS its noise to E and draws from r in a fixed order, so
 * one rng state gives one noise on every machine.  Amplitudes are drawn
 * per electrode, in the ranges below (ecg-synth's levels).
 */
#ifndef MRT_NOISE_H
#define MRT_NOISE_H

#include <stdint.h>

#include "core/rng.h"

/* Electrodes, the rows of E. */
enum { MRT_NOISE_RA, MRT_NOISE_LA, MRT_NOISE_LL, MRT_NOISE_V1, MRT_NOISE_NEL = 9 };

/* Noise kinds. */
typedef enum {
	MRT_NOISE_BW,      /* baseline wander */
	MRT_NOISE_EMG,     /* muscle (electromyographic) noise */
	MRT_NOISE_MAINS,   /* powerline interference */
	MRT_NOISE_EM,      /* electrode motion artefacts */
	MRT_NOISE_NKINDS
} mrt_noise_kind;

/* "bw", "emg", "mains", "em"; NULL outside. */
const char *mrt_noise_name(int kind);
/* The kind named name (n bytes), or -1. */
int mrt_noise_parse(const char *name, size_t n);

/*
 * A sinusoid of f Hz at every electrode, each with its own amplitude
 * U(lo, hi) mV and phase U(0, 2 pi), drawn (amplitude, phase) electrode by
 * electrode.  basis: scratch of 2n doubles.
 */
void mrt_noise_sine(double *E, int64_t n, double fs, double f, double lo,
    double hi, mrt_rng *r, double *basis);

/*
 * Baseline wander: a respiratory sinusoid of fresp Hz, amplitudes
 * U(0.02, 0.15) mV, and a slow one of fslow Hz, U(0.02, 0.1) mV.
 */
void mrt_noise_bw(double *E, int64_t n, double fs, double fresp, double fslow,
    mrt_rng *r, double *basis);

/* Mains: a sinusoid of f Hz, amplitudes U(0.003, 0.03) mV. */
void mrt_noise_mains(double *E, int64_t n, double fs, double f, mrt_rng *r,
    double *basis);

/*
 * Muscle noise: per electrode, uniform 16-bit draws through the low-pass
 * y[k] = y[k-1] / 2 + x[k] (white in, a gentle roll-off to the Nyquist
 * frequency: broadband), scaled to a standard deviation near
 * U(0.005, 0.03) mV; three 64-bit draws per sample serve the 9 electrodes.
 */
void mrt_noise_emg(double *E, int64_t n, mrt_rng *r);

/*
 * Electrode motion: 1 to 3 events, each at a uniform electrode and a
 * uniform time in [0, seconds), of amplitude +-U(0.3, 1) mV and the shape
 * exp(-t / 0.25 s) - exp(-t / 0.04 s) from its onset.
 */
void mrt_noise_em(double *E, int64_t n, double fs, double seconds, mrt_rng *r);

/*
 * One kind with every parameter drawn from r, as ecg-synth draws them:
 * wander's respiratory frequency U(0.2, 0.33) Hz and slow frequency
 * U(0.03, 0.1) Hz; mains at mains Hz, which must be below fs / 2
 * (MRT_EINVAL otherwise, and for a bad kind).
 */
int mrt_noise_draw(double *E, int64_t n, double fs, int kind, double mains,
    mrt_rng *r, double *basis);

/*
 * Add the electrode noise E [9][n] to the leads: lead8 [8][n] holds
 * I, II, V1-V6 (ecg-synth's leads, which derive III, aVR, aVL, aVF).
 */
void mrt_noise_add8(double *lead8, const double *E, int64_t n);

/*
 * The 12 standard leads of E [9][n] into lead12 [12][n] (overwritten), in
 * the order I, II, III, aVR, aVL, aVF, V1-V6; the limb leads are made from
 * I and II by the relations above.
 */
void mrt_noise_leads(double *lead12, const double *E, int64_t n);

#endif

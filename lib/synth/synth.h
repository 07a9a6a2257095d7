/*
 * synth.h: synthetic 12-lead ECGs with known findings and a report.
 *
 * Each beat is a sum of Gaussian waves (P, Q, R, S, T, and the extra
 * waves of conduction defects) in three orthogonal vectorcardiogram
 * leads X (left), Y (down), Z (back).  The inverse Dower matrix projects
 * the VCG to I, II and V1-V6; III, aVR, aVL and aVF are derived from I
 * and II, so Einthoven's and Goldberger's relations hold exactly.
 * Electrode noise is added per electrode (RA, LA, LL, V1-V6) before the
 * derivation, so the relations hold with noise too (except a clipped lead).
 *
 * Findings are PTB-XL SCP-ECG codes.  Beat timing follows a heart-rate
 * variability model (respiratory sinus arrhythmia and a slow component);
 * AFIB and AFLT replace P waves by fibrillatory or flutter waves.
 * The same (options, seed) give the same record on every machine.
 */
#ifndef MRT_SYNTH_H
#define MRT_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "synth/findings.h"

#define MRT_SYNTH_NLEADS 12
#define MRT_SYNTH_MAXBEATS 2560   /* 600 s at 250 bpm */


/* Noises (bit mask). */
enum {
	MRT_SYNTH_BW = 1,      /* baseline wander */
	MRT_SYNTH_MAINS = 2,   /* 50/60 Hz interference */
	MRT_SYNTH_MUSCLE = 4,  /* EMG */
	MRT_SYNTH_EM = 8,      /* electrode motion artefacts */
	MRT_SYNTH_FLAT = 16,   /* one lead flat (listed missing) */
	MRT_SYNTH_CLIP = 32,   /* one lead clipped */
	MRT_SYNTH_ALLNOISE = 63
};

typedef struct {
	double fs;        /* Hz (default 500) */
	double seconds;   /* default 10 */
	unsigned noise;   /* MRT_SYNTH_* noise mask */
	double mains;     /* 50 or 60 */
	double omit;      /* probability a report leaves a finding out */
	int lang;         /* 0 English, 1 German */
	double hr;        /* requested heart rate, 0: drawn from the rhythm */
	uint32_t silent;  /* findings never written in a report (report.h):
			   * not NORM nor a rhythm */
	/* chance of each finding in records drawn at random (want 0); below 0
	 * (the default) the built-in one; NORM and the rhythms have none */
	double prevalence[MRT_SYNTH_NCODES];
} mrt_synth_opts;

typedef struct {
	int64_t samples;
	double fs;
	float *sig;            /* [12][samples] in mV, owned by the generator */
	uint32_t findings;     /* finding mask */
	uint32_t omitted;      /* findings the report leaves out (silent too) */
	uint32_t silent;       /* findings left out as silent (opts.silent) */
	double hr, pr, qrs, qt, axis;  /* bpm, ms, ms, ms, degrees */
	int missing;           /* flat lead index, or -1 */
	int nbeats;            /* beats with their QRS onset in the record */
	double beat[MRT_SYNTH_MAXBEATS];  /* QRS onset times (s) */
	char kind[MRT_SYNTH_MAXBEATS];    /* 'N', 'V' (PVC), 'A' (PAC) */
	int age;
	char sex;              /* 'M' or 'F' */
	char report[1024];
} mrt_synth_rec;

typedef struct mrt_synth mrt_synth;


void mrt_synth_opts_default(mrt_synth_opts *o);
/* MRT_EINVAL on bad options (fs, seconds, omit, hr out of range; a silent
 * NORM or rhythm; a prevalence above 1 or for NORM or a rhythm). */
int mrt_synth_new(mrt_synth **s, const mrt_synth_opts *o);
void mrt_synth_free(mrt_synth *s);

/*
 * Make one record from seed.  want: finding mask to produce (0: drawn at
 * random with realistic prevalences); codes that cannot coexist with an
 * earlier one (in code order) are dropped, a rhythm is added when none is
 * given, and NORM is kept only without abnormal findings.  The result
 * borrows the generator's buffers until the next call.
 */
int mrt_synth_make(mrt_synth *s, uint64_t seed, uint32_t want,
    const mrt_synth_rec **out);

/* mV -> int16 digital values at gain (units per mV), rounded, clipped to
 * [-32767, 32767]. */
void mrt_synth_quantize(const float *mv, int16_t *dst, size_t n, double gain);

/* Frontal QRS axis (degrees) from net QRS areas in I and aVF over the
 * windows [on_i, off_i) (samples) of x [12][samples]. */
double mrt_synth_axis(const float *x, int64_t samples, const int64_t *on,
    const int64_t *off, int n);

#endif

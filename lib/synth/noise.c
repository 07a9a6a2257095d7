/*
 * noise.c: electrode noise and its leads (see noise.h).
 */
#include <math.h>
#include <string.h>

#include "core/err.h"
#include "synth/noise.h"

#define PI 3.14159265358979323846

static const char *const names[MRT_NOISE_NKINDS] = { "bw", "emg", "mains", "em" };

const char *
mrt_noise_name(int kind)
{
	return kind >= 0 && kind < MRT_NOISE_NKINDS ? names[kind] : NULL;
}

int
mrt_noise_parse(const char *name, size_t n)
{
	for (int k = 0; k < MRT_NOISE_NKINDS; k++)
		if (strlen(names[k]) == n && memcmp(names[k], name, n) == 0)
			return k;
	return -1;
}

static double
unif(mrt_rng *r, double a, double b)
{
	return a + (b - a) * mrt_rng_uniform(r);
}

/* sin and cos of 2 pi f t in S, C (rotation recurrence). */
static void
sincos_basis(double *S, double *C, int64_t n, double fs, double f)
{
	double c = cos(2 * PI * f / fs), sn = sin(2 * PI * f / fs), x = 1, y = 0;
	for (int64_t k = 0; k < n; k++) {
		double nx = x * c - y * sn;
		S[k] = y;
		C[k] = x;
		y = x * sn + y * c;
		x = nx;
	}
}

void
mrt_noise_sine(double *E, int64_t n, double fs, double f, double lo, double hi,
    mrt_rng *r, double *basis)
{
	const double *S = basis, *C = basis + n;
	sincos_basis(basis, basis + n, n, fs, f);
	for (int el = 0; el < MRT_NOISE_NEL; el++) {
		double a = unif(r, lo, hi), ph = unif(r, 0, 2 * PI);
		double cs = a * cos(ph), ss = a * sin(ph), *e = E + el * n;
		for (int64_t k = 0; k < n; k++)
			e[k] += cs * S[k] + ss * C[k];
	}
}

void
mrt_noise_bw(double *E, int64_t n, double fs, double fresp, double fslow,
    mrt_rng *r, double *basis)
{
	mrt_noise_sine(E, n, fs, fresp, 0.02, 0.15, r, basis);
	mrt_noise_sine(E, n, fs, fslow, 0.02, 0.1, r, basis);
}

void
mrt_noise_mains(double *E, int64_t n, double fs, double f, mrt_rng *r,
    double *basis)
{
	mrt_noise_sine(E, n, fs, f, 0.003, 0.03, r, basis);
}

void
mrt_noise_emg(double *E, int64_t n, mrt_rng *r)
{
	double a[MRT_NOISE_NEL], y[MRT_NOISE_NEL] = { 0 };
	for (int el = 0; el < MRT_NOISE_NEL; el++)
		a[el] = unif(r, 0.005, 0.03) * 3.4 / 65536;
	for (int64_t k = 0; k < n; k++) {
		uint64_t bits[3];
		for (int b = 0; b < 3; b++)
			bits[b] = mrt_rng_next(r);
		for (int el = 0; el < MRT_NOISE_NEL; el++) {
			double x = (double)((bits[el / 3] >> (16 * (el % 3))) & 0xffff) - 32767.5;
			y[el] = 0.5 * y[el] + x;
			E[el * n + k] += a[el] * y[el];
		}
	}
}

void
mrt_noise_em(double *E, int64_t n, double fs, double seconds, mrt_rng *r)
{
	int nev = 1 + (int)mrt_rng_below(r, 3);
	for (int ev = 0; ev < nev; ev++) {
		int el = (int)mrt_rng_below(r, MRT_NOISE_NEL);
		double t0 = unif(r, 0, seconds), a = unif(r, 0.3, 1.0) *
		    (mrt_rng_uniform(r) < 0.5 ? -1 : 1);
		int64_t k0 = (int64_t)ceil(t0 * fs);
		double g1 = a * exp(-(k0 / fs - t0) / 0.25), g2 = a * exp(-(k0 / fs - t0) / 0.04);
		double m1 = exp(-1 / (fs * 0.25)), m2 = exp(-1 / (fs * 0.04));
		for (int64_t k = k0; k < n; k++) {
			E[el * n + k] += g1 - g2;
			g1 *= m1;
			g2 *= m2;
		}
	}
}

int
mrt_noise_draw(double *E, int64_t n, double fs, int kind, double mains,
    mrt_rng *r, double *basis)
{
	switch (kind) {
	case MRT_NOISE_BW: {
		double fresp = unif(r, 0.2, 0.33), fslow = unif(r, 0.03, 0.1);
		mrt_noise_bw(E, n, fs, fresp, fslow, r, basis);
		return 0;
	}
	case MRT_NOISE_EMG:
		mrt_noise_emg(E, n, r);
		return 0;
	case MRT_NOISE_MAINS:
		if (!(mains > 0 && mains < fs / 2))
			return MRT_EINVAL;
		mrt_noise_mains(E, n, fs, mains, r, basis);
		return 0;
	case MRT_NOISE_EM:
		mrt_noise_em(E, n, fs, n / fs, r);
		return 0;
	}
	return MRT_EINVAL;
}

void
mrt_noise_add8(double *lead8, const double *E, int64_t n)
{
	double *I = lead8, *II = lead8 + n;
	const double *RA = E, *LA = E + n, *LL = E + 2 * n;
	for (int64_t k = 0; k < n; k++) {
		I[k] += LA[k] - RA[k];
		II[k] += LL[k] - RA[k];
	}
	for (int v = 0; v < 6; v++) {
		double *V = lead8 + (2 + v) * n;
		const double *e = E + (3 + v) * n;
		for (int64_t k = 0; k < n; k++)
			V[k] += e[k] - (RA[k] + LA[k] + LL[k]) * (1.0 / 3);
	}
}

void
mrt_noise_leads(double *lead12, const double *E, int64_t n)
{
	const double *RA = E, *LA = E + n, *LL = E + 2 * n;
	double *o = lead12;
	for (int64_t k = 0; k < n; k++) {
		double I = LA[k] - RA[k], II = LL[k] - RA[k];
		o[k] = I;
		o[n + k] = II;
		o[2 * n + k] = II - I;
		o[3 * n + k] = -(I + II) * 0.5;
		o[4 * n + k] = I - II * 0.5;
		o[5 * n + k] = II - I * 0.5;
	}
	for (int v = 0; v < 6; v++) {
		double *V = o + (6 + v) * n;
		const double *e = E + (3 + v) * n;
		for (int64_t k = 0; k < n; k++)
			V[k] = e[k] - (RA[k] + LA[k] + LL[k]) * (1.0 / 3);
	}
}

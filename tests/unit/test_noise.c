/*
 * test_noise: the electrode noise generators against formulas written here.
 *
 * - names: every kind round-trips through mrt_noise_name/mrt_noise_parse.
 * - leads: I = LA - RA, II = LL - RA, Vi = Ei - (RA + LA + LL) / 3, and the
 *   Einthoven/Goldberger relations, on random electrode values;
 *   mrt_noise_add8 gives I, II, V1-V6 of mrt_noise_leads.
 * - sine: each electrode is a sin(2 pi f k / fs + ph), with a and ph the
 *   draws U(lo, hi), U(0, 2 pi) from the same seed, to 1e-9 over 10 s.
 * - emg: lag-1 autocorrelation 0.5 (the low-pass y = y/2 + x), mean 0,
 *   standard deviation in the stated range.
 * - em: at most 3 electrodes touched, nothing before the first onset.
 * - draw: mains at or above fs / 2 and unknown kinds are refused; the same
 *   seed gives the same noise.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "synth/noise.h"
#include "check.h"

#define PI 3.14159265358979323846
#define FS 500.0
#define N 5000

static double E[MRT_NOISE_NEL * N], F[MRT_NOISE_NEL * N], basis[2 * N];
static double L12[12 * N], L8[8 * N];

static void
names(void)
{
	for (int k = 0; k < MRT_NOISE_NKINDS; k++) {
		const char *s = mrt_noise_name(k);
		CHECK(s != NULL && mrt_noise_parse(s, strlen(s)) == k, "kind %d", k);
	}
	CHECK(mrt_noise_name(MRT_NOISE_NKINDS) == NULL && mrt_noise_name(-1) == NULL);
	CHECK(mrt_noise_parse("emgx", 4) == -1 && mrt_noise_parse("emgx", 3) == MRT_NOISE_EMG);
}

static void
leads(void)
{
	mrt_rng r;
	double worst = 0;
	mrt_rng_seed(&r, 1);
	for (int i = 0; i < MRT_NOISE_NEL * N; i++)
		E[i] = mrt_rng_uniform(&r) * 2 - 1;
	mrt_noise_leads(L12, E, N);
	memset(L8, 0, sizeof L8);
	mrt_noise_add8(L8, E, N);
	for (int k = 0; k < N; k++) {
		double RA = E[k], LA = E[N + k], LL = E[2 * N + k], wct = (RA + LA + LL) / 3;
		double I = L12[k], II = L12[N + k];
		double d[] = {
			I - (LA - RA), II - (LL - RA), L12[2 * N + k] - (LL - LA),
			L12[3 * N + k] - (RA - (LA + LL) / 2), L12[4 * N + k] - (LA - (RA + LL) / 2),
			L12[5 * N + k] - (LL - (RA + LA) / 2),
			L12[2 * N + k] - (II - I), L12[3 * N + k] + (I + II) / 2,
			L12[4 * N + k] - (I - II / 2), L12[5 * N + k] - (II - I / 2),
		};
		for (size_t j = 0; j < sizeof d / sizeof *d; j++)
			worst = fmax(worst, fabs(d[j]));
		for (int v = 0; v < 6; v++)
			worst = fmax(worst, fabs(L12[(6 + v) * N + k] - (E[(3 + v) * N + k] - wct)));
		CHECK(L8[k] == I && L8[N + k] == II, "add8 limb leads at %d", k);
		for (int v = 0; v < 6; v++)
			CHECK(L8[(2 + v) * N + k] == L12[(6 + v) * N + k], "add8 V%d at %d", v + 1, k);
	}
	CHECK(worst < 1e-14, "lead formulas off by %g", worst);
}

static void
sine(void)
{
	mrt_rng r, q;
	double f = 50, lo = 0.003, hi = 0.03, worst = 0;
	memset(E, 0, sizeof E);
	mrt_rng_seed(&r, 7);
	mrt_noise_sine(E, N, FS, f, lo, hi, &r, basis);
	mrt_rng_seed(&q, 7);
	for (int el = 0; el < MRT_NOISE_NEL; el++) {
		double a = lo + (hi - lo) * mrt_rng_uniform(&q), ph = 2 * PI * mrt_rng_uniform(&q);
		for (int k = 0; k < N; k++)
			worst = fmax(worst, fabs(E[el * N + k] - a * sin(2 * PI * f * k / FS + ph)));
	}
	CHECK(worst < 1e-9, "sine off by %g", worst);
	CHECK(mrt_rng_next(&r) == mrt_rng_next(&q), "the sine drew more or less than 2 per electrode");
}

static void
emg(void)
{
	mrt_rng r;
	memset(E, 0, sizeof E);
	mrt_rng_seed(&r, 3);
	mrt_noise_emg(E, N, &r);
	for (int el = 0; el < MRT_NOISE_NEL; el++) {
		const double *e = E + el * N;
		double m = 0, v = 0, c = 0;
		for (int k = 0; k < N; k++)
			m += e[k] / N;
		for (int k = 0; k < N; k++) {
			v += (e[k] - m) * (e[k] - m);
			if (k > 0)
				c += (e[k] - m) * (e[k - 1] - m);
		}
		/* uniform x of sd 65536 / sqrt 12 through y = y/2 + x: sd x 2 / sqrt 3 */
		double sd = sqrt(v / N), unit = 3.4 / 65536 * 65536 / sqrt(12.0) * 2 / sqrt(3.0);
		CHECK(fabs(c / v - 0.5) < 0.03, "electrode %d: lag-1 autocorrelation %g", el, c / v);
		CHECK(sd > 0.005 * unit * 0.95 && sd < 0.03 * unit * 1.05, "electrode %d: sd %g", el, sd);
		CHECK(fabs(m) < 4 * sd / sqrt(N / 3.0), "electrode %d: mean %g", el, m);
	}
}

static void
em(void)
{
	for (uint64_t seed = 1; seed <= 20; seed++) {
		mrt_rng r;
		int touched = 0, first = N;
		memset(E, 0, sizeof E);
		mrt_rng_seed(&r, seed);
		mrt_noise_em(E, N, FS, N / FS, &r);
		for (int el = 0; el < MRT_NOISE_NEL; el++) {
			int on = N;
			for (int k = 0; k < N; k++)
				if (E[el * N + k] != 0) {
					on = k;
					break;
				}
			touched += on < N;
			first = on < first ? on : first;
		}
		CHECK(touched >= 1 && touched <= 3, "seed %d: %d electrodes", (int)seed, touched);
		/* after an onset the event decays: at most 3 x the peak 0.592 mV of a 1 mV event */
		for (int i = 0; i < MRT_NOISE_NEL * N; i++)
			CHECK(fabs(E[i]) < 3 * 0.6, "seed %d: %g mV", (int)seed, E[i]);
		CHECK(first < N);
	}
}

static void
draw(void)
{
	mrt_rng r;
	mrt_rng_seed(&r, 1);
	CHECK(mrt_noise_draw(E, N, FS, MRT_NOISE_MAINS, 250, &r, basis) == MRT_EINVAL);
	CHECK(mrt_noise_draw(E, N, 100, MRT_NOISE_MAINS, 50, &r, basis) == MRT_EINVAL);
	CHECK(mrt_noise_draw(E, N, FS, MRT_NOISE_NKINDS, 50, &r, basis) == MRT_EINVAL);
	for (int k = 0; k < MRT_NOISE_NKINDS; k++) {
		memset(E, 0, sizeof E);
		memset(F, 0, sizeof F);
		mrt_rng_seed(&r, 9);
		CHECK(mrt_noise_draw(E, N, FS, k, 60, &r, basis) == 0);
		mrt_rng_seed(&r, 9);
		CHECK(mrt_noise_draw(F, N, FS, k, 60, &r, basis) == 0);
		CHECK(memcmp(E, F, sizeof E) == 0, "kind %d: not deterministic", k);
		mrt_rng_seed(&r, 10);
		memset(F, 0, sizeof F);
		mrt_noise_draw(F, N, FS, k, 60, &r, basis);
		CHECK(memcmp(E, F, sizeof E) != 0, "kind %d: seed ignored", k);
	}
}

int
main(void)
{
	names();
	leads();
	sine();
	emg();
	em();
	draw();
	return fails != 0;
}

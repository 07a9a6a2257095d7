/*
 * qrs.c: Pan-Tompkins-style QRS detector (see qrs.h).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ecg/qrs.h"

#define PI 3.14159265358979323846

/* Second-order Butterworth section, low- or high-pass at fc. */
typedef struct { double b0, b1, b2, a1, a2; } biquad;

static biquad
butter2(double fc, double fs, int high)
{
	double k = tan(PI * fc / fs), q = sqrt(2.0), n = 1 / (1 + q * k + k * k);
	biquad b;
	if (high) {
		b.b0 = n;
		b.b1 = -2 * n;
	} else {
		b.b0 = k * k * n;
		b.b1 = 2 * b.b0;
	}
	b.b2 = b.b0;
	b.a1 = 2 * (k * k - 1) * n;
	b.a2 = (1 - q * k + k * k) * n;
	return b;
}

/* Run the section over y in place, forward (dir 1) or backward (-1). */
static void
run(const biquad *b, double *y, int64_t n, int dir)
{
	double x1 = 0, x2 = 0, y1 = 0, y2 = 0;
	int64_t k0 = dir > 0 ? 0 : n - 1;
	/* start at rest on the first value (no step at the edge) */
	double dc = y[k0], g = (b->b0 + b->b1 + b->b2) / (1 + b->a1 + b->a2);
	x1 = x2 = dc;
	y1 = y2 = dc * g;
	for (int64_t i = 0; i < n; i++) {
		int64_t k = dir > 0 ? i : n - 1 - i;
		double x = y[k], v = b->b0 * x + b->b1 * x1 + b->b2 * x2 - b->a1 * y1 - b->a2 * y2;
		x2 = x1;
		x1 = x;
		y2 = y1;
		y1 = v;
		y[k] = v;
	}
}

int
mrt_qrs_detect(const float *x, int leads, int64_t n, double fs,
    int64_t *beats, int cap, int *nbeats)
{
	biquad hp, lp;
	double *bp, *en, *mwi, *best;
	int64_t w = (int64_t)(0.15 * fs + 0.5), refr = (int64_t)(0.2 * fs);
	int64_t twin = (int64_t)(0.36 * fs), last = -1, half;
	double spk = 0, npk = 0, thr, rravg = 0, lastslope = 0;
	int nb = 0, nrr = 0, over = 0;

	*nbeats = 0;
	if (!(fs >= 50) || n < 1 || leads < 1 || cap < 0)
		return MRT_EINVAL;
	bp = malloc(n * sizeof *bp);
	en = calloc(n, sizeof *en);
	mwi = malloc(n * sizeof *mwi);
	best = calloc(n, sizeof *best);   /* |band-passed| summed over leads */
	if (!bp || !en || !mwi || !best) {
		free(bp); free(en); free(mwi); free(best);
		return MRT_ENOMEM;
	}
	hp = butter2(5, fs, 1);
	lp = butter2(15, fs, 0);
	for (int l = 0; l < leads; l++) {
		const float *s = x + (int64_t)l * n;
		for (int64_t k = 0; k < n; k++)
			bp[k] = isfinite(s[k]) ? s[k] : 0;
		run(&hp, bp, n, 1);
		run(&hp, bp, n, -1);
		run(&lp, bp, n, 1);
		run(&lp, bp, n, -1);
		for (int64_t k = 0; k < n; k++) {
			double d = (k >= 2 && k + 2 < n) ?
			    (2 * (bp[k + 1] - bp[k - 1]) + bp[k + 2] - bp[k - 2]) * fs / 8 : 0;
			en[k] += d * d;
			best[k] += fabs(bp[k]);
		}
	}
	/* centred moving-window integration */
	half = w / 2;
	{
		double acc = 0;
		int64_t lo = 0, hi = 0;   /* window [lo, hi) */
		for (int64_t k = 0; k < n; k++) {
			int64_t a = k - half < 0 ? 0 : k - half, b = k + half + 1 > n ? n : k + half + 1;
			while (hi < b) acc += en[hi++];
			while (lo < a) acc -= en[lo++];
			mwi[k] = acc / (double)w;
		}
	}
	/* initial levels from the first 2 s */
	{
		int64_t m = (int64_t)(2 * fs) < n ? (int64_t)(2 * fs) : n;
		double mx = 0, mean = 0;
		for (int64_t k = 0; k < m; k++) {
			mx = fmax(mx, mwi[k]);
			mean += mwi[k];
		}
		spk = 0.25 * mx;
		npk = 0.5 * mean / (double)m;
	}
	thr = npk + 0.25 * (spk - npk);
	for (int64_t k = 1; k + 1 < n; k++) {
		double pk = mwi[k], slope = 0;
		int isbeat = 0;
		if (!(pk > mwi[k - 1] && pk >= mwi[k + 1]))
			continue;
		/* the peak must dominate its refractory neighbourhood */
		{
			int64_t a = k - refr < 0 ? 0 : k - refr, b = k + refr >= n ? n - 1 : k + refr;
			int dom = 1;
			for (int64_t j = a; j <= b && dom; j++)
				if (mwi[j] > pk || (mwi[j] == pk && j < k))
					dom = 0;
			if (!dom)
				continue;
		}
		for (int64_t j = k - half < 1 ? 1 : k - half; j <= k + half && j < n; j++)
			slope = fmax(slope, en[j]);
		if (pk > thr) {
			isbeat = 1;
			if (last >= 0 && k - last < twin && slope < 0.5 * lastslope)
				isbeat = 0;   /* a T wave */
		}
		/* search back for a missed beat */
		if (isbeat && last >= 0 && nrr >= 2 && k - last > 1.66 * rravg) {
			int64_t bj = -1;
			for (int64_t j = last + refr; j < k - refr; j++)
				if (mwi[j] > mwi[j - 1] && mwi[j] >= mwi[j + 1] && mwi[j] > 0.5 * thr &&
				    (bj < 0 || mwi[j] > mwi[bj]))
					bj = j;
			if (bj >= 0) {
				if (nb < cap) beats[nb++] = bj; else over = 1;
				spk = 0.25 * mwi[bj] + 0.75 * spk;
				last = bj;
			}
		}
		if (isbeat) {
			if (last >= 0) {
				double rr = (double)(k - last);
				rravg = nrr == 0 ? rr : 0.875 * rravg + 0.125 * rr;
				nrr++;
			}
			spk = 0.125 * pk + 0.875 * spk;
			if (nb < cap) beats[nb++] = k; else over = 1;
			last = k;
			lastslope = slope;
		} else
			npk = 0.125 * pk + 0.875 * npk;
		thr = npk + 0.25 * (spk - npk);
	}
	/* place each beat at the largest band-passed amplitude nearby */
	for (int i = 0; i < nb; i++) {
		int64_t k = beats[i], a = k - half - w / 3, b = k + half, j, bj = k;
		if (a < 0) a = 0;
		if (b >= n) b = n - 1;
		for (j = a; j <= b; j++)
			if (best[j] > best[bj])
				bj = j;
		beats[i] = bj;
	}
	free(bp); free(en); free(mwi); free(best);
	*nbeats = nb;
	return over ? MRT_ERANGE : 0;
}

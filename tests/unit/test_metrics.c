/*
 * test_metrics: lib/metrics against hand-computed cases (ties, all-equal
 * scores, a single positive), against O(n^2) pair counting on random
 * tied scores, thresholds chosen by F1, and the bootstrap against the same
 * resample expanded by hand.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "eval/metrics.h"
#include "core/rng.h"
#include "check.h"


static double
auc_of(const double *s, const uint8_t *y, size_t n, int *e)
{
	double a;
	*e = mrt_metrics_auroc(s, y, n, &a);
	return a;
}

static void
hand_cases(void)
{
	int e;
	double a;
	{ /* no ties: 3 of 4 pairs ordered */
		double s[] = { 0.1, 0.4, 0.35, 0.8 };
		uint8_t y[] = { 0, 0, 1, 1 };
		a = auc_of(s, y, 4, &e);
		CHECK(e == 0 && a == 0.75, "plain: %g", a);
		CHECK(mrt_metrics_f1(s, y, 4, 0.35) == 0.8, "f1 at 0.35");
		CHECK(mrt_metrics_f1(s, y, 4, 0.5) == 2.0 / 3, "f1 at 0.5");
		CHECK(mrt_metrics_f1(s, y, 4, 0.9) == 0, "f1 at 0.9");
		CHECK(mrt_metrics_f1(s, y, 4, 0.0) == 4.0 / 6, "f1 at 0");
	}
	{ /* a positive tied with a negative counts one half: 3.5 / 4 */
		double s[] = { 1, 2, 2, 3 };
		uint8_t y[] = { 0, 0, 1, 1 };
		a = auc_of(s, y, 4, &e);
		CHECK(e == 0 && a == 0.875, "ties: %g", a);
		/* threshold 2 predicts both tied records positive: TP2 FP1 */
		CHECK(mrt_metrics_f1(s, y, 4, 2) == 0.8, "f1 at tie");
	}
	{ /* all-equal scores */
		double s[] = { 7, 7, 7, 7, 7 };
		uint8_t y[] = { 1, 0, 0, 1, 0 };
		double t, f;
		a = auc_of(s, y, 5, &e);
		CHECK(e == 0 && a == 0.5, "all equal: %g", a);
		e = mrt_metrics_best_threshold(s, y, 5, &t, &f);
		CHECK(e == 0 && t == 7 && f == 4.0 / 7, "all equal threshold %g f1 %g", t, f);
	}
	{ /* a single positive: beats 2 of 3 negatives */
		double s[] = { 0.2, 0.5, 0.9, 0.1 };
		uint8_t y[] = { 0, 1, 0, 0 };
		a = auc_of(s, y, 4, &e);
		CHECK(e == 0 && a == 2.0 / 3, "single positive: %.17g", a);
	}
	{ /* no positive, no negative */
		double s[] = { 0.2, 0.5 };
		uint8_t y0[] = { 0, 0 }, y1[] = { 1, 1 };
		double t, f;
		a = auc_of(s, y0, 2, &e);
		CHECK(e == MRT_ERANGE && isnan(a), "no positive");
		a = auc_of(s, y1, 2, &e);
		CHECK(e == MRT_ERANGE && isnan(a), "no negative");
		e = mrt_metrics_best_threshold(s, y0, 2, &t, &f);
		CHECK(e == MRT_ERANGE && t == INFINITY && f == 0, "threshold without positive");
	}
	{ /* best threshold: F1 0.8 at 0.375, midpoint to 0.25 is 0.3125 */
		double s[] = { 0.25, 0.5, 0.375, 1 };
		uint8_t y[] = { 0, 0, 1, 1 };
		double t, f;
		e = mrt_metrics_best_threshold(s, y, 4, &t, &f);
		CHECK(e == 0 && t == 0.3125 && f == 0.8, "best threshold %g f1 %g", t, f);
		CHECK(mrt_metrics_f1(s, y, 4, t) == f, "f1 at chosen threshold");
	}
	{ /* equal F1 (2/3) at 1.0 and at 0.25: the higher threshold wins */
		double s[] = { 0.25, 0.5, 1 };
		uint8_t y[] = { 1, 0, 1 };
		double t, f;
		e = mrt_metrics_best_threshold(s, y, 3, &t, &f);
		/* at 1: TP1 FN1 -> 2/3; at 0.5: TP1 FP1 FN1 -> 1/2; at 0.25: 4/5 */
		CHECK(e == 0 && t == 0.25 && f == 0.8, "tie-break %g %g", t, f);
		s[1] = 0.75; y[1] = 1; y[0] = 0;
		/* at 1: TP1 FN1 -> 2/3; at 0.75: TP2 -> 1; at 0.25: 4/5 */
		e = mrt_metrics_best_threshold(s, y, 3, &t, &f);
		CHECK(e == 0 && t == 0.5 && f == 1, "midpoint %g %g", t, f);
	}
}

/* O(n^2) pair counting on random scores with many ties. */
static void
brute_force(void)
{
	mrt_rng r;
	mrt_rng_seed(&r, 5);
	for (int rep = 0; rep < 50; rep++) {
		size_t n = 2 + mrt_rng_below(&r, 60);
		double s[64], num = 0, a;
		uint8_t y[64];
		size_t p = 0, q = 0;
		int e;
		for (size_t i = 0; i < n; i++) {
			s[i] = (double)mrt_rng_below(&r, 5);
			y[i] = mrt_rng_below(&r, 3) == 0;
			p += y[i];
		}
		q = n - p;
		for (size_t i = 0; i < n; i++)
			for (size_t j = 0; j < n; j++)
				if (y[i] && !y[j])
					num += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
		a = auc_of(s, y, n, &e);
		if (p == 0 || q == 0)
			CHECK(e == MRT_ERANGE, "rep %d: degenerate", rep);
		else
			CHECK(e == 0 && a == num / ((double)p * q),
			    "rep %d: %.17g vs %.17g", rep, a, num / ((double)p * q));
	}
}

static void
evaluate_and_bootstrap(void)
{
	enum { N = 40, C = 3, B = 7 };
	double s[C * N], th[C] = { 0.5, 0.3, 0.6 };
	uint8_t y[C * N];
	mrt_metrics_eval ev;
	mrt_metrics_ci ca, cf, ca2, cf2;
	mrt_rng r;
	int e;

	mrt_rng_seed(&r, 11);
	for (size_t i = 0; i < C * N; i++) {
		y[i] = mrt_rng_below(&r, 2);
		s[i] = round((0.4 * y[i] + 0.6 * mrt_rng_uniform(&r)) * 8) / 8;
	}
	for (size_t i = 0; i < N; i++)
		y[2 * N + i] = 0;   /* class 2: no positive */
	e = mrt_metrics_evaluate(&ev, s, y, N, C, th);
	CHECK(e == 0 && ev.nvalid == 2 && !ev.valid[2] && isnan(ev.auroc[2]),
	    "evaluate: invalid class");
	CHECK(ev.macro_auroc == (ev.auroc[0] + ev.auroc[1]) / 2, "macro auroc");
	CHECK(ev.macro_f1 == (mrt_metrics_f1(s, y, N, th[0]) +
	    mrt_metrics_f1(s + N, y + N, N, th[1])) / 2, "macro f1");
	mrt_metrics_eval_destroy(&ev);

	/* one replicate equals the expanded resample, drawn as the lib does */
	for (uint64_t seed = 1; seed <= 5; seed++) {
		double xs[C * N], num_a, num_f;
		uint8_t xy[C * N];
		mrt_rng_seed(&r, seed);
		for (size_t i = 0; i < N; i++) {
			size_t k = mrt_rng_below(&r, N);
			for (size_t c = 0; c < C; c++) {
				xs[c * N + i] = s[c * N + k];
				xy[c * N + i] = y[c * N + k];
			}
		}
		e = mrt_metrics_evaluate(&ev, xs, xy, N, C, th);
		num_a = ev.macro_auroc;
		num_f = ev.macro_f1;
		mrt_metrics_eval_destroy(&ev);
		e |= mrt_metrics_bootstrap(s, y, N, C, th, 1, seed, &ca, &cf);
		CHECK(e == 0 && ca.nrep == 1 && fabs(ca.lo - num_a) < 1e-15 &&
		    fabs(ca.hi - num_a) < 1e-15 && fabs(cf.lo - num_f) < 1e-15,
		    "seed %d: bootstrap %.17g vs %.17g, f1 %.17g vs %.17g",
		    (int)seed, ca.lo, num_a, cf.lo, num_f);
	}
	/* seeded: same seed same interval, and it brackets the estimate */
	e = mrt_metrics_bootstrap(s, y, N, C, th, 200, 42, &ca, &cf);
	e |= mrt_metrics_bootstrap(s, y, N, C, th, 200, 42, &ca2, &cf2);
	mrt_metrics_evaluate(&ev, s, y, N, C, th);
	CHECK(e == 0 && ca.lo == ca2.lo && ca.hi == ca2.hi && cf.lo == cf2.lo,
	    "bootstrap not reproducible");
	CHECK(ca.lo < ev.macro_auroc && ev.macro_auroc < ca.hi && ca.nrep == 200,
	    "CI [%g, %g] around %g", ca.lo, ca.hi, ev.macro_auroc);
	CHECK(cf.lo < ev.macro_f1 && ev.macro_f1 < cf.hi, "F1 CI");
	mrt_metrics_eval_destroy(&ev);
	{
		double v[] = { 4, 1, 3, 2 };
		/* type 7: h = 0.25 * 3 = 0.75 -> 1 + 0.75 */
		CHECK(mrt_metrics_quantile(v, 4, 0.25) == 1.75, "quantile");
		CHECK(mrt_metrics_quantile(v, 4, 1) == 4, "quantile max");
	}
	(void)B;
}

int
main(void)
{
	hand_cases();
	brute_force();
	evaluate_and_bootstrap();
	if (fails)
		printf("test_metrics: %d failures\n", fails);
	return fails != 0;
}

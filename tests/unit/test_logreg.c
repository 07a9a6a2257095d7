/*
 * test_logreg: lib/logreg's objective and gradient against central
 * differences, the fitted optimum against a brute-force grid on a
 * one-feature problem, convergence (gradient ~ 0) from cold and warm
 * starts, separable data with a penalty, and recovery of a planted
 * linear signal.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "eval/logreg.h"
#include "core/rng.h"
#include "check.h"


/* The objective written out directly, for the grid search. */
static double
obj1(const double *x, const uint8_t *y, size_t n, double lambda, double w,
    double b)
{
	double l = 0;
	for (size_t i = 0; i < n; i++) {
		double z = w * x[i] + b;
		l += y[i] ? log(1 + exp(-z)) : log(1 + exp(z));
	}
	return l / n + 0.5 * lambda * w * w;
}

static void
brute_force(void)
{
	double x[] = { -2, -1.5, -0.5, 0, 0.3, 0.5, 1, 2.5 };
	uint8_t y[] = { 0, 0, 1, 0, 1, 0, 1, 1 };
	double lambda = 0.05, w[2] = { 0, 0 }, best = INFINITY, bw = 0, bb = 0;
	mrt_logreg_opts o = { lambda, 0, 1e-12 };
	mrt_logreg_info info;
	int e;

	/* coarse grid, then a fine one around its best */
	for (double a = -5; a <= 5; a += 0.01)
		for (double b = -5; b <= 5; b += 0.01) {
			double l = obj1(x, y, 8, lambda, a, b);
			if (l < best) { best = l; bw = a; bb = b; }
		}
	{
		double cw = bw, cb = bb;
		for (double a = cw - 0.01; a <= cw + 0.01; a += 1e-5)
			for (double b = cb - 0.01; b <= cb + 0.01; b += 1e-5) {
				double l = obj1(x, y, 8, lambda, a, b);
				if (l < best) { best = l; bw = a; bb = b; }
			}
	}
	e = mrt_logreg_fit(x, 8, 1, y, &o, w, &info);
	CHECK(e == 0 && info.converged, "fit: %d, grad %g", e, info.grad_norm);
	CHECK(info.loss <= best + 1e-12, "loss %.15g above grid %.15g", info.loss, best);
	CHECK(best - info.loss < 1e-8, "grid %.15g far below fit %.15g", best, info.loss);
	CHECK(fabs(w[0] - bw) < 1e-4 && fabs(w[1] - bb) < 1e-4,
	    "w %g b %g vs grid %g %g", w[0], w[1], bw, bb);
	CHECK(fabs(obj1(x, y, 8, lambda, w[0], w[1]) - info.loss) < 1e-15, "loss");
}

static void
random_problem(mrt_rng *r, double *X, uint8_t *y, size_t n, size_t d,
    const double *wt, double bt)
{
	for (size_t i = 0; i < n; i++) {
		double z = bt;
		for (size_t j = 0; j < d; j++) {
			X[i * d + j] = mrt_rng_normal(r);
			z += wt[j] * X[i * d + j];
		}
		y[i] = mrt_rng_uniform(r) < 1 / (1 + exp(-z));
	}
}

static void
gradient_check(void)
{
	enum { N = 60, D = 5 };
	double X[N * D], wt[D] = { 1, -2, 0.5, 0, 3 }, w[D + 1], g[D + 1];
	uint8_t y[N];
	mrt_rng r;
	mrt_rng_seed(&r, 3);
	random_problem(&r, X, y, N, D, wt, 0.3);
	for (int j = 0; j <= D; j++)
		w[j] = mrt_rng_normal(&r);
	mrt_logreg_loss(X, N, D, y, 0.7, w, g);
	for (int j = 0; j <= D; j++) {
		double h = 1e-6, s = w[j], lp, lm, fd;
		w[j] = s + h;
		lp = mrt_logreg_loss(X, N, D, y, 0.7, w, NULL);
		w[j] = s - h;
		lm = mrt_logreg_loss(X, N, D, y, 0.7, w, NULL);
		w[j] = s;
		fd = (lp - lm) / (2 * h);
		CHECK(fabs(fd - g[j]) < 1e-8, "grad[%d] %.12g vs fd %.12g", j, g[j], fd);
	}
}

static void
planted(void)
{
	enum { N = 20000, D = 20 };
	double *X = malloc(N * D * sizeof *X), wt[D], w[D + 1] = { 0 }, w2[D + 1];
	double g[D + 1], dot = 0, n1 = 0, n2 = 0;
	uint8_t *y = malloc(N);
	mrt_logreg_opts o = { 1e-6, 0, 0 };
	mrt_logreg_info info, info2;
	mrt_rng r;
	int e;

	mrt_rng_seed(&r, 7);
	for (int j = 0; j < D; j++)
		wt[j] = mrt_rng_normal(&r);
	random_problem(&r, X, y, N, D, wt, -1);
	e = mrt_logreg_fit(X, N, D, y, &o, w, &info);
	CHECK(e == 0 && info.converged && info.grad_norm <= 1e-8 && info.iters < 30,
	    "planted: e %d iters %d grad %g", e, info.iters, info.grad_norm);
	mrt_logreg_loss(X, N, D, y, o.lambda, w, g);
	{
		double gn = 0;
		for (int j = 0; j <= D; j++)
			gn += g[j] * g[j];
		CHECK(fabs(sqrt(gn) - info.grad_norm) < 1e-12, "reported gradient");
	}
	for (int j = 0; j < D; j++) {
		dot += w[j] * wt[j];
		n1 += w[j] * w[j];
		n2 += wt[j] * wt[j];
	}
	CHECK(dot / sqrt(n1 * n2) > 0.99, "cosine to planted weights %g", dot / sqrt(n1 * n2));
	CHECK(fabs(w[D] + 1) < 0.15, "bias %g vs -1", w[D]);
	/* warm start from a stronger penalty's solution reaches the same point */
	o.lambda = 0.1;
	memset(w2, 0, sizeof w2);
	e = mrt_logreg_fit(X, N, D, y, &o, w2, &info2);
	o.lambda = 1e-6;
	e |= mrt_logreg_fit(X, N, D, y, &o, w2, &info2);
	CHECK(e == 0 && info2.converged, "warm start");
	for (int j = 0; j <= D; j++)
		CHECK(fabs(w2[j] - w[j]) < 1e-6, "warm w[%d] %g vs %g", j, w2[j], w[j]);
	/* separable labels: the penalty keeps a finite optimum */
	for (int i = 0; i < N; i++)
		y[i] = X[i * D] > 0;
	memset(w, 0, sizeof w);
	o.lambda = 1e-3;
	e = mrt_logreg_fit(X, N, D, y, &o, w, &info);
	CHECK(e == 0 && info.converged && isfinite(w[0]) && w[0] > 5,
	    "separable: e %d grad %g w0 %g", e, info.grad_norm, w[0]);
	/* bad arguments */
	CHECK(mrt_logreg_fit(X, 0, D, y, &o, w, &info) == MRT_EINVAL, "n = 0");
	o.lambda = -1;
	CHECK(mrt_logreg_fit(X, N, D, y, &o, w, &info) == MRT_EINVAL, "lambda < 0");
	free(X);
	free(y);
}

int
main(void)
{
	brute_force();
	gradient_check();
	planted();
	if (fails)
		printf("test_logreg: %d failures\n", fails);
	return fails != 0;
}

/*
 * test_tsne: lib/tsne's bandwidth search reaches the target entropy (an
 * entropy recomputed here from p) at several scales; the joint P is
 * symmetric and sums to 1; the gradient matches central differences of
 * KL(P || Q) and a naive double loop (with exaggeration); a run is the
 * same for the same seed and separates planted clusters; bad arguments.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "eval/tsne.h"
#include "check.h"


static void
randn(mrt_rng *r, double *x, size_t n, double scale)
{
	for (size_t k = 0; k < n; k++)
		x[k] = scale * mrt_rng_normal(r);
}

static void
perplexity_search(void)
{
	enum { N = 150, D = 10 };
	static double X[N * D], Dm[N * N], p[N];
	static const double scales[] = { 1e-3, 1, 1e3 }, perps[] = { 2, 5, 30, 100 };
	mrt_rng r;

	mrt_rng_seed(&r, 7);
	for (size_t s = 0; s < sizeof scales / sizeof scales[0]; s++) {
		randn(&r, X, N * D, scales[s]);
		CHECK(mrt_tsne_sqdist(X, N, D, Dm) == 0, "sqdist");
		/* against the definition */
		for (size_t i = 0; i < N; i += 7)
			for (size_t j = 0; j < N; j += 5) {
				double v = 0;
				for (size_t k = 0; k < D; k++)
					v += (X[i * D + k] - X[j * D + k]) * (X[i * D + k] - X[j * D + k]);
				CHECK(fabs(Dm[i * N + j] - v) <= 1e-12 * v, "D[%zu][%zu] %g vs %g",
				    i, j, Dm[i * N + j], v);
			}
		for (size_t q = 0; q < sizeof perps / sizeof perps[0]; q++)
			for (size_t i = 0; i < N; i++) {
				double beta, h, hp = 0, sum = 0;
				int e = mrt_tsne_row(Dm + i * N, N, i, perps[q], 1e-5, p, &beta, &h);
				for (size_t j = 0; j < N; j++) {
					sum += p[j];
					hp -= p[j] > 0 ? p[j] * log(p[j]) : 0;
				}
				CHECK(e == 0, "scale %g perplexity %g row %zu: %d", scales[s], perps[q], i, e);
				CHECK(p[i] == 0, "p[self] %g", p[i]);
				CHECK(fabs(sum - 1) < 1e-12, "sum %.17g", sum);
				CHECK(fabs(hp - log(perps[q])) < 1e-5 && fabs(h - hp) < 1e-9,
				    "scale %g perplexity %g row %zu: entropy %.10g (reported %.10g), target %.10g",
				    scales[s], perps[q], i, hp, h, log(perps[q]));
				/* p falls with distance at the rate beta */
				for (size_t j = 0; j < N; j++)
					if (j != i && p[j] > 1e-200 && p[(i + 1) % N] > 1e-200 && j != (i + 1) % N)
						CHECK(fabs(log(p[j] / p[(i + 1) % N]) + beta *
						    (Dm[i * N + j] - Dm[i * N + (i + 1) % N])) < 1e-6 *
						    (1 + fabs(log(p[j] / p[(i + 1) % N]))), "p not Gaussian in row %zu", i);
			}
	}
	/* identical distances: no bandwidth reaches the target; uniform p */
	{
		double d[5] = { 0, 2, 2, 2, 2 }, pp[5], beta, h;
		CHECK(mrt_tsne_row(d, 5, 0, 2, 1e-5, pp, &beta, &h) == MRT_ERANGE, "flat row");
		CHECK(pp[0] == 0 && pp[1] == 0.25 && pp[4] == 0.25 && fabs(h - log(4)) < 1e-15,
		    "flat row not uniform");
		CHECK(mrt_tsne_row(d, 5, 0, 4, 1e-5, pp, &beta, &h) == MRT_EINVAL, "perplexity n - 1");
		d[3] = NAN;
		CHECK(mrt_tsne_row(d, 5, 0, 2, 1e-5, pp, &beta, &h) == MRT_ENUM, "NaN distance");
	}
}

/* The gradient written out from the formula, pair by pair. */
static void
naive_grad(const double *P, const double *Y, size_t n, double exag, double *g)
{
	double z = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			if (i != j)
				z += 1 / (1 + pow(Y[2 * i] - Y[2 * j], 2) + pow(Y[2 * i + 1] - Y[2 * j + 1], 2));
	for (size_t i = 0; i < n; i++) {
		g[2 * i] = g[2 * i + 1] = 0;
		for (size_t j = 0; j < n; j++) {
			double w;
			if (i == j)
				continue;
			w = 1 / (1 + pow(Y[2 * i] - Y[2 * j], 2) + pow(Y[2 * i + 1] - Y[2 * j + 1], 2));
			for (int k = 0; k < 2; k++)
				g[2 * i + k] += 4 * (exag * P[i * n + j] - w / z) * w *
				    (Y[2 * i + k] - Y[2 * j + k]);
		}
	}
}

static void
gradient(void)
{
	enum { N = 37, D = 6 };   /* not a multiple of 4: the kernel's tail */
	static double X[N * D], P[N * N], Y[2 * N], g[2 * N], gn[2 * N], s[5 * N];
	double sum = 0, worst = 0;
	mrt_rng r;

	mrt_rng_seed(&r, 11);
	randn(&r, X, N * D, 1);
	randn(&r, Y, 2 * N, 2);
	CHECK(mrt_tsne_affinities(X, N, D, 8, P) == 0, "affinities");
	for (size_t i = 0; i < N; i++) {
		CHECK(P[i * N + i] == 0, "diagonal");
		for (size_t j = 0; j < N; j++) {
			sum += P[i * N + j];
			CHECK(P[i * N + j] == P[j * N + i] && P[i * N + j] >= 0, "P not symmetric");
		}
	}
	CHECK(fabs(sum - 1) < 1e-12, "P sums to %.17g", sum);
	mrt_tsne_grad(P, Y, N, 1, g, s);
	for (size_t k = 0; k < 2 * N; k++) {
		double h = 1e-5, y = Y[k], fp, fm, fd;
		Y[k] = y + h;
		fp = mrt_tsne_kl(P, Y, N);
		Y[k] = y - h;
		fm = mrt_tsne_kl(P, Y, N);
		Y[k] = y;
		fd = (fp - fm) / (2 * h);
		if (fabs(fd - g[k]) > worst)
			worst = fabs(fd - g[k]);
		CHECK(fabs(fd - g[k]) < 1e-7 * (1 + fabs(fd)), "dKL/dY[%zu]: %.12g, differences %.12g",
		    k, g[k], fd);
	}
	printf("gradient vs central differences: max abs error %.3g\n", worst);
	for (int t = 0; t < 2; t++) {
		double exag = t ? 12 : 1;
		mrt_tsne_grad(P, Y, N, exag, g, s);
		naive_grad(P, Y, N, exag, gn);
		for (size_t k = 0; k < 2 * N; k++)
			CHECK(fabs(g[k] - gn[k]) < 1e-12 * (1 + fabs(gn[k])), "exag %g grad[%zu] %.17g naive %.17g",
			    exag, k, g[k], gn[k]);
	}
	CHECK(mrt_tsne_kl(P, Y, N) > 0, "KL of a random map");
}

static void
clusters(void)
{
	enum { K = 3, M = 40, N = K * M, D = 20 };
	static double X[N * D], Y1[2 * N], Y2[2 * N], Y3[2 * N];
	mrt_tsne_opts o;
	double c0 = 0, c1 = 0;
	int wrong = 0;
	mrt_rng r;

	mrt_rng_seed(&r, 3);
	randn(&r, X, N * D, 1);
	for (size_t i = 0; i < N; i++)
		X[i * D + i / M] += 8;
	mrt_tsne_opts_default(&o);
	o.seed = 5;
	CHECK(mrt_tsne_run(X, N, D, &o, Y1) == 0, "run");
	CHECK(mrt_tsne_run(X, N, D, &o, Y2) == 0, "run");
	CHECK(memcmp(Y1, Y2, sizeof Y1) == 0, "same seed, different maps");
	o.seed = 6;
	CHECK(mrt_tsne_run(X, N, D, &o, Y3) == 0, "run");
	CHECK(memcmp(Y1, Y3, sizeof Y1) != 0, "another seed, same map");
	for (size_t i = 0; i < N; i++) {
		size_t best = 0;
		double bd = INFINITY;
		for (size_t j = 0; j < N; j++) {
			double d = pow(Y1[2 * i] - Y1[2 * j], 2) + pow(Y1[2 * i + 1] - Y1[2 * j + 1], 2);
			if (j != i && d < bd) {
				bd = d;
				best = j;
			}
		}
		wrong += best / M != i / M;
		c0 += Y1[2 * i];
		c1 += Y1[2 * i + 1];
	}
	CHECK(fabs(c0) < 1e-9 && fabs(c1) < 1e-9, "map not centred: %g %g", c0, c1);
	CHECK(wrong == 0, "%d points nearest to another cluster", wrong);
	/* bad input */
	o.perplexity = N - 1;
	CHECK(mrt_tsne_run(X, N, D, &o, Y3) == MRT_EINVAL, "perplexity n - 1");
	o.perplexity = 30;
	X[17] = NAN;
	CHECK(mrt_tsne_run(X, N, D, &o, Y3) == MRT_ENUM, "NaN input");
	CHECK(mrt_tsne_run(X, 1, D, &o, Y3) == MRT_EINVAL, "one point");
}

int
main(void)
{
	perplexity_search();
	gradient();
	clusters();
	if (fails)
		printf("%d failures\n", fails);
	return fails != 0;
}

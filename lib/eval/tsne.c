/*
 * tsne.c: exact t-SNE; see tsne.h.  The optimiser follows van der Maaten
 * and Hinton (2008): momentum 0.5 then 0.8, gains raised by 0.2 where the
 * gradient changes sign against the update and shrunk by 0.8 elsewhere,
 * early exaggeration (12 for 250 steps, as in later versions of the
 * reference code).  The default learning rate, n / exaggeration / 4 but at
 * least 50, is Belkina et al. (2019) for this gradient (with its factor 4).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/rng.h"
#include "eval/tsne.h"

#define ROW_TOL   1e-5   /* entropy tolerance of the bandwidth search, nats */
#define ROW_STEPS 200    /* bisection steps at most */
#define INIT_STD  1e-4   /* spread of the initial map */

static int
sgn(double x)
{
	return (x > 0) - (x < 0);
}

void
mrt_tsne_opts_default(mrt_tsne_opts *o)
{
	o->perplexity = 30;
	o->iterations = 1000;
	o->exag_iters = 250;
	o->exaggeration = 12;
	o->eta = 0;
	o->momentum0 = 0.5;
	o->momentum1 = 0.8;
	o->min_gain = 0.01;
	o->seed = 0;
}

int
mrt_tsne_sqdist(const double *X, size_t n, size_t d, double *D)
{
	if (n == 0 || d == 0)
		return MRT_EINVAL;
	/*
	 * Sums of squared differences, not |xi|^2 + |xj|^2 - 2 xi.xj by BLAS:
	 * no cancellation, and the same bits whatever the number of threads
	 * (OpenBLAS's syrk differs in the last bits between thread counts,
	 * which t-SNE amplifies).  O(n^2 d) stays below the O(n^2) per step
	 * of the optimiser for the sizes exact t-SNE is for.
	 */
	#pragma omp parallel for schedule(dynamic, 8)
	for (size_t i = 0; i < n; i++) {
		const double *xi = X + i * d;
		D[i * n + i] = 0;
		for (size_t j = i + 1; j < n; j++) {
			const double *xj = X + j * d;
			double s = 0;
			#pragma omp simd reduction(+:s)
			for (size_t k = 0; k < d; k++)
				s += (xi[k] - xj[k]) * (xi[k] - xj[k]);
			D[i * n + j] = s;
		}
	}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < i; j++)
			D[i * n + j] = D[j * n + i];
	return 0;
}

/* p[j] = exp(-beta (d[j] - dmin)) normalised; returns the entropy. */
static double
row_eval(const double *d, size_t n, size_t self, double dmin, double beta,
    double *p)
{
	double s = 0, m = 0;

	for (size_t j = 0; j < n; j++) {
		double e = d[j] - dmin, w = j == self ? 0 : exp(-beta * e);
		p[j] = w;
		s += w;
		m += j == self ? 0 : w * e;
	}
	/* s >= 1: the nearest point has weight exp(0) */
	for (size_t j = 0; j < n; j++)
		p[j] /= s;
	return log(s) + beta * m / s;
}

int
mrt_tsne_row(const double *d, size_t n, size_t self, double perplexity,
    double tol, double *p, double *betap, double *entropy)
{
	double target, beta = 1, lo = 0, hi = INFINITY, dmin = INFINITY, h = 0;
	int ok = 0;

	if (n < 2 || self >= n || !(perplexity > 0) || !(perplexity < (double)(n - 1)))
		return MRT_EINVAL;
	for (size_t j = 0; j < n; j++) {
		if (j == self)
			continue;
		if (!isfinite(d[j]))
			return MRT_ENUM;
		if (d[j] < dmin)
			dmin = d[j];
	}
	/* start from the scale of the distances: beta = 1 / mean excess */
	{
		double m = 0;
		for (size_t j = 0; j < n; j++)
			m += j == self ? 0 : d[j] - dmin;
		m /= (double)(n - 1);
		if (m > 0 && isfinite(1 / m))
			beta = 1 / m;
	}
	target = log(perplexity);
	for (int k = 0; k < ROW_STEPS; k++) {
		h = row_eval(d, n, self, dmin, beta, p);
		if (fabs(h - target) < tol) {
			ok = 1;
			break;
		}
		if (h > target) {       /* too flat: narrower */
			lo = beta;
			beta = isinf(hi) ? beta * 2 : (beta + hi) / 2;
		} else {
			hi = beta;
			beta = (beta + lo) / 2;
		}
	}
	if (!ok) {
		/* out of reach (identical distances): uniform over the nearest */
		for (size_t j = 0; j < n; j++)
			p[j] = j == self ? 0 : 1.0 / (double)(n - 1);
		h = log((double)(n - 1));
	}
	if (betap != NULL)
		*betap = beta;
	if (entropy != NULL)
		*entropy = h;
	return ok ? 0 : MRT_ERANGE;
}

int
mrt_tsne_affinities(const double *X, size_t n, size_t d, double perplexity,
    double *P)
{
	int e = 0;

	if (n < 2 || !(perplexity > 0) || !(perplexity < (double)(n - 1)))
		return MRT_EINVAL;
	if ((e = mrt_tsne_sqdist(X, n, d, P)) != 0)
		return e;
	#pragma omp parallel
	{
		double *row = malloc(n * sizeof *row);
		int te = row == NULL ? MRT_ENOMEM : 0;

		#pragma omp for schedule(dynamic, 16)
		for (size_t i = 0; i < n; i++) {
			int re;
			if (te != 0)
				continue;
			memcpy(row, P + i * n, n * sizeof *row);
			re = mrt_tsne_row(row, n, i, perplexity, ROW_TOL, P + i * n, NULL, NULL);
			if (re != 0 && re != MRT_ERANGE)
				te = re;
		}
		free(row);
		if (te != 0) {
			#pragma omp critical
			e = te;
		}
	}
	if (e != 0)
		return e;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++) {
			double v = (P[i * n + j] + P[j * n + i]) / (2.0 * (double)n);
			P[i * n + j] = P[j * n + i] = v;
		}
	return 0;
}

/*
 * Row i's sums over all j (j = i included: it adds w = 1 to z only):
 * out = { sum p w d0, sum p w d1, sum w^2 d0, sum w^2 d1, sum w } with
 * d = y_i - y_j.  Four explicit lanes, added in a fixed order at the end,
 * so the AVX2 and the SSE2 builds give the same bits.
 */
typedef double v4d __attribute__((vector_size(32)));

#define LOAD4(v, p) memcpy(&(v), (p), sizeof(v))   /* unaligned */

__attribute__((target_clones("avx2", "default")))
static void
row_sums(const double *pi, const double *y0, const double *y1, size_t n,
    double yi0, double yi1, double out[5])
{
	const v4d one = { 1, 1, 1, 1 }, c0 = { yi0, yi0, yi0, yi0 },
	    c1 = { yi1, yi1, yi1, yi1 };
	v4d a0 = { 0 }, a1 = { 0 }, r0 = { 0 }, r1 = { 0 }, z = { 0 };
	size_t j = 0;

	for (; j + 4 <= n; j += 4) {
		v4d p, u0, u1, d0, d1, w, pw, ww;
		LOAD4(p, pi + j);
		LOAD4(u0, y0 + j);
		LOAD4(u1, y1 + j);
		d0 = c0 - u0;
		d1 = c1 - u1;
		w = one / (one + d0 * d0 + d1 * d1);
		pw = p * w;
		ww = w * w;
		z += w;
		a0 += pw * d0;
		a1 += pw * d1;
		r0 += ww * d0;
		r1 += ww * d1;
	}
	out[0] = (a0[0] + a0[1]) + (a0[2] + a0[3]);
	out[1] = (a1[0] + a1[1]) + (a1[2] + a1[3]);
	out[2] = (r0[0] + r0[1]) + (r0[2] + r0[3]);
	out[3] = (r1[0] + r1[1]) + (r1[2] + r1[3]);
	out[4] = (z[0] + z[1]) + (z[2] + z[3]);
	for (; j < n; j++) {
		double d0 = yi0 - y0[j], d1 = yi1 - y1[j];
		double w = 1 / (1 + d0 * d0 + d1 * d1), pw = pi[j] * w, ww = w * w;
		out[0] += pw * d0;
		out[1] += pw * d1;
		out[2] += ww * d0;
		out[3] += ww * d1;
		out[4] += w;
	}
}

void
mrt_tsne_grad(const double *P, const double *Y, size_t n, double exag,
    double *grad, double *scratch)
{
	double *zrow = scratch, *rep = scratch + n, *y0 = scratch + 3 * n,
	    *y1 = scratch + 4 * n, z = 0;

	for (size_t i = 0; i < n; i++) {
		y0[i] = Y[2 * i];
		y1[i] = Y[2 * i + 1];
	}
	#pragma omp parallel for schedule(static) if (n >= 512)
	for (size_t i = 0; i < n; i++) {
		double s[5];
		row_sums(P + i * n, y0, y1, n, y0[i], y1[i], s);
		grad[2 * i] = s[0];
		grad[2 * i + 1] = s[1];
		rep[2 * i] = s[2];
		rep[2 * i + 1] = s[3];
		zrow[i] = s[4] - 1;
	}
	for (size_t i = 0; i < n; i++)
		z += zrow[i];
	for (size_t k = 0; k < 2 * n; k++)
		grad[k] = 4 * (exag * grad[k] - rep[k] / z);
}

double
mrt_tsne_kl(const double *P, const double *Y, size_t n)
{
	double z = 0, kl = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double d0 = Y[2 * i] - Y[2 * j], d1 = Y[2 * i + 1] - Y[2 * j + 1];
			z += j == i ? 0 : 1 / (1 + d0 * d0 + d1 * d1);
		}
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++) {
			double p = P[i * n + j], d0, d1;
			if (j == i || p <= 0)
				continue;
			d0 = Y[2 * i] - Y[2 * j];
			d1 = Y[2 * i + 1] - Y[2 * j + 1];
			/* log q = log w - log z = -log(1 + d^2) - log z */
			kl += p * (log(p) + log1p(d0 * d0 + d1 * d1) + log(z));
		}
	return kl;
}

int
mrt_tsne_run(const double *X, size_t n, size_t d, const mrt_tsne_opts *o,
    double *Y)
{
	double *P, *up, *gains, *grad, *scratch, eta;
	mrt_rng rng;
	int e;

	if (n < 2 || d == 0 || o->iterations < 0 || o->exag_iters < 0 ||
	    !(o->exaggeration > 0) || !(o->eta >= 0) || !(o->min_gain > 0) ||
	    !(o->momentum0 >= 0 && o->momentum0 < 1) ||
	    !(o->momentum1 >= 0 && o->momentum1 < 1) ||
	    !(o->perplexity > 0) || !(o->perplexity < (double)(n - 1)))
		return MRT_EINVAL;
	for (size_t k = 0; k < n * d; k++)
		if (!isfinite(X[k]))
			return MRT_ENUM;
	if (n > SIZE_MAX / sizeof(double) / n)
		return MRT_ENOMEM;
	P = malloc(n * n * sizeof *P);
	up = calloc(2 * n, sizeof *up);
	gains = malloc(2 * n * sizeof *gains);
	grad = malloc(2 * n * sizeof *grad);
	scratch = malloc(5 * n * sizeof *scratch);
	if (P == NULL || up == NULL || gains == NULL || grad == NULL || scratch == NULL) {
		e = MRT_ENOMEM;
		goto out;
	}
	if ((e = mrt_tsne_affinities(X, n, d, o->perplexity, P)) != 0)
		goto out;
	eta = o->eta > 0 ? o->eta : fmax((double)n / o->exaggeration / 4, 50);
	mrt_rng_seed(&rng, o->seed);
	for (size_t k = 0; k < 2 * n; k++) {
		Y[k] = INIT_STD * mrt_rng_normal(&rng);
		gains[k] = 1;
	}
	for (int it = 0; it < o->iterations; it++) {
		int early = it < o->exag_iters;
		double mom = early ? o->momentum0 : o->momentum1, c0 = 0, c1 = 0;

		mrt_tsne_grad(P, Y, n, early ? o->exaggeration : 1, grad, scratch);
		for (size_t k = 0; k < 2 * n; k++) {
			double g = grad[k];
			if (sgn(g) != sgn(up[k]))
				gains[k] += 0.2;
			else
				gains[k] *= 0.8;
			if (gains[k] < o->min_gain)
				gains[k] = o->min_gain;
			up[k] = mom * up[k] - eta * gains[k] * g;
			Y[k] += up[k];
		}
		for (size_t i = 0; i < n; i++) {
			c0 += Y[2 * i];
			c1 += Y[2 * i + 1];
		}
		c0 /= (double)n;
		c1 /= (double)n;
		for (size_t i = 0; i < n; i++) {
			Y[2 * i] -= c0;
			Y[2 * i + 1] -= c1;
		}
		if (!isfinite(c0) || !isfinite(c1)) {
			e = MRT_ENUM;
			goto out;
		}
	}
out:
	free(P);
	free(up);
	free(gains);
	free(grad);
	free(scratch);
	return e;
}

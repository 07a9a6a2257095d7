/* logreg.c: L2-regularised logistic regression by damped Newton steps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <cblas.h>

#include "core/err.h"
#include "eval/logreg.h"

/* log(1 + exp(-m)) without overflow. */
static double
softplus_neg(double m)
{
	return m > 0 ? log1p(exp(-m)) : -m + log1p(exp(m));
}

void
mrt_logreg_predict(const double *X, size_t n, size_t d, const double *w,
    double *score)
{
	for (size_t i = 0; i < n; i++)
		score[i] = w[d];
	cblas_dgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)d, 1.0, X, (int)d,
	    w, 1, 1.0, score, 1);
}

/* Objective from the scores z; r[i] = sigmoid(z_i) - y_i when r not NULL. */
static double
loss_z(const double *z, const uint8_t *y, size_t n, size_t d, double lambda,
    const double *w, double *r)
{
	double l = 0, ww = 0;
	for (size_t i = 0; i < n; i++) {
		double m = y[i] ? z[i] : -z[i];
		l += softplus_neg(m);
		if (r)
			r[i] = 1 / (1 + exp(-z[i])) - y[i];
	}
	for (size_t j = 0; j < d; j++)
		ww += w[j] * w[j];
	return l / (double)n + 0.5 * lambda * ww;
}

/* Gradient from the residuals r (length n) into g[d + 1]. */
static void
gradient(const double *X, size_t n, size_t d, const double *r, double lambda,
    const double *w, double *g)
{
	double sb = 0;
	cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d, 1.0 / (double)n,
	    X, (int)d, r, 1, 0.0, g, 1);
	for (size_t j = 0; j < d; j++)
		g[j] += lambda * w[j];
	for (size_t i = 0; i < n; i++)
		sb += r[i];
	g[d] = sb / (double)n;
}

double
mrt_logreg_loss(const double *X, size_t n, size_t d, const uint8_t *y,
    double lambda, const double *w, double *grad)
{
	double *z = malloc(2 * n * sizeof *z), l;
	if (z == NULL)
		return NAN;
	mrt_logreg_predict(X, n, d, w, z);
	l = loss_z(z, y, n, d, lambda, w, grad ? z + n : NULL);
	if (grad)
		gradient(X, n, d, z + n, lambda, w, grad);
	free(z);
	return l;
}

/* Cholesky of the upper triangle of row-major H (m x m); 0 or -1. */
static int
cholesky(double *H, size_t m)
{
	for (size_t j = 0; j < m; j++) {
		double s = H[j * m + j];
		for (size_t k = 0; k < j; k++)
			s -= H[k * m + j] * H[k * m + j];
		if (!(s > 0))
			return -1;
		s = sqrt(s);
		H[j * m + j] = s;
		for (size_t i = j + 1; i < m; i++) {
			double t = H[j * m + i];
			for (size_t k = 0; k < j; k++)
				t -= H[k * m + j] * H[k * m + i];
			H[j * m + i] = t / s;
		}
	}
	return 0;
}

/* Solve U^T U x = b in place (U upper, row-major). */
static void
chol_solve(const double *U, size_t m, double *b)
{
	for (size_t i = 0; i < m; i++) {
		for (size_t k = 0; k < i; k++)
			b[i] -= U[k * m + i] * b[k];
		b[i] /= U[i * m + i];
	}
	for (size_t i = m; i-- > 0;) {
		for (size_t k = i + 1; k < m; k++)
			b[i] -= U[i * m + k] * b[k];
		b[i] /= U[i * m + i];
	}
}

static double
norm2(const double *v, size_t m)
{
	double s = 0;
	for (size_t j = 0; j < m; j++)
		s += v[j] * v[j];
	return sqrt(s);
}

int
mrt_logreg_fit(const double *X, size_t n, size_t d, const uint8_t *y,
    const mrt_logreg_opts *o, double *w, mrt_logreg_info *info)
{
	size_t m = d + 1;
	int max_iter = o->max_iter > 0 ? o->max_iter : 100;
	double tol = o->tol > 0 ? o->tol : 1e-8, lambda = o->lambda, l;
	double *z, *r, *sw, *B, *H, *g, *step, *wn;
	int err = 0, it = 0;

	memset(info, 0, sizeof *info);
	if (n == 0 || d == 0 || !(lambda >= 0))
		return MRT_EINVAL;
	z = malloc(n * sizeof *z);
	r = malloc(n * sizeof *r);
	sw = malloc(n * sizeof *sw);
	B = malloc(n * d * sizeof *B);
	H = malloc(m * m * sizeof *H);
	g = malloc(m * sizeof *g);
	step = malloc(m * sizeof *step);
	wn = malloc(m * sizeof *wn);
	if (!z || !r || !sw || !B || !H || !g || !step || !wn) {
		err = MRT_ENOMEM;
		goto out;
	}
	mrt_logreg_predict(X, n, d, w, z);
	l = loss_z(z, y, n, d, lambda, w, r);
	for (;;) {
		double sb = 0, t = 1, slope;
		if (!isfinite(l)) {
			err = MRT_ENUM;
			break;
		}
		gradient(X, n, d, r, lambda, w, g);
		info->grad_norm = norm2(g, m);
		info->loss = l;
		if (info->grad_norm <= tol || it >= max_iter)
			break;
		/* Hessian: [X^T S X / n + lambda I, X^T s / n; ., sum s / n] */
		for (size_t i = 0; i < n; i++) {
			double p = 1 / (1 + exp(-z[i]));
			sw[i] = p * (1 - p);
			sb += sw[i];
			double q = sqrt(sw[i] / (double)n);
			for (size_t j = 0; j < d; j++)
				B[i * d + j] = q * X[i * d + j];
		}
		memset(H, 0, m * m * sizeof *H);
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, (int)d, (int)n,
		    1.0, B, (int)d, 0.0, H, (int)m);
		cblas_dgemv(CblasRowMajor, CblasTrans, (int)n, (int)d,
		    1.0 / (double)n, X, (int)d, sw, 1, 0.0, step, 1);
		for (size_t j = 0; j < d; j++) {
			H[j * m + j] += lambda;
			H[j * m + d] = step[j];
		}
		/* a tiny ridge on the bias keeps H definite when all s ~ 0 */
		H[d * m + d] = sb / (double)n + 1e-12;
		if (cholesky(H, m) != 0) {
			err = MRT_ENUM;
			break;
		}
		for (size_t j = 0; j < m; j++)
			step[j] = -g[j];
		chol_solve(H, m, step);
		slope = 0;
		for (size_t j = 0; j < m; j++)
			slope += g[j] * step[j];
		/* backtracking (Armijo) on the objective */
		for (int k = 0; k < 40; k++, t *= 0.5) {
			double ln;
			for (size_t j = 0; j < m; j++)
				wn[j] = w[j] + t * step[j];
			mrt_logreg_predict(X, n, d, wn, z);
			ln = loss_z(z, y, n, d, lambda, wn, r);
			if (ln <= l + 1e-4 * t * slope || k == 39) {
				if (ln <= l) {
					memcpy(w, wn, m * sizeof *w);
					l = ln;
				} else {
					mrt_logreg_predict(X, n, d, w, z);
					loss_z(z, y, n, d, lambda, w, r);
					it++;
					goto done;
				}
				break;
			}
		}
		it++;
	}
done:
	if (err == 0 && it > 0 && info->grad_norm > tol) {
		/* the last step ran out of line search: report where we are */
		gradient(X, n, d, r, lambda, w, g);
		info->grad_norm = norm2(g, m);
		info->loss = l;
	}
	info->iters = it;
	info->converged = err == 0 && info->grad_norm <= tol;
out:
	free(z);
	free(r);
	free(sw);
	free(B);
	free(H);
	free(g);
	free(step);
	free(wn);
	return err;
}

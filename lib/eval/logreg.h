/*
 * logreg.h: L2-regularised binary logistic regression (damped Newton).
 *
 * Minimises  (1/n) sum_i log(1 + exp(-s_i (x_i.w + b))) + (lambda/2) |w|^2
 * with s_i = 2 y_i - 1; the bias b is not penalised.  X is row-major
 * [n][d] in double; w has d + 1 entries, the bias last.  The Hessian
 * X^T S X / n + lambda I comes from one BLAS syrk per step and is solved by
 * Cholesky; a backtracking line search keeps the loss decreasing.
 */
#ifndef MRT_LOGREG_H
#define MRT_LOGREG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	double lambda;   /* L2 strength (> 0 keeps the problem strictly convex) */
	int max_iter;    /* Newton steps (0: 100) */
	double tol;      /* stop when the gradient's 2-norm is below (0: 1e-8) */
} mrt_logreg_opts;

typedef struct {
	int iters;        /* Newton steps taken */
	double grad_norm; /* 2-norm of the gradient at the solution */
	double loss;      /* objective at the solution */
	int converged;    /* grad_norm <= tol */
} mrt_logreg_info;

/*
 * Fit: w holds the starting point on entry (zeros, or a warm start) and
 * the solution on return.  Returns 0 (check info->converged), MRT_EINVAL
 * (n or d zero, lambda < 0), MRT_ENUM (non-finite loss), MRT_ENOMEM.
 */
int mrt_logreg_fit(const double *X, size_t n, size_t d, const uint8_t *y,
    const mrt_logreg_opts *o, double *w, mrt_logreg_info *info);

/* The objective at w, and its gradient in grad[d + 1] when not NULL. */
double mrt_logreg_loss(const double *X, size_t n, size_t d, const uint8_t *y,
    double lambda, const double *w, double *grad);

/* Scores (log-odds) x_i.w + b for the n rows of X. */
void mrt_logreg_predict(const double *X, size_t n, size_t d, const double *w,
    double *score);

#endif

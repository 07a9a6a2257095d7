/*
 * tsne.h: exact t-SNE (van der Maaten and Hinton 2008) in double precision.
 *
 * X is row-major [n][d]; Y, the map, is row-major [n][2].  The input
 * affinities are Gaussian: row i's bandwidth is found by binary search so
 * that the conditional distribution p(.|i) has perplexity exp(H) equal to
 * the target; P = (p(j|i) + p(i|j)) / 2n is then symmetric and sums to 1.
 * The map's affinities are Student-t (one degree of freedom), and the
 * optimiser is gradient descent with momentum and per-coordinate gains,
 * with early exaggeration of P.  Time is O(n^2 (d + iterations)), memory
 * one n x n matrix of doubles (8 n^2 bytes).
 *
 * The result depends only on X, the options and the seed: every reduction
 * runs in a fixed order whatever the number of threads.
 */
#ifndef MRT_TSNE_H
#define MRT_TSNE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	double perplexity;   /* target perplexity, 0 < perplexity < n - 1 (30) */
	int iterations;      /* gradient steps (1000) */
	int exag_iters;      /* steps with exaggerated P and the first momentum (250) */
	double exaggeration; /* factor on P during those steps (12) */
	double eta;          /* learning rate; 0: max(n / exaggeration / 4, 50) */
	double momentum0;    /* momentum during the exaggerated steps (0.5) */
	double momentum1;    /* momentum after them (0.8) */
	double min_gain;     /* floor of the gains (0.01) */
	uint64_t seed;       /* the initial map: N(0, 1e-4^2) from this seed */
} mrt_tsne_opts;

/* The defaults above (seed 0). */
void mrt_tsne_opts_default(mrt_tsne_opts *o);

/* Squared Euclidean distances D[n][n] between the rows of X (diagonal 0). */
int mrt_tsne_sqdist(const double *X, size_t n, size_t d, double *D);

/*
 * One row's conditional affinities: p[j] = exp(-beta d[j]) / sum over
 * j != self, with beta chosen by binary search so that the entropy (in
 * nats) is log(perplexity) within tol.  d and p hold n entries (d[self]
 * is ignored, p[self] = 0; d and p are different arrays).  *beta and
 * *entropy receive what was reached (either may be NULL).  Returns 0,
 * MRT_EINVAL (n < 2, perplexity out of (0, n - 1)), MRT_ENUM (a distance
 * not finite), or MRT_ERANGE when the search did not reach tol (identical
 * distances: p is then uniform).
 */
int mrt_tsne_row(const double *d, size_t n, size_t self, double perplexity,
    double tol, double *p, double *beta, double *entropy);

/*
 * The joint affinities: P[n][n] symmetric, zero diagonal, summing to 1.
 * Returns 0, MRT_EINVAL, MRT_ENUM or MRT_ENOMEM; rows whose search did not
 * converge (duplicate points) are kept uniform, as mrt_tsne_row leaves them.
 */
int mrt_tsne_affinities(const double *X, size_t n, size_t d, double perplexity,
    double *P);

/*
 * The gradient of KL(P || Q) with respect to Y, P multiplied by exag
 * (1 for the true gradient):
 *   grad_i = 4 sum_j (exag p_ij - q_ij) w_ij (y_i - y_j),
 *   w_ij = 1 / (1 + |y_i - y_j|^2),  q_ij = w_ij / sum_{k != l} w_kl.
 * grad holds 2n doubles, scratch 5n.
 */
void mrt_tsne_grad(const double *P, const double *Y, size_t n, double exag,
    double *grad, double *scratch);

/* KL(P || Q) for the map Y (0 log 0 = 0). */
double mrt_tsne_kl(const double *P, const double *Y, size_t n);

/*
 * The whole method: Y[n][2] receives the map (centred at the origin).
 * Returns 0, MRT_EINVAL (n < 2, bad options), MRT_ENUM (non-finite input
 * or a map that diverged) or MRT_ENOMEM.
 */
int mrt_tsne_run(const double *X, size_t n, size_t d, const mrt_tsne_opts *o,
    double *Y);

#endif

/*
 * fd.h: the gradient tests' helpers (test_nn_layers, test_caption): random
 * and zero arrays, dot products, and fdcheck(), which compares an analytic
 * gradient with central finite differences in double.  Include after
 * check.h; the test seeds rng.
 */
#ifndef FD_H_INCLUDED
#define FD_H_INCLUDED

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/rng.h"

static mrt_rng rng __attribute__((unused));

static double *
rnd(size_t n, double scale)
{
	double *x = malloc(n * sizeof *x);
	for (size_t i = 0; i < n; i++)
		x[i] = scale * mrt_rng_normal(&rng);
	return x;
}

static double *
zeros(size_t n)
{
	return calloc(n, sizeof(double));
}

static double
dot(const double *a, const double *b, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* The loss of the layer under test as a function of its inputs. */
typedef double (*lossfn)(void *ctx);

#define FD_H   1e-5
#define FD_REL 1e-6
#define FD_ABS 1e-9

/* Compare analytic gradient g[n] of f with respect to x[n] with central
 * differences, on at most cap elements spread over x. */
static void
fdcheck(const char *what, lossfn f, void *ctx, double *x, const double *g, size_t n)
{
	double worst = 0;
	size_t step = n > 60 ? n / 60 : 1;
	for (size_t i = 0; i < n; i += step) {
		double s = x[i];
		x[i] = s + FD_H;
		double lp = f(ctx);
		x[i] = s - FD_H;
		double lm = f(ctx);
		x[i] = s;
		double num = (lp - lm) / (2 * FD_H);
		double err = fabs(num - g[i]), tol = FD_REL * fmax(fabs(num), fabs(g[i])) + FD_ABS;
		if (err > tol) {
			fprintf(stderr, "%s[%zu]: analytic %.12g numeric %.12g\n", what, i, g[i], num);
			fails++;
			return;
		}
		double rel = err / fmax(fmax(fabs(num), fabs(g[i])), 1e-12);
		if (rel > worst)
			worst = rel;
	}
	printf("  %-22s n=%-5zu worst rel err %.2e\n", what, n, worst);
}

#endif

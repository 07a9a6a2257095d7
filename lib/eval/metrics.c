/* metrics.c: AUROC with midranks, F1, thresholds, bootstrap CIs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "eval/metrics.h"
#include "core/rng.h"

static int
cmp_idx(const void *a, const void *b, void *key)
{
	const double *k = key;
	double x = k[*(const size_t *)a], y = k[*(const size_t *)b];
	if (x < y)
		return -1;
	if (x > y)
		return 1;
	/* stable by index so results never depend on qsort's order */
	return (*(const size_t *)a > *(const size_t *)b) -
	    (*(const size_t *)a < *(const size_t *)b);
}

/* Indices of score sorted ascending. */
static size_t *
argsort(const double *score, size_t n)
{
	size_t *o = malloc((n ? n : 1) * sizeof *o);
	if (o == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++)
		o[i] = i;
	qsort_r(o, n, sizeof *o, cmp_idx, (void *)score);
	return o;
}

/*
 * AUROC from scores visited in ascending order, records weighted by w
 * (NULL: 1 each).  Within a group of equal scores a positive beats the
 * negatives below the group and half of those in it (midranks).
 */
static double
auroc_sorted(const double *score, const uint8_t *label, const size_t *o,
    size_t n, const uint32_t *w)
{
	double u = 0, negbelow = 0, pos = 0;
	size_t i = 0;
	while (i < n) {
		double pg = 0, ng = 0, s = score[o[i]];
		for (; i < n && score[o[i]] == s; i++) {
			double wi = w ? w[o[i]] : 1;
			if (label[o[i]])
				pg += wi;
			else
				ng += wi;
		}
		u += pg * (negbelow + 0.5 * ng);
		negbelow += ng;
		pos += pg;
	}
	if (pos == 0 || negbelow == 0)
		return NAN;
	return u / (pos * negbelow);
}

int
mrt_metrics_auroc(const double *score, const uint8_t *label, size_t n,
    double *auc)
{
	size_t *o = argsort(score, n);
	if (o == NULL)
		return MRT_ENOMEM;
	*auc = auroc_sorted(score, label, o, n, NULL);
	free(o);
	return isnan(*auc) ? MRT_ERANGE : 0;
}

static double
f1_weighted(const double *score, const uint8_t *label, size_t n, double t,
    const uint32_t *w)
{
	double tp = 0, fp = 0, fn = 0;
	for (size_t i = 0; i < n; i++) {
		double wi = w ? w[i] : 1;
		int pred = score[i] >= t;
		if (pred && label[i])
			tp += wi;
		else if (pred)
			fp += wi;
		else if (label[i])
			fn += wi;
	}
	return 2 * tp + fp + fn > 0 ? 2 * tp / (2 * tp + fp + fn) : 0;
}

double
mrt_metrics_f1(const double *score, const uint8_t *label, size_t n, double t)
{
	return f1_weighted(score, label, n, t, NULL);
}

int
mrt_metrics_best_threshold(const double *score, const uint8_t *label,
    size_t n, double *t, double *f1)
{
	size_t *o, npos = 0, tp = 0, fp = 0;
	double best = -1;
	for (size_t i = 0; i < n; i++)
		npos += label[i] != 0;
	*t = INFINITY;
	if (f1)
		*f1 = 0;
	if (npos == 0)
		return MRT_ERANGE;
	if ((o = argsort(score, n)) == NULL)
		return MRT_ENOMEM;
	/* descending: lower the threshold one distinct score at a time */
	for (size_t k = n; k > 0;) {
		double s = score[o[k - 1]], f;
		while (k > 0 && score[o[k - 1]] == s) {
			if (label[o[k - 1]])
				tp++;
			else
				fp++;
			k--;
		}
		f = 2.0 * tp / (double)(2 * tp + fp + (npos - tp));
		if (f > best) {
			best = f;
			*t = k > 0 ? s + (score[o[k - 1]] - s) / 2 : s;
			/* a midpoint that rounds onto the lower score */
			if (k > 0 && !(*t > score[o[k - 1]]))
				*t = s;
		}
	}
	free(o);
	if (f1)
		*f1 = best;
	return 0;
}

void
mrt_metrics_eval_destroy(mrt_metrics_eval *ev)
{
	free(ev->auroc);
	free(ev->f1);
	free(ev->npos);
	free(ev->valid);
	memset(ev, 0, sizeof *ev);
}

int
mrt_metrics_evaluate(mrt_metrics_eval *ev, const double *score,
    const uint8_t *label, size_t n, size_t nclass, const double *thresh)
{
	double sa = 0, sf = 0;
	size_t m = nclass ? nclass : 1;
	memset(ev, 0, sizeof *ev);
	ev->nclass = nclass;
	ev->auroc = malloc(m * sizeof *ev->auroc);
	ev->f1 = malloc(m * sizeof *ev->f1);
	ev->npos = malloc(m * sizeof *ev->npos);
	ev->valid = malloc(m);
	if (!ev->auroc || !ev->f1 || !ev->npos || !ev->valid) {
		mrt_metrics_eval_destroy(ev);
		return MRT_ENOMEM;
	}
	for (size_t c = 0; c < nclass; c++) {
		const double *s = score + c * n;
		const uint8_t *y = label + c * n;
		size_t p = 0;
		int e;
		for (size_t i = 0; i < n; i++)
			p += y[i] != 0;
		ev->npos[c] = p;
		ev->valid[c] = p > 0 && p < n;
		ev->auroc[c] = ev->f1[c] = NAN;
		if (!ev->valid[c])
			continue;
		e = mrt_metrics_auroc(s, y, n, &ev->auroc[c]);
		if (e == MRT_ENOMEM) {
			mrt_metrics_eval_destroy(ev);
			return e;
		}
		ev->f1[c] = mrt_metrics_f1(s, y, n, thresh[c]);
		ev->nvalid++;
		sa += ev->auroc[c];
		sf += ev->f1[c];
	}
	ev->macro_auroc = ev->nvalid ? sa / ev->nvalid : NAN;
	ev->macro_f1 = ev->nvalid ? sf / ev->nvalid : NAN;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double
mrt_metrics_quantile(double *v, size_t n, double q)
{
	double h, lo;
	size_t k;
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof *v, cmp_double);
	h = q * (double)(n - 1);
	k = (size_t)floor(h);
	lo = v[k];
	return k + 1 < n ? lo + (h - (double)k) * (v[k + 1] - lo) : lo;
}

int
mrt_metrics_bootstrap(const double *score, const uint8_t *label,
    size_t n, size_t nclass, const double *thresh, size_t nrep,
    uint64_t seed, mrt_metrics_ci *auroc, mrt_metrics_ci *f1)
{
	size_t **ord = calloc(nclass ? nclass : 1, sizeof *ord);
	uint32_t *w = malloc((n ? n : 1) * sizeof *w);
	double *ra = malloc((nrep ? nrep : 1) * sizeof *ra);
	double *rf = malloc((nrep ? nrep : 1) * sizeof *rf);
	size_t na = 0, nf = 0;
	int err = 0;
	mrt_rng rng;

	if (!ord || !w || !ra || !rf) {
		err = MRT_ENOMEM;
		goto out;
	}
	for (size_t c = 0; c < nclass; c++)
		if ((ord[c] = argsort(score + c * n, n)) == NULL) {
			err = MRT_ENOMEM;
			goto out;
		}
	mrt_rng_seed(&rng, seed);
	for (size_t r = 0; r < nrep; r++) {
		double sa = 0, sf = 0;
		size_t k = 0;
		memset(w, 0, n * sizeof *w);
		for (size_t i = 0; i < n; i++)
			w[mrt_rng_below(&rng, n)]++;
		for (size_t c = 0; c < nclass; c++) {
			const double *s = score + c * n;
			double a = auroc_sorted(s, label + c * n, ord[c], n, w);
			if (isnan(a))
				continue;
			sa += a;
			sf += f1_weighted(s, label + c * n, n, thresh[c], w);
			k++;
		}
		if (k) {
			ra[na++] = sa / k;
			rf[nf++] = sf / k;
		}
	}
	auroc->nrep = na;
	auroc->lo = mrt_metrics_quantile(ra, na, 0.025);
	auroc->hi = mrt_metrics_quantile(ra, na, 0.975);
	f1->nrep = nf;
	f1->lo = mrt_metrics_quantile(rf, nf, 0.025);
	f1->hi = mrt_metrics_quantile(rf, nf, 0.975);
out:
	if (ord)
		for (size_t c = 0; c < nclass; c++)
			free(ord[c]);
	free(ord);
	free(w);
	free(ra);
	free(rf);
	return err;
}

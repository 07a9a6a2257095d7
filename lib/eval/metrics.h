/*
 * metrics.h: classification metrics for probes and zero-shot scores.
 *
 * Scores and labels are class-major: class c's values for the n records
 * are score[c * n + i] and label[c * n + i] (label 0 or 1).  A record is
 * predicted positive for a class when its score is >= the class threshold.
 */
#ifndef MRT_METRICS_H
#define MRT_METRICS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Exact AUROC (Mann-Whitney U / (P N)) with tied scores given their
 * midrank, so a tie between a positive and a negative counts one half.
 * Returns 0, MRT_ERANGE when there is no positive or no negative (*auc is
 * then NaN), MRT_ENOMEM.
 */
int mrt_metrics_auroc(const double *score, const uint8_t *label, size_t n,
    double *auc);

/* F1 = 2TP / (2TP + FP + FN) at threshold t; 0 when that is 0 / 0. */
double mrt_metrics_f1(const double *score, const uint8_t *label, size_t n,
    double t);

/*
 * The threshold maximising F1 on (validation) scores: the candidates are
 * the distinct scores, and the threshold returned is the midpoint between
 * the lowest score predicted positive and the next lower distinct score
 * (the score itself when there is none).  Among equal F1 the highest
 * threshold wins.  Without a positive, +INFINITY (predict nothing) and
 * MRT_ERANGE.  *f1 (may be NULL) gets the F1 reached.
 */
int mrt_metrics_best_threshold(const double *score, const uint8_t *label,
    size_t n, double *t, double *f1);

/* Per-class results over nclass classes. */
typedef struct {
	size_t nclass;
	double *auroc;      /* [nclass]: NaN where excluded */
	double *f1;         /* [nclass]: NaN where excluded */
	size_t *npos;       /* [nclass] positives */
	uint8_t *valid;     /* [nclass]: both positives and negatives */
	size_t nvalid;
	double macro_auroc; /* mean over valid classes (NaN if none) */
	double macro_f1;    /* mean of F1 over the same classes */
} mrt_metrics_eval;

/*
 * Evaluate class-major scores against labels with per-class thresholds
 * (F1).  Classes lacking positives or negatives are marked invalid and
 * left out of both macro averages.  Free with mrt_metrics_eval_destroy().
 */
int mrt_metrics_evaluate(mrt_metrics_eval *ev, const double *score,
    const uint8_t *label, size_t n, size_t nclass, const double *thresh);
void mrt_metrics_eval_destroy(mrt_metrics_eval *ev);

/* A percentile bootstrap interval. */
typedef struct {
	double lo, hi;      /* 2.5% and 97.5% quantiles of the replicates */
	size_t nrep;        /* replicates in which the metric was defined */
} mrt_metrics_ci;

/*
 * Bootstrap 95% CIs of macro AUROC and macro F1: nrep resamples of the n
 * records with replacement, drawn from a generator seeded with seed; in
 * each, both macros are taken over the classes that have positives and
 * negatives in the resample.  Quantiles by linear interpolation between
 * order statistics (R type 7).  Exact weighted counts, O(n) per class and
 * replicate after one sort per class.
 */
int mrt_metrics_bootstrap(const double *score, const uint8_t *label,
    size_t n, size_t nclass, const double *thresh, size_t nrep,
    uint64_t seed, mrt_metrics_ci *auroc, mrt_metrics_ci *f1);

/* The q-quantile (0..1) of v[0..n-1] (sorted in place), type 7. */
double mrt_metrics_quantile(double *v, size_t n, double q);

#endif

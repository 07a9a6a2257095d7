/*
 * probe.c: merit-eval probe, linear probes per MODEL.md.  Features are
 * standardised with the statistics of the training sample; one logistic
 * regression per class; the L2 strength is chosen on validation
 * macro-AUROC, the F1 thresholds on validation; the test fold is only
 * scored.
 */
#include <math.h>

#include "eval.h"
#include "eval/logreg.h"
#include "eval/metrics.h"
#include "core/rng.h"

#define PROBE_USAGE "merit-eval probe -t task [-s scp_statements.csv] " \
	"[-F field] [-l field] [--train folds] [--val folds] [--test folds] " \
	"[-f fractions] [-n seeds] [-S seed] [-L lambdas] [-B reps] " \
	"[-j json] [-T tsv] [-c scores] [-r roc] [-N name] [-D] " DS_RESTRICT_USAGE " [file]"

#define MAXLIST 32

struct probeopts {
	struct dsopts ds;
	struct outopts out;
	const char *roc;
	double frac[MAXLIST], lambda[MAXLIST];
	int nfrac, nlambda, seeds, max_iter, describe;
};

/* Parse "a,b,c" of numbers in (lo, hi] into v; returns the count. */
static int
num_list(const char *s, double *v, double lo, double hi, const char *what)
{
	int n = 0;
	char buf[1024], *tok, *save;
	if (strlen(s) >= sizeof buf)
		flt_die("%s: list too long", what);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == MAXLIST)
			flt_die("%s: more than %d values", what, MAXLIST);
		v[n] = flt_real(tok, lo, hi, what);
		if (!(v[n] > lo))
			flt_die("%s: must be above %g: %s", what, lo, tok);
		n++;
	}
	if (n == 0)
		flt_usage(PROBE_USAGE);
	return n;
}

static int
cmp_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x < y) - (x > y);
}

/* One probe run's results. */
struct run {
	double fraction;
	int seed;
	size_t ntrain;
	double lambda;
	double *val_auroc;          /* [nlambda] */
	struct evalres ev;
	int *iters, *converged;     /* [nclass] at the chosen lambda */
	double *grad;
	uint8_t *trained;
};

/* Standardised copy of rows idx of the features, in double. */
static double *
standardise(const struct ds *ds, const size_t *idx, size_t n,
    const double *mean, const double *sd)
{
	double *X = malloc((n * ds->d + 1) * sizeof *X);
	if (X == NULL)
		flt_die("out of memory");
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < ds->d; j++)
			X[i * ds->d + j] = (ds->x[idx[i] * ds->d + j] - mean[j]) / sd[j];
	return X;
}

static void
stats(const struct ds *ds, const size_t *idx, size_t n, double *mean,
    double *sd)
{
	for (size_t j = 0; j < ds->d; j++) {
		double s = 0, q = 0;
		for (size_t i = 0; i < n; i++)
			s += ds->x[idx[i] * ds->d + j];
		s /= (double)n;
		for (size_t i = 0; i < n; i++) {
			double t = ds->x[idx[i] * ds->d + j] - s;
			q += t * t;
		}
		mean[j] = s;
		sd[j] = sqrt(q / (double)n);
		if (!(sd[j] > 1e-12))
			sd[j] = 1;
	}
}

static void
run_probe(struct run *ru, const struct ds *ds, const struct probeopts *o,
    const size_t *itr, size_t ntr, const size_t *iv, size_t nv,
    const size_t *it, size_t nt, FILE *scores, const char *roc)
{
	size_t d = ds->d, C = ds->nclass, m, L = (size_t)o->nlambda;
	size_t *sub = malloc(ntr * sizeof *sub);
	double *mean = malloc(d * sizeof *mean), *sd = malloc(d * sizeof *sd);
	double *W, *sv, *st, *Xs, *Xv, *Xt;
	uint8_t *ys;
	mrt_logreg_info *info;
	mrt_rng rng;
	size_t best = 0;

	if (!sub || !mean || !sd)
		flt_die("out of memory");
	/* the training sample: a seeded partial Fisher-Yates shuffle */
	memcpy(sub, itr, ntr * sizeof *sub);
	m = (size_t)llround(ru->fraction * (double)ntr);
	if (m < 1)
		m = 1;
	if (m > ntr)
		m = ntr;
	mrt_rng_seed(&rng, o->out.seed * 1000003ULL + (uint64_t)ru->seed);
	if (m < ntr)
		mrt_rng_choose(&rng, sub, ntr, m, sizeof *sub);
	ru->ntrain = m;
	stats(ds, sub, m, mean, sd);
	Xs = standardise(ds, sub, m, mean, sd);
	Xv = standardise(ds, iv, nv, mean, sd);
	Xt = standardise(ds, it, nt, mean, sd);
	ys = labels_of(ds, sub, m);
	W = calloc(L * C * (d + 1), sizeof *W);
	sv = calloc(L * C * nv + 1, sizeof *sv);
	st = calloc(C * nt + 1, sizeof *st);
	info = calloc(L * C + 1, sizeof *info);
	ru->val_auroc = calloc(L, sizeof *ru->val_auroc);
	ru->trained = calloc(C + 1, 1);
	ru->iters = calloc(C + 1, sizeof *ru->iters);
	ru->converged = calloc(C + 1, sizeof *ru->converged);
	ru->grad = calloc(C + 1, sizeof *ru->grad);
	if (!W || !sv || !st || !info || !ru->val_auroc || !ru->trained ||
	    !ru->iters || !ru->converged || !ru->grad)
		flt_die("out of memory");
	for (size_t k = 0; k < C; k++) {
		size_t p = 0;
		for (size_t i = 0; i < m; i++)
			p += ys[k * m + i];
		ru->trained[k] = p > 0 && p < m;
	}
	/* lambdas strongest first, each fit warm-started from the previous */
	for (size_t l = 0; l < L; l++) {
		for (size_t k = 0; k < C; k++) {
			double *w = W + (l * C + k) * (d + 1);
			mrt_logreg_opts lo = { o->lambda[l], o->max_iter, 0 };
			int e;
			if (!ru->trained[k])
				continue;   /* constant score 0 */
			if (l > 0)
				memcpy(w, W + ((l - 1) * C + k) * (d + 1),
				    (d + 1) * sizeof *w);
			e = mrt_logreg_fit(Xs, m, d, ys + k * m, &lo, w,
			    &info[l * C + k]);
			if (e != 0)
				flt_die("class %s, lambda %g: logistic regression: %s",
				    mrt_labels_name(ds->L, k), o->lambda[l],
				    mrt_strerror(e));
			mrt_logreg_predict(Xv, nv, d, w, sv + (l * C + k) * nv);
		}
		ru->val_auroc[l] = macro_auroc_of(ds, iv, nv, sv + l * C * nv);
		if (ru->val_auroc[l] > ru->val_auroc[best] ||
		    isnan(ru->val_auroc[best]))
			best = l;
	}
	ru->lambda = o->lambda[best];
	for (size_t k = 0; k < C; k++) {
		mrt_logreg_info *in = &info[best * C + k];
		if (ru->trained[k])
			mrt_logreg_predict(Xt, nt, d, W + (best * C + k) * (d + 1),
			    st + k * nt);
		ru->iters[k] = in->iters;
		ru->grad[k] = in->grad_norm;
		ru->converged[k] = !ru->trained[k] || in->converged;
	}
	eval_scores(&ru->ev, ds, iv, nv, sv + best * C * nv, it, nt, st,
	    o->out.nboot, o->out.seed);
	if (roc)
		roc_write(roc, ds, it, nt, st);
	if (scores) {
		double *s0 = calloc(C * ntr + 1, sizeof *s0);
		double *Xa = standardise(ds, itr, ntr, mean, sd);
		if (s0 == NULL)
			flt_die("out of memory");
		for (size_t k = 0; k < C; k++)
			if (ru->trained[k])
				mrt_logreg_predict(Xa, ntr, d,
				    W + (best * C + k) * (d + 1), s0 + k * ntr);
		scores_rows(scores, ds, itr, ntr, s0, SPLIT_TRAIN);
		scores_rows(scores, ds, iv, nv, sv + best * C * nv, SPLIT_VAL);
		scores_rows(scores, ds, it, nt, st, SPLIT_TEST);
		free(s0);
		free(Xa);
	}
	free(sub);
	free(mean);
	free(sd);
	free(Xs);
	free(Xv);
	free(Xt);
	free(ys);
	free(W);
	free(sv);
	free(st);
	free(info);
}

static void
run_free(struct run *ru)
{
	evalres_free(&ru->ev);
	free(ru->val_auroc);
	free(ru->trained);
	free(ru->iters);
	free(ru->converged);
	free(ru->grad);
}

static json_t *
run_json(const struct run *ru, const struct ds *ds, const struct probeopts *o)
{
	json_t *cl = json_array(), *va = json_array(), *ex = json_array();
	for (int l = 0; l < o->nlambda; l++)
		json_array_append_new(va, json_pack("{s:f, s:o}", "lambda",
		    o->lambda[l], "val_macro_auroc", json_num(ru->val_auroc[l])));
	for (size_t k = 0; k < ds->nclass; k++) {
		const char *name = mrt_labels_name(ds->L, k);
		json_array_append_new(cl, json_pack(
		    "{s:s, s:I, s:o, s:o, s:o, s:b, s:b, s:i, s:o, s:b}",
		    "name", name, "test_pos", (json_int_t)ru->ev.npos[k],
		    "auroc", json_num(ru->ev.auroc[k]), "f1", json_num(ru->ev.f1[k]),
		    "threshold", json_num(ru->ev.thresh[k]),
		    "val_has_positive", ru->ev.valthresh[k],
		    "trained", ru->trained[k], "iters", ru->iters[k],
		    "grad_norm", json_num(ru->grad[k]),
		    "converged", ru->converged[k]));
		if (!ru->ev.valid[k])
			json_array_append_new(ex, json_string(name));
	}
	return json_pack("{s:f, s:i, s:I, s:f, s:o, s:{s:o, s:[o, o], s:o, s:[o, o]}, "
	    "s:o, s:o}",
	    "fraction", ru->fraction, "seed", ru->seed,
	    "n_train", (json_int_t)ru->ntrain, "lambda", ru->lambda,
	    "lambda_grid", va,
	    "test", "macro_auroc", json_num(ru->ev.macro_auroc),
	    "auroc_ci", json_num(ru->ev.auroc_lo), json_num(ru->ev.auroc_hi),
	    "macro_f1", json_num(ru->ev.macro_f1),
	    "f1_ci", json_num(ru->ev.f1_lo), json_num(ru->ev.f1_hi),
	    "classes", cl, "excluded", ex);
}

static void
mean_sd(const double *v, int n, double *mean, double *sd)
{
	double s = 0, q = 0;
	for (int i = 0; i < n; i++)
		s += v[i];
	s /= n;
	for (int i = 0; i < n; i++)
		q += (v[i] - s) * (v[i] - s);
	*mean = s;
	*sd = n > 1 ? sqrt(q / (n - 1)) : NAN;
}

static void
setting_name(double f, char *buf, size_t cap)
{
	snprintf(buf, cap, "%g%%", f * 100);
}

int
cmd_probe(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "task", 1, 0, 't' }, { "scp", 1, 0, 's' },
		{ "features", 1, 0, 'F' }, { "labels", 1, 0, 'l' },
		{ "train", 1, 0, 1 }, { "val", 1, 0, 2 }, { "test", 1, 0, 3 },
		{ "fraction", 1, 0, 'f' }, { "seeds", 1, 0, 'n' },
		{ "seed", 1, 0, 'S' }, { "lambdas", 1, 0, 'L' },
		{ "bootstrap", 1, 0, 'B' }, { "json", 1, 0, 'j' },
		{ "tsv", 1, 0, 'T' }, { "scores", 1, 0, 'c' },
		{ "name", 1, 0, 'N' }, { "describe", 0, 0, 'D' },
		{ "max-iter", 1, 0, 4 }, { "roc", 1, 0, 'r' }, DS_RESTRICT_OPTIONS,
		{ 0, 0, 0, 0 }
	};
	struct probeopts o = { 0 };
	struct ds ds;
	size_t ntr, nv, nt, nruns = 0;
	size_t *itr, *iv, *it;
	struct run *runs;
	json_t *root, *jruns, *summ;
	FILE *scores = NULL;
	const char *task = NULL;
	int c, lastf;
	char b1[256], b2[256], b3[256];

	ds_opts_init(&o.ds);
	o.out.nboot = 1000;
	o.out.seed = 1;
	o.seeds = 3;
	o.max_iter = 100;
	o.nfrac = num_list("0.01,0.1,1", o.frac, 0, 1, "fraction");
	o.nlambda = num_list("1,0.1,0.01,0.001,0.0001,0.00001", o.lambda, 0,
	    1e6, "lambdas");
	while ((c = getopt_long(argc, argv, "t:s:F:l:f:n:S:L:B:j:T:c:r:N:D", lo,
	    NULL)) != -1)
		switch (c) {
		case 't': task = optarg; break;
		case 's': o.ds.scp = optarg; break;
		case 'F': o.ds.feat = optarg; break;
		case 'l': o.ds.labfield = optarg; break;
		case 1: o.ds.folds[SPLIT_TRAIN] = ds_folds(optarg, "train"); break;
		case 2: o.ds.folds[SPLIT_VAL] = ds_folds(optarg, "val"); break;
		case 3: o.ds.folds[SPLIT_TEST] = ds_folds(optarg, "test"); break;
		case 'f': o.nfrac = num_list(optarg, o.frac, 0, 1, "fraction"); break;
		case 'n': o.seeds = (int)flt_num(optarg, 1, 100, "seeds"); break;
		case 'S': o.out.seed = (uint64_t)flt_num(optarg, 0, INT64_MAX, "seed"); break;
		case 'L': o.nlambda = num_list(optarg, o.lambda, 0, 1e6, "lambdas"); break;
		case 'B': o.out.nboot = (size_t)flt_num(optarg, 1, 1000000, "bootstrap"); break;
		case 'j': o.out.json = optarg; break;
		case 'T': o.out.tsv = optarg; break;
		case 'c': o.out.scores = optarg; break;
		case 'r': o.roc = optarg; break;
		case 'N': o.out.name = optarg; break;
		case 'D': o.describe = 1; break;
		case 4: o.max_iter = (int)flt_num(optarg, 1, 10000, "max-iter"); break;
		case OPT_CODES: case OPT_EXCLUDE_CODES: case OPT_TASK_NAME:
			ds_restrict_opt(&o.ds, c, optarg);
			break;
		default: flt_usage(PROBE_USAGE);
		}
	if (task == NULL)
		flt_usage(PROBE_USAGE);
	if ((o.ds.task = mrt_labels_task_parse(task)) < 0)
		flt_die("unknown task %s (ptbxl-super, ptbxl-sub, ptbxl-form, "
		    "ptbxl-rhythm, ptbxl-all, codes)", task);
	task = ds_task_name(&o.ds, task);
	for (int a = 0; a < NSPLIT; a++)
		for (int b = a + 1; b < NSPLIT; b++)
			if (o.ds.folds[a] & o.ds.folds[b])
				flt_die("the %s and %s folds overlap", split_names[a],
				    split_names[b]);
	o.ds.in = flt_input(argc, argv, PROBE_USAGE);
	qsort(o.lambda, (size_t)o.nlambda, sizeof *o.lambda, cmp_desc);
	if (o.out.name == NULL)
		o.out.name = strcmp(o.ds.in, "-") ? o.ds.in : "stdin";

	ds_load(&ds, &o.ds);
	itr = ds_split(&ds, SPLIT_TRAIN, &ntr);
	iv = ds_split(&ds, SPLIT_VAL, &nv);
	it = ds_split(&ds, SPLIT_TEST, &nt);
	for (int s = 0; s < NSPLIT; s++)
		if ((s == SPLIT_TRAIN ? ntr : s == SPLIT_VAL ? nv : nt) == 0)
			flt_die("%s: no record in the %s folds (%s)", o.ds.in,
			    split_names[s], ds_folds_str(o.ds.folds[s], b1, sizeof b1));
	if (o.describe)
		describe_table(&ds);
	if (o.out.scores)
		scores = scores_open(o.out.scores);

	/* the largest fraction last, so its first run writes the scores */
	qsort(o.frac, (size_t)o.nfrac, sizeof *o.frac, cmp_desc);
	runs = calloc((size_t)(o.nfrac * o.seeds), sizeof *runs);
	if (runs == NULL)
		flt_die("out of memory");
	for (int f = o.nfrac - 1; f >= 0; f--) {
		int ns = o.frac[f] < 1 ? o.seeds : 1;
		for (int s = 0; s < ns; s++) {
			struct run *ru = &runs[nruns++];
			ru->fraction = o.frac[f];
			ru->seed = s + 1;
			run_probe(ru, &ds, &o, itr, ntr, iv, nv, it, nt,
			    f == 0 && s == 0 ? scores : NULL,
			    f == 0 && s == 0 ? o.roc : NULL);
		}
	}
	if (scores) {
		out_commit(scores, o.out.scores);
	}

	/* report */
	printf("task %s, features %s (%zu-d), %zu classes; train %zu (folds %s), "
	    "val %zu (%s), test %zu (%s); %zu records without a label of the "
	    "task dropped\n", task, o.ds.feat, ds.d, ds.nclass,
	    ntr, ds_folds_str(o.ds.folds[SPLIT_TRAIN], b1, sizeof b1),
	    nv, ds_folds_str(o.ds.folds[SPLIT_VAL], b2, sizeof b2),
	    nt, ds_folds_str(o.ds.folds[SPLIT_TEST], b3, sizeof b3), ds.dropped);
	printf("%-8s %4s %8s %9s  %-28s %-28s %6s %9s\n", "fraction", "runs",
	    "lambda", "val AUROC", "test macro AUROC [95% CI]",
	    "test macro F1 [95% CI]", "iters", "max|grad|");
	root = json_object();
	jruns = json_array();
	summ = json_array();
	lastf = -1;
	for (size_t r0 = 0; r0 < nruns;) {
		size_t r1 = r0;
		double va[MAXLIST * 100], fa[MAXLIST * 100], ma, sa, mf, sf;
		double alo = 0, ahi = 0, flo = 0, fhi = 0, gmax = 0;
		int itmax = 0, nc = 0, k;
		char set[32], ca[64], cf[64];
		while (r1 < nruns && runs[r1].fraction == runs[r0].fraction)
			r1++;
		k = (int)(r1 - r0);
		for (size_t r = r0; r < r1; r++) {
			va[r - r0] = runs[r].ev.macro_auroc;
			fa[r - r0] = runs[r].ev.macro_f1;
			alo += runs[r].ev.auroc_lo / k;
			ahi += runs[r].ev.auroc_hi / k;
			flo += runs[r].ev.f1_lo / k;
			fhi += runs[r].ev.f1_hi / k;
			for (size_t q = 0; q < ds.nclass; q++) {
				if (runs[r].iters[q] > itmax)
					itmax = runs[r].iters[q];
				if (runs[r].grad[q] > gmax)
					gmax = runs[r].grad[q];
				nc += !runs[r].converged[q];
			}
			json_array_append_new(jruns, run_json(&runs[r], &ds, &o));
		}
		mean_sd(va, k, &ma, &sa);
		mean_sd(fa, k, &mf, &sf);
		setting_name(runs[r0].fraction, set, sizeof set);
		if (k > 1) {
			snprintf(ca, sizeof ca, "%.4f ± %.4f", ma, sa);
			snprintf(cf, sizeof cf, "%.4f ± %.4f", mf, sf);
		} else {
			snprintf(ca, sizeof ca, "%.4f [%.4f, %.4f]", ma, alo, ahi);
			snprintf(cf, sizeof cf, "%.4f [%.4f, %.4f]", mf, flo, fhi);
		}
		printf("%-8s %4d %8.0e %9.4f  %-28s %-28s %6d %9.1e\n", set, k,
		    runs[r0].lambda, runs[r0].ev.val_macro_auroc,
		    ca, cf, itmax, gmax);
		if (nc)
			flt_warn("%s: %d logistic regressions did not converge "
			    "(gradient norm up to %.1e)", set, nc, gmax);
		json_array_append_new(summ, summary_row(task, set, "AUROC", ma,
		    alo, ahi, sa, k));
		json_array_append_new(summ, summary_row(task, set, "F1", mf,
		    flo, fhi, sf, k));
		lastf = (int)r0;
		r0 = r1;
	}
	/* per class: the first run of the largest fraction */
	if (lastf >= 0) {
		const struct run *ru = &runs[lastf];
		printf("\nper class (%g%% of the training folds, seed %d, lambda %g):\n",
		    ru->fraction * 100, ru->seed, ru->lambda);
		print_classes(&ds, &ru->ev, ru->trained, ru->iters, ru->grad);
	}
	{
		json_t *cls = json_array();
		for (size_t k = 0; k < ds.nclass; k++)
			json_array_append_new(cls, json_string(mrt_labels_name(ds.L, k)));
		json_object_set_new(root, "merit-eval", json_integer(1));
		json_object_set_new(root, "kind", json_string("probe"));
		json_object_set_new(root, "model", json_string(o.out.name));
		json_object_set_new(root, "task", json_string(task));
		ds_task_json(root, &o.ds);
		json_object_set_new(root, "features", json_string(o.ds.feat));
		json_object_set_new(root, "dim", json_integer((json_int_t)ds.d));
		json_object_set_new(root, "classes", cls);
		json_object_set_new(root, "records", json_pack("{s:I, s:I, s:I, s:I}",
		    "train", (json_int_t)ntr, "val", (json_int_t)nv,
		    "test", (json_int_t)nt, "dropped", (json_int_t)ds.dropped));
		json_object_set_new(root, "folds", json_pack("{s:s, s:s, s:s}",
		    "train", ds_folds_str(o.ds.folds[SPLIT_TRAIN], b1, sizeof b1),
		    "val", ds_folds_str(o.ds.folds[SPLIT_VAL], b2, sizeof b2),
		    "test", ds_folds_str(o.ds.folds[SPLIT_TEST], b3, sizeof b3)));
		json_object_set_new(root, "bootstrap", json_integer((json_int_t)o.out.nboot));
		json_object_set_new(root, "seed", json_integer((json_int_t)o.out.seed));
		json_object_set_new(root, "runs", jruns);
		json_object_set_new(root, "summary", summ);
	}
	if (o.out.json)
		write_json(root, o.out.json);
	if (o.out.tsv)
		write_tsv(root, o.out.tsv);
	json_decref(root);
	for (size_t r = 0; r < nruns; r++)
		run_free(&runs[r]);
	free(runs);
	free(itr);
	free(iv);
	free(it);
	ds_free(&ds);
	return finish_stdout();
}

/* scores.c: metrics of class scores; JSON, TSV and score files. */
#include <math.h>

#include "eval.h"
#include "eval/metrics.h"

uint8_t *
labels_of(const struct ds *ds, const size_t *idx, size_t n)
{
	uint8_t *y = malloc(ds->nclass * n + 1);
	if (y == NULL)
		flt_die("out of memory");
	for (size_t k = 0; k < ds->nclass; k++)
		for (size_t i = 0; i < n; i++)
			y[k * n + i] = ds->y[k * ds->n + idx[i]];
	return y;
}

double
macro_auroc_of(const struct ds *ds, const size_t *idx, size_t n,
    const double *s)
{
	uint8_t *y = labels_of(ds, idx, n);
	double sum = 0;
	size_t m = 0;
	for (size_t k = 0; k < ds->nclass; k++) {
		double a;
		int e = mrt_metrics_auroc(s + k * n, y + k * n, n, &a);
		if (e == MRT_ENOMEM)
			flt_die("out of memory");
		if (e == 0) {
			sum += a;
			m++;
		}
	}
	free(y);
	return m ? sum / m : NAN;
}

void
eval_scores(struct evalres *r, const struct ds *ds,
    const size_t *iv, size_t nv, const double *sv,
    const size_t *it, size_t nt, const double *st,
    size_t nboot, uint64_t seed)
{
	uint8_t *yv = labels_of(ds, iv, nv), *yt = labels_of(ds, it, nt);
	size_t C = ds->nclass;
	mrt_metrics_eval ev;
	mrt_metrics_ci ca, cf;

	memset(r, 0, sizeof *r);
	r->nclass = C;
	r->thresh = malloc((C + 1) * sizeof *r->thresh);
	r->valthresh = malloc(C + 1);
	if (!r->thresh || !r->valthresh)
		flt_die("out of memory");
	for (size_t k = 0; k < C; k++) {
		int e = mrt_metrics_best_threshold(sv + k * nv, yv + k * nv, nv,
		    &r->thresh[k], NULL);
		if (e == MRT_ENOMEM)
			flt_die("out of memory");
		r->valthresh[k] = e == 0;
	}
	r->val_macro_auroc = macro_auroc_of(ds, iv, nv, sv);
	if (mrt_metrics_evaluate(&ev, st, yt, nt, C, r->thresh) != 0 ||
	    mrt_metrics_bootstrap(st, yt, nt, C, r->thresh, nboot, seed,
	    &ca, &cf) != 0)
		flt_die("out of memory");
	r->macro_auroc = ev.macro_auroc;
	r->macro_f1 = ev.macro_f1;
	r->auroc = ev.auroc;
	r->f1 = ev.f1;
	r->npos = ev.npos;
	r->valid = ev.valid;
	r->auroc_lo = ca.lo;
	r->auroc_hi = ca.hi;
	r->f1_lo = cf.lo;
	r->f1_hi = cf.hi;
	free(yv);
	free(yt);
}

void
evalres_free(struct evalres *r)
{
	free(r->auroc);
	free(r->f1);
	free(r->npos);
	free(r->valid);
	free(r->thresh);
	free(r->valthresh);
	memset(r, 0, sizeof *r);
}

json_t *
json_num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

json_t *
summary_row(const char *task, const char *setting, const char *metric,
    double value, double lo, double hi, double sd, int runs)
{
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:i}",
	    "task", task, "setting", setting, "metric", metric,
	    "value", json_num(value), "lo", json_num(lo), "hi", json_num(hi),
	    "sd", json_num(sd), "runs", runs);
}

void
write_json(json_t *root, const char *path)
{
	FILE *f = flt_out_open(path, 1);
	if (json_dumpf(root, f, JSON_INDENT(1) | JSON_REAL_PRECISION(17)) != 0 ||
	    fputc('\n', f) == EOF)
		flt_die("%s: %s", path, strerror(errno));
	flt_out_commit(f, path);
}

static void
tsv_num(FILE *f, json_t *v)
{
	if (json_is_number(v))
		fprintf(f, "\t%.17g", json_number_value(v));
	else
		fputs("\tNA", f);
}

void
write_tsv(json_t *root, const char *path)
{
	FILE *f = flt_out_open(path, 1);
	json_t *rows = json_object_get(root, "summary"), *row;
	size_t i;
	fprintf(f, "model\ttask\tsetting\tmetric\tvalue\tlo\thi\tsd\truns\n");
	json_array_foreach(rows, i, row) {
		fprintf(f, "%s\t%s\t%s\t%s",
		    json_string_value(json_object_get(root, "model")),
		    json_string_value(json_object_get(row, "task")),
		    json_string_value(json_object_get(row, "setting")),
		    json_string_value(json_object_get(row, "metric")));
		tsv_num(f, json_object_get(row, "value"));
		tsv_num(f, json_object_get(row, "lo"));
		tsv_num(f, json_object_get(row, "hi"));
		tsv_num(f, json_object_get(row, "sd"));
		fprintf(f, "\t%lld\n",
		    (long long)json_integer_value(json_object_get(row, "runs")));
	}
	if (ferror(f))
		flt_die("%s: %s", path, strerror(errno));
	flt_out_commit(f, path);
}

FILE *
scores_open(const char *path)
{
	FILE *f = flt_out_open(path, 1);
	fprintf(f, "id\tclass\tsplit\tlabel\tscore\n");
	return f;
}

void
scores_rows(FILE *f, const struct ds *ds, const size_t *idx, size_t n,
    const double *s, int split)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < ds->nclass; k++)
			fprintf(f, "%s\t%s\t%s\t%d\t%.17g\n", ds->id[idx[i]],
			    mrt_labels_name(ds->L, k), split_names[split],
			    ds->y[k * ds->n + idx[i]], s[k * n + i]);
}

void
print_classes(const struct ds *ds, const struct evalres *r,
    const uint8_t *trained, const int *iters, const double *grad)
{
	printf("%-12s %8s %8s %8s %10s", "class", "test pos", "AUROC", "F1",
	    "threshold");
	if (iters)
		printf(" %6s %9s", "iters", "|grad|");
	printf("\n");
	for (size_t k = 0; k < ds->nclass; k++) {
		printf("%-12s %8zu ", mrt_labels_name(ds->L, k), r->npos[k]);
		if (r->valid[k])
			printf("%8.4f %8.4f", r->auroc[k], r->f1[k]);
		else
			printf("%8s %8s", "-", "-");
		printf(" %10.4g", r->thresh[k]);
		if (iters)
			printf(" %6d %9.1e", iters[k], grad[k]);
		printf("%s%s%s\n",
		    r->valid[k] ? "" : "  excluded: test lacks positives or negatives",
		    !trained || trained[k] ? "" :
		    "  untrained: training sample lacks positives or negatives",
		    r->valthresh[k] ? "" : "  no validation positive");
	}
}

/* Records by score, highest first (ties in any order: a tie is one step). */
static const double *roc_s;

static int
roc_cmp(const void *a, const void *b)
{
	double x = roc_s[*(const size_t *)a], y = roc_s[*(const size_t *)b];
	return (x < y) - (x > y);
}

void
roc_write(const char *path, const struct ds *ds, const size_t *it, size_t nt,
    const double *st)
{
	FILE *f = flt_out_open(path, 1);
	uint8_t *y = labels_of(ds, it, nt);
	size_t *ord = malloc((nt + 1) * sizeof *ord), blocks = 0;
	if (ord == NULL)
		flt_die("out of memory");
	fprintf(f, "class\tfpr\ttpr\n");
	for (size_t k = 0; k < ds->nclass; k++) {
		const double *s = st + k * nt;
		const uint8_t *yk = y + k * nt;
		const char *name = mrt_labels_name(ds->L, k);
		size_t P = 0, N, tp = 0, fp = 0;
		for (size_t i = 0; i < nt; i++)
			P += yk[i];
		N = nt - P;
		if (P == 0 || N == 0)
			continue;   /* no curve: excluded from the macros too */
		for (size_t i = 0; i < nt; i++)
			ord[i] = i;
		roc_s = s;
		qsort(ord, nt, sizeof *ord, roc_cmp);
		fprintf(f, "%s%s\t0\t0\n", blocks++ ? "\n\n" : "", name);
		for (size_t i = 0; i < nt;) {
			size_t j = i;
			/* every record with this score passes the threshold together */
			while (j < nt && s[ord[j]] == s[ord[i]]) {
				tp += yk[ord[j]];
				fp += !yk[ord[j]];
				j++;
			}
			fprintf(f, "%s\t%.17g\t%.17g\n", name, (double)fp / (double)N,
			    (double)tp / (double)P);
			i = j;
		}
	}
	free(ord);
	free(y);
	flt_out_commit(f, path);
}

/*
 * retrieval.c: merit-eval retrieval, ECG -> report and report -> ECG
 * recall@1/5/10 among the test-fold records, from the e and t fields of
 * the same records (cosine similarity).  An exact tie with the true pair
 * counts for the query: identical reports have identical embeddings.
 */
#include <math.h>
#include <cblas.h>

#include "eval.h"
#include "eval/metrics.h"
#include "core/rng.h"

#define RETR_USAGE "merit-eval retrieval [-e field] [-t field] [--test folds] " \
	"[-B reps] [-s seed] [-j json] [-T tsv] [-N name] [file]"

static const int ks[3] = { 1, 5, 10 };

/* Read field of the current record into dst[d], L2-normalised. */
static void
read_vec(mrt_reader *r, const char *path, const msgpack_object *rec,
    const char *field, float *dst, size_t *d)
{
	const msgpack_object *fo = mrt_rec_get(rec, field);
	mrt_tensor t;
	double s = 0;
	if (fo == NULL)
		flt_die_rec(r, path, "no feature field %s", field);
	if (mrt_obj_tensor(fo, &t) != 0)
		flt_die_rec(r, path, "field %s is not a tensor", field);
	if (*d == 0 && t.n > 0)
		*d = (size_t)t.n;
	if ((size_t)t.n != *d)
		flt_die_rec(r, path, "feature %s has %lld values, earlier records %zu",
		    field, (long long)t.n, *d);
	mrt_tensor_to_f32(&t, dst);
	for (size_t j = 0; j < *d; j++) {
		if (!isfinite(dst[j]))
			flt_die_rec(r, path, "feature %s[%zu] is not finite", field, j);
		s += (double)dst[j] * dst[j];
	}
	s = sqrt(s);
	for (size_t j = 0; j < *d; j++)
		dst[j] = (float)(dst[j] / (s > 1e-12 ? s : 1e-12));
}

int
cmd_retrieval(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ecg", 1, 0, 'e' }, { "text", 1, 0, 't' }, { "test", 1, 0, O_TEST },
		{ "bootstrap", 1, 0, 'B' }, FLT_OPT_SEED,
		{ "json", 1, 0, 'j' }, { "tsv", 1, 0, 'T' }, { "name", 1, 0, 'N' },
		FLT_OPT_END
	};
	const char *fe = "e", *ft = "t", *in;
	struct outopts out = { .nboot = 1000, .seed = 1 };
	uint64_t folds = 1ULL << 10;
	float *E = NULL, *T = NULL, *S;
	size_t n = 0, cap = 0, de = 0, dt = 0;
	uint8_t *hit[2][3];
	mrt_reader *r;
	FILE *inf;
	const msgpack_object *rec;
	json_t *root, *summ;
	int c;
	char b[256];

	while ((c = flt_getopt(argc, argv, "e:t:B:s:S:j:T:N:", lo, RETR_USAGE)) != -1)
		switch (c) {
		case 'e': fe = optarg; break;
		case 't': ft = optarg; break;
		case O_TEST: folds = ds_folds(optarg, "test"); break;
		case 'B': out.nboot = (size_t)flt_num(optarg, 1, 1000000, "bootstrap"); break;
		case 's': case 'S': out.seed = (uint64_t)flt_num(optarg, 0, INT64_MAX, "seed"); break;
		case 'j': out.json = optarg; break;
		case 'T': out.tsv = optarg; break;
		case 'N': out.name = optarg; break;
		default: flt_usage(RETR_USAGE);
		}
	in = flt_input(argc, argv, RETR_USAGE);
	if (out.name == NULL)
		out.name = strcmp(in, "-") ? in : "stdin";
	r = flt_reader(in, &inf);
	while ((rec = flt_next(r, in)) != NULL) {
		int64_t fold;
		if (mrt_rec_int(rec, "fold", &fold) != 0)
			flt_die_rec(r, in, "no integer field fold");
		if (fold < 0 || fold > 63 || !((folds >> fold) & 1))
			continue;
		if (n == 0) {
			/* the first record fixes the sizes */
			mrt_tensor te, tt;
			if (mrt_rec_tensor(rec, fe, &te) == 0)
				de = (size_t)te.n;
			if (mrt_rec_tensor(rec, ft, &tt) == 0)
				dt = (size_t)tt.n;
			if (de == 0 || dt == 0)
				de = dt = 1;    /* read_vec names the problem */
		}
		if (n == cap) {
			cap = cap ? 2 * cap : 1024;
			E = realloc(E, cap * de * sizeof *E);
			T = realloc(T, cap * dt * sizeof *T);
			if (!E || !T)
				flt_die("out of memory");
		}
		read_vec(r, in, rec, fe, E + n * de, &de);
		read_vec(r, in, rec, ft, T + n * dt, &dt);
		if (de != dt)
			flt_die_rec(r, in, "%s has %zu values and %s %zu", fe, de, ft, dt);
		n++;
	}
	flt_reader_done(r, inf);
	if (n < 2)
		flt_die("%s: %zu records in the test folds (%s), need 2", in, n,
		    ds_folds_str(folds, b, sizeof b));
	if ((S = malloc(n * n * sizeof *S)) == NULL)
		flt_die("out of memory");
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)n,
	    (int)de, 1.0f, E, (int)de, T, (int)dt, 0.0f, S, (int)n);
	for (int dir = 0; dir < 2; dir++)
		for (int k = 0; k < 3; k++)
			if ((hit[dir][k] = calloc(n, 1)) == NULL)
				flt_die("out of memory");
	for (size_t i = 0; i < n; i++) {
		size_t re = 0, rt = 0;
		float sii = S[i * n + i];
		for (size_t j = 0; j < n; j++) {
			re += S[i * n + j] > sii;   /* ECG i -> reports */
			rt += S[j * n + i] > sii;   /* report i -> ECGs */
		}
		for (int k = 0; k < 3; k++) {
			hit[0][k][i] = re < (size_t)ks[k];
			hit[1][k][i] = rt < (size_t)ks[k];
		}
	}
	printf("retrieval among %zu records of folds %s (%s, %s, %zu-d)\n", n,
	    ds_folds_str(folds, b, sizeof b), fe, ft, de);
	printf("%-14s %-26s %-26s %-26s\n", "direction", "R@1 [95% CI]",
	    "R@5 [95% CI]", "R@10 [95% CI]");
	summ = json_array();
	for (int dir = 0; dir < 2; dir++) {
		const char *name = dir ? "report->ECG" : "ECG->report";
		printf("%-14s", name);
		for (int k = 0; k < 3; k++) {
			double m = 0, *rep = malloc(out.nboot * sizeof *rep), lo, hi;
			mrt_rng g;
			char metric[64];
			if (rep == NULL)
				flt_die("out of memory");
			for (size_t i = 0; i < n; i++)
				m += hit[dir][k][i];
			m /= (double)n;
			mrt_rng_seed(&g, out.seed);
			for (size_t q = 0; q < out.nboot; q++) {
				size_t h = 0;
				for (size_t i = 0; i < n; i++)
					h += hit[dir][k][mrt_rng_below(&g, n)];
				rep[q] = (double)h / (double)n;
			}
			lo = mrt_metrics_quantile(rep, out.nboot, 0.025);
			hi = mrt_metrics_quantile(rep, out.nboot, 0.975);
			free(rep);
			printf(" %.4f [%.4f, %.4f]     ", m, lo, hi);
			snprintf(metric, sizeof metric, "R@%d", ks[k]);
			json_array_append_new(summ, summary_row("retrieval", name, metric,
			    m, lo, hi, NAN, 1));
			free(hit[dir][k]);
		}
		printf("\n");
	}
	root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:s, s:o}",
	    "merit-eval", 1, "kind", "retrieval", "model", out.name,
	    "ecg", fe, "text", ft, "records", (json_int_t)n,
	    "folds", ds_folds_str(folds, b, sizeof b), "summary", summ);
	if (out.json)
		write_json(root, out.json);
	if (out.tsv)
		write_tsv(root, out.tsv);
	json_decref(root);
	free(E);
	free(T);
	free(S);
	flt_out_commit(stdout, NULL);
	return 0;
}

/*
 * generate.c: merit-eval generate, generated report text (field gen, from
 * a caption model) scored against the reference report of the same record
 * on the test folds: BLEU-1..4, METEOR, ROUGE-L, CIDEr-D
 * (lib/eval/textmetrics.h), with METEOR's stems and synonyms from
 * lib/text (Porter, WordNet); and finding-level precision, recall and F1
 * of the findings the generated text states (findings_of) against the
 * record's true findings.  Bootstrap 95% CIs resample records and
 * recompute every corpus-level metric, the same resamples for all.
 */
#include <math.h>

#include "eval.h"
#include "core/rng.h"
#include "eval/metrics.h"
#include "eval/textmetrics.h"
#include "synth/findings.h"
#include "synth/report.h"
#include "text/bpe.h"
#include "text/porter.h"
#include "text/wordnet.h"

#define GEN_USAGE "merit-eval generate [--gen field] [--ref field] " \
	"[--findings field] [--silent codes] [--wordnet dir] [--test folds] " \
	"[-B reps] [-s seed] [-j json] [-T tsv] [-c scores] [--tokens file] " \
	"[-N name] [file]"

/* Finding-level settings: every code, and the --silent codes. */
enum { SET_ALL, SET_SILENT, NSET };
static const char *const set_names[NSET] = { "findings", "silent" };
enum { F_MICRO_P, F_MICRO_R, F_MICRO_F1, F_MACRO_P, F_MACRO_R, F_MACRO_F1, NF };
static const char *const f_names[NF] = {
	"micro-P", "micro-R", "micro-F1", "macro-P", "macro-R", "macro-F1",
};

struct gopts {
	const char *gen, *ref, *findings, *wordnet, *tokens;
	uint32_t silent;
	uint64_t folds;
	struct outopts out;
};

/* The records read. */
struct gdata {
	size_t n, cap;
	char **id;
	uint32_t *truth, *pred, *refpred;   /* finding masks (findings read) */
	int has_findings;                   /* -1 not yet known, 0, 1 */
	mrt_tm_corpus *tc;
};

/* file scope: reachable when flt_die() exits */
static mrt_wordnet *wn;

/*
 * The findings a report text states, as a finding mask: the one place the
 * finding-level scores depend on how text is read.
 */
static uint32_t
findings_of(const char *text, size_t n)
{
	char *s = strndup(text, n);   /* mrt_report_parse reads a C string */
	uint32_t m;
	if (s == NULL)
		flt_die("out of memory");
	m = mrt_report_parse(s);
	free(s);
	return m;
}

static void
parse_silent(struct gopts *o, const char *s)
{
	const char *p = s;
	o->silent = 0;
	while (*p) {
		size_t n = strcspn(p, ",");
		int c = mrt_synth_code_parse(p, n);
		if (c < 0)
			flt_die("--silent: %.*s is not a finding code (see ecg-synth(1))",
			    (int)n, p);
		o->silent |= MRT_SYNTH_BIT(c);
		p += n;
		if (*p == ',')
			p++;
	}
	if (o->silent == 0)
		flt_die("--silent: no finding code in \"%s\"", s);
}

/* The finding mask of a field holding codes (an array of strings, or a
 * map with codes as keys); codes outside the vocabulary are not counted. */
static uint32_t
read_codes(mrt_reader *r, const char *path, const msgpack_object *o,
    const char *field)
{
	uint32_t m = 0;
	uint32_t n = o->type == MSGPACK_OBJECT_ARRAY ? o->via.array.size :
	    o->type == MSGPACK_OBJECT_MAP ? o->via.map.size : 0;
	if (o->type != MSGPACK_OBJECT_ARRAY && o->type != MSGPACK_OBJECT_MAP)
		flt_die_rec(r, path, "field %s is not an array or a map of codes", field);
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *k = o->type == MSGPACK_OBJECT_ARRAY ?
		    &o->via.array.ptr[i] : &o->via.map.ptr[i].key;
		int c;
		if (k->type != MSGPACK_OBJECT_STR)
			flt_die_rec(r, path, "field %s: a code is not a string", field);
		if ((c = mrt_synth_code_parse(k->via.str.ptr, k->via.str.size)) >= 0)
			m |= MRT_SYNTH_BIT(c);
	}
	return m;
}

/* A text field of the record, normalised into *buf. */
static size_t
read_text(mrt_reader *r, const char *path, const msgpack_object *rec,
    const char *field, char **buf, size_t *cap, const char **raw, size_t *rawn)
{
	const msgpack_object *o = mrt_rec_path(rec, field);
	if (o == NULL)
		flt_die_rec(r, path, "no text field %s", field);
	if (mrt_obj_str(o, raw, rawn) != 0)
		flt_die_rec(r, path, "field %s is not a string", field);
	if (*rawn + 1 > *cap) {
		*cap = *rawn + 1;
		if ((*buf = realloc(*buf, *cap)) == NULL)
			flt_die("out of memory");
	}
	return mrt_bpe_normalise(*raw, *rawn, *buf);
}

static void
load(struct gdata *d, const struct gopts *o, const char *in)
{
	FILE *inf;
	mrt_reader *r = flt_reader(in, &inf);
	const msgpack_object *rec;
	char *gb = NULL, *rb = NULL;
	size_t gcap = 0, rcap = 0;

	d->has_findings = -1;
	if (mrt_tm_corpus_new(&d->tc) != 0)
		flt_die("out of memory");
	while ((rec = flt_next(r, in)) != NULL) {
		int64_t fold;
		const char *graw, *rraw;
		size_t gn, rn, graw_n, rraw_n;
		const msgpack_object *fo;
		int has;
		if (mrt_rec_int(rec, "fold", &fold) != 0)
			flt_die_rec(r, in, "no integer field fold");
		if (fold < 0 || fold > 63 || !((o->folds >> fold) & 1))
			continue;
		gn = read_text(r, in, rec, o->gen, &gb, &gcap, &graw, &graw_n);
		rn = read_text(r, in, rec, o->ref, &rb, &rcap, &rraw, &rraw_n);
		fo = mrt_rec_path(rec, o->findings);
		has = fo != NULL;
		if (d->has_findings >= 0 && has != d->has_findings)
			flt_die_rec(r, in, has ? "field %s, which earlier records lack" :
			    "no field %s, which earlier records have", o->findings);
		d->has_findings = has;
		if (d->n == d->cap) {
			d->cap = d->cap ? 2 * d->cap : 1024;
			d->id = realloc(d->id, d->cap * sizeof *d->id);
			d->truth = realloc(d->truth, d->cap * sizeof *d->truth);
			d->pred = realloc(d->pred, d->cap * sizeof *d->pred);
			d->refpred = realloc(d->refpred, d->cap * sizeof *d->refpred);
			if (!d->id || !d->truth || !d->pred || !d->refpred)
				flt_die("out of memory");
		}
		if (has) {
			d->truth[d->n] = read_codes(r, in, fo, o->findings);
			d->pred[d->n] = findings_of(graw, graw_n);
			d->refpred[d->n] = findings_of(rraw, rraw_n);
		}
		if ((d->id[d->n] = ds_read_id(rec, mrt_reader_count(r))) == NULL ||
		    mrt_tm_corpus_add(d->tc, gb, gn, rb, rn) != 0)
			flt_die("out of memory");
		d->n++;
	}
	flt_reader_done(r, inf);
	free(gb);
	free(rb);
}

/* lib/text's stemmer and WordNet as METEOR's lexicon. */
static int
lex_stem(void *ctx, const char *w, size_t n, char *out, size_t cap, size_t *outn)
{
	(void)ctx;
	return mrt_porter_stem(w, n, out, cap, outn);
}

static int
lex_syn(void *ctx, const char *w, size_t n,
    int (*each)(void *, const char *, size_t), void *arg)
{
	return mrt_wordnet_lemmas(ctx, w, n, each, arg, NULL, 0);
}

/* Finding-level metrics of set s for multiplicities w (NULL: once). */
static void
findings_eval(const struct gdata *d, const uint32_t *pred, uint32_t codes,
    const uint32_t *w, double out[NF])
{
	mrt_tm_sets s;
	mrt_tm_sets_eval(d->truth, pred, w, d->n, codes, &s);
	out[F_MICRO_P] = s.micro_p;
	out[F_MICRO_R] = s.micro_r;
	out[F_MICRO_F1] = s.micro_f1;
	out[F_MACRO_P] = s.macro_p;
	out[F_MACRO_R] = s.macro_r;
	out[F_MACRO_F1] = s.macro_f1;
}

/* Value and bootstrap interval of every metric. */
struct ci { double v, lo, hi; };

static void
bootstrap(struct gdata *d, const struct gopts *o, int nset,
    const uint32_t setcodes[NSET], struct ci tm[MRT_TM_NMETRIC],
    struct ci fm[NSET][NF])
{
	size_t B = o->out.nboot, nm = MRT_TM_NMETRIC + (size_t)nset * NF;
	double *rep = malloc(nm * B * sizeof *rep), v[MRT_TM_NMETRIC], f[NF];
	size_t *nrep = calloc(nm, sizeof *nrep);
	uint32_t *w = malloc(d->n * sizeof *w);
	mrt_rng g;
	if (!rep || !nrep || !w)
		flt_die("out of memory");
	if (mrt_tm_corpus_eval(d->tc, NULL, v) != 0)
		flt_die("out of memory");
	for (int m = 0; m < MRT_TM_NMETRIC; m++)
		tm[m].v = v[m];
	for (int s = 0; s < nset; s++) {
		findings_eval(d, d->pred, setcodes[s], NULL, f);
		for (int m = 0; m < NF; m++)
			fm[s][m].v = f[m];
	}
	mrt_rng_seed(&g, o->out.seed);
	for (size_t q = 0; q < B; q++) {
		memset(w, 0, d->n * sizeof *w);
		for (size_t i = 0; i < d->n; i++)
			w[mrt_rng_below(&g, d->n)]++;
		if (mrt_tm_corpus_eval(d->tc, w, v) != 0)
			flt_die("out of memory");
		for (int m = 0; m < MRT_TM_NMETRIC; m++)
			rep[m * B + nrep[m]++] = v[m];
		for (int s = 0; s < nset; s++) {
			findings_eval(d, d->pred, setcodes[s], w, f);
			for (int m = 0; m < NF; m++) {
				size_t k = MRT_TM_NMETRIC + (size_t)s * NF + m;
				if (!isnan(f[m]))   /* macro: no code with a positive */
					rep[k * B + nrep[k]++] = f[m];
			}
		}
	}
	for (size_t k = 0; k < nm; k++) {
		struct ci *c = k < MRT_TM_NMETRIC ? &tm[k] :
		    &fm[(k - MRT_TM_NMETRIC) / NF][(k - MRT_TM_NMETRIC) % NF];
		c->lo = mrt_metrics_quantile(rep + k * B, nrep[k], 0.025);
		c->hi = mrt_metrics_quantile(rep + k * B, nrep[k], 0.975);
	}
	free(rep);
	free(nrep);
	free(w);
}

/* Codes of mask as "A,B" into buf ("-" for none). */
static const char *
codes_str(uint32_t m, char *buf, size_t cap)
{
	size_t k = 0;
	buf[0] = 0;
	for (int c = 0; c < MRT_SYNTH_NCODES; c++)
		if (m & MRT_SYNTH_BIT(c))
			k += snprintf(buf + k, k < cap ? cap - k : 0, "%s%s", k ? "," : "",
			    mrt_synth_code_name(c));
	if (k == 0)
		snprintf(buf, cap, "-");
	return buf;
}

static void
write_scores(const struct gdata *d, const char *path)
{
	FILE *f = flt_out_open(path, 1);
	char b1[256], b2[256];
	fprintf(f, "id");
	for (int m = 0; m < MRT_TM_NMETRIC; m++)
		fprintf(f, "\t%s", mrt_tm_metric_name(m));
	if (d->has_findings == 1)
		fprintf(f, "\ttrue\tgen_findings");
	fprintf(f, "\n");
	for (size_t i = 0; i < d->n; i++) {
		double v[MRT_TM_NMETRIC];
		mrt_tm_corpus_record(d->tc, i, v);
		fprintf(f, "%s", d->id[i]);
		for (int m = 0; m < MRT_TM_NMETRIC; m++)
			fprintf(f, "\t%.17g", v[m]);
		if (d->has_findings == 1)
			fprintf(f, "\t%s\t%s", codes_str(d->truth[i], b1, sizeof b1),
			    codes_str(d->pred[i], b2, sizeof b2));
		fprintf(f, "\n");
	}
	flt_out_commit(f, path);
}

static void
write_tokens(const struct gdata *d, const char *path)
{
	FILE *f = flt_out_open(path, 1);
	fprintf(f, "id\tgen\tref\n");
	for (size_t i = 0; i < d->n; i++) {
		fprintf(f, "%s", d->id[i]);
		for (int s = 0; s < 2; s++) {
			size_t nt = mrt_tm_corpus_ntokens(d->tc, i, s);
			fputc('\t', f);
			for (size_t k = 0; k < nt; k++) {
				size_t len;
				const char *t = mrt_tm_corpus_token(d->tc, i, s, k, &len);
				fprintf(f, "%s%.*s", k ? " " : "", (int)len, t);
			}
		}
		fputc('\n', f);
	}
	flt_out_commit(f, path);
}

/* The per-code table and JSON of the findings: true, stated, TP, P, R, F1. */
static json_t *
code_table(const struct gdata *d, uint32_t silent)
{
	uint64_t tp[32], fp[32], fn[32], rtp[32], rfp[32], rfn[32];
	json_t *a = json_array();
	mrt_tm_sets_counts(d->truth, d->pred, NULL, d->n, tp, fp, fn);
	mrt_tm_sets_counts(d->truth, d->refpred, NULL, d->n, rtp, rfp, rfn);
	printf("\n%-8s %6s %6s %6s %8s %8s %8s %8s\n", "code", "true", "gen", "TP",
	    "P", "R", "F1", "ref F1");
	for (int c = 0; c < MRT_SYNTH_NCODES; c++) {
		uint64_t t = tp[c] + fn[c], g = tp[c] + fp[c];
		double p = g ? (double)tp[c] / g : 0, r = t ? (double)tp[c] / t : 0;
		double f = t + g ? 2.0 * tp[c] / (double)(t + g) : 0;
		uint64_t rd = 2 * rtp[c] + rfn[c] + rfp[c];
		double rf = rd ? 2.0 * rtp[c] / (double)rd : 0;
		if (t == 0 && g == 0)
			continue;
		printf("%-8s %6llu %6llu %6llu %8.4f %8.4f %8.4f %8.4f%s\n",
		    mrt_synth_code_name(c), (unsigned long long)t,
		    (unsigned long long)g, (unsigned long long)tp[c], p, r, f, rf,
		    silent & MRT_SYNTH_BIT(c) ? "  silent" : "");
		json_array_append_new(a, json_pack("{s:s, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:b}",
		    "code", mrt_synth_code_name(c), "true", (json_int_t)t,
		    "gen", (json_int_t)g, "tp", (json_int_t)tp[c],
		    "precision", json_num(p), "recall", json_num(r), "f1", json_num(f),
		    "ref_f1", json_num(rf), "silent", (silent & MRT_SYNTH_BIT(c)) != 0));
	}
	return a;
}

int
cmd_generate(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "gen", 1, 0, 1 }, { "ref", 1, 0, 2 }, { "test", 1, 0, 3 },
		{ "findings", 1, 0, 4 }, { "silent", 1, 0, 5 }, { "wordnet", 1, 0, 6 },
		{ "tokens", 1, 0, 7 },
		{ "bootstrap", 1, 0, 'B' }, FLT_OPT_SEED,
		{ "json", 1, 0, 'j' }, { "tsv", 1, 0, 'T' }, { "name", 1, 0, 'N' },
		{ "scores", 1, 0, 'c' },
		FLT_OPT_END
	};
	struct gopts o = {
		.gen = "gen", .ref = "report", .findings = "truth.findings",
		.wordnet = "/usr/share/wordnet", .folds = 1ULL << 10,
		.out = { .nboot = 1000, .seed = 1 },
	};
	const char *in, *silent_arg = NULL;
	struct gdata d = { 0 };
	mrt_tm_lexicon lex = { lex_stem, lex_syn, NULL };
	struct ci tm[MRT_TM_NMETRIC], fm[NSET][NF];
	uint32_t setcodes[NSET], all = 0;
	int c, nset = 0;
	char msg[1024], b[256];
	json_t *root, *summ, *fj = NULL;
	mrt_tm_sets ref;

	while ((c = flt_getopt(argc, argv, "B:s:S:j:T:N:c:", lo, GEN_USAGE)) != -1)
		switch (c) {
		case 1: o.gen = optarg; break;
		case 2: o.ref = optarg; break;
		case 3: o.folds = ds_folds(optarg, "test"); break;
		case 4: o.findings = optarg; break;
		case 5: silent_arg = optarg; break;
		case 6: o.wordnet = optarg; break;
		case 7: o.tokens = optarg; break;
		case 'B': o.out.nboot = (size_t)flt_num(optarg, 1, 1000000, "bootstrap"); break;
		case 's': case 'S': o.out.seed = (uint64_t)flt_num(optarg, 0, INT64_MAX, "seed"); break;
		case 'j': o.out.json = optarg; break;
		case 'T': o.out.tsv = optarg; break;
		case 'N': o.out.name = optarg; break;
		case 'c': o.out.scores = optarg; break;
		default: flt_usage(GEN_USAGE);
		}
	in = flt_input(argc, argv, GEN_USAGE);
	if (silent_arg)
		parse_silent(&o, silent_arg);
	if (o.out.name == NULL)
		o.out.name = strcmp(in, "-") ? in : "stdin";
	if (mrt_wordnet_open(&wn, o.wordnet, msg, sizeof msg) != 0)
		flt_die("WordNet: %s (give --wordnet DIR)", msg);
	lex.ctx = wn;

	load(&d, &o, in);
	if (d.n == 0)
		flt_die("%s: no record in the test folds (%s)",
		    strcmp(in, "-") ? in : "stdin", ds_folds_str(o.folds, b, sizeof b));
	if (o.silent && d.has_findings != 1)
		flt_die("--silent: the records have no field %s", o.findings);
	if ((c = mrt_tm_corpus_score(d.tc, &lex, msg, sizeof msg)) != 0)
		flt_die("%s", msg);
	for (int k = 0; k < MRT_SYNTH_NCODES; k++)
		all |= MRT_SYNTH_BIT(k);
	if (d.has_findings == 1) {
		setcodes[nset++] = all;
		if (o.silent)
			setcodes[nset++] = o.silent;
	}
	bootstrap(&d, &o, nset, setcodes, tm, fm);

	printf("generate: %zu records of folds %s, %s against %s, %zu bootstrap resamples\n",
	    d.n, ds_folds_str(o.folds, b, sizeof b), o.gen, o.ref, o.out.nboot);
	printf("%-10s %-12s %8s   %s\n", "setting", "metric", "value", "95% CI");
	summ = json_array();
	for (int m = 0; m < MRT_TM_NMETRIC; m++) {
		printf("%-10s %-12s %8.4f   [%.4f, %.4f]\n", "text", mrt_tm_metric_name(m),
		    tm[m].v, tm[m].lo, tm[m].hi);
		json_array_append_new(summ, summary_row("generate", "text",
		    mrt_tm_metric_name(m), tm[m].v, tm[m].lo, tm[m].hi, NAN, 1));
	}
	for (int s = 0; s < nset; s++)
		for (int m = 0; m < NF; m++) {
			const struct ci *ci = &fm[s][m];
			if (isnan(ci->v))
				printf("%-10s %-12s %8s\n", set_names[s], f_names[m], "-");
			else
				printf("%-10s %-12s %8.4f   [%.4f, %.4f]\n", set_names[s],
				    f_names[m], ci->v, ci->lo, ci->hi);
			json_array_append_new(summ, summary_row("generate", set_names[s],
			    f_names[m], ci->v, ci->lo, ci->hi, NAN, 1));
		}
	if (d.has_findings == 1) {
		mrt_tm_sets_eval(d.truth, d.refpred, NULL, d.n, all, &ref);
		fj = json_pack("{s:s, s:o, s:{s:o, s:o, s:o}}", "field", o.findings,
		    "codes", code_table(&d, o.silent), "reference",
		    "micro-P", json_num(ref.micro_p), "micro-R", json_num(ref.micro_r),
		    "micro-F1", json_num(ref.micro_f1));
		printf("the parser on the references (%s): micro-P %.4f, micro-R %.4f, "
		    "micro-F1 %.4f\n", o.ref, ref.micro_p, ref.micro_r, ref.micro_f1);
	} else
		printf("no field %s: no finding-level scores\n", o.findings);
	root = json_pack("{s:i, s:s, s:s, s:s, s:s, s:I, s:s, s:s, s:o, s:o*}",
	    "merit-eval", 1, "kind", "generate", "model", o.out.name,
	    "gen", o.gen, "ref", o.ref, "records", (json_int_t)d.n,
	    "folds", ds_folds_str(o.folds, b, sizeof b), "wordnet", o.wordnet,
	    "summary", summ, "findings", fj);
	if (o.out.json)
		write_json(root, o.out.json);
	if (o.out.tsv)
		write_tsv(root, o.out.tsv);
	if (o.out.scores)
		write_scores(&d, o.out.scores);
	if (o.tokens)
		write_tokens(&d, o.tokens);
	json_decref(root);
	for (size_t i = 0; i < d.n; i++)
		free(d.id[i]);
	free(d.id);
	free(d.truth);
	free(d.pred);
	free(d.refpred);
	mrt_tm_corpus_free(d.tc);
	mrt_wordnet_free(wn);
	flt_out_commit(stdout, NULL);
	return 0;
}

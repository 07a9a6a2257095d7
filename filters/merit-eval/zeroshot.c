/*
 * zeroshot.c: merit-eval zeroshot, classes scored by the cosine between a
 * record's ECG embedding (field e, from ecg-encode) and the text tower's
 * embedding of the class's text (MODEL.md): the English description of
 * scp_statements.csv, or a line of a prompt file.  Nothing is trained; the
 * F1 thresholds are chosen on the validation folds and the test folds are
 * only scored, with the metrics of probe (scores.c).
 */
#include <math.h>

#include "eval.h"
#include "text/bpe.h"
#include "nn/nn.h"

#define ZS_USAGE "merit-eval zeroshot -m checkpoint (-t task | -l field) " \
	"[--scp scp_statements.csv] [-p prompts] [--vocab file] [-F field] " \
	"[--val folds] [--test folds] [-B reps] [-s seed] [-j json] [-T tsv] " \
	"[-c scores] [-r roc] [-N name] [-D] [--threads n] [--precision p] " DS_RESTRICT_USAGE " [file]"

#define ZS_MAXCLASS 1024

/* The class texts of a prompt file: "code<TAB>text" lines. */
struct prompts {
	size_t n;
	char **code, **text;
};

/* Superclass names of PTB-XL have no statement; their English names. */
static const char *const super_text[][2] = {
	{ "CD", "conduction disturbance" }, { "HYP", "hypertrophy" },
	{ "MI", "myocardial infarction" }, { "NORM", "normal ECG" },
	{ "STTC", "ST/T change" },
};

/* file scope: reachable when flt_die() exits */
static struct prompts pr;
static mrt_nn_model *model;
static mrt_bpe *bpe;

static char *
xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (p == NULL)
		flt_die("out of memory");
	return p;
}

static void
prompts_read(struct prompts *p, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long no = 0;
	if (f == NULL)
		flt_die("%s: %s", path, strerror(errno));
	while ((len = getline(&line, &cap, f)) != -1) {
		char *tab;
		no++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = 0;
		if (len == 0 || line[0] == '#')
			continue;
		if ((tab = strchr(line, '\t')) == NULL)
			flt_die("%s: line %lu: no tab between the code and its text", path, no);
		if (tab == line || tab[1] == 0)
			flt_die("%s: line %lu: an empty %s", path, no, tab == line ? "code" : "text");
		for (size_t k = 0; k < p->n; k++)
			if (strlen(p->code[k]) == (size_t)(tab - line) &&
			    memcmp(p->code[k], line, (size_t)(tab - line)) == 0)
				flt_die("%s: line %lu: a second text for %s", path, no, p->code[k]);
		if (p->n == ZS_MAXCLASS)
			flt_die("%s: more than %d prompts", path, ZS_MAXCLASS);
		if (p->n % 64 == 0) {
			char **c = realloc(p->code, (p->n + 64) * sizeof *c);
			if (c != NULL)
				p->code = c;
			c = realloc(p->text, (p->n + 64) * sizeof *c);
			if (c == NULL || p->code == NULL)
				flt_die("out of memory");
			p->text = c;
		}
		p->code[p->n] = xstrndup(line, (size_t)(tab - line));
		p->text[p->n] = xstrndup(tab + 1, strlen(tab + 1));
		p->n++;
	}
	if (ferror(f))
		flt_die("%s: %s", path, strerror(errno));
	free(line);
	fclose(f);
	if (p->n == 0)
		flt_die("%s: no prompt (lines of code<TAB>text)", path);
}

static void
prompts_free(struct prompts *p)
{
	for (size_t k = 0; k < p->n; k++) {
		free(p->code[k]);
		free(p->text[k]);
	}
	free(p->code);
	free(p->text);
	memset(p, 0, sizeof *p);
}

/* Length of a code without its trailing '_' (as lib/labels compares). */
static size_t
keylen(const char *s)
{
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '_')
		n--;
	return n;
}

/* The prompt of class name, or NULL. */
static const char *
prompt_of(const struct prompts *p, const char *name)
{
	size_t n = keylen(name);
	for (size_t k = 0; k < p->n; k++)
		if (keylen(p->code[k]) == n && memcmp(p->code[k], name, n) == 0)
			return p->text[k];
	return NULL;
}

/* The class's text: its prompt, else its description (PTB-XL tasks). */
static const char *
class_text(const struct ds *ds, size_t k, int task, int *from_prompt)
{
	const char *name = mrt_labels_name(ds->L, k), *t = prompt_of(&pr, name);
	*from_prompt = t != NULL;
	if (t != NULL)
		return t;
	if (task == MRT_LABELS_SUPER)
		for (size_t i = 0; i < sizeof super_text / sizeof super_text[0]; i++)
			if (strcmp(super_text[i][0], name) == 0)
				return super_text[i][1];
	return mrt_labels_desc(ds->L, k);
}

/* The tokenizer: --vocab, else the checkpoint's metadata. */
static void
tokenizer_open(const char *vocab, const char *ckpt, const mrt_nn_config *c)
{
	char err[1024];
	if (vocab != NULL) {
		if (mrt_bpe_load(&bpe, vocab, err, sizeof err) != 0)
			flt_die("%s: %s", vocab, err);
	} else {
		const char *t = mrt_nn_meta(model, "tokenizer");
		if (t == NULL)
			flt_die("%s: no tokenizer in the checkpoint (give --vocab FILE)", ckpt);
		if (mrt_bpe_parse(&bpe, t, strlen(t), err, sizeof err) != 0)
			flt_die("%s: tokenizer: %s", ckpt, err);
		vocab = ckpt;
	}
	if (mrt_bpe_size(bpe) > c->txt_vocab)
		flt_die("%s: %d tokens, more than the checkpoint's vocabulary of %d", vocab,
		    mrt_bpe_size(bpe), c->txt_vocab);
}

/* Cosine scores, class-major, of records idx against the class embeddings. */
static double *
cosines(const struct ds *ds, const size_t *idx, size_t n, const float *T, size_t C)
{
	double *s = malloc((C * n + 1) * sizeof *s);
	if (s == NULL)
		flt_die("out of memory");
	for (size_t i = 0; i < n; i++) {
		const float *x = ds->x + idx[i] * ds->d;
		double nx = 0;
		for (size_t j = 0; j < ds->d; j++)
			nx += (double)x[j] * x[j];
		nx = fmax(sqrt(nx), 1e-12);
		for (size_t k = 0; k < C; k++) {
			const float *t = T + k * ds->d;
			double dot = 0, nt = 0;
			for (size_t j = 0; j < ds->d; j++) {
				dot += (double)x[j] * t[j];
				nt += (double)t[j] * t[j];
			}
			s[k * n + i] = dot / (nx * fmax(sqrt(nt), 1e-12));
		}
	}
	return s;
}

int
cmd_zeroshot(int argc, char **argv)
{
	static const struct option lo[] = {
		FLT_OPT_MODEL, { "task", 1, 0, 't' }, { "scp", 1, 0, O_SCP },
		{ "prompts", 1, 0, 'p' }, { "vocab", 1, 0, O_VOCAB },
		{ "features", 1, 0, 'F' }, { "labels", 1, 0, 'l' },
		{ "val", 1, 0, O_VAL }, { "test", 1, 0, O_TEST },
		{ "bootstrap", 1, 0, 'B' }, FLT_OPT_SEED,
		{ "json", 1, 0, 'j' }, { "tsv", 1, 0, 'T' }, { "scores", 1, 0, 'c' },
		{ "roc", 1, 0, 'r' }, { "name", 1, 0, 'N' }, { "describe", 0, 0, 'D' },
		FLT_OPT_THREADS, FLT_OPT_PRECISION, DS_RESTRICT_OPTIONS, FLT_OPT_END
	};
	struct dsopts dso;
	struct outopts out = { .nboot = 1000, .seed = 1 };
	const char *task = NULL, *ckpt = NULL, *ppath = NULL, *vocab = NULL, *roc = NULL;
	int c, threads = 0, precision = MRT_NN_FP32, describe = 0, labfield = 0, nprompt = 0;
	const mrt_nn_config *cf;
	struct ds ds;
	struct evalres ev;
	size_t nv, nt, C, unused = 0, *iv, *it;
	int32_t *tok;
	float *T;
	double *sv, *st;
	int *ntok;
	char err[1024], b1[256], b2[256], src[4200];
	json_t *root, *cls, *texts, *jc, *ex, *summ;

	ds_opts_init(&dso);
	dso.feat = "e";
	while ((c = flt_getopt(argc, argv, "m:t:p:F:l:B:s:S:j:T:c:r:N:D", lo, ZS_USAGE)) != -1)
		switch (c) {
		case 'm': ckpt = optarg; break;
		case 't': task = optarg; break;
		case O_SCP: dso.scp = optarg; break;
		case 'p': ppath = optarg; break;
		case O_VOCAB: vocab = optarg; break;
		case 'F': dso.feat = optarg; break;
		case 'l': dso.labfield = optarg; labfield = 1; break;
		case O_VAL: dso.folds[SPLIT_VAL] = ds_folds(optarg, "val"); break;
		case O_TEST: dso.folds[SPLIT_TEST] = ds_folds(optarg, "test"); break;
		case 'B': out.nboot = (size_t)flt_num(optarg, 1, 1000000, "bootstrap"); break;
		case 's': case 'S': out.seed = (uint64_t)flt_num(optarg, 0, INT64_MAX, "seed"); break;
		case 'j': out.json = optarg; break;
		case 'T': out.tsv = optarg; break;
		case 'c': out.scores = optarg; break;
		case 'r': roc = optarg; break;
		case 'N': out.name = optarg; break;
		case 'D': describe = 1; break;
		case FLT_O_THREADS: threads = (int)flt_num(optarg, 0, 1024, "threads"); break;
		case FLT_O_PRECISION: precision = flt_precision(optarg); break;
		case OPT_CODES: case OPT_EXCLUDE_CODES: case OPT_TASK_NAME:
			ds_restrict_opt(&dso, c, optarg);
			break;
		default: flt_usage(ZS_USAGE);
		}
	if (ckpt == NULL || (task == NULL && !labfield))
		flt_usage(ZS_USAGE);
	if (task == NULL)
		task = "codes";
	if ((dso.task = mrt_labels_task_parse(task)) < 0)
		flt_die("unknown task %s (ptbxl-super, ptbxl-sub, ptbxl-form, "
		    "ptbxl-rhythm, ptbxl-all, codes)", task);
	task = ds_task_name(&dso, task);
	if (dso.folds[SPLIT_VAL] & dso.folds[SPLIT_TEST])
		flt_die("the val and test folds overlap");
	dso.folds[SPLIT_TRAIN] = 0;     /* nothing is trained */
	dso.notrain = 1;
	dso.in = flt_input(argc, argv, ZS_USAGE);
	if (out.name == NULL)
		out.name = strcmp(dso.in, "-") ? dso.in : "stdin";
	if (ppath != NULL)
		prompts_read(&pr, ppath);
	if (dso.task == MRT_LABELS_CODES) {
		/* the classes are the prompt file's codes */
		if (ppath == NULL)
			flt_die("task codes needs the class texts (-p prompts)");
		dso.classes = (const char *const *)pr.code;
		dso.nclasses = pr.n;
	}

	/* the model and its tokenizer first: their errors come before reading */
	mrt_nn_set_threads(threads);
	if (mrt_nn_open(&model, ckpt, NULL, 1, 0, err, sizeof err) != 0)
		flt_die("%s", err);
	if (mrt_nn_set_precision(model, precision) != 0)
		flt_die("%s", mrt_nn_errmsg(model));
	cf = mrt_nn_get_config(model);
	tokenizer_open(vocab, ckpt, cf);

	ds_load(&ds, &dso);
	iv = ds_split(&ds, SPLIT_VAL, &nv);
	it = ds_split(&ds, SPLIT_TEST, &nt);
	if (nv == 0 || nt == 0)
		flt_die("%s: no record in the %s folds (%s)", dso.in, nv ? "test" : "val",
		    ds_folds_str(dso.folds[nv ? SPLIT_TEST : SPLIT_VAL], b1, sizeof b1));
	if (ds.d != (size_t)cf->proj)
		flt_die("%s: feature %s has %zu values, the checkpoint's embeddings %d",
		    dso.in, dso.feat, ds.d, cf->proj);
	C = ds.nclass;
	if (describe)
		describe_table(&ds);

	/* class texts through the tokenizer and the text tower, one at a time
	 * (as ecg-encode --text: the same bits whatever the number of classes) */
	tok = malloc((C + 1) * cf->txt_len * sizeof *tok);
	T = malloc((C + 1) * cf->proj * sizeof *T);
	ntok = malloc((C + 1) * sizeof *ntok);
	if (!tok || !T || !ntok)
		flt_die("out of memory");
	for (size_t k = 0; k < C; k++) {
		int fp;
		const char *text = class_text(&ds, k, dso.task, &fp);
		int32_t *row = tok + k * cf->txt_len;
		nprompt += fp;
		ntok[k] = mrt_bpe_encode(bpe, text, strlen(text), row, cf->txt_len);
		if (ntok[k] < 0)
			flt_die("class %s: %s", mrt_labels_name(ds.L, k), mrt_strerror(ntok[k]));
		if (ntok[k] > cf->txt_len)
			flt_warn("class %s: text of %d tokens cut to the checkpoint's %d",
			    mrt_labels_name(ds.L, k), ntok[k], cf->txt_len);
		if (mrt_nn_encode_text(model, row, 1, T + k * cf->proj) != 0)
			flt_die("%s: %s", ckpt, mrt_nn_errmsg(model));
	}
	for (size_t q = 0; q < pr.n; q++) {
		size_t n = keylen(pr.code[q]), k;
		for (k = 0; k < C; k++) {
			const char *name = mrt_labels_name(ds.L, k);
			if (keylen(name) == n && memcmp(name, pr.code[q], n) == 0)
				break;
		}
		unused += k == C;
	}

	sv = cosines(&ds, iv, nv, T, C);
	st = cosines(&ds, it, nt, T, C);
	eval_scores(&ev, &ds, iv, nv, sv, it, nt, st, out.nboot, out.seed);
	if (out.scores) {
		FILE *f = scores_open(out.scores);
		scores_rows(f, &ds, iv, nv, sv, SPLIT_VAL);
		scores_rows(f, &ds, it, nt, st, SPLIT_TEST);
		flt_out_commit(f, out.scores);
	}
	if (roc)
		roc_write(roc, &ds, it, nt, st);

	/* report */
	if (ppath == NULL)
		snprintf(src, sizeof src, "texts: their descriptions");
	else if ((size_t)nprompt == C)
		snprintf(src, sizeof src, "texts from %s", ppath);
	else
		snprintf(src, sizeof src, "%d texts from %s, %zu descriptions", nprompt, ppath,
		    C - (size_t)nprompt);
	printf("zero-shot task %s, features %s (%zu-d), %zu classes, %s; checkpoint %s; "
	    "val %zu (folds %s), test %zu (%s); %zu records without a label of the task "
	    "dropped\n", task, dso.feat, ds.d, C, src, ckpt, nv,
	    ds_folds_str(dso.folds[SPLIT_VAL], b1, sizeof b1), nt,
	    ds_folds_str(dso.folds[SPLIT_TEST], b2, sizeof b2), ds.dropped);
	if (unused)
		printf("%zu prompts for codes that are not classes of the task, unused\n", unused);
	printf("%9s  %-28s %s\n", "val AUROC", "test macro AUROC [95% CI]",
	    "test macro F1 [95% CI]");
	{
		char ca[64], cfs[64];
		snprintf(ca, sizeof ca, "%.4f [%.4f, %.4f]", ev.macro_auroc, ev.auroc_lo,
		    ev.auroc_hi);
		snprintf(cfs, sizeof cfs, "%.4f [%.4f, %.4f]", ev.macro_f1, ev.f1_lo, ev.f1_hi);
		printf("%9.4f  %-28s %s\n", ev.val_macro_auroc, ca, cfs);
	}
	printf("\nper class (score: cosine of e and the class text's embedding):\n");
	print_classes(&ds, &ev, NULL, NULL, NULL);
	printf("\nclass texts:\n");
	for (size_t k = 0; k < C; k++) {
		int fp;
		printf("%-12s %s\n", mrt_labels_name(ds.L, k), class_text(&ds, k, dso.task, &fp));
	}

	root = json_object();
	cls = json_array();
	texts = json_object();
	jc = json_array();
	ex = json_array();
	summ = json_array();
	for (size_t k = 0; k < C; k++) {
		int fp;
		const char *name = mrt_labels_name(ds.L, k),
		    *text = class_text(&ds, k, dso.task, &fp);
		json_array_append_new(cls, json_string(name));
		json_object_set_new(texts, name, json_string(text));
		json_array_append_new(jc, json_pack(
		    "{s:s, s:s, s:b, s:i, s:I, s:o, s:o, s:o, s:b}",
		    "name", name, "text", text, "prompt", fp, "tokens", ntok[k],
		    "test_pos", (json_int_t)ev.npos[k], "auroc", json_num(ev.auroc[k]),
		    "f1", json_num(ev.f1[k]), "threshold", json_num(ev.thresh[k]),
		    "val_has_positive", ev.valthresh[k]));
		if (!ev.valid[k])
			json_array_append_new(ex, json_string(name));
	}
	json_array_append_new(summ, summary_row(task, "zero-shot", "AUROC", ev.macro_auroc,
	    ev.auroc_lo, ev.auroc_hi, NAN, 1));
	json_array_append_new(summ, summary_row(task, "zero-shot", "F1", ev.macro_f1,
	    ev.f1_lo, ev.f1_hi, NAN, 1));
	json_object_set_new(root, "merit-eval", json_integer(1));
	json_object_set_new(root, "kind", json_string("zeroshot"));
	json_object_set_new(root, "model", json_string(out.name));
	json_object_set_new(root, "checkpoint", json_string(ckpt));
	json_object_set_new(root, "task", json_string(task));
	ds_task_json(root, &dso);
	json_object_set_new(root, "features", json_string(dso.feat));
	json_object_set_new(root, "dim", json_integer((json_int_t)ds.d));
	json_object_set_new(root, "classes", cls);
	json_object_set_new(root, "texts", texts);
	json_object_set_new(root, "records", json_pack("{s:I, s:I, s:I}",
	    "val", (json_int_t)nv, "test", (json_int_t)nt, "dropped", (json_int_t)ds.dropped));
	json_object_set_new(root, "folds", json_pack("{s:s, s:s}",
	    "val", ds_folds_str(dso.folds[SPLIT_VAL], b1, sizeof b1),
	    "test", ds_folds_str(dso.folds[SPLIT_TEST], b2, sizeof b2)));
	json_object_set_new(root, "bootstrap", json_integer((json_int_t)out.nboot));
	json_object_set_new(root, "seed", json_integer((json_int_t)out.seed));
	json_object_set_new(root, "val_macro_auroc", json_num(ev.val_macro_auroc));
	json_object_set_new(root, "test", json_pack("{s:o, s:[o, o], s:o, s:[o, o]}",
	    "macro_auroc", json_num(ev.macro_auroc),
	    "auroc_ci", json_num(ev.auroc_lo), json_num(ev.auroc_hi),
	    "macro_f1", json_num(ev.macro_f1),
	    "f1_ci", json_num(ev.f1_lo), json_num(ev.f1_hi)));
	json_object_set_new(root, "per_class", jc);
	json_object_set_new(root, "excluded", ex);
	json_object_set_new(root, "summary", summ);
	if (out.json)
		write_json(root, out.json);
	if (out.tsv)
		write_tsv(root, out.tsv);
	json_decref(root);

	evalres_free(&ev);
	free(sv);
	free(st);
	free(tok);
	free(T);
	free(ntok);
	free(iv);
	free(it);
	ds_free(&ds);
	mrt_bpe_free(bpe);
	mrt_nn_free(model);
	prompts_free(&pr);
	flt_out_commit(stdout, NULL);
	return 0;
}

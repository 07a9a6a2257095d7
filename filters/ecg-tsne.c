/*
 * ecg-tsne: a 2-D t-SNE map of a vector field of every record, as TSV.
 *
 *   ecg-tsne [-F field] [-L label-field] [-p perplexity] [-s seed]
 *            [-n iterations] [-o file] [file]
 *
 * Reads every record (at most MAXN: exact t-SNE holds an n x n matrix),
 * takes the vector field (default e: a tensor of any dtype and shape, or
 * an array of numbers; every record the same length), runs lib/tsne and
 * writes a header line and then `id x y label` per record, in input order.
 * The label is the field -L names (a dotted path into maps), or by default
 * the first of truth.findings, else the most likely key of labels, else
 * empty.  A string is itself, an array its first element, a map its key
 * with the largest value.  Nothing is written unless all went well.
 */
#include <getopt.h>
#include <math.h>

#include "cli/filter.h"
#include "eval/tsne.h"

#define USAGE "ecg-tsne [-F field] [-L label-field] [-p perplexity] [-s seed] [-n iterations] [-o file] [file]"
#define MAXN 20000
#define MAXVEC ((size_t)1 << 28)   /* doubles of all vectors together: 2 GiB */

struct opts {
	const char *field, *label, *out;
	mrt_tsne_opts t;
};

/* file scope: still reachable when flt_die() exits */
static double *X, *Y;
static char **ids, **labels;

/* The object at a dotted path (a.b.c) in rec, or NULL. */
static const msgpack_object *
get_path(const msgpack_object *rec, const char *path)
{
	char key[256];
	const msgpack_object *o = rec;

	while (o != NULL && *path != '\0') {
		size_t k = strcspn(path, ".");
		if (k >= sizeof key)
			return NULL;
		memcpy(key, path, k);
		key[k] = '\0';
		o = mrt_rec_get(o, key);
		path += k + (path[k] == '.');
	}
	return o;
}

/* A copy of s[0..n) with tabs and line breaks made spaces. */
static char *
tsv_dup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d == NULL)
		flt_die("out of memory");
	for (size_t i = 0; i < n; i++)
		d[i] = s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ? ' ' : s[i];
	d[n] = '\0';
	return d;
}

/* The label an object stands for; NULL if it gives none. */
static char *
label_of(const msgpack_object *o)
{
	char buf[64];

	if (o == NULL)
		return NULL;
	switch (o->type) {
	case MSGPACK_OBJECT_STR:
		return tsv_dup(o->via.str.ptr, o->via.str.size);
	case MSGPACK_OBJECT_ARRAY:
		return o->via.array.size > 0 ? label_of(&o->via.array.ptr[0]) : NULL;
	case MSGPACK_OBJECT_MAP: {
		const msgpack_object *best = NULL;
		double bv = -INFINITY, v;
		for (uint32_t i = 0; i < o->via.map.size; i++)
			if (mrt_obj_num(&o->via.map.ptr[i].val, &v) == 0 && (best == NULL || v > bv)) {
				best = &o->via.map.ptr[i].key;
				bv = v;
			}
		return label_of(best);
	}
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64: {
		double v;
		mrt_obj_num(o, &v);
		snprintf(buf, sizeof buf, "%.17g", v);
		return tsv_dup(buf, strlen(buf));
	}
	case MSGPACK_OBJECT_BOOLEAN:
		return tsv_dup(o->via.boolean ? "true" : "false", o->via.boolean ? 4 : 5);
	default:
		return NULL;
	}
}

static char *
record_label(const msgpack_object *rec, const char *path)
{
	char *l;

	if (path != NULL)
		l = label_of(get_path(rec, path));
	else if ((l = label_of(get_path(rec, "truth.findings"))) == NULL)
		l = label_of(mrt_rec_get(rec, "labels"));
	return l != NULL ? l : tsv_dup("", 0);
}

/*
 * Append the record's vector to X (row n); *d is its length, set by the
 * first record.
 */
static void
take_vector(mrt_reader *r, const char *in, const msgpack_object *rec,
    const char *field, size_t n, size_t *d)
{
	static size_t cap;
	const msgpack_object *o = get_path(rec, field);
	mrt_tensor t;
	char why[200];
	size_t len;

	if (o == NULL)
		flt_die_rec(r, in, "no field %s", field);
	if (o->type == MSGPACK_OBJECT_ARRAY)
		len = o->via.array.size;
	else if (mrt_tensor_check(o, &t, why, sizeof why) == 0)
		len = (size_t)t.n;
	else
		flt_die_rec(r, in, "%s is not a vector (a tensor or an array of numbers)", field);
	if (len == 0)
		flt_die_rec(r, in, "%s is empty", field);
	if (n == 0)
		*d = len;
	else if (len != *d)
		flt_die_rec(r, in, "%s has %zu values, the first record's %zu", field, len, *d);
	if (len > MAXVEC / (n + 1))
		flt_die_rec(r, in, "the vectors take more than %zu MiB", MAXVEC * sizeof(double) >> 20);
	if ((n + 1) * len > cap) {
		size_t nc = cap ? cap * 2 : len * 64;
		double *nx;
		while (nc < (n + 1) * len)
			nc *= 2;
		if ((nx = realloc(X, nc * sizeof *X)) == NULL)
			flt_die("out of memory for %zu vectors of %zu", n + 1, len);
		X = nx;
		cap = nc;
	}
	if (o->type == MSGPACK_OBJECT_ARRAY) {
		for (size_t k = 0; k < len; k++)
			if (mrt_obj_num(&o->via.array.ptr[k], &X[n * len + k]) != 0)
				flt_die_rec(r, in, "%s[%zu] is not a number", field, k);
	} else
		mrt_tensor_to_f64(&t, X + n * len);
	for (size_t k = 0; k < len; k++)
		if (!isfinite(X[n * len + k]))
			flt_die_rec(r, in, "%s[%zu] is not finite", field, k);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "field", required_argument, NULL, 'F' },
		{ "label", required_argument, NULL, 'L' },
		{ "iterations", required_argument, NULL, 'n' },
		FLT_OPT_OUTPUT,
		{ "perplexity", required_argument, NULL, 'p' },
		FLT_OPT_SEED, FLT_OPT_END
	};
	struct opts op = { .field = "e" };
	const char *in, *name;
	size_t n = 0, d = 0;
	FILE *inf, *of;
	mrt_reader *r;
	int c, e;

	flt_init(argv[0]);
	mrt_tsne_opts_default(&op.t);
	while ((c = flt_getopt(argc, argv, "F:L:n:o:p:s:", lo, USAGE)) != -1) {
		switch (c) {
		case 'F': op.field = optarg; break;
		case 'L': op.label = optarg; break;
		case 'n': op.t.iterations = (int)flt_num(optarg, 0, 1000000, "-n"); break;
		case 'o': op.out = optarg; break;
		case 'p': op.t.perplexity = flt_real(optarg, 2, 10000, "-p"); break;
		case 's': op.t.seed = (uint64_t)flt_num(optarg, 0, LLONG_MAX, "-s"); break;
		default: flt_usage(USAGE);
		}
	}
	if (*op.field == '\0')
		flt_die("-F: empty field name");
	/* exaggeration for the first quarter of the steps, at most 250 */
	op.t.exag_iters = op.t.iterations / 4 < 250 ? op.t.iterations / 4 : 250;
	in = flt_input(argc, argv, USAGE);
	name = strcmp(in, "-") == 0 ? "stdin" : in;
	of = flt_out_open(op.out, 1);
	r = flt_reader(in, &inf);
	ids = calloc(MAXN, sizeof *ids);
	labels = calloc(MAXN, sizeof *labels);
	if (ids == NULL || labels == NULL)
		flt_die("out of memory");
	for (const msgpack_object *rec; (rec = flt_next(r, in)) != NULL; n++) {
		const char *id;
		size_t idn;
		char num[32];

		if (n == MAXN)
			flt_die_rec(r, in, "more than %d records (the limit of exact t-SNE)", MAXN);
		take_vector(r, in, rec, op.field, n, &d);
		if (mrt_rec_str(rec, "id", &id, &idn) != 0) {
			idn = (size_t)snprintf(num, sizeof num, "%llu",
			    (unsigned long long)mrt_reader_count(r));
			id = num;
		}
		ids[n] = tsv_dup(id, idn);
		labels[n] = record_label(rec, op.label);
	}
	flt_reader_done(r, inf);
	if (n < 2 || !(op.t.perplexity < (double)(n - 1)))
		flt_die("%s: %zu records, too few for perplexity %g (more than %g needed)",
		    name, n, op.t.perplexity, op.t.perplexity + 1);
	if ((Y = malloc(2 * n * sizeof *Y)) == NULL)
		flt_die("out of memory");
	if ((e = mrt_tsne_run(X, n, d, &op.t, Y)) != 0) {
		if (e == MRT_ENOMEM)
			flt_die("%s: out of memory for %zu records (t-SNE needs %zu MiB)",
			    name, n, n * n * sizeof(double) >> 20);
		flt_die("%s: t-SNE: %s", name, mrt_strerror(e));
	}
	if (fprintf(of, "id\tx\ty\tlabel\n") < 0)
		flt_die("%s: %s", op.out ? op.out : "stdout", strerror(errno));
	for (size_t i = 0; i < n; i++)
		if (fprintf(of, "%s\t%.6g\t%.6g\t%s\n", ids[i], Y[2 * i], Y[2 * i + 1],
		    labels[i]) < 0)
			flt_die("%s: %s", op.out ? op.out : "stdout", strerror(errno));
	flt_out_commit(of, op.out);
	for (size_t i = 0; i < n; i++) {
		free(ids[i]);
		free(labels[i]);
	}
	free(ids);
	free(labels);
	free(X);
	free(Y);
	return 0;
}

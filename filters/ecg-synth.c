/*
 * ecg-synth: synthetic 12-lead ECG records with findings and reports.
 *
 *   ecg-synth [-f] [-F codes] [-N noises] [-n count] [-o file] [-s seed]
 *             [--fs hz] [--seconds s] [--hr bpm] [--omit p] [--lang en|de]
 *             [--mains 50|60] [--silent codes] [--prevalence code=p,...]
 *
 * Writes a stream of records with the fields of ecg-ingest's records plus
 * `truth` (see lib/synth.h).  Record i of seed s is the same whatever the
 * count: its generator is seeded by (seed, id).
 */
#include <getopt.h>
#include <math.h>

#include "cli/filter.h"
#include "io/csv.h"
#include "core/rng.h"
#include "synth/synth.h"
#include "ecg/leads.h"

#define USAGE "ecg-synth [-f] [-F codes] [-N noises] [-n count] [-o file] [-s seed] " \
	"[--fs hz] [--seconds s] [--hr bpm] [--omit p] [--lang en|de] [--mains 50|60] " \
	"[--like ptbxl_database.csv] [--silent codes] [--prevalence code=p,...]"
#define MAXCODES 64

/* file scope: still reachable when flt_die() exits */
static mrt_synth *s;
static int16_t *q;
static mrt_csv *csv;
static FILE *csvf;

struct opts {
	mrt_synth_opts so;
	uint64_t seed;
	long long count;
	uint32_t want;
};

static uint32_t
parse_codes(const char *s, const char *opt)
{
	uint32_t m = 0;
	while (*s) {
		size_t n = strcspn(s, ",");
		int c = mrt_synth_code_parse(s, n);
		if (c < 0)
			flt_die("%s: unknown finding %.*s", opt, (int)n, s);
		m |= MRT_SYNTH_BIT(c);
		s += n + (s[n] == ',');
	}
	return m;
}

/* Dies unless code c can be silent or have a prevalence (what: "silent",
 * "given a prevalence"): not NORM nor a rhythm. */
static void
drawn_finding(int c, const char *opt, const char *what)
{
	if (c == MRT_SYNTH_NORM || (MRT_SYNTH_RHYTHMS & MRT_SYNTH_BIT(c)))
		flt_die("%s: %s is %s, not a finding that can be %s", opt,
		    mrt_synth_code_name(c), c == MRT_SYNTH_NORM ? "the absence of findings" :
		    "a rhythm", what);
}

/* --prevalence CODE=p,...: into prev[]. */
static void
parse_prevalence(const char *s, double *prev)
{
	while (*s) {
		size_t n = strcspn(s, ","), k = strcspn(s, "=");
		char num[64];
		int c;
		if (k == 0 || k >= n || n - k - 1 >= sizeof num)
			flt_die("--prevalence: not code=p: %.*s", (int)n, s);
		if ((c = mrt_synth_code_parse(s, k)) < 0)
			flt_die("--prevalence: unknown finding %.*s", (int)k, s);
		drawn_finding(c, "--prevalence", "given a prevalence");
		memcpy(num, s + k + 1, n - k - 1);
		num[n - k - 1] = 0;
		prev[c] = flt_real(num, 0, 1, "--prevalence");
		s += n + (s[n] == ',');
	}
}

static unsigned
parse_noise(const char *s)
{
	static const struct { const char *name; unsigned bit; } tab[] = {
		{ "bw", MRT_SYNTH_BW }, { "mains", MRT_SYNTH_MAINS },
		{ "muscle", MRT_SYNTH_MUSCLE }, { "em", MRT_SYNTH_EM },
		{ "flat", MRT_SYNTH_FLAT }, { "clip", MRT_SYNTH_CLIP },
		{ "all", MRT_SYNTH_ALLNOISE }, { "none", 0 },
	};
	unsigned m = 0;
	while (*s) {
		size_t n = strcspn(s, ","), i;
		for (i = 0; i < sizeof tab / sizeof tab[0]; i++)
			if (strlen(tab[i].name) == n && memcmp(tab[i].name, s, n) == 0)
				break;
		if (i == sizeof tab / sizeof tab[0])
			flt_die("-N: unknown noise %.*s (bw, mains, muscle, em, flat, clip, all, none)",
			    (int)n, s);
		m |= tab[i].bit;
		s += n + (s[n] == ',');
	}
	return m;
}

static void
pack_codes(msgpack_packer *pk, uint32_t m)
{
	int n = 0;
	for (int c = 0; c < MRT_SYNTH_NCODES; c++)
		n += (m >> c) & 1;
	msgpack_pack_array(pk, (size_t)n);
	for (int c = 0; c < MRT_SYNTH_NCODES; c++)
		if ((m >> c) & 1)
			mrt_pack_str(pk, mrt_synth_code_name(c));
}

static void
pack_num(msgpack_packer *pk, const char *key, double v)
{
	mrt_pack_str(pk, key);
	if (isfinite(v))
		msgpack_pack_double(pk, floor(v * 10 + 0.5) / 10);
	else
		msgpack_pack_nil(pk);
}

/* What --like takes from a CSV row instead of the generator. */
struct row {
	int like;
	const char *report;
	int64_t fold, patient;
	double age;              /* NaN: unknown */
	char sex;                /* 'M', 'F' or 0 */
	int nlab;
	char lab[MAXCODES][32];
	double labv[MAXCODES];
	int nun;
	char un[MAXCODES][32];   /* codes the waveform cannot show */
};

static int
write_rec(mrt_writer *w, const mrt_synth_rec *rec, const char *id, int16_t *q,
    const struct row *row)
{
	msgpack_packer *pk = mrt_writer_packer(w);
	uint64_t h = mrt_rng_hash(0, id, strlen(id));
	int64_t shape[2] = { MRT_SYNTH_NLEADS, rec->samples };
	int e;

	for (int l = 0; l < MRT_SYNTH_NLEADS; l++)
		mrt_synth_quantize(rec->sig + l * rec->samples, q + l * rec->samples,
		    (size_t)rec->samples, l == rec->missing ? 1 : 1000);
	if ((e = mrt_writer_begin(w, 15)) != 0)
		return e;
	mrt_pack_kv_str(pk, "id", id);
	mrt_pack_kv_f64(pk, "fs", rec->fs);
	mrt_pack_str(pk, "leads");
	msgpack_pack_array(pk, MRT_SYNTH_NLEADS);
	for (int l = 0; l < MRT_SYNTH_NLEADS; l++)
		mrt_pack_str(pk, mrt_leads_name(l));
	mrt_pack_kv_tensor(pk, "sig", MRT_I16, 2, shape, q);
	mrt_pack_str(pk, "gain");
	msgpack_pack_array(pk, MRT_SYNTH_NLEADS);
	for (int l = 0; l < MRT_SYNTH_NLEADS; l++)
		msgpack_pack_double(pk, l == rec->missing ? 1 : 1000);
	mrt_pack_str(pk, "baseline");
	msgpack_pack_array(pk, MRT_SYNTH_NLEADS);
	for (int l = 0; l < MRT_SYNTH_NLEADS; l++)
		msgpack_pack_int(pk, 0);
	mrt_pack_str(pk, "missing");
	msgpack_pack_array(pk, rec->missing >= 0);
	if (rec->missing >= 0)
		mrt_pack_str(pk, mrt_leads_name(rec->missing));
	mrt_pack_kv_str(pk, "report", row->like ? row->report : rec->report);
	mrt_pack_str(pk, "labels");
	if (row->like) {
		msgpack_pack_map(pk, (size_t)row->nlab);
		for (int i = 0; i < row->nlab; i++) {
			mrt_pack_str(pk, row->lab[i]);
			msgpack_pack_double(pk, row->labv[i]);
		}
	} else {
		int n = 0;
		for (int c = 0; c < MRT_SYNTH_NCODES; c++)
			n += (rec->findings >> c) & 1;
		msgpack_pack_map(pk, (size_t)n);
		for (int c = 0; c < MRT_SYNTH_NCODES; c++)
			if ((rec->findings >> c) & 1) {
				mrt_pack_str(pk, mrt_synth_code_name(c));
				msgpack_pack_double(pk, 100.0);
			}
	}
	mrt_pack_kv_int(pk, "fold", row->like ? row->fold : 1 + (int64_t)(h % 10));
	mrt_pack_kv_int(pk, "patient", row->like ? row->patient :
	    1 + (int64_t)((h >> 8) % 1000000));
	if (row->like) {
		pack_num(pk, "age", row->age);
		mrt_pack_str(pk, "sex");
		if (row->sex)
			mrt_pack_str(pk, row->sex == 'M' ? "M" : "F");
		else
			msgpack_pack_nil(pk);
	} else {
		mrt_pack_kv_int(pk, "age", rec->age);
		mrt_pack_kv_str(pk, "sex", rec->sex == 'M' ? "M" : "F");
	}
	mrt_pack_kv_str(pk, "source", "synth");
	mrt_pack_str(pk, "truth");
	msgpack_pack_map(pk, row->like ? 9 : 8);
	pack_num(pk, "hr", rec->hr);
	pack_num(pk, "pr", rec->pr);
	pack_num(pk, "qrs", rec->qrs);
	pack_num(pk, "qt", rec->qt);
	pack_num(pk, "axis", rec->axis);
	mrt_pack_str(pk, "findings");
	pack_codes(pk, rec->findings);
	mrt_pack_str(pk, "omitted");
	pack_codes(pk, row->like ? 0 : rec->omitted);
	mrt_pack_str(pk, "silent");
	pack_codes(pk, row->like ? 0 : rec->silent);
	if (row->like) {
		mrt_pack_str(pk, "unshown");
		msgpack_pack_array(pk, (size_t)row->nun);
		for (int i = 0; i < row->nun; i++)
			mrt_pack_str(pk, row->un[i]);
	}
	return mrt_writer_end(w);
}


/* Codes PTB-XL uses for what the generator draws under another code. */
static int
code_alias(const char *c)
{
	static const struct { const char *from; int to; } tab[] = {
		{ "ILMI", MRT_SYNTH_IMI }, { "IPLMI", MRT_SYNTH_IMI }, { "IPMI", MRT_SYNTH_IMI },
		{ "ALMI", MRT_SYNTH_AMI }, { "VCLVH", MRT_SYNTH_LVH }, { "LPR", MRT_SYNTH_1AVB },
	};
	int k = mrt_synth_code_parse(c, strlen(c));
	for (size_t i = 0; k < 0 && i < sizeof tab / sizeof tab[0]; i++)
		if (strcmp(c, tab[i].from) == 0)
			k = tab[i].to;
	return k;
}

/* One entry of a scp_codes dict into row->lab/labv (mrt_csv_pydict). */
static int
add_code(void *ctx, const char *key, double val)
{
	struct row *row = ctx;
	size_t n = strlen(key);
	if (n == 0 || n >= sizeof row->lab[0] || row->nlab == MAXCODES || !isfinite(val))
		return -1;
	memcpy(row->lab[row->nlab], key, n + 1);
	row->labv[row->nlab++] = val;
	return 0;
}

/* --like: one record per row of a PTB-XL database CSV. */
static void
like(const char *path, mrt_synth *s, mrt_writer *w, const struct opts *op,
    long long limit, int16_t *q, const char *out)
{
	static const char *const want[] = { "ecg_id", "patient_id", "age", "sex", "report",
		"scp_codes", "strat_fold" };
	enum { ID, PAT, AGE, SEX, REP, SCP, FOLD, NCOL };
	int col[NCOL], e;
	size_t nf;
	long long nrow = 0;
	static struct row row;

	if ((csvf = fopen(path, "rb")) == NULL)
		flt_die("%s: %s", path, strerror(errno));
	if (mrt_csv_open(&csv, csvf) != 0)
		flt_die("%s: %s", path, strerror(ENOMEM));
	if ((e = mrt_csv_header(csv)) != 0)
		flt_die("%s: %s", path, e == MRT_ETRUNC ? "no header row" :
		    mrt_csv_errmsg(csv));
	nf = mrt_csv_nfields(csv);
	for (int c = 0; c < NCOL; c++)
		if ((col[c] = mrt_csv_col(csv, want[c])) < 0)
			flt_die("%s: no column %s", path, want[c]);
	while (limit < 0 || nrow < limit) {
		const mrt_synth_rec *rec;
		const char *fl[NCOL];
		char id[64], *e1;
		uint32_t mask = 0;
		if ((e = mrt_csv_next(csv)) == 0)
			break;
		nrow++;
		if (e == MRT_ETRUNC)
			flt_die("%s: row %lld: unterminated quote", path, nrow);
		if (e < 0)
			flt_die("%s: %s", path, mrt_csv_errmsg(csv));
		if (mrt_csv_nfields(csv) != nf)
			flt_die("%s: row %lld: %zu fields, the header has %zu", path, nrow,
			    mrt_csv_nfields(csv), nf);
		for (int c = 0; c < NCOL; c++)
			fl[c] = mrt_csv_field(csv, (size_t)col[c]);
		memset(&row, 0, sizeof row);
		row.like = 1;
		if (!fl[ID][0] || strlen(fl[ID]) >= sizeof id)
			flt_die("%s: row %lld: no ecg_id", path, nrow);
		snprintf(id, sizeof id, "%s", fl[ID]);
		row.report = fl[REP];
		row.patient = (int64_t)strtod(fl[PAT], NULL);
		row.age = fl[AGE][0] ? strtod(fl[AGE], &e1) : NAN;
		row.sex = strcmp(fl[SEX], "0") == 0 ? 'M' : strcmp(fl[SEX], "1") == 0 ? 'F' : 0;
		row.fold = strtol(fl[FOLD], &e1, 10);
		if (*e1 || row.fold < 1 || row.fold > 10)
			flt_die("%s: row %lld: strat_fold: not 1 to 10: %s", path, nrow, fl[FOLD]);
		if (mrt_csv_pydict(fl[SCP], add_code, &row) != 0)
			flt_die("%s: row %lld: scp_codes: not a dict of codes: %s", path, nrow,
			    fl[SCP]);
		for (int i = 0; i < row.nlab; i++) {
			int k = code_alias(row.lab[i]);
			if (k >= 0)
				mask |= MRT_SYNTH_BIT(k);
		}
		if ((e = mrt_synth_make(s, mrt_rng_hash(op->seed, id, strlen(id)),
		    mask ? mask : MRT_SYNTH_BIT(MRT_SYNTH_SR), &rec)) != 0)
			flt_die("%s: row %lld: %s", path, nrow, mrt_strerror(e));
		/* codes not drawn: unknown to the model or dropped as conflicting */
		for (int i = 0; i < row.nlab; i++) {
			int k = code_alias(row.lab[i]);
			if (k < 0 || !(rec->findings & MRT_SYNTH_BIT(k)))
				strcpy(row.un[row.nun++], row.lab[i]);
		}
		flt_check_write(write_rec(w, rec, id, q, &row), out);
	}
	mrt_csv_free(csv);
	csv = NULL;
	fclose(csvf);
	csvf = NULL;
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "fs", required_argument, NULL, 1 },
		{ "seconds", required_argument, NULL, 2 },
		{ "hr", required_argument, NULL, 3 },
		{ "omit", required_argument, NULL, 4 },
		{ "lang", required_argument, NULL, 5 },
		{ "mains", required_argument, NULL, 6 },
		{ "like", required_argument, NULL, 7 },
		{ "silent", required_argument, NULL, 8 },
		{ "prevalence", required_argument, NULL, 9 },
		{ "seed", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts op;
	const char *out = NULL, *likef = NULL;
	int nset = 0, prevset = 0;
	int c, force = 0, e;
	mrt_writer *w;
	FILE *f;
	static const struct row gen;

	flt_init(argv[0]);
	/* a generator whose reader has had enough ends quietly, as yes(1) */
	signal(SIGPIPE, SIG_DFL);
	mrt_synth_opts_default(&op.so);
	op.so.noise = MRT_SYNTH_BW | MRT_SYNTH_MUSCLE;
	op.seed = 1;
	op.count = 10;
	op.want = 0;
	while ((c = getopt_long(argc, argv, "fF:N:n:o:s:", lo, NULL)) != -1) {
		switch (c) {
		case 'f': force = 1; break;
		case 'F': op.want = parse_codes(optarg, "-F"); break;
		case 'N': op.so.noise = parse_noise(optarg); break;
		case 'n': op.count = flt_num(optarg, 0, LLONG_MAX, "-n"); nset = 1; break;
		case 'o': out = optarg; break;
		case 's': op.seed = (uint64_t)flt_num(optarg, 0, LLONG_MAX, "-s"); break;
		case 1: op.so.fs = flt_real(optarg, 50, 10000, "--fs"); break;
		case 2: op.so.seconds = flt_real(optarg, 1, 600, "--seconds"); break;
		case 3: op.so.hr = flt_real(optarg, 30, 200, "--hr"); break;
		case 4: op.so.omit = flt_real(optarg, 0, 1, "--omit"); break;
		case 5:
			if (strcmp(optarg, "en") == 0) op.so.lang = 0;
			else if (strcmp(optarg, "de") == 0) op.so.lang = 1;
			else flt_die("--lang: unknown language %s (en, de)", optarg);
			break;
		case 6: op.so.mains = (double)flt_num(optarg, 50, 60, "--mains");
			if (op.so.mains != 50 && op.so.mains != 60)
				flt_die("--mains: not 50 or 60: %s", optarg);
			break;
		case 7: likef = optarg; break;
		case 8:
			op.so.silent = parse_codes(optarg, "--silent");
			for (int k = 0; k < MRT_SYNTH_NCODES; k++)
				if (op.so.silent & MRT_SYNTH_BIT(k))
					drawn_finding(k, "--silent", "silent");
			break;
		case 9: parse_prevalence(optarg, op.so.prevalence); prevset = 1; break;
		default: flt_usage(USAGE);
		}
	}
	if (optind != argc)
		flt_usage(USAGE);
	if (likef && op.so.silent)
		flt_die("--silent: not with --like, whose reports are the rows' own");
	if (prevset && (likef || op.want))
		flt_die("--prevalence: not with %s, whose findings are not drawn at random",
		    likef ? "--like" : "-F");
	if (op.so.fs * op.so.seconds > 1e7)
		flt_die("--fs x --seconds: more than 10^7 samples per lead");
	if ((e = mrt_synth_new(&s, &op.so)) != 0)
		flt_die("%s", mrt_strerror(e));
	q = malloc(MRT_SYNTH_NLEADS * (size_t)(op.so.fs * op.so.seconds + 1) * sizeof *q);
	if (q == NULL)
		flt_die("%s", strerror(errno));
	f = flt_out_open(out, force);
	w = flt_writer(f, 3);
	if (likef)
		like(likef, s, w, &op, nset ? op.count : -1, q, out);
	for (long long i = 0; !likef && i < op.count; i++) {
		char id[64];
		const mrt_synth_rec *rec;
		snprintf(id, sizeof id, "synth%llu-%06lld", (unsigned long long)op.seed, i + 1);
		if ((e = mrt_synth_make(s, mrt_rng_hash(op.seed, id, strlen(id)), op.want,
		    &rec)) != 0)
			flt_die("%s: %s", id, mrt_strerror(e));
		flt_check_write(write_rec(w, rec, id, q, &gen), out);
	}
	flt_writer_done(w, f, out);
	mrt_synth_free(s);
	free(q);
	return 0;
}

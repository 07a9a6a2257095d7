/*
 * ecg-ingest: ECG archives (WFDB records, PTB-XL, PhysioNet Challenge
 * 2020/2021, MIMIC-IV-ECG) into a merit stream, exact to the last sample.
 *
 * Operands: a .hea file (or a record path without .hea), a directory (a
 * PTB-XL root holding ptbxl_database.csv, a MIMIC-IV-ECG root holding
 * record_list.csv, or else every *.hea in it, in name order), or with
 * --list the .hea paths read one per line from stdin.
 *
 * Record fields written (formats/merit-stream.5 copies these):
 *   id        str: PTB-XL ecg_id, MIMIC study_id, else the WFDB record name
 *   source    str: "ptbxl", "mimic", "challenge" (a WFDB record with a
 *             "# Dx:" comment) or "wfdb"
 *   fs        float: samples per second of sig (frames per second times the
 *             record's highest samples per frame)
 *   leads     array of 12 str: I II III aVR aVL aVF V1 V2 V3 V4 V5 V6
 *   sig       tensor [12, samples]: int16 digital values exactly as stored
 *             (int32 when a lead's source format is 24 or 32); invalid
 *             samples are the dtype's minimum.  After --fs resampling:
 *             float32 in mV (NaN where the source was invalid), gain 1,
 *             baseline 0.  --seconds pads with invalid samples (NaN).
 *   gain      array of 12 float: digital units per mV (the header's gain
 *             converted from uV or V when those are the units; 200 when
 *             the header gives none or 0)
 *   baseline  array of 12 int: the header's (baseline), else its ADC zero
 *   missing   array of str: leads absent from the source (rows of zeros,
 *             gain 1, baseline 0)
 *   comments  array of str: the header's comment lines, '#' and leading
 *             blanks removed
 *   report    str (when known): PTB-XL report; MIMIC report_0..17, the
 *             non-empty ones joined with "; "; the lines after a
 *             "<diagnoses>:" comment (LUDB) joined with " "
 *   labels    map str -> float (when known): PTB-XL scp_codes with their
 *             likelihoods; Challenge "# Dx:" SNOMED CT codes -> 100
 *   label_abbr map str -> str: Challenge code -> abbreviation, from
 *             dx_mapping_scored.csv and dx_mapping_unscored.csv
 *   fold      int: PTB-XL strat_fold
 *   patient   int: PTB-XL patient_id, MIMIC subject_id
 *   age       float: years (PTB-XL age; "# Age:" / "<age>:" comments)
 *   sex       str "M" or "F" (PTB-XL 0 = M, 1 = F; "Male"/"Female"/M/F)
 *   extra     map name -> {sig: tensor [samples] (dtype as sig), gain:
 *             float, baseline: int, units: str}: the record's other
 *             signals, with --keep-extra only (a record without any of
 *             the 12 leads is then written too, all 12 missing)
 *
 * A record that cannot be read is reported ("ecg-ingest: PATH: reason"),
 * skipped, and counted; the run ends with a summary on stderr and exits 1
 * if anything was skipped.  --strict makes the first such error fatal
 * (no output file left behind).
 */
#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <sys/stat.h>

#include "cli/filter.h"
#include "io/csv.h"
#include "ecg/leads.h"
#include "ecg/resample.h"
#include "io/wfdb.h"

#define USAGE "ecg-ingest [-f] [--strict] [--hr] [--keep-extra] [--fs HZ] " \
	"[--seconds S] [--dx-map DIR] [-o FILE] [--list | PATH ...]"

struct opts {
	const char *out, *dxmap;
	int force, strict, hr, keep_extra, list;
	double fs, seconds;
};

/* A label code: at most MAXCODE bytes (mrt_csv_pydict's bound), refused
 * when longer, never cut. */
#define MAXCODE 255
#define MAXLABELS 4096
struct label { char key[MAXCODE + 1]; double v; char abbr[32]; };

struct meta {
	char id[256];
	const char *source;
	char *report;               /* malloc'ed or NULL */
	struct label *labels;
	int nlabels, caplabels;
	int64_t fold, patient;      /* -1: unknown */
	double age;                 /* NAN: unknown */
	char sex[2];
};

struct dxmap { char code[32]; char abbr[32]; };

#define NREASON 8
static const char *const reasons[NREASON] = {
	"missing file", "size mismatch", "bad header", "over a limit",
	"read error", "no standard lead", "bad CSV row", "other",
};

struct ctx {
	struct opts o;
	mrt_writer *w;
	FILE *outf;
	uint64_t read, written, skipped[NREASON];
	struct dxmap *dx;
	int ndx;
	char dxdir[4096];           /* where dx was loaded from */
};

/* ---- accounting -------------------------------------------------------- */

static int
reason_of(int e)
{
	switch (e) {
	case MRT_ENOENT: return 0;
	case MRT_ETRUNC: return 1;
	case MRT_EFORMAT: return 2;
	case MRT_ERANGE: case MRT_ENOMEM: return 3;
	case MRT_EIO: return 4;
	}
	return 7;
}

__attribute__((format(printf, 3, 4))) static void
skip(struct ctx *c, int reason, const char *fmt, ...)
{
	char m[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof m, fmt, ap);
	va_end(ap);
	if (c->o.strict)
		flt_die("%s", m);
	flt_warn("%s", m);
	c->skipped[reason]++;
}

/* ---- metadata ---------------------------------------------------------- */

static void
meta_init(struct meta *m, const char *source)
{
	memset(m, 0, sizeof *m);
	m->source = source;
	m->fold = m->patient = -1;
	m->age = NAN;
}

static void
meta_clear(struct meta *m)
{
	free(m->report);
	free(m->labels);
	meta_init(m, NULL);
}

/*
 * Add label key with likelihood v; a code given twice is one label (with
 * the later likelihood, as a Python dict keeps it), an empty one none.  MRT_ERANGE for a code
 * longer than MAXCODE bytes or more than MAXLABELS codes.
 */
static int
add_label(void *ctx, const char *key, double v)
{
	struct meta *m = ctx;
	size_t n = strlen(key);
	if (n == 0)
		return 0;       /* no code: nothing to label */
	if (n > MAXCODE)
		return MRT_ERANGE;
	for (int i = 0; i < m->nlabels; i++)
		if (strcmp(m->labels[i].key, key) == 0) {
			m->labels[i].v = v;
			return 0;
		}
	if (m->nlabels == m->caplabels) {
		int cap = m->caplabels ? m->caplabels * 2 : 8;
		struct label *p;
		if (cap > MAXLABELS)
			return MRT_ERANGE;
		if ((p = realloc(m->labels, cap * sizeof *p)) == NULL)
			flt_die("out of memory");
		m->labels = p;
		m->caplabels = cap;
	}
	memcpy(m->labels[m->nlabels].key, key, n + 1);
	m->labels[m->nlabels].v = v;
	m->labels[m->nlabels].abbr[0] = 0;
	m->nlabels++;
	return 0;
}

static void
append_report(struct meta *m, const char *s, const char *sep)
{
	size_t a = m->report ? strlen(m->report) : 0, b = strlen(s);
	size_t l = strlen(sep);
	char *p;
	if (b == 0)
		return;
	if ((p = realloc(m->report, a + l + b + 1)) == NULL)
		flt_die("out of memory");
	if (a)
		memcpy(p + a, sep, l);
	else
		l = 0;
	memcpy(p + a + l, s, b + 1);
	m->report = p;
}

static char *
trim(char *s)
{
	size_t n;
	while (isspace((unsigned char)*s))
		s++;
	n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = 0;
	return s;
}

static void
set_sex(struct meta *m, const char *v)
{
	if (strcasecmp(v, "m") == 0 || strcasecmp(v, "male") == 0)
		strcpy(m->sex, "M");
	else if (strcasecmp(v, "f") == 0 || strcasecmp(v, "female") == 0)
		strcpy(m->sex, "F");
}

static void
set_age(struct meta *m, const char *v)
{
	char *end;
	double a = strtod(v, &end);
	if (end != v && *trim(end) == 0 && isfinite(a) && a >= 0)
		m->age = a;
}

static const char *
dx_abbr(const struct ctx *c, const char *code)
{
	for (int i = 0; i < c->ndx; i++)
		if (strcmp(c->dx[i].code, code) == 0)
			return c->dx[i].abbr;
	return NULL;
}

/*
 * Demographics and labels from header comments "Key: value" (Challenge
 * "# Age: 78", LUDB "#<age>: 51", PTB "# sex: female").  Fills only what
 * the CSV joins left unknown.  MRT_ERANGE (why says which) for a Dx code
 * longer than MAXCODE bytes or more than MAXLABELS codes.
 */
static int
comment_meta(struct ctx *c, struct meta *m, const mrt_wfdb *w, int *isdx,
    char *why, size_t cap)
{
	int diag = 0, hadreport = m->report != NULL, haddx = m->nlabels > 0;
	*isdx = 0;
	for (int i = 0; i < mrt_wfdb_ncomments(w); i++) {
		char buf[MRT_WFDB_MAXLINE + 1], key[32], *colon, *v, *k;
		size_t n = 0;
		snprintf(buf, sizeof buf, "%s", mrt_wfdb_comment(w, i));
		colon = strchr(buf, ':');
		if (colon == NULL) {
			if (diag && !hadreport)
				append_report(m, trim(buf), " ");
			continue;
		}
		*colon = 0;
		for (k = buf; *k && n + 1 < sizeof key; k++)
			if (*k != '<' && *k != '>' && *k != ' ')
				key[n++] = (char)tolower((unsigned char)*k);
		key[n] = 0;
		v = trim(colon + 1);
		if (strcmp(key, "age") == 0 && isnan(m->age))
			set_age(m, v);
		else if (strcmp(key, "sex") == 0 && m->sex[0] == 0)
			set_sex(m, v);
		else if (strcmp(key, "dx") == 0) {
			*isdx = 1;
			if (haddx)
				continue;
			for (char *t = strtok(v, ","); t; t = strtok(NULL, ",")) {
				const char *a;
				int had = m->nlabels;
				t = trim(t);
				if (*t == 0)
					continue;
				if (add_label(m, t, 100) != 0)
					return mrt_errf(why, cap, MRT_ERANGE, "%s",
					    strlen(t) > MAXCODE ? "a Dx code longer "
					    "than 255 bytes" : "more than 4096 Dx "
					    "codes");
				if (m->nlabels > had && (a = dx_abbr(c, t)) != NULL)
					snprintf(m->labels[m->nlabels - 1].abbr,
					    sizeof m->labels[0].abbr, "%s", a);
			}
		} else if (strcmp(key, "diagnoses") == 0) {
			diag = 1;
			if (!hadreport && *v)
				append_report(m, v, " ");
			continue;
		} else if (diag && !hadreport) {
			*colon = ':';
			append_report(m, trim(buf), " ");
			continue;
		}
		diag = 0;
	}
	return 0;
}

/* Load dx_mapping_scored.csv and dx_mapping_unscored.csv from dir, once. */
static void
load_dxmap(struct ctx *c, const char *dir)
{
	static const char *const files[] = {
		"dx_mapping_scored.csv", "dx_mapping_unscored.csv",
	};
	if (strcmp(c->dxdir, dir) == 0)
		return;
	snprintf(c->dxdir, sizeof c->dxdir, "%s", dir);
	free(c->dx);
	c->dx = NULL;
	c->ndx = 0;
	for (int i = 0; i < 2; i++) {
		char p[8192];
		FILE *f;
		mrt_csv *csv;
		int code, abbr, e;
		snprintf(p, sizeof p, "%s/%s", dir, files[i]);
		if ((f = fopen(p, "rb")) == NULL) {
			if (c->o.dxmap)
				flt_die("%s: %s", p, strerror(errno));
			continue;
		}
		if (mrt_csv_open(&csv, f) != 0)
			flt_die("out of memory");
		if (mrt_csv_header(csv) != 0)
			flt_die("%s: %s", p, mrt_csv_errmsg(csv));
		code = mrt_csv_col(csv, "SNOMEDCTCode");
		abbr = mrt_csv_col(csv, "Abbreviation");
		if (code < 0 || abbr < 0)
			flt_die("%s: no SNOMEDCTCode or Abbreviation column", p);
		while ((e = mrt_csv_next(csv)) == 1) {
			struct dxmap *d;
			if ((d = realloc(c->dx, (c->ndx + 1) * sizeof *d)) ==
			    NULL)
				flt_die("out of memory");
			c->dx = d;
			snprintf(d[c->ndx].code, sizeof d->code, "%s",
			    mrt_csv_field(csv, code));
			snprintf(d[c->ndx].abbr, sizeof d->abbr, "%s",
			    mrt_csv_field(csv, abbr));
			c->ndx++;
		}
		if (e < 0)
			flt_die("%s: %s", p, mrt_csv_errmsg(csv));
		mrt_csv_free(csv);
		fclose(f);
	}
}

/* ---- one record -------------------------------------------------------- */

struct sigout {
	int src[MRT_LEADS_N];       /* source signal of each lead, -1 */
	int nextra, *extra;         /* other signals */
	int64_t n;                  /* samples per row written */
	mrt_dtype dt;
	void *data;                 /* [12][n] of dt */
	double gain[MRT_LEADS_N];
	int64_t base[MRT_LEADS_N];
	void *xdata;                /* [nextra][n] of dt */
};

static double
gain_mv(const mrt_wfdb_sig *s)
{
	double k = mrt_wfdb_per_mv(s->units);
	return k > 0 ? s->gain * k : s->gain;
}

/* Write value v (digital int32 or float mV) at row r, index i. */
static void
put_val(mrt_dtype dt, void *data, int64_t n, int r, int64_t i, double v,
    int invalid)
{
	if (dt == MRT_F32)
		((float *)data)[r * n + i] = invalid ? NAN : (float)v;
	else if (dt == MRT_I32)
		((int32_t *)data)[r * n + i] = invalid ? INT32_MIN : (int32_t)v;
	else
		((int16_t *)data)[r * n + i] = invalid ? INT16_MIN : (int16_t)v;
}

/*
 * Build one row (lead or extra) from the source row x[n] into data row r:
 * resampled to fs (float mV) when resampling, then cropped or padded to
 * nout samples.
 */
static void
make_row(const struct ctx *c, const int32_t *x, int64_t n, double fsin,
    const mrt_wfdb_sig *s, mrt_dtype dt, void *data, int r, int64_t nout)
{
	if (dt == MRT_F32) {
		int64_t m = mrt_resample_len(n, fsin, c->o.fs);
		float *in = malloc((n + 1) * sizeof *in);
		float *out = malloc((m + 1) * sizeof *out);
		double g = gain_mv(s);
		if (in == NULL || out == NULL)
			flt_die("out of memory");
		for (int64_t i = 0; i < n; i++)
			in[i] = x[i] == MRT_WFDB_INVALID ? 0.0f :
			    (float)((x[i] - (double)s->baseline) / g);
		if (mrt_resample(in, n, fsin, c->o.fs, out) != 0)
			flt_die("resampling failed");
		for (int64_t j = 0; j < nout; j++) {
			int64_t src = llround((double)j * fsin / c->o.fs);
			int bad = j >= m || src >= n || x[src] == MRT_WFDB_INVALID;
			put_val(dt, data, nout, r, j, bad ? 0 : out[j], bad);
		}
		free(in);
		free(out);
		return;
	}
	for (int64_t j = 0; j < nout; j++)
		put_val(dt, data, nout, r, j, j < n ? x[j] : 0,
		    j >= n || x[j] == MRT_WFDB_INVALID);
}

static int
pack_meta(msgpack_packer *pk, const struct meta *m)
{
	int e = 0, nabbr = 0;
	if (m->report)
		e |= mrt_pack_kv_str(pk, "report", m->report);
	if (m->nlabels) {
		e |= mrt_pack_str(pk, "labels");
		e |= msgpack_pack_map(pk, m->nlabels);
		for (int i = 0; i < m->nlabels; i++) {
			e |= mrt_pack_str(pk, m->labels[i].key);
			e |= msgpack_pack_double(pk, m->labels[i].v);
			nabbr += m->labels[i].abbr[0] != 0;
		}
	}
	if (nabbr) {
		e |= mrt_pack_str(pk, "label_abbr");
		e |= msgpack_pack_map(pk, nabbr);
		for (int i = 0; i < m->nlabels; i++)
			if (m->labels[i].abbr[0]) {
				e |= mrt_pack_str(pk, m->labels[i].key);
				e |= mrt_pack_str(pk, m->labels[i].abbr);
			}
	}
	if (m->fold >= 0)
		e |= mrt_pack_kv_int(pk, "fold", m->fold);
	if (m->patient >= 0)
		e |= mrt_pack_kv_int(pk, "patient", m->patient);
	if (!isnan(m->age))
		e |= mrt_pack_kv_f64(pk, "age", m->age);
	if (m->sex[0])
		e |= mrt_pack_kv_str(pk, "sex", m->sex);
	return e ? MRT_EIO : 0;
}

static uint32_t
meta_nfields(const struct meta *m)
{
	int nabbr = 0;
	for (int i = 0; i < m->nlabels; i++)
		nabbr += m->labels[i].abbr[0] != 0;
	return (m->report != NULL) + (m->nlabels > 0) + (nabbr > 0) +
	    (m->fold >= 0) + (m->patient >= 0) + !isnan(m->age) +
	    (m->sex[0] != 0);
}

static void
write_record(struct ctx *c, const mrt_wfdb *w, const struct meta *m,
    const struct sigout *so, double fs)
{
	msgpack_packer *pk;
	int e = 0, nmissing = 0;
	int64_t shape[2] = { MRT_LEADS_N, so->n };
	uint32_t nf = 9 + meta_nfields(m) + (so->nextra > 0);
	for (int l = 0; l < MRT_LEADS_N; l++)
		nmissing += so->src[l] < 0;
	flt_check_write(mrt_writer_begin(c->w, nf), c->o.out);
	pk = mrt_writer_packer(c->w);
	e |= mrt_pack_kv_str(pk, "id", m->id);
	e |= mrt_pack_kv_str(pk, "source", m->source);
	e |= mrt_pack_kv_f64(pk, "fs", fs);
	e |= mrt_pack_str(pk, "leads");
	e |= msgpack_pack_array(pk, MRT_LEADS_N);
	for (int l = 0; l < MRT_LEADS_N; l++)
		e |= mrt_pack_str(pk, mrt_leads_name(l));
	e |= mrt_pack_kv_tensor(pk, "sig", so->dt, 2, shape, so->data);
	e |= mrt_pack_str(pk, "gain");
	e |= msgpack_pack_array(pk, MRT_LEADS_N);
	for (int l = 0; l < MRT_LEADS_N; l++)
		e |= msgpack_pack_double(pk, so->gain[l]);
	e |= mrt_pack_str(pk, "baseline");
	e |= msgpack_pack_array(pk, MRT_LEADS_N);
	for (int l = 0; l < MRT_LEADS_N; l++)
		e |= msgpack_pack_int64(pk, so->base[l]);
	e |= mrt_pack_str(pk, "missing");
	e |= msgpack_pack_array(pk, nmissing);
	for (int l = 0; l < MRT_LEADS_N; l++)
		if (so->src[l] < 0)
			e |= mrt_pack_str(pk, mrt_leads_name(l));
	e |= mrt_pack_str(pk, "comments");
	e |= msgpack_pack_array(pk, mrt_wfdb_ncomments(w));
	for (int i = 0; i < mrt_wfdb_ncomments(w); i++)
		e |= mrt_pack_str(pk, mrt_wfdb_comment(w, i));
	e |= pack_meta(pk, m);
	if (so->nextra) {
		size_t esz = mrt_dtype_size(so->dt);
		e |= mrt_pack_str(pk, "extra");
		e |= msgpack_pack_map(pk, so->nextra);
		for (int i = 0; i < so->nextra; i++) {
			const mrt_wfdb_sig *s = mrt_wfdb_signal(w, so->extra[i]);
			int resampled = so->dt == MRT_F32;
			char name[300];
			/* unnamed or repeated names get their signal number */
			snprintf(name, sizeof name, "%s", s->desc);
			for (int j = 0; j < i; j++)
				if (strcmp(mrt_wfdb_signal(w,
				    so->extra[j])->desc, s->desc) == 0)
					name[0] = 0;
			if (name[0] == 0)
				snprintf(name, sizeof name, "signal %d",
				    so->extra[i]);
			e |= mrt_pack_str(pk, name);
			e |= msgpack_pack_map(pk, 4);
			e |= mrt_pack_kv_tensor(pk, "sig", so->dt, 1, &so->n,
			    (const char *)so->xdata + (size_t)i * so->n * esz);
			e |= mrt_pack_kv_f64(pk, "gain",
			    resampled ? 1 : gain_mv(s));
			e |= mrt_pack_kv_int(pk, "baseline",
			    resampled ? 0 : s->baseline);
			e |= mrt_pack_kv_str(pk, "units",
			    resampled && mrt_wfdb_per_mv(s->units) > 0 ? "mV" :
			    s->units);
		}
	}
	flt_check_write(e ? MRT_EIO : 0, c->o.out);
	flt_check_write(mrt_writer_end(c->w), c->o.out);
	c->written++;
}

/*
 * Read the WFDB record at path and write it with metadata m.  where
 * prefixes messages (a CSV line), may be "".
 */
static void
ingest(struct ctx *c, const char *where, const char *path, struct meta *m)
{
	mrt_wfdb *w = NULL;
	int32_t *x = NULL;
	int64_t n = 0, nout;
	int e, isdx, nsig, wide = 0;
	struct sigout so;
	double fsin, fs;
	char why[128];
	c->read++;
	memset(&so, 0, sizeof so);
	e = mrt_wfdb_open(&w, path);
	if (e == 0)
		e = mrt_wfdb_read(w, &x, &n);
	if (e != 0) {
		skip(c, reason_of(e), "%s%s: %s", where, path,
		    w ? mrt_wfdb_errmsg(w) : mrt_strerror(e));
		goto done;
	}
	nsig = mrt_wfdb_nsig(w);
	for (int l = 0; l < MRT_LEADS_N; l++)
		so.src[l] = -1;
	if ((so.extra = malloc((nsig + 1) * sizeof *so.extra)) == NULL)
		flt_die("out of memory");
	for (int s = 0; s < nsig; s++) {
		const mrt_wfdb_sig *sg = mrt_wfdb_signal(w, s);
		int l = mrt_leads_index(sg->desc);
		if (l >= 0 && so.src[l] < 0)
			so.src[l] = s;
		else if (c->o.keep_extra)
			so.extra[so.nextra++] = s;
		if ((l >= 0 || c->o.keep_extra) && (sg->fmt == 24 ||
		    sg->fmt == 32))
			wide = 1;
		/* format 8 sums may leave int16 too */
		for (int64_t i = 0; (l >= 0 || c->o.keep_extra) && !wide && i < n;
		    i++) {
			int32_t v = x[(int64_t)s * n + i];
			wide = v != MRT_WFDB_INVALID && (v < -32767 || v > 32767);
		}
	}
	{
		int any = 0;
		for (int l = 0; l < MRT_LEADS_N; l++)
			any |= so.src[l] >= 0;
		if (!any && !c->o.keep_extra) {
			skip(c, 5, "%s%s: no standard ECG lead among its %d "
			    "signals", where, path, nsig);
			goto done;
		}
	}
	fsin = mrt_wfdb_fs(w) * mrt_wfdb_maxspf(w);
	fs = fsin;
	so.dt = wide ? MRT_I32 : MRT_I16;
	nout = n;
	if (c->o.fs > 0 && c->o.fs != fsin) {
		so.dt = MRT_F32;
		fs = c->o.fs;
		nout = mrt_resample_len(n, fsin, fs);
	}
	if (c->o.seconds > 0)
		nout = llround(c->o.seconds * fs);
	if ((so.data = calloc((size_t)(MRT_LEADS_N * nout + 1),
	    mrt_dtype_size(so.dt))) == NULL ||
	    (so.xdata = calloc((size_t)(so.nextra * nout + 1),
	    mrt_dtype_size(so.dt))) == NULL)
		flt_die("out of memory");
	so.n = nout;
	for (int l = 0; l < MRT_LEADS_N; l++) {
		const mrt_wfdb_sig *sg;
		if (so.src[l] < 0) {
			so.gain[l] = 1;
			continue;
		}
		sg = mrt_wfdb_signal(w, so.src[l]);
		so.gain[l] = so.dt == MRT_F32 ? 1 : gain_mv(sg);
		so.base[l] = so.dt == MRT_F32 ? 0 : sg->baseline;
		make_row(c, x + (int64_t)so.src[l] * n, n, fsin, sg, so.dt,
		    so.data, l, nout);
	}
	for (int i = 0; i < so.nextra; i++)
		make_row(c, x + (int64_t)so.extra[i] * n, n, fsin,
		    mrt_wfdb_signal(w, so.extra[i]), so.dt, so.xdata, i, nout);
	if ((e = comment_meta(c, m, w, &isdx, why, sizeof why)) != 0) {
		skip(c, reason_of(e), "%s%s: %s", where, path, why);
		goto done;
	}
	if (m->source == NULL)
		m->source = isdx ? "challenge" : "wfdb";
	if (m->id[0] == 0)
		snprintf(m->id, sizeof m->id, "%s", mrt_wfdb_name(w));
	write_record(c, w, m, &so, fs);
done:
	free(so.data);
	free(so.xdata);
	free(so.extra);
	free(x);
	mrt_wfdb_free(w);
}

/* ---- sources ----------------------------------------------------------- */

static int
is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
is_file(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* A .hea path (or a record path without it). */
static void
ingest_hea(struct ctx *c, const char *path)
{
	struct meta m;
	char p[8192], dir[8192], *slash;
	size_t l = strlen(path);
	if (l >= 4 && strcmp(path + l - 4, ".hea") == 0)
		snprintf(p, sizeof p, "%s", path);
	else
		snprintf(p, sizeof p, "%s.hea", path);
	snprintf(dir, sizeof dir, "%s", p);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	else
		strcpy(dir, ".");
	load_dxmap(c, c->o.dxmap ? c->o.dxmap : dir);
	meta_init(&m, NULL);
	ingest(c, "", p, &m);
	meta_clear(&m);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
ingest_dir(struct ctx *c, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char **names = NULL;
	size_t n = 0;
	if (d == NULL)
		flt_die("%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		size_t l = strlen(e->d_name);
		char **p;
		if (l < 5 || strcmp(e->d_name + l - 4, ".hea") != 0)
			continue;
		if ((p = realloc(names, (n + 1) * sizeof *p)) == NULL ||
		    (p[n] = strdup(e->d_name)) == NULL)
			flt_die("out of memory");
		names = p;
		n++;
	}
	closedir(d);
	if (n == 0)
		flt_die("%s: no .hea files, ptbxl_database.csv or "
		    "record_list.csv", dir);
	qsort(names, n, sizeof *names, cmpstr);
	for (size_t i = 0; i < n; i++) {
		char p[8192];
		snprintf(p, sizeof p, "%s/%s", dir, names[i]);
		ingest_hea(c, p);
		free(names[i]);
	}
	free(names);
}

static mrt_csv *
open_csv(const char *path, FILE **f)
{
	mrt_csv *csv;
	if ((*f = fopen(path, "rb")) == NULL)
		flt_die("%s: %s", path, strerror(errno));
	if (mrt_csv_open(&csv, *f) != 0)
		flt_die("out of memory");
	if (mrt_csv_header(csv) != 0)
		flt_die("%s: %s", path, mrt_csv_errmsg(csv));
	return csv;
}

static int
csv_need(const mrt_csv *csv, const char *path, const char *col)
{
	int i = mrt_csv_col(csv, col);
	if (i < 0)
		flt_die("%s: no column %s", path, col);
	return i;
}

/* An integer field like "15709" or "15709.0"; -1 if empty or not. */
static int64_t
num_field(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end || !isfinite(v) || v < 0 || v > 9e15 ||
	    v != floor(v))
		return -1;
	return (int64_t)v;
}

static void
ingest_ptbxl(struct ctx *c, const char *root)
{
	char p[8192];
	FILE *f;
	mrt_csv *csv;
	int id, pat, age, sex, rep, scp, fold, fn, e;
	snprintf(p, sizeof p, "%s/ptbxl_database.csv", root);
	csv = open_csv(p, &f);
	id = csv_need(csv, p, "ecg_id");
	pat = csv_need(csv, p, "patient_id");
	age = csv_need(csv, p, "age");
	sex = csv_need(csv, p, "sex");
	rep = csv_need(csv, p, "report");
	scp = csv_need(csv, p, "scp_codes");
	fold = csv_need(csv, p, "strat_fold");
	fn = csv_need(csv, p, c->o.hr ? "filename_hr" : "filename_lr");
	while ((e = mrt_csv_next(csv)) == 1) {
		struct meta m;
		char where[8400], hea[8192];
		const char *sx = mrt_csv_field(csv, sex);
		snprintf(where, sizeof where, "%s: line %llu: ", p,
		    (unsigned long long)mrt_csv_line(csv));
		meta_init(&m, "ptbxl");
		snprintf(m.id, sizeof m.id, "%s", mrt_csv_field(csv, id));
		m.patient = num_field(mrt_csv_field(csv, pat));
		m.fold = num_field(mrt_csv_field(csv, fold));
		set_age(&m, mrt_csv_field(csv, age));
		if (strcmp(sx, "0") == 0)
			strcpy(m.sex, "M");
		else if (strcmp(sx, "1") == 0)
			strcpy(m.sex, "F");
		if (*mrt_csv_field(csv, rep))
			append_report(&m, mrt_csv_field(csv, rep), "");
		if (m.id[0] == 0 || *mrt_csv_field(csv, fn) == 0) {
			c->read++;
			skip(c, 6, "%srow without a record", where);
		} else if ((e = mrt_csv_pydict(mrt_csv_field(csv, scp), add_label,
		    &m)) != 0) {
			c->read++;
			if (e == MRT_ERANGE)
				skip(c, 3, "%sscp_codes has a code longer than 255 "
				    "bytes or more than 4096 codes", where);
			else
				skip(c, 6, "%sscp_codes is not a dict of numbers: "
				    "%.60s", where, mrt_csv_field(csv, scp));
		} else {
			snprintf(hea, sizeof hea, "%s/%s.hea", root,
			    mrt_csv_field(csv, fn));
			ingest(c, where, hea, &m);
		}
		meta_clear(&m);
	}
	if (e < 0)
		flt_die("%s: %s", p, mrt_csv_errmsg(csv));
	mrt_csv_free(csv);
	fclose(f);
}

struct study { int64_t id; char *report; };

static int
cmpstudy(const void *a, const void *b)
{
	const struct study *x = a, *y = b;
	return (x->id > y->id) - (x->id < y->id);
}

static void
ingest_mimic(struct ctx *c, const char *root)
{
	char p[8192], q[8192];
	FILE *f;
	mrt_csv *csv;
	struct study *st = NULL;
	size_t nst = 0, capst = 0;
	int sid, subj, path, e, r0;
	/* machine_measurements.csv: study_id -> joined report */
	snprintf(q, sizeof q, "%s/machine_measurements.csv", root);
	csv = open_csv(q, &f);
	sid = csv_need(csv, q, "study_id");
	r0 = csv_need(csv, q, "report_0");
	for (int i = 1; i < 18; i++) {
		char col[16];
		snprintf(col, sizeof col, "report_%d", i);
		if (csv_need(csv, q, col) != r0 + i)
			flt_die("%s: report columns out of order", q);
	}
	while ((e = mrt_csv_next(csv)) == 1) {
		struct meta m;
		if (nst == capst) {
			capst = capst ? capst * 2 : 1024;
			if ((st = realloc(st, capst * sizeof *st)) == NULL)
				flt_die("out of memory");
		}
		meta_init(&m, NULL);
		for (int i = 0; i < 18; i++)
			append_report(&m, mrt_csv_field(csv, r0 + i), "; ");
		st[nst].id = num_field(mrt_csv_field(csv, sid));
		st[nst].report = m.report;
		nst++;
	}
	if (e < 0)
		flt_die("%s: %s", q, mrt_csv_errmsg(csv));
	mrt_csv_free(csv);
	fclose(f);
	if (nst)
		qsort(st, nst, sizeof *st, cmpstudy);
	snprintf(p, sizeof p, "%s/record_list.csv", root);
	csv = open_csv(p, &f);
	sid = csv_need(csv, p, "study_id");
	subj = csv_need(csv, p, "subject_id");
	path = csv_need(csv, p, "path");
	while ((e = mrt_csv_next(csv)) == 1) {
		struct meta m;
		struct study key, *hit;
		char where[8400], hea[8192];
		snprintf(where, sizeof where, "%s: line %llu: ", p,
		    (unsigned long long)mrt_csv_line(csv));
		meta_init(&m, "mimic");
		snprintf(m.id, sizeof m.id, "%s", mrt_csv_field(csv, sid));
		m.patient = num_field(mrt_csv_field(csv, subj));
		key.id = num_field(m.id);
		hit = nst ? bsearch(&key, st, nst, sizeof *st, cmpstudy) : NULL;
		if (hit && hit->report)
			append_report(&m, hit->report, "");
		if (m.id[0] == 0 || *mrt_csv_field(csv, path) == 0) {
			c->read++;
			skip(c, 6, "%srow without a record", where);
		} else {
			snprintf(hea, sizeof hea, "%s/%s.hea", root,
			    mrt_csv_field(csv, path));
			ingest(c, where, hea, &m);
		}
		meta_clear(&m);
	}
	if (e < 0)
		flt_die("%s: %s", p, mrt_csv_errmsg(csv));
	mrt_csv_free(csv);
	fclose(f);
	for (size_t i = 0; i < nst; i++)
		free(st[i].report);
	free(st);
}

static void
ingest_operand(struct ctx *c, const char *path)
{
	char p[8192];
	if (is_dir(path)) {
		snprintf(p, sizeof p, "%s/ptbxl_database.csv", path);
		if (is_file(p)) {
			ingest_ptbxl(c, path);
			return;
		}
		snprintf(p, sizeof p, "%s/record_list.csv", path);
		if (is_file(p)) {
			ingest_mimic(c, path);
			return;
		}
		ingest_dir(c, path);
		return;
	}
	ingest_hea(c, path);
}

/* --list: .hea paths, one per line, from stdin. */
static void
ingest_list(struct ctx *c)
{
	char line[8192];
	uint64_t ln = 0;
	while (fgets(line, sizeof line, stdin)) {
		size_t l = strlen(line);
		ln++;
		if (l && line[l - 1] != '\n' && !feof(stdin))
			flt_die("stdin: line %llu: longer than %zu bytes",
			    (unsigned long long)ln, sizeof line - 2);
		while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			line[--l] = 0;
		if (l == 0)
			continue;
		ingest_hea(c, line);
	}
	if (ferror(stdin))
		flt_die("stdin: %s", strerror(errno));
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "fs", required_argument, NULL, 'F' },
		{ "seconds", required_argument, NULL, 'S' },
		{ "strict", no_argument, NULL, 's' },
		{ "hr", no_argument, NULL, 'H' },
		{ "keep-extra", no_argument, NULL, 'x' },
		{ "list", no_argument, NULL, 'l' },
		{ "dx-map", required_argument, NULL, 'd' },
		FLT_OPT_FORCE, FLT_OPT_OUTPUT, FLT_OPT_END
	};
	struct ctx c;
	uint64_t skipped = 0;
	int ch;
	flt_init(argv[0]);
	memset(&c, 0, sizeof c);
	while ((ch = flt_getopt(argc, argv, "fo:", lo, USAGE)) != -1)
		switch (ch) {
		case 'f': c.o.force = 1; break;
		case 'o': c.o.out = optarg; break;
		case 'F': c.o.fs = flt_real(optarg, 1, 1e6, "--fs"); break;
		case 'S':
			c.o.seconds = flt_real(optarg, 0.001, 86400,
			    "--seconds");
			break;
		case 's': c.o.strict = 1; break;
		case 'H': c.o.hr = 1; break;
		case 'x': c.o.keep_extra = 1; break;
		case 'l': c.o.list = 1; break;
		case 'd': c.o.dxmap = optarg; break;
		default: flt_usage(USAGE);
		}
	if (c.o.list == (optind < argc))
		flt_usage(USAGE);
	if (c.o.dxmap)
		load_dxmap(&c, c.o.dxmap);
	c.outf = flt_out_open(c.o.out, c.o.force);
	c.w = flt_writer(c.outf, 3);
	if (c.o.list)
		ingest_list(&c);
	else
		for (int i = optind; i < argc; i++)
			ingest_operand(&c, argv[i]);
	flt_writer_done(c.w, c.outf, c.o.out);
	for (int i = 0; i < NREASON; i++)
		skipped += c.skipped[i];
	if (skipped) {
		char b[512];
		int n = 0;
		for (int i = 0; i < NREASON; i++)
			if (c.skipped[i])
				n += snprintf(b + n, sizeof b - n, "%s%s %llu",
				    n ? ", " : "", reasons[i],
				    (unsigned long long)c.skipped[i]);
		flt_warn("read %llu, written %llu, skipped %llu (%s)",
		    (unsigned long long)c.read, (unsigned long long)c.written,
		    (unsigned long long)skipped, b);
	} else
		flt_warn("read %llu, written %llu, skipped 0",
		    (unsigned long long)c.read, (unsigned long long)c.written);
	free(c.dx);
	return skipped ? 1 : 0;
}

/*
 * ecg-plot: draw records as 12-lead ECGs on ECG paper, in SVG.
 *
 *   ecg-plot [-n count] [-o file | -d dir] [file]
 *
 * Paper as printed by electrocardiographs: 25 mm/s, 10 mm/mV, a red grid
 * of 1 mm and 5 mm squares; four columns of 2.5 s (I II III, aVR aVL aVF,
 * V1-V3, V4-V6) and a 10 s rhythm strip of lead II.  The SVG's units are
 * millimetres.  -o writes the first count records into one file, one
 * below the other; -d writes DIR/ID.svg per record.
 */
#include <getopt.h>
#include <math.h>

#include "cli/filter.h"
#include "ecg/leads.h"

#define USAGE "ecg-plot [-n count] [-o file | -d dir] [file]"
#define ROWH 30.0     /* mm per row */
#define LEFT 5.0
#define TOP 12.0

static float *x;   /* file scope: still reachable when flt_die() exits */


/* Row index of each standard lead in leads[], or -1. */
static void
map_leads(const msgpack_object *lf, int L, int idx[12])
{
	for (int s = 0; s < 12; s++) {
		idx[s] = -1;
		if (lf != NULL && lf->type == MSGPACK_OBJECT_ARRAY && (int)lf->via.array.size == L) {
			for (int l = 0; l < L; l++) {
				const msgpack_object *o = &lf->via.array.ptr[l];
				if (o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(mrt_leads_name(s)) &&
				    strncasecmp(o->via.str.ptr, mrt_leads_name(s), o->via.str.size) == 0)
					idx[s] = l;
			}
		} else if (L == 12)
			idx[s] = s;
	}
}

static void
xml_text(FILE *f, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		switch (s[i]) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default:
			if ((unsigned char)s[i] >= 0x20 || s[i] == '\t')
				fputc(s[i], f);
		}
	}
}

/* One trace: samples x[k0..k1) of a lead, baseline y0, from x position x0. */
static void
trace(FILE *f, const float *x, int64_t k0, int64_t k1, double fs, double x0,
    double y0)
{
	int pen = 0;
	for (int64_t k = k0; k < k1; k++) {
		double v = x[k];
		if (!isfinite(v)) {
			pen = 0;
			continue;
		}
		if (v > 1.45) v = 1.45;     /* stay in the row */
		if (v < -1.45) v = -1.45;
		fprintf(f, "%s%.2f,%.2f", pen ? " " : "<polyline points=\"",
		    x0 + (k - k0) / fs * 25, y0 - v * 10);
		if (!pen)
			pen = 1;
		if (pen && k + 1 < k1 && !isfinite(x[k + 1])) {
			fputs("\"/>\n", f);
			pen = 0;
		}
	}
	if (pen)
		fputs("\"/>\n", f);
}

/* Draw one record with its top at y. */
static void
plot(FILE *f, const msgpack_object *rec, const float *x, int L, int64_t ns,
    double fs, double y)
{
	int idx[12];
	double secs = ns / fs, w = 250;
	const char *s;
	size_t n;
	map_leads(mrt_rec_get(rec, "leads"), L, idx);
	/* grid */
	fprintf(f, "<g transform=\"translate(%.1f,%.1f)\">\n", LEFT, y + TOP);
	fprintf(f, "<rect width=\"%.1f\" height=\"%.1f\" fill=\"#fff5f5\"/>\n", w, 4 * ROWH);
	fputs("<path stroke=\"#f4c2c2\" stroke-width=\"0.1\" d=\"", f);
	for (int i = 0; i <= (int)w; i++)
		if (i % 5)
			fprintf(f, "M%d 0v%.0f", i, 4 * ROWH);
	for (int i = 0; i <= (int)(4 * ROWH); i++)
		if (i % 5)
			fprintf(f, "M0 %dh%.0f", i, w);
	fputs("\"/>\n<path stroke=\"#e88080\" stroke-width=\"0.25\" d=\"", f);
	for (int i = 0; i <= (int)w; i += 5)
		fprintf(f, "M%d 0v%.0f", i, 4 * ROWH);
	for (int i = 0; i <= (int)(4 * ROWH); i += 5)
		fprintf(f, "M0 %dh%.0f", i, w);
	fputs("\"/>\n<g fill=\"none\" stroke=\"#000\" stroke-width=\"0.3\" "
	    "stroke-linejoin=\"round\">\n", f);
	/* 3 x 4 leads, 2.5 s each */
	for (int col = 0; col < 4; col++)
		for (int row = 0; row < 3; row++) {
			int sl = col * 3 + row, l = idx[sl];
			int64_t k0 = (int64_t)(col * 2.5 * fs), k1 = (int64_t)((col + 1) * 2.5 * fs);
			if (l < 0 || k0 >= ns)
				continue;
			if (k1 > ns)
				k1 = ns;
			trace(f, x + l * ns, k0, k1, fs, col * 62.5, (row + 0.5) * ROWH + 2);
		}
	if (idx[1] >= 0)
		trace(f, x + idx[1] * ns, 0, ns < (int64_t)(10 * fs) ? ns : (int64_t)(10 * fs),
		    fs, 0, 3.5 * ROWH + 2);
	fputs("</g>\n<g font-family=\"sans-serif\" font-size=\"3\" fill=\"#000\">\n", f);
	for (int sl = 0; sl < 12; sl++)
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%s</text>\n", (sl / 3) * 62.5 + 1,
		    (sl % 3) * ROWH + 4, mrt_leads_name(sl));
	fprintf(f, "<text x=\"1\" y=\"%.1f\">II</text>\n", 3 * ROWH + 4);
	fputs("</g>\n<g font-family=\"sans-serif\" font-size=\"3.2\" fill=\"#000\">\n", f);
	fprintf(f, "<text x=\"0\" y=\"-7\">");
	if (mrt_rec_str(rec, "id", &s, &n) == 0)
		xml_text(f, s, n);
	fprintf(f, "  %.0f Hz, %.1f s, 25 mm/s, 10 mm/mV</text>\n", fs, secs);
	if (mrt_rec_str(rec, "report", &s, &n) == 0) {
		fputs("<text x=\"0\" y=\"-2.5\">", f);
		xml_text(f, s, n > 180 ? 180 : n);
		fputs("</text>\n", f);
	}
	fputs("</g>\n</g>\n", f);
}

static void
header(FILE *f, int nrec)
{
	double h = nrec * (4 * ROWH + TOP + 4) + 2;
	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0fmm\" height=\"%.0fmm\" "
	    "viewBox=\"0 0 %.0f %.0f\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"#fff\"/>\n",
	    250 + 2 * LEFT, h, 250 + 2 * LEFT, h);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		FLT_OPT_COUNT, FLT_OPT_OUTPUT, FLT_OPT_END
	};
	const char *out = NULL, *dir = NULL, *in;
	long long count = 1, done = 0;
	int c;
	FILE *inf, *f = NULL;
	mrt_reader *r;
	size_t cap = 0;

	flt_init(argv[0]);
	while ((c = flt_getopt(argc, argv, "d:n:o:", lo, USAGE)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'n': count = flt_num(optarg, 1, 100000, "-n"); break;
		case 'o': out = optarg; break;
		default: flt_usage(USAGE);
		}
	}
	if (out && dir)
		flt_usage(USAGE);
	in = flt_input(argc, argv, USAGE);
	r = flt_reader(in, &inf);
	for (const msgpack_object *rec; done < count && (rec = flt_next(r, in)) != NULL;) {
		mrt_tensor t;
		int L, e;
		int64_t ns;
		double fs;
		if (mrt_rec_tensor(rec, "sig", &t) != 0 || t.ndim != 2)
			flt_die_rec(r, in, "no field sig of shape [leads, samples]");
		if (mrt_rec_num(rec, "fs", &fs) != 0 || !(fs > 0 && fs <= 1e5))
			flt_die_rec(r, in, "no valid field fs");
		if ((size_t)t.n > cap) {
			free(x);
			cap = (size_t)t.n;
			if ((x = malloc(cap * sizeof *x)) == NULL)
				flt_die("%s", strerror(errno));
		}
		if ((e = mrt_rec_signal_mv(rec, x, cap, &L, &ns)) != 0)
			flt_die_rec(r, in, "sig: %s", mrt_strerror(e));
		if (dir) {
			char path[4096], id[256];
			if (mrt_rec_strcpy(rec, "id", id, sizeof id) != 0 || !id[0] ||
			    strchr(id, '/') || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
				flt_die_rec(r, in, "no id usable as a file name");
			snprintf(path, sizeof path, "%s/%s.svg", dir, id);
			f = flt_out_open(path, 1);
			header(f, 1);
			plot(f, rec, x, L, ns, fs, 0);
			fputs("</svg>\n", f);
			flt_out_commit(f, path);
		} else {
			if (f == NULL) {
				f = flt_out_open(out, 1);
				header(f, (int)count);
			}
			plot(f, rec, x, L, ns, fs, done * (4 * ROWH + TOP + 4));
		}
		done++;
	}
	if (!dir) {
		if (f == NULL) {
			f = flt_out_open(out, 1);
			header(f, 0);
		}
		fputs("</svg>\n", f);
		flt_out_commit(f, out);
	}
	flt_reader_done(r, inf);
	free(x);
	return 0;
}

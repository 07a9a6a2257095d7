/*
 * ecg-export: write a stream's records as WFDB records.
 *
 *   ecg-export --wfdb dir [-g gain] [file]
 *
 * One format 16 record per stream record: dir/ID.hea and dir/ID.dat
 * (characters other than letters, digits, '-' and '_' in the id become
 * '_').  Integer signals are written as they are, with their gain and
 * baseline, so ecg-ingest reads back the same digital values; float
 * signals (mV) are scaled by -g (default 1000 units/mV) and rounded.
 * NaN becomes -32768, WFDB's invalid sample.  Age, sex, labels and the
 * report go into header comments.
 */
#include <getopt.h>
#include <math.h>

#include "cli/filter.h"

#define USAGE "ecg-export --wfdb dir [-g gain] [file]"
#define MAXLEADS 64

/* buffers at file scope: still reachable when flt_die() exits */
static int32_t *d;
static float *fx;

static void
put16(FILE *f, int v)
{
	fputc(v & 0xff, f);
	fputc((v >> 8) & 0xff, f);
}

/* Copy the string array field key's element i, or a default name. */
static void
name_at(const msgpack_object *rec, const char *key, uint32_t i, char *buf, size_t cap,
    const char *dflt)
{
	const msgpack_object *a = mrt_rec_get(rec, key);
	snprintf(buf, cap, "%s%u", dflt, i);
	if (a && a->type == MSGPACK_OBJECT_ARRAY && i < a->via.array.size &&
	    a->via.array.ptr[i].type == MSGPACK_OBJECT_STR) {
		const msgpack_object_str *s = &a->via.array.ptr[i].via.str;
		size_t n = s->size < cap - 1 ? s->size : cap - 1;
		for (size_t k = 0; k < n; k++)
			buf[k] = (s->ptr[k] == ' ' || s->ptr[k] == '\n' || s->ptr[k] == '\t') ?
			    '_' : s->ptr[k];
		buf[n] = 0;
	}
}

/* A one-line comment value: newlines become spaces. */
static void
comment(FILE *f, const char *key, const char *s, size_t n)
{
	fprintf(f, "# %s: ", key);
	for (size_t i = 0; i < n; i++)
		fputc(s[i] == '\n' || s[i] == '\r' ? ' ' : s[i], f);
	fputc('\n', f);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "gain", required_argument, NULL, 'g' },
		{ "wfdb", required_argument, NULL, 'w' },
		FLT_OPT_END
	};
	const char *dir = NULL, *in;
	double fgain = 1000;
	int c;
	FILE *inf;
	mrt_reader *r;
	size_t cap = 0;

	flt_init(argv[0]);
	while ((c = flt_getopt(argc, argv, "g:w:", lo, USAGE)) != -1) {
		switch (c) {
		case 'g': fgain = flt_real(optarg, 1e-3, 1e9, "-g"); break;
		case 'w': dir = optarg; break;
		default: flt_usage(USAGE);
		}
	}
	if (dir == NULL)
		flt_usage(USAGE);
	in = flt_input(argc, argv, USAGE);
	r = flt_reader(in, &inf);
	for (const msgpack_object *rec; (rec = flt_next(r, in)) != NULL;) {
		char id[256], path[4096], lead[64];
		mrt_tensor t;
		double fs, gain[MAXLEADS];
		int64_t base[MAXLEADS], L, ns;
		const msgpack_object *ga = mrt_rec_get(rec, "gain"), *ba = mrt_rec_get(rec, "baseline");
		const char *s;
		size_t sn;
		FILE *hf, *df;
		int isint;

		if (mrt_rec_strcpy(rec, "id", id, sizeof id) != 0 || !id[0])
			flt_die_rec(r, in, "no string field id");
		for (char *p = id; *p; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
				*p = '_';
		if (mrt_rec_num(rec, "fs", &fs) != 0 || !(fs > 0 && fs < 1e6))
			flt_die_rec(r, in, "no valid field fs");
		if (mrt_rec_tensor(rec, "sig", &t) != 0 || t.ndim != 2)
			flt_die_rec(r, in, "no field sig of shape [leads, samples]");
		L = t.shape[0];
		ns = t.shape[1];
		if (L < 1 || L > MAXLEADS)
			flt_die_rec(r, in, "sig has %lld leads (1 to %d allowed)", (long long)L, MAXLEADS);
		isint = t.dtype == MRT_I8 || t.dtype == MRT_I16 || t.dtype == MRT_I32 ||
		    t.dtype == MRT_U8 || t.dtype == MRT_I64;
		for (int l = 0; l < L; l++) {
			gain[l] = isint ? 1 : fgain;
			base[l] = 0;
			if (isint && ga && ga->type == MSGPACK_OBJECT_ARRAY && ga->via.array.size == L) {
				if (mrt_obj_num(&ga->via.array.ptr[l], &gain[l]) != 0 ||
				    !(gain[l] > 0) || !isfinite(gain[l]))
					flt_die_rec(r, in, "gain of lead %d is not a positive number", l);
			} else if (isint && ga)
				flt_die_rec(r, in, "gain is not an array of %lld numbers", (long long)L);
			if (isint && ba && ba->type == MSGPACK_OBJECT_ARRAY && ba->via.array.size == L) {
				if (mrt_obj_int(&ba->via.array.ptr[l], &base[l]) != 0)
					flt_die_rec(r, in, "baseline of lead %d is not an integer", l);
			} else if (isint && ba)
				flt_die_rec(r, in, "baseline is not an array of %lld integers", (long long)L);
		}
		if ((size_t)t.n > cap) {
			free(d);
			cap = (size_t)t.n;
			if ((d = malloc(cap * sizeof *d)) == NULL)
				flt_die("%s", strerror(errno));
		}
		if (isint) {
			if (t.dtype == MRT_I64 || mrt_tensor_to_i32(&t, d) != 0)
				flt_die_rec(r, in, "sig values do not fit in 32 bits");
		} else {
			float *x = fx = malloc((size_t)t.n * sizeof *x);
			if (x == NULL)
				flt_die("%s", strerror(errno));
			mrt_tensor_to_f32(&t, x);
			for (int64_t i = 0; i < t.n; i++) {
				double v = floor((double)x[i] * fgain + 0.5);
				d[i] = isfinite(x[i]) ? (v > 32767 || v < -32767 ? INT32_MAX : (int32_t)v) :
				    -32768;
			}
			free(x);
			fx = NULL;
		}
		for (int64_t i = 0; i < t.n; i++)
			if (d[i] > 32767 || d[i] < -32768)
				flt_die_rec(r, in, "lead %lld sample %lld: value out of the format 16 range",
				    (long long)(i / ns), (long long)(i % ns));
		snprintf(path, sizeof path, "%s/%s.dat", dir, id);
		df = flt_out_open(path, 1);
		for (int64_t k = 0; k < ns; k++)
			for (int l = 0; l < L; l++)
				put16(df, d[l * ns + k]);
		snprintf(path, sizeof path, "%s/%s.hea", dir, id);
		hf = flt_out_open(path, 1);
		fprintf(hf, "%s %lld %.12g %lld\n", id, (long long)L, fs, (long long)ns);
		for (int l = 0; l < L; l++) {
			int sum = 0;
			for (int64_t k = 0; k < ns; k++)
				sum += d[l * ns + k];
			sum = (int16_t)(uint16_t)(sum & 0xffff);
			name_at(rec, "leads", (uint32_t)l, lead, sizeof lead, "sig");
			fprintf(hf, "%s.dat 16 %.12g(%lld)/mV 16 0 %d %d 0 %s\n", id, gain[l],
			    (long long)base[l], ns ? d[l * ns] : 0, sum, lead);
		}
		{
			int64_t v;
			double a;
			if (mrt_rec_num(rec, "age", &a) == 0)
				fprintf(hf, "# Age: %.0f\n", a);
			if (mrt_rec_str(rec, "sex", &s, &sn) == 0)
				comment(hf, "Sex", sn == 1 && *s == 'M' ? "Male" : sn == 1 && *s == 'F' ?
				    "Female" : s, sn == 1 && (*s == 'M' || *s == 'F') ?
				    (*s == 'M' ? 4 : 6) : sn);
			if (mrt_rec_int(rec, "fold", &v) == 0)
				fprintf(hf, "# Fold: %lld\n", (long long)v);
			{
				const msgpack_object *lb = mrt_rec_get(rec, "labels");
				if (lb && lb->type == MSGPACK_OBJECT_MAP) {
					fputs("# Labels: ", hf);
					for (uint32_t i = 0; i < lb->via.map.size; i++)
						if (lb->via.map.ptr[i].key.type == MSGPACK_OBJECT_STR)
							fprintf(hf, "%s%.*s", i ? "," : "",
							    (int)lb->via.map.ptr[i].key.via.str.size,
							    lb->via.map.ptr[i].key.via.str.ptr);
					fputc('\n', hf);
				}
			}
			if (mrt_rec_str(rec, "report", &s, &sn) == 0)
				comment(hf, "Report", s, sn);
		}
		/* data first, so a header never names a missing data file */
		flt_out_commit(df, (snprintf(path, sizeof path, "%s/%s.dat", dir, id), path));
		flt_out_commit(hf, (snprintf(path, sizeof path, "%s/%s.hea", dir, id), path));
	}
	flt_reader_done(r, inf);
	free(d);
	return 0;
}
